/* Per-field differences between two JSON documents, worked out on the text:
 * a number is compared as the text the document holds (jsonb's output), never
 * through a double, so 12345678901234567890 and ...891 differ and 0.10 vs 0.1
 * (another scale, which jsonb keeps) shows as a change. */
#include "alloc.h"
#include "json_internal.h"
#include <stdlib.h>
#include <string.h>

typedef struct item {
    char *key; /* decoded; NULL for array elements */
    size_t key_len;
    int matched; /* diff_object: an old member has this key */
    fk__jmember m;
} item;

typedef struct items {
    item *v;
    size_t n, cap;
    int oom;
} items;

static int collect(void *ud, const fk__jmember *m)
{
    items *it = ud;
    if (it->n == it->cap) {
        item *v = fk__grow(it->v, &it->cap, sizeof *v, 16);
        if (!v)
            return it->oom = 1;
        it->v = v;
    }
    item *e = &it->v[it->n];
    *e = (item){NULL, 0, 0, *m};
    if (m->key) {
        fk__buf k = FK__BUF_INIT;
        if (fk__json_unescape(&k, m->key, m->key_len) < 0 || !fk__buf_cstr(&k)) {
            fk__buf_dispose(&k);
            return it->oom = 1;
        }
        e->key_len = k.len;
        e->key = fk__buf_detach(&k);
    }
    it->n++;
    return 0;
}

static void items_free(items *it)
{
    for (size_t i = 0; i < it->n; i++)
        fk__xfree(it->v[i].key);
    fk__xfree(it->v);
}

/* The members or elements of a valid object or array value. */
static int items_of(items *it, const fk__jmember *v)
{
    *it = (items){0};
    /* the value is valid: a failed scan ran out of memory */
    int rc = v->type == FK__JT_OBJECT ? fk__json_scan_object(v->val, v->val_len, collect, it, NULL)
                                      : fk__json_scan_array(v->val, v->val_len, collect, it);
    return rc || it->oom ? -1 : 0;
}

/* 1 equal, 0 not, -1 out of memory; for scalars of the same type. Strings
 * compare decoded ("\u0041" is "A"). */
static int scalar_equal(const fk__jmember *a, const fk__jmember *b)
{
    if (a->type != FK__JT_STRING)
        return a->val_len == b->val_len && memcmp(a->val, b->val, a->val_len) == 0;
    fk__buf x = FK__BUF_INIT, y = FK__BUF_INIT;
    int rc = -1;
    if (fk__json_unescape(&x, a->val, a->val_len) == 0 &&
        fk__json_unescape(&y, b->val, b->val_len) == 0)
        rc = x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
    fk__buf_dispose(&x);
    fk__buf_dispose(&y);
    return rc;
}

typedef struct differ {
    fk__buf *out;
    fk__buf path;
    size_t count;
} differ;

/* One entry; "text" is the line a person reads (~ changed, + added,
 * - removed), built here because only this module has the values' text: a
 * DOM reader would print 12345678901234567890 as a double. */
static void entry(differ *d, const char *op, const fk__jmember *old, const fk__jmember *new)
{
    const char *path = d->path.data ? d->path.data : "$";
    fk__buf_puts(d->out, d->count++ ? ",{\"path\":" : "{\"path\":");
    fk__json_put_string(d->out, path, d->path.len);
    fk__buf_printf(d->out, ",\"op\":\"%s\"", op);
    fk__buf text = FK__BUF_INIT;
    fk__buf_printf(&text, "%c %.*s: ", old && new ? '~' : new ? '+' : '-', (int)d->path.len, path);
    if (old) {
        fk__buf_puts(d->out, ",\"old\":");
        fk__buf_put(d->out, old->val, old->val_len);
        fk__buf_put(&text, old->val, old->val_len);
    }
    if (new) {
        fk__buf_puts(d->out, ",\"new\":");
        fk__buf_put(d->out, new->val, new->val_len);
        if (old)
            fk__buf_puts(&text, " \xe2\x86\x92 ");
        fk__buf_put(&text, new->val, new->val_len);
    }
    fk__buf_puts(d->out, ",\"text\":");
    if (fk__buf_failed(&text))
        d->out->failed = 1;
    else
        fk__json_put_string(d->out, text.data, text.len);
    fk__buf_dispose(&text);
    fk__buf_putc(d->out, '}');
}

/* A member's path step: .key when the key is an identifier, else ["key"]. */
static void step_key(fk__buf *path, const char *k, size_t n)
{
    int ident = n > 0 && !is_digit((unsigned char)k[0]);
    for (size_t i = 0; i < n && ident; i++)
        ident = k[i] == '_' || is_digit((unsigned char)k[i]) ||
                ((k[i] | 0x20) >= 'a' && (k[i] | 0x20) <= 'z');
    if (ident) {
        fk__buf_putc(path, '.');
        fk__buf_put(path, k, n);
        return;
    }
    fk__buf_putc(path, '[');
    fk__json_put_string(path, k, n);
    fk__buf_putc(path, ']');
}

static int diff_value(differ *d, const fk__jmember *old, const fk__jmember *new);

