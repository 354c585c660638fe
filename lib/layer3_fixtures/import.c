/* Fixture directory -> database, in one transaction.
 *
 * Files are read type by type in name order, validated on the client (exact
 * line:column for malformed JSON and mistyped values), and sent in batches
 * as one jsonb array per statement; the server unpacks them, so no value is
 * ever re-encoded by us. A batch the server refuses is replayed document by
 * document under savepoints to name the file at fault. Any error rolls
 * everything back. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "export_internal.h"
#include "fortknox/fixtures.h"
#include "fsutil.h"
#include "fixture_limit.h"
#include "import_internal.h"
#include "import_sql.h"
#include "json_text.h"
#include "manifest.h"
#include "pgutil.h"
#include "report_internal.h"

#define BATCH_DOCS 250
#define BATCH_BYTES (8u * 1024 * 1024)

int fk_import_options_init(fk_import_options *opts, unsigned version)
{
    if (!opts || version == 0 || version > FK_IMPORT_OPTIONS_VERSION)
        return fk__fail(NULL, FK_EINVAL, "fk_import_options_init: unsupported version %u",
                        version);
    memset(opts, 0, sizeof *opts);
    opts->version = version;
    return FK_OK;
}

/* ---------------------------------------------------------------- names */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the fixture files in a type directory. Hidden files and
 * temp files are skipped; other non-JSON names are reported. */
static int list_files(fk__import *im, int dirfd, const char *dir, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return fk__fail(im->ctx, FK_EIO, "cannot list %s: %m", dir);
    }
    size_t cap = 0;
    char **names = NULL;
    int rc = FK_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (nm[0] == '.')
            continue;
        if (len < 6 || strcmp(nm + len - 5, ".json") != 0) {
            fk__report_add(im->report, FK_SEV_WARNING, "ignored_file", NULL, 0, NULL, NULL,
                           NULL, "%s/%s is not a .json file; ignored", dir, nm);
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **g = fk__realloc(names, cap * sizeof *names);
            if (!g) {
                rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
                break;
            }
            names = g;
        }
        if (!(names[*n] = fk__strdup(nm))) {
            rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_str);
    *out = names;
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fk__xfree(names[i]);
    fk__xfree(names);
}

/* ------------------------------------------------------ id hash (per type) */

typedef struct idset {
    int64_t *ids;
    uint32_t *files;
    size_t cap, n;
} idset;

static size_t id_hash(int64_t id, size_t cap)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

/* 0 added, 1 duplicate (*other = file index), -1 OOM */
static int idset_add(idset *s, int64_t id, uint32_t file, uint32_t *other)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        int64_t *ids = fk__calloc(cap, sizeof *ids);
        uint32_t *files = fk__calloc(cap, sizeof *files);
        if (!ids || !files) {
            fk__xfree(ids);
            fk__xfree(files);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->files[i]) {
                size_t h = id_hash(s->ids[i], cap);
                while (files[h])
                    h = (h + 1) & (cap - 1);
                ids[h] = s->ids[i];
                files[h] = s->files[i];
            }
        fk__xfree(s->ids);
        fk__xfree(s->files);
        s->ids = ids;
        s->files = files;
        s->cap = cap;
    }
    size_t h = id_hash(id, s->cap);
    while (s->files[h]) { /* files[] holds index + 1; 0 = empty */
        if (s->ids[h] == id) {
            *other = s->files[h] - 1;
            return 1;
        }
        h = (h + 1) & (s->cap - 1);
    }
    s->ids[h] = id;
    s->files[h] = file + 1;
    s->n++;
    return 0;
}

