/* fortknox audit seal: hashes the committed audit rows into the chain. */
#include "cli.h"

static int seal_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    (void)report;
    (void)progress;
    return fk_audit_seal(arg, ctx);
}

static int run_seal(cli *c, int argc, char **argv)
{
    const cli_opt opts[] = {{NULL, 0, NULL, 0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    uint64_t sealed = 0;
    cli_result r = {.problem_status = FK_ETAMPER};
    cli_run_op(c, &r, CLI_AUDIT_OPEN_FLAGS, seal_op, &sealed);
    if (r.status == FK_OK)
        cli_summary(&r, "audit log sealed: %llu row%s hashed into the chain", (unsigned long long)sealed,
                    sealed == 1 ? "" : "s");
    return cli_finish(c, &r);
}

const cli_command cli_cmd_audit_seal = {CLI_DOC(audit_seal), run_seal};
