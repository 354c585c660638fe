/* fk_audit_log_format(): audit rows as the fortknox tool prints them (`audit
 * log`, `audit log --diff`), so that every front end (the tool, the PHP
 * binding's fortknox:audit:log) shows the same text. */
#include <string.h>

#include <cJSON.h>

#include "alloc.h"
#include "buf.h"
#include "ctx_internal.h"
#include "entry.h"
#include "fortknox/audit.h"
#include "json_text.h"
#include "text_table.h"

/* A diff line longer than this many code points is cut: --json has it whole. */
#define DIFF_LINE_MAX 200

/* Appends s cut to at most max code points (max >= 4), marking a cut with
 * "...". */
static void put_cut(fk__buf *b, const char *s, size_t max)
{
    size_t cps = 0, keep = 0;
    for (size_t i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cps == max - 3)
                keep = i; /* where code point max-3 starts: keep what is before */
            cps++;
        }
    if (cps <= max)
        fk__buf_puts(b, s);
    else {
        fk__buf_put(b, s, keep);
        fk__buf_puts(b, "...");
    }
}

/* Appends s with control characters shown as escapes: actor, context and
 * names are whatever the writer set, and a raw newline could forge a line
 * (a table row, a diff line under a row's header). */
static void put_visible(fk__buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n')
            fk__buf_puts(b, "\\n");
        else if (ch < 0x20 || ch == 0x7f)
            fk__buf_printf(b, "\\x%02x", ch);
        else
            fk__buf_putc(b, (char)ch);
    }
}

/* A member as text: a string, an integer, or a list of strings joined by
 * "," (changed_fields); "" otherwise. Control characters escaped. */
static void put_member(fk__buf *b, const cJSON *row, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key), *e;
    if (cJSON_IsString(v))
        put_visible(b, v->valuestring);
    else if (cJSON_IsNumber(v))
        fk__buf_printf(b, "%.0f", v->valuedouble);
    else if (cJSON_IsArray(v)) {
        int first = 1;
        cJSON_ArrayForEach(e, v)
        {
            if (cJSON_IsString(e)) {
                fk__buf_puts(b, first ? "" : ",");
                put_visible(b, e->valuestring);
                first = 0;
            }
        }
    }
}

/* The actor's email, else its id, else "-". */
static void put_actor(fk__buf *b, const cJSON *row)
{
    size_t at = b->len;
    put_member(b, row, "actor_email");
    if (b->len == at)
        put_member(b, row, "actor_id");
    if (b->len == at)
        fk__buf_putc(b, '-');
}

/* Column text: a member (or the actor), cut to max code points (0: whole). */
static char *cell(const cJSON *row, const char *key, size_t max)
{
    fk__buf whole = FK__BUF_INIT, b = FK__BUF_INIT;
    if (key)
        put_member(&whole, row, key);
    else
        put_actor(&whole, row);
    char *s = fk__buf_detach(&whole);
    if (!s || !max)
        return s;
    put_cut(&b, s, max);
    fk__xfree(s);
    return fk__buf_detach(&b);
}

static void log_table(fk__buf *out, const cJSON *rows)
{
    /* context last and whole: it says which import or restore wrote the
     * row, and how it read drifted documents (--map ...) */
    enum { NCOLS = 8 };
    static const char *const header[NCOLS] = {"id",   "time (UTC)", "action",  "entity",
                                              "name", "actor",      "changed", "context"};
    fk__table t;
    fk__table_init(&t, NCOLS);
    fk__table_row(&t, header);
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        fk__buf entity = FK__BUF_INIT;
        put_member(&entity, row, "entity_type");
        fk__buf_putc(&entity, ':');
        put_member(&entity, row, "entity_id");
        char *cells[NCOLS] = {cell(row, "id", 0),          cell(row, "created_at", 0),
                              cell(row, "action", 0),      fk__buf_detach(&entity),
                              cell(row, "entity_name", 32), cell(row, NULL, 28),
                              cell(row, "changed_fields", 40), cell(row, "context", 0)};
        int ok = 1;
        for (size_t j = 0; j < NCOLS; j++)
            ok &= cells[j] != NULL;
        if (ok)
            fk__table_row(&t, (const char *const *)cells);
        else
            out->failed = 1;
        for (size_t j = 0; j < NCOLS; j++)
            fk__xfree(cells[j]);
    }
    if (fk__table_failed(&t))
        out->failed = 1;
    fk__table_print(out, &t, "");
    fk__table_dispose(&t);
}

/* One block per row: "#ID TIME ACTION by ACTOR (context)", then the row's
 * diff lines (the library's "text": it has the values' exact text). */
static void log_diff(fk__buf *out, const cJSON *rows)
{
    const cJSON *row, *e;
    size_t n = 0;
    cJSON_ArrayForEach(row, rows)
    {
        fk__buf_puts(out, n++ ? "\n#" : "#");
        put_member(out, row, "id");
        fk__buf_putc(out, ' ');
        put_member(out, row, "created_at");
        fk__buf_putc(out, ' ');
        put_member(out, row, "action");
        fk__buf_puts(out, " by ");
        put_actor(out, row);
        const cJSON *context = cJSON_GetObjectItemCaseSensitive(row, "context");
        if (cJSON_IsString(context) && *context->valuestring) {
            fk__buf_puts(out, " (");
            put_visible(out, context->valuestring);
            fk__buf_putc(out, ')');
        }
        fk__buf_putc(out, '\n');
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, "diff");
        if (!cJSON_GetArraySize(d))
            fk__buf_puts(out, "  (no change)\n");
        cJSON_ArrayForEach(e, d)
        {
            const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "text"));
            if (!text)
                continue;
            fk__buf_puts(out, "  ");
            put_cut(out, text, DIFF_LINE_MAX);
            fk__buf_putc(out, '\n');
        }
    }
}

int fk_audit_log_format(char **out, const char *rows_json, unsigned flags)
{
    FK__ARG(NULL, "fk_audit_log_format", out);
    *out = NULL;
    FK__ARG(NULL, "fk_audit_log_format", rows_json);
    FK__ARG(NULL, "fk_audit_log_format", (flags & ~(unsigned)FK_AUDIT_LOG_FORMAT_DIFF) == 0);
    fk__json_error err;
    if (fk__json_validate(rows_json, strlen(rows_json), &err) < 0) {
        if (fk__json_error_is_oom(&err))
            return fk__oom(NULL);
        return fk__fail(NULL, FK_EPARSE, "fk_audit_log_format: rows_json is not valid JSON: %zu:%zu: %s",
                        err.line, err.column, err.msg);
    }
    cJSON *rows = cJSON_Parse(rows_json);
    if (!rows) /* valid JSON: out of memory */
        return fk__oom(NULL);
    if (!cJSON_IsArray(rows)) {
        cJSON_Delete(rows);
        return fk__fail(NULL, FK_EPARSE, "fk_audit_log_format: rows_json is not an array of audit "
                                         "rows (what fk_audit_log() returns)");
    }
    fk__buf b = FK__BUF_INIT;
    if (!cJSON_GetArraySize(rows))
        fk__buf_puts(&b, "no audit rows\n");
    else if (flags & FK_AUDIT_LOG_FORMAT_DIFF)
        log_diff(&b, rows);
    else
        log_table(&b, rows);
    cJSON_Delete(rows);
    *out = fk__buf_detach(&b);
    return *out ? FK_OK : fk__oom(NULL);
}
