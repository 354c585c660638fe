/* Some entities' files refreshed after changes, and their manifest entries
 * with them: what the audit layer does after each change and what a watcher
 * does for a burst of them. Same naming rules and the same discipline as the
 * full export (temp files, one syncfs, renames, then removals); the manifest
 * is rewritten once per batch by streaming the old one through. */
#include <fcntl.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "entity_read.h"
#include "export_internal.h"
#include "fortknox/fixtures.h"
#include "fixture_limit.h"
#include "fsutil.h"
#include "loss.h"
#include "report_internal.h"
#include "json_text.h"
#include "manifest.h"
#include "pgutil.h"
#include "placement.h"
#include "sha256.h"

typedef struct given {
    const char *pk, *name_col;
    size_t pk_len, name_len;
    int64_t id;
    int has_id;
    fk__buf name;
    int failed;
} given;

static int given_cb(void *ud, const fk__jmember *m)
{
    given *g = ud;
    if (m->key_len == g->pk_len && memcmp(m->key, g->pk, g->pk_len) == 0 &&
        m->type == FK__JT_NUMBER) {
        g->has_id = fk__json_int64(m->val, m->val_len, &g->id) == 0;
    } else if (m->key_len == g->name_len && memcmp(m->key, g->name_col, g->name_len) == 0 &&
               m->type == FK__JT_STRING) {
        g->failed |= fk__json_unescape(&g->name, m->val, m->val_len) != 0;
    }
    return 0;
}

/* The caller's JSON, re-indented in the fixture format. */
static int doc_from_json(fk_ctx *ctx, const fk__etype *e, int64_t id, const char *json,
                         fk_format fmt, fk__buf *doc, fk__buf *name)
{
    given g = {0};
    g.pk = e->t.cols[e->t.pk].name;
    g.pk_len = strlen(g.pk);
    g.name_col = e->t.cols[e->name_col].name;
    g.name_len = strlen(g.name_col);
    fk__json_error err;
    size_t len = strlen(json);
    int rc = FK_OK;
    if (fk__json_scan_object(json, len, given_cb, &g, &err) < 0)
        rc = fk__json_error_is_oom(&err) ? fk__fail(ctx, FK_ENOMEM, "out of memory") : fk__fail(ctx, FK_EPARSE, "%s %lld: the JSON given is invalid: %zu:%zu: %s", e->name,
                      (long long)id, err.line, err.column, err.msg);
    else if (g.failed)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    else if (!g.has_id || g.id != id)
        rc = fk__fail(ctx, FK_EPARSE, "%s %lld: the JSON given has %s \"%s\"", e->name,
                      (long long)id, g.has_id ? "another" : "no", g.pk);
    else if (fk__json_pretty(doc, json, len, 0,
                             fmt == FK_FORMAT_CANONICAL ? FK__JSON_STYLE_CANONICAL
                                                        : FK__JSON_STYLE_PHP,
                             &err) != 0)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK && fmt == FK_FORMAT_CANONICAL)
        fk__buf_putc(doc, '\n');
    if (rc == FK_OK && g.name.len)
        fk__buf_put(name, g.name.data, g.name.len);
    fk__buf_dispose(&g.name);
    return rc;
}

typedef struct item {
    const fk__etype *e;
    int64_t id;
    const char *json;  /* the caller's document, or NULL: read the database */
    char *old_name;    /* the manifest's file name (in the type directory), or NULL */
    char *new_name;    /* NULL when the entity no longer exists */
    char sha[65];
    char *json_null;   /* its paths holding JSON null (manifest), or NULL */
    int write;         /* a temp file waits to be renamed */
    int remove_old;    /* the old file goes once the new one is in place */
    int lost;          /* gone without a recorded deletion: file and entry stay */
} item;

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    int c = strcmp(x->e->name, y->e->name);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Old file names for the sorted items, in one pass over the manifest, which
 * *trailer receives once read to its end (its counts and anchor are what
 * the loss rule needs; see loss.h), or NULL. */
