/* Human output of reports, and the JSON string writer.
 *
 * Counters are read with fk_report_counter(); their names come from the
 * report's JSON (the C API has no way to enumerate them). Names of the form
 * "<type>.<counter>" become a table with one row per entity type. */
#include "cli.h"

#include <cJSON.h>
#include <inttypes.h>
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

static const char *sev_label(fk_severity s)
{
    return s == FK_SEV_ERROR ? "error" : s == FK_SEV_WARNING ? "warning" : "info";
}

static int item_shown(const cli *c, const fk_report_item *it)
{
    return c->verbose || it->severity != FK_SEV_INFO;
}

size_t out_items(const cli *c, const fk_report *report, const char *code, size_t limit,
                 const char *indent, FILE *f)
{
    size_t n = fk_report_item_count(report), matched = 0;
    for (size_t i = 0; i < n; i++) {
        const fk_report_item *it = fk_report_item_at(report, i);
        if (code ? !(it->code && strcmp(it->code, code) == 0) : !item_shown(c, it))
            continue;
        if (limit && matched >= limit) {
            matched++;
            continue;
        }
        matched++;
        /* name the entity, unless the message already starts by naming it */
        char entity[320] = "";
        const char *msg = it->message ? it->message : "";
        if (it->entity_type && it->entity_id)
            snprintf(entity, sizeof entity, "%s %" PRId64 ": ", it->entity_type, it->entity_id);
        else if (it->entity_type)
            snprintf(entity, sizeof entity, "%s: ", it->entity_type);
        if (it->entity_type && strncmp(msg, it->entity_type, strlen(it->entity_type)) == 0)
            entity[0] = '\0';
        fprintf(f, "%s%-7s %-18s %s%s\n", indent, sev_label(it->severity),
                it->code ? it->code : "", entity, msg);
        if (it->path)
            fprintf(f, "%s%-7s %-18s file: %s\n", indent, "", "", it->path);
        if (it->fields)
            fprintf(f, "%s%-7s %-18s fields: %s\n", indent, "", "", it->fields);
        if (it->hint)
            fprintf(f, "%s%-7s %-18s hint: %s\n", indent, "", "", it->hint);
    }
    if (limit && matched > limit)
        fprintf(f, "%s... and %zu more (--verbose or --json shows all)\n", indent,
                matched - limit);
    return matched;
}

/* Counter names, in the report's order. */
static cJSON *report_doc(const fk_report *report)
{
    char *json = NULL;
    if (fk_report_json(&json, report) != FK_OK)
        return NULL;
    cJSON *doc = cJSON_Parse(json);
    fk_free(json);
    return doc;
}

/* Index of s in list (adding it when absent); -1 when full. */
static int intern(const char **list, int *n, int cap, const char *s, size_t len)
{
    for (int i = 0; i < *n; i++)
        if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
            return i;
    if (*n == cap)
        return -1;
    list[*n] = strndup(s, len);
    return list[*n] ? (*n)++ : -1;
}

static void per_type_table(const fk_report *report, const cJSON *counters, FILE *f)
{
    enum { MAXT = 64, MAXC = 12 };
    const char *types[MAXT], *cols[MAXC];
    int nt = 0, nc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, counters)
    {
        const char *dot = strchr(it->string, '.');
        if (dot) {
            intern(types, &nt, MAXT, it->string, (size_t)(dot - it->string));
            intern(cols, &nc, MAXC, dot + 1, strlen(dot + 1));
        }
    }
    if (nt > 0) {
        cli_table *t = table_new((size_t)nc + 1);
        const char *cells[MAXC + 1];
        cells[0] = "type";
        for (int j = 0; j < nc; j++)
            cells[j + 1] = cols[j];
        table_row(t, cells);
        char vals[MAXC][24], name[320];
        for (int i = 0; i < nt; i++) {
            cells[0] = types[i];
            for (int j = 0; j < nc; j++) {
                snprintf(name, sizeof name, "%s.%s", types[i], cols[j]);
                snprintf(vals[j], sizeof vals[j], "%" PRId64, fk_report_counter(report, name));
                cells[j + 1] = vals[j];
            }
            table_row(t, cells);
        }
        fputc('\n', f);
        table_print(t, f, "  ");
        table_free(t);
    }
    for (int i = 0; i < nt; i++)
        free((char *)types[i]);
    for (int j = 0; j < nc; j++)
        free((char *)cols[j]);
}

void out_report(const cli *c, const fk_report *report, FILE *f)
{
    cJSON *doc = report_doc(report);
    const cJSON *counters = cJSON_GetObjectItemCaseSensitive(doc, "counters");
    if (!c->quiet && counters) {
        /* totals: the counters that are not per type, on one line */
        int first = 1;
        const cJSON *it;
        cJSON_ArrayForEach(it, counters)
        {
            if (strchr(it->string, '.') || strcmp(it->string, "elapsed_ms") == 0)
                continue;
            fprintf(f, "%s%s %" PRId64, first ? "  " : ", ", it->string,
                    fk_report_counter(report, it->string));
            first = 0;
        }
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(doc, "elapsed_ms");
        char d[32];
        if (cJSON_IsNumber(ms) && ms->valuedouble > 0)
            fprintf(f, "%s(%s)", first ? "  " : "  ", out_duration(d, ms->valuedouble));
        fputc('\n', f);
        per_type_table(report, counters, f);
    }
    size_t shown = 0, n = fk_report_item_count(report);
    for (size_t i = 0; i < n; i++)
        shown += item_shown(c, fk_report_item_at(report, i));
    if (shown) {
        fputc('\n', f);
        out_items(c, report, NULL, c->verbose ? 0 : 25, "  ", f);
    }
    cJSON_Delete(doc);
}

void out_item_counts(const fk_report *report, const char *code, const char *indent, FILE *f)
{
    enum { MAX = 64 };
    const char *keys[MAX];
    const char *sev[MAX];
    long counts[MAX];
    int n = 0;
    size_t total = fk_report_item_count(report);
    for (size_t i = 0; i < total; i++) {
        const fk_report_item *it = fk_report_item_at(report, i);
        if (code ? !(it->code && strcmp(it->code, code) == 0) : it->severity == FK_SEV_INFO)
            continue;
        const char *key = code ? it->entity_type : it->code;
        if (!key)
            key = "-";
        int k = 0;
        while (k < n && strcmp(keys[k], key) != 0)
            k++;
        if (k == n) {
            if (n == MAX)
                continue;
            keys[n] = key;
            sev[n] = sev_label(it->severity);
            counts[n++] = 0;
        }
        counts[k]++;
    }
    if (!n)
        return;
    cli_table *t = table_new(code ? 2 : 3);
    if (code)
        table_rowv(t, "type", "count");
    else
        table_rowv(t, "severity", "code", "count");
    for (int k = 0; k < n; k++) {
        char num[24];
        snprintf(num, sizeof num, "%ld", counts[k]);
        if (code)
            table_rowv(t, keys[k], num);
        else
            table_rowv(t, sev[k], keys[k], num);
    }
    table_print(t, f, indent);
    table_free(t);
}
