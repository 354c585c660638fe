/* doctor: finds silent loss and what makes loss possible.
 *
 * Incident 1 went unnoticed for days because nothing compared what should
 * exist with what did. Here the last manifest and the audit history both
 * say which entities should exist; any that do not is an error naming it. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "installed.h"
#include "buf.h"
#include "export_internal.h"
#include "fortknox/audit.h"
#include "fortknox/recovery.h"
#include "fsutil.h"
#include "loss.h"
#include "manifest.h"
#include "pgutil.h"
#include "schema_drift.h"
#include "recovery_internal.h"
#include "report_internal.h"
#include "sha256.h"
#include "sql_names.h"

int fk_doctor_options_init(fk_doctor_options *opts, unsigned version)
{
    if (!opts || version == 0 || version > FK_DOCTOR_OPTIONS_VERSION)
        return fk__fail(NULL, FK_EINVAL, "fk_doctor_options_init: unsupported version %u",
                        version);
    memset(opts, 0, sizeof *opts);
    opts->version = version;
    opts->drop_warn_ratio = FK__DROP_RATIO;
    opts->max_export_age_s = 7 * 24 * 3600;
    opts->max_backup_age_s = 26 * 3600;
    opts->backup_shrink_ratio = 0.2;
    return FK_OK;
}

typedef struct doctor {
    fk_ctx *ctx;
    fk__registry *reg;
    fk_report *report;
    fk_doctor_options o;
    fk__install_info info;
    int root;                 /* fixture dir, -1 when none */
    char exported_at[32];     /* from the manifest, "" when unknown */
    int audit_ok;             /* installed, and the audit table and chain head exist */
    int64_t anchor_id;        /* the chain head the manifest anchors, 0 when none */
    /* per type: entities the manifest counted and the audit log knows alive,
     * -1 when unknown: what a damaged type's missing table takes with it */
    int64_t *known_manifest, *known_audit;
    char **sample;            /* per type: one fixture file the manifest lists, or NULL */
    /* per type: ids already reported lost (manifest and audit may both say so) */
    int64_t **lost;
    size_t *nlost, *caplost;
} doctor;

static int find(const doctor *d, const char *type)
{
    for (size_t i = 0; i < d->reg->ntypes; i++)
        if (strcmp(d->reg->types[i].name, type) == 0)
            return (int)i;
    return -1;
}

/* t when its tables can be queried, else -1: a damaged type's missing
 * table or column is reported once (schema_findings), never queried. */
static int usable(const doctor *d, int t)
{
    return t >= 0 && !d->reg->types[t].damage ? t : -1;
}

static int already_lost(doctor *d, int t, int64_t id)
{
    for (size_t i = 0; i < d->nlost[t]; i++)
        if (d->lost[t][i] == id)
            return 1;
    if (d->nlost[t] == d->caplost[t]) {
        size_t cap = d->caplost[t] ? d->caplost[t] * 2 : 16;
        int64_t *g = fk__realloc(d->lost[t], cap * sizeof *g);
        if (!g)
            return 1; /* out of memory: at worst a finding is repeated elsewhere */
        d->lost[t] = g;
        d->caplost[t] = cap;
    }
    d->lost[t][d->nlost[t]++] = id;
    return 0;
}

static void lost(doctor *d, int t, int64_t id, const char *name, const char *source)
{
    const fk__etype *e = &d->reg->types[t];
    if (already_lost(d, t, id))
        return;
    fk__report_count(d->report, "lost", 1);
    fk__report_add(d->report, FK_SEV_ERROR, "FK-LOSS", e->name, id, NULL, NULL,
                   "restore it: `fortknox import DIR` from the fixtures, or `fortknox restore "
                   "TYPE:ID --audit-id N` from the audit log",
                   "%s %" PRId64 "%s%s%s is missing from the database (%s)", e->name, id,
                   name && *name ? " (\"" : "", name && *name ? name : "",
                   name && *name ? "\")" : "", source);
}

static int lost_in_manifest(void *ud, const fk__lost *l)
{
    doctor *d = ud;
    lost(d, find(d, l->e->name), l->id, l->name, "listed in the fixture manifest");
    return FK_OK;
}