static int old_names(fk_ctx *ctx, int root, item *it, size_t n, int *have_manifest,
                     fk__mreader **trailer)
{
    *trailer = NULL;
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    *have_manifest = rc == FK_OK;
    if (rc == FK_ENOMEM)
        return rc;
    if (rc) { /* none, or unreadable: naming falls back to what is on disk */
        fk__ok(ctx);
        return FK_OK;
    }
    fk__mentry en;
    int r;
    size_t k = 0;
    while ((r = fk__mreader_next(m, &en)) == 1) {
        while (k < n && (strcmp(it[k].e->name, en.type) < 0 ||
                         (strcmp(it[k].e->name, en.type) == 0 && it[k].id < en.id)))
            k++;
        if (k == n || strcmp(it[k].e->name, en.type) != 0 || it[k].id != en.id)
            continue;
        size_t dl = strlen(it[k].e->dir);
        if (strncmp(en.path, it[k].e->dir, dl) == 0 && en.path[dl] == '/' &&
            !(it[k].old_name = fk__strdup(en.path + dl + 1))) {
            rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == FK_OK && r == 0)
        *trailer = m;
    else
        fk__mreader_free(m);
    if (rc == FK_OK && r == FK_ENOMEM)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK && r < 0) { /* damaged manifest: the next full export rewrites it */
        fk__ok(ctx);
        *have_manifest = 0;
    }
    return rc;
}

/* The manifest with the items' entries replaced or dropped, in one pass.
 * When no file changed and the chain head did not move, the old export time
 * is kept (as fk_export() does): a refresh that changed nothing, such as
 * one for a spoofed notification, leaves the manifest byte-identical and
 * gives git nothing to commit. */
static int rewrite_manifest(fk_ctx *ctx, int root, const item *it, size_t n, int files_changed)
{
    fk__mreader *old = NULL;
    fk__mwriter *w = NULL;
    int rc = fk__mreader_open(ctx, &old, root, FK__MANIFEST_NAME);
    if (rc == FK_OK)
        rc = fk__mwriter_open(ctx, &w, root);
    fk__buf rel = FK__BUF_INIT;
    fk__mentry e;
    int r = 1;
    size_t k = 0;
    while (rc == FK_OK && (r = fk__mreader_next(old, &e)) == 1) {
        /* items ordered before this entry come first */
        for (; rc == FK_OK && k < n; k++) {
            int c = strcmp(it[k].e->name, e.type);
            if (c > 0 || (c == 0 && it[k].id >= e.id))
                break;
            if (it[k].new_name) {
                fk__buf_clear(&rel);
                fk__buf_printf(&rel, "%s/%s", it[k].e->dir, it[k].new_name);
                rc = fk__buf_failed(&rel) ? fk__fail(ctx, FK_ENOMEM, "out of memory")
                                          : fk__mwriter_add(w, fk__buf_cstr(&rel), it[k].e->name,
                                                            it[k].id, it[k].sha,
                                                            it[k].json_null);
            }
        }
        int replaced = k < n && strcmp(it[k].e->name, e.type) == 0 && it[k].id == e.id;
        if (rc == FK_OK && (!replaced || it[k].lost))
            rc = fk__mwriter_add(w, e.path, e.type, e.id, e.sha256, e.json_null);
    }
    if (rc == FK_OK && r < 0)
        rc = r;
    for (; rc == FK_OK && k < n; k++)
        if (it[k].new_name) {
            fk__buf_clear(&rel);
            fk__buf_printf(&rel, "%s/%s", it[k].e->dir, it[k].new_name);
            rc = fk__buf_failed(&rel) ? fk__fail(ctx, FK_ENOMEM, "out of memory")
                                      : fk__mwriter_add(w, fk__buf_cstr(&rel), it[k].e->name,
                                                        it[k].id, it[k].sha, it[k].json_null);
        }
    fk__buf_dispose(&rel);
    int64_t head_id = 0;
    char head[65] = "", now[24];
    int broken = 0;
    if (rc == FK_OK)
        rc = fk__audit_anchor_next(ctx, fk__mreader_chain_head_id(old),
                                   fk__mreader_chain_head_hash(old), &head_id, head, &broken);
    fk__utc_now(now);
    const char *old_at = fk__mreader_exported_at(old);
    if (rc == FK_OK)
        rc = fk__mwriter_finish(w,
                                files_changed || !old_at ||
                                        fk__mreader_chain_head_id(old) != head_id
                                    ? now
                                    : old_at,
                                head_id, head[0] ? head : NULL);
    if (rc == FK_OK)
        rc = fk__mwriter_commit(w);
    fk__mwriter_free(w);
    fk__mreader_free(old);
    if (rc == FK_OK && broken)
        rc = fk__fail(ctx, FK_ETAMPER,
                      "the audit row the fixtures anchor (id %" PRId64 ") is gone or was "
                      "rewritten: the files were refreshed, the old anchor was kept",
                      head_id);
    return rc;
}

