/* The importer's audit rows (layer 2): one per entity that changed, written
 * in one statement per batch, each holding the entity as it now is. */
#include <inttypes.h>
#include <stdio.h>

#include "../layer2_audit/audit_internal.h"
#include "buf.h"
#include "import_internal.h"
#include "pgutil.h"
#include "sql_quote.h"

int fk__import_audit_begin(fk__import *im)
{
    fk__install_info info;
    int rc = fk__install_info_read(im->ctx, &info);
    im->audit = rc == FK_OK && info.installed;
    if (im->audit) {
        snprintf(im->audit_q, sizeof im->audit_q, "%s", info.audit_q);
        snprintf(im->schema_q, sizeof im->schema_q, "%s", info.schema_q);
    }
    return rc;
}

/* int8[] literal for the unnest below. */
static void int8_array(fk__buf *b, const int64_t *ids, size_t n)
{
    fk__buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            fk__buf_putc(b, ',');
        fk__buf_printf(b, "%" PRId64, ids[i]);
    }
    fk__buf_putc(b, '}');
}

static const char *nth_text(const void *ud, size_t i) { return ((const char *const *)ud)[i]; }

int fk__import_audit(fk__import *im, const fk__etype *e, const int64_t *ids,
                     const char *const *actions, size_t n)
{
    fk__buf sql = FK__BUF_INIT, idl = FK__BUF_INIT, actl = FK__BUF_INIT;
    const char *A = im->audit_q, *S = im->schema_q;
    fk__buf_printf(&sql,
                   "INSERT INTO %s (entity_type, entity_id, entity_name, action, actor_id,"
                   " actor_email, old_json, new_json, ip_address, context)"
                   " SELECT $1::text, x.id, coalesce(z.d ->> $4::text, ''), x.act, %s.actor_id(),"
                   " left(%s.setting('fortknox.actor_email'), 255),"
                   " (SELECT a.new_json FROM %s a WHERE a.entity_type = $1::text AND"
                   " a.entity_id = x.id ORDER BY a.id DESC LIMIT 1), z.d,"
                   " left(%s.setting('fortknox.ip'), 45), %s.setting('fortknox.context')"
                   " FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS x(id, act, ord),"
                   " LATERAL (SELECT %s.entity_doc($1::text, x.id, NULL) AS d) z ORDER BY x.ord",
                   A, S, S, A, S, S, S);
    int8_array(&idl, ids, n);
    fk__sql_put_text_array(&actl, n, nth_text, actions);
    int rc;
    if (fk__buf_failed(&sql) || fk__buf_failed(&idl) || fk__buf_failed(&actl)) {
        rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    } else {
        const char *p[4] = {e->name, fk__buf_cstr(&idl), fk__buf_cstr(&actl),
                            e->t.cols[e->name_col].name};
        PGresult *res;
        rc = fk__pg_query(im->ctx, &res, fk__buf_cstr(&sql), 4, p, "auditing the import");
        if (rc == FK_OK)
            PQclear(res);
    }
    fk__buf_dispose(&sql);
    fk__buf_dispose(&idl);
    fk__buf_dispose(&actl);
    return rc;
}