static int lost_in_history(void *ud, const fk__lost *l)
{
    doctor *d = ud;
    char source[120];
    snprintf(source, sizeof source, "its audit history ends at row %" PRId64 ", which is not "
                                    "a hard delete",
             l->last_audit_id);
    lost(d, find(d, l->e->name), l->id, l->name, source);
    return FK_OK;
}

/* A sudden drop: the table has far fewer rows than were exported. */
static int dropped(void *ud, const fk__etype *e, int64_t counted, int64_t now)
{
    doctor *d = ud;
    return fk__loss_report_drop(d->report, e, counted, now,
                                "find out what removed them before the next export overwrites "
                                "the fixtures");
}

/* A column the fixture files have and the table lacks was dropped or
 * renamed (every entity lost that value, and no registry names it), one
 * whose type no longer fits the files' values was retyped: one listed file
 * per type is compared with the table's columns. */
static int column_checks(doctor *d)
{
    int rc = FK_OK, found;
    for (size_t t = 0; rc == FK_OK && t < d->reg->ntypes; t++)
        if (usable(d, (int)t) >= 0 && d->sample[t])
            rc = fk__schema_drift(d->ctx, d->root, &d->reg->types[t], d->sample[t], d->report,
                                  &found);
    return rc;
}

/* The first file the manifest lists for each intact type: column_checks()
 * compares its keys with the table's columns. */
static int sample_files(doctor *d)
{
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(d->ctx, &m, d->root, FK__MANIFEST_NAME);
    fk__mentry e;
    int r = 0;
    while (rc == FK_OK && (r = fk__mreader_next(m, &e)) == 1) {
        int t = usable(d, find(d, e.type));
        if (t >= 0 && !d->sample[t] && !(d->sample[t] = fk__strdup(e.path)))
            rc = fk__fail(d->ctx, FK_ENOMEM, "out of memory");
    }
    fk__mreader_free(m);
    if (rc == FK_OK && r < 0) /* read whole a moment ago: FK-MANIFEST reports a change */
        fk__ok(d->ctx);
    return rc;
}

/* The manifest's entities and counts against the database. */
static int manifest_checks(doctor *d)
{
    fk__mreader *m = NULL;
    int mstatus = FK_OK;
    int rc = fk__loss_scan_manifest(d->ctx, d->reg, d->root, d->o.drop_warn_ratio, 0,
                                    lost_in_manifest, dropped, d, &mstatus, &m);
    if (rc)
        return rc;
    if (mstatus) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", fk_errmsg(d->ctx));
        fk__ok(d->ctx);
        return fk__report_add(d->report, mstatus == FK_ENOTFOUND ? FK_SEV_WARNING : FK_SEV_ERROR,
                              "FK-MANIFEST", NULL, 0, FK__MANIFEST_NAME, NULL,
                              mstatus == FK_ENOTFOUND ? "export into the fixture directory"
                                                      : "export again to rewrite it",
                              "%s", msg);
    }
    const char *at = fk__mreader_exported_at(m);
    snprintf(d->exported_at, sizeof d->exported_at, "%s", at ? at : "");
    d->anchor_id = fk__mreader_chain_head_id(m);
    for (size_t i = 0; i < fk__mreader_count_types(m); i++) {
        int64_t counted = 0;
        int t = find(d, fk__mreader_count_type(m, i, &counted));
        if (t >= 0)
            d->known_manifest[t] = counted; /* what a damaged table took with it */
    }
    fk__mreader_free(m);
    rc = sample_files(d);
    if (rc)
        return rc;
    if ((rc = column_checks(d)))
        return rc;
    /* files edited or missing since the export */
    fk_report *tmp = NULL;
    int64_t edited = 0, missing = 0;
    if (fk__report_new(&tmp, "manifest") != FK_OK)
        return fk__fail(d->ctx, FK_ENOMEM, "out of memory");
    rc = fk__verify_manifest(d->ctx, d->root, tmp, &edited, &missing);
    for (size_t i = 0; rc == FK_OK && i < fk_report_item_count(tmp); i++) {
        const fk_report_item *it = fk_report_item_at(tmp, i);
        if (strcmp(it->code, "manifest_missing") != 0)
            fk__report_add(d->report, it->severity, "FK-MANIFEST", it->entity_type,
                           it->entity_id, it->path, NULL, it->hint, "%s", it->message);
    }
    fk_report_free(tmp);
    return rc;
}

