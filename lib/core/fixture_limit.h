/* Size limits shared by every reader and writer of fixture files. */
#ifndef FK_CORE_FIXTURE_LIMIT_H
#define FK_CORE_FIXTURE_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include "fortknox/ctx.h"

/* The largest fixture file, in bytes. export refuses to write a bigger one;
 * import, verify, drill and the exporter's placement reader refuse to read
 * one. One number, so that every file export writes can be restored (and a
 * whole document, as jsonb, stays far below PostgreSQL's 255 MiB limit for
 * one jsonb value). */
#define FK__MAX_FIXTURE_BYTES (64u * 1024 * 1024)

/* FK_OK when a document of len bytes for entity type:id may be written;
 * FK_EUNSUPPORTED (naming the entity, its size and the limit) otherwise. */
int fk__fixture_size_ok(fk_ctx *ctx, const char *type, int64_t id, size_t len);

#endif