/* What deciding about a gone entity needs (see loss.h). */
typedef struct loss_state {
    const fk__mreader *trailer; /* the manifest, read to its end; NULL: none */
    fk_report *report;
    const fk__etype *dropped;   /* the last type reported as dropped */
    item *it;                   /* the item being decided */
    int distrust;               /* -1 unknown; 1: the anchor is broken, see gone() */
} loss_state;

static int on_lost(void *ud, const fk__lost *l)
{
    loss_state *ls = ud;
    ls->it->lost = 1;
    return fk__loss_report(ls->report, l);
}

/* An entity that is gone: its file goes if the deletion is recorded. */
static int gone(fk_ctx *ctx, item *it, loss_state *ls)
{
    if (!it->old_name || !ls->trailer)
        return FK_OK; /* no file of ours to remove */
    int64_t counted, now;
    int strict, rc = FK_OK;
    if (ls->distrust < 0) { /* once per batch: a cut or rewritten log explains nothing */
        int64_t head_id;
        char head[65];
        rc = fk__audit_anchor_next(ctx, fk__mreader_chain_head_id(ls->trailer),
                                   fk__mreader_chain_head_hash(ls->trailer), &head_id, head,
                                   &ls->distrust);
    }
    if (rc == FK_OK)
        rc = fk__loss_type_dropped(ctx, ls->trailer, it->e, FK__DROP_RATIO, &counted, &now,
                                   &strict);
    if (rc == FK_OK && strict && ls->dropped != it->e) {
        ls->dropped = it->e;
        rc = fk__loss_report_drop(ls->report, it->e, counted, now,
                                  "every entity of the type that went counts as lost until "
                                  "acknowledged (`fortknox export DIR --accept-loss`)");
    }
    char ids[32];
    snprintf(ids, sizeof ids, "{%lld}", (long long)it->id);
    ls->it = it;
    if (rc == FK_OK)
        rc = fk__loss_check(ctx, it->e, ids, fk__mreader_chain_head_id(ls->trailer),
                            strict || ls->distrust, on_lost, ls);
    it->remove_old = rc == FK_OK && !it->lost;
    return rc;
}

