/* fortknox snapshot DIR [--git] [--message MSG]: export, then commit only
 * the fixture paths. What a deploy script runs before migrating (see
 * examples/deploy-snapshot.sh). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int run(cli *c, int argc, char **argv)
{
    int use_git = 0;
    const char *message = CLI_DEFAULT_COMMIT_MESSAGE;
    const cli_opt opts[] = {
        {"git", CLI_FLAG, &use_git, 1},
        {"message", CLI_STRING, &message, 0},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!*message)
        return cli_usage(c, "--message must not be empty");
    const char *dir = c->pos[0];
    cli_result r = {0};
    char *top = NULL;
    /* outside a work tree, fail before writing anything */
    if (use_git && git_toplevel(&top, dir, &r) != 0)
        return cli_finish(c, &r);
    if (cli_run_op(c, &r, 0, cli_op_export, (void *)dir) == FK_OK) {
        cli_export_summary(&r, dir);
        char *commit = NULL;
        if (use_git && git_commit_dir(c, top, dir, message, &commit, &r) == 0) {
            char *sentence = cli_strdupf("%s; %s%s", r.summary,
                                         commit ? "committed " : "nothing to commit",
                                         commit ? commit : "");
            if (sentence) {
                free(r.summary);
                r.summary = sentence;
            }
            r.data = commit ? cli_strdupf("{\"git\": true, \"committed\": true, \"commit\": "
                                          "\"%s\"}",
                                          commit)
                            : strdup("{\"git\": true, \"committed\": false, \"commit\": null}");
        }
        free(commit);
    }
    free(top);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_snapshot = {
    "snapshot",
    "snapshot DIR [--git] [--message MSG]",
    "export, then commit ONLY the paths under DIR",
    "usage: fortknox snapshot DIR [--git] [--message MSG]\n"
    "\n"
    "Exports like `fortknox export DIR`; with --git, then stages everything under DIR\n"
    "(new, changed and removed files) and commits exactly those paths: other staged\n"
    "changes stay staged and uncommitted. Nothing is committed when nothing changed.\n"
    "Fails before exporting when DIR is not inside a git work tree.\n"
    "\n"
    "options:\n"
    "  --git          commit DIR after the export\n"
    "  --message MSG  commit message (default \"" CLI_DEFAULT_COMMIT_MESSAGE "\")\n",
    run,
};
