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

const cli_command cli_cmd_verify = {CLI_DOC(verify), run};
