/* doctor's install and audit-log checks: is libfortknox installed here,
 * which entities does the audit history say should exist, is the chain
 * whole. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "doctor_internal.h"
#include "audit_verify.h"
#include "fortknox/audit.h"
#include "loss.h"
#include "pgutil.h"
#include "report_internal.h"

static int not_installed(fk__doctor *d, const char *why)
{
    char anchor[160] = "";
    if (d->anchor_id > 0)
        snprintf(anchor, sizeof anchor, "; the fixture manifest anchors audit row %" PRId64
                                        " of a chain that was here",
                 d->anchor_id);
    return fk__report_add(d->report, FK_SEV_ERROR, "FK-NOT-INSTALLED", NULL, 0, NULL, NULL,
                          "run `fortknox install`, or point doctor at the right database and "
                          "--schema",
                          "%s%s", why, anchor);
}

/* What is installed, and whether it is whole. Nothing installed is an
 * error: doctor is pointed at a database to protect it, and a cron job with
 * a wrong --schema or database (or after DROP SCHEMA ... CASCADE) must not
 * pass forever. Sets audit_ok when the audit checks can run. */
int fk__doctor_install(fk__doctor *d)
{
    const char *head = d->head_q;
    char lock_q[220];
    snprintf(lock_q, sizeof lock_q, "%s.write_lock", d->info.schema_q);
    const char *p[4] = {d->ctx->schema, d->info.installed ? d->info.audit_q : NULL, head,
                        d->info.installed ? lock_q : NULL};
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT to_regnamespace(quote_ident($1)) IS NOT NULL,"
                          " to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL,"
                          " to_regclass($4) IS NOT NULL",
                          4, p, "looking at the fortknox install");
    if (rc)
        return rc;
    int schema = PQgetvalue(res, 0, 0)[0] == 't', audit = PQgetvalue(res, 0, 1)[0] == 't',
        chain_head = PQgetvalue(res, 0, 2)[0] == 't', lock = PQgetvalue(res, 0, 3)[0] == 't';
    PQclear(res);
    /* its one row: without it every audited write fails (FK002) */
    int lock_row = 1;
    if (lock) {
        char sql[300];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", lock_q);
        if ((rc = fk__pg_query(d->ctx, &res, sql, 0, NULL, "reading the write lock")))
            return rc;
        lock_row = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
        PQclear(res);
    }
    char why[sizeof d->info.invalid];
    if (d->info.invalid[0])
        snprintf(why, sizeof why, "%s", d->info.invalid);
    else if (!d->info.installed && !schema)
        snprintf(why, sizeof why, "libfortknox is not installed in this database (no schema %s): "
                                  "no guards, no audit log",
                 d->ctx->schema);
    else if (!d->info.installed)
        snprintf(why, sizeof why, "schema %s exists but its install record (%s.meta) is missing "
                                  "or incomplete: half-installed, or tampered with",
                 d->ctx->schema, d->info.schema_q);
    else if (!audit || !chain_head)
        snprintf(why, sizeof why, "half-installed: the %s %s is missing (dropped?)",
                 audit ? "chain head" : "audit table", audit ? head : d->info.audit_q);
    else if (!lock_row)
        snprintf(why, sizeof why, "the write lock's row (%s) is missing (deleted?): every "
                                  "audited write fails until `fortknox install` puts it back",
                 lock_q);
    else
        why[0] = '\0';
    d->audit_ok = !why[0];
    return why[0] ? not_installed(d, why) : FK_OK;
}

static int lost_in_history(void *ud, const fk__lost *l)
{
    fk__doctor *d = ud;
    char source[120];
    snprintf(source, sizeof source, "its audit history ends at row %" PRId64 ", which is not "
                                    "a hard delete",
             l->last_audit_id);
    fk__doctor_lost(d, fk__doctor_type(d, l->e->name), l->id, l->name, source);
    return FK_OK;
}

/* How many entities of a type the audit log knows alive (last action not a
 * delete): what a missing table took with it. */
static int count_alive(fk__doctor *d, size_t t)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql,
                   "SELECT count(*) FROM (SELECT DISTINCT ON (entity_id) action FROM %s WHERE"
                   " entity_type = $1 AND entity_id > 0 ORDER BY entity_id, id DESC) h WHERE"
                   " h.action NOT IN ('deleted', 'force_deleted')",
                   d->info.audit_q);
    const char *p = d->reg->types[t].name;
    PGresult *res;
    int rc = fk__pg_query_buf(d->ctx, &res, &sql, 1, &p, "counting audited entities");
    if (rc)
        return rc;
    fk__text_to_i64(PQgetvalue(res, 0, 0), &d->known_audit[t]);
    PQclear(res);
    return FK_OK;
}

