/**
 * @file fortknox/audit.h
 * @brief Layer 2: writing, verifying and reading the tamper-evident audit
 *        log. Install it first with fk_install().
 */
#ifndef FORTKNOX_AUDIT_H
#define FORTKNOX_AUDIT_H

#include <stdint.h>
#include "ctx.h"
#include "fixtures.h"
#include "report.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Current version of fk_audit_event. */
#define FK_AUDIT_EVENT_VERSION 1

/**
 * One change, as the application reports it. Strings are borrowed for the
 * call. changed_fields is not part of the event: the library computes it
 * (top-level keys whose values differ; objects compared regardless of key
 * order).
 */
typedef struct fk_audit_event {
    unsigned version;          /**< FK_AUDIT_EVENT_VERSION */
    const char *entity_type;   /**< registry type, e.g. "cohort_definition" */
    int64_t entity_id;
    const char *entity_name;   /**< NULL or "" = "<type>-<id>" */
    const char *action;        /**< "created", "updated", "deleted", "restored",
                                    "force_deleted" */
    int64_t actor_id;          /**< 0 = none (system write) */
    const char *actor_email;   /**< may be NULL */
    const char *ip_address;    /**< may be NULL */
    const char *old_json;      /**< state before (JSON object) or NULL: then the
                                    state recorded by fk_audit_before(), if any */
    const char *new_json;      /**< state after (JSON object) or NULL */
} fk_audit_event;

/** Fills @p ev with defaults. @return FK_OK or FK_EINVAL. */
FK_EXTERN int fk_audit_event_init(fk_audit_event *ev, unsigned version);

/**
 * Records the state of an entity before a change (an ORM's "updating" /
 * "deleting" hook), to be used by the next fk_audit_write() for the same
 * type and id. Kept in the context (at most 10,000 pending entries, oldest
 * dropped first); fk_audit_forget() and fk_close() release them, so an
 * "after" that never comes leaks nothing.
 * @return FK_OK, FK_EPARSE (old_json is not a JSON object), FK_EINVAL, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_before(fk_ctx *ctx, const char *entity_type, int64_t id,
                                             const char *old_json);

/** Number of states recorded by fk_audit_before() and not yet used. */
FK_EXTERN size_t fk_audit_pending(const fk_ctx *ctx);

/** Drops every pending before-state. */
FK_EXTERN void fk_audit_forget(fk_ctx *ctx);

/**
 * Writes one audit row (application mode). Then, when the context has a
 * fixture root, refreshes the entity's fixture file (removes it after
 * "force_deleted"). A failure is returned, never dropped.
 *
 * @param[out] out_id  receives the audit row's id; may be NULL.
 * @return FK_OK; FK_EINVAL (bad action or arguments), FK_ENOTFOUND (unknown
 *         type, or the audit log is not installed), FK_EPARSE (old/new JSON
 *         not an object), FK_ECONFLICT (capture mode is installed), FK_EDB,
 *         FK_EIO (fixture refresh failed; the audit row is written).
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_write(int64_t *out_id, fk_ctx *ctx,
                                            const fk_audit_event *ev);

/**
 * Writes @p n audit rows at once: every event is checked first, then the rows
 * go to the server in one pipeline (one round trip) and one transaction (all
 * or none, unless the context is already inside a transaction), then the
 * fixtures are refreshed in one batch. For ORM hooks that buffer events until
 * the application's commit.
 *
 * @param[out] out_ids  n audit row ids (may be NULL); all 0 on failure.
 * @return as fk_audit_write(); on failure no row was written, except
 *         FK_EIO (rows written, fixture refresh failed).
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_write_many(int64_t *out_ids, fk_ctx *ctx,
                                                 const fk_audit_event *events, size_t n);

/**
 * fk_audit_write() taking the event as a JSON object with the same field
 * names (`{"entity_type": "...", "entity_id": 5, "action": "updated",
 * "actor_id": 3, "actor_email": "...", "ip_address": "...", "old": {...},
 * "new": {...}}`) — for FFI callers.
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_write_json(int64_t *out_id, fk_ctx *ctx,
                                                 const char *event_json);

/**
 * Sets the actor for what this context does next (imports, restores, and
 * capture triggers seeing this connection): `fortknox.actor_id`,
 * `fortknox.actor_email`, `fortknox.ip` for the session. actor_id 0 and NULL
 * strings clear them.
 */
