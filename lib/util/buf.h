/* A growable byte buffer. Once an append fails the buffer is "failed":
 * later appends are no-ops and fk__buf_failed() tells the caller, so long
 * emitters check once at the end instead of after every call. */
#ifndef FK_CORE_BUF_H
#define FK_CORE_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct fk__buf {
    char *data; /* always NUL-terminated when len > 0 or after fk__buf_cstr */
    size_t len;
    size_t cap;
    int failed;
} fk__buf;

#define FK__BUF_INIT {NULL, 0, 0, 0}

int fk__buf_grow(fk__buf *b, size_t extra);
int fk__buf_put(fk__buf *b, const void *p, size_t n);
int fk__buf_puts(fk__buf *b, const char *s);
int fk__buf_putc(fk__buf *b, char c);
int fk__buf_printf(fk__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int fk__buf_vprintf(fk__buf *b, const char *fmt, va_list ap);
int fk__buf_failed(const fk__buf *b);
void fk__buf_clear(fk__buf *b);
/* Returns the NUL-terminated contents ("" when empty); NULL if failed. */
const char *fk__buf_cstr(fk__buf *b);
/* Hands the data to the caller (fk__xfree / fk_free); resets the buffer. */
char *fk__buf_detach(fk__buf *b);
void fk__buf_dispose(fk__buf *b);

#endif
