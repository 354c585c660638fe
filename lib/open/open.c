/* fk_open and fk_close: the top of the module map (lib/README.md). A
 * context is core's connection plus what the modules above core keep on it:
 * the resolved registry (model), the before-state tracker (audit). Only this
 * file knows all of them, so core never includes a module above it. */
#include "audit_tracker.h"
#include "ctx_internal.h"
#include "registry.h"

int fk_open(fk_ctx **out, const char *conninfo, const fk_ctx_options *opts)
{
    int rc = fk__ctx_connect(out, conninfo, opts);
    if (rc || (opts && (opts->flags & FK_OPEN_LAZY_REGISTRY)))
        return rc;
    fk__registry *reg;
    if ((rc = fk__ctx_registry(*out, &reg))) {
        fk_close(*out); /* the message is already in the thread's slot */
        *out = NULL;
    }
    return rc;
}

void fk_close(fk_ctx *ctx)
{
    if (!ctx)
        return;
    fk__audit_tracker_free(ctx->audit_tracker);
    fk__registry_free(ctx->registry);
    fk__ctx_free(ctx);
}
