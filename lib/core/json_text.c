#include "json_text.h"
#include "alloc.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- tables */

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

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static size_t skip_ws(const char *in, size_t len, size_t pos)
{
    while (pos < len && is_ws((unsigned char)in[pos]))
        pos++;
    return pos;
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static long hex4(const unsigned char *s, size_t n)
{
    if (n < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_val(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence starting at a byte >= 0x80
 * (Unicode table 3-7), or 0 with *why saying what is wrong with it. */
static size_t utf8_seq(const unsigned char *s, size_t n, const char **why)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t k;
    if (c < 0xC2) {
        *why = c < 0xC0 ? "unexpected continuation byte" : "overlong encoding";
        return 0;
    }
    if (c < 0xE0) {
        k = 2;
    } else if (c < 0xF0) {
        k = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c < 0xF5) {
        k = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        *why = c < 0xF8 ? "code point above U+10FFFF" : "invalid byte";
        return 0;
    }
    if (n < 2 || s[1] < lo || s[1] > hi) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            *why = "incomplete sequence";
        else if (c == 0xED)
            *why = "encoded surrogate";
        else if (c == 0xF4)
            *why = "code point above U+10FFFF";
        else
            *why = "overlong encoding";
        return 0;
    }
    for (size_t i = 2; i < k; i++) {
        if (i >= n || (s[i] & 0xC0) != 0x80) {
            *why = "incomplete sequence";
            return 0;
        }
    }
    return k;
}

/* Decodes the escape at s[0] == '\\' into *cp, joining surrogate pairs.
 * Returns the bytes consumed, 0 if malformed (incl. unpaired surrogates). */
static size_t decode_escape(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n < 2)
        return 0;
    switch (s[1]) {
    case '"': *cp = '"'; return 2;
    case '\\': *cp = '\\'; return 2;
    case '/': *cp = '/'; return 2;
    case 'b': *cp = '\b'; return 2;
    case 'f': *cp = '\f'; return 2;
    case 'n': *cp = '\n'; return 2;
    case 'r': *cp = '\r'; return 2;
    case 't': *cp = '\t'; return 2;
    case 'u': break;
    default: return 0;
    }
    long u = hex4(s + 2, n - 2);
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
        return 0;
    if (u < 0xD800 || u > 0xDBFF) {
        *cp = (uint32_t)u;
        return 6;
    }
    if (n < 12 || s[6] != '\\' || s[7] != 'u')
        return 0;
    long lo = hex4(s + 8, n - 8);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    *cp = 0x10000 + (((uint32_t)u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    return 12;
}

static void put_utf8(fk__buf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | cp >> 6);
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | cp >> 12);
        t[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | cp >> 18);
        t[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        t[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    fk__buf_put(b, t, n);
}

/* ---------------------------------------------------------- PHP escaping */

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
                k = check_utf8 ? utf8_seq(s + i, n - i, &why) : 1;
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
        put_utf8(b, cp);
}

/* Re-escapes the content of a validated string token (between the quotes). */
static void put_token_string(fk__buf *b, const char *raw, size_t n)
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
        size_t k = decode_escape(s + end, n - end, &cp);
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
        size_t k = decode_escape(s + end, len - end, &cp);
        if (k == 0)
            return -1;
        put_utf8(out, cp);
        i = end + k;
    }
    return fk__buf_failed(out) ? -1 : 0;
}

/* --------------------------------------------------------------- numbers */

typedef struct numtext {
    int neg;
    const char *ip, *fp, *ep; /* integer, fraction, exponent digits */
    size_t il, fl, el;
    int has_frac, has_exp, exp_neg;
} numtext;

static int num_split(const char *s, size_t n, numtext *t)
{
    size_t i = 0;
    memset(t, 0, sizeof *t);
    if (i < n && s[i] == '-') {
        t->neg = 1;
        i++;
    }
    t->ip = s + i;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && is_digit((unsigned char)s[i]))
            i++;
    else
        return -1;
    t->il = (size_t)(s + i - t->ip);
    if (i < n && s[i] == '.') {
        t->has_frac = 1;
        t->fp = s + ++i;
        while (i < n && is_digit((unsigned char)s[i]))
            i++;
        if ((t->fl = (size_t)(s + i - t->fp)) == 0)
            return -1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        t->has_exp = 1;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            t->exp_neg = s[i++] == '-';
        t->ep = s + i;
        while (i < n && is_digit((unsigned char)s[i]))
            i++;
        if ((t->el = (size_t)(s + i - t->ep)) == 0)
            return -1;
    }
    return i == n ? 0 : -1;
}

