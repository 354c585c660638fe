/**
 * @file fortknox/serialize.h
 * @brief One entity (a row of a registered table and its child rows) as the
 *        JSON document its fixture file holds.
 */
#ifndef FORTKNOX_SERIALIZE_H
#define FORTKNOX_SERIALIZE_H

#include <stdint.h>
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fixture file formats. */
typedef enum fk_format {
    /**
     * Byte-compatible with Parthenon's PHP exporter
     * (`json_encode(JSON_PRETTY_PRINT|JSON_UNESCAPED_UNICODE)`): 4-space
     * indent, `\/`, raw UTF-8, keys in table column order, children appended
     * under their registry key and sorted by primary key, timestamps as
     * `2026-03-15T02:58:11.000000Z`, numbers as PHP writes them (but never
     * losing a value: see docs/fixture-format.md), empty objects as `[]`, no
     * trailing newline.
     */
    FK_FORMAT_PARTHENON = 0,
    /** Like PARTHENON but lossless: numbers exactly as stored, `{}` stays
     *  `{}`, and a trailing newline. */
    FK_FORMAT_CANONICAL = 1
} fk_format;

/**
 * Serializes one entity, soft-deleted or not, with its children.
 *
 * @param[out] out      receives the document (NUL-terminated); fk_free() it.
 * @param[out] out_len  receives its length in bytes; may be NULL.
 * @param ctx           open context.
 * @param entity_type   registry type name, e.g. "cohort_definition".
 * @param id            primary key value.
 * @param format        FK_FORMAT_PARTHENON or FK_FORMAT_CANONICAL.
 * @return FK_OK; FK_ENOTFOUND (unknown type, or no such row), FK_EINVAL,
 *         FK_EDB, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_entity_serialize(char **out, size_t *out_len, fk_ctx *ctx,
                                                 const char *entity_type, int64_t id,
                                                 fk_format format);

/**
 * The registry in use, resolved against the database, as JSON: every entity
 * type with its table, key columns, directory, children and the columns read
 * from the catalog. For tools and for checking a registry file.
 * @param[out] out  fk_free() it.
 * @return FK_OK, FK_EINVAL, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_registry_describe(char **out, fk_ctx *ctx);

/**
 * File name (relative to the fixture root) Parthenon's exporter would give an
 * entity of @p entity_type named @p name with primary key @p id, ignoring
 * collisions: `<directory>/<slug>.json`, or `<directory>/<type>-<id>.json`
 * when the slug is empty. Never contains "..", a leading "/" or a NUL.
 * @param[out] out  fk_free() it.
 * @return FK_OK, FK_ENOTFOUND (unknown type), FK_EINVAL, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_fixture_path(char **out, fk_ctx *ctx, const char *entity_type,
                                             const char *name, int64_t id);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_SERIALIZE_H */