/* Builds one item's document and writes it to its temp file (no sync). */
static int stage(fk_ctx *ctx, int dirfd, item *it, fk_format fmt, fk__buf *doc, fk__buf *name,
                 fk__buf *file, int64_t *unchanged, loss_state *ls)
{
    fk__buf_clear(doc);
    fk__buf_clear(name);
    fk__buf nulls = FK__BUF_INIT;
    int rc = it->json ? doc_from_json(ctx, it->e, it->id, it->json, fmt, doc, name)
                      : fk__entity_read(ctx, it->e, it->id, fmt, doc, name, &nulls);
    if (rc == FK_OK && nulls.len && !(it->json_null = fk__strdup(fk__buf_cstr(&nulls))))
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    fk__buf_dispose(&nulls);
    if (rc == FK_ENOTFOUND && !it->json) {
        fk__ok(ctx);
        return gone(ctx, it, ls);
    }
    if (rc == FK_OK)
        rc = fk__fixture_size_ok(ctx, it->e->name, it->id, doc->len);
    if (rc == FK_OK)
        rc = fk__place(ctx, it->e, dirfd, it->id, name->data, name->len, it->old_name, file);
    if (rc == FK_OK && !(it->new_name = fk__strdup(fk__buf_cstr(file))))
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK && fk__sha256_hex(doc->data, doc->len, it->sha) != 0)
        rc = fk__fail(ctx, FK_ENOMEM, "SHA-256 failed");
    if (rc)
        return rc;
    if (fk__fs_same_content(dirfd, it->new_name, doc->data, doc->len))
        (*unchanged)++;
    else if ((rc = fk__fs_write_tmp(ctx, dirfd, it->new_name, doc->data, doc->len, 0)) == FK_OK)
        it->write = 1;
    if (rc == FK_OK && it->old_name && strcmp(it->old_name, it->new_name) != 0) {
        int64_t owner;
        it->remove_old = fk__file_owner(dirfd, it->old_name, it->e->t.cols[it->e->t.pk].name,
                                        &owner) == 1 &&
                         owner == it->id;
    }
    return rc;
}

static int export_items(fk_report *report, fk_ctx *ctx, const char *dir, item *it, size_t n,
                        fk_format fmt)
{
    qsort(it, n, sizeof *it, cmp_item);
    int root = -1, dirfd = -1, have_manifest = 0, rc;
    fk__mreader *trailer = NULL;
    loss_state ls = {NULL, report, NULL, NULL, -1};
    size_t lost = 0;
    const fk__etype *cur = NULL;
    fk__buf doc = FK__BUF_INIT, name = FK__BUF_INIT, file = FK__BUF_INIT;
    int64_t written = 0, unchanged = 0, removed = 0;
    fk__txn txn;
    int txn_open = 0;
    rc = fk__lock_root(ctx, dir, 1, &root);
    if (rc == FK_OK)
        rc = old_names(ctx, root, it, n, &have_manifest, &trailer);
    ls.trailer = trailer;
    if (rc == FK_OK && (rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ "
                                                      "READ ONLY")) == FK_OK)
        txn_open = 1;
    for (size_t k = 0; rc == FK_OK && k < n; k++) {
        if (k && it[k].e == it[k - 1].e && it[k].id == it[k - 1].id)
            continue; /* asked twice: once is enough */
        if (it[k].e != cur) {
            if (dirfd >= 0)
                close(dirfd);
            cur = it[k].e;
            rc = fk__fs_open_subdir(ctx, root, cur->dir, 1, &dirfd);
        }
        if (rc == FK_OK)
            rc = stage(ctx, dirfd, &it[k], fmt, &doc, &name, &file, &unchanged, &ls);
        lost += it[k].lost;
    }
    if (txn_open)
        fk__txn_rollback(ctx, &txn); /* read-only: nothing to keep */
    if (dirfd >= 0)
        close(dirfd);
    dirfd = -1;
    fk__report_count(report, "written", 0);
    fk__report_count(report, "unchanged", unchanged);
    fk__report_count(report, "removed", 0);
    if (rc == FK_OK && fk__report_failed(report))
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    /* the point of no return: durable temps, renames, removals, manifest */
    if (rc == FK_OK)
        rc = fk__fs_syncfs(ctx, root);
    for (size_t k = 0; rc == FK_OK && k < n; k++) {
        if (!it[k].write && !it[k].remove_old)
            continue;
        int dfd;
        if ((rc = fk__fs_open_subdir(ctx, root, it[k].e->dir, 0, &dfd)))
            break;
        if (it[k].write && (rc = fk__fs_commit_tmp(ctx, dfd, it[k].new_name)) == FK_OK)
            written++;
        if (rc == FK_OK && it[k].remove_old && (rc = fk__fs_remove(ctx, dfd, it[k].old_name)) == FK_OK)
            removed++;
        close(dfd);
    }
    if (rc == FK_OK)
        rc = fk__fs_syncfs(ctx, root);
    if (rc == FK_OK && have_manifest && (written || removed || n))
        rc = rewrite_manifest(ctx, root, it, n, written || removed);
    if (rc) /* nothing renamed yet leaves no temp file behind */
        for (size_t k = 0; k < n; k++)
            if (it[k].write && it[k].new_name) {
                int dfd;
                if (fk__fs_open_subdir(NULL, root, it[k].e->dir, 0, &dfd) == FK_OK) {
                    fk__fs_drop_tmp(dfd, it[k].new_name);
                    close(dfd);
                }
            }
    fk__report_count(report, "written", written);
    fk__report_count(report, "removed", removed);
    fk__report_count(report, "lost", (int64_t)lost);
    fk__mreader_free(trailer);
    if (root >= 0)
        close(root);
    fk__buf_dispose(&doc);
    fk__buf_dispose(&name);
    fk__buf_dispose(&file);
    if (rc == FK_ETAMPER) /* the files were written; the finding goes in the report too */
        fk__report_add(report, FK_SEV_ERROR, "FK-TAMPER", NULL, 0, FK__MANIFEST_NAME, NULL,
                       "find out who removed or rewrote the audit log (`fortknox audit verify "
                       "--anchor DIR`)",
                       "%s", fk_errmsg(ctx));
    if (rc == FK_OK && lost)
        rc = fk__fail(ctx, FK_ELOSS,
                      "%zu entit%s disappeared without a recorded deletion: %s kept in %s",
                      lost, lost == 1 ? "y" : "ies",
                      lost == 1 ? "its file was" : "their files were", dir);
    return rc;
}

