/* Every allocation in the library goes through these, so a test build can
 * fail the k-th allocation (curl's torture idea) and prove FK_ENOMEM paths. */
#ifndef FK_CORE_ALLOC_H
#define FK_CORE_ALLOC_H
#include <stddef.h>

void *fk__malloc(size_t n);
void *fk__calloc(size_t n, size_t size);
void *fk__realloc(void *p, size_t n);
void fk__xfree(void *p);
char *fk__strdup(const char *s);
char *fk__strndup(const char *s, size_t n);

/* Makes room in a growable array that is full: items (of *cap elements of
 * size bytes) doubles, or gets `first` elements when it has none. Returns
 * the new array (and updates *cap), or NULL with items and *cap untouched
 * when memory runs out or the size overflows. The one growth rule, instead
 * of a copy at every array. */
void *fk__grow(void *items, size_t *cap, size_t size, size_t first);

/* Test hook: when > 0, the allocation with this ordinal (1-based, counted
 * from the call) fails. 0 disables. Only compiled with -DFK_ALLOC_FAULTS. */
void fk__alloc_fail_at(long k);
long fk__alloc_count(void);

#endif
