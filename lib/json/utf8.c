/* UTF-8 decoding and encoding, and JSON's \u escapes, for the JSON text
 * module (json_internal.h). */
#include "json_internal.h"
#include <stdint.h>

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long fk__json_hex4(const unsigned char *s, size_t n)
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
size_t fk__utf8_seq(const unsigned char *s, size_t n, const char **why)
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
size_t fk__json_decode_escape(const unsigned char *s, size_t n, uint32_t *cp)
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
    long u = fk__json_hex4(s + 2, n - 2);
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
        return 0;
    if (u < 0xD800 || u > 0xDBFF) {
        *cp = (uint32_t)u;
        return 6;
    }
    if (n < 12 || s[6] != '\\' || s[7] != 'u')
        return 0;
    long lo = fk__json_hex4(s + 8, n - 8);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    *cp = 0x10000 + (((uint32_t)u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    return 12;
}

void fk__utf8_put(fk__buf *b, uint32_t cp)
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