/* PHP's json_decode keeps an integer literal as int unless it overflows
 * int64 (its scanner compares against "9223372036854775808"). */
static int fits_int64(const numtext *t)
{
    if (t->il != 19)
        return t->il < 19;
    int cmp = memcmp(t->ip, "9223372036854775808", 19);
    return cmp < 0 || (cmp == 0 && t->neg);
}

/* DIGITS * 10^exp10 as the nearest double. No decimal point is involved,
 * so the process locale (LC_NUMERIC) cannot change the result. */
static double dec_to_double(const char *dig, int nd, long long exp10)
{
    char t[48];
    snprintf(t, sizeof t, "%.*se%lld", nd, dig, exp10);
    return strtod(t, NULL);
}

/* Shortest digits that read back as d (> 0, finite), like zend_dtoa mode 0:
 * value = 0.DIGITS * 10^decpt. Returns the digit count. */
static int shortest_digits(double d, char dig[18], int *decpt)
{
    char b[32];
    for (int p = 0; p <= 16; p++) {
        snprintf(b, sizeof b, "%.*e", p, d);
        const char *e = strchr(b, 'e');
        int x = atoi(e + 1), nd = 0;
        for (const char *q = b; q < e; q++)
            if (is_digit((unsigned char)*q)) /* skip the locale's decimal point */
                dig[nd++] = *q;
        if (dec_to_double(dig, nd, x - (nd - 1)) != d) {
            /* At a power of two the gap below d is half the gap above, so
             * the nearest p+1-digit decimal may fall out of range below
             * while the next one up still reads back; dtoa picks that one
             * (e.g. 2^-1017 -> 7.120236347223045e-307). */
            int bexp;
            if (frexp(d, &bexp) != 0.5)
                continue;
            int i = nd - 1;
            while (i >= 0 && dig[i] == '9')
                dig[i--] = '0';
            if (i < 0) {
                dig[0] = '1';
                x++;
            } else {
                dig[i]++;
            }
            if (dec_to_double(dig, nd, x - (nd - 1)) != d)
                continue;
        }
        while (nd > 1 && dig[nd - 1] == '0')
            nd--;
        *decpt = x + 1;
        return nd;
    }
    return -1; /* unreachable: 17 significant digits always round-trip */
}

/* php_gcvt(value, 17, '.', 'e') with mode-0 digits, as json_encode uses for
 * serialize_precision = -1. */
static void put_php_double(fk__buf *b, int neg, const char *dig, int nd, int decpt)
{
    char t[48];
    int k = 0;
    if (neg)
        t[k++] = '-';
    if (decpt < -3 || decpt > 17) {
        t[k++] = dig[0];
        t[k++] = '.';
        if (nd == 1)
            t[k++] = '0';
        for (int i = 1; i < nd; i++)
            t[k++] = dig[i];
        k += snprintf(t + k, sizeof t - (size_t)k, "e%c%d", decpt - 1 < 0 ? '-' : '+',
                      abs(decpt - 1));
    } else if (decpt <= 0) {
        t[k++] = '0';
        t[k++] = '.';
        for (int i = decpt; i < 0; i++)
            t[k++] = '0';
        for (int i = 0; i < nd; i++)
            t[k++] = dig[i];
    } else {
        for (int i = 0; i < decpt; i++)
            t[k++] = i < nd ? dig[i] : '0';
        if (nd > decpt) {
            t[k++] = '.';
            for (int i = decpt; i < nd; i++)
                t[k++] = dig[i];
        }
    }
    fk__buf_put(b, t, (size_t)k);
}

/* Writes the PHP form of a non-int64 number if that form denotes exactly
 * the input's decimal value; returns 0 if it did not write anything. */
