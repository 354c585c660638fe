/* Status codes and the two places a failure message lives: the context that
 * failed and the calling thread (for failures with no context yet). */
#include "ctx_internal.h"
#include "sql_names.h"
#include "alloc.h"
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} status_table[] = {
    {FK_OK, "FK_OK", "success"},
    {FK_EINVAL, "FK_EINVAL", "invalid argument"},
    {FK_ENOMEM, "FK_ENOMEM", "out of memory"},
    {FK_EDB, "FK_EDB", "database error"},
    {FK_EIO, "FK_EIO", "input/output error"},
    {FK_EPARSE, "FK_EPARSE", "malformed input"},
    {FK_ENOTFOUND, "FK_ENOTFOUND", "not found"},
    {FK_ECONFLICT, "FK_ECONFLICT", "conflict with existing state"},
    {FK_EVERIFY, "FK_EVERIFY", "verification failed"},
    {FK_ETAMPER, "FK_ETAMPER", "tampering detected"},
    {FK_EGUARD, "FK_EGUARD", "blocked by a fortknox guard"},
    {FK_EUNSUPPORTED, "FK_EUNSUPPORTED", "not supported"},
    {FK_ECANCELLED, "FK_ECANCELLED", "cancelled"},
    {FK_ELOSS, "FK_ELOSS", "entities disappeared without a recorded deletion"},
};

const char *fk_strerror(int code)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == code)
            return status_table[i].text;
    return "unknown error";
}

const char *fk_status_name(int code)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == code)
            return status_table[i].name;
    return "FK_EUNKNOWN";
}

/* A fixed thread-local buffer: recording an out-of-memory failure must not
 * itself need memory. */
static _Thread_local char thread_msg[1024];
static _Thread_local int thread_code;

int fk__vfail(fk_ctx *ctx, int code, const char *fmt, va_list ap)
{
    vsnprintf(thread_msg, sizeof thread_msg, fmt, ap);
    thread_code = code;
    if (ctx) {
        memcpy(ctx->errmsg, thread_msg, sizeof ctx->errmsg);
        ctx->errcode = code;
    }
    return code;
}

int fk__fail(fk_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fk__vfail(ctx, code, fmt, ap);
    va_end(ap);
    return code;
}

int fk__fail_pg(fk_ctx *ctx, int code, const PGresult *res, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    if (!primary && ctx && ctx->conn)
        primary = PQerrorMessage(ctx->conn);
    if (!primary || !*primary)
        primary = "unknown server error";
    if (sqlstate && strcmp(sqlstate, FK__GUARD_SQLSTATE) == 0)
        code = FK_EGUARD;
    else if (sqlstate && strcmp(sqlstate, FK__TAMPER_SQLSTATE) == 0)
        code = FK_ETAMPER;

    char holders[900] = "";
    if (sqlstate && strcmp(sqlstate, "55P03") == 0 && ctx) {
        const char *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
        char who[600], where[200] = "";
        fk__lock_holders(ctx->conn, context, who, sizeof who);
        if (context) /* its first line: what was waited for */
            snprintf(where, sizeof where, " (context: %.*s)",
                     (int)strcspn(context, "\n"), context);
        snprintf(holders, sizeof holders, "%s: %s", where, who);
    }

    size_t n = strlen(primary);
    while (n && (primary[n - 1] == '\n' || primary[n - 1] == ' '))
        n--; /* libpq messages end in a newline */
    return fk__fail(ctx, code, "%s: %.*s [%s]%s%s%s%s%s", what, (int)n, primary,
                    sqlstate ? sqlstate : "no SQLSTATE", holders, hint ? " (hint: " : "",
                    hint ? hint : "", hint ? ")" : "",
                    ctx && ctx->conn && PQstatus(ctx->conn) == CONNECTION_BAD
                        ? " (connection lost)" : "");
}

void fk__ok(fk_ctx *ctx)
{
    thread_code = FK_OK;
    thread_msg[0] = '\0';
    if (ctx) {
        ctx->errcode = FK_OK;
        ctx->errmsg[0] = '\0';
    }
}

const char *fk_errmsg(const fk_ctx *ctx)
{
    return ctx ? ctx->errmsg : thread_msg;
}

int fk_errcode(const fk_ctx *ctx) { return ctx ? ctx->errcode : thread_code; }

