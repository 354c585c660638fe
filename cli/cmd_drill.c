/* fortknox drill DIR: prove that DIR restores exactly, without touching live
 * rows (the library restores into a scratch schema that is always dropped). */
#include "cli.h"

static int drill_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    fk_verify_options o;
    fk_verify_options_init(&o, FK_VERIFY_OPTIONS_VERSION);
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_drill(report, ctx, arg, &o);
}

static int run(cli *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    const char *dir = c->pos[0];
    cli_result r = {.problem_status = FK_EVERIFY};
    cli_run_op(c, &r, 0, drill_op, (void *)dir);
    cli_report_summary(&r, dir);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_drill = {CLI_DOC(drill), run};
