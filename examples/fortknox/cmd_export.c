/* fortknox export DIR: every entity to its own JSON file under DIR. */
#include "cli.h"

/* The export itself, shared with snapshot and watch: arg is the directory. */
int cli_op_export(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_export(report, ctx, arg, &o);
}

static int run(cli *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    const char *dir = c->pos[0];
    cli_result r = {0};
    if (cli_run_op(c, &r, 0, cli_op_export, (void *)dir) == FK_OK)
        cli_export_summary(&r, dir);
    return cli_finish(c, &r);
}

void cli_export_summary(cli_result *r, const char *dir)
{
    cli_summary(r, "exported %lld entities to %s: %lld written, %lld unchanged, %lld removed",
                (long long)fk_report_counter(r->report, "entities"), dir,
                (long long)fk_report_counter(r->report, "written"),
                (long long)fk_report_counter(r->report, "unchanged"),
                (long long)fk_report_counter(r->report, "removed"));
}

const cli_command cli_cmd_export = {
    "export",
    "export DIR",
    "write every entity to DIR",
    "usage: fortknox export DIR\n"
    "\n"
    "Writes every entity of every registered type (soft-deleted ones too) to its own\n"
    "JSON file under DIR, from one consistent snapshot, and replaces DIR's manifest.\n"
    "Crash-safe: a kill at any moment leaves every file old or new. Unchanged files\n"
    "are not rewritten, so git sees only real changes. Ctrl-C cancels and changes\n"
    "nothing.\n",
    run,
};
