/* fortknox audit verify: recomputes the audit log's hash chain. */
#include "cli.h"

#include <stdio.h>

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
    rc = cli_run_op(c, &r, CLI_AUDIT_OPEN_FLAGS, verify_op, (void *)anchor);
    /* "anchored" only for a real anchor: a manifest whose anchor is null
     * (exported with no audit log) proves nothing */
    long long anchored = rc == FK_OK ? (long long)fk_report_counter(r.report, "anchor_id") : 0;
    if (rc == FK_OK && anchor) {
        char how[64] = "NOT anchored (the manifest has no anchor)";
        if (anchored)
            snprintf(how, sizeof how, "anchored at row %lld", anchored);
        long long seen = (long long)fk_report_counter(r.report, "witnessed");
        cli_summary(&r, "audit chain intact: %lld rows verified; %s in %s; %lld witnessed "
                        "head%s still in the chain",
                    (long long)fk_report_counter(r.report, "rows"), how, anchor, seen,
                    seen == 1 ? "" : "s");
    }
    else if (rc == FK_OK)
        cli_summary(&r, "audit chain intact: %lld rows verified (not anchored: give --anchor "
                        "DIR to check it against the fixtures' anchor and witness)",
                    (long long)fk_report_counter(r.report, "rows"));
    else if (rc == FK_ETAMPER)
        cli_summary(&r, "audit chain BROKEN: the audit log was altered");
    return cli_finish(c, &r);
}

const cli_command cli_cmd_audit_verify = {CLI_DOC(audit_verify), run_verify};