/* How many entities of a type the audit log knows alive (last action not a
 * delete): what a missing table took with it. */
static int count_alive(doctor *d, size_t t)
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

/* Every damaged type: its missing table or column is the loss of every
 * entity it held, as far as every command can tell. */
static void schema_findings(doctor *d)
{
    for (size_t t = 0; t < d->reg->ntypes; t++) {
        const fk__etype *e = &d->reg->types[t];
        if (!e->damage)
            continue;
        char known[200] = "", audited[100] = "";
        if (d->known_manifest[t] >= 0)
            snprintf(known, sizeof known, "; %" PRId64 " in the fixture manifest",
                     d->known_manifest[t]);
        if (d->known_audit[t] >= 0)
            snprintf(audited, sizeof audited, "; %" PRId64 " alive in the audit log",
                     d->known_audit[t]);
        fk__report_add(d->report, FK_SEV_ERROR, "FK-SCHEMA", e->name, 0, NULL, NULL,
                       "put the table or column back (undo the DROP, RENAME or SET SCHEMA, or "
                       "restore it from a backup), then `fortknox import DIR` and `fortknox "
                       "verify DIR`; or correct the registry",
                       "%s: every %s is lost to every command (export, verify, import, "
                       "restore)%s%s",
                       e->damage, e->name, known, audited);
    }
    if (d->reg->users_damage)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-SCHEMA", NULL, 0, NULL, NULL,
                       "put the users table back or correct the registry",
                       "%s: imports cannot fall back to the admin author",
                       d->reg->users_damage);
}

/* Entities whose audit history says they should exist, and do not. */
static int audit_checks(doctor *d)
{
    int rc = FK_OK;
    for (size_t t = 0; rc == FK_OK && t < d->reg->ntypes; t++)
        rc = d->reg->types[t].damage
                 ? count_alive(d, t)
                 : fk__loss_check(d->ctx, &d->reg->types[t], NULL, 0, 0, lost_in_history, d);
    return rc;
}

/* ON DELETE CASCADE into a design table from outside the design tables. */
static int cascade_checks(doctor *d)
{
    fk__buf tables = FK__BUF_INIT;
    fk__buf_putc(&tables, '{');
    int n = 0;
    for (size_t i = 0; i < d->reg->ntypes; i++)
        for (size_t j = 0; j <= d->reg->types[i].nchildren; j++) {
            const fk__table *t = j ? &d->reg->types[i].children[j - 1].t : &d->reg->types[i].t;
            if (t->missing) /* not a regclass: reported by schema_findings */
                continue;
            fk__buf_puts(&tables, n++ ? ",\"" : "\"");
            for (const char *c = t->quoted; *c; c++) {
                if (*c == '"' || *c == '\\')
                    fk__buf_putc(&tables, '\\');
                fk__buf_putc(&tables, *c);
            }
            fk__buf_putc(&tables, '"');
        }
    fk__buf_putc(&tables, '}');
    const char *p = fk__buf_cstr(&tables);
    PGresult *res;
    int rc = p ? fk__pg_query(d->ctx, &res,
                              "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,"
                              " c.conname FROM pg_constraint c WHERE c.contype = 'f' AND"
                              " c.confdeltype = 'c' AND c.conrelid = ANY($1::regclass[]) AND NOT"
                              " c.confrelid = ANY($1::regclass[]) ORDER BY 1, 3",
                              1, &p, "looking for cascading foreign keys")
               : fk__fail(d->ctx, FK_ENOMEM, "out of memory");
    fk__buf_dispose(&tables);
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-CASCADE", NULL, 0, NULL, NULL,
                       "use ON DELETE RESTRICT or SET NULL: a delete outside the design tables "
                       "should never remove designs",
                       "%s.%s: deleting a row of %s deletes rows of the design table %s",
                       PQgetvalue(res, r, 0), PQgetvalue(res, r, 2), PQgetvalue(res, r, 1),
                       PQgetvalue(res, r, 0));
    PQclear(res);
    for (size_t i = 0; i < d->reg->ntypes; i++) {
        const fk__etype *e = &d->reg->types[i];
        if (!e->damage && e->softdel < 0)
            fk__report_add(d->report, FK_SEV_WARNING, "FK-NO-SOFT-DELETE", e->name, 0, NULL,
                           NULL,
                           e->softdel_name ? "run `fortknox install --add-soft-delete`"
                                           : "add a soft-delete column and name it in the "
                                             "registry",
                           "%s.%s has no soft-delete column%s%s: deleting from the app is final",
                           e->t.schema, e->t.name, e->softdel_name ? " " : "",
                           e->softdel_name ? e->softdel_name : "");
    }
    return FK_OK;
}

