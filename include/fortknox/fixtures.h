/**
 * @file fortknox/fixtures.h
 * @brief Layer 3: every entity as a JSON file in a directory (kept in git),
 *        and back.
 *
 * Layout of a fixture directory:
 *   <root>/<directory of the type>/<slug>.json   one file per entity
 *   <root>/fortknox-manifest.json                 what the exporter wrote, with
 *                                                 SHA-256 per file and counts
 * File names follow Parthenon's exporter (see fk_fixture_path()); files that
 * the exporter did not write are never touched.
 */
#ifndef FORTKNOX_FIXTURES_H
#define FORTKNOX_FIXTURES_H

#include <stdint.h>
#include "ctx.h"
#include "report.h"
#include "serialize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Progress of a long operation, passed to an fk_progress_fn. */
typedef struct fk_progress {
    const char *operation;   /**< "export", "import", "verify", "drill: restore",
                                  "drill: verify", "doctor", "audit verify" */
    const char *entity_type; /**< type being processed, or NULL */
    uint64_t done;           /**< entities processed so far */
    uint64_t total;          /**< entities expected in all, 0 when unknown */
} fk_progress;

/**
 * Progress callback. Called from the calling thread between batches.
 * Return 0 to continue, non-zero to cancel: the operation then stops, undoes
 * what it did (old files intact, transaction rolled back) and returns
 * FK_ECANCELLED.
 */
typedef int (*fk_progress_fn)(const fk_progress *progress, void *userdata);

/** Current version of fk_export_options. */
#define FK_EXPORT_OPTIONS_VERSION 2

/** Flags for fk_export_options.flags. */
typedef enum fk_export_flags {
    /** Add a report item for every file written or removed (off: counters only,
     *  so memory does not grow with the number of entities). */
    FK_EXPORT_REPORT_FILES = 1,
    /** Read every entity, even of types whose tables provably did not change
     *  since the manifest's export (see fk_export(): incremental export). */
    FK_EXPORT_FULL = 2
} fk_export_flags;

/** Options for fk_export(); initialise with fk_export_options_init(). */
typedef struct fk_export_options {
    unsigned version;        /**< FK_EXPORT_OPTIONS_VERSION */
    fk_format format;        /**< default FK_FORMAT_PARTHENON */
    unsigned flags;          /**< fk_export_flags */
    fk_progress_fn progress; /**< may be NULL */
    void *progress_data;
    /* version 2 */
    /** Lost entities whose files may go (see fk_export()): "TYPE:ID" each,
     *  or "all"; each acknowledgement is written to the audit log. An
     *  unknown TYPE or a malformed entry: FK_EINVAL (naming the types)
     *  before anything is written; a TYPE:ID that was not lost: a warning
     *  "accept_loss_unmatched" in the report. */
    const char *const *accept_loss;
    size_t naccept_loss;     /**< entries in accept_loss */
    /** FK-DROP threshold: a type losing more than this fraction of the
     *  entities of the last export without recorded deletions stops the
     *  export; 0 = the default, 0.2 (doctor's drop_warn_ratio). */
    double drop_ratio;
} fk_export_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL (unknown version). */
FK_EXTERN int fk_export_options_init(fk_export_options *opts, unsigned version);

