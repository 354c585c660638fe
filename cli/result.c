/* The end of every command: the exit status and what gets printed.
 *
 * What goes to stdout is the library's fk_report_format(): with --json
 * exactly one JSON document, whatever happened (success, a problem found, a
 * usage error, a failure), so a script can always parse it:
 *
 *   {"format": "fortknox-cli", "format_version": 1, "command": "verify",
 *    "exit_status": 1, "status": "FK_EVERIFY", "error": "...",
 *    "report": {...fk_report_json()...} | null, "data": ... | null}
 *
 * "report" is the library's report, passed through unchanged; "data" holds
 * what a command has beyond a report (the audit rows of `audit log`, the
 * install status, the git commit of `snapshot`, the demo's steps). Programs
 * built on the library (the PHP binding's artisan commands) print the same
 * through the same call. */
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

void cli_report_summary(cli_result *r, const char *subject)
{
    char *s = NULL;
    if (r->report && fk_report_summary(&s, r->report, r->status, subject) == FK_OK && *s) {
        free(r->summary);
        r->summary = strdup(s);
    }
    fk_free(s);
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

/* The library's formatter prints what every program built on it prints
 * (the PHP binding's artisan commands too): the JSON document, or the
 * summary and the report. */
static void print_outcome(const cli *c, const cli_result *r, int exit_status,
                          const fk_report *report)
{
    fk_report_format_options o;
    fk_report_format_options_init(&o, FK_REPORT_FORMAT_OPTIONS_VERSION);
    o.flags = (c->json ? FK_REPORT_FORMAT_JSON : 0) | (c->verbose ? FK_REPORT_FORMAT_VERBOSE : 0) |
              (c->quiet ? FK_REPORT_FORMAT_QUIET : 0);
    o.command = c->cmd ? c->cmd->name : NULL;
    o.status = r->status;
    o.exit_status = exit_status;
    o.error = r->error;
    o.summary = r->summary;
    o.data = r->data;
    char *out = NULL;
    if (fk_report_format(&out, report, &o) == FK_OK)
        fputs(out, stdout);
    else
        fprintf(stderr, "fortknox: cannot print the outcome: %s\n", fk_errmsg(NULL));
    fflush(stdout);
    fk_free(out);
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
    if (c->json) {
        cli_result r = {.status = FK_EINVAL, .error = msg};
        print_outcome(c, &r, CLI_EXIT_USAGE, NULL);
    }
    return CLI_EXIT_USAGE;
}

int cli_finish(cli *c, cli_result *r)
{
    int exit_status = cli_exit_status(r);
    /* a command's own human output replaces the report's */
    int own = r->text && !c->json;
    print_outcome(c, r, exit_status, own ? NULL : r->report);
    if (!c->json) {
        /* shown when fk_report_format() shows text */
        if (own && exit_status != CLI_EXIT_FAILURE && !(c->quiet && exit_status == CLI_EXIT_OK)) {
            fputs(r->text, stdout);
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
    free(r->text);
    memset(r, 0, sizeof *r);
    return exit_status;
}