static int key_cmp(const void *x, const void *y)
{
    const item *a = *(const item *const *)x, *b = *(const item *const *)y;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return memcmp(a->key, b->key, a->key_len);
}

/* Compares the members of two objects: old's order first (changed or
 * removed), then what only new has (added). Keys are looked up in a sorted
 * index: an object of many thousand keys must not cost their square. */
static int diff_object(differ *d, const items *a, items *b)
{
    size_t at = d->path.len;
    const item **index = fk__malloc((b->n ? b->n : 1) * sizeof *index);
    if (!index)
        return -1;
    for (size_t j = 0; j < b->n; j++)
        index[j] = &b->v[j];
    qsort(index, b->n, sizeof *index, key_cmp);
    int rc = 0;
    for (size_t i = 0; i < a->n && rc == 0; i++) {
        const item *want = &a->v[i], **hit = b->n ? bsearch(&want, index, b->n, sizeof *index, key_cmp) : NULL;
        step_key(&d->path, want->key, want->key_len);
        if (hit) {
            ((item *)*hit)->matched = 1;
            rc = diff_value(d, &want->m, &(*hit)->m);
        } else
            entry(d, "removed", &want->m, NULL);
        d->path.len = at;
    }
    fk__xfree(index);
    for (size_t j = 0; j < b->n && rc == 0; j++)
        if (!b->v[j].matched) {
            step_key(&d->path, b->v[j].key, b->v[j].key_len);
            entry(d, "added", NULL, &b->v[j].m);
            d->path.len = at;
        }
    return rc;
}

/* Arrays compare by index: an element inserted at the front shows as every
 * element changed and one added at the end, which is what the stored
 * document did change (a child's position is part of it). */
static int diff_array(differ *d, const items *a, const items *b)
{
    size_t at = d->path.len, n = a->n > b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        fk__buf_printf(&d->path, "[%zu]", i);
        int rc = 0;
        if (i < a->n && i < b->n)
            rc = diff_value(d, &a->v[i].m, &b->v[i].m);
        else
            entry(d, i < a->n ? "removed" : "added", i < a->n ? &a->v[i].m : NULL,
                  i < b->n ? &b->v[i].m : NULL);
        d->path.len = at;
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int diff_value(differ *d, const fk__jmember *old, const fk__jmember *new)
{
    int container = old->type == FK__JT_OBJECT || old->type == FK__JT_ARRAY;
    if (old->type != new->type) {
        entry(d, "changed", old, new);
        return 0;
    }
    if (!container) {
        int eq = scalar_equal(old, new);
        if (eq == 0)
            entry(d, "changed", old, new);
        return eq < 0 ? -1 : 0;
    }
    items a = {0}, b = {0};
    int rc = -1;
    if (items_of(&a, old) == 0 && items_of(&b, new) == 0)
        rc = old->type == FK__JT_OBJECT ? diff_object(d, &a, &b) : diff_array(d, &a, &b);
    items_free(&a);
    items_free(&b);
    return rc;
}

/* The whole document as a member: type from its first byte. */
static void whole(fk__jmember *m, const char *in, size_t len)
{
    size_t pos = skip_ws(in, len, 0), end = len;
    while (end > pos && is_ws((unsigned char)in[end - 1]))
        end--;
    static const char firsts[] = "{[\"tfn";
    static const fk__jtype types[] = {FK__JT_OBJECT, FK__JT_ARRAY, FK__JT_STRING,
                                      FK__JT_TRUE,   FK__JT_FALSE, FK__JT_NULL};
    const char *f = strchr(firsts, in[pos]);
    *m = (fk__jmember){NULL, 0, f ? types[f - firsts] : FK__JT_NUMBER, in + pos, end - pos, 1, pos + 1};
}

int fk__json_diff(fk__buf *out, const char *old, size_t old_len, const char *new, size_t new_len,
                  fk__json_error *err)
{
    if ((old && fk__json_validate(old, old_len, err) < 0) ||
        (new && fk__json_validate(new, new_len, err) < 0))
        return -1;
    static const char empty[] = "{}";
    fk__jmember a, b;
    whole(&a, old ? old : empty, old ? old_len : 2);
    whole(&b, new ? new : empty, new ? new_len : 2);
    differ d = {out, FK__BUF_INIT, 0};
    size_t start = out->len;
    fk__buf_putc(out, '[');
    fk__buf_putc(&d.path, '$');
    int rc = 0;
    if (!old && !new)
        ;
    else if (!old && b.type != FK__JT_OBJECT)
        entry(&d, "added", NULL, &b);
    else if (!new && a.type != FK__JT_OBJECT)
        entry(&d, "removed", &a, NULL);
    else
        rc = diff_value(&d, &a, &b);
    fk__buf_putc(out, ']');
    int failed = rc < 0 || fk__buf_failed(&d.path) || fk__buf_failed(out);
    fk__buf_dispose(&d.path);
    if (failed) {
        if (!fk__buf_failed(out))
            out->len = start;
        if (err)
            *err = (fk__json_error){0, 0, 0, "out of memory"};
        return -1;
    }
    return 0;
}