static void idset_free(idset *s)
{
    fk__xfree(s->ids);
    fk__xfree(s->files);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------- file validation */

struct typerun;

typedef struct scan {
    fk__import *im;
    const fk__etype *e;
    struct typerun *t;
    uint32_t file;
    const char *path;
    int64_t id;
    int has_id;
    int rc;
    unsigned char *seen; /* per column: the file has its key */
    fk__buf key;         /* scratch: the decoded key */
} scan;

static int bad_value(scan *s, const fk__jmember *m, const char *what)
{
    s->rc = fk__fail(s->im->ctx, FK_EPARSE, "%s:%zu:%zu: \"%.*s\" %s", s->path, m->line,
                     m->column, (int)(m->key_len > 64 ? 64 : m->key_len), m->key, what);
    return 1;
}

static int unknown_key(scan *s, const fk__jmember *m, const char *key, const char *table);
static int check_child_rows(scan *s, const fk__jmember *m, const fk__child *c);

/* Types are checked here, where the line and column are known; the server
 * would only say "invalid input syntax" somewhere in a batch. Keys are
 * compared decoded, as the server matches them. */
static int scan_member(void *ud, const fk__jmember *m)
{
    scan *s = ud;
    const fk__etype *e = s->e;
    fk__buf_clear(&s->key);
    if (fk__json_unescape(&s->key, m->key, m->key_len) != 0 || !fk__buf_cstr(&s->key)) {
        s->rc = fk__fail(s->im->ctx, FK_ENOMEM, "out of memory");
        return 1;
    }
    const char *key = fk__buf_cstr(&s->key);
    for (size_t i = 0; i < e->nchildren; i++)
        if (strcmp(key, e->children[i].key) == 0) {
            if (m->type != FK__JT_ARRAY && m->type != FK__JT_NULL)
                return bad_value(s, m, "must be an array of child rows");
            return check_child_rows(s, m, &e->children[i]);
        }
    int col = strlen(key) == s->key.len ? fk__table_col(&e->t, key) : -1;
    if (col < 0)
        return unknown_key(s, m, key, e->t.quoted);
    s->seen[col] = 1;
    const fk__column *c = &e->t.cols[col];
    if (col == e->t.pk) {
        int rc = m->type == FK__JT_NUMBER ? fk__json_int64(m->val, m->val_len, &s->id) : -1;
        if (rc == -1)
            return bad_value(s, m, "(the primary key) must be an integer");
        if (rc != 0)
            return bad_value(s, m, "(the primary key) is out of range");
        s->has_id = 1;
        return 0;
    }
    if (m->type == FK__JT_NULL) {
        if (c->notnull && !c->default_expr && !c->secret)
            return bad_value(s, m, "must not be null");
        return 0;
    }
    switch (c->kind) {
    case FK__COL_INT:
        /* any integer literal: the column's type decides the range */
        if ((m->type == FK__JT_NUMBER && fk__json_int64(m->val, m->val_len, &(int64_t){0}) != -1) ||
            m->type == FK__JT_STRING)
            return 0;
        return bad_value(s, m, "must be an integer");
    case FK__COL_NUMERIC:
    case FK__COL_FLOAT:
        if (m->type == FK__JT_NUMBER || m->type == FK__JT_STRING)
            return 0;
        return bad_value(s, m, "must be a number");
    case FK__COL_BOOL:
        if (m->type == FK__JT_TRUE || m->type == FK__JT_FALSE)
            return 0;
        return bad_value(s, m, "must be true or false");
    case FK__COL_JSON:
    case FK__COL_JSONTEXT: /* its text as a string, or (written before) the value */
        return 0;
    case FK__COL_TIMESTAMP:
    case FK__COL_DATE:
        if (m->type == FK__JT_STRING)
            return 0;
        return bad_value(s, m, "must be a date/time string");
    default:
        if (m->type == FK__JT_ARRAY || m->type == FK__JT_OBJECT)
            return bad_value(s, m, "must be a string, not an array or object");
        return 0;
    }
}

/* --------------------------------------------------------------- batches */

typedef struct batch {
    fk__buf json;      /* "[doc,doc,...]" */
    size_t n;
    uint32_t *files;   /* file index per document */
    int64_t *ids;
    size_t cap;
} batch;

static int batch_add(fk__import *im, batch *b, const char *doc, size_t len, uint32_t file,
                     int64_t id)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : BATCH_DOCS;
        uint32_t *f = fk__realloc(b->files, cap * sizeof *f);
        if (f)
            b->files = f;
        int64_t *i = f ? fk__realloc(b->ids, cap * sizeof *i) : NULL;
        if (!f || !i)
            return fk__fail(im->ctx, FK_ENOMEM, "out of memory");
        b->ids = i;
        b->cap = cap;
    }
    fk__buf_putc(&b->json, b->n ? ',' : '[');
    fk__buf_put(&b->json, doc, len);
    if (fk__buf_failed(&b->json))
        return fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    b->files[b->n] = file;
    b->ids[b->n] = id;
    b->n++;
    return FK_OK;
}

static void batch_reset(batch *b)
{
    fk__buf_clear(&b->json);
    b->n = 0;
}

static void batch_free(batch *b)
{
    fk__buf_dispose(&b->json);
    fk__xfree(b->files);
    fk__xfree(b->ids);
}

typedef struct typerun {
    const fk__etype *e;
    char **names;
    size_t nnames;
    fk__buf parent_sql;
    fk__buf *child_sql;
    fk__buf path; /* scratch: "<dir>/<file>" */
    int dirfd;
    /* keys reported once per type when it is done, not once per file */
    uint32_t *missing;       /* per column: files without its key */
    uint32_t *missing_first; /* per column: the first of them */
    fk__buf dropped;         /* dropped unknown keys, each "key\0" once */
} typerun;

/* t->path is sized once up front (a directory and a file name fit), so
 * naming a file in a message never allocates. */
static const char *rel_path(typerun *t, uint32_t file)
{
    fk__buf_clear(&t->path);
    fk__buf_printf(&t->path, "%s/%s", t->e->dir, t->names[file]);
    return fk__buf_cstr(&t->path) ? fk__buf_cstr(&t->path) : "?";
}

/* A key that names no column: the file was exported when the table had
 * another column (renamed or dropped since). Importing it silently would
 * lose that value, so it is refused unless the caller chose to drop it. */
static int unknown_key(scan *s, const fk__jmember *m, const char *key, const char *table)
{
    typerun *t = s->t;
    if (s->im->unknown_keys == FK_UNKNOWN_KEYS_DROP) {
        for (size_t at = 0; at < t->dropped.len; at += strlen(t->dropped.data + at) + 1)
            if (strcmp(t->dropped.data + at, key) == 0)
                return 0;
        fk__buf_put(&t->dropped, key, strlen(key) + 1);
        if (fk__buf_failed(&t->dropped) ||
            fk__report_add(s->im->report, FK_SEV_WARNING, "unknown_key", s->e->name, s->id,
                           s->path, NULL, "check that no data lives only in the files",
                           "%s files carry \"%s\", which is no column of %s (renamed or "
                           "dropped since the export?): its values were not imported "
                           "(first: %s)",
                           s->e->name, key, table, s->path) != FK_OK) {
            s->rc = fk__fail(s->im->ctx, FK_ENOMEM, "out of memory");
            return 1;
        }
        return 0;
    }
    s->rc = fk__fail(s->im->ctx, FK_EPARSE,
                     "%s:%zu:%zu: key \"%s\" is no column of %s: was the column renamed or "
                     "dropped since the export? Nothing was imported; import with "
                     "FK_UNKNOWN_KEYS_DROP (fortknox import --drop-unknown-keys) to leave its "
                     "values out",
                     s->path, m->line, m->column, key, table);
    return 1;
}

