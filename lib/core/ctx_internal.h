/* The context's private layout and the error-recording helpers every module
 * uses. Only library sources include this. */
#ifndef FK_CORE_CTX_INTERNAL_H
#define FK_CORE_CTX_INTERNAL_H

#include "fortknox/ctx.h"
#include <libpq-fe.h>
#include <stdarg.h>

struct fk__registry;
struct fk__audit_tracker;
struct fk__install_info;

struct fk_ctx {
    PGconn *conn;
    int errcode;
    char errmsg[1024];        /* "" when none; fixed so recording an error never allocates */
    char *schema;             /* fortknox's own schema, unquoted */
    char *fixture_root;       /* may be NULL */
    char *admin_email;
    char *registry_file;      /* may be NULL */
    struct fk__registry *registry; /* see fk__ctx_registry() */
    struct fk__audit_tracker *audit_tracker; /* fk_audit_before()'s (audit_tracker.h) */
    struct fk__install_info *install_cache;  /* what is installed, once found (installed.h) */
    int audit_prepared;       /* the audit insert is prepared on this connection */
    int lock_timeout_ms;      /* as set on the session, 0 = the server's (for messages) */
    int statement_timeout_ms;
};

/* fk_open() without what the modules above core add (open/open.c): the
 * connection and its session settings. On failure *out stays NULL and the
 * thread's error slot says why. */
int fk__ctx_connect(fk_ctx **out, const char *conninfo, const fk_ctx_options *opts);

/* Frees what core owns: the connection, the copied options, the context
 * itself. The modules' own state must already be freed (fk_close). */
void fk__ctx_free(fk_ctx *ctx);

/* Records a failure on ctx (may be NULL: then only the thread's slot) and
 * returns code, so call sites read `return fk__fail(ctx, FK_EINVAL, ...)`. */
int fk__fail(fk_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int fk__vfail(fk_ctx *ctx, int code, const char *fmt, va_list ap);

/* Failure from the server: adds libpq's primary message (and the SQLSTATE
 * when it is a fortknox guard) after the caller's "what" prefix. Picks
 * FK_EGUARD for guard errors, else the given code. */
int fk__fail_pg(fk_ctx *ctx, int code, const PGresult *res, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* After a lock timeout (SQLSTATE 55P03): which relations other sessions
 * hold locked, and who they are ("app.x is locked (AccessExclusiveLock) by
 * pid 42 (application_name "psql", ...)"), read over a second connection;
 * never fails, at worst says it could not tell. context: the error's
 * CONTEXT field (PG_DIAG_CONTEXT) or NULL; a row lock it names restricts who
 * is named, other holders are listed only as "possibly". */
void fk__lock_holders(PGconn *conn, const char *context, char *out, size_t len);

/* Clears the context's error at the start of a public call. */
void fk__ok(fk_ctx *ctx);

#endif
