/* One entity's file refreshed after a change, and its manifest entry with it.
 * Same naming rules and the same write-then-rename discipline as the full
 * export; the manifest is rewritten by streaming the old one through. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "entity_read.h"
#include "export_internal.h"
#include "fortknox/fixtures.h"
#include "fsutil.h"
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
        m->type == FK__JT_NUMBER && m->val_len < 24) {
        char num[24];
        memcpy(num, m->val, m->val_len);
        num[m->val_len] = '\0';
        g->has_id = fk__text_to_i64(num, &g->id) == 0;
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

/* The manifest with this entity's entry replaced (path != NULL) or dropped. */
static int rewrite_manifest(fk_ctx *ctx, int root, const char *type, int64_t id,
                            const char *path, const char *sha)
{
    fk__mreader *old = NULL;
    int rc = fk__mreader_open(ctx, &old, root, FK__MANIFEST_NAME);
    if (rc == FK_ENOTFOUND) { /* never fully exported here: the next export writes one */
        fk__ok(ctx);
        return FK_OK;
    }
    if (rc)
        return rc;
    fk__mwriter *w = NULL;
    if ((rc = fk__mwriter_open(ctx, &w, root))) {
        fk__mreader_free(old);
        return rc;
    }
    fk__mentry e;
    int r, placed = path == NULL;
    while ((r = fk__mreader_next(old, &e)) == 1 && rc == FK_OK) {
        int c = strcmp(e.type, type);
        if (!placed && (c > 0 || (c == 0 && e.id >= id))) {
            rc = fk__mwriter_add(w, path, type, id, sha);
            placed = 1;
        }
        if (rc == FK_OK && !(c == 0 && e.id == id))
            rc = fk__mwriter_add(w, e.path, e.type, e.id, e.sha256);
    }
    if (rc == FK_OK && r < 0)
        rc = r;
    if (rc == FK_OK && !placed)
        rc = fk__mwriter_add(w, path, type, id, sha);
    int64_t head_id = 0;
    char head[65] = "", now[24];
    if (rc == FK_OK)
        rc = fk__audit_chain_head(ctx, &head_id, head);
    fk__utc_now(now);
    if (rc == FK_OK)
        rc = fk__mwriter_finish(w, now, head_id, head[0] ? head : NULL);
    if (rc == FK_OK)
        rc = fk__mwriter_commit(w);
    fk__mwriter_free(w);
    fk__mreader_free(old);
    return rc;
}

/* The manifest's file name for (type, id), or "" when it has none. */
static int old_file(fk_ctx *ctx, int root, const fk__etype *e, int64_t id, fk__buf *out)
{
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    if (rc) {
        fk__ok(ctx);
        return FK_OK;
    }
    fk__mentry en;
    int r;
    size_t dl = strlen(e->dir);
    while ((r = fk__mreader_next(m, &en)) == 1)
        if (en.id == id && strcmp(en.type, e->name) == 0 && strncmp(en.path, e->dir, dl) == 0 &&
            en.path[dl] == '/') {
            fk__buf_puts(out, en.path + dl + 1);
            break;
        }
    fk__mreader_free(m);
    if (r < 0) /* unreadable manifest: naming falls back to what is on disk */
        fk__ok(ctx);
    return fk__buf_failed(out) ? fk__fail(ctx, FK_ENOMEM, "out of memory") : FK_OK;
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
    const fk__etype *e;
    int rc = fk__ctx_etype(ctx, entity_type, &e);
    if (rc)
        return rc;

    fk__buf doc = FK__BUF_INIT, name = FK__BUF_INIT, file = FK__BUF_INIT, old = FK__BUF_INIT,
            rel = FK__BUF_INIT;
    int root = -1, dirfd = -1, exists = 1;
    if (json) {
        rc = doc_from_json(ctx, e, id, json, format, &doc, &name);
    } else {
        fk__txn txn;
        rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (rc == FK_OK) {
            rc = fk__entity_read(ctx, e, id, format, &doc, &name);
            fk__txn_rollback(ctx, &txn); /* read-only: nothing to keep */
        }
        if (rc == FK_ENOTFOUND) { /* force-deleted: its file goes */
            fk__ok(ctx);
            rc = FK_OK;
            exists = 0;
        }
    }
    if (rc == FK_OK)
        rc = fk__lock_root(ctx, dir, 1, &root);
    if (rc == FK_OK)
        rc = fk__fs_open_subdir(ctx, root, e->dir, 1, &dirfd);
    if (rc == FK_OK)
        rc = old_file(ctx, root, e, id, &old);
    const char *oldname = old.len ? fk__buf_cstr(&old) : NULL;
    char sha[65] = "";
    if (rc == FK_OK && exists) {
        rc = fk__place(ctx, e, dirfd, id, name.data, name.len, oldname, &file);
        if (rc == FK_OK && fk__sha256_hex(doc.data, doc.len, sha) != 0)
            rc = fk__fail(ctx, FK_ENOMEM, "SHA-256 failed");
        if (rc == FK_OK && !fk__fs_same_content(dirfd, fk__buf_cstr(&file), doc.data, doc.len)) {
            rc = fk__fs_write_tmp(ctx, dirfd, fk__buf_cstr(&file), doc.data, doc.len, 1);
            if (rc == FK_OK)
                rc = fk__fs_commit_tmp(ctx, dirfd, fk__buf_cstr(&file));
        }
    }
    /* the old file goes only once its replacement is in place */
    if (rc == FK_OK && oldname && (!exists || strcmp(oldname, fk__buf_cstr(&file)) != 0)) {
        int64_t owner;
        if (fk__file_owner(dirfd, oldname, e->t.cols[e->t.pk].name, &owner) == 1 && owner == id)
            rc = fk__fs_remove(ctx, dirfd, oldname);
    }
    if (rc == FK_OK)
        rc = fk__fs_fsync(ctx, dirfd);
    if (rc == FK_OK && exists) {
        fk__buf_printf(&rel, "%s/%s", e->dir, fk__buf_cstr(&file));
        if (fk__buf_failed(&rel))
            rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    }
    if (rc == FK_OK && (exists || oldname))
        rc = rewrite_manifest(ctx, root, e->name, id, exists ? fk__buf_cstr(&rel) : NULL, sha);
    if (dirfd >= 0)
        close(dirfd);
    if (root >= 0)
        close(root);
    fk__buf_dispose(&doc);
    fk__buf_dispose(&name);
    fk__buf_dispose(&file);
    fk__buf_dispose(&old);
    fk__buf_dispose(&rel);
    return rc;
}
