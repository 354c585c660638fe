/**
 * @file fortknox/registry.h
 * @brief Registries for your own database: a proposal made from its catalog,
 *        and a check of a registry file against it (docs/registry.md).
 */
#ifndef FORTKNOX_REGISTRY_H
#define FORTKNOX_REGISTRY_H

#include <stddef.h>
#include "ctx.h"
#include "report.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Current version of fk_registry_propose_options. */
#define FK_REGISTRY_PROPOSE_OPTIONS_VERSION 1

/** Options for fk_registry_propose(); initialise with fk_registry_propose_options_init(). */
typedef struct fk_registry_propose_options {
    unsigned version; /**< FK_REGISTRY_PROPOSE_OPTIONS_VERSION */
    /** Schemas to look in; NULL (or nschemas 0): every schema but the
     *  system ones and libfortknox's own. */
    const char *const *schemas;
    size_t nschemas; /**< entries in schemas */
    /** Tables ("schema.table") to propose as entity types even without a
     *  soft-delete column, in addition to those that have one; each must
     *  exist (else FK_ENOTFOUND) and have a one-column integer primary key
     *  (else FK_EUNSUPPORTED). */
    const char *const *tables;
    size_t ntables; /**< entries in tables */
} fk_registry_propose_options;

/**
 * Fills @p opts with defaults for structure version @p version.
 * @return FK_OK, or FK_EINVAL when @p opts is NULL or @p version is unknown.
 */
FK_EXTERN int fk_registry_propose_options_init(fk_registry_propose_options *opts,
                                               unsigned version);

/**
 * A registry proposal for the connected database, made from its catalog:
 * every table with a soft-delete column (a nullable timestamp or date named
 * deleted_at, deleted_on, removed_at or trashed_at) and a one-column integer
 * primary key, plus opts->tables; as their children, the tables whose
 * foreign key references them ON DELETE CASCADE; name columns (name, title,
 * label, else the first text column), author columns (author_id,
 * created_by, user_id, owner_id, creator_id referencing the users table),
 * secret-looking text columns (password, token, secret, api_key, *_hash,
 * salt, private_key ...: docs/registry.md) as secret_columns,
 * self-references; the users table (the
 * one the author columns reference, else a table named "users", with an email
 * column). Every guess is explained in "notes" members (ignored by the
 * parser), and the tables left out, and why, in the top-level "notes".
 * The context may be opened with FK_OPEN_LAZY_REGISTRY: the registry it
 * holds is not used.
 *
 * @param[out] out  the registry document (pretty-printed JSON, readable by
 *                  fk_open()'s registry_file); fk_free() it.
 * @return FK_OK; FK_ENOTFOUND (no table qualifies, or a table of
 *         opts->tables does not exist), FK_EUNSUPPORTED (such a table has
 *         no one-column integer primary key), FK_EINVAL, FK_EDB, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_registry_propose(char **out, fk_ctx *ctx,
                                                 const fk_registry_propose_options *opts);

/**
 * Checks the context's registry (fk_ctx_options.registry_file, else the
 * built-in one) against the database, as fk_open() resolves it but naming
 * every problem instead of the first: a malformed file (its first error, with
 * line:column or the key), every table and column it names that does not
 * exist, a primary key that is not an integer, child tables referencing each
 * other in a cycle, a soft-delete column that is not a timestamp or date
 * (errors, code FK-REGISTRY); a soft-delete column that is
 * missing (fk_install() can add it), an author column that does not
 * reference the users table, a table whose foreign key references one of the
 * registry's tables ON DELETE CASCADE but which the registry leaves out (its
 * rows die with the entity and are in no fixture), no users table
 * (warnings). Open the
 * context with FK_OPEN_LAZY_REGISTRY, so that a malformed file is a finding
 * here rather than a failure of fk_open().
 *
 * @param[out] out  the report (counters "entity_types", "child_tables",
 *                  "problems"); NULL if not wanted.
 * @return FK_OK (usable; warnings possible), FK_EVERIFY (problems, listed in
 *         the report), FK_ENOTFOUND / FK_EIO (the file cannot be read),
 *         FK_EINVAL, FK_EDB, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_registry_check(fk_report **out, fk_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_REGISTRY_H */