/**
 * Writes every entity of every registered type (soft-deleted ones included,
 * with their children) to @p dir, creating it if needed.
 *
 * The export reads one consistent snapshot (a repeatable-read, read-only
 * transaction), streams rows with cursors (memory does not grow with the
 * number of entities) and is crash-safe: new contents go to temp files, one
 * syncfs() makes them durable, then they are renamed into place, so a kill at
 * any moment leaves every file either old or new. Files keep their names
 * across exports; a renamed entity's file moves, and files the exporter did
 * not write are left alone. Finally the manifest is replaced atomically.
 * Exports into one directory are serialised with an flock() on the directory.
 *
 * Incremental: an entity type whose tables (entity and child tables) hold no
 * row version newer than the snapshot of the export that wrote the
 * manifest, and the same row counts, in the same database with the same
 * columns and format, keeps its files and manifest entries without a row
 * being read (the manifest's "export_state"; counter "types_unchanged").
 * In a type that changed, only the entities whose row is newer, that a
 * newer child row names, or whose bucket of parents lost a child row are
 * read (counter "read": entities read); the others keep their files and
 * entries. Whatever wrote to the database -- raw SQL, capture off -- leaves
 * a newer row version or a different count. When that cannot be proved
 * (no usable state, another database, a role that may not run
 * pg_control_system(), row-level security) or with FK_EXPORT_FULL,
 * everything is read, and the report has an info item "full_pass" saying
 * why (counter "full_pass" = 1).
 *
 * No laundering: the file of an entity that disappeared is removed only when
 * its disappearance is recorded -- in the audit log, a delete or force delete
 * of it (or an overridden TRUNCATE of its table) newer than the export that
 * listed it. Any other disappearance (a DELETE with triggers disabled, a
 * delete with nothing installed, a restored database missing rows) is a loss:
 * the entity's file and manifest entry are kept, everything else is written,
 * the report gets an error item "FK-LOSS" per lost entity (and "FK-DROP" per
 * type losing more than opts->drop_ratio of its entities), and the call
 * returns FK_ELOSS with the report. opts->accept_loss acknowledges losses
 * ("TYPE:ID", or "all"): each acknowledged one is recorded in the audit log
 * (action "loss_accepted", context "export", when installed) and its file
 * is then removed. A type whose table is damaged (missing table or column)
 * is not read: its files and manifest entries are kept as they are, the
 * report gets "FK-DAMAGED" and an "FK-LOSS" per entity, and the call returns
 * FK_ELOSS once every other type is written.
 *
 * The audit chain is checked first, in the export's snapshot: the head the
 * last manifest anchors, and every head the directory's witness
 * (fortknox-witness) saw, must still be in it. When one is not, the report
 * gets "FK-TAMPER", everything is exported, the manifest keeps its old
 * anchor, nothing is recorded in the witness and the call returns
 * FK_ETAMPER. Otherwise the head is anchored in the manifest and, after the
 * manifest is in place, recorded in the witness (docs/fixture-format.md).
 *
 * Report counters: "entities", "written", "unchanged", "removed", "lost",
 * "loss_accepted", "witnessed", "witness_recorded", "types_unchanged",
 * "read", "full_pass", and "<type>.entities" per type.
 *
 * @param[out] out  receives the report (fk_report_free()); may be NULL if
 *                  the caller only wants the status. NULL on failure.
 * @param ctx       open context.
 * @param dir       fixture root directory.
 * @param opts      options or NULL for defaults.
 * @return FK_OK; FK_ELOSS (everything written but the lost entities' files,
 *         which were kept; *out receives the report); FK_ETAMPER (the audit
 *         log was cut, rewritten, dropped or restored from an older dump:
 *         see above; *out receives the report); FK_EINVAL, FK_EIO
 *         (file system, with the path; also a witness that cannot be read),
 *         FK_EDB, FK_ENOMEM, FK_EUNSUPPORTED
 *         (a value that cannot be written, e.g. invalid UTF-8 in a SQL_ASCII
 *         database, or an entity whose file would exceed the 64 MiB that
 *         import accepts: the message names it and its size), FK_ECANCELLED.
 *         On other failures no fixture file has changed.
 */
FK_EXTERN FK_WARN_UNUSED int fk_export(fk_report **out, fk_ctx *ctx, const char *dir,
                                       const fk_export_options *opts);

