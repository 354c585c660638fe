/* Private to the JSON text module (json_*.c, utf8.c): the byte rules and
 * helpers its files share. Not for use outside lib/json/. */
#ifndef FK_CORE_JSON_INTERNAL_H
#define FK_CORE_JSON_INTERNAL_H
#include "json_text.h"
#include <stdint.h>

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static inline size_t skip_ws(const char *in, size_t len, size_t pos)
{
    while (pos < len && is_ws((unsigned char)in[pos]))
        pos++;
    return pos;
}

/* utf8.c */
long fk__json_hex4(const unsigned char *s, size_t n);
/* Length of the well-formed UTF-8 sequence starting at a byte >= 0x80
 * (Unicode table 3-7), or 0 with *why saying what is wrong with it. */
size_t fk__utf8_seq(const unsigned char *s, size_t n, const char **why);
/* Decodes the escape at s[0] == '\\' into *cp, joining surrogate pairs.
 * Returns the bytes consumed, 0 if malformed (incl. unpaired surrogates). */
size_t fk__json_decode_escape(const unsigned char *s, size_t n, uint32_t *cp);
void fk__utf8_put(fk__buf *b, uint32_t cp);

/* json_escape.c */
/* Re-escapes the content of a validated string token (between the quotes). */
void fk__json_put_token_string(fk__buf *b, const char *raw, size_t n);

/* json_pretty.c: fills *err (may be NULL) for the byte at in[off] with its
 * line and column; returns -1. */
int fk__json_fail_at(fk__json_error *err, const char *in, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