/* Child rows obey the same rule: each key of each row names a column of
 * the child table ("items[].key" in messages). */
typedef struct child_scan {
    scan *s;
    const fk__child *c;
    const fk__jmember *arr; /* the child key's array, positioned in the file */
    const fk__jmember *row; /* the row being scanned, positioned in arr */
    fk__buf label;
} child_scan;

static int child_member(void *ud, const fk__jmember *m)
{
    child_scan *cs = ud;
    fk__buf_clear(&cs->label);
    fk__buf_printf(&cs->label, "%s[].", cs->c->key);
    size_t at = cs->label.len;
    if (fk__json_unescape(&cs->label, m->key, m->key_len) != 0 || !fk__buf_cstr(&cs->label)) {
        cs->s->rc = fk__fail(cs->s->im->ctx, FK_ENOMEM, "out of memory");
        return 1;
    }
    const char *key = cs->label.data + at;
    if (strlen(key) == cs->label.len - at && fk__table_col(&cs->c->t, key) >= 0)
        return 0;
    /* the position in the file: the row's inside the array's, the
     * member's inside the row's */
    const fk__jmember *a = cs->arr, *r = cs->row;
    fk__jmember pos = *m;
    pos.line = a->line + (r->line - 1) + (m->line - 1);
    pos.column = m->line > 1 ? m->column
                 : r->line > 1 ? r->column + m->column - 1
                               : a->column + r->column - 1 + m->column - 1;
    return unknown_key(cs->s, &pos, fk__buf_cstr(&cs->label), cs->c->t.quoted);
}

static int child_row(void *ud, const fk__jmember *m)
{
    child_scan *cs = ud;
    if (m->type != FK__JT_OBJECT)
        return 0; /* the server refuses it, naming the file */
    cs->row = m;
    fk__json_error err;
    int rc = fk__json_scan_object(m->val, m->val_len, child_member, cs, &err);
    if (rc < 0) /* the text was validated: only memory can fail */
        cs->s->rc = fk__fail(cs->s->im->ctx, FK_ENOMEM, "out of memory");
    return rc != 0;
}

static int check_child_rows(scan *s, const fk__jmember *m, const fk__child *c)
{
    child_scan cs = {s, c, m, NULL, FK__BUF_INIT};
    int rc = fk__json_scan_array(m->val, m->val_len, child_row, &cs);
    fk__buf_dispose(&cs.label);
    return rc;
}

/* Columns the file has no key for take their default: counted per column,
 * reported by report_missing() once the type is done. */
static void count_missing(scan *s)
{
    const fk__table *tb = &s->e->t;
    for (size_t i = 0; i < tb->ncols; i++) {
        if (s->seen[i] || tb->cols[i].secret || tb->cols[i].generated)
            continue;
        if (s->t->missing[i]++ == 0)
            s->t->missing_first[i] = s->file;
    }
}

static int report_missing(fk__import *im, typerun *t)
{
    const fk__table *tb = &t->e->t;
    for (size_t i = 0; t->missing && i < tb->ncols; i++) {
        if (!t->missing[i])
            continue;
        const char *first = rel_path(t, t->missing_first[i]);
        if (fk__report_add(im->report, FK_SEV_WARNING, "missing_key", t->e->name, 0, first,
                           NULL, "export again to write the files in the current layout",
                           "%" PRIu32 " %s file(s) have no \"%s\" (an older layout): the "
                           "column took its default (first: %s)",
                           t->missing[i], t->e->name, tb->cols[i].name, first) != FK_OK)
            return fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    }
    return FK_OK;
}

static int add_fields(fk__buf *fields, const char *name)
{
    /* fields is a JSON array text or empty */
    if (fields->len == 0)
        fk__buf_putc(fields, '[');
    else
        fields->data[--fields->len] = '\0', fk__buf_puts(fields, ", ");
    fk__buf_putc(fields, '"');
    fk__buf_puts(fields, name);
    fk__buf_puts(fields, "\"]");
    return fk__buf_failed(fields) ? -1 : 0;
}

/* The manifest's JSON nulls of the batch's entities as the statements'
 * parameter, {"<id>": ["path", ...], ...}; left empty when there are none
 * (the common case). -1 when out of memory. */
static int batch_nulls(fk__import *im, const fk__etype *e, const batch *b, fk__buf *out)
{
    for (size_t i = 0; im->jnulls && i < b->n; i++) {
        const char *paths = fk__jnulls_find(im->jnulls, e->name, b->ids[i]);
        if (paths)
            fk__buf_printf(out, "%s\"%" PRId64 "\": %s", out->len ? ", " : "{", b->ids[i],
                           paths);
    }
    if (out->len)
        fk__buf_putc(out, '}');
    return fk__buf_failed(out) ? -1 : 0;
}

/* Runs the statements of one batch; report items are added only once every
 * statement succeeded, so a replay after a failure reports nothing twice. */
