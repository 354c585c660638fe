/* fortknox doctor: silent loss, and what makes loss possible. */
#include "cli.h"

#include <string.h>

typedef struct doctor_args {
    const char *fixtures, *backups;
} doctor_args;

static int doctor_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    (void)progress;
    const doctor_args *a = arg;
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = a->fixtures;
    o.backup_dir = a->backups;
    return fk_doctor(report, ctx, &o);
}

/* Findings per code, lost entities per type, then the findings themselves. */
static void human(cli *c, const cli_result *r)
{
    if (!r->report)
        return;
    if (!c->quiet) {
        out_item_counts(r->report, NULL, "  ", stdout);
        size_t n = fk_report_item_count(r->report), lost = 0;
        for (size_t i = 0; i < n; i++) {
            const char *code = fk_report_item_at(r->report, i)->code;
            lost += code && strcmp(code, "FK-LOSS") == 0;
        }
        if (lost) {
            printf("\nlost entities per type:\n");
            out_item_counts(r->report, "FK-LOSS", "  ", stdout);
        }
    }
    if (fk_report_item_count(r->report)) {
        putchar('\n');
        out_items(c, r->report, NULL, c->verbose ? 0 : 25, "  ", stdout);
    }
}

static int run(cli *c, int argc, char **argv)
{
    doctor_args a = {0};
    const cli_opt opts[] = {
        {"fixtures", CLI_STRING, &a.fixtures, 0},
        {"backups", CLI_STRING, &a.backups, 0},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    cli_result r = {.problem_status = FK_EVERIFY, .human = human};
    rc = cli_run_op(c, &r, 0, doctor_op, &a);
    if (rc == FK_OK || rc == FK_EVERIFY) {
        size_t n = fk_report_item_count(r.report), warnings = 0;
        for (size_t i = 0; i < n; i++)
            warnings += fk_report_item_at(r.report, i)->severity == FK_SEV_WARNING;
        size_t errors = fk_report_error_count(r.report);
        if (errors)
            cli_summary(&r, "doctor found %zu problem%s and %zu warning%s", errors,
                        errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
        else
            cli_summary(&r, "doctor found no loss and no error (%zu warning%s)", warnings,
                        warnings == 1 ? "" : "s");
    }
    return cli_finish(c, &r);
}

const cli_command cli_cmd_doctor = {CLI_DOC(doctor), run};