/* Every trigger the install put in place, present and enabled. */
static int expect_trigger(doctor *d, const char *table_q, const char *name, const char *code,
                          const char *what)
{
    const char *p[2] = {table_q, name};
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT tgenabled FROM pg_trigger WHERE tgrelid = $1::regclass AND"
                          " tgname = $2",
                          2, p, "checking triggers");
    if (rc)
        return rc;
    int present = PQntuples(res) == 1;
    int enabled = present && PQgetvalue(res, 0, 0)[0] != 'D';
    PQclear(res);
    if (!present)
        fk__report_add(d->report, FK_SEV_ERROR, !strcmp(code, "guard") ? "FK-GUARD-MISSING"
                                                                       : "FK-AUDIT-TRIGGER",
                       NULL, 0, NULL, NULL, "run `fortknox install` again",
                       "%s on %s is missing: %s", name, table_q, what);
    else if (!enabled)
        fk__report_add(d->report, FK_SEV_ERROR, !strcmp(code, "guard") ? "FK-GUARD-DISABLED"
                                                                       : "FK-AUDIT-TRIGGER",
                       NULL, 0, NULL, NULL, "ALTER TABLE ... ENABLE TRIGGER, and find out who "
                                            "disabled it",
                       "%s on %s is disabled: %s", name, table_q, what);
    return FK_OK;
}

static int trigger_checks(doctor *d)
{
    int rc = FK_OK;
    const char *A = d->info.audit_q;
    if (d->audit_ok)
        rc = expect_trigger(d, A, FK__TRG_CHAIN, "audit", "audit rows are not hash-chained");
    if (!rc && d->audit_ok)
        rc = expect_trigger(d, A, FK__TRG_IMMUTABLE, "audit",
                            "audit rows can be updated or deleted");
    if (!rc && d->audit_ok)
        rc = expect_trigger(d, A, FK__TRG_NO_TRUNCATE, "audit", "the audit log can be truncated");
    for (size_t i = 0; rc == FK_OK && i < d->reg->ntypes; i++) {
        const fk__etype *e = &d->reg->types[i];
        if (d->info.guards && !e->t.missing) {
            rc = expect_trigger(d, e->t.quoted, FK__TRG_GUARD_DELETE, "guard",
                                "hard deletes are not blocked");
            if (!rc)
                rc = expect_trigger(d, e->t.quoted, FK__TRG_GUARD_TRUNCATE, "guard",
                                    "TRUNCATE (also through CASCADE) is not blocked");
        }
        for (size_t c = 0; d->info.guards && rc == FK_OK && c < e->nchildren; c++)
            if (!e->children[c].t.missing)
                rc = expect_trigger(d, e->children[c].t.quoted, FK__TRG_GUARD_TRUNCATE, "guard",
                                    "TRUNCATE is not blocked");
        if (rc == FK_OK && d->info.capture && !e->t.missing)
            rc = expect_trigger(d, e->t.quoted, FK__TRG_CAPTURE, "audit",
                                "changes made with SQL are not audited");
    }
    if (rc == FK_OK && !d->info.guards)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-GUARD-MISSING", NULL, 0, NULL, NULL,
                       "run `fortknox install` without --no-guards",
                       "installed without guards: hard deletes and TRUNCATE are not blocked");
    return rc;
}