static int put_php_float(fk__buf *b, const numtext *t)
{
    /* Normalise the input to 0.SIG * 10^dp with SIG free of leading and
     * trailing zeros, walking integer then fraction digits. */
    size_t total = t->il + t->fl, first = total, last = 0;
    for (size_t i = 0; i < total; i++) {
        char c = i < t->il ? t->ip[i] : t->fp[i - t->il];
        if (c != '0') {
            if (first == total)
                first = i;
            last = i;
        }
    }
    if (first == total) { /* zero: json_decode gives +-0.0 */
        fk__buf_puts(b, t->neg ? "-0" : "0");
        return 1;
    }
    size_t nsig = last - first + 1;
    if (nsig > 17)
        return 0; /* a double's shortest form never has more */

    long long x = 0;
    for (size_t i = 0; i < t->el; i++) {
        x = x * 10 + (t->ep[i] - '0');
        if (x > 1000000000000000LL)
            return 0; /* overflows or underflows whatever the digits */
    }
    if (t->exp_neg)
        x = -x;
    long long dp = x + (first <= t->il ? (long long)(t->il - first) : -(long long)(first - t->il));
    if (dp > 310 || dp < -330)
        return 0;

    char sig[18];
    for (size_t i = 0; i < nsig; i++) {
        size_t j = first + i;
        sig[i] = j < t->il ? t->ip[j] : t->fp[j - t->il];
    }
    double d = dec_to_double(sig, (int)nsig, dp - (long long)nsig);
    if (d == 0 || isinf(d))
        return 0;

    char dig[18];
    int decpt, nd = shortest_digits(d, dig, &decpt);
    if (nd != (int)nsig || decpt != dp || memcmp(dig, sig, nsig) != 0)
        return 0;
    put_php_double(b, t->neg, dig, nd, decpt);
    return 1;
}

/* The display scale PostgreSQL's numeric (and so jsonb) keeps for a number
 * text: digits after the point less the exponent, at least 0. */
static long long num_scale(const numtext *t)
{
    long long e = 0;
    for (size_t i = 0; i < t->el && e < 1000000; i++)
        e = e * 10 + (t->ep[i] - '0');
    long long sc = (long long)t->fl - (t->exp_neg ? -e : e);
    return sc < 0 ? 0 : sc;
}

/* PHP's form of the number at out[at..] reads back with the input's scale:
 * 0.03 for 0.03, but not 0.1 for 0.10 (jsonb would store 0.1). */
static int same_scale(const fk__buf *out, size_t at, const numtext *in)
{
    numtext php;
    return !fk__buf_failed(out) && num_split(out->data + at, out->len - at, &php) == 0 &&
           num_scale(&php) == num_scale(in);
}

int fk__json_put_number(fk__buf *out, const char *num, size_t n, fk__json_style style)
{
    numtext t;
    if (!num || num_split(num, n, &t) < 0)
        return -1;
    if (style == FK__JSON_STYLE_PHP || style == FK__JSON_STYLE_PHP_VALUE) {
        size_t at = out->len;
        if (!t.has_frac && !t.has_exp && fits_int64(&t)) {
            if (t.neg && t.ip[0] == '0')
                fk__buf_putc(out, '0');
            else
                fk__buf_put(out, num, n);
        } else if (!put_php_float(out, &t)) {
            fk__buf_put(out, num, n);
        } else if (style == FK__JSON_STYLE_PHP && !same_scale(out, at, &t) &&
                   !fk__buf_failed(out)) {
            out->len = at; /* PHP's form would lose the scale: keep the text */
            fk__buf_put(out, num, n);
        }
    } else {
        fk__buf_put(out, num, n);
    }
    return fk__buf_failed(out) ? -1 : 0;
}

/* ---------------------------------------------------------------- parser */

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

static int fail(parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser *p, size_t off, const char *fmt, ...)
{
    fk__json_error *e = p->err;
    if (!e)
        return -1;
    size_t line = 1, line_start = 0;
    const char *q = p->in, *end = p->in + off;
    while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
        line++;
        line_start = (size_t)(++q - p->in);
    }
    e->line = line;
    e->column = off - line_start + 1;
    e->offset = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
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
        size_t cap = p->keys_cap ? p->keys_cap * 2 : 16;
        key_ent *k = fk__realloc(p->keys, cap * sizeof *k);
        if (!k)
            return -1;
        p->keys = k;
        p->keys_cap = cap;
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
            size_t k = decode_escape(s + i, len - i, &cp);
            *has_esc = 1;
            if (k) {
                i += k;
                continue;
            }
            if (i + 1 >= len)
                fail(p, len, "unexpected end of input inside a string");
            else if (s[i + 1] != 'u')
                fail(p, i, "invalid escape '\\%c'", s[i + 1] > 0x20 && s[i + 1] < 0x7f ? s[i + 1] : '?');
            else if (hex4(s + i + 2, len - i - 2) < 0)
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
        size_t k = utf8_seq(s + i, len - i, &why);
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
            put_token_string(out, in + pos + 1, end - pos - 2);
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
        put_token_string(out, in + pos + 1, end - pos - 2);
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

