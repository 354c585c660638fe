/* fortknox doctor: silent loss, and what makes loss possible. */
#include "cli.h"

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

const cli_command cli_cmd_doctor = {
    "doctor",
    "doctor [--fixtures DIR] [--backups DIR]",
    "look for silent loss and its causes",
    "usage: fortknox doctor [--fixtures DIR] [--backups DIR]\n"
    "\n"
    "Looks for silent loss (FK-LOSS: entities the manifest or the audit history knows\n"
    "but the database lacks; FK-DROP: tables that shrank), for what makes loss possible\n"
    "(missing or disabled guards and triggers, risky ON DELETE CASCADE, audit\n"
    "privileges, a broken audit chain), for damage (FK-SCHEMA: a registered table or\n"
    "column dropped, renamed, moved or retyped, with the entities it held), for a\n"
    "missing or half-done install (FK-NOT-INSTALLED: an error, so a wrong --schema or\n"
    "database never passes) and for stale exports and suspicious backups.\n"
    "Each finding has a code and a hint. Exit status 1 when any finding is an error;\n"
    "warnings alone give 0; 3 when a check could not run (nothing is reported passed).\n"
    "\n"
    "options:\n"
    "  --fixtures DIR  the fixture directory (its manifest says what should exist)\n"
    "  --backups DIR   a directory of backup files (*.sql.gz, ...) to check\n",
    run,
};