FK_EXTERN FK_WARN_UNUSED int fk_set_actor(fk_ctx *ctx, int64_t actor_id, const char *actor_email,
                                          const char *ip_address);

/**
 * Recomputes the whole hash chain in this process (SHA-256 from OpenSSL),
 * independently of the server's triggers, streaming the rows.
 *
 * With @p anchor_dir (a fixture directory whose manifest holds the chain
 * head at export time) it also checks that the anchored row still exists
 * with the anchored hash, which catches a rewritten or truncated tail, and
 * an anchored chain where nothing is installed any more (FK_ETAMPER). A
 * missing chain head row is tampering too. It also checks the directory's
 * witness (fortknox-witness: every chain head a command saw must still be
 * in the chain, with the same hash; docs/fixture-format.md), which catches
 * what the anchor cannot: a log cut or re-hashed after the last export, or
 * restored from an older dump; and, when the chain is intact, records the
 * head it verified there (a directory it cannot write: the warning item
 * FK-WITNESS-UNRECORDED).
 *
 * Report counters: "rows", "first_id", "last_id", "anchor_id" (0 when the
 * manifest anchors nothing: such a chain is not anchored), and with
 * @p anchor_dir "witnessed" (heads checked) and "witness_recorded". On a
 * broken chain an error item names the first bad row (entity_id = audit row
 * id) and why.
 *
 * @return FK_OK (intact), FK_ETAMPER (broken; see the report and fk_errmsg),
 *         FK_ENOTFOUND (not installed), FK_EDB, FK_EIO/FK_EPARSE (anchor;
 *         FK_EIO also: the witness cannot be read).
 *         The report is returned in both the FK_OK and FK_ETAMPER cases.
 */
FK_EXTERN int fk_audit_verify(fk_report **out, fk_ctx *ctx, const char *anchor_dir);

/**
 * Seals the audit log: every committed row not yet in the hash chain gets
 * its changed_fields, prev_hash and row_hash, in id order, and the chain
 * head moves to the last one (docs/audit.md, "Sealing"). Rows are written
 * unsealed -- the chain is not computed while the change commits -- and
 * stay so until something seals them: this call, `fortknox audit seal`,
 * `watch` after each change it sees, and every command that reads the
 * chain (audit verify, export, snapshot, doctor) on a primary where it may.
 * Until then a row written by a superuser with the triggers off is
 * indistinguishable from one written by fortknox; once sealed, any change
 * to it breaks the chain.
 *
 * Batches of 2000 rows, each its own transaction: call it outside a
 * transaction of your own (seal() runs under READ COMMITTED only). Safe to run concurrently with writers and with
 * other sealers (they wait for each other on the head row).
 *
 * @param out_sealed  rows sealed (may be NULL).
 * @return FK_OK, FK_ENOTFOUND (not installed), FK_EUNSUPPORTED (a hot
 *         standby or a read-only session: seal on the primary), FK_ETAMPER
 *         (the chain head is gone, or a row past it is already sealed: it
 *         was not written through fortknox -- run fk_audit_verify()),
 *         FK_EDB (e.g. the role may not execute seal(): install grants it
 *         to the override role, not to the application role).
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_seal(uint64_t *out_sealed, fk_ctx *ctx);

/** Current version of fk_audit_verify_options. */
#define FK_AUDIT_VERIFY_OPTIONS_VERSION 1

