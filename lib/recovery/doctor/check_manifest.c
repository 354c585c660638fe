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
    int rc = fk__loss_scan_manifest(d->ctx, d->reg, d->root, d->o.drop_warn_ratio, 0,
                                    lost_in_manifest, dropped, d, &mstatus, &m);
    if (rc)
        return rc;
    if (mstatus)
        return manifest_unreadable(d, mstatus);
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
