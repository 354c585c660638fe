/* doctor: finds silent loss and what makes loss possible.
 *
 * Incident 1 went unnoticed for days because nothing compared what should
 * exist with what did. Here the last manifest and the audit history both
 * say which entities should exist; any that do not is an error naming it.
 *
 * This file is the driver: options, the shared state, the one snapshot, and
 * the table of checks. The checks live in check_*.c by subject. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seal.h"
#include "alloc.h"
#include "doctor_internal.h"
#include "loss.h"
#include "pgutil.h"
#include "report_internal.h"
#include "entry.h"

/* In order. in_snapshot entries run first, in one snapshot; the others
 * after it. The order matters where a check reads what an earlier one
 * found (doctor_internal.h says which fields). */
const fk__doctor_check fk__doctor_checks[] = {
    /* codes, needs, in_snapshot, fn */
    {"FK-MANIFEST FK-LOSS FK-DROP FK-SCHEMA", FK__DOCTOR_FIXTURES, 1, fk__doctor_manifest},
    /* after the manifest: it names the anchor a lost install leaves */
    {"FK-NOT-INSTALLED", 0, 1, fk__doctor_install},
    /* the fixture directory's witness, whatever is installed (or not); the
     * head is recorded once every check ran (record_witness) */
    {"FK-TAMPER FK-WITNESS-UNRECORDED", FK__DOCTOR_FIXTURES, 1, fk__doctor_witness},
    {"FK-LOSS", FK__DOCTOR_AUDIT, 1, fk__doctor_audit_loss},
    /* after the manifest and audit checks: it names what they counted */
    {"FK-SCHEMA", 0, 1, fk__doctor_schema},
    {"FK-CASCADE", 0, 1, fk__doctor_cascade},
    {"FK-NO-SOFT-DELETE", 0, 1, fk__doctor_soft_delete},
    {"FK-AUDIT-TRIGGER FK-GUARD-MISSING FK-GUARD-DISABLED FK-TRIGGER-ALTERED FK-META",
     FK__DOCTOR_INSTALLED, 1, fk__doctor_triggers},
    {"FK-FUNCTION", FK__DOCTOR_INSTALLED, 1, fk__doctor_functions},
    {"FK-RULE", FK__DOCTOR_INSTALLED, 1, fk__doctor_rules},
    {"FK-NO-DDL-GUARD", FK__DOCTOR_INSTALLED, 1, fk__doctor_ddl_guard},
    {"FK-META", FK__DOCTOR_AUDIT, 1, fk__doctor_meta},
    {"FK-AUDIT-PRIVILEGES", FK__DOCTOR_AUDIT, 1, fk__doctor_privileges},
    {"FK-SETTING", 0, 1, fk__doctor_settings},
    {"FK-MASS-CHANGE", FK__DOCTOR_AUDIT, 1, fk__doctor_mass_change},
    {"FK-STALE-EXPORT", FK__DOCTOR_FIXTURES, 1, fk__doctor_freshness},
    /* after the manifest check (the anchor, edited files) */
    {"FK-UNTRACED FK-MANIFEST", FK__DOCTOR_FIXTURES | FK__DOCTOR_AUDIT, 1, fk__doctor_untraced},
    /* fk_audit_verify takes its own snapshot */
    {"FK-TAMPER FK-UNSEALED", FK__DOCTOR_AUDIT, 0, fk__doctor_chain},
    /* files only */
    {"FK-BACKUP-NONE FK-BACKUP-STALE FK-BACKUP-IDENTICAL FK-BACKUP-SHRINK", FK__DOCTOR_BACKUPS,
     0, fk__doctor_backups},
};
const size_t fk__doctor_ncheck = sizeof fk__doctor_checks / sizeof fk__doctor_checks[0];

int fk_doctor_options_init(fk_doctor_options *opts, unsigned version)
{
    static const size_t ends[] = {FK__FIELD_END(fk_doctor_options, backup_shrink_ratio)};
    int rc = FK__OPTIONS_INIT_VERSIONED(opts, version, FK_DOCTOR_OPTIONS_VERSION,
                                        "fk_doctor_options_init", ends);
    if (rc)
        return rc;
    opts->drop_warn_ratio = FK__DROP_RATIO;
    opts->max_export_age_s = 7 * 24 * 3600;
    opts->max_backup_age_s = 26 * 3600;
    opts->backup_shrink_ratio = 0.2;
    if (version >= 2) {
        opts->mass_change_ratio = 0.2;
        opts->mass_change_min = 10;
        opts->mass_change_window_s = 7 * 24 * 3600;
    }
    return FK_OK;
}

