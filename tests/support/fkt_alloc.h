/* For the tests of internal modules that fail the k-th allocation
 * (lib/util/alloc.h): include after alloc.h. */
#ifndef FKT_ALLOC_H
#define FKT_ALLOC_H

/* Whether alloc.c was built with FK_ALLOC_FAULTS, so that an allocation can
 * be made to fail; the allocation-failure tests skip() without it. */
static inline int fkt_alloc_faults_available(void)
{
    fk__alloc_fail_at(1);
    void *probe = fk__malloc(1);
    fk__alloc_fail_at(0);
    if (probe) {
        fk__xfree(probe);
        return 0;
    }
    return 1;
}

#endif
