/* Output helpers: report items through the library's formatter, the JSON
 * string writer, durations for the demo's and watch's own lines, and diff
 * lines (audit log --diff, restore --all). */
#include "cli.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

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

/* Copies s cut to at most max code points (max >= 4), marking a cut with
 * "...". */
const char *out_cut(char *dst, size_t cap, const char *s, size_t max)
{
    size_t cps = 0, keep = 0;
    for (size_t i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cps == max - 3)
                keep = i; /* where code point max-3 starts: keep what is before */
            cps++;
        }
    if (cps <= max)
        snprintf(dst, cap, "%s", s);
    else
        snprintf(dst, cap, "%.*s...", (int)keep, s);
    return dst;
}

/* A diff line longer than this many code points is cut: --json has it whole. */
#define DIFF_LINE_MAX 200

void out_diff_lines(FILE *f, const cJSON *diff, const char *indent)
{
    const cJSON *e;
    if (!cJSON_GetArraySize(diff))
        fprintf(f, "%s(no change)\n", indent);
    cJSON_ArrayForEach(e, diff)
    {
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "text"));
        size_t cap = text ? strlen(text) + 4 : 0;
        char *line = text ? malloc(cap) : NULL;
        if (line)
            fprintf(f, "%s%s\n", indent, out_cut(line, cap, text, DIFF_LINE_MAX));
        free(line);
    }
}
