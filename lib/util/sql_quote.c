#include "sql_quote.h"
#include "alloc.h"
#include <stdio.h>
#include <string.h>

char *fk__quote_ident(const char *name)
{
    size_t n = strlen(name), q = 0;
    for (size_t i = 0; i < n; i++)
        q += name[i] == '"';
    char *out = fk__malloc(n + q + 3);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            *o++ = '"';
        *o++ = name[i];
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *fk__quote_qualified(const char *schema, const char *name)
{
    char *qa = fk__quote_ident(schema), *qb = fk__quote_ident(name), *out = NULL;
    if (qa && qb && (out = fk__malloc(strlen(qa) + strlen(qb) + 2)))
        sprintf(out, "%s.%s", qa, qb);
    fk__xfree(qa);
    fk__xfree(qb);
    return out;
}

void fk__sql_put_literal(fk__buf *b, const char *s)
{
    fk__buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            fk__buf_putc(b, '\'');
        fk__buf_putc(b, *s);
    }
    fk__buf_putc(b, '\'');
}

void fk__sql_put_text_array(fk__buf *b, size_t n, const char *(*get)(const void *ud, size_t i),
                            const void *ud)
{
    fk__buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        const char *s = get(ud, i);
        fk__buf_puts(b, i ? ",\"" : "\"");
        for (; *s; s++) {
            if (*s == '"' || *s == '\\')
                fk__buf_putc(b, '\\');
            fk__buf_putc(b, *s);
        }
        fk__buf_putc(b, '"');
    }
    fk__buf_putc(b, '}');
}

int fk__copy_quoted(char *dst, size_t cap, const char *name)
{
    char *q = fk__quote_ident(name);
    snprintf(dst, cap, "%s", q ? q : "");
    fk__xfree(q);
    return q ? 0 : -1;
}
