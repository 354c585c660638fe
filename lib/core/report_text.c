/* A report for humans: the layouts of fk_report_format().
 *
 * This is the fortknox tool's output, which scripts and the PHP binding's
 * tests compare byte for byte: column widths, labels and limits are part of
 * it. */
#include "report_text.h"
#include "report_internal.h"
#include "text_table.h"
#include "alloc.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Fixed limits of the tables: a report with more entity types, counter
 * columns or finding codes shows the first ones. */
enum { MAX_TYPES = 64, MAX_COLUMNS = 12, MAX_KEYS = 64 };

static const char *sev_label(fk_severity s)
{
    return s == FK_SEV_ERROR ? "error" : s == FK_SEV_WARNING ? "warning" : "info";
}

static int is_verbose(const fk_report_format_options *o)
{
    return (o->flags & FK_REPORT_FORMAT_VERBOSE) != 0;
}

static int has_code(const fk_report_item *it, const char *code)
{
    return it->code && strcmp(it->code, code) == 0;
}

/* Whether an item is listed: those with item_code, or else the warnings and
 * errors (every item when verbose). */
static int item_listed(const fk_report_format_options *o, const fk_report_item *it)
{
    if (o->item_code)
        return has_code(it, o->item_code);
    return is_verbose(o) || it->severity != FK_SEV_INFO;
}

static size_t listed_count(const fk_report *report, const fk_report_format_options *o)
{
    size_t n = 0, total = fk_report_item_count(report);
    for (size_t i = 0; i < total; i++)
        n += item_listed(o, fk_report_item_at(report, i));
    return n;
}

/* "<indent><label> <code> <entity>: <message>", then its file, fields and
 * hint on lines of their own under the message. */
static void put_item(fk__buf *out, const char *indent, const fk_report_item *it)
{
    const char *msg = it->message ? it->message : "";
    fk__buf_printf(out, "%s%-7s %-18s ", indent, sev_label(it->severity), it->code ? it->code : "");
    /* name the entity, unless the message already starts by naming it */
    if (it->entity_type && strncmp(msg, it->entity_type, strlen(it->entity_type)) != 0) {
        if (it->entity_id)
            fk__buf_printf(out, "%s %" PRId64 ": ", it->entity_type, it->entity_id);
        else
            fk__buf_printf(out, "%s: ", it->entity_type);
    }
    fk__buf_printf(out, "%s\n", msg);
    const char *what[] = {"file", "fields", "hint"};
    const char *value[] = {it->path, it->fields, it->hint};
    for (int k = 0; k < 3; k++)
        if (value[k])
            fk__buf_printf(out, "%s%-7s %-18s %s: %s\n", indent, "", "", what[k], value[k]);
}

static void put_items(fk__buf *out, const fk_report *report, const fk_report_format_options *o)
{
    size_t limit = o->max_items ? o->max_items : is_verbose(o) ? 0 : 25;
    size_t n = fk_report_item_count(report), listed = 0;
    for (size_t i = 0; i < n; i++) {
        const fk_report_item *it = fk_report_item_at(report, i);
        if (!item_listed(o, it))
            continue;
        if (!limit || listed < limit)
            put_item(out, o->indent, it);
        listed++;
    }
    if (limit && listed > limit)
        fk__buf_printf(out, "%s... and %zu more (--verbose or --json shows all)\n", o->indent,
                       listed - limit);
}

/* Distinct names, copied, in the order first seen; at most MAX_TYPES. */
typedef struct name_list {
    char *v[MAX_TYPES];
    int n, cap;
    int failed;
} name_list;

static void names_add(name_list *l, const char *s, size_t len)
{
    for (int i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == len && strncmp(l->v[i], s, len) == 0)
            return;
    if (l->n == l->cap)
        return;
    if (!(l->v[l->n] = fk__strndup(s, len)))
        l->failed = 1;
    else
        l->n++;
}

static void names_free(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        fk__xfree(l->v[i]);
}

/* The counters named "<type>.<counter>": a row per type, a column per
 * counter, in the order they were first counted. */
static void per_type_table(fk__buf *out, const fk_report *report, const char *indent)
{
    name_list types = {.cap = MAX_TYPES}, cols = {.cap = MAX_COLUMNS};
    size_t n = fk_report_counter_count(report);
    for (size_t i = 0; i < n; i++) {
        const char *name = fk_report_counter_at(report, i, NULL);
        const char *dot = strchr(name, '.');
        if (dot) {
            names_add(&types, name, (size_t)(dot - name));
            names_add(&cols, dot + 1, strlen(dot + 1));
        }
    }
    fk__table t;
    fk__table_init(&t, (size_t)cols.n + 1);
    const char *cells[MAX_COLUMNS + 1] = {"type"};
    for (int j = 0; j < cols.n; j++)
        cells[j + 1] = cols.v[j];
    if (types.n)
        fk__table_row(&t, cells);
    char values[MAX_COLUMNS][24];
    fk__buf key = FK__BUF_INIT;
    for (int i = 0; i < types.n; i++) {
        cells[0] = types.v[i];
        for (int j = 0; j < cols.n; j++) {
            fk__buf_clear(&key);
            fk__buf_printf(&key, "%s.%s", types.v[i], cols.v[j]);
            snprintf(values[j], sizeof values[j], "%" PRId64,
                     fk_report_counter(report, fk__buf_cstr(&key)));
            cells[j + 1] = values[j];
        }
        fk__table_row(&t, cells);
    }
    if (types.failed || cols.failed || key.failed || fk__table_failed(&t))
        out->failed = 1;
    if (types.n) {
        fk__buf_putc(out, '\n');
        fk__table_print(out, &t, indent);
    }
    fk__table_dispose(&t);
    fk__buf_dispose(&key);
    names_free(&types);
    names_free(&cols);
}

