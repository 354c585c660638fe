/* Connecting: one place decides where to connect and with which options, so
 * every command behaves the same. The conninfo is never printed (it may hold
 * a password); messages come from fk_errmsg(), which never contains one. */
#include "cli.h"

#include <stdlib.h>

const char *cli_conninfo(const cli *c)
{
    if (c->db)
        return c->db;
    const char *env = getenv("FORTKNOX_DB");
    return env ? env : ""; /* "": libpq's PG* variables and defaults */
}

int cli_open(cli *c, fk_ctx **ctx, unsigned flags, cli_result *r)
{
    fk_ctx_options o;
    fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION);
    o.registry_file = c->registry;
    o.schema = c->schema;
    o.application_name = "fortknox";
    o.flags = flags;
    int rc = fk_open(ctx, cli_conninfo(c), &o);
    if (rc != FK_OK)
        cli_fail(r, rc, NULL);
    return rc;
}