static int run_batch(fk__import *im, typerun *t, batch *b)
{
    const fk__etype *e = t->e;
    fk__buf_putc(&b->json, ']');
    const char *json = fk__buf_cstr(&b->json);
    if (!json)
        return fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    fk__buf nulls = FK__BUF_INIT;
    if (batch_nulls(im, e, b, &nulls) != 0) {
        b->json.data[--b->json.len] = '\0';
        return fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    }
    const char *admin = im->admin_id[0] ? im->admin_id : NULL;
    const char *nulls_param = nulls.len ? fk__buf_cstr(&nulls) : NULL;
    const char *params[4] = {json, admin, e->name, nulls_param};
    const char *child_params[3] = {json, admin, nulls_param};
    PGresult *res = PQexecParams(im->ctx->conn, fk__buf_cstr(&t->parent_sql), 4, NULL, params,
                                 NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = b->n == 1 ? fk__import_server_error(im, e, res, rel_path(t, b->files[0]))
                           : fk__fail_pg(im->ctx, FK_EDB, res, "importing %s", e->name);
        PQclear(res);
        fk__buf_dispose(&nulls);
        b->json.data[--b->json.len] = '\0';
        return rc;
    }
    size_t rows = (size_t)PQntuples(res);
    /* per document: 0 unchanged, 1 updated, 2 created; changed fields; notes */
    int8_t *action = fk__calloc(rows + 1, 1);
    fk__buf *fields = fk__calloc(rows + 1, sizeof *fields);
    fk__buf *notes = fk__calloc(rows + 1, sizeof *notes);
    int rc = action && fields && notes ? FK_OK : fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    for (size_t r = 0; rc == FK_OK && r < rows; r++) {
        int existed = PQgetvalue(res, (int)r, 2)[0] == 't';
        int changed = !PQgetisnull(res, (int)r, 3);
        action[r] = !existed ? 2 : changed ? 1 : 0;
        if (existed && changed)
            fk__buf_puts(&fields[r], PQgetvalue(res, (int)r, 3));
        if (!PQgetisnull(res, (int)r, 4) && strcmp(PQgetvalue(res, (int)r, 4), "[]") != 0)
            fk__buf_puts(&notes[r], PQgetvalue(res, (int)r, 4));
        if (fk__buf_failed(&fields[r]) || fk__buf_failed(&notes[r]))
            rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    }
    PQclear(res);
    for (size_t c = 0; rc == FK_OK && c < e->nchildren; c++) {
        PGresult *cr = PQexecParams(im->ctx->conn, fk__buf_cstr(&t->child_sql[c]), 3, NULL,
                                    child_params, NULL, NULL, 0);
        if (PQresultStatus(cr) != PGRES_TUPLES_OK) {
            rc = b->n == 1 ? fk__import_server_error(im, e, cr, rel_path(t, b->files[0]))
                           : fk__fail_pg(im->ctx, FK_EDB, cr, "importing %s", e->name);
            PQclear(cr);
            break;
        }
        for (int r = 0; r < PQntuples(cr); r++) {
            int64_t pid;
            if (fk__text_to_i64(PQgetvalue(cr, r, 0), &pid) != 0)
                continue;
            for (size_t k = 0; k < rows; k++)
                if (b->ids[k] == pid && action[k] != 2) {
                    action[k] = 1;
                    if (add_fields(&fields[k], e->children[c].key) != 0)
                        rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
                }
        }
        PQclear(cr);
    }
    for (size_t r = 0; rc == FK_OK && r < rows; r++) {
        static const char *const names[] = {"unchanged", "updated", "created"};
        const char *what = names[action[r]];
        const char *path = rel_path(t, b->files[r]);
        const char *fj = fields[r].len ? fk__buf_cstr(&fields[r]) : NULL;
        if (notes[r].len)
            fk__report_add(im->report, FK_SEV_WARNING, "dangling_reference", e->name, b->ids[r],
                           path, fk__buf_cstr(&notes[r]), NULL,
                           "references to rows that do not exist were replaced (authors by "
                           "the admin user, others by NULL)");
        fk__report_count(im->report, what, 1);
        fk__report_count2(im->report, e->name, what, 1);
        if (action[r] != 0 || im->report_all)
            fk__report_add(im->report, FK_SEV_INFO, what, e->name, b->ids[r], path, fj, NULL,
                           NULL);
    }
    if (rc == FK_OK && im->audit) { /* one audit row per entity that changed */
        size_t n = 0;
        for (size_t r = 0; r < rows; r++)
            if (action[r] != 0) {
                b->ids[n] = b->ids[r];
                action[n++] = action[r];
            }
        const char **acts = n ? fk__calloc(n, sizeof *acts) : NULL;
        if (n && !acts)
            rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
        for (size_t r = 0; acts && r < n; r++)
            acts[r] = action[r] == 2 ? "restored" : "updated";
        if (rc == FK_OK && n)
            rc = fk__import_audit(im, e, b->ids, acts, n);
        fk__xfree(acts);
    }
    for (size_t r = 0; r < rows; r++) {
        if (fields)
            fk__buf_dispose(&fields[r]);
        if (notes)
            fk__buf_dispose(&notes[r]);
    }
    fk__xfree(fields);
    fk__xfree(notes);
    fk__xfree(action);
    fk__buf_dispose(&nulls);
    b->json.data[--b->json.len] = '\0';
    return rc;
}

/* A batch the server refused is replayed one document at a time, each under
 * its own savepoint, to name the file at fault (documents are re-read from
 * disk so memory stays bounded). */
static int flush_batch(fk__import *im, typerun *t, batch *b)
{
    if (b->n == 0)
        return FK_OK;
    int rc = fk__pg_exec(im->ctx, "SAVEPOINT fk_batch", "starting a batch");
    if (rc == FK_OK)
        rc = run_batch(im, t, b);
    if (rc == FK_OK) {
        rc = fk__pg_exec(im->ctx, "RELEASE SAVEPOINT fk_batch", "ending a batch");
    } else if (rc == FK_EDB && b->n > 1 && PQstatus(im->ctx->conn) == CONNECTION_OK) {
        PQclear(PQexec(im->ctx->conn, "ROLLBACK TO SAVEPOINT fk_batch"));
        fk__ok(im->ctx);
        batch one = {FK__BUF_INIT, 0, NULL, NULL, 0};
        rc = FK_OK;
        for (size_t i = 0; rc == FK_OK && i < b->n; i++) {
            batch_reset(&one);
            fk__buf doc = FK__BUF_INIT;
            rc = fk__fs_read_at(im->ctx, t->dirfd, t->names[b->files[i]], FK__MAX_FIXTURE_BYTES,
                                &doc);
            if (rc == FK_ENOTFOUND)
                rc = fk__fail(im->ctx, FK_EIO, "%s disappeared during the import",
                              rel_path(t, b->files[i]));
            if (rc == FK_OK)
                rc = batch_add(im, &one, doc.data, doc.len, b->files[i], b->ids[i]);
            fk__buf_dispose(&doc);
            if (rc == FK_OK)
                rc = run_batch(im, t, &one);
        }
        batch_free(&one);
        if (rc == FK_OK)
            rc = fk__pg_exec(im->ctx, "RELEASE SAVEPOINT fk_batch", "ending a batch");
    }
    batch_reset(b);
    return rc;
}

