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

/* Test hook: when > 0, the allocation with this ordinal (1-based, counted
 * from the call) fails. 0 disables. Only compiled with -DFK_ALLOC_FAULTS. */
void fk__alloc_fail_at(long k);
long fk__alloc_count(void);

#endif
