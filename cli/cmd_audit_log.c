/* fortknox audit log: the tamper-evident audit log, newest first. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct log_args {
    const char *entity, *since;
    int64_t limit;
    const char *type;
    int64_t id;
    int diff;
} log_args;

static int run_log(cli *c, int argc, char **argv)
{
    log_args a = {0};
    const cli_opt opts[] = {
        {"entity", CLI_STRING, &a.entity, 0},
        {"since", CLI_STRING, &a.since, 0},
        {"limit", CLI_INT, &a.limit, 0},
        {"diff", CLI_FLAG, &a.diff, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (a.entity && cli_entity_arg(a.entity, &a.type, &a.id, 1) != 0)
        return cli_usage(c, "--entity needs TYPE or TYPE:ID (ID a positive integer), not \"%s\"",
                         a.entity);
    /* a diff reads as one entity's story; across all entities it is a flood */
    if (a.diff && a.id == 0)
        return cli_usage(c, "--diff needs --entity TYPE:ID, e.g. --entity cohort_definition:65 "
                            "--diff: it shows how one entity changed, row by row (without "
                            "--diff, --entity TYPE lists a type's rows)");
    cli_result r = {0};
    fk_ctx *ctx = NULL;
    if (cli_open(c, &ctx, CLI_AUDIT_OPEN_FLAGS, &r) == FK_OK) {
        fk_audit_query q;
        fk_audit_query_init(&q, FK_AUDIT_QUERY_VERSION);
        q.entity_type = a.type;
        q.entity_id = a.id;
        q.since = a.since;
        q.limit = a.limit;
        char *rows = NULL;
        r.status = fk_audit_log(&rows, ctx, &q);
        if (r.status != FK_OK)
            cli_fail(&r, r.status, ctx);
        /* no rows for a type: a typo, unless the type is in the registry
         * (a type no longer in it still shows its history) */
        else if (!a.type || strcmp(rows, "[]") != 0 || cli_check_type(ctx, a.type, &r) == FK_OK) {
            char *diffed = NULL;
            if (!a.diff)
                r.data = strdup(rows);
            else if ((r.status = fk_audit_diff(&diffed, rows)) != FK_OK)
                cli_fail(&r, r.status, NULL);
            else
                r.data = strdup(diffed);
            fk_free(diffed);
            /* the text is the library's: every front end prints the same */
            char *text = NULL;
            if (r.status == FK_OK && (r.status = fk_audit_log_format(
                                          &text, r.data, a.diff ? FK_AUDIT_LOG_FORMAT_DIFF : 0)))
                cli_fail(&r, r.status, NULL);
            else
                r.text = strdup(text);
            fk_free(text);
        }
        fk_free(rows);
    }
    fk_close(ctx);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_audit_log = {CLI_DOC(audit_log), run_log};