/* --------------------------------------------------------------- per type */

/* After a wipe the planner still believes the tables are empty (or full of
 * what is gone) and every batch ends up scanning all rows inserted so far:
 * quadratic. ANALYZE inside the transaction after batches 1, 2, 4, 8, ...
 * keeps the plans right at a logarithmic cost. (A table we do not own is
 * skipped with a notice, not an error.) */
static int refresh_statistics(fk__import *im, const fk__etype *e, unsigned batches)
{
    if (batches & (batches - 1))
        return FK_OK;
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql, "ANALYZE %s", e->t.quoted);
    for (size_t i = 0; i < e->nchildren; i++)
        fk__buf_printf(&sql, ", %s", e->children[i].t.quoted);
    int rc = fk__pg_exec_buf(im->ctx, &sql, "refreshing planner statistics");
    return rc;
}

static int read_and_batch(fk__import *im, typerun *t, const fk_import_options *opts,
                          uint64_t *done, uint64_t total)
{
    unsigned batches = 0;
    const fk__etype *e = t->e;
    idset ids = {0};
    batch b = {FK__BUF_INIT, 0, NULL, NULL, 0};
    fk__buf doc = FK__BUF_INIT;
    unsigned char *seen = fk__calloc(e->t.ncols, 1);
    t->missing = fk__calloc(e->t.ncols, sizeof *t->missing);
    t->missing_first = fk__calloc(e->t.ncols, sizeof *t->missing_first);
    int rc = seen && t->missing && t->missing_first ? FK_OK
                                                    : fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    for (size_t i = 0; rc == FK_OK && i < t->nnames; i++) {
        const char *path = rel_path(t, (uint32_t)i);
        fk__buf_clear(&doc);
        rc = fk__fs_read_at(im->ctx, t->dirfd, t->names[i], FK__MAX_FIXTURE_BYTES, &doc);
        if (rc == FK_ENOTFOUND)
            rc = fk__fail(im->ctx, FK_EIO, "%s disappeared during the import", path);
        if (rc) {
            /* name the file in the message: fk__fs_read_at only knows its base name */
            char msg[600];
            snprintf(msg, sizeof msg, "%s", fk_errmsg(im->ctx));
            rc = fk__fail(im->ctx, rc, "%s: %s", path, msg);
            break;
        }
        fk__json_error jerr;
        memset(seen, 0, e->t.ncols);
        scan s = {im, e, t, (uint32_t)i, path, 0, 0, FK_OK, seen, FK__BUF_INIT};
        int sr = fk__json_scan_object(doc.data ? doc.data : "", doc.len, scan_member, &s, &jerr);
        fk__buf_dispose(&s.key);
        if (s.rc) {
            rc = s.rc;
            break;
        }
        if (sr < 0) {
            rc = fk__json_error_is_oom(&jerr)
                     ? fk__fail(im->ctx, FK_ENOMEM, "out of memory")
                     : fk__fail(im->ctx, FK_EPARSE, "%s:%zu:%zu: %s", path, jerr.line,
                                jerr.column, jerr.msg);
            break;
        }
        if (!s.has_id) {
            rc = fk__fail(im->ctx, FK_EPARSE, "%s:1:1: the document has no \"%s\" (its id)",
                          path, e->t.cols[e->t.pk].name);
            break;
        }
        count_missing(&s);
        uint32_t other;
        int dup = idset_add(&ids, s.id, (uint32_t)i, &other);
        if (dup < 0) {
            rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
            break;
        }
        if (dup) {
            char first[600];
            snprintf(first, sizeof first, "%s", rel_path(t, other));
            rc = fk__fail(im->ctx, FK_EPARSE, "%s: id %" PRId64 " is also used by %s",
                          rel_path(t, (uint32_t)i), s.id, first);
            break;
        }
        if ((rc = batch_add(im, &b, doc.data, doc.len, (uint32_t)i, s.id)))
            break;
        (*done)++;
        if (b.n >= BATCH_DOCS || b.json.len >= BATCH_BYTES) {
            if ((rc = flush_batch(im, t, &b)) || (rc = refresh_statistics(im, e, ++batches)))
                break;
            if (opts->progress) {
                fk_progress p = {"import", e->name, *done, total};
                if (opts->progress(&p, opts->progress_data) != 0)
                    rc = fk__fail(im->ctx, FK_ECANCELLED, "import cancelled; nothing changed");
            }
        }
    }
    if (rc == FK_OK)
        rc = flush_batch(im, t, &b);
    if (rc == FK_OK)
        rc = report_missing(im, t);
    batch_free(&b);
    fk__xfree(seen);
    fk__buf_dispose(&doc);
    idset_free(&ids);
    return rc;
}

