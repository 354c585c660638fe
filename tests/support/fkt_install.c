/* The set-up most database tests share: a context on a database with
 * libfortknox installed (fkt.h). Its own object file: only the tests that
 * call it link it, and with it the library they already use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>

#include "fkt.h"

fk_ctx *fkt_open_installed(const char *db, int capture, const char *app_role)
{
    return fkt_open_installed_registry(db, capture, app_role, NULL);
}

fk_ctx *fkt_open_installed_registry(const char *db, int capture, const char *app_role,
                                    const char *registry)
{
    fk_ctx_options co;
    fk_ctx_options_init(&co, FK_CTX_OPTIONS_VERSION);
    co.registry_file = registry;
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, &co) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = capture ? FK_AUDIT_CAPTURE : FK_AUDIT_APP;
    o.app_role = app_role;
    if (fk_install(NULL, ctx, &o) != FK_OK)
        fail_msg("fk_install: %s", fk_errmsg(ctx));
    return ctx;
}

char *fkt_installed_db(fkt_pg *pg, int capture, const char *app_role)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    if (!db)
        fail_msg("could not create a seeded database");
    fk_close(fkt_open_installed(db, capture, app_role));
    return db;
}
