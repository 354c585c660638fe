/* Connecting: one place decides where to connect and with which options, so
 * every command behaves the same. The conninfo is never printed (it may hold
 * a password); messages come from fk_errmsg(), which never contains one. */
#include "cli.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* An environment variable, or the older name it replaces (with a warning
 * once: the CLI and the PHP binding now share one set of names). */
static const char *env_or_old(const char *name, const char *old, int *warned)
{
    const char *v = getenv(name), *o = getenv(old);
    if (o && !*warned) {
        *warned = 1;
        if (v)
            fprintf(stderr, "fortknox: warning: %s is deprecated and ignored: %s is set\n", old,
                    name);
        else
            fprintf(stderr, "fortknox: warning: %s is deprecated, use %s (same value)\n", old,
                    name);
    }
    return v ? v : o;
}

const char *cli_conninfo(const cli *c)
{
    static int warned;
    if (c->db)
        return c->db;
    const char *env = env_or_old("FORTKNOX_DB", "FORTKNOX_DSN", &warned);
    return env ? env : ""; /* "": libpq's PG* variables and defaults */
}

const char *cli_registry(const cli *c)
{
    if (c->registry)
        return c->registry;
    const char *env = getenv("FORTKNOX_REGISTRY");
    return env && *env ? env : NULL;
}

int cli_open(cli *c, fk_ctx **ctx, unsigned flags, cli_result *r)
{
    fk_ctx_options o;
    fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION);
    o.registry_file = cli_registry(c);
    o.schema = c->schema;
    o.application_name = "fortknox";
    o.flags = flags;
    if (c->lock_timeout_ms >= 0)
        o.lock_timeout_ms = c->lock_timeout_ms;
    if (c->statement_timeout_ms >= 0)
        o.statement_timeout_ms = c->statement_timeout_ms;
    if (c->connect_timeout_ms >= 0)
        o.connect_timeout_ms = c->connect_timeout_ms;
    int rc = fk_open(ctx, cli_conninfo(c), &o);
    if (rc != FK_OK)
        cli_fail(r, rc, NULL);
    return rc;
}

char *cli_conninfo_redacted(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    if (!opts)
        return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    int first = 1;
    for (PQconninfoOption *o = opts; f && o->keyword; o++) {
        if (!o->val || strcmp(o->keyword, "password") == 0)
            continue;
        fprintf(f, "%s%s='", first ? "" : " ", o->keyword);
        for (const char *p = o->val; *p; p++) {
            if (*p == '\'' || *p == '\\')
                fputc('\\', f);
            fputc(*p, f);
        }
        fputc('\'', f);
        first = 0;
    }
    if (f)
        fclose(f);
    PQconninfoFree(opts);
    return out;
}
