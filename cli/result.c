/* The end of every command: the exit status and what gets printed.
 *
 * With --json, stdout receives exactly one JSON document, whatever happened
 * (success, a problem found, a usage error, a failure), so a script can always
 * parse it:
 *
 *   {"format": "fortknox-cli", "format_version": 1, "command": "verify",
 *    "exit_status": 1, "status": "FK_EVERIFY", "error": "...",
 *    "report": {...fk_report_json()...} | null, "data": ... | null}
 *
 * "report" is the library's report, passed through unchanged; "data" holds
 * what a command has beyond a report (the audit rows of `audit log`, the
 * install status, the git commit of `snapshot`, the demo's steps). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_status(const cli_result *r)
{
    if (r->status == FK_OK)
        return CLI_EXIT_OK;
    /* every argument the CLI hands the library comes from its user */
    if (r->status == FK_EINVAL)
        return CLI_EXIT_USAGE;
    /* a finding (difference, tampering, loss) is exit 1 whichever command
     * found it; 3 is for a command that could not do its work */
    if ((r->problem_status && r->status == r->problem_status) || r->status == FK_EVERIFY ||
        r->status == FK_ETAMPER || r->status == FK_ELOSS)
        return CLI_EXIT_PROBLEM;
    return CLI_EXIT_FAILURE;
}

void cli_fail(cli_result *r, int status, const fk_ctx *ctx)
{
    const char *msg = fk_errmsg(ctx);
    if (!msg || !*msg)
        msg = fk_strerror(status);
    free(r->error);
    r->error = strdup(msg);
    r->status = status;
}

void cli_fail_msg(cli_result *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    free(r->error);
    r->error = msg;
    r->status = status;
}

void cli_summary(cli_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    free(r->summary);
    r->summary = s;
}

static void print_document(const cli *c, int exit_status, int status, const char *error,
                           const fk_report *report, const char *data)
{
    char *report_json = NULL;
    if (report && fk_report_json(&report_json, report) != FK_OK)
        report_json = NULL;
    fputs("{\"format\": \"fortknox-cli\", \"format_version\": 1, \"command\": ", stdout);
    out_json_string(stdout, c->cmd ? c->cmd->name : NULL);
    printf(", \"exit_status\": %d, \"status\": ", exit_status);
    out_json_string(stdout, fk_status_name(status));
    fputs(", \"error\": ", stdout);
    out_json_string(stdout, status == FK_OK ? NULL : error);
    printf(", \"report\": %s, \"data\": %s}\n", report_json ? report_json : "null",
           data ? data : "null");
    fflush(stdout);
    fk_free(report_json);
}

int cli_usage(cli *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fortknox%s%s: %s\n\n", c->cmd ? " " : "", c->cmd ? c->cmd->name : "", msg);
    if (c->cmd)
        fputs(c->cmd->help, stderr);
    else
        cli_print_overview(stderr);
    if (c->json)
        print_document(c, CLI_EXIT_USAGE, FK_EINVAL, msg, NULL, NULL);
    return CLI_EXIT_USAGE;
}

int cli_finish(cli *c, cli_result *r)
{
    int exit_status = cli_exit_status(r);
    if (c->json) {
        print_document(c, exit_status, r->status, r->error, r->report, r->data);
    } else {
        if (exit_status != CLI_EXIT_FAILURE && !(c->quiet && exit_status == CLI_EXIT_OK)) {
            if (r->summary)
                printf("%s\n", r->summary);
            if (r->human)
                r->human(c, r);
            else if (r->report)
                out_report(c, r->report, stdout);
            fflush(stdout);
        }
        if (exit_status != CLI_EXIT_OK)
            fprintf(stderr, "fortknox %s: %s\n", c->cmd ? c->cmd->name : "",
                    r->error ? r->error : fk_strerror(r->status));
    }
    fk_report_free(r->report);
    free(r->error);
    free(r->data);
    free(r->summary);
    memset(r, 0, sizeof *r);
    return exit_status;
}
