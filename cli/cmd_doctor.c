/* fortknox doctor: silent loss, and what makes loss possible. */
#include "cli.h"

typedef struct doctor_args {
    const char *fixtures, *backups;
} doctor_args;

static int doctor_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    const doctor_args *a = arg;
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = a->fixtures;
    o.backup_dir = a->backups;
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_doctor(report, ctx, &o);
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
    cli_result r = {.problem_status = FK_EVERIFY};
    cli_run_op(c, &r, 0, doctor_op, &a);
    cli_report_summary(&r, NULL);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_doctor = {CLI_DOC(doctor), run};
