/* fortknox export DIR: every entity to its own JSON file under DIR. */
#include "cli.h"

#include <string.h>

/* The export itself, shared with snapshot and watch. */
int cli_op_export(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    const cli_export_args *a = arg;
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.progress = progress_cb;
    o.progress_data = progress;
    if (a->full)
        o.flags |= FK_EXPORT_FULL;
    for (size_t i = 0; a->accept_loss && a->r && i < a->accept_loss->n; i++) {
        const char *type;
        int64_t id;
        /* the library lists the types too; this adds "did you mean" */
        if (cli_entity_arg(a->accept_loss->v[i], &type, &id, 0) == 0 &&
            cli_check_type(ctx, type, a->r) != FK_OK)
            return FK_EINVAL;
    }
    if (a->accept_loss) {
        o.accept_loss = a->accept_loss->v;
        o.naccept_loss = a->accept_loss->n;
    }
    return fk_export(report, ctx, a->dir, &o);
}

int cli_check_accept_loss(cli *c, const cli_list *accept)
{
    for (size_t i = 0; i < accept->n; i++) {
        const char *type;
        int64_t id;
        if (strcmp(accept->v[i], "all") != 0 && cli_entity_arg(accept->v[i], &type, &id, 0) != 0)
            return cli_usage(c, "--accept-loss takes TYPE:ID or all, not \"%s\"", accept->v[i]);
    }
    return 0;
}

static int run(cli *c, int argc, char **argv)
{
    cli_list accept = {0};
    int full = 0;
    const cli_opt opts[] = {
        {"accept-loss", CLI_LIST, &accept, 0},
        {"full", CLI_FLAG, &full, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_check_accept_loss(c, &accept)))
        return rc;
    cli_result r = {.problem_status = FK_ELOSS};
    cli_export_args a = {c->pos[0], &accept, &r, full};
    cli_run_op(c, &r, 0, cli_op_export, &a);
    cli_report_summary(&r, a.dir);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_export = {CLI_DOC(export), run};
