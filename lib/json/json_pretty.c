/* The strict validator and PHP pretty-printer: one pass that validates and,
 * when asked, re-emits (see fk__json_pretty in json_text.h). */
#include "json_internal.h"
#include "alloc.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes that end a fast run inside a string token: '"', '\\', controls and
 * non-ASCII (which needs UTF-8 validation). */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Keys of all open objects, innermost last, so closing an object pops its
 * keys. The hash table holds indices into this stack; because keys are
 * removed in exact reverse order of insertion, clearing a key's slot undoes
 * its linear-probing insert exactly and no tombstones are needed. */
typedef struct key_ent {
    size_t off, len; /* into the input, or into the arena when decoded */
    size_t slot;
    uint64_t hash;
    int decoded;
} key_ent;

typedef struct parser {
    const char *in;
    size_t len;
    fk__json_error *err;
    key_ent *keys;
    size_t nkeys, keys_cap;
    size_t *slots; /* key index + 1; 0 = empty */
    size_t nslots; /* power of two */
    fk__buf arena; /* decoded text of keys that contain escapes */
    fk__buf *out;  /* NULL when only validating */
    fk__json_style style;
    size_t indent;
} parser;

static int vfail(fk__json_error *e, const char *in, size_t off, const char *fmt, va_list ap)
{
    if (!e)
        return -1;
    size_t line = 1, line_start = 0;
    const char *q = in, *end = in + off;
    while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
        line++;
        line_start = (size_t)(++q - in);
    }
    e->line = line;
    e->column = off - line_start + 1;
    e->offset = off;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return -1;
}

int fk__json_fail_at(fk__json_error *err, const char *in, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, in, off, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail(parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser *p, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p->err, p->in, off, fmt, ap);
    va_end(ap);
    return -1;
}

/* Describes the byte at off for "..., found X" messages. */
static const char *found(const parser *p, size_t off, char buf[16])
{
    if (off >= p->len)
        return "end of input";
    unsigned char c = (unsigned char)p->in[off];
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02X", c);
    return buf;
}

static int fail_expected(parser *p, size_t off, const char *what)
{
    char b[16];
    return fail(p, off, "expected %s, found %s", what, found(p, off, b));
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h ^ h >> 29;
}

static const char *key_text(const parser *p, const key_ent *k)
{
    return (k->decoded ? p->arena.data : p->in) + k->off;
}

static size_t find_slot(const parser *p, uint64_t h)
{
    size_t mask = p->nslots - 1, i = (size_t)h & mask;
    while (p->slots[i])
        i = (i + 1) & mask;
    return i;
}

static int grow_keys(parser *p)
{
    if (p->nkeys == p->keys_cap) {
        void *g = fk__grow(p->keys, &p->keys_cap, sizeof *p->keys, 16);
        if (!g)
            return -1;
        p->keys = g;
    }
    if ((p->nkeys + 1) * 2 > p->nslots) {
        size_t n = p->nslots ? p->nslots * 2 : 32;
        size_t *s = fk__calloc(n, sizeof *s);
        if (!s)
            return -1;
        fk__xfree(p->slots);
        p->slots = s;
        p->nslots = n;
        /* Reinserting in stack order keeps the LIFO-undo property. */
        for (size_t i = 0; i < p->nkeys; i++) {
            p->keys[i].slot = find_slot(p, p->keys[i].hash);
            s[p->keys[i].slot] = i + 1;
        }
    }
    return 0;
}

/* Registers the key token in[q..end) (quotes included) of the object whose
 * keys start at index base, rejecting a duplicate. */
