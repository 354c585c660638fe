/* What every public entry point does, written once (as libgit2's
 * GIT_INIT_STRUCTURE_FROM_TEMPLATE, GIT_ERROR_CHECK_VERSION, GIT_ASSERT_ARG
 * and GIT_ERROR_CHECK_ALLOC): initialise an options struct, check a caller's
 * options version, check an argument and name it when it is wrong, record
 * running out of memory, and hand a report over. Every options struct of the
 * API starts with `unsigned version`. */
#ifndef FK_CORE_ENTRY_H
#define FK_CORE_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ctx_internal.h"
#include "fortknox/report.h"

/* The body of every fk_*_options_init: version in 1..max, else FK_EINVAL
 * ("fn: unsupported version N"); zeroes the struct and sets its version.
 * The defaults that are not zero are set by the caller afterwards, and only
 * there (an entry point given NULL options uses the same _init). A caller
 * built against an older header passes an older version and has only that
 * version's bytes: ends[v - 1] is where version v < max ends (FK__FIELD_END
 * of its last field; not sizeof, which the newer fields' alignment can
 * exceed), and only those bytes are written. */
int fk__options_init(void *opts, size_t size, const size_t *ends, unsigned version, unsigned max,
                     const char *fn);
#define FK__FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
/* For a struct that has had one version only: a second version must say
 * where the first ends (FK__OPTIONS_INIT_VERSIONED), or the build fails. */
#define FK__OPTIONS_INIT(opts, version, max, fn)                                                 \
    ((void)sizeof(char[(max) == 1 ? 1 : -1]),                                                    \
     fk__options_init((opts), sizeof *(opts), NULL, (version), (max), (fn)))
/* ends: max - 1 sizes, the end of versions 1 .. max - 1. */
#define FK__OPTIONS_INIT_VERSIONED(opts, version, max, fn, ends)                                 \
    ((void)sizeof(char[sizeof(ends) / sizeof((ends)[0]) == (max) - 1 ? 1 : -1]),                \
     fk__options_init((opts), sizeof *(opts), (ends), (version), (max), (fn)))

/* A caller's options struct (NULL allowed: the defaults) must be of a
 * version this library knows; else FK_EINVAL ("fn: unsupported options
 * version N") on ctx. */
int fk__options_check(fk_ctx *ctx, const void *opts, unsigned max, const char *fn);

/* The first line of an entry point taking a context: FK_EINVAL when ctx is
 * NULL (recorded in the thread's slot), else the context's last error is
 * cleared for this call. */
#define FK__BEGIN(ctx, fn)                                                                       \
    do {                                                                                         \
        if (!(ctx))                                                                              \
            return fk__fail(NULL, FK_EINVAL, "%s: ctx must not be NULL", (fn));                  \
        fk__ok(ctx);                                                                             \
    } while (0)

/* Returns FK_EINVAL from the calling function, naming the argument check
 * that failed ("fk_export: invalid argument: dir && *dir"), unless expr
 * holds. */
#define FK__ARG(ctx, fn, expr)                                                                   \
    do {                                                                                         \
        if (!(expr))                                                                             \
            return fk__fail((ctx), FK_EINVAL, "%s: invalid argument: %s", (fn), #expr);          \
    } while (0)

/* FK_ENOMEM, recorded on ctx (NULL: the thread's slot only). */
int fk__oom(fk_ctx *ctx);

/* The end of an entry point that makes a report: on rc == FK_OK the report
 * goes to *out (or is freed when out is NULL), else it is freed and *out
 * stays NULL. Returns rc. */
int fk__report_finish(fk_report **out, fk_report *report, int rc);

/* Elapsed time of an operation, for its report (monotonic clock). */
typedef struct fk__clock {
    struct timespec t0;
} fk__clock;
void fk__clock_start(fk__clock *c);
int64_t fk__clock_ms(const fk__clock *c); /* milliseconds since fk__clock_start */

/* Hands the report to the caller: *out = report, or freed when out is NULL
 * (the caller did not want it). */
void fk__report_give(fk_report **out, fk_report *report);

#endif
