/**
 * @file fortknox/install.h
 * @brief Installing libfortknox's database objects: the immutable audit log
 *        (layer 2), optional capture triggers, and the guards (layer 1).
 */
#ifndef FORTKNOX_INSTALL_H
#define FORTKNOX_INSTALL_H

#include "ctx.h"
#include "report.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Who writes audit rows. Chosen per install; the two never both log. */
typedef enum fk_audit_mode {
    /** The application calls fk_audit_write() (e.g. from ORM hooks). */
    FK_AUDIT_APP = 0,
    /**
     * Row triggers on every registered table write the audit rows in the
     * same transaction, so raw SQL and mass updates are audited too. The
     * application passes its actor with `SET LOCAL fortknox.actor_id`,
     * `fortknox.actor_email` and `fortknox.ip` (see docs/audit.md);
     * fk_audit_write() is then refused with FK_ECONFLICT.
     */
    FK_AUDIT_CAPTURE = 1
} fk_audit_mode;

/** Flags for fk_install_options.flags. */
typedef enum fk_install_flags {
    /** Put the audit table in the application's schema as Parthenon's
     *  `design_audit_log` (same column names, plus the hash-chain columns). */
    FK_INSTALL_PARTHENON_TABLE = 1,
    /** Do not install the hard-delete and truncate guards (not recommended). */
    FK_INSTALL_NO_GUARDS = 2,
    /** Add the soft-delete column (`deleted_at timestamp(0)`) to registered
     *  tables whose registry entry names one that does not exist yet. */
    FK_INSTALL_ADD_SOFT_DELETE = 4
} fk_install_flags;

/** Current version of fk_install_options. */
#define FK_INSTALL_OPTIONS_VERSION 1

/** Options for fk_install(); initialise with fk_install_options_init(). */
typedef struct fk_install_options {
    unsigned version;       /**< FK_INSTALL_OPTIONS_VERSION */
    fk_audit_mode mode;     /**< default FK_AUDIT_APP */
    unsigned flags;         /**< fk_install_flags */
    const char *app_role;   /**< role that gets INSERT and SELECT on the audit
                                 table and nothing else; NULL = none */
} fk_install_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL. */
FK_EXTERN int fk_install_options_init(fk_install_options *opts, unsigned version);

/**
 * Creates or upgrades libfortknox's objects, in one transaction: the
 * schema named by the context (default "fortknox") with its version record,
 * the audit table (INSERT-only: UPDATE, DELETE and TRUNCATE raise; each row
 * hash-chained to the previous one inside the database), the guards on every
 * registered table, and with FK_AUDIT_CAPTURE the capture triggers, every
 * trigger ENABLE ALWAYS (no session_replication_role switches it off). As a
 * PostgreSQL superuser also the DDL guard (event triggers; docs/recovery.md);
 * without one, everything else is installed and the report has a warning item
 * "ddl_guard_missing" naming what is not blocked.
 *
 * Idempotent: on a database installed by this version with the same options
 * and registry it changes nothing (counter "changed" = 0). An older install is
 * upgraded in the same transaction; other options are applied.
 *
 * Report counters: "schema_version", "changed", "guarded_tables",
 * "capture_tables", "ddl_guard" (1 when the DDL guard is in place).
 *
 * @param[out] out  report, or NULL.
 * @return FK_OK; FK_EDB (e.g. insufficient privileges), FK_ECONFLICT (the
 *         database was installed by a newer libfortknox), FK_ENOTFOUND
 *         (app_role does not exist), FK_EINVAL, FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_install(fk_report **out, fk_ctx *ctx,
                                        const fk_install_options *opts);

/** Schema version this library installs (for comparing with an install). */
FK_EXTERN int fk_install_schema_version(void);

/**
 * What is installed, as JSON: `{"installed": true, "schema_version": 1,
 * "mode": "capture", "audit_table": "fortknox.audit_log", ...}` or
 * `{"installed": false}`.
 * @param[out] out  fk_free() it.
 */
FK_EXTERN FK_WARN_UNUSED int fk_install_status(char **out, fk_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_INSTALL_H */