/* The totals (counters that are not per type) on one line, then the elapsed
 * time: "  written 3, unchanged 9  (12 ms)". */
static void totals_line(fk__buf *out, const fk_report *report, const char *indent)
{
    int first = 1;
    size_t n = fk_report_counter_count(report);
    for (size_t i = 0; i < n; i++) {
        int64_t value;
        const char *name = fk_report_counter_at(report, i, &value);
        if (strchr(name, '.') || strcmp(name, "elapsed_ms") == 0)
            continue;
        fk__buf_printf(out, "%s%s %" PRId64, first ? indent : ", ", name, value);
        first = 0;
    }
    double ms = (double)fk__report_elapsed_ms(report);
    if (ms > 0) {
        if (ms < 1000)
            fk__buf_printf(out, "%s(%.0f ms)", indent, ms);
        else
            fk__buf_printf(out, "%s(%.1f s)", indent, ms / 1000);
    }
    fk__buf_putc(out, '\n');
}

static void counters_layout(fk__buf *out, const fk_report *report,
                            const fk_report_format_options *o)
{
    if (!(o->flags & FK_REPORT_FORMAT_QUIET)) {
        totals_line(out, report, o->indent);
        per_type_table(out, report, o->indent);
    }
    if (listed_count(report, o)) {
        fk__buf_putc(out, '\n');
        put_items(out, report, o);
    }
}

/* A table counting items: with code NULL the warnings and errors per code
 * (with the severity of the first), else the items with that code per
 * entity type. */
static void item_counts(fk__buf *out, const fk_report *report, const char *code,
                        const char *indent)
{
    const char *keys[MAX_KEYS], *sev[MAX_KEYS];
    size_t counts[MAX_KEYS];
    int n = 0;
    size_t total = fk_report_item_count(report);
    for (size_t i = 0; i < total; i++) {
        const fk_report_item *it = fk_report_item_at(report, i);
        if (code ? !has_code(it, code) : it->severity == FK_SEV_INFO)
            continue;
        const char *key = code ? it->entity_type : it->code;
        if (!key)
            key = "-";
        int k = 0;
        while (k < n && strcmp(keys[k], key) != 0)
            k++;
        if (k == n) {
            if (n == MAX_KEYS)
                continue;
            keys[n] = key;
            sev[n] = sev_label(it->severity);
            counts[n++] = 0;
        }
        counts[k]++;
    }
    if (!n)
        return;
    fk__table t;
    fk__table_init(&t, code ? 2 : 3);
    const char *header[] = {"severity", "code", "count"};
    fk__table_row(&t, code ? (const char *[]){"type", "count"} : header);
    for (int k = 0; k < n; k++) {
        char num[24];
        snprintf(num, sizeof num, "%zu", counts[k]);
        const char *row[] = {sev[k], keys[k], num};
        fk__table_row(&t, code ? row + 1 : row);
    }
    if (fk__table_failed(&t))
        out->failed = 1;
    fk__table_print(out, &t, indent);
    fk__table_dispose(&t);
}

/* Doctor's findings: how many per code, the lost entities per type, then
 * the findings themselves. */
static void findings_layout(fk__buf *out, const fk_report *report,
                            const fk_report_format_options *o)
{
    size_t n = fk_report_item_count(report);
    if (!(o->flags & FK_REPORT_FORMAT_QUIET)) {
        item_counts(out, report, NULL, o->indent);
        size_t lost = 0;
        for (size_t i = 0; i < n; i++)
            lost += has_code(fk_report_item_at(report, i), "FK-LOSS");
        if (lost) {
            fk__buf_puts(out, "\nlost entities per type:\n");
            item_counts(out, report, "FK-LOSS", o->indent);
        }
    }
    if (n) {
        fk__buf_putc(out, '\n');
        put_items(out, report, o);
    }
}

static void items_layout(fk__buf *out, const fk_report *report, const fk_report_format_options *o)
{
    if (o->item_code)
        item_counts(out, report, o->item_code, o->indent);
    put_items(out, report, o);
}

void fk__report_text(fk__buf *out, const fk_report *report, const fk_report_format_options *o)
{
    switch (o->layout) {
    case FK_REPORT_LAYOUT_FINDINGS:
        findings_layout(out, report, o);
        break;
    case FK_REPORT_LAYOUT_ITEMS:
        items_layout(out, report, o);
        break;
    default:
        counters_layout(out, report, o);
    }
}
