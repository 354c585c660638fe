/* Where an entity's file goes. Parthenon's naming (slug, "-<id>" on
 * collision, "<type>-<id>" for an empty slug) made stable: an entity keeps
 * the file it had as long as that name still fits its current name, and a
 * name is only taken when no other entity's file (existing, or written in
 * this run and not yet renamed into place) holds it. */
#ifndef FK_L3_PLACEMENT_H
#define FK_L3_PLACEMENT_H

#include <stdint.h>
#include "buf.h"
#include "registry.h"

/* Reads the primary key stored in fixture file `name` of dirfd:
 * 1 = found (*id set), 0 = the file has no readable id, -1 = no such file. */
int fk__file_owner(int dirfd, const char *name, const char *pk_name, int64_t *id);

/* Chooses the file name (no directory) for entity (e, id, name) in the type
 * directory dirfd. old_name is the name the manifest recorded, or NULL. */
int fk__place(fk_ctx *ctx, const fk__etype *e, int dirfd, int64_t id, const char *name,
              size_t name_len, const char *old_name, fk__buf *out);

#endif