/**
 * Refreshes the fixture file of one entity (what the audit layer does after
 * each change), updating the manifest. When the entity no longer exists its
 * file and manifest entry are removed if the deletion is recorded (the rule
 * of fk_export()); otherwise both are kept and the call fails with FK_ELOSS.
 * Like fk_export() it moves the manifest's audit anchor only after checking
 * the directory's witness, and records the anchored head there; a chain
 * that no longer holds the anchor or a witnessed head keeps both as they
 * were and fails with FK_ETAMPER (the file is refreshed all the same).
 *
 * @param ctx          open context.
 * @param dir          fixture root directory.
 * @param entity_type  registry type name.
 * @param id           primary key.
 * @param json         NULL to read the entity from the database, or the
 *                     entity's document as JSON supplied by the caller (its
 *                     key order is kept; it is re-indented in the format).
 * @param format       file format.
 * @return FK_OK, FK_ELOSS (it disappeared without a recorded deletion: file
 *         kept), FK_ETAMPER (see above), FK_ENOTFOUND (unknown type),
 *         FK_EPARSE (bad @p json, or its id differs from @p id), FK_EIO,
 *         FK_EDB, FK_ENOMEM, FK_EINVAL.
 */
FK_EXTERN FK_WARN_UNUSED int fk_export_entity(fk_ctx *ctx, const char *dir,
                                              const char *entity_type, int64_t id,
                                              const char *json, fk_format format);

/**
 * fk_export_entity() for many entities at once, as a watcher needs after a
 * burst of changes: one snapshot, one syncfs(), one manifest rewrite. Each
 * entity's file is refreshed, or removed when it no longer exists and its
 * deletion is recorded (the rule of fk_export()); the others that no longer
 * exist keep their files and are FK-LOSS items, and the call returns
 * FK_ELOSS with the report once everything else is written.
 *
 * Report counters: "written", "unchanged", "removed", "lost".
 *
 * @param[out] out      report, or NULL.
 * @param entity_types  n registry type names.
 * @param ids           n primary keys (entity_types[i] goes with ids[i]).
 * @return FK_OK, FK_ELOSS (see above), FK_ENOTFOUND (unknown type), FK_EIO,
 *         FK_EDB, FK_ENOMEM, FK_EINVAL. On failure before any file was
 *         replaced, no file changed.
 */
FK_EXTERN FK_WARN_UNUSED int fk_export_entities(fk_report **out, fk_ctx *ctx, const char *dir,
                                                const char *const *entity_types,
                                                const int64_t *ids, size_t n, fk_format format);

/** Current version of fk_import_options (2 added unknown_keys, 3 key_map). */
#define FK_IMPORT_OPTIONS_VERSION 3

/** Current version of fk_key_map. */
#define FK_KEY_MAP_VERSION 1

/**
 * How documents whose keys no longer match their tables are read
 * (docs/fixture-format.md, "Schema drift"), for fk_import() and
 * fk_entity_restore_mapped(). Without one, a key that names no column and a
 * column with no key refuse the operation (FK_EPARSE, naming the document,
 * the type and the key or column).
 *
 * Each entry is "[TABLE.]..." where TABLE (unquoted, no schema) is the
 * entity's table or one of its child tables; without it the entry applies to
 * every table of every type. Every entry must be used by at least one
 * document, and every column it names must exist: otherwise FK_EINVAL
 * (a typo must not pass), and nothing changes. Every entry given is recorded
 * in the context of the audit rows the operation writes
 * (" --map OLD=NEW --drop-key K --default C", after the usual context).
 */
typedef struct fk_key_map {
    unsigned version;                /**< FK_KEY_MAP_VERSION */
    /** "[TABLE.]OLD=NEW": the documents' key OLD fills column NEW. */
    const char *const *map;
    size_t nmap;
    /** "[TABLE.]KEY": key KEY (naming no column) is ignored, values and all. */
    const char *const *drop_key;
    size_t ndrop_key;
    /** "[TABLE.]COLUMN": documents without a key for COLUMN give it its
     *  DEFAULT (NULL when it has none) rather than being refused. */
    const char *const *default_col;
    size_t ndefault_col;
} fk_key_map;

/** Fills @p map with an empty mapping. @return FK_OK or FK_EINVAL. */
FK_EXTERN int fk_key_map_init(fk_key_map *map, unsigned version);

/** What fk_import() does with a fixture key that names no column of its
 *  table (a column renamed or dropped since the export). */