/* Entities whose audit history says they should exist, and do not; for a
 * damaged type, how many that is (the schema check names the number). */
int fk__doctor_audit_loss(fk__doctor *d)
{
    int rc = FK_OK;
    for (size_t t = 0; rc == FK_OK && t < d->reg->ntypes; t++)
        rc = d->reg->types[t].damage
                 ? count_alive(d, t)
                 : fk__loss_check(d->ctx, &d->reg->types[t], NULL, 0, 0, lost_in_history, d);
    return rc;
}

/* Rows left unsealed after verification sealed what this session may
 * (docs/audit.md, "Sealing"): normal on a standby for a moment, but rows
 * an hour old mean nothing seals on the primary, and unsealed rows are
 * open to undetected alteration by whoever can bypass the triggers. */
static int unsealed(fk__doctor *d, int64_t first, int64_t n)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, first);
    const char *p = id;
    PGresult *res;
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT created_at < (now() AT TIME ZONE 'UTC') - interval '1 hour',"
                              " to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') FROM %s WHERE id = $1",
             d->info.audit_q);
    int rc = fk__pg_query(d->ctx, &res, sql, 1, &p, "reading the oldest unsealed audit row");
    if (rc)
        return rc;
    if (d->seal_error[0])
        fk__report_add(d->report, FK_SEV_WARNING, "FK-UNSEALED", "audit_row", first, NULL, NULL,
                       "find what holds the chain head (a prepared or idle transaction?) and "
                       "run `fortknox audit seal`",
                       "%" PRId64 " audit rows are not sealed into the hash chain (from row "
                       "%" PRId64 "): doctor's seal failed: %s",
                       n, first, d->seal_error);
    else if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't')
        fk__report_add(d->report, FK_SEV_WARNING, "FK-UNSEALED", "audit_row", first, NULL, NULL,
                       "run `fortknox audit seal` on the primary, and keep something sealing "
                       "(`fortknox watch`, or `audit seal` from cron)",
                       "%" PRId64 " audit rows are not sealed into the hash chain, the oldest "
                       "(row %" PRId64 ") written at %s UTC: until sealed, a row altered past "
                       "the triggers is not detected",
                       n, first, PQgetvalue(res, 0, 1));
    PQclear(res);
    return FK_OK;
}

/* The hash chain, and the manifest's anchor when there is a fixture
 * directory. */
int fk__doctor_chain(fk__doctor *d)
{
    fk_report *r = NULL;
    int rc = fk__audit_verify(&r, d->ctx, d->o.fixture_dir, 0, NULL, NULL); /* the witness is its own check */
    if (rc == FK_OK && r && fk_report_counter(r, "unsealed") > 0)
        rc = unsealed(d, fk_report_counter(r, "first_unsealed_id"),
                      fk_report_counter(r, "unsealed"));
    if (rc == FK_ETAMPER || (rc == FK_OK && r)) {
        if (rc == FK_ETAMPER)
            fk__report_add(d->report, FK_SEV_ERROR, "FK-TAMPER", NULL, 0, NULL, NULL,
                           "run `fortknox audit verify` and investigate", "%s",
                           fk_errmsg(d->ctx));
        fk_report_free(r);
        fk__ok(d->ctx);
        return FK_OK;
    }
    fk_report_free(r);
    if (rc == FK_EPARSE || rc == FK_EIO) { /* an unreadable anchor is reported elsewhere */
        fk__ok(d->ctx);
        return FK_OK;
    }
    return rc;
}

/* The witness in the fixture directory: every chain head a command saw must
 * still be in the chain. Runs whatever is installed: a log that was dropped
 * is the first thing it catches. */
int fk__doctor_witness(fk__doctor *d)
{
    if (d->root < 0)
        return FK_OK; /* FK-MANIFEST says the directory cannot be opened */
    int rc = fk__witness_check(d->ctx, d->root, d->anchor_id, &d->wit);
    if (rc) /* unreadable: doctor cannot run, never a pass (exit 3) */
        return rc;
    d->wit_checked = 1;
    return fk__witness_report(d->report, &d->wit);
}
