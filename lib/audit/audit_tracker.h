/* The before-state tracker behind fk_audit_before(): per context, bounded,
 * oldest dropped first. fk_close() frees it. */
#ifndef FK_AUDIT_TRACKER_H
#define FK_AUDIT_TRACKER_H

#include <stdint.h>

#include "ctx_internal.h"

/* The tracked before-state of the entity, or NULL; owned by the tracker. */
const char *fk__audit_tracked(const fk_ctx *ctx, const char *type, int64_t id);

/* Forgets the entity's before-state (its audit row is written). */
void fk__audit_tracked_drop(fk_ctx *ctx, const char *type, int64_t id);

/* FK_OK when json is a JSON object; else FK_EPARSE naming what and where. */
int fk__audit_need_object(fk_ctx *ctx, const char *what, const char *json);

void fk__audit_tracker_free(struct fk__audit_tracker *t);

#endif