int fk__doctor_type(const fk__doctor *d, const char *type)
{
    for (size_t i = 0; i < d->reg->ntypes; i++)
        if (strcmp(d->reg->types[i].name, type) == 0)
            return (int)i;
    return -1;
}

int fk__doctor_usable(const fk__doctor *d, int t)
{
    return t >= 0 && !d->reg->types[t].damage ? t : -1;
}

static int already_lost(fk__doctor *d, int t, int64_t id)
{
    for (size_t i = 0; i < d->nlost[t]; i++)
        if (d->lost[t][i] == id)
            return 1;
    if (d->nlost[t] == d->caplost[t]) {
        int64_t *g = fk__grow(d->lost[t], &d->caplost[t], sizeof *g, 16);
        if (!g)
            return 1; /* out of memory: at worst a finding is repeated elsewhere */
        d->lost[t] = g;
    }
    d->lost[t][d->nlost[t]++] = id;
    return 0;
}

void fk__doctor_array_item(fk__buf *b, const char *s, int n)
{
    fk__buf_puts(b, n ? ",\"" : "\"");
    for (const char *c = s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fk__buf_putc(b, '\\');
        fk__buf_putc(b, *c);
    }
    fk__buf_putc(b, '"');
}

void fk__doctor_lost(fk__doctor *d, int t, int64_t id, const char *name, const char *source)
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

/* The caller's options over the defaults. A zero threshold takes the
 * default (recovery.h documents it), so the defaults themselves are only
 * in fk_doctor_options_init. */
static int take_options(fk__doctor *d, const fk_doctor_options *opts)
{
    fk_doctor_options_init(&d->o, FK_DOCTOR_OPTIONS_VERSION);
    if (!opts)
        return FK_OK;
    if (fk__options_check(d->ctx, opts, FK_DOCTOR_OPTIONS_VERSION, "fk_doctor"))
        return FK_EINVAL;
    d->o.fixture_dir = opts->fixture_dir;
    d->o.backup_dir = opts->backup_dir;
    if (opts->drop_warn_ratio > 0)
        d->o.drop_warn_ratio = opts->drop_warn_ratio;
    if (opts->max_export_age_s > 0)
        d->o.max_export_age_s = opts->max_export_age_s;
    if (opts->max_backup_age_s > 0)
        d->o.max_backup_age_s = opts->max_backup_age_s;
    if (opts->backup_shrink_ratio > 0)
        d->o.backup_shrink_ratio = opts->backup_shrink_ratio;
    if (opts->version < 2)
        return FK_OK;
    d->o.progress = opts->progress;
    d->o.progress_data = opts->progress_data;
    if (opts->mass_change_ratio > 0)
        d->o.mass_change_ratio = opts->mass_change_ratio;
    if (opts->mass_change_min > 0)
        d->o.mass_change_min = opts->mass_change_min;
    if (opts->mass_change_window_s > 0)
        d->o.mass_change_window_s = opts->mass_change_window_s;
    FK__ARG(d->ctx, "fk_doctor", opts->accept_mass_change || !opts->naccept_mass_change);
    d->o.accept_mass_change = opts->accept_mass_change;
    d->o.naccept_mass_change = opts->naccept_mass_change;
    return FK_OK;
}

static int start(fk__doctor *d)
{
    int rc = fk__ctx_registry(d->ctx, &d->reg);
    if (rc)
        return rc;
    size_t n = d->reg->ntypes;
    if (fk__report_new(&d->report, "doctor") != FK_OK)
        return fk__oom(d->ctx);
    d->lost = fk__calloc(n, sizeof *d->lost);
    d->nlost = fk__calloc(n, sizeof *d->nlost);
    d->caplost = fk__calloc(n, sizeof *d->caplost);
    d->known_manifest = fk__malloc((n + 1) * sizeof *d->known_manifest);
    d->known_audit = fk__malloc((n + 1) * sizeof *d->known_audit);
    d->sample = fk__calloc(n + 1, sizeof *d->sample);
    if (!d->lost || !d->nlost || !d->caplost || !d->known_manifest || !d->known_audit ||
        !d->sample)
        return fk__oom(d->ctx);
    for (size_t i = 0; i < n; i++)
        d->known_manifest[i] = d->known_audit[i] = -1;
    return FK_OK;
}

static void release(fk__doctor *d)
{
    if (d->root >= 0)
        close(d->root);
    for (size_t i = 0; d->lost && i < d->reg->ntypes; i++)
        fk__xfree(d->lost[i]);
    for (size_t i = 0; d->sample && i < d->reg->ntypes; i++)
        fk__xfree(d->sample[i]);
    fk__xfree(d->sample);
    fk__xfree(d->lost);
    fk__xfree(d->nlost);
    fk__xfree(d->caplost);
    fk__xfree(d->known_manifest);
    fk__xfree(d->known_audit);
}