/** Options for fk_audit_verify_with(); initialise with
 *  fk_audit_verify_options_init(). */
typedef struct fk_audit_verify_options {
    unsigned version;        /**< FK_AUDIT_VERIFY_OPTIONS_VERSION */
    const char *anchor_dir;  /**< as fk_audit_verify()'s, or NULL */
    /** Called every 1000 rows and at the end (operation "audit verify",
     *  done = rows checked, total = rows in the log); may be NULL. A
     *  non-zero return stops the check: FK_ECANCELLED, nothing recorded. */
    fk_progress_fn progress;
    void *progress_data;
} fk_audit_verify_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL (unknown version). */
FK_EXTERN int fk_audit_verify_options_init(fk_audit_verify_options *opts, unsigned version);

/** fk_audit_verify() with options (a progress callback). Same reports and
 *  return values, and FK_ECANCELLED. */
FK_EXTERN int fk_audit_verify_with(fk_report **out, fk_ctx *ctx,
                                   const fk_audit_verify_options *opts);

/** Current version of fk_audit_query. */
#define FK_AUDIT_QUERY_VERSION 1

/** Filter for fk_audit_log(). Zero/NULL fields do not filter. */
typedef struct fk_audit_query {
    unsigned version;        /**< FK_AUDIT_QUERY_VERSION */
    const char *entity_type;
    int64_t entity_id;       /**< with entity_type */
    const char *since;       /**< timestamp text, e.g. "2026-03-15" or "2026-03-15T02:00:00Z";
                                  one PostgreSQL cannot read is FK_EINVAL (the message lists
                                  the accepted forms) */
    int64_t limit;           /**< 0 = 100 */
} fk_audit_query;

/** Fills @p q with defaults. @return FK_OK or FK_EINVAL. */
FK_EXTERN int fk_audit_query_init(fk_audit_query *q, unsigned version);

/**
 * Audit rows, newest first, as a JSON array of objects with every column.
 * @param[out] out  fk_free() it.
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_log(char **out, fk_ctx *ctx, const fk_audit_query *q);

/**
 * The per-field differences between two states, as a JSON array of
 * {"path", "op", "old", "new", "text"}: @c op is "added" (no "old"), "removed" (no
 * "new") or "changed". Objects are compared by key, with nested paths such as
 * $.expression.criteria[2].code (a key that is not an identifier is written
 * $["a key"]); arrays by index, so an element inserted at the front shows as
 * each later element changed and one added at the end. A value whose type
 * changes is one "changed" entry with both values whole. Strings compare
 * decoded; numbers compare as their text, never as doubles (jsonb keeps
 * 0.10 as 0.10: a change of scale shows). Values are given as their text.
 * Each entry also has "text", the line `fortknox audit log --diff` prints:
 * "~ $.name: \"a\" → \"b\"", "+ $.tags[2]: 3" or "- $.gone: true".
 * @param old_json  NULL: no state (a creation): each member of an object
 *                  @p new_json is "added"; the same for @p new_json NULL.
 * @param[out] out  fk_free() it. "[]" when nothing changed.
 * @return FK_OK, FK_EPARSE (not valid JSON), FK_EINVAL, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_json_diff(char **out, const char *old_json, const char *new_json);

/**
 * fk_audit_log()'s rows, each with a "diff" member added: fk_json_diff() of
 * its old_json and new_json (a JSON null taken as no state, so a creation's
 * fields are "added" and a deletion's "removed").
 * @param[out] out  fk_free() it.
 * @return FK_OK, FK_EPARSE (not a JSON array of objects), FK_EINVAL, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_diff(char **out, const char *rows_json);

/** Flags of fk_audit_log_format(). */
typedef enum fk_audit_log_format_flags {
    /** The rows carry "diff" (fk_audit_diff()): one block per row, its diff lines under it. */
    FK_AUDIT_LOG_FORMAT_DIFF = 1
} fk_audit_log_format_flags;

