#include "slug.h"

#include <inttypes.h>
#include <stdio.h>

/* PHP trim()'s default set and PCRE's \s (no /u flag): both ASCII only. */
static int php_trim_char(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == '\v';
}

static int pcre_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

int fk__slug(fk__buf *out, const char *name, size_t len)
{
    size_t b = 0, e = len;
    while (b < e && php_trim_char((unsigned char)name[b]))
        b++;
    while (e > b && php_trim_char((unsigned char)name[e - 1]))
        e--;
    size_t start = out->len, kept = 0;
    int pending_sep = 0; /* a run of whitespace/hyphens seen since the last kept char */
    for (size_t i = b; i < e && kept < FK__SLUG_MAX; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            /* a leading run becomes an edge hyphen, which is trimmed */
            if (pending_sep && out->len > start) {
                fk__buf_putc(out, '-');
                if (++kept == FK__SLUG_MAX)
                    break; /* the cut can leave a trailing '-', as substr() does */
            }
            pending_sep = 0;
            fk__buf_putc(out, (char)c);
            kept++;
        } else if (c == '-' || pcre_space(c)) {
            pending_sep = 1;
        }
        /* anything else is deleted without separating: "a+b" -> "ab" */
    }
    return fk__buf_failed(out) ? -1 : 0;
}

int fk__fixture_filename(fk__buf *out, const char *type, const char *name, size_t len,
                         int64_t id, int with_id)
{
    size_t start = out->len;
    if (fk__slug(out, name ? name : "", name ? len : 0) < 0)
        return -1;
    if (out->len == start)
        fk__buf_printf(out, "%s-%" PRId64, type, id);
    else if (with_id)
        fk__buf_printf(out, "-%" PRId64, id);
    fk__buf_puts(out, ".json");
    return fk__buf_failed(out) ? -1 : 0;
}
