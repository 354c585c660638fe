/**
 * @file fortknox/recovery.h
 * @brief Proving the layers work: verify (database vs fixtures), drill
 *        (a restore rehearsed without touching live rows) and doctor (loss
 *        and risk detection).
 */
#ifndef FORTKNOX_RECOVERY_H
#define FORTKNOX_RECOVERY_H

#include <stdint.h>
#include "ctx.h"
#include "fixtures.h"
#include "report.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Current version of fk_verify_options. */
#define FK_VERIFY_OPTIONS_VERSION 1

/** Options for fk_verify() and fk_drill(). */
typedef struct fk_verify_options {
    unsigned version;        /**< FK_VERIFY_OPTIONS_VERSION */
    unsigned flags;          /**< reserved, 0 */
    fk_progress_fn progress; /**< may be NULL */
    void *progress_data;
} fk_verify_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL. */
FK_EXTERN int fk_verify_options_init(fk_verify_options *opts, unsigned version);

/**
 * Compares the database with a fixture directory, entity by entity and
 * semantically (JSON values, not bytes: column values by value, json/jsonb
 * values and child rows as jsonb stores them, so key order does not matter
 * but `0.10` is not `0.1` there), children included; and the manifest's
 * SHA-256 with the files.
 * It judges what an import of each file would write: every key of the file
 * and of the database's document is compared, so a missing key (which the
 * import refuses, or fills with the column's default when asked to) or a key
 * without a column differs, and so does a
 * JSON null in a json/jsonb column that the manifest does not list.
 *
 * Items (codes): "differs" (fields = the differing keys), "db_only",
 * "fixture_only", "file_edited", "file_missing", "manifest_unreadable";
 * "FK-TAMPER" and "FK-WITNESS-UNRECORDED" from the witness: verify checks
 * the directory's fortknox-witness against the audit chain first and then
 * records the head it saw (docs/fixture-format.md).
 * Counters: "identical", "differs", "db_only", "fixture_only",
 * "file_edited", "file_missing", "entities".
 *
 * The report's "ok" is the answer to "is this directory a faithful,
 * restorable copy of the database?".
 *
 * @return FK_OK (identical), FK_EVERIFY (differences: see the report, which
 *         is returned in this case too), FK_ETAMPER (the audit chain no
 *         longer holds a head the witness saw, or the witness was edited;
 *         the report is returned too), FK_EPARSE (a fixture cannot be
 *         read: path:line:column), FK_EIO (also: the witness cannot be
 *         read), FK_EDB, FK_ENOMEM, FK_EINVAL.
 */
FK_EXTERN int fk_verify(fk_report **out, fk_ctx *ctx, const char *dir,
                        const fk_verify_options *opts);

/**
 * Restores @p dir into a scratch copy of the design tables and compares the
 * result with the files, entity by entity — without modifying a single live
 * row. The copy lives in a temporary schema ("fortknox_drill_<pid>") created
 * inside one transaction that is always rolled back, so nothing remains even
 * if the process dies; live tables are only read (no locks beyond ACCESS
 * SHARE on them, so concurrent reads and writes proceed).
 *
 * A file without a key for some column (which fk_import refuses unless
 * that column's default is asked for) is rehearsed with the default and
 * "differs": it does not restore exactly.
 *
 * Counters: "entities", "restored", "identical", "differs", "elapsed_ms".
 *
 * @return FK_OK (the fixtures restore exactly), FK_EVERIFY (they do not:
 *         see the report), FK_EPARSE (a fixture cannot be read, or has a
 *         key that names no column: the import it rehearses would refuse
 *         it), FK_EDB, FK_EIO, FK_ENOMEM, FK_EINVAL.
 */
FK_EXTERN int fk_drill(fk_report **out, fk_ctx *ctx, const char *dir,
                       const fk_verify_options *opts);

/** Current version of fk_doctor_options. */
#define FK_DOCTOR_OPTIONS_VERSION 2

/** Options for fk_doctor(). Zero values take the defaults shown. */
typedef struct fk_doctor_options {
    unsigned version;             /**< FK_DOCTOR_OPTIONS_VERSION */
    const char *fixture_dir;      /**< the fixture directory (manifest), or NULL */
    const char *backup_dir;       /**< directory of backup files (e.g. *.sql.gz), or NULL */
    double drop_warn_ratio;       /**< warn when a table has lost more than this share of the
                                       rows the manifest counted; default 0.2 */
    int64_t max_export_age_s;     /**< warn when the last export is older; default 7 days */
    int64_t max_backup_age_s;     /**< warn when the newest backup is older; default 26 hours */
    double backup_shrink_ratio;   /**< warn when a backup is smaller than the previous one by
                                       more than this share; default 0.2 */
    /* version 2: FK-MASS-CHANGE */
    double mass_change_ratio;     /**< an error when one transaction blanked a field in,
                                       soft-deleted, force-deleted or rewrote more than this
                                       share of an entity type's entities; default 0.2 */
    int64_t mass_change_min;      /**< ... and at least this many entities; default 10 */
    int64_t mass_change_window_s; /**< only audit rows this recent count; default 7 days (an
                                       incident older than that stops failing doctor) */
    const int64_t *accept_mass_change; /**< transaction ids whose mass change is accepted:
                                       reported as info, not an error; an id that matches no
                                       mass change in the window is a warning */
    size_t naccept_mass_change;   /**< entries in accept_mass_change */
    /** Called after every check (operation "doctor", entity_type = the
     *  check's first finding code, done/total = checks); may be NULL. A
     *  non-zero return stops doctor: FK_ECANCELLED, nothing recorded. */
    fk_progress_fn progress;
    void *progress_data;
} fk_doctor_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL. */
FK_EXTERN int fk_doctor_options_init(fk_doctor_options *opts, unsigned version);