static int privilege_checks(doctor *d)
{
    if (!d->info.app_role[0])
        return FK_OK;
    const char *p[3] = {d->info.app_role, d->info.audit_q, NULL};
    char head[200];
    snprintf(head, sizeof head, "%s.audit_head", d->info.schema_q);
    p[2] = head;
    PGresult *res;
    int rc = fk__pg_query(
        d->ctx, &res,
        "SELECT string_agg(x.priv, ', ') FROM (SELECT unnest(ARRAY['UPDATE', 'DELETE',"
        " 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv) x WHERE has_table_privilege($1,"
        " $2::regclass, x.priv) OR has_table_privilege($1, $3::regclass, x.priv)",
        3, p, "checking the application role's privileges");
    if (rc)
        return rc;
    if (!PQgetisnull(res, 0, 0))
        fk__report_add(d->report, FK_SEV_ERROR, "FK-AUDIT-PRIVILEGES", NULL, 0, NULL, NULL,
                       "REVOKE them: the application needs INSERT and SELECT only",
                       "role %s may %s the audit log", d->info.app_role, PQgetvalue(res, 0, 0));
    PQclear(res);
    return FK_OK;
}

static int chain_check(doctor *d)
{
    fk_report *r = NULL;
    int rc = fk_audit_verify(&r, d->ctx, d->o.fixture_dir);
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

static int freshness_checks(doctor *d)
{
    if (!d->exported_at[0])
        return FK_OK;
    const char *p = d->exported_at;
    char sql[500];
    snprintf(sql, sizeof sql,
             "SELECT extract(epoch FROM (now() AT TIME ZONE 'UTC') - $1::timestamp)::bigint%s",
             d->audit_ok ? "" : ", 0");
    if (d->audit_ok)
        snprintf(sql, sizeof sql,
                 "SELECT extract(epoch FROM (now() AT TIME ZONE 'UTC') - $1::timestamp)::bigint,"
                 " (SELECT count(*) FROM %s WHERE created_at > $1::timestamp AND entity_id > 0)",
                 d->info.audit_q);
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res, sql, 1, &p, "checking the export's age");
    if (rc)
        return rc;
    int64_t age = atoll(PQgetvalue(res, 0, 0)), changes = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (age > d->o.max_export_age_s)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-STALE-EXPORT", NULL, 0, NULL, NULL,
                       "schedule `fortknox snapshot DIR --git` (cron or deploy), or run "
                       "`fortknox watch DIR`",
                       "the last export changed anything %" PRId64 " hours ago (%s)",
                       age / 3600, d->exported_at);
    if (changes > 0)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-STALE-EXPORT", NULL, 0, NULL, NULL,
                       "export now: these changes exist only in the database",
                       "%" PRId64 " audited changes since the last export (%s)", changes,
                       d->exported_at);
    return FK_OK;
}

static int not_installed(doctor *d, const char *why)
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
static int install_checks(doctor *d)
{
    char head[200];
    snprintf(head, sizeof head, "%s.audit_head", d->info.schema_q);
    const char *p[3] = {d->ctx->schema, d->info.installed ? d->info.audit_q : NULL, head};
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT to_regnamespace(quote_ident($1)) IS NOT NULL,"
                          " to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL",
                          3, p, "looking at the fortknox install");
    if (rc)
        return rc;
    int schema = PQgetvalue(res, 0, 0)[0] == 't', audit = PQgetvalue(res, 0, 1)[0] == 't',
        chain_head = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
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
    else
        why[0] = '\0';
    d->audit_ok = !why[0];
    return why[0] ? not_installed(d, why) : FK_OK;
}

typedef struct backup {
    char *name;
    int64_t size;
    time_t mtime;
} backup;