static int add_key(parser *p, size_t q, size_t end, int has_esc, size_t base)
{
    key_ent k = {q + 1, end - q - 2, 0, 0, has_esc};
    if (grow_keys(p) < 0)
        return fail(p, q, "out of memory");
    if (has_esc) {
        k.off = p->arena.len;
        if (fk__json_unescape(&p->arena, p->in + q, end - q) < 0)
            return fail(p, q, "out of memory");
        k.len = p->arena.len - k.off;
    }
    const char *text = key_text(p, &k);
    k.hash = hash_bytes(text, k.len);
    size_t mask = p->nslots - 1, i = (size_t)k.hash & mask;
    for (; p->slots[i]; i = (i + 1) & mask) {
        size_t idx = p->slots[i] - 1;
        const key_ent *o = &p->keys[idx];
        if (idx >= base && o->hash == k.hash && o->len == k.len &&
            memcmp(key_text(p, o), text, k.len) == 0) {
            /* Show the decoded key, cut at a UTF-8 boundary, controls as '?'. */
            char shown[100];
            size_t n = k.len < 96 ? k.len : 96;
            while (n < k.len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
            for (size_t j = 0; j < n; j++)
                shown[j] = (unsigned char)text[j] < 0x20 ? '?' : text[j];
            return fail(p, q, "duplicate key \"%.*s\"%s", (int)n, shown, n < k.len ? "..." : "");
        }
    }
    k.slot = i;
    p->slots[i] = p->nkeys + 1;
    p->keys[p->nkeys++] = k;
    return 0;
}

static void pop_keys(parser *p, size_t base)
{
    while (p->nkeys > base) {
        const key_ent *k = &p->keys[--p->nkeys];
        p->slots[k->slot] = 0;
        if (k->decoded)
            p->arena.len = k->off;
    }
}

/* Scans the string token at in[pos] == '"'. Returns the offset after the
 * closing quote (always > 0), or 0 on error. */
static size_t scan_string(parser *p, size_t pos, int *has_esc)
{
    const unsigned char *s = (const unsigned char *)p->in;
    size_t len = p->len, i = pos + 1;
    *has_esc = 0;
    for (;;) {
        while (i < len && !str_stop[s[i]])
            i++;
        if (i >= len) {
            fail(p, len, "unexpected end of input inside a string");
            return 0;
        }
        unsigned char c = s[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            uint32_t cp;
            size_t k = fk__json_decode_escape(s + i, len - i, &cp);
            *has_esc = 1;
            if (k) {
                i += k;
                continue;
            }
            if (i + 1 >= len)
                fail(p, len, "unexpected end of input inside a string");
            else if (s[i + 1] != 'u')
                fail(p, i, "invalid escape '\\%c'", s[i + 1] > 0x20 && s[i + 1] < 0x7f ? s[i + 1] : '?');
            else if (fk__json_hex4(s + i + 2, len - i - 2) < 0)
                fail(p, i, "invalid \\u escape (needs 4 hex digits)");
            else
                fail(p, i, "unpaired surrogate \\u%.4s", (const char *)s + i + 2);
            return 0;
        }
        if (c < 0x20) {
            fail(p, i, "unescaped control character 0x%02X in string", c);
            return 0;
        }
        const char *why;
        size_t k = fk__utf8_seq(s + i, len - i, &why);
        if (!k) {
            fail(p, i, "invalid UTF-8 (%s)", why);
            return 0;
        }
        i += k;
    }
}

/* Scans the number at in[pos]; returns the offset after it or 0. */
static size_t scan_number(parser *p, size_t pos)
{
    const unsigned char *s = (const unsigned char *)p->in;
    size_t len = p->len, i = pos;
    if (s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i])) {
        fail_expected(p, i, "a digit after '-'");
        return 0;
    }
    if (s[i] == '0') {
        if (++i < len && is_digit(s[i])) {
            fail(p, i - 1, "leading zeros are not allowed in numbers");
            return 0;
        }
    } else {
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && s[i] == '.') {
        if (++i >= len || !is_digit(s[i])) {
            fail_expected(p, i, "a digit after '.'");
            return 0;
        }
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i])) {
            fail_expected(p, i, "a digit in the exponent");
            return 0;
        }
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i;
}

static void put_newline(fk__buf *b, size_t level)
{
    static const char nl[] = "\n                                                                ";
    size_t n = level * 4;
    fk__buf_put(b, nl, 1 + (n < 64 ? n : 64));
    for (n = n < 64 ? 0 : n - 64; n > 0;) {
        size_t k = n < 64 ? n : 64;
        fk__buf_put(b, nl + 1, k);
        n -= k;
    }
}

/* One pass that validates and, if p->out is set, pretty-prints. Iterative
 * with a fixed stack, so input depth cannot exhaust the C stack. */
