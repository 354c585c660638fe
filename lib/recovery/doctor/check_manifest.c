/* doctor's fixture checks: the last manifest against the database (lost
 * entities, dropped rows, columns the files have and the tables lost), the
 * files against the manifest, and the export's age. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "doctor_internal.h"
#include "loss.h"
#include "manifest.h"
#include "pgutil.h"
#include "recovery_internal.h"
#include "report_internal.h"
#include "schema_drift.h"
#include "entry.h"

static int lost_in_manifest(void *ud, const fk__lost *l)
{
    fk__doctor *d = ud;
    fk__doctor_lost(d, fk__doctor_type(d, l->e->name), l->id, l->name,
                    "listed in the fixture manifest");
    return FK_OK;
}

/* A sudden drop: the table has far fewer rows than were exported. */
static int dropped(void *ud, const fk__etype *e, int64_t counted, int64_t now)
{
    fk__doctor *d = ud;
    return fk__loss_report_drop(d->report, e, counted, now,
                                "find out what removed them before the next export overwrites "
                                "the fixtures");
}

/* A column the fixture files have and the table lacks was dropped or
 * renamed (every entity lost that value, and no registry names it), one
 * whose type no longer fits the files' values was retyped: one listed file
 * per type is compared with the table's columns. */
static int column_checks(fk__doctor *d)
{
    int rc = FK_OK, found;
    for (size_t t = 0; rc == FK_OK && t < d->reg->ntypes; t++)
        if (fk__doctor_usable(d, (int)t) >= 0 && d->sample[t])
            rc = fk__schema_drift(d->ctx, d->root, &d->reg->types[t], d->sample[t], d->report,
                                  &found);
    return rc;
}

/* The first file the manifest lists for each intact type: column_checks()
 * compares its keys with the table's columns. */
static int sample_files(fk__doctor *d)
{
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(d->ctx, &m, d->root, FK__MANIFEST_NAME);
    fk__mentry e;
    int r = 0;
    while (rc == FK_OK && (r = fk__mreader_next(m, &e)) == 1) {
        int t = fk__doctor_usable(d, fk__doctor_type(d, e.type));
        if (t >= 0 && !d->sample[t] && !(d->sample[t] = fk__strdup(e.path)))
            rc = fk__oom(d->ctx);
    }
    fk__mreader_free(m);
    if (rc == FK_OK && r < 0) /* read whole a moment ago: FK-MANIFEST reports a change */
        fk__ok(d->ctx);
    return rc;
}

/* An unreadable or missing manifest is a finding, not a failure to look. */
static int manifest_unreadable(fk__doctor *d, int mstatus)
{
    char msg[600];
    snprintf(msg, sizeof msg, "%s", fk_errmsg(d->ctx));
    fk__ok(d->ctx);
    return fk__report_add(d->report, mstatus == FK_ENOTFOUND ? FK_SEV_WARNING : FK_SEV_ERROR,
                          "FK-MANIFEST", NULL, 0, FK__MANIFEST_NAME, NULL,
                          mstatus == FK_ENOTFOUND ? "export into the fixture directory"
                                                  : "export again to rewrite it",
                          "%s", msg);
}

/* Files edited or missing since the export are what the next import would
 * restore wrongly or not at all. verify's manifest check finds them; its
 * "manifest_missing" is reported here already (manifest_unreadable). */
static int files_changed(fk__doctor *d)
{
    fk_report *tmp = NULL;
    int64_t edited = 0, missing = 0;
    if (fk__report_new(&tmp, "manifest") != FK_OK)
        return fk__oom(d->ctx);
    int rc = fk__verify_manifest(d->ctx, d->root, tmp, &edited, &missing);
    for (size_t i = 0; rc == FK_OK && i < fk_report_item_count(tmp); i++) {
        const fk_report_item *it = fk_report_item_at(tmp, i);
        if (strcmp(it->code, "manifest_missing") != 0)
            fk__report_add(d->report, it->severity, "FK-MANIFEST", it->entity_type,
                           it->entity_id, it->path, NULL, it->hint, "%s", it->message);
    }
    fk_report_free(tmp);
    return rc;
}

/* The manifest's entities and counts against the database. */
int fk__doctor_manifest(fk__doctor *d)
{
    d->root = open(d->o.fixture_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->root < 0) {
        fk__report_add(d->report, FK_SEV_ERROR, "FK-MANIFEST", NULL, 0, d->o.fixture_dir, NULL,
                       "check the path", "cannot open the fixture directory %s: %m",
                       d->o.fixture_dir);
        return FK_OK;
    }
    fk__mreader *m = NULL;
    int mstatus = FK_OK;
    int rc = fk__loss_scan_manifest(d->ctx, d->reg, d->root, d->o.drop_warn_ratio, 0, NULL,
                                    lost_in_manifest, dropped, d, &mstatus, &m);
    if (rc)
        return rc;
    if (mstatus)
        return manifest_unreadable(d, mstatus);
    d->manifest_ok = 1;
    const char *at = fk__mreader_exported_at(m);
    snprintf(d->exported_at, sizeof d->exported_at, "%s", at ? at : "");
    d->anchor_id = fk__mreader_chain_head_id(m);
    for (size_t i = 0; i < fk__mreader_count_types(m); i++) {
        int64_t counted = 0;
        int t = fk__doctor_type(d, fk__mreader_count_type(m, i, &counted));
        if (t >= 0)
            d->known_manifest[t] = counted; /* what a damaged table took with it */
    }
    fk__mreader_free(m);
    if ((rc = sample_files(d)) || (rc = column_checks(d)))
        return rc;
    return files_changed(d);
}

