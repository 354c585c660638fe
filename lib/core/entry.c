/* The entry-point helpers (entry.h). */
#include "entry.h"

#include <string.h>

int fk__options_init(void *opts, size_t size, const size_t *ends, unsigned version, unsigned max,
                     const char *fn)
{
    if (!opts || version == 0 || version > max || (version < max && !ends))
        return fk__fail(NULL, FK_EINVAL, "%s: unsupported version %u", fn, version);
    memset(opts, 0, version < max ? ends[version - 1] : size);
    memcpy(opts, &version, sizeof version); /* every options struct starts with it */
    return FK_OK;
}

int fk__options_check(fk_ctx *ctx, const void *opts, unsigned max, const char *fn)
{
    if (!opts)
        return FK_OK;
    unsigned version;
    memcpy(&version, opts, sizeof version);
    if (version == 0 || version > max)
        return fk__fail(ctx, FK_EINVAL, "%s: unsupported options version %u", fn, version);
    return FK_OK;
}

int fk__oom(fk_ctx *ctx) { return fk__fail(ctx, FK_ENOMEM, "out of memory"); }

void fk__report_give(fk_report **out, fk_report *report)
{
    if (out)
        *out = report;
    else
        fk_report_free(report);
}

int fk__report_finish(fk_report **out, fk_report *report, int rc)
{
    if (rc == FK_OK)
        fk__report_give(out, report);
    else
        fk_report_free(report);
    return rc;
}

void fk__clock_start(fk__clock *c) { clock_gettime(CLOCK_MONOTONIC, &c->t0); }

int64_t fk__clock_ms(const fk__clock *c)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - c->t0.tv_sec) * 1000 + (t1.tv_nsec - c->t0.tv_nsec) / 1000000;
}