static int selfref_pass(fk__import *im, const fk__etype *e)
{
    for (size_t k = 0; k < e->nselfrefs; k++) {
        fk__buf sql = FK__BUF_INIT;
        PGresult *res;
        const char *p = e->name;
        int rc = fk__import_selfref_sql(&sql, e, k) != 0
                     ? fk__fail(im->ctx, FK_ENOMEM, "out of memory")
                     : fk__pg_query(im->ctx, &res, fk__buf_cstr(&sql), 1, &p,
                                    "restoring self-references");
        fk__buf_dispose(&sql);
        if (rc)
            return rc;
        for (int r = 0; r < PQntuples(res); r++) {
            int64_t id = 0;
            fk__text_to_i64(PQgetvalue(res, r, 0), &id);
            if (PQgetvalue(res, r, 2)[0] == 't')
                fk__report_add(im->report, FK_SEV_WARNING, "dangling_reference", e->name, id,
                               NULL, NULL, NULL, "%s = %s refers to a %s that does not exist; "
                               "set to NULL", e->selfref_names[k], PQgetvalue(res, r, 1),
                               e->name);
        }
        PQclear(res);
    }
    return FK_OK;
}

static int db_only(fk__import *im, const fk__etype *e, int soft_delete)
{
    fk__buf sql = FK__BUF_INIT;
    const char *pk = e->t.cols[e->t.pk].quoted;
    if (soft_delete && e->softdel >= 0)
        fk__buf_printf(&sql, "WITH missing AS (SELECT t.%s AS id FROM %s t WHERE NOT EXISTS "
                             "(SELECT 1 FROM pg_temp.fk_import_seen s WHERE s.type = $1::text "
                             "AND s.id = t.%s)), sd AS (UPDATE %s t SET %s = "
                             "date_trunc('second', now() AT TIME ZONE 'UTC') FROM missing m "
                             "WHERE t.%s = m.id AND t.%s IS NULL RETURNING t.%s) "
                             "SELECT t.%s, t.%s, sd.%s IS NOT NULL FROM %s t JOIN missing m "
                             "ON m.id = t.%s LEFT JOIN sd ON sd.%s = t.%s ORDER BY t.%s",
                       pk, e->t.quoted, pk, e->t.quoted, e->t.cols[e->softdel].quoted, pk,
                       e->t.cols[e->softdel].quoted, pk, pk, e->t.cols[e->name_col].quoted, pk,
                       e->t.quoted, pk, pk, pk, pk);
    else
        fk__buf_printf(&sql, "SELECT t.%s, t.%s, false FROM %s t WHERE NOT EXISTS (SELECT 1 "
                             "FROM pg_temp.fk_import_seen s WHERE s.type = $1::text AND s.id = "
                             "t.%s) ORDER BY t.%s",
                       pk, e->t.cols[e->name_col].quoted, e->t.quoted, pk, pk);
    PGresult *res;
    const char *p = e->name;
    int rc = fk__pg_query_buf(im->ctx, &res, &sql, 1, &p, "looking for rows without fixtures");
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = 0;
        fk__text_to_i64(PQgetvalue(res, r, 0), &id);
        int sd = PQgetvalue(res, r, 2)[0] == 't';
        fk__report_count(im->report, "db_only", 1);
        fk__report_count2(im->report, e->name, "db_only", 1);
        if (sd) {
            fk__report_count(im->report, "soft_deleted", 1);
            fk__report_count2(im->report, e->name, "soft_deleted", 1);
        }
        fk__report_add(im->report, FK_SEV_WARNING, "db_only", e->name, id, NULL, NULL,
                       sd ? NULL : "export to create its fixture, or soft-delete it",
                       "\"%s\" is in the database but has no fixture%s", PQgetvalue(res, r, 1),
                       sd ? "; soft-deleted" : "");
        const char *act = "deleted";
        if (sd && im->audit && (rc = fk__import_audit(im, e, &id, &act, 1)))
            break;
    }
    PQclear(res);
    return rc;
}

static int reset_sequences(fk__import *im, const fk__etype *e)
{
    for (size_t i = 0; i <= e->nchildren; i++) {
        const fk__table *t = i == 0 ? &e->t : &e->children[i - 1].t;
        fk__buf sql = FK__BUF_INIT;
        int rc = fk__import_sequence_sql(&sql, t) != 0
                     ? fk__fail(im->ctx, FK_ENOMEM, "out of memory")
                     : fk__pg_exec(im->ctx, fk__buf_cstr(&sql), "moving a sequence past the ids");
        fk__buf_dispose(&sql);
        if (rc)
            return rc;
    }
    return FK_OK;
}