typedef enum fk_unknown_keys {
    /** Refuse the whole import, naming the file, the key and the likely
     *  cause; nothing changes (the default). */
    FK_UNKNOWN_KEYS_REFUSE = 0,
    /** Import without those values; each such key is reported once per
     *  entity type (warning "unknown_key"). */
    FK_UNKNOWN_KEYS_DROP = 1
} fk_unknown_keys;

/** Flags for fk_import_options.flags. */
typedef enum fk_import_flags {
    /** Do all the work, report it, then roll back: nothing changes. */
    FK_IMPORT_DRY_RUN = 1,
    /** A sub-directory of the root that is no registered type is an error
     *  (default: a warning item). */
    FK_IMPORT_STRICT = 2,
    /** Soft-delete database rows that have no fixture (default: only report
     *  them). Needs a soft-delete column; never hard-deletes. */
    FK_IMPORT_SOFT_DELETE_MISSING = 4,
    /** One report item per entity, "unchanged" ones included (dry runs
     *  always do this). */
    FK_IMPORT_REPORT_ALL = 8
} fk_import_flags;

/** Options for fk_import(); initialise with fk_import_options_init(). */
typedef struct fk_import_options {
    unsigned version;        /**< FK_IMPORT_OPTIONS_VERSION */
    unsigned flags;          /**< fk_import_flags */
    const char *admin_email; /**< fallback author; NULL = the context's */
    fk_progress_fn progress; /**< may be NULL */
    void *progress_data;
    /** Since version 2: keys without a column; default FK_UNKNOWN_KEYS_REFUSE
     *  (also for callers of version 1). */
    fk_unknown_keys unknown_keys;
    /** Since version 3: keys mapped to columns, dropped, or columns given
     *  their default (see fk_key_map); NULL: none. */
    const fk_key_map *key_map;
} fk_import_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL (unknown version). */
FK_EXTERN int fk_import_options_init(fk_import_options *opts, unsigned version);

/**
 * Restores the entities in @p dir into the database, in one transaction: all
 * or nothing.
 *
 * Every file is validated first-to-last as it is read; any malformed or
 * invalid file (bad JSON, not an object, missing or non-integer id, duplicate
 * id, unknown directory with FK_IMPORT_STRICT) refuses the whole import with
 * "path:line:column: reason" in fk_errmsg() and changes nothing. Rows are
 * matched by primary key; ids, timestamps and the soft-delete column are
 * preserved; child rows are replaced so the database equals the fixture;
 * self-references are set after every row of the type exists; sequences are
 * moved past the highest id. A key that names no column, and a column of
 * the table (or of a child table) with no key in a file (other than secret
 * and generated columns, and a child row's id and parent reference), refuse
 * the import (FK_EPARSE, naming the file, the type, the key or column, and
 * the options that would read it) unless opts->key_map says how to read it
 * (fk_key_map) or, for keys, opts->unknown_keys is FK_UNKNOWN_KEYS_DROP
 * (warning "unknown_key"). Secret columns are never written. An author
 * that does not exist becomes the admin user; other dangling nullable
 * references become NULL (reported as warnings). Rows without a fixture are
 * reported ("db_only"), never deleted. Running the same import twice changes
 * nothing the second time.
 *
 * Report counters: "files", "created", "updated", "unchanged", "db_only",
 * "soft_deleted" and "<type>.<counter>". Items: one per created/updated
 * entity (with the changed fields) and per db-only row and warning; every
 * entity with FK_IMPORT_REPORT_ALL or FK_IMPORT_DRY_RUN.
 *
 * @param[out] out  receives the report (may be NULL); NULL on failure.
 * @return FK_OK; FK_EPARSE (bad file, or a key without a column), FK_ENOTFOUND (no admin user when one
 *         is needed; the message says how to create it), FK_EIO, FK_EDB,
 *         FK_ENOMEM, FK_EINVAL, FK_ECANCELLED.
 */
FK_EXTERN FK_WARN_UNUSED int fk_import(fk_report **out, fk_ctx *ctx, const char *dir,
                                       const fk_import_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_FIXTURES_H */
