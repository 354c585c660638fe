/* Output helpers: report items through the library's formatter, the JSON
 * string writer and durations for the demo's and watch's own lines. */
#include "cli.h"

void out_json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

const char *out_duration(char buf[32], double ms)
{
    if (ms < 1000)
        snprintf(buf, 32, "%.0f ms", ms);
    else
        snprintf(buf, 32, "%.1f s", ms / 1000);
    return buf;
}

void out_items(const cli *c, const fk_report *report, const char *code, size_t limit,
               const char *indent)
{
    fk_report_format_options o;
    fk_report_format_options_init(&o, FK_REPORT_FORMAT_OPTIONS_VERSION);
    o.flags = c->verbose ? FK_REPORT_FORMAT_VERBOSE : 0;
    o.layout = FK_REPORT_LAYOUT_ITEMS;
    o.item_code = code;
    o.max_items = limit;
    o.indent = indent;
    char *out = NULL;
    if (fk_report_format(&out, report, &o) == FK_OK)
        fputs(out, stdout);
    fk_free(out);
}
