#include <string.h>

#include "import_internal.h"

int fk__import_server_error(fk__import *im, const fk__etype *e, const PGresult *res,
                            const char *path)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
    /* not-null violation on a column that falls back to the admin: the
     * admin is what is missing */
    if (state && strcmp(state, "23502") == 0 && column && !im->admin_id[0] && e->author >= 0 &&
        strcmp(column, e->t.cols[e->author].name) == 0)
        return fk__fail(im->ctx, FK_ENOTFOUND,
                        "%s: its author does not exist and the fallback admin user %s is "
                        "missing; create it first (for example INSERT INTO %s (name, email, "
                        "password) VALUES ('Admin', '%s', '<bcrypt hash>')) or name another "
                        "admin email; nothing was imported",
                        path, im->admin_email, im->reg->users.quoted ? im->reg->users.quoted : "users",
                        im->admin_email);
    return fk__fail_pg(im->ctx, FK_EDB, res, "%s: refused by the database", path);
}
