/* PHP's string escaping (json_encode with JSON_UNESCAPED_UNICODE), and
 * decoding string tokens back to UTF-8. */
#include "json_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Output classes: 0 copy, 1 ASCII that PHP escapes ('"', '\\', '/',
 * controls), 2 non-ASCII (may be U+2028/U+2029, or need validation). */
static const unsigned char out_cls[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

static void put_u_escape(fk__buf *b, uint32_t cp)
{
    static const char hex[] = "0123456789abcdef"; /* PHP writes lowercase */
    char t[6] = {'\\', 'u', hex[cp >> 12 & 15], hex[cp >> 8 & 15], hex[cp >> 4 & 15], hex[cp & 15]};
    fk__buf_put(b, t, 6);
}

static void put_ascii_escape(fk__buf *b, unsigned char c)
{
    const char *e;
    switch (c) {
    case '"': e = "\\\""; break;
    case '\\': e = "\\\\"; break;
    case '/': e = "\\/"; break;
    case '\b': e = "\\b"; break;
    case '\f': e = "\\f"; break;
    case '\n': e = "\\n"; break;
    case '\r': e = "\\r"; break;
    case '\t': e = "\\t"; break;
    default: put_u_escape(b, c); return;
    }
    fk__buf_put(b, e, 2);
}

static int is_line_sep(const unsigned char *s, size_t n)
{
    return n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9);
}

/* Appends s[0..n) escaped, without quotes and without interpreting
 * backslashes as escapes. With check_utf8 == 0 the bytes are known valid.
 * Returns -1 on invalid UTF-8. */
static int put_escaped(fk__buf *b, const unsigned char *s, size_t n, int check_utf8)
{
    size_t run = 0, i = 0;
    if (n == 0)
        return 0;
    while (i < n) {
        unsigned char cls = out_cls[s[i]];
        if (cls == 0) {
            i++;
            continue;
        }
        if (cls == 2) {
            size_t k;
            if (!is_line_sep(s + i, n - i)) {
                const char *why;
                k = check_utf8 ? fk__utf8_seq(s + i, n - i, &why) : 1;
                if (k == 0)
                    return -1;
                i += k;
                continue;
            }
        }
        fk__buf_put(b, s + run, i - run);
        if (cls == 1) {
            put_ascii_escape(b, s[i]);
            i++;
        } else {
            put_u_escape(b, s[i + 2] == 0xA8 ? 0x2028 : 0x2029);
            i += 3;
        }
        run = i;
    }
    fk__buf_put(b, s + run, i - run);
    return 0;
}

static void put_cp_escaped(fk__buf *b, uint32_t cp)
{
    if (cp < 0x80 && out_cls[cp])
        put_ascii_escape(b, (unsigned char)cp);
    else if (cp == 0x2028 || cp == 0x2029)
        put_u_escape(b, cp);
    else
        fk__utf8_put(b, cp);
}

/* Re-escapes the content of a validated string token (between the quotes). */
void fk__json_put_token_string(fk__buf *b, const char *raw, size_t n)
{
    const unsigned char *s = (const unsigned char *)raw;
    size_t i = 0;
    fk__buf_putc(b, '"');
    while (i < n) {
        const unsigned char *bs = memchr(s + i, '\\', n - i);
        size_t end = bs ? (size_t)(bs - s) : n;
        put_escaped(b, s + i, end - i, 0);
        if (!bs)
            break;
        uint32_t cp = 0;
        size_t k = fk__json_decode_escape(s + end, n - end, &cp);
        put_cp_escaped(b, cp);
        i = end + (k ? k : 2); /* validated input never has k == 0 */
    }
    fk__buf_putc(b, '"');
}

int fk__json_put_string(fk__buf *out, const char *s, size_t n)
{
    size_t start = out->len;
    fk__buf_putc(out, '"');
    if (put_escaped(out, (const unsigned char *)s, n, 1) < 0) {
        if (!out->failed) {
            out->len = start;
            out->data[start] = '\0';
        }
        return -1;
    }
    fk__buf_putc(out, '"');
    return fk__buf_failed(out) ? -1 : 0;
}

int fk__json_unescape(fk__buf *out, const char *raw, size_t len)
{
    const unsigned char *s = (const unsigned char *)raw;
    if (len > 0 && s[0] == '"') {
        s++;
        len -= len >= 2 ? 2 : 1;
    }
    size_t i = 0;
    while (i < len) {
        const unsigned char *bs = memchr(s + i, '\\', len - i);
        size_t end = bs ? (size_t)(bs - s) : len;
        fk__buf_put(out, s + i, end - i);
        if (!bs)
            break;
        uint32_t cp;
        size_t k = fk__json_decode_escape(s + end, len - end, &cp);
        if (k == 0)
            return -1;
        fk__utf8_put(out, cp);
        i = end + k;
    }
    return fk__buf_failed(out) ? -1 : 0;
}

int fk__json_key_is(const fk__jmember *m, const char *want)
{
    size_t n = strlen(want);
    if (!memchr(m->key, '\\', m->key_len)) /* the usual case: nothing to decode */
        return m->key_len == n && memcmp(m->key, want, n) == 0;
    fk__buf k = FK__BUF_INIT;
    int is = -1;
    if (fk__json_unescape(&k, m->key, m->key_len) == 0 && fk__buf_cstr(&k))
        is = k.len == n && memcmp(k.data, want, n) == 0;
    fk__buf_dispose(&k);
    return is;
}
