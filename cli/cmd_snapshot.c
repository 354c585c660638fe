/* fortknox snapshot DIR [--git] [--message MSG]: export, then commit only
 * the fixture paths. What a deploy script runs before migrating (see
 * examples/deploy-snapshot.sh). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int run(cli *c, int argc, char **argv)
{
    int use_git = 0, full = 0;
    const char *message = CLI_DEFAULT_COMMIT_MESSAGE;
    cli_list accept = {0};
    const cli_opt opts[] = {
        {"git", CLI_FLAG, &use_git, 1},
        {"message", CLI_STRING, &message, 0},
        {"accept-loss", CLI_LIST, &accept, 0},
        {"full", CLI_FLAG, &full, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!*message)
        return cli_usage(c, "--message must not be empty");
    if ((rc = cli_check_accept_loss(c, &accept)))
        return rc;
    const char *dir = c->pos[0];
    cli_result r = {.problem_status = FK_ELOSS};
    cli_export_args a = {dir, &accept, &r, full};
    char *top = NULL;
    /* outside a work tree, or with no identity to commit as: fail before
     * writing anything */
    if (use_git && (git_toplevel(&top, dir, &r) != 0 || git_check_identity(top, &r) != 0)) {
        free(top);
        return cli_finish(c, &r);
    }
    rc = cli_run_op(c, &r, 0, cli_op_export, &a);
    if (rc == FK_ELOSS || rc == FK_ETAMPER) {
        /* committing now would put the loss into git as if it were a change */
        cli_report_summary(&r, dir);
        if (use_git) {
            char *sentence = cli_strdupf("%s; NOT committed: %s", r.summary,
                                         rc == FK_ELOSS ? "the loss must be restored or "
                                                          "acknowledged first"
                                                        : "the audit log the fixtures anchor "
                                                          "is gone or was rewritten");
            if (sentence) {
                free(r.summary);
                r.summary = sentence;
            }
            r.data = cli_strdupf("{\"git\": true, \"committed\": false, \"commit\": null, "
                                 "\"%s\": true}",
                                 rc == FK_ELOSS ? "loss" : "tamper");
        }
    } else if (rc == FK_OK) {
        cli_report_summary(&r, dir);
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

const cli_command cli_cmd_snapshot = {CLI_DOC(snapshot), run};