static int import_type(fk__import *im, int root, const fk__etype *e, const fk_import_options *opts,
                       uint64_t *done, uint64_t total)
{
    typerun t = {0};
    t.e = e;
    t.dirfd = -1;
    if (fk__buf_grow(&t.path, 1024) != 0)
        return fk__fail(im->ctx, FK_ENOMEM, "out of memory");
    int rc = fk__fs_open_subdir(im->ctx, root, e->dir, 0, &t.dirfd);
    if (rc == FK_ENOTFOUND) { /* no files of this type: every row is db-only */
        fk__ok(im->ctx);
        rc = FK_OK;
    } else if (rc == FK_OK) {
        rc = list_files(im, t.dirfd, e->dir, &t.names, &t.nnames);
    }
    if (rc == FK_OK && t.nnames) {
        t.child_sql = e->nchildren ? fk__calloc(e->nchildren, sizeof *t.child_sql) : NULL;
        if (e->nchildren && !t.child_sql)
            rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
        else if (fk__import_parent_sql(&t.parent_sql, im->reg, e) != 0)
            rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
        for (size_t c = 0; rc == FK_OK && c < e->nchildren; c++)
            if (fk__import_child_sql(&t.child_sql[c], im->reg, e, &e->children[c]) != 0)
                rc = fk__fail(im->ctx, FK_ENOMEM, "out of memory");
        if (rc == FK_OK)
            rc = read_and_batch(im, &t, opts, done, total);
        fk__report_count(im->report, "files", (int64_t)t.nnames);
    }
    if (rc == FK_OK)
        rc = selfref_pass(im, e);
    /* a drill restores into empty scratch tables and must not touch live
     * sequences: nothing is db-only there, no sequence is moved */
    if (rc == FK_OK && !im->drill)
        rc = db_only(im, e, (opts->flags & FK_IMPORT_SOFT_DELETE_MISSING) != 0);
    if (rc == FK_OK && !im->drill)
        rc = reset_sequences(im, e);
    free_names(t.names, t.nnames);
    fk__buf_dispose(&t.parent_sql);
    for (size_t c = 0; t.child_sql && c < e->nchildren; c++)
        fk__buf_dispose(&t.child_sql[c]);
    fk__xfree(t.child_sql);
    fk__buf_dispose(&t.path);
    fk__xfree(t.missing);
    fk__xfree(t.missing_first);
    fk__buf_dispose(&t.dropped);
    if (t.dirfd >= 0)
        close(t.dirfd);
    return rc;
}

/* Sub-directories that are no registered type: a typo or a registry that is
 * missing a type. Warned about, or refused with FK_IMPORT_STRICT. */
static int check_unknown_dirs(fk__import *im, int root, int strict)
{
    int fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return fk__fail(im->ctx, FK_EIO, "cannot list the fixture directory: %m");
    }
    int rc = FK_OK;
    struct dirent *de;
    while (rc == FK_OK && (de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(root, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode) || fk__registry_find_dir(im->reg, de->d_name))
            continue;
        if (strict)
            rc = fk__fail(im->ctx, FK_EPARSE, "%s/: no registered entity type uses this "
                                              "directory (strict import); nothing was imported",
                          de->d_name);
        else
            fk__report_add(im->report, FK_SEV_WARNING, "unknown_directory", NULL, 0, de->d_name,
                           NULL, "add the type to the registry, or remove the directory",
                           "%s/ is not the directory of any registered entity type; ignored",
                           de->d_name);
    }
    closedir(d);
    return rc;
}

static int find_admin(fk__import *im)
{
    im->admin_id[0] = '\0';
    if (!im->reg->users.quoted || im->reg->users_damage) /* no fallback: refs stay as they are */
        return FK_OK;
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql, "SELECT %s FROM %s WHERE %s = $1", im->reg->users.cols[im->reg->users_id].quoted,
                   im->reg->users.quoted, im->reg->users.cols[im->reg->users_email].quoted);
    PGresult *res;
    int rc = fk__pg_query_buf(im->ctx, &res, &sql, 1, &im->admin_email, "looking up the admin user");
    if (rc)
        return rc;
    if (PQntuples(res) > 0)
        snprintf(im->admin_id, sizeof im->admin_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return FK_OK;
}

/* Types whose table another type's table references come first, so a
 * reference between entity types is never mistaken for a dangling one. */
static int type_order(const fk__registry *reg, size_t **out)
{
    size_t n = reg->ntypes, *idx = fk__calloc(n ? n : 1, sizeof *idx);
    char *placed = fk__calloc(n ? n : 1, 1);
    if (!idx || !placed) {
        fk__xfree(idx);
        fk__xfree(placed);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++) {
            if (placed[i])
                continue;
            int blocked = 0;
            for (size_t c = 0; c < reg->types[i].t.ncols && !blocked; c++) {
                const char *target = reg->types[i].t.cols[c].fk_table;
                for (size_t j = 0; target && j < n && !blocked; j++)
                    blocked = j != i && !placed[j] && strcmp(target, reg->types[j].t.quoted) == 0;
            }
            if (!blocked)
                pick = i;
        }
        if (pick == n) /* a cycle: fall back to registry order for the rest */
            for (size_t i = 0; i < n && pick == n; i++)
                if (!placed[i])
                    pick = i;
        placed[pick] = 1;
        idx[k] = pick;
    }
    fk__xfree(placed);
    *out = idx;
    return 0;
}

static const char temp_tables_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS fk_import_seen (type text, id bigint, PRIMARY KEY (type, id))"
    " ON COMMIT DROP;"
    "CREATE TEMP TABLE IF NOT EXISTS fk_import_selfref (type text, id bigint, col text, val bigint)"
    " ON COMMIT DROP;"
    "TRUNCATE pg_temp.fk_import_seen, pg_temp.fk_import_selfref";

/* Tags the transaction: capture triggers stay quiet, and the import's own
 * audit rows share one context value, so a restore reads as one event. */
static const char context_sql[] =
    "SELECT set_config('fortknox.context', 'import:' || to_char(now() AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ':' || pg_backend_pid(), true)";

int fk__import_into(fk_ctx *ctx, fk__registry *reg, int root, const fk_import_options *opts,
                    fk_report *report, int drill)
{
    fk__import im = {0};
    im.ctx = ctx;
    im.reg = reg;
    im.report = report;
    im.drill = drill;
    im.admin_email = opts->admin_email ? opts->admin_email : ctx->admin_email;
    im.report_all = (opts->flags & (FK_IMPORT_REPORT_ALL | FK_IMPORT_DRY_RUN)) != 0;
    im.unknown_keys = opts->version >= 2 ? opts->unknown_keys : FK_UNKNOWN_KEYS_REFUSE;
    fk__jnulls jnulls;
    if (fk__jnulls_load(ctx, root, &jnulls) != FK_OK)
        return FK_ENOMEM;
    im.jnulls = &jnulls;
    size_t *order = NULL;
    int rc = check_unknown_dirs(&im, root, (opts->flags & FK_IMPORT_STRICT) != 0);
    if (rc == FK_OK && type_order(reg, &order) != 0)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK)
        rc = fk__pg_exec(ctx, temp_tables_sql, "preparing the import");
    if (rc == FK_OK)
        rc = find_admin(&im);
    if (rc == FK_OK && !drill)
        rc = fk__import_audit_begin(&im);
    uint64_t done = 0;
    for (size_t i = 0; rc == FK_OK && i < reg->ntypes; i++)
        rc = import_type(&im, root, &reg->types[order[i]], opts, &done, 0);
    fk__xfree(order);
    fk__jnulls_free(&jnulls);
    return rc;
}