/* ------------------------------------------------------------ scan_object */

/* Offset after the string token at in[pos]; the token is known valid. */
static size_t skip_string(const char *in, size_t pos)
{
    for (pos++;; pos++) {
        if (in[pos] == '\\')
            pos++;
        else if (in[pos] == '"')
            return pos + 1;
    }
}

/* Offset after the valid value at in[pos]. */
static size_t skip_value(const char *in, size_t len, size_t pos)
{
    size_t depth = 0;
    for (;;) {
        switch (in[pos]) {
        case '"': pos = skip_string(in, pos); break;
        case '{':
        case '[': depth++; pos++; continue;
        case '}':
        case ']': depth--; pos++; break;
        case ',': case ':': case ' ': case '\t': case '\n': case '\r': pos++; continue;
        default:
            do
                pos++;
            while (pos < len && (is_digit((unsigned char)in[pos]) || (in[pos] >= 'a' && in[pos] <= 'z') ||
                                 in[pos] == '.' || in[pos] == '+' || in[pos] == '-' || in[pos] == 'E'));
            break;
        }
        if (depth == 0)
            return pos;
    }
}

static fk__jtype type_of(char c)
{
    switch (c) {
    case '{': return FK__JT_OBJECT;
    case '[': return FK__JT_ARRAY;
    case '"': return FK__JT_STRING;
    case 't': return FK__JT_TRUE;
    case 'f': return FK__JT_FALSE;
    case 'n': return FK__JT_NULL;
    default: return FK__JT_NUMBER;
    }
}

int fk__json_scan_object(const char *in, size_t len,
                         int (*cb)(void *ud, const fk__jmember *m), void *ud,
                         fk__json_error *err)
{
    if (fk__json_validate(in, len, err) < 0)
        return -1;
    size_t pos = skip_ws(in, len, 0);
    if (in[pos] != '{') {
        parser p = {.in = in, .len = len, .err = err};
        return fail(&p, pos, "top-level value is not an object");
    }
    size_t line = 1, line_start = 0, counted = 0;
    pos = skip_ws(in, len, pos + 1);
    while (in[pos] == '"') {
        fk__jmember m;
        size_t kend = skip_string(in, pos);
        m.key = in + pos + 1;
        m.key_len = kend - pos - 2;
        pos = skip_ws(in, len, skip_ws(in, len, kend) + 1);
        for (const char *q = in + counted, *e = in + pos; (q = memchr(q, '\n', (size_t)(e - q))) != NULL;) {
            line++;
            line_start = (size_t)(++q - in);
        }
        counted = pos;
        m.type = type_of(in[pos]);
        m.val = in + pos;
        m.line = line;
        m.column = pos - line_start + 1;
        pos = skip_value(in, len, pos);
        m.val_len = (size_t)(in + pos - m.val);
        if (cb) {
            int rc = cb(ud, &m);
            if (rc)
                return rc;
        }
        pos = skip_ws(in, len, pos);
        if (in[pos] == ',')
            pos = skip_ws(in, len, pos + 1);
    }
    return 0;
}

int fk__json_scan_array(const char *in, size_t len,
                        int (*cb)(void *ud, const fk__jmember *m), void *ud)
{
    size_t pos = skip_ws(in, len, 0), line = 1, line_start = 0, counted = 0;
    if (pos >= len || in[pos] != '[')
        return 0;
    pos = skip_ws(in, len, pos + 1);
    while (pos < len && in[pos] != ']') {
        for (; counted < pos; counted++)
            if (in[counted] == '\n')
                line++, line_start = counted + 1;
        fk__jmember m = {NULL, 0, type_of(in[pos]), in + pos, 0, line, pos - line_start + 1};
        size_t end = skip_value(in, len, pos);
        m.val_len = end - pos;
        int rc = cb(ud, &m);
        if (rc)
            return rc;
        pos = skip_ws(in, len, end);
        if (pos < len && in[pos] == ',')
            pos = skip_ws(in, len, pos + 1);
    }
    return 0;
}

int fk__json_error_is_oom(const fk__json_error *err)
{
    return err && strcmp(err->msg, "out of memory") == 0;
}