static int cmp_mtime(const void *a, const void *b)
{
    const backup *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int same_content(int dfd, const char *a, const char *b)
{
    fk__buf x = FK__BUF_INIT, y = FK__BUF_INIT;
    char ha[65] = "a", hb[65] = "b";
    /* hashing, not memcmp: backups can be large, and this reads each once */
    if (fk__fs_read_at(NULL, dfd, a, (size_t)1 << 32, &x) == FK_OK)
        fk__sha256_hex(x.data ? x.data : "", x.len, ha);
    if (fk__fs_read_at(NULL, dfd, b, (size_t)1 << 32, &y) == FK_OK)
        fk__sha256_hex(y.data ? y.data : "", y.len, hb);
    fk__buf_dispose(&x);
    fk__buf_dispose(&y);
    return strcmp(ha, hb) == 0;
}

/* Parthenon had a week of byte-identical 466,449-byte backups: the database
 * had been empty since the first of them, and nobody looked. */
static int backup_checks(doctor *d)
{
    int dfd = open(d->o.backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fk__report_add(d->report, FK_SEV_ERROR, "FK-BACKUP-NONE", NULL, 0,
                              d->o.backup_dir, NULL, "check the backup job and the path",
                              "cannot open the backup directory %s: %m", d->o.backup_dir);
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    backup *b = NULL;
    size_t n = 0, cap = 0;
    int rc = FK_OK;
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            backup *g = fk__realloc(b, cap * sizeof *g);
            if (!g) {
                rc = fk__fail(d->ctx, FK_ENOMEM, "out of memory");
                break;
            }
            b = g;
        }
        if (!(b[n].name = fk__strdup(de->d_name))) {
            rc = fk__fail(d->ctx, FK_ENOMEM, "out of memory");
            break;
        }
        b[n].size = (int64_t)st.st_size;
        b[n].mtime = st.st_mtime;
        n++;
    }
    if (dir)
        closedir(dir);
    else if (fd >= 0)
        close(fd);
    if (rc == FK_OK && n == 0)
        fk__report_add(d->report, FK_SEV_ERROR, "FK-BACKUP-NONE", NULL, 0, d->o.backup_dir, NULL,
                       "check the backup job", "no backups in %s", d->o.backup_dir);
    if (rc == FK_OK && n) {
        qsort(b, n, sizeof *b, cmp_mtime);
        int64_t age = (int64_t)(time(NULL) - b[n - 1].mtime);
        if (age > d->o.max_backup_age_s)
            fk__report_add(d->report, FK_SEV_WARNING, "FK-BACKUP-STALE", NULL, 0,
                           b[n - 1].name, NULL, "check the backup job",
                           "the newest backup, %s, is %" PRId64 " hours old", b[n - 1].name,
                           age / 3600);
        size_t run = 1;
        for (size_t i = 1; i <= n; i++) {
            int same = i < n && b[i].size == b[i - 1].size &&
                       same_content(dfd, b[i].name, b[i - 1].name);
            if (same) {
                run++;
                continue;
            }
            if (run > 1)
                fk__report_add(d->report, FK_SEV_WARNING, "FK-BACKUP-IDENTICAL", NULL, 0,
                               b[i - 1].name, NULL,
                               "compare the database with the newest backup: if nothing was "
                               "meant to be unchanged that long, data may have been lost "
                               "before the first of them",
                               "%zu consecutive backups are byte-identical (%" PRId64
                               " bytes, %s to %s)",
                               run, b[i - 1].size, b[i - run].name, b[i - 1].name);
            run = 1;
            if (i < n && b[i - 1].size > 0 &&
                (double)b[i].size < (double)b[i - 1].size * (1.0 - d->o.backup_shrink_ratio))
                fk__report_add(d->report, FK_SEV_WARNING, "FK-BACKUP-SHRINK", NULL, 0,
                               b[i].name, NULL, "find out what the database lost in between",
                               "%s is %.0f%% smaller than %s (%" PRId64 " vs %" PRId64 " bytes)",
                               b[i].name,
                               100.0 * (double)(b[i - 1].size - b[i].size) /
                                   (double)b[i - 1].size,
                               b[i - 1].name, b[i].size, b[i - 1].size);
        }
    }
    for (size_t i = 0; i < n; i++)
        fk__xfree(b[i].name);
    fk__xfree(b);
    close(dfd);
    return rc;
}

