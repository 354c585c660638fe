/* fk_report_format(): what the fortknox tool prints at the end of a command,
 * as one JSON document or as text, so that every program built on the
 * library (the tool, the PHP binding's artisan commands) prints the same. */
#include "ctx_internal.h"
#include "report_text.h"
#include "fortknox/report.h"
#include "entry.h"
#include <stdio.h>
#include <string.h>

/* The tool's exit statuses that decide whether there is any text. */
enum { EXIT_OK = 0, EXIT_FAILURE = 3 };

int fk_report_format_options_init(fk_report_format_options *opts, unsigned version)
{
    return FK__OPTIONS_INIT(opts, version, FK_REPORT_FORMAT_OPTIONS_VERSION, "fk_report_format_options_init");
}

/* A JSON string as the tool has always written it: '/' and non-ASCII bytes
 * as they are, other controls as \u00XX; NULL as null. */
static void put_string(fk__buf *b, const char *s)
{
    if (!s) {
        fk__buf_puts(b, "null");
        return;
    }
    fk__buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fk__buf_puts(b, "\\\""); break;
        case '\\': fk__buf_puts(b, "\\\\"); break;
        case '\n': fk__buf_puts(b, "\\n"); break;
        case '\r': fk__buf_puts(b, "\\r"); break;
        case '\t': fk__buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                fk__buf_printf(b, "\\u%04x", *p);
            else
                fk__buf_putc(b, (char)*p);
        }
    }
    fk__buf_putc(b, '"');
}

static int put_document(fk__buf *b, const fk_report *report, const fk_report_format_options *o)
{
    char *report_json = NULL;
    if (report) {
        int rc = fk_report_json(&report_json, report);
        if (rc != FK_OK)
            return rc;
    }
    fk__buf_puts(b, "{\"format\": \"fortknox-cli\", \"format_version\": 1, \"command\": ");
    put_string(b, o->command);
    fk__buf_printf(b, ", \"exit_status\": %d, \"status\": ", o->exit_status);
    put_string(b, fk_status_name(o->status));
    fk__buf_puts(b, ", \"error\": ");
    put_string(b, o->status == FK_OK ? NULL : o->error);
    fk__buf_printf(b, ", \"report\": %s, \"data\": %s}\n", report_json ? report_json : "null",
                   o->data ? o->data : "null");
    fk_free(report_json);
    return FK_OK;
}

/* Nothing is shown of a command that could not run (its error, on standard
 * error, says it all), nor of a quiet success. */
static int text_shown(const fk_report_format_options *o)
{
    return o->exit_status != EXIT_FAILURE &&
           !((o->flags & FK_REPORT_FORMAT_QUIET) && o->exit_status == EXIT_OK);
}

static void put_text(fk__buf *b, const fk_report *report, const fk_report_format_options *o)
{
    if (!text_shown(o))
        return;
    if (o->summary && *o->summary)
        fk__buf_printf(b, "%s\n", o->summary);
    if (report)
        fk__report_text(b, report, o);
}

/* The options to work with: the caller's, completed. */
static int resolve(fk_report_format_options *o, const fk_report *report,
                   const fk_report_format_options *opts)
{
    if (fk__options_check(NULL, opts, FK_REPORT_FORMAT_OPTIONS_VERSION, "fk_report_format"))
        return FK_EINVAL;
    if (opts)
        *o = *opts;
    else
        fk_report_format_options_init(o, FK_REPORT_FORMAT_OPTIONS_VERSION);
    if (o->layout < FK_REPORT_LAYOUT_AUTO || o->layout > FK_REPORT_LAYOUT_ITEMS)
        return fk__fail(NULL, FK_EINVAL, "fk_report_format: unknown layout %d", (int)o->layout);
    if (o->layout == FK_REPORT_LAYOUT_AUTO) {
        const char *op = fk_report_operation(report);
        o->layout = op && strcmp(op, "doctor") == 0 ? FK_REPORT_LAYOUT_FINDINGS
                                                    : FK_REPORT_LAYOUT_COUNTERS;
    }
    if (!o->indent)
        o->indent = "  ";
    return FK_OK;
}

int fk_report_format(char **out, const fk_report *report, const fk_report_format_options *opts)
{
    FK__ARG(NULL, "fk_report_format", out);
    *out = NULL;
    fk_report_format_options o;
    int rc = resolve(&o, report, opts);
    if (rc != FK_OK)
        return rc;
    fk__buf b = FK__BUF_INIT;
    if (o.flags & FK_REPORT_FORMAT_JSON)
        rc = put_document(&b, report, &o);
    else
        put_text(&b, report, &o);
    if (rc == FK_OK && !b.failed)
        *out = fk__buf_detach(&b);
    fk__buf_dispose(&b);
    if (rc == FK_OK && !*out)
        rc = FK_ENOMEM;
    return rc == FK_OK ? FK_OK : fk__fail(NULL, rc, "fk_report_format: %s", fk_strerror(rc));
}