static void free_items(item *it, size_t n)
{
    for (size_t k = 0; it && k < n; k++) {
        fk__xfree(it[k].old_name);
        fk__xfree(it[k].new_name);
        fk__xfree(it[k].json_null);
    }
    fk__xfree(it);
}

int fk_export_entities(fk_report **out, fk_ctx *ctx, const char *dir,
                       const char *const *entity_types, const int64_t *ids, size_t n,
                       fk_format format)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_export_entities: ctx must not be NULL");
    fk__ok(ctx);
    if (!dir || !*dir || (n && (!entity_types || !ids)) ||
        (format != FK_FORMAT_PARTHENON && format != FK_FORMAT_CANONICAL))
        return fk__fail(ctx, FK_EINVAL, "fk_export_entities: invalid argument");
    fk_report *report = NULL;
    item *it = fk__calloc(n ? n : 1, sizeof *it);
    int rc = it ? fk__report_new(&report, "export entities") : FK_ENOMEM;
    if (rc)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    for (size_t k = 0; rc == FK_OK && k < n; k++) {
        it[k].id = ids[k];
        rc = fk__ctx_etype(ctx, entity_types[k], &it[k].e);
    }
    if (rc == FK_OK)
        rc = export_items(report, ctx, dir, it, n, format);
    free_items(it, n);
    if (rc && rc != FK_ELOSS && rc != FK_ETAMPER) { /* findings come with their report */
        fk_report_free(report);
        return rc;
    }
    if (out)
        *out = report;
    else
        fk_report_free(report);
    return rc;
}

int fk_export_entity(fk_ctx *ctx, const char *dir, const char *entity_type, int64_t id,
                     const char *json, fk_format format)
{
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_export_entity: ctx must not be NULL");
    fk__ok(ctx);
    if (!dir || !*dir || !entity_type ||
        (format != FK_FORMAT_PARTHENON && format != FK_FORMAT_CANONICAL))
        return fk__fail(ctx, FK_EINVAL, "fk_export_entity: invalid argument");
    item *it = fk__calloc(1, sizeof *it);
    fk_report *report = NULL;
    int rc = it && fk__report_new(&report, "export entity") == FK_OK
                 ? FK_OK
                 : fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK) {
        it->id = id;
        it->json = json;
        rc = fk__ctx_etype(ctx, entity_type, &it->e);
    }
    if (rc == FK_OK)
        rc = export_items(report, ctx, dir, it, 1, format);
    free_items(it, 1);
    fk_report_free(report);
    return rc;
}