int fk_doctor(fk_report **out, fk_ctx *ctx, const fk_doctor_options *opts)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_doctor: ctx must not be NULL");
    fk__ok(ctx);
    doctor d;
    memset(&d, 0, sizeof d);
    d.ctx = ctx;
    d.root = -1;
    fk_doctor_options_init(&d.o, FK_DOCTOR_OPTIONS_VERSION);
    if (opts) {
        if (opts->version == 0 || opts->version > FK_DOCTOR_OPTIONS_VERSION)
            return fk__fail(ctx, FK_EINVAL, "fk_doctor: unsupported options version");
        d.o.fixture_dir = opts->fixture_dir;
        d.o.backup_dir = opts->backup_dir;
        if (opts->drop_warn_ratio > 0)
            d.o.drop_warn_ratio = opts->drop_warn_ratio;
        if (opts->max_export_age_s > 0)
            d.o.max_export_age_s = opts->max_export_age_s;
        if (opts->max_backup_age_s > 0)
            d.o.max_backup_age_s = opts->max_backup_age_s;
        if (opts->backup_shrink_ratio > 0)
            d.o.backup_shrink_ratio = opts->backup_shrink_ratio;
    }
    int rc = fk__ctx_registry(ctx, &d.reg);
    if (rc)
        return rc;
    if (fk__report_new(&d.report, "doctor") != FK_OK)
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    d.lost = fk__calloc(d.reg->ntypes, sizeof *d.lost);
    d.nlost = fk__calloc(d.reg->ntypes, sizeof *d.nlost);
    d.caplost = fk__calloc(d.reg->ntypes, sizeof *d.caplost);
    d.known_manifest = fk__malloc((d.reg->ntypes + 1) * sizeof *d.known_manifest);
    d.known_audit = fk__malloc((d.reg->ntypes + 1) * sizeof *d.known_audit);
    d.sample = fk__calloc(d.reg->ntypes + 1, sizeof *d.sample);
    if (!d.lost || !d.nlost || !d.caplost || !d.known_manifest || !d.known_audit || !d.sample)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    for (size_t i = 0; rc == FK_OK && i < d.reg->ntypes; i++)
        d.known_manifest[i] = d.known_audit[i] = -1;
    fk__txn txn;
    int txn_open = 0;
    if (rc == FK_OK && (rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ "
                                                      "READ ONLY")) == FK_OK)
        txn_open = 1;
    if (rc == FK_OK && (rc = fk__install_info_read(ctx, &d.info)) && d.info.invalid[0]) {
        rc = FK_OK; /* a finding (install_checks), not a failure to look */
        fk__ok(ctx);
    }
    if (rc == FK_OK && d.o.fixture_dir) {
        d.root = open(d.o.fixture_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d.root < 0)
            fk__report_add(d.report, FK_SEV_ERROR, "FK-MANIFEST", NULL, 0, d.o.fixture_dir,
                           NULL, "check the path", "cannot open the fixture directory %s: %m",
                           d.o.fixture_dir);
        else
            rc = manifest_checks(&d);
    }
    if (rc == FK_OK)
        rc = install_checks(&d); /* after the manifest: it names the anchor it lost */
    if (rc == FK_OK && d.audit_ok)
        rc = audit_checks(&d);
    if (rc == FK_OK)
        schema_findings(&d);
    if (rc == FK_OK)
        rc = cascade_checks(&d);
    if (rc == FK_OK && d.info.installed)
        rc = trigger_checks(&d);
    if (rc == FK_OK && d.audit_ok)
        rc = privilege_checks(&d);
    if (rc == FK_OK)
        rc = freshness_checks(&d);
    if (txn_open)
        fk__txn_rollback(ctx, &txn);
    /* the chain is verified in its own snapshot */
    if (rc == FK_OK && d.audit_ok)
        rc = chain_check(&d);
    if (rc == FK_OK && d.o.backup_dir)
        rc = backup_checks(&d);
    if (d.root >= 0)
        close(d.root);
    for (size_t i = 0; d.lost && i < d.reg->ntypes; i++)
        fk__xfree(d.lost[i]);
    for (size_t i = 0; d.sample && i < d.reg->ntypes; i++)
        fk__xfree(d.sample[i]);
    fk__xfree(d.sample);
    fk__xfree(d.lost);
    fk__xfree(d.nlost);
    fk__xfree(d.caplost);
    fk__xfree(d.known_manifest);
    fk__xfree(d.known_audit);
    if (rc) {
        fk_report_free(d.report);
        return rc;
    }
    fk__report_count(d.report, "lost", 0);
    if (fk__report_failed(d.report)) {
        fk_report_free(d.report);
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    }
    size_t errors = fk_report_error_count(d.report);
    fk__report_count(d.report, "errors", (int64_t)errors);
    fk__report_count(d.report, "warnings", 0);
    for (size_t i = 0; i < fk_report_item_count(d.report); i++)
        if (fk_report_item_at(d.report, i)->severity == FK_SEV_WARNING)
            fk__report_count(d.report, "warnings", 1);
    if (out)
        *out = d.report;
    else
        fk_report_free(d.report);
    if (errors)
        return fk__fail(ctx, FK_EVERIFY, "doctor found %zu problem%s", errors,
                        errors == 1 ? "" : "s");
    return FK_OK;
}