static int parse(parser *p)
{
    const char *in = p->in;
    size_t len = p->len, depth = 0, pos, end;
    unsigned char is_obj[FK__JSON_MAX_DEPTH];
    size_t key_base[FK__JSON_MAX_DEPTH];
    fk__buf *out = p->out;
    int esc;

    if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
        return fail(p, 0, "UTF-8 byte order mark is not allowed");
    pos = 0;

value:
    pos = skip_ws(in, len, pos);
    if (pos >= len)
        return fail_expected(p, pos, "a value");
    switch (in[pos]) {
    case '{':
    case '[': {
        int obj = in[pos] == '{';
        if (depth == FK__JSON_MAX_DEPTH)
            return fail(p, pos, "nesting deeper than %d", FK__JSON_MAX_DEPTH);
        pos = skip_ws(in, len, pos + 1);
        if (pos < len && in[pos] == (obj ? '}' : ']')) {
            if (out)
                fk__buf_puts(out, obj ? "{}" : "[]");
            pos++;
            goto after;
        }
        is_obj[depth] = (unsigned char)obj;
        key_base[depth++] = p->nkeys;
        if (out) {
            fk__buf_putc(out, obj ? '{' : '[');
            put_newline(out, p->indent + depth);
        }
        if (obj)
            goto key;
        goto value;
    }
    case '"':
        if (!(end = scan_string(p, pos, &esc)))
            return -1;
        if (out)
            fk__json_put_token_string(out, in + pos + 1, end - pos - 2);
        pos = end;
        goto after;
    case 't':
    case 'f':
    case 'n': {
        const char *lit = in[pos] == 't' ? "true" : in[pos] == 'f' ? "false" : "null";
        size_t n = strlen(lit);
        if (len - pos < n || memcmp(in + pos, lit, n) != 0)
            return fail(p, pos, "invalid literal (expected '%s')", lit);
        if (out)
            fk__buf_put(out, lit, n);
        pos += n;
        goto after;
    }
    default:
        if (in[pos] != '-' && !is_digit((unsigned char)in[pos]))
            return fail_expected(p, pos, "a value");
        if (!(end = scan_number(p, pos)))
            return -1;
        if (out)
            fk__json_put_number(out, in + pos, end - pos, p->style);
        pos = end;
        goto after;
    }

after:
    pos = skip_ws(in, len, pos);
    if (depth == 0) {
        if (pos < len)
            return fail_expected(p, pos, "end of input after the top-level value");
        return 0;
    }
    {
        int obj = is_obj[depth - 1];
        char close = obj ? '}' : ']';
        if (pos < len && in[pos] == ',') {
            size_t comma = pos;
            pos = skip_ws(in, len, pos + 1);
            if (pos < len && in[pos] == close)
                return fail(p, comma, "trailing comma before '%c'", close);
            if (out) {
                fk__buf_putc(out, ',');
                put_newline(out, p->indent + depth);
            }
            if (obj)
                goto key;
            goto value;
        }
        if (pos < len && in[pos] == close) {
            pos++;
            depth--;
            if (obj)
                pop_keys(p, key_base[depth]);
            if (out) {
                put_newline(out, p->indent + depth);
                fk__buf_putc(out, close);
            }
            goto after;
        }
        return fail_expected(p, pos, obj ? "',' or '}' after object member"
                                         : "',' or ']' after array element");
    }

key:
    if (pos >= len || in[pos] != '"')
        return fail_expected(p, pos, "a string key");
    if (!(end = scan_string(p, pos, &esc)) || add_key(p, pos, end, esc, key_base[depth - 1]) < 0)
        return -1;
    if (out) {
        fk__json_put_token_string(out, in + pos + 1, end - pos - 2);
        fk__buf_put(out, ": ", 2);
    }
    pos = skip_ws(in, len, end);
    if (pos >= len || in[pos] != ':')
        return fail_expected(p, pos, "':' after object key");
    pos++;
    goto value;
}

static int run(const char *in, size_t len, fk__buf *out, size_t indent, fk__json_style style,
               fk__json_error *err)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.in = in ? in : "";
    p.len = in ? len : 0;
    p.err = err;
    p.out = out;
    p.style = style;
    p.indent = indent;
    int rc = parse(&p);
    if (rc == 0 && out && fk__buf_failed(out))
        rc = fail(&p, 0, "out of memory");
    fk__xfree(p.keys);
    fk__xfree(p.slots);
    fk__buf_dispose(&p.arena);
    return rc;
}

int fk__json_validate(const char *in, size_t len, fk__json_error *err)
{
    return run(in, len, NULL, 0, FK__JSON_STYLE_CANONICAL, err);
}

int fk__json_pretty(fk__buf *out, const char *in, size_t len, int indent, fk__json_style style,
                    fk__json_error *err)
{
    size_t start = out->len;
    int rc = run(in, len, out, indent > 0 ? (size_t)indent : 0, style, err);
    if (rc < 0 && !out->failed && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int fk__json_error_is_oom(const fk__json_error *err)
{
    return err && strcmp(err->msg, "out of memory") == 0;
}
