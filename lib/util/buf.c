#include "buf.h"
#include "alloc.h"
#include <stdio.h>
#include <string.h>

int fk__buf_grow(fk__buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *d = fk__realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

int fk__buf_put(fk__buf *b, const void *p, size_t n)
{
    if (fk__buf_grow(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int fk__buf_puts(fk__buf *b, const char *s) { return fk__buf_put(b, s, strlen(s)); }

int fk__buf_putc(fk__buf *b, char c) { return fk__buf_put(b, &c, 1); }

int fk__buf_vprintf(fk__buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || fk__buf_grow(b, (size_t)n) < 0) {
        b->failed = 1;
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int fk__buf_printf(fk__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fk__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int fk__buf_failed(const fk__buf *b) { return b->failed; }

void fk__buf_clear(fk__buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

const char *fk__buf_cstr(fk__buf *b)
{
    if (b->failed)
        return NULL;
    if (!b->data && fk__buf_grow(b, 0) < 0)
        return NULL;
    b->data[b->len] = '\0';
    return b->data;
}

char *fk__buf_detach(fk__buf *b)
{
    if (!fk__buf_cstr(b)) {
        fk__buf_dispose(b);
        return NULL;
    }
    char *d = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void fk__buf_dispose(fk__buf *b)
{
    fk__xfree(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
