#include "alloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef FK_ALLOC_FAULTS
#include <execinfo.h>
#include <unistd.h>
static long fail_at;
static long counter;
void fk__alloc_fail_at(long k) { fail_at = k; counter = 0; }
long fk__alloc_count(void) { return counter; }
static int should_fail(void)
{
    int fail = ++counter == fail_at && fail_at > 0;
    if (fail && getenv("FK_ALLOC_TRACE")) { /* where a swallowed failure came from */
        void *frames[16];
        backtrace_symbols_fd(frames, backtrace(frames, 16), 2);
    }
    return fail;
}
#else
void fk__alloc_fail_at(long k) { (void)k; }
long fk__alloc_count(void) { return 0; }
static int should_fail(void) { return 0; }
#endif

void *fk__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *fk__calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *fk__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

void fk__xfree(void *p) { free(p); }

char *fk__strndup(const char *s, size_t n)
{
    char *d = fk__malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *fk__strdup(const char *s) { return s ? fk__strndup(s, strlen(s)) : NULL; }

void *fk__grow(void *items, size_t *cap, size_t size, size_t first)
{
    size_t n = *cap ? *cap * 2 : first;
    if (n < *cap || (size && n > SIZE_MAX / size))
        return NULL;
    void *g = fk__realloc(items, n * size);
    if (g)
        *cap = n;
    return g;
}