/* Whether doctor's report already names entity (type, id) under code. */
static int reported(const fk__doctor *d, const char *code, const char *type, int64_t id)
{
    for (size_t i = 0; i < fk_report_item_count(d->report); i++) {
        const fk_report_item *it = fk_report_item_at(d->report, i);
        if (it->entity_id == id && it->entity_type && strcmp(it->code, code) == 0 &&
            strcmp(it->entity_type, type) == 0)
            return 1;
    }
    return 0;
}

/* Of ids (entities of type t that differ from their fixtures), the ones
 * the audit log does not explain: FK-UNTRACED. An entity is explained by
 * an audit row after the manifest's anchor; when capture wrote the last
 * such row, only if it holds the entity as it is now (its new_json is what
 * entity_doc() gives for it): else the entity changed again, untraced,
 * after an audited change. Capture rows are compared whatever the install
 * record says the mode is (a record switched to app mode must not turn the
 * comparison off). */
static int untraced_of_type(fk__doctor *d, size_t t, fk__buf *ids)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql,
                   "SELECT x.id, l.id IS NOT NULL FROM unnest($2::bigint[]) x(id) LEFT JOIN"
                   " LATERAL (SELECT a.id, a.context, a.new_json FROM %s a WHERE a.entity_type"
                   " = $1 AND a.entity_id = x.id AND a.id > $3::bigint ORDER BY a.id DESC LIMIT"
                   " 1) l ON true WHERE l.id IS NULL OR (l.context = 'capture' AND"
                   " l.new_json IS DISTINCT FROM %s.entity_doc($1, x.id, NULL)) ORDER BY 1",
                   d->info.audit_q, d->info.schema_q);
    char anchor[32];
    snprintf(anchor, sizeof anchor, "%" PRId64, d->anchor_id);
    fk__buf_putc(ids, '}');
    const char *p[3] = {d->reg->types[t].name, fk__buf_cstr(ids), anchor};
    PGresult *res;
    int rc = p[1] ? fk__pg_query_buf(d->ctx, &res, &sql, 3, p, "looking for untraced changes")
                  : fk__oom(d->ctx);
    fk__buf_dispose(&sql);
    if (rc)
        return rc;
    const fk__etype *e = &d->reg->types[t];
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = 0;
        fk__text_to_i64(PQgetvalue(res, r, 0), &id);
        int audited = PQgetvalue(res, r, 1)[0] == 't';
        fk__report_add(d->report, FK_SEV_ERROR, "FK-UNTRACED", e->name, id, NULL, NULL,
                       "find out what changed it (capture was off or bypassed: "
                       "session_replication_role = replica, a disabled trigger, a quieted "
                       "session); `fortknox verify DIR` shows the fields, `fortknox import DIR` "
                       "puts the fixture back",
                       "%s %" PRId64 " differs from its fixture and %s: it was changed "
                       "without a trace",
                       e->name, id,
                       audited ? "from its last audit row (it changed again after the last "
                                 "change the audit log records)"
                               : "no audit row after the export's anchor records a change");
    }
    PQclear(res);
    return FK_OK;
}

/* What the protections should have produced: every change to an entity
 * since the export is in the audit log after the manifest's anchor. An
 * entity that differs from its fixture (verify's comparison: values, not
 * bytes) or was created since, with no such row, was changed while capture
 * was off or bypassed. Files edited since the export (FK-MANIFEST) are
 * the files' change, not the database's, and are left out. A damaged type
 * cannot be compared (FK-SCHEMA says so): then nothing is. */
int fk__doctor_untraced(fk__doctor *d)
{
    if (d->root < 0 || !d->manifest_ok || !d->audit_ok)
        return FK_OK;
    for (size_t t = 0; t < d->reg->ntypes; t++)
        if (d->reg->types[t].damage)
            return FK_OK;
    fk_report *tmp = NULL;
    fk_verify_options vo;
    fk_verify_options_init(&vo, FK_VERIFY_OPTIONS_VERSION);
    int64_t diffs = 0;
    if (fk__report_new(&tmp, "verify") != FK_OK)
        return fk__oom(d->ctx);
    int rc = fk__verify_into(d->ctx, d->reg, d->root, &vo, tmp, &diffs);
    if (rc == FK_EPARSE || rc == FK_EIO) { /* the files, not the database: a finding */
        char msg[600];
        snprintf(msg, sizeof msg, "%s", fk_errmsg(d->ctx));
        fk__ok(d->ctx);
        rc = FK_OK;
        fk__report_add(d->report, FK_SEV_ERROR, "FK-MANIFEST", NULL, 0, NULL, NULL,
                       "repair or re-export the fixture directory",
                       "the fixtures cannot be compared with the database: %s", msg);
    }
    for (size_t t = 0; rc == FK_OK && diffs && t < d->reg->ntypes; t++) {
        const char *type = d->reg->types[t].name;
        fk__buf ids = FK__BUF_INIT;
        int n = 0;
        fk__buf_putc(&ids, '{');
        for (size_t i = 0; i < fk_report_item_count(tmp); i++) {
            const fk_report_item *it = fk_report_item_at(tmp, i);
            if ((strcmp(it->code, "differs") == 0 || strcmp(it->code, "db_only") == 0) &&
                it->entity_type && strcmp(it->entity_type, type) == 0 &&
                !reported(d, "FK-MANIFEST", type, it->entity_id))
                fk__buf_printf(&ids, "%s%" PRId64, n++ ? "," : "", it->entity_id);
        }
        if (n)
            rc = untraced_of_type(d, t, &ids);
        fk__buf_dispose(&ids);
    }
    fk_report_free(tmp);
    return rc;
}

/* An old export, or audited changes after it: what the files would not
 * bring back today. */
int fk__doctor_freshness(fk__doctor *d)
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
