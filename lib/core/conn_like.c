/* A second connection to the server and database of an open one: the lock
 * diagnosis reads pg_locks over it, audit verify streams half the chain
 * over it. */
#include "pgutil.h"
#include "alloc.h"

#include <string.h>

/* Keywords fk__pg_connect_like() sets itself rather than copying. */
static int own_keyword(const char *k)
{
    return strcmp(k, "application_name") == 0 || strcmp(k, "connect_timeout") == 0;
}

PGconn *fk__pg_connect_like(PGconn *conn, const char *application_name,
                            const char *connect_timeout)
{
    PQconninfoOption *opts = PQconninfo(conn);
    if (!opts)
        return NULL;
    size_t n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n++;
    const char **keys = fk__calloc(n + 3, sizeof *keys), **vals = fk__calloc(n + 3, sizeof *vals);
    PGconn *c = NULL;
    if (keys && vals) {
        size_t k = 0;
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->val && *o->val && !own_keyword(o->keyword)) {
                keys[k] = o->keyword;
                vals[k++] = o->val;
            }
        keys[k] = "application_name";
        vals[k++] = application_name;
        keys[k] = "connect_timeout";
        vals[k] = connect_timeout;
        c = PQconnectdbParams(keys, vals, 0);
    }
    fk__xfree(keys);
    fk__xfree(vals);
    PQconninfoFree(opts);
    return c;
}