/**
 * Audit rows as the fortknox tool prints them (`fortknox audit log`): "no
 * audit rows", or a table with the columns id, time (UTC), action, entity
 * (TYPE:ID), name, actor (email, else id, else "-"), changed (the changed
 * fields) and context (whole: which import or restore wrote the row, and
 * the key map it read drifted documents with), the name cut to 32, the
 * actor to 28 and the changed fields to 40 code points ("..." marks a cut). With FK_AUDIT_LOG_FORMAT_DIFF
 * (`audit log --diff`, rows from fk_audit_diff()): per row a line
 * "#ID TIME ACTION by ACTOR (CONTEXT)", then its diff lines ("text", cut to
 * 200 code points), or "(no change)". Control characters in any value are
 * shown as escapes (\n, \xNN): a value cannot forge a line.
 * @param rows_json fk_audit_log()'s (or fk_audit_diff()'s) JSON array.
 * @param flags     0 or FK_AUDIT_LOG_FORMAT_DIFF.
 * @param[out] out  the text, each line ending in "\n"; fk_free() it.
 * @return FK_OK, FK_EPARSE (not a JSON array), FK_EINVAL (NULL, unknown flag), FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_audit_log_format(char **out, const char *rows_json,
                                                 unsigned flags);

/**
 * The state of an entity as the audit log knows it (docs/recovery.md,
 * "State at a time"):
 * - at time @p as_of (timestamp text): the new_json of its last audit row at
 *   or before @p as_of; if it has none, the old_json of its first row after
 *   @p as_of (so an entity whose first recorded change came later, e.g. a
 *   force-deletion, is known from that row). A last row that is a
 *   force-deletion (new_json NULL), or a first row after that is a creation
 *   (old_json NULL), means the entity did not exist then (FK_ENOTFOUND).
 *   Table-level rows (entity 0, "truncated") are no entity's history.
 * - at audit row @p audit_id: the state that row left (its new_json); for a
 *   deletion row (new_json NULL), the state it removed (its old_json). The
 *   row must be one of this entity's: another entity's row, or no row, is
 *   FK_EINVAL (it used to mean "as of that row").
 * Give one of @p as_of and @p audit_id (the other NULL / 0); a time
 * PostgreSQL cannot read is FK_EINVAL (the message lists the accepted forms).
 * @param[out] out  the entity document (JSON object, children included);
 *                  fk_free() it.
 * @return FK_OK; FK_ENOTFOUND (no history then, or it did not exist then),
 *         FK_EINVAL.
 */
FK_EXTERN FK_WARN_UNUSED int fk_entity_as_of(char **out, fk_ctx *ctx, const char *entity_type,
                                             int64_t id, const char *as_of, int64_t audit_id);

/**
 * Puts an entity back into the state fk_entity_as_of() returns, in one
 * transaction (row and children, as an import of that one document would),
 * audited as "restored" with old_json the entity as the table held it just
 * before (NULL when it was absent), then refreshes its fixture when the
 * context has a fixture root. With neither @p as_of nor @p audit_id, a
 * force-deleted entity is restored from its deletion row (the state it
 * removed); an entity whose last audit row is no force-deletion is then
 * FK_EINVAL.
 * @param[out] out  report (may be NULL).
 */
FK_EXTERN FK_WARN_UNUSED int fk_entity_restore(fk_report **out, fk_ctx *ctx,
                                               const char *entity_type, int64_t id,
                                               const char *as_of, int64_t audit_id);

/** Current version of fk_restore_all_options. */
#define FK_RESTORE_ALL_OPTIONS_VERSION 1

/** Flags of fk_restore_all_options. */
typedef enum fk_restore_all_flags {
    /** Report what would change (with each entity's per-field diff) and
     *  change nothing. */
    FK_RESTORE_ALL_DRY_RUN = 1
} fk_restore_all_flags;

