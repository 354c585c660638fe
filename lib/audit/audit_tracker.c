/* The before-state tracker (fk_audit_before): what an ORM hook saw before
 * a change, kept on the context until the change's audit row is written. */
#include "audit_tracker.h"

#include <string.h>

#include "alloc.h"
#include "fortknox/audit.h"
#include "json_text.h"
#include "entry.h"

#define TRACKER_MAX 10000

/* ------------------------------------------------------------- tracker */

typedef struct pending {
    char *type;
    int64_t id;
    char *json;
} pending;

struct fk__audit_tracker {
    pending *items; /* oldest first */
    size_t n, cap;
};
typedef struct fk__audit_tracker tracker;

void fk__audit_tracker_free(tracker *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        fk__xfree(t->items[i].type);
        fk__xfree(t->items[i].json);
    }
    fk__xfree(t->items);
    fk__xfree(t);
}

static void tracker_drop(tracker *t, size_t i)
{
    fk__xfree(t->items[i].type);
    fk__xfree(t->items[i].json);
    memmove(&t->items[i], &t->items[i + 1], (t->n - i - 1) * sizeof *t->items);
    t->n--;
}

static long tracker_find(const tracker *t, const char *type, int64_t id)
{
    for (size_t i = t ? t->n : 0; i-- > 0;)
        if (t->items[i].id == id && strcmp(t->items[i].type, type) == 0)
            return (long)i;
    return -1;
}

/* A JSON object, or the reason it is not one. */
int fk__audit_need_object(fk_ctx *ctx, const char *what, const char *json)
{
    fk__json_error err;
    if (fk__json_scan_object(json, strlen(json), NULL, NULL, &err) == 0)
        return FK_OK;
    if (fk__json_error_is_oom(&err))
        return fk__oom(ctx);
    return fk__fail(ctx, FK_EPARSE, "%s is not a JSON object: %zu:%zu: %s", what, err.line,
                    err.column, err.msg);
}

int fk_audit_before(fk_ctx *ctx, const char *entity_type, int64_t id, const char *old_json)
{
    FK__BEGIN(ctx, "fk_audit_before");
    FK__ARG(ctx, "fk_audit_before", entity_type && old_json);
    int rc = fk__audit_need_object(ctx, "old_json", old_json);
    if (rc)
        return rc;
    tracker *t = ctx->audit_tracker;
    if (!t) {
        if (!(t = fk__calloc(1, sizeof *t)))
            return fk__oom(ctx);
        ctx->audit_tracker = t;
    }
    long old = tracker_find(t, entity_type, id);
    if (old >= 0) /* a second "before" without an "after": the newer one wins */
        tracker_drop(t, (size_t)old);
    if (t->n == TRACKER_MAX)
        tracker_drop(t, 0); /* an "after" that never came: bounded, not leaked */
    if (t->n == t->cap) {
        void *g = fk__grow(t->items, &t->cap, sizeof *t->items, 16);
        if (!g)
            return fk__oom(ctx);
        t->items = g;
    }
    pending p = {fk__strdup(entity_type), id, fk__strdup(old_json)};
    if (!p.type || !p.json) {
        fk__xfree(p.type);
        fk__xfree(p.json);
        return fk__oom(ctx);
    }
    t->items[t->n++] = p;
    return FK_OK;
}

size_t fk_audit_pending(const fk_ctx *ctx)
{
    const tracker *t = ctx ? ctx->audit_tracker : NULL;
    return t ? t->n : 0;
}

void fk_audit_forget(fk_ctx *ctx)
{
    if (!ctx || !ctx->audit_tracker)
        return;
    fk__audit_tracker_free(ctx->audit_tracker);
    ctx->audit_tracker = NULL;
}

const char *fk__audit_tracked(const fk_ctx *ctx, const char *type, int64_t id)
{
    long i = tracker_find(ctx->audit_tracker, type, id);
    return i >= 0 ? ctx->audit_tracker->items[i].json : NULL;
}

void fk__audit_tracked_drop(fk_ctx *ctx, const char *type, int64_t id)
{
    long i = tracker_find(ctx->audit_tracker, type, id);
    if (i >= 0)
        tracker_drop(ctx->audit_tracker, (size_t)i);
}
