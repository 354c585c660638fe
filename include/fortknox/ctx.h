/**
 * @file fortknox/ctx.h
 * @brief The context: one PostgreSQL connection, the entity registry and the
 *        last error.
 *
 * A context is not thread-safe: use one per thread (contexts share nothing).
 */
#ifndef FORTKNOX_CTX_H
#define FORTKNOX_CTX_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque connection context. */
typedef struct fk_ctx fk_ctx;

/** Current version of fk_ctx_options; pass it to fk_ctx_options_init(). */
#define FK_CTX_OPTIONS_VERSION 2

/** Flags for fk_ctx_options.flags. */
typedef enum fk_open_flags {
    /**
     * Do not resolve the registry against the database in fk_open(): the
     * first call that needs it does (and reports unknown tables then). For
     * tools that connect to prepare a database before its tables exist.
     */
    FK_OPEN_LAZY_REGISTRY = 1
} fk_open_flags;

/**
 * Options for fk_open(). Initialise with fk_ctx_options_init() (or
 * FK_CTX_OPTIONS_INIT) and then set what you need; fields added in later
 * versions go at the end, so old callers keep working.
 * Strings are copied by fk_open(); the caller keeps ownership.
 */
typedef struct fk_ctx_options {
    unsigned version;          /**< FK_CTX_OPTIONS_VERSION */
    const char *registry_file; /**< JSON registry file; NULL = built-in Parthenon registry */
    const char *schema;        /**< schema for libfortknox's own objects; NULL = "fortknox" */
    const char *fixture_root;  /**< fixture directory used by the audit layer; NULL = none */
    const char *admin_email;   /**< fallback author; NULL = "admin@acumenus.net" */
    const char *application_name; /**< libpq application_name; NULL = "libfortknox" */
    unsigned flags;            /**< fk_open_flags, OR-ed */
    /* version 2 */
    /**
     * Longest wait for a lock, per statement, in milliseconds (the session's
     * lock_timeout): a migration or an idle transaction holding a design
     * table makes a call fail with FK_EDB naming the locked relation and the
     * session holding it, instead of waiting forever. Default
     * FK_DEFAULT_LOCK_TIMEOUT_MS; 0 leaves the server's setting (PostgreSQL's
     * own default waits forever). Negative: FK_EINVAL.
     */
    int lock_timeout_ms;
    /**
     * Longest run of one statement, in milliseconds (statement_timeout);
     * exports and imports run many short statements, so this bounds a hung
     * query without limiting how long a whole call takes. Default
     * FK_DEFAULT_STATEMENT_TIMEOUT_MS; 0 leaves the server's setting.
     */
    int statement_timeout_ms;
    /**
     * Longest wait for the connection itself, in milliseconds (libpq's
     * connect_timeout, which counts whole seconds: the value is rounded up
     * to seconds, and libpq waits at least 2 s). Backend start-up can block
     * on a lock on the system catalogs; without a bound fk_open() would wait
     * forever. A connect_timeout in @p conninfo wins, then the
     * PGCONNECT_TIMEOUT environment variable, then this. Default
     * FK_DEFAULT_CONNECT_TIMEOUT_MS; 0 leaves libpq's default (no limit).
     * Negative: FK_EINVAL.
     */
    int connect_timeout_ms;
} fk_ctx_options;

/** Default fk_ctx_options.lock_timeout_ms: 10 seconds. */
#define FK_DEFAULT_LOCK_TIMEOUT_MS 10000
/** Default fk_ctx_options.statement_timeout_ms: 10 minutes. */
#define FK_DEFAULT_STATEMENT_TIMEOUT_MS 600000
/** Default fk_ctx_options.connect_timeout_ms: 10 seconds. */
#define FK_DEFAULT_CONNECT_TIMEOUT_MS 10000

/* clang-format off */
#define FK_CTX_OPTIONS_INIT {FK_CTX_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, FK_DEFAULT_LOCK_TIMEOUT_MS, FK_DEFAULT_STATEMENT_TIMEOUT_MS, FK_DEFAULT_CONNECT_TIMEOUT_MS}
/* clang-format on */

/**
 * Fills @p opts with defaults for structure version @p version.
 * @return FK_OK, or FK_EINVAL when @p opts is NULL or @p version is unknown.
 */
FK_EXTERN int fk_ctx_options_init(fk_ctx_options *opts, unsigned version);

/**
 * Opens a context.
 *
 * @param[out] out      receives the new context (caller owns; fk_close()).
 *                      Set to NULL on failure.
 * @param conninfo      libpq connection string or URI; NULL or "" uses libpq's
 *                      PG* environment variables and defaults.
 * @param opts          options, or NULL for all defaults.
 * The registry (opts->registry_file, else the built-in Parthenon one) is
 * loaded and checked against the database's catalog here, unless
 * FK_OPEN_LAZY_REGISTRY is set. A registered table or column the database
 * lacks (dropped, renamed, moved, retyped) does not fail fk_open(): it makes
 * its entity type damaged, calls that need that type fail with FK_ENOTFOUND
 * naming it, and fk_doctor() reports it (FK-SCHEMA).
 * The session gets lock_timeout and statement_timeout from the options (see
 * fk_ctx_options); they stay on the connection for as long as it is open.
 * Connecting is bounded too (fk_ctx_options.connect_timeout_ms): a session
 * holding a lock on the system catalogs makes fk_open() fail with FK_EDB.
 *
 * @return FK_OK; FK_EINVAL (bad options), FK_EDB (cannot connect or the
 *         server is older than PostgreSQL 12), FK_ENOMEM, or a registry error:
 *         FK_EPARSE (malformed registry file, with line:column or the key),
 *         FK_EIO (unreadable file). On failure the message is in fk_errmsg(NULL) for the
 *         calling thread; a password is never part of it.
 */
FK_EXTERN FK_WARN_UNUSED int fk_open(fk_ctx **out, const char *conninfo,
                                     const fk_ctx_options *opts);

/** Closes the connection and frees the context. NULL is harmless. */
FK_EXTERN void fk_close(fk_ctx *ctx);

/**
 * Message for the last failure on @p ctx ("" when the last call succeeded or
 * nothing failed yet). With @p ctx == NULL: the last failure of any call made
 * by the calling thread (that is how fk_open() failures are read).
 * Never NULL. Owned by the library; valid until the next call on the same
 * context (or, for NULL, by the same thread).
 */
FK_EXTERN const char *fk_errmsg(const fk_ctx *ctx);

/** Status code of the last failure on @p ctx (FK_OK if none); NULL = thread's. */
FK_EXTERN int fk_errcode(const fk_ctx *ctx);

/**
 * Version of the connected server as PostgreSQL's integer (150018 for 15.18),
 * or 0 when @p ctx is NULL.
 */
FK_EXTERN int fk_server_version(const fk_ctx *ctx);

/**
 * Runs one SQL command string (which may hold several statements) on the
 * context's connection and discards any rows. For scripts and tests that need
 * to prepare a database; library calls never need it.
 * @return FK_OK or FK_EDB (message in fk_errmsg(ctx)); FK_EINVAL for NULLs.
 */
FK_EXTERN FK_WARN_UNUSED int fk_exec(fk_ctx *ctx, const char *sql);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_CTX_H */
