/* File names as Parthenon's exporter gives them. */
#ifndef FK_L3_SLUG_H
#define FK_L3_SLUG_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define FK__SLUG_MAX 100

/* Parthenon's slug: trim, ASCII-lowercase, drop every byte outside
 * [a-z0-9 whitespace -], collapse runs of whitespace/hyphens into one '-',
 * trim edge hyphens, cut to 100 bytes. The result only ever holds
 * [a-z0-9-], which is why no entity name can reach outside the fixture
 * root. Appends to out (possibly nothing). */
int fk__slug(fk__buf *out, const char *name, size_t len);

/* "<slug>.json", or "<type>-<id>.json" for an empty slug; with_id adds
 * "-<id>" before ".json" (the collision form). */
int fk__fixture_filename(fk__buf *out, const char *type, const char *name, size_t len,
                         int64_t id, int with_id);

#endif
