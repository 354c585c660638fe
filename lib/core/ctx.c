/* A context's connection: one libpq connection with the session settings
 * every module relies on (UTF-8, ISO dates, UTC). fk_open/fk_close, which
 * also resolve and free what the modules above keep on it, are open/open.c. */
#include "ctx_internal.h"
#include "alloc.h"
#include "entry.h"
#include "pgutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SERVER_VERSION 120000

/* libpq prints notices to stderr by default; a library must not. */
static void drop_notice(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

int fk_ctx_options_init(fk_ctx_options *opts, unsigned version)
{
    static const size_t ends[] = {FK__FIELD_END(fk_ctx_options, flags)};
    int rc = FK__OPTIONS_INIT_VERSIONED(opts, version, FK_CTX_OPTIONS_VERSION,
                                        "fk_ctx_options_init", ends);
    if (rc)
        return rc;
    if (version >= 2) {
        opts->lock_timeout_ms = FK_DEFAULT_LOCK_TIMEOUT_MS;
        opts->statement_timeout_ms = FK_DEFAULT_STATEMENT_TIMEOUT_MS;
        opts->connect_timeout_ms = FK_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    return FK_OK;
}

static int copy_opt(char **dst, const char *src, const char *fallback)
{
    const char *v = src && *src ? src : fallback;
    if (!v) {
        *dst = NULL;
        return 0;
    }
    *dst = fk__strdup(v);
    return *dst ? 0 : -1;
}

/* The connection is private to the context, so its settings affect nobody
 * else (pgutil.h says which and why). */
static const char session_setup[] = FK__SESSION_SETTINGS("SET ");

/* Every wait is bounded: without lock_timeout a migration or an idle
 * transaction holding ACCESS EXCLUSIVE on a design table makes doctor or
 * audit verify wait forever. Options older than version 2 get the defaults;
 * 0 keeps whatever the server, role or database sets. */
static int set_timeouts(fk_ctx *ctx, const fk_ctx_options *opts)
{
    int lock = FK_DEFAULT_LOCK_TIMEOUT_MS, stmt = FK_DEFAULT_STATEMENT_TIMEOUT_MS;
    if (opts && opts->version >= 2) {
        lock = opts->lock_timeout_ms;
        stmt = opts->statement_timeout_ms;
    }
    ctx->lock_timeout_ms = lock;
    ctx->statement_timeout_ms = stmt;
    char sql[120] = "";
    if (lock)
        snprintf(sql, sizeof sql, "SET lock_timeout = %d;", lock);
    if (stmt)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " SET statement_timeout = %d",
                 stmt);
    if (!sql[0])
        return FK_OK;
    PGresult *res = PQexec(ctx->conn, sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK
                 ? FK_OK
                 : fk__fail_pg(NULL, FK_EDB, res, "cannot set the session's timeouts");
    PQclear(res);
    return rc;
}

/* libpq's connect_timeout in whole seconds (rounded up; libpq treats 1 as 2).
 * Returns 0 when none is to be passed: disabled by the caller, or
 * PGCONNECT_TIMEOUT set (libpq's convention: the environment is the default
 * beneath an explicit parameter, so passing ours would override it). */
static int connect_timeout_text(const fk_ctx_options *opts, char *out, size_t len)
{
    int ms = opts && opts->version >= 2 ? opts->connect_timeout_ms : FK_DEFAULT_CONNECT_TIMEOUT_MS;
    const char *env = getenv("PGCONNECT_TIMEOUT");
    if (ms == 0 || (env && *env))
        return 0;
    int s = ms / 1000 + (ms % 1000 != 0);
    snprintf(out, len, "%d", s < 2 ? 2 : s);
    return 1;
}

int fk__ctx_connect(fk_ctx **out, const char *conninfo, const fk_ctx_options *opts)
{
    fk__ok(NULL);
    FK__ARG(NULL, "fk_open", out);
    *out = NULL;
    if (fk__options_check(NULL, opts, FK_CTX_OPTIONS_VERSION, "fk_open"))
        return FK_EINVAL;

    if (opts && opts->version >= 2 &&
        (opts->lock_timeout_ms < 0 || opts->statement_timeout_ms < 0 ||
         opts->connect_timeout_ms < 0))
        return fk__fail(NULL, FK_EINVAL, "fk_open: timeouts must not be negative");
    fk_ctx *ctx = fk__calloc(1, sizeof *ctx);
    if (!ctx)
        return fk__oom(NULL);
    int oom = copy_opt(&ctx->schema, opts ? opts->schema : NULL, "fortknox") ||
              copy_opt(&ctx->admin_email, opts ? opts->admin_email : NULL,
                       "admin@acumenus.net") ||
              copy_opt(&ctx->fixture_root, opts ? opts->fixture_root : NULL, NULL) ||
              copy_opt(&ctx->registry_file, opts ? opts->registry_file : NULL, NULL);
    if (oom) {
        fk__ctx_free(ctx);
        return fk__oom(NULL);
    }

    char timeout[16];
    const char *keys[5], *vals[5];
    size_t k = 0;
    /* before "dbname": keywords are applied in order, so the conninfo's own
     * connect_timeout (expanded from dbname) wins over this default */
    if (connect_timeout_text(opts, timeout, sizeof timeout)) {
        keys[k] = "connect_timeout";
        vals[k++] = timeout;
    }
    keys[k] = "dbname";
    vals[k++] = conninfo ? conninfo : "";
    if (opts && opts->application_name) {
        keys[k] = "application_name";
        vals[k++] = opts->application_name;
    }
    /* with no explicit name the conninfo's own wins */
    keys[k] = "fallback_application_name";
    vals[k++] = "libfortknox";
    keys[k] = vals[k] = NULL;
    ctx->conn = PQconnectdbParams(keys, vals, 1);
    if (!ctx->conn) {
        fk__ctx_free(ctx);
        return fk__oom(NULL);
    }
    if (PQstatus(ctx->conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(ctx->conn);
        size_t n = strlen(m);
        while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
            n--;
        int rc = fk__fail(NULL, FK_EDB, "cannot connect to PostgreSQL: %.*s", (int)n, m);
        fk__ctx_free(ctx);
        return rc;
    }
    PQsetNoticeReceiver(ctx->conn, drop_notice, NULL);
    if (PQserverVersion(ctx->conn) < MIN_SERVER_VERSION) {
        int rc = fk__fail(NULL, FK_EDB, "PostgreSQL %d is too old: libfortknox needs 12 or newer",
                          PQserverVersion(ctx->conn));
        fk__ctx_free(ctx);
        return rc;
    }
    PGresult *res = PQexec(ctx->conn, session_setup);
    int rc;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = fk__fail_pg(NULL, FK_EDB, res, "cannot configure the session");
        PQclear(res);
        fk__ctx_free(ctx);
        return rc;
    }
    PQclear(res);
    if ((rc = set_timeouts(ctx, opts))) {
        fk__ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return FK_OK;
}

void fk__ctx_free(fk_ctx *ctx)
{
    if (!ctx)
        return;
    fk__xfree(ctx->install_cache);
    if (ctx->conn)
        PQfinish(ctx->conn);
    fk__xfree(ctx->schema);
    fk__xfree(ctx->fixture_root);
    fk__xfree(ctx->admin_email);
    fk__xfree(ctx->registry_file);
    fk__xfree(ctx);
}

int fk_server_version(const fk_ctx *ctx) { return ctx && ctx->conn ? PQserverVersion(ctx->conn) : 0; }

int fk_exec(fk_ctx *ctx, const char *sql)
{
    FK__BEGIN(ctx, "fk_exec");
    FK__ARG(ctx, "fk_exec", sql);
    PGresult *res = PQexec(ctx->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = FK_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = fk__fail_pg(ctx, FK_EDB, res, "fk_exec");
    PQclear(res);
    return rc;
}