static int has(const fk__doctor *d, unsigned needs)
{
    return (!(needs & FK__DOCTOR_FIXTURES) || d->o.fixture_dir) &&
           (!(needs & FK__DOCTOR_BACKUPS) || d->o.backup_dir) &&
           (!(needs & FK__DOCTOR_INSTALLED) || d->info.installed) &&
           (!(needs & FK__DOCTOR_AUDIT) || d->audit_ok);
}

static int progress(fk__doctor *d, const fk__doctor_check *c)
{
    d->checks_done++;
    if (!d->o.progress)
        return FK_OK;
    char code[32];
    snprintf(code, sizeof code, "%.*s", (int)strcspn(c->codes, " "), c->codes);
    fk_progress p = {"doctor", code, d->checks_done, fk__doctor_ncheck};
    if (d->o.progress(&p, d->o.progress_data) != 0)
        return fk__fail(d->ctx, FK_ECANCELLED, "doctor cancelled");
    return FK_OK;
}

/* The entries of checks[] with this in_snapshot, in order; the first that
 * cannot run ends the pass (and doctor: a check that did not run must not
 * look passed). */
static int run_pass(fk__doctor *d, int in_snapshot)
{
    int rc = FK_OK;
    for (size_t i = 0; rc == FK_OK && i < fk__doctor_ncheck; i++) {
        const fk__doctor_check *c = &fk__doctor_checks[i];
        if (c->in_snapshot != in_snapshot)
            continue;
        if (has(d, c->needs))
            rc = c->fn(d);
        if (rc == FK_OK)
            rc = progress(d, c);
    }
    return rc;
}

static int run_checks(fk__doctor *d)
{
    fk__txn txn;
    int rc = fk__txn_begin(d->ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc)
        return rc;
    if ((rc = fk__install_info_read(d->ctx, &d->info)) && d->info.invalid[0]) {
        rc = FK_OK; /* a finding (the install check), not a failure to look */
        fk__ok(d->ctx);
    }
    snprintf(d->head_q, sizeof d->head_q, "%s.audit_head", d->info.schema_q);
    if (rc == FK_OK)
        rc = run_pass(d, 1);
    fk__txn_rollback(d->ctx, &txn);
    return rc ? rc : run_pass(d, 0);
}

/* After every check: the head doctor saw goes into the witness, unless a
 * check found the chain tampered with (the witness keeps the evidence). */
static int record_witness(fk__doctor *d)
{
    if (!d->wit_checked)
        return FK_OK;
    for (size_t i = 0; i < fk_report_item_count(d->report); i++)
        if (strcmp(fk_report_item_at(d->report, i)->code, "FK-TAMPER") == 0)
            return FK_OK;
    return fk__witness_record(d->ctx, d->root, "doctor", &d->wit, d->report);
}

/* The counters, and the report handed over; FK_EVERIFY when any finding is
 * an error. */
static int finish(fk__doctor *d, fk_report **out)
{
    fk__report_count(d->report, "lost", 0);
    if (fk__report_failed(d->report)) {
        fk_report_free(d->report);
        return fk__oom(d->ctx);
    }
    size_t errors = fk_report_error_count(d->report);
    fk__report_count(d->report, "errors", (int64_t)errors);
    fk__report_count(d->report, "warnings", 0);
    for (size_t i = 0; i < fk_report_item_count(d->report); i++)
        if (fk_report_item_at(d->report, i)->severity == FK_SEV_WARNING)
            fk__report_count(d->report, "warnings", 1);
    fk__report_give(out, d->report);
    if (errors)
        return fk__fail(d->ctx, FK_EVERIFY, "doctor found %zu problem%s", errors,
                        errors == 1 ? "" : "s");
    return FK_OK;
}

int fk_doctor(fk_report **out, fk_ctx *ctx, const fk_doctor_options *opts)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_doctor");
    fk__doctor d;
    memset(&d, 0, sizeof d);
    d.ctx = ctx;
    d.root = -1;
    int rc = take_options(&d, opts);
    if (rc)
        return rc;
    /* before its snapshot: the chain and the changed fields the checks read
     * as sealed, where this session may seal */
    if ((rc = start(&d)) == FK_OK && (rc = fk__audit_seal_try(ctx, d.seal_error, sizeof d.seal_error)) == FK_OK)
        rc = run_checks(&d);
    if (rc == FK_OK)
        rc = record_witness(&d);
    release(&d);
    if (rc) {
        fk_report_free(d.report);
        return rc;
    }
    return finish(&d, out);
}