/** Options for fk_restore_all(); initialise with fk_restore_all_options_init(). */
typedef struct fk_restore_all_options {
    unsigned version;        /**< FK_RESTORE_ALL_OPTIONS_VERSION */
    unsigned flags;          /**< fk_restore_all_flags */
    const char *as_of;       /**< the time to go back to (required; timestamp text, UTC
                                  when it has no offset) */
    const char *entity_type; /**< one registry type; NULL = every type */
    fk_progress_fn progress; /**< may be NULL; operation "restore" */
    void *progress_data;
} fk_restore_all_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL (unknown version). */
FK_EXTERN int fk_restore_all_options_init(fk_restore_all_options *opts, unsigned version);

/**
 * Brings every entity (of every registry type, or of opts->entity_type) that
 * the audit log or the table knows back to its state at opts->as_of (as
 * fk_entity_as_of() defines it), in ONE transaction: all or nothing.
 * - changed since: set back, children included (report code "restored");
 * - absent now, present then: re-inserted with its children ("reinserted");
 * - present now, absent then (created after, or re-created): soft-deleted,
 *   its soft-delete column set to now() as an application would
 *   ("soft_deleted"); already soft-deleted or absent: left alone;
 * - equal to its state then, or with no audit row at all (the log records no
 *   change to it): untouched and not audited (counted "unchanged").
 * Each changed entity gets one audit row: action "restored" (set back or
 * re-inserted) or "deleted" (soft-deleted), old_json the entity as the table
 * held it just before, new_json as it now is, context
 * "restore-all:as-of:<time>". Types go in import's order (referenced types
 * first). A type without a soft-delete column that would need one refuses
 * the whole call before anything changes (FK_ECONFLICT, naming the type and
 * up to 10 entities); so does an audit chain that does not verify
 * (FK_ETAMPER). Report items (one per changed entity) carry in @c fields
 * fk_json_diff()'s array of the entity's changes (table now → state then);
 * with FK_RESTORE_ALL_DRY_RUN nothing is written and the transaction is
 * rolled back. Counters: "restored", "reinserted", "soft_deleted",
 * "unchanged", "entities", and per type "<type>.<code>".
 *
 * Memory is bounded as import's is: the entities are read through a
 * server-side cursor 250 at a time, and applied through import's batch
 * statements; at most one batch of documents (250, or 8 MiB of documents
 * plus the current entities of the batch) is held, besides the report's one
 * item per changed entity. No list of all entities is built on the client:
 * what each audit row needs waits in a temporary table on the server until
 * the type's self-references are set, then the rows are written. The tables
 * restored are locked against writes (EXCLUSIVE) for the transaction, so
 * each audit row's old_json is what the table held.
 *
 * @param[out] out  report (may be NULL).
 * @return FK_OK, FK_EINVAL (no time, unknown type, unreadable time),
 *         FK_ENOTFOUND (not installed), FK_ECONFLICT, FK_ETAMPER, FK_EDB
 *         (also: a standby, read-only server; a row the database refuses --
 *         nothing was changed), FK_ECANCELLED, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_restore_all(fk_report **out, fk_ctx *ctx,
                                            const fk_restore_all_options *opts);
struct fk_key_map;

/**
 * fk_entity_restore() reading the recorded document through @p map
 * (fortknox/fixtures.h; NULL: none). Either way, a recorded document whose
 * keys no longer match the table (a column renamed, dropped or added since)
 * is refused with FK_EPARSE naming the audit row, the type and the key or
 * column, and nothing changes; the map says how to read it instead, and is
 * recorded in the context of the "restored" audit row. An entry of the map
 * the document does not use is FK_EINVAL.
 */
FK_EXTERN FK_WARN_UNUSED int fk_entity_restore_mapped(fk_report **out, fk_ctx *ctx,
                                                      const char *entity_type, int64_t id,
                                                      const char *as_of, int64_t audit_id,
                                                      const struct fk_key_map *map);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_AUDIT_H */
