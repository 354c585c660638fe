/* Per-field diffs of audit rows (fk_audit_diff) and of any two states
 * (fk_json_diff): the human history `fortknox audit log --diff` prints. The
 * comparison itself is the JSON module's (json_diff.c). */
#include <string.h>

#include "buf.h"
#include "ctx_internal.h"
#include "entry.h"
#include "fortknox/audit.h"
#include "json_text.h"

static int diff_failed(const fk__json_error *err, const char *fn, const char *what)
{
    if (fk__json_error_is_oom(err))
        return fk__oom(NULL);
    return fk__fail(NULL, FK_EPARSE, "%s: %s is not valid JSON: %zu:%zu: %s", fn, what, err->line,
                    err->column, err->msg);
}

int fk_json_diff(char **out, const char *old_json, const char *new_json)
{
    FK__ARG(NULL, "fk_json_diff", out);
    *out = NULL;
    fk__buf b = FK__BUF_INIT;
    fk__json_error err;
    if (old_json && fk__json_validate(old_json, strlen(old_json), &err) < 0)
        return diff_failed(&err, "fk_json_diff", "old_json");
    if (fk__json_diff(&b, old_json, old_json ? strlen(old_json) : 0, new_json,
                      new_json ? strlen(new_json) : 0, &err) < 0) {
        fk__buf_dispose(&b);
        return diff_failed(&err, "fk_json_diff", "new_json");
    }
    *out = fk__buf_detach(&b);
    return *out ? FK_OK : fk__oom(NULL);
}

typedef struct row_states {
    const fk__jmember *old, *new;
    fk__jmember o, n;
} row_states;

static int find_states(void *ud, const fk__jmember *m)
{
    row_states *s = ud;
    /* a JSON null state is "no state": the row's created or deleted side */
    if (m->type != FK__JT_NULL && fk__json_key_is(m, "old_json") == 1)
        s->o = *m, s->old = &s->o;
    else if (m->type != FK__JT_NULL && fk__json_key_is(m, "new_json") == 1)
        s->n = *m, s->new = &s->n;
    return 0;
}

typedef struct rows_out {
    fk__buf *b;
    int bad;
} rows_out;

/* Copies one row object with "diff" appended as its last member. */
static int add_diff(void *ud, const fk__jmember *row)
{
    rows_out *r = ud;
    row_states s = {0};
    if (row->type != FK__JT_OBJECT)
        return r->bad = 1;
    /* the row is valid (the whole array was): a failed scan ran out of memory */
    if (fk__json_scan_object(row->val, row->val_len, find_states, &s, NULL) != 0)
        return r->bad = 2;
    size_t close = row->val_len;
    while (row->val[close - 1] != '}')
        close--;
    if (r->b->len > 1)
        fk__buf_putc(r->b, ',');
    fk__buf_put(r->b, row->val, close - 1);
    /* "{}" has no member to follow */
    int empty = 1;
    for (size_t i = 1; i + 1 < close && empty; i++)
        empty = strchr(" \t\r\n", row->val[i]) != NULL;
    fk__buf_puts(r->b, empty ? "\"diff\":" : ",\"diff\":");
    if (fk__json_diff(r->b, s.old ? s.old->val : NULL, s.old ? s.old->val_len : 0,
                      s.new ? s.new->val : NULL, s.new ? s.new->val_len : 0, NULL) < 0)
        return r->bad = 2;
    fk__buf_putc(r->b, '}');
    return 0;
}

int fk_audit_diff(char **out, const char *rows_json)
{
    FK__ARG(NULL, "fk_audit_diff", out);
    *out = NULL;
    FK__ARG(NULL, "fk_audit_diff", rows_json);
    size_t len = strlen(rows_json);
    fk__json_error err;
    if (fk__json_validate(rows_json, len, &err) < 0)
        return diff_failed(&err, "fk_audit_diff", "rows_json");
    size_t first = strspn(rows_json, " \t\r\n");
    if (rows_json[first] != '[')
        return fk__fail(NULL, FK_EPARSE, "fk_audit_diff: rows_json is not an array of audit rows "
                                         "(what fk_audit_log() returns)");
    fk__buf b = FK__BUF_INIT;
    rows_out r = {&b, 0};
    fk__buf_putc(&b, '[');
    fk__json_scan_array(rows_json, len, add_diff, &r);
    fk__buf_putc(&b, ']');
    if (r.bad == 1) {
        fk__buf_dispose(&b);
        return fk__fail(NULL, FK_EPARSE, "fk_audit_diff: an element of rows_json is not an object");
    }
    *out = r.bad ? NULL : fk__buf_detach(&b);
    if (!*out)
        fk__buf_dispose(&b);
    return *out ? FK_OK : fk__oom(NULL);
}