int fk_import(fk_report **out, fk_ctx *ctx, const char *dir, const fk_import_options *opts)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_import: ctx must not be NULL");
    fk__ok(ctx);
    fk_import_options defaults;
    fk_import_options_init(&defaults, FK_IMPORT_OPTIONS_VERSION);
    if (!opts)
        opts = &defaults;
    if (!dir || !*dir || opts->version == 0 || opts->version > FK_IMPORT_OPTIONS_VERSION ||
        (opts->version >= 2 && opts->unknown_keys != FK_UNKNOWN_KEYS_REFUSE &&
         opts->unknown_keys != FK_UNKNOWN_KEYS_DROP))
        return fk__fail(ctx, FK_EINVAL, "fk_import: invalid argument");
    fk__registry *reg;
    int rc = fk__ctx_registry(ctx, &reg);
    if (rc || (rc = fk__registry_usable(ctx, reg)))
        return rc;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return fk__fail(ctx, FK_ENOTFOUND, "cannot open fixture directory %s: %m", dir);
    flock(root, LOCK_SH); /* no exporter rewrites files under us */
    fk_report *report = NULL;
    fk__txn txn = {0};
    int txn_open = 0;
    if (fk__report_new(&report, (opts->flags & FK_IMPORT_DRY_RUN) ? "import (dry run)"
                                                                  : "import") != FK_OK) {
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = fk__txn_begin(ctx, &txn, "BEGIN")))
        goto out;
    txn_open = 1;
    if ((rc = fk__pg_exec(ctx, context_sql, "preparing the import")) ||
        (rc = fk__import_into(ctx, reg, root, opts, report, 0)))
        goto out;
    if (fk__report_failed(report)) { /* an incomplete report must not commit */
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
        goto out;
    }
    /* capture stays quiet during an import: one notification tells a
     * watcher (delivered only if the import commits) */
    if (!(opts->flags & FK_IMPORT_DRY_RUN) &&
        (rc = fk__pg_exec(ctx, "SELECT pg_notify('fortknox', '{\"type\": \"*\", \"id\": 0, "
                               "\"action\": \"import\"}')",
                          "announcing the import")))
        goto out;
    txn_open = 0;
    if (opts->flags & FK_IMPORT_DRY_RUN)
        fk__txn_rollback(ctx, &txn);
    else
        rc = fk__txn_commit(ctx, &txn);
out:
    if (txn_open)
        fk__txn_rollback(ctx, &txn);
    close(root);
    if (rc) {
        fk_report_free(report);
        return rc;
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fk__report_set_elapsed_ms(report, (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
                                          (t1.tv_nsec - t0.tv_nsec) / 1000000);
    for (const char *const *k = (const char *const[]){"files", "created", "updated", "unchanged",
                                                      "db_only", NULL};
         *k; k++)
        fk__report_count(report, *k, 0); /* always present, even when zero */
    if (out)
        *out = report;
    else
        fk_report_free(report);
    return FK_OK;
}

/* One document applied as an import of it would be (row, children,
 * self-references), inside the caller's transaction: how an entity is put
 * back into a state the audit log recorded. Writes no audit row itself. */
int fk__import_apply_doc(fk_ctx *ctx, const fk__etype *e, const char *doc, size_t len, int64_t id,
                         fk_report *report)
{
    fk__import im = {0};
    im.ctx = ctx;
    im.report = report;
    im.admin_email = ctx->admin_email;
    int rc = fk__ctx_registry(ctx, &im.reg);
    if (rc || (rc = fk__pg_exec(ctx, temp_tables_sql, "preparing the restore")) ||
        (rc = find_admin(&im)))
        return rc;
    char *name = fk__strdup("(audit log)");
    typerun t = {0};
    t.e = e;
    t.dirfd = -1;
    t.names = &name;
    t.nnames = 1;
    batch b = {FK__BUF_INIT, 0, NULL, NULL, 0};
    if (!name || fk__buf_grow(&t.path, 1024) != 0 ||
        fk__import_parent_sql(&t.parent_sql, im.reg, e) != 0)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK && e->nchildren &&
        !(t.child_sql = fk__calloc(e->nchildren, sizeof *t.child_sql)))
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    for (size_t c = 0; rc == FK_OK && c < e->nchildren; c++)
        if (fk__import_child_sql(&t.child_sql[c], im.reg, e, &e->children[c]) != 0)
            rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK)
        rc = batch_add(&im, &b, doc, len, 0, id);
    if (rc == FK_OK)
        rc = run_batch(&im, &t, &b);
    if (rc == FK_OK)
        rc = selfref_pass(&im, e);
    batch_free(&b);
    fk__buf_dispose(&t.parent_sql);
    for (size_t c = 0; t.child_sql && c < e->nchildren; c++)
        fk__buf_dispose(&t.child_sql[c]);
    fk__xfree(t.child_sql);
    fk__buf_dispose(&t.path);
    fk__xfree(name);
    return rc;
}
