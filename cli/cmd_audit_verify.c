/* fortknox audit verify: recomputes the audit log's hash chain. */
#include "cli.h"

static int verify_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    fk_audit_verify_options o;
    fk_audit_verify_options_init(&o, FK_AUDIT_VERIFY_OPTIONS_VERSION);
    o.anchor_dir = arg;
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_audit_verify_with(report, ctx, &o);
}

static int run_verify(cli *c, int argc, char **argv)
{
    const char *anchor = NULL;
    const cli_opt opts[] = {
        {"anchor", CLI_STRING, &anchor, 0},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    cli_result r = {.problem_status = FK_ETAMPER};
    cli_run_op(c, &r, CLI_AUDIT_OPEN_FLAGS, verify_op, (void *)anchor);
    cli_report_summary(&r, anchor);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_audit_verify = {CLI_DOC(audit_verify), run_verify};
