/* fortknox verify DIR: is DIR a faithful, restorable copy of the database? */
#include "cli.h"

static int verify_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    fk_verify_options o;
    fk_verify_options_init(&o, FK_VERIFY_OPTIONS_VERSION);
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_verify(report, ctx, arg, &o);
}

static int run(cli *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    const char *dir = c->pos[0];
    cli_result r = {.problem_status = FK_EVERIFY};
    cli_run_op(c, &r, 0, verify_op, (void *)dir);
    cli_report_summary(&r, dir);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_verify = {
    "verify",
    "verify DIR",
    "database vs DIR; differences listed",
    "usage: fortknox verify DIR\n"
    "\n"
    "Compares the database with DIR entity by entity (semantically: 1.10 equals 1.1,\n"
    "key order does not matter), children included, and the manifest's SHA-256 with\n"
    "the files. Exit status 0 when identical, 1 when anything differs (listed).\n",
    run,
};
