/* fortknox registry check [FILE]: is this registry right for this database?
 * Every problem named, not only the first (fk_registry_check). */
#include "cli.h"

static int run(cli *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 0, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (c->npos)
        c->registry = c->pos[0]; /* FILE wins over --registry and FORTKNOX_REGISTRY */
    const char *file = cli_registry(c);
    cli_result r = {.problem_status = FK_EVERIFY};
    fk_ctx *ctx = NULL;
    /* lazy: a malformed file is this command's finding, not a failure to open */
    if (cli_open(c, &ctx, FK_OPEN_LAZY_REGISTRY, &r) == FK_OK) {
        r.status = fk_registry_check(&r.report, ctx);
        if (r.status != FK_OK)
            cli_fail(&r, r.status, ctx);
    }
    fk_close(ctx);
    cli_report_summary(&r, file ? file : "(built-in Parthenon)");
    return cli_finish(c, &r);
}

const cli_command cli_cmd_registry_check = {CLI_DOC(registry_check), run};