/**
 * Looks for silent loss and for what makes loss possible. Each finding is a
 * report item with a severity, a stable code, a message and a fix hint:
 *
 *  - FK-LOSS (error): an entity the manifest lists, or whose audit history
 *    does not end in "deleted"/"force_deleted", is missing from the database;
 *  - FK-DROP (warning): a table has far fewer rows than the manifest counted;
 *  - FK-CASCADE (warning): an ON DELETE CASCADE foreign key from a table that
 *    is not a design table into a design table;
 *  - FK-NO-SOFT-DELETE (warning): a registered table without its soft-delete
 *    column;
 *  - FK-GUARD-MISSING / FK-GUARD-DISABLED (error): a guard trigger missing,
 *    disabled or not ENABLE ALWAYS; FK-AUDIT-TRIGGER (error): an immutability,
 *    chain, chain-head or capture trigger (child tables' too) missing,
 *    disabled or replica-only, or a foreign trigger on the audit log;
 *  - FK-TRIGGER-ALTERED (error): a library trigger calling another function,
 *    on other events, with a WHEN clause or other arguments;
 *  - FK-FUNCTION (error): a function of the fortknox schema differs from
 *    what this library installs (body, SECURITY DEFINER, settings), is
 *    missing, or was not installed by it;
 *  - FK-RULE (error): a rule on a protected table or the audit log, or
 *    row-level security on the audit log (a warning on a design table);
 *  - FK-NO-DDL-GUARD (error): one of the DDL guard's event triggers missing
 *    (installed without a superuser), replaced, disabled or not ENABLE
 *    ALWAYS;
 *  - FK-META (error): the install record disagrees with the catalog, or
 *    the override role is missing or can log in;
 *  - FK-UNTRACED (error, with a fixture directory): an entity changed since
 *    the export without an audit row after the manifest's anchor;
 *  - FK-NOT-INSTALLED (error): libfortknox is not installed in this database
 *    and schema, or only half (install record, audit table or chain head
 *    missing): a wrong database or schema must not pass;
 *  - FK-SCHEMA (error): a registered table or column is missing (dropped,
 *    renamed, moved) or unusable (retyped), naming the entities it held; with
 *    a fixture directory also a column the files have and the table lost, or
 *    whose type no longer fits the files' values (a missing users table: a
 *    warning). The other checks still run for the intact types;
 *  - FK-AUDIT-PRIVILEGES (error): the application role may do more than
 *    SELECT on the audit table (it writes through app_write()), or is a
 *    member of the override role;
 *  - FK-SETTING (error / warning): a fortknox.* value stored for a role or
 *    database (ALTER ROLE/DATABASE ... SET) or in the server's
 *    configuration: an override or quiet context there is an error (it no
 *    longer works, but somebody tried), anything else a warning;
 *  - FK-TAMPER (error): the audit chain is broken; with a fixture
 *    directory also: a head its witness (fortknox-witness) saw is no longer
 *    in the chain, or the witness was edited (docs/fixture-format.md);
 *  - FK-UNSEALED (warning): audit rows doctor could not seal (a standby,
 *    a read-only or unprivileged session), the oldest written over an hour
 *    ago: nothing seals on the primary (docs/audit.md, "Sealing");
 *  - FK-WITNESS-UNRECORDED (warning): the head doctor saw could not be
 *    recorded in the witness (a read-only directory); it was still checked;
 *  - FK-MASS-CHANGE (error): within the window, one transaction (the audit
 *    log's transaction_id) blanked a field in (null, "", {} or [] where it
 *    was set), soft-deleted, force-deleted or rewrote more than
 *    mass_change_ratio (and at least mass_change_min) of an entity type's
 *    entities; the message names the transaction, its actors, its time and
 *    the count, the hint the `restore --all --as-of` time just before it.
 *    Imports and restores do not count; accepted transactions are info;
 *  - FK-STALE-EXPORT (warning): the last export is old, or changes were
 *    audited after it;
 *  - FK-MANIFEST (error): fixture files edited or missing since the export;
 *  - FK-BACKUP-IDENTICAL, FK-BACKUP-STALE, FK-BACKUP-SHRINK,
 *    FK-BACKUP-NONE (warning/error): suspicious backup files.
 *
 * With a fixture directory, doctor checks its witness first and, once
 * every check ran and none found tampering, records the chain head it saw.
 *
 * @return FK_OK when there is no error finding, FK_EVERIFY when there is
 *         (the report is returned in both cases), FK_EDB (a check could not
 *         run, e.g. a lock was not granted within the session's lock_timeout:
 *         no report, nothing is reported as passed), FK_EIO (also: the
 *         witness cannot be read), FK_ENOMEM, FK_EINVAL.
 */
FK_EXTERN int fk_doctor(fk_report **out, fk_ctx *ctx, const fk_doctor_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_RECOVERY_H */
