/* Database -> fixture directory.
 *
 * Order of events, chosen so that a kill at any moment leaves every file old
 * or new and never loses one:
 *   1. every changed document goes to ".<name>.fk-tmp" (no fsync each);
 *   2. one syncfs() makes all of them durable;
 *   3. they are renamed into place;
 *   4. files of vanished or renamed entities are removed (their replacement
 *      is already in place);
 *   5. syncfs() again, then the new manifest is renamed over the old one.
 * Types are processed in type-name order and ids ascending, the order of the
 * manifest, so the old manifest is merged in a single streaming pass. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "entity_iter.h"
#include "export_internal.h"
#include "fortknox/fixtures.h"
#include "fixture_limit.h"
#include "fsutil.h"
#include "loss.h"
#include "manifest.h"
#include "pgutil.h"
#include "placement.h"
#include "report_internal.h"
#include "schema_drift.h"
#include "sha256.h"

#define PROGRESS_EVERY 500

int fk_export_options_init(fk_export_options *opts, unsigned version)
{
    if (!opts || version == 0 || version > FK_EXPORT_OPTIONS_VERSION)
        return fk__fail(NULL, FK_EINVAL, "fk_export_options_init: unsupported version %u",
                        version);
    memset(opts, 0, sizeof *opts);
    opts->version = version;
    opts->format = FK_FORMAT_PARTHENON;
    if (version >= 2)
        opts->drop_ratio = FK__DROP_RATIO;
    return FK_OK;
}

/* Type indexes sorted by type name: the manifest's order. */
int fk__types_by_name(const fk__registry *reg, size_t **out)
{
    size_t *idx = fk__calloc(reg->ntypes, sizeof *idx);
    if (!idx)
        return -1;
    for (size_t i = 0; i < reg->ntypes; i++) {
        size_t j = i;
        while (j > 0 && strcmp(reg->types[idx[j - 1]].name, reg->types[i].name) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    *out = idx;
    return 0;
}

void fk__utc_now(char out[24])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int fk__lock_root(fk_ctx *ctx, const char *dir, int create, int *out_fd)
{
    *out_fd = -1;
    if (create) {
        int rc = fk__fs_mkdirs(ctx, dir);
        if (rc)
            return rc;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fk__fail(ctx, FK_EIO, "cannot open fixture directory %s: %m", dir);
    /* One writer per directory: the lock is on the directory itself, so no
     * lock file ever shows up in git. */
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return fk__fail(ctx, FK_EIO, "cannot lock fixture directory %s: %m", dir);
    }
    *out_fd = fd;
    return FK_OK;
}

/* An entity of the old manifest that is gone (see loss.h). */
typedef struct gone {
    const fk__etype *e;
    int64_t id;
} gone;

typedef struct gone_list {
    gone *g;
    size_t n, cap;
} gone_list;

static int gone_push(gone_list *l, const fk__etype *e, int64_t id)
{
    if (l->n == l->cap) {
        void *g = fk__grow(l->g, &l->cap, sizeof *l->g, 16);
        if (!g)
            return FK_ENOMEM;
        l->g = g;
    }
    l->g[l->n++] = (gone){e, id};
    return FK_OK;
}

typedef struct export_run {
    fk_ctx *ctx;
    const fk_export_options *opts;
    fk_report *report;
    int root;
    fk__mreader *old;    /* NULL when there is no usable old manifest */
    fk__mreader *trailer; /* the old manifest read to its end (its anchor), or NULL */
    int old_state;       /* 1 = current entry valid, 0 = exhausted */
    fk__mentry old_e;
    fk__mwriter *mw;
    fk__buf doc, name, path, rel;
    uint64_t done, total;
    int rc;              /* a failure inside old_name_for() */
    int64_t written, unchanged, removed, entities;
    int64_t nulls_changed; /* entities whose JSON nulls differ from the old manifest's */
    const char *cur_type;
    /* Lost entities (manifest order): their entries and files are kept.
     * Accepted ones go, once the acknowledgement is in the audit log. */
    gone_list lost, accepted;
    size_t next_lost; /* the first lost entity the merge has not met yet */
    size_t unreadable; /* entities of damaged types, kept as they were */
    size_t unlisted;   /* lost entities no manifest listed (the audit log knows them) */
    size_t damaged;    /* types kept as they were (damaged table, or a lost column) */
} export_run;

/* Did the caller acknowledge every loss (--accept-loss all)? */
static int accepted_all(const fk_export_options *o)
{
    for (size_t i = 0; o->version >= 2 && o->accept_loss && i < o->naccept_loss; i++)
        if (o->accept_loss[i] && strcmp(o->accept_loss[i], "all") == 0)
            return 1;
    return 0;
}

/* Is the loss of (type, id) acknowledged by the caller? */
static int accepted(const fk_export_options *o, const char *type, int64_t id)
{
    if (o->version < 2 || !o->accept_loss)
        return 0;
    if (accepted_all(o))
        return 1;
    size_t tl = strlen(type);
    for (size_t i = 0; i < o->naccept_loss; i++) {
        const char *a = o->accept_loss[i];
        if (!a)
            continue;
        char *end;
        if (strncmp(a, type, tl) == 0 && a[tl] == ':' &&
            strtoll(a + tl + 1, &end, 10) == id && *end == '\0')
            return 1;
    }
    return 0;
}

static int on_lost(void *ud, const fk__lost *l)
{
    export_run *x = ud;
    int ok = accepted(x->opts, l->e->name, l->id);
    if (gone_push(ok ? &x->accepted : &x->lost, l->e, l->id))
        return fk__fail(x->ctx, FK_ENOMEM, "out of memory");
    if (ok)
        return fk__report_add(x->report, FK_SEV_INFO, "loss_accepted", l->e->name, l->id, NULL,
                              NULL, NULL, NULL);
    return fk__loss_report(x->report, l);
}

/* An entity the audit log knows alive, missing from its table, that the
 * manifest scan did not meet (no manifest, or one that does not list it):
 * lost all the same. It has no file this export could keep. */
static int on_lost_unlisted(void *ud, const fk__lost *l)
{
    export_run *x = ud;
    for (size_t i = 0; i < x->lost.n; i++)
        if (x->lost.g[i].e == l->e && x->lost.g[i].id == l->id)
            return FK_OK; /* the manifest's half reported it */
    for (size_t i = 0; i < x->accepted.n; i++)
        if (x->accepted.g[i].e == l->e && x->accepted.g[i].id == l->id)
            return FK_OK;
    if (accepted(x->opts, l->e->name, l->id)) {
        if (gone_push(&x->accepted, l->e, l->id))
            return fk__fail(x->ctx, FK_ENOMEM, "out of memory");
        return fk__report_add(x->report, FK_SEV_INFO, "loss_accepted", l->e->name, l->id, NULL,
                              NULL, NULL, NULL);
    }
    x->unlisted++;
    return fk__report_add(x->report, FK_SEV_ERROR, "FK-LOSS", l->e->name, l->id, NULL, NULL,
                          "restore it from the audit log (`fortknox restore TYPE:ID --audit-id "
                          "N`) or from an older fixture commit, or acknowledge the loss with "
                          "`--accept-loss TYPE:ID`",
                          "%s %" PRId64 "%s%s%s disappeared without a recorded deletion (its "
                          "audit history ends at row %" PRId64 "); the fixture manifest does not "
                          "list it",
                          l->e->name, l->id, l->name ? " (\"" : "", l->name ? l->name : "",
                          l->name ? "\")" : "", l->last_audit_id);
}

static int on_drop(void *ud, const fk__etype *e, int64_t counted, int64_t now)
{
    export_run *x = ud;
    return fk__loss_report_drop(x->report, e, counted, now,
                                "every entity of the type that went counts as lost until "
                                "acknowledged (--accept-loss)");
}

/* The old manifest's current entry belongs to an entity that is gone: a lost
 * one keeps its entry (and so its file, see fk__plan_removals()); any other
 * one's file goes in step 4. */
static int vanished(export_run *x)
{
    const gone *g = x->next_lost < x->lost.n ? &x->lost.g[x->next_lost] : NULL;
    if (g && g->id == x->old_e.id && strcmp(g->e->name, x->old_e.type) == 0) {
        x->next_lost++;
        return fk__mwriter_add(x->mw, x->old_e.path, x->old_e.type, x->old_e.id,
                               x->old_e.sha256, x->old_e.json_null);
    }
    x->removed++;
    return FK_OK;
}

static int old_advance(export_run *x)
{
    if (!x->old || x->old_state == 0)
        return FK_OK;
    int r = fk__mreader_next(x->old, &x->old_e);
    if (r == FK_ENOMEM)
        return r;
    if (r < 0) { /* a damaged manifest only costs us naming stability */
        fk__report_add(x->report, FK_SEV_WARNING, "manifest_unreadable", NULL, 0,
                       FK__MANIFEST_NAME, NULL, NULL, "%s", fk_errmsg(x->ctx));
        fk__ok(x->ctx);
        fk__mreader_free(x->old);
        x->old = NULL;
        x->old_state = 0;
        return FK_OK;
    }
    x->old_state = r;
    return FK_OK;
}

/* The old manifest's file name for (type, id), skipping entries before it
 * (each skipped one is a vanished entity: its file goes in step 4). */
static const char *old_name_for(export_run *x, const char *type, int64_t id, const char *dir)
{
    while (x->old_state == 1) {
        int c = strcmp(x->old_e.type, type);
        if (c > 0 || (c == 0 && x->old_e.id > id))
            return NULL;
        if (c == 0 && x->old_e.id == id) {
            const char *p = x->old_e.path;
            size_t dl = strlen(dir);
            const char *base = strncmp(p, dir, dl) == 0 && p[dl] == '/' ? p + dl + 1 : NULL;
            return base;
        }
        if ((x->rc = vanished(x)) || (x->rc = old_advance(x)))
            return NULL;
    }
    return NULL;
}

static int progress(export_run *x)
{
    if (!x->opts->progress)
        return FK_OK;
    fk_progress p = {"export", x->cur_type, x->done, x->total};
    if (x->opts->progress(&p, x->opts->progress_data) != 0)
        return fk__fail(x->ctx, FK_ECANCELLED, "export cancelled by the progress callback");
    return FK_OK;
}

static int count_rows(export_run *x, const fk__registry *reg)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_puts(&sql, "SELECT 0");
    for (size_t i = 0; i < reg->ntypes; i++)
        if (!reg->types[i].damage)
            fk__buf_printf(&sql, " + (SELECT count(*) FROM %s)", reg->types[i].t.quoted);
    PGresult *res;
    int rc = fk__pg_query_buf(x->ctx, &res, &sql, 0, NULL, "counting entities");
    if (rc)
        return rc;
    x->total = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return FK_OK;
}

typedef struct type_run {
    export_run *x;
    int dirfd;
} type_run;

static int same_json_null(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

static int export_one(void *ud, const fk__entity *ent)
{
    type_run *tr = ud;
    export_run *x = tr->x;
    const fk__etype *e = ent->e;
    int64_t id = ent->id;
    const char *old = old_name_for(x, e->name, id, e->dir);
    if (x->rc)
        return x->rc;
    int rc = fk__place(x->ctx, e, tr->dirfd, id, ent->name, ent->name ? strlen(ent->name) : 0,
                       old, &x->path);
    if (rc)
        return rc;
    const char *file = fk__buf_cstr(&x->path);
    if (old && strcmp(old, file) != 0)
        x->removed++; /* renamed: the old file goes in step 4 */
    if (old && x->old_state == 1 && !same_json_null(x->old_e.json_null, ent->json_null))
        x->nulls_changed++; /* the file may be the same; the manifest is not */
    if (old && x->old_state == 1 && (rc = old_advance(x)))
        return rc;

    if ((rc = fk__fixture_size_ok(x->ctx, e->name, id, ent->len)))
        return rc;
    char sha[65];
    if (fk__sha256_hex(ent->doc, ent->len, sha) != 0)
        return fk__fail(x->ctx, FK_ENOMEM, "SHA-256 failed");
    fk__buf_clear(&x->rel);
    fk__buf_printf(&x->rel, "%s/%s", e->dir, file);
    if (fk__buf_failed(&x->rel))
        return fk__fail(x->ctx, FK_ENOMEM, "out of memory");
    if (fk__fs_same_content(tr->dirfd, file, ent->doc, ent->len)) {
        x->unchanged++;
    } else {
        if ((rc = fk__fs_write_tmp(x->ctx, tr->dirfd, file, ent->doc, ent->len, 0)))
            return rc;
        x->written++;
        if ((x->opts->flags & FK_EXPORT_REPORT_FILES) &&
            fk__report_add(x->report, FK_SEV_INFO, "written", e->name, id,
                           fk__buf_cstr(&x->rel), NULL, NULL, NULL) != FK_OK)
            return fk__fail(x->ctx, FK_ENOMEM, "out of memory");
    }
    x->entities++;
    fk__report_count2(x->report, e->name, "entities", 1);
    if ((rc = fk__mwriter_add(x->mw, fk__buf_cstr(&x->rel), e->name, id, sha, ent->json_null)))
        return rc;
    if (++x->done % PROGRESS_EVERY == 0)
        return progress(x);
    return FK_OK;
}

static int export_type(export_run *x, const fk__etype *e)
{
    type_run tr = {x, -1};
    x->cur_type = e->name;
    int rc = fk__fs_open_subdir(x->ctx, x->root, e->dir, 1, &tr.dirfd);
    if (rc == FK_OK) {
        fk__fs_remove_stale_tmps(tr.dirfd);
        rc = fk__entity_iter(x->ctx, e, x->opts->format, export_one, &tr);
    }
    if (rc == FK_OK)
        rc = progress(x); /* and at the end of every type */
    /* entries of this type still in the old manifest: vanished entities */
    while (rc == FK_OK && x->old_state == 1 && strcmp(x->old_e.type, e->name) == 0)
        if ((rc = vanished(x)) == FK_OK)
            rc = old_advance(x);
    if (tr.dirfd >= 0)
        close(tr.dirfd);
    return rc;
}

/* The old files of e hold a key its table lost (a column dropped or
 * renamed) or values its column no longer takes (retyped): rewriting them
 * would erase the only copy of those values, so the type is kept as it is
 * (like a damaged one) unless every loss is acknowledged (--accept-loss all).
 * One file tells: every file of a type has every column's key. */
static int drift(export_run *x, const fk__etype *e, int *drifted)
{
    *drifted = 0;
    if (x->old_state != 1 || strcmp(x->old_e.type, e->name) != 0 || accepted_all(x->opts))
        return FK_OK;
    int found = 0;
    int rc = fk__schema_drift(x->ctx, x->root, e, x->old_e.path, x->report, &found);
    *drifted = found > 0;
    return rc;
}

/* A type whose table is damaged (missing table or column) cannot be read:
 * every entity the old manifest lists for it keeps its file and entry, and
 * counts as lost until the table is repaired. The other types are exported
 * as usual, so the backup of everything else stays current. */
static int keep_damaged_type(export_run *x, const fk__etype *e)
{
    x->damaged++;
    int rc = !e->damage ? FK_OK /* a drift: FK-SCHEMA says why */
                        : fk__report_add(x->report, FK_SEV_ERROR, "FK-DAMAGED", e->name, 0,
                                         NULL, NULL,
                                         "repair the table (or the registry), then export again",
                                         "%s", e->damage);
    while (rc == FK_OK && x->old_state == 1 && strcmp(x->old_e.type, e->name) == 0) {
        x->unreadable++;
        rc = fk__mwriter_add(x->mw, x->old_e.path, x->old_e.type, x->old_e.id, x->old_e.sha256,
                             x->old_e.json_null);
        if (rc == FK_OK)
            rc = fk__report_add(x->report, FK_SEV_ERROR, "FK-LOSS", e->name, x->old_e.id,
                                x->old_e.path, NULL,
                                "repair the table, or restore it from the fixtures",
                                "%s %" PRId64 " cannot be read (its table is damaged): its "
                                "file and manifest entry were kept",
                                e->name, x->old_e.id);
        if (rc == FK_OK)
            rc = old_advance(x);
    }
    return rc;
}

/* Step 3 (commit = 1): rename pending temp files into place; on failure
 * (commit = 0): remove them, leaving the old files as they were. */
int fk__finish_tmps(fk_ctx *ctx, int root, const fk__registry *reg, int commit)
{
    int rc = FK_OK;
    size_t sl = strlen(FK__TMP_SUFFIX);
    for (size_t i = 0; i < reg->ntypes; i++) {
        int dfd;
        if (fk__fs_open_subdir(NULL, root, reg->types[i].dir, 0, &dfd) != FK_OK)
            continue;
        int scan = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
            size_t n = strlen(de->d_name);
            if (de->d_name[0] != '.' || n <= sl + 1 ||
                strcmp(de->d_name + n - sl, FK__TMP_SUFFIX) != 0)
                continue;
            if (!commit) {
                unlinkat(dfd, de->d_name, 0);
                continue;
            }
            char final[NAME_MAX + 1];
            snprintf(final, sizeof final, "%.*s", (int)(n - sl - 1), de->d_name + 1);
            if (rc == FK_OK)
                rc = fk__fs_commit_tmp(ctx, dfd, final);
        }
        if (d)
            closedir(d);
        else if (scan >= 0)
            close(scan);
        close(dfd);
    }
    return rc;
}

/* Step 4, planned before step 3 so that nothing after the renames can fail
 * for lack of memory: every file the old manifest lists that the new one
 * does not list under the same entity, and that still holds that entity,
 * is appended to `list` ("dir/file" strings, NUL-separated). */
int fk__plan_removals(fk_ctx *ctx, int root, const fk__registry *reg, fk_report *report,
                      int report_files, fk__buf *list, int64_t *count)
{
    fk__mreader *old = NULL, *neu = NULL;
    int rc = fk__mreader_open(ctx, &old, root, FK__MANIFEST_NAME);
    if (rc == FK_ENOMEM)
        return rc;
    if (rc) {
        fk__ok(ctx);
        return FK_OK; /* no (readable) old manifest: nothing known to be ours */
    }
    if ((rc = fk__mreader_open(ctx, &neu, root, FK__MANIFEST_TMP))) {
        fk__mreader_free(old);
        return rc;
    }
    fk__mentry o, n;
    int ro = fk__mreader_next(old, &o), rn = fk__mreader_next(neu, &n);
    while (ro == 1 && rc == FK_OK) {
        while (rn == 1) {
            int c = strcmp(n.type, o.type);
            if (c > 0 || (c == 0 && n.id >= o.id))
                break;
            rn = fk__mreader_next(neu, &n);
        }
        int keep = rn == 1 && strcmp(n.type, o.type) == 0 && n.id == o.id &&
                   strcmp(n.path, o.path) == 0;
        const fk__etype *e = fk__registry_find(reg, o.type);
        const char *slash = strchr(o.path, '/');
        if (!keep && e && slash && strncmp(o.path, e->dir, (size_t)(slash - o.path)) == 0 &&
            e->dir[slash - o.path] == '\0') {
            int dfd;
            if (fk__fs_open_subdir(NULL, root, e->dir, 0, &dfd) == FK_OK) {
                int64_t owner;
                int r = fk__file_owner(dfd, slash + 1, e->t.cols[e->t.pk].name, &owner);
                if (r == 1 && owner == o.id) {
                    fk__buf_put(list, o.path, strlen(o.path) + 1);
                    (*count)++;
                    if (report_files)
                        fk__report_add(report, FK_SEV_INFO, "removed", o.type, o.id, o.path,
                                       NULL, NULL, NULL);
                }
                close(dfd);
            }
            if (fk__buf_failed(list))
                rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
        }
        if (rc == FK_OK)
            ro = fk__mreader_next(old, &o);
    }
    /* a damaged old manifest just ends the removals; the new one must read */
    if (rc == FK_OK && (ro == FK_ENOMEM || rn < 0))
        rc = ro == FK_ENOMEM ? ro : rn;
    if (rc == FK_OK)
        fk__ok(ctx);
    fk__mreader_free(old);
    fk__mreader_free(neu);
    return rc;
}

/* Step 4 proper: no allocation, so it cannot fail half-way for memory. */
int fk__apply_removals(fk_ctx *ctx, int root, const fk__buf *list)
{
    int rc = FK_OK;
    for (size_t off = 0; rc == FK_OK && off < list->len;) {
        const char *path = list->data + off, *slash = strchr(path, '/');
        char dir[256];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        int dfd;
        if (fk__fs_open_subdir(NULL, root, dir, 0, &dfd) == FK_OK) {
            rc = fk__fs_remove(ctx, dfd, slash + 1);
            close(dfd);
        }
        off += strlen(path) + 1;
    }
    return rc;
}

/* The acknowledgements go to the audit log before any file goes: one
 * statement per run of one type. */
static int was_accepted(const void *arg, const fk__etype *e, int64_t id)
{
    const gone_list *l = arg;
    for (size_t i = 0; i < l->n; i++)
        if (l->g[i].e == e && l->g[i].id == id)
            return 1;
    return 0;
}

static int record_acceptances(export_run *x, const fk__registry *reg)
{
    fk__buf ids = FK__BUF_INIT;
    int rc = FK_OK, unrecorded = 0;
    for (size_t i = 0; rc == FK_OK && i < x->accepted.n; i++) {
        const gone *g = &x->accepted.g[i];
        fk__buf_printf(&ids, "%s%" PRId64, ids.len ? "," : "{", g->id);
        if (i + 1 < x->accepted.n && x->accepted.g[i + 1].e == g->e)
            continue;
        fk__buf_putc(&ids, '}');
        int recorded = 1;
        const char *lit = fk__buf_cstr(&ids);
        rc = lit ? fk__loss_accept(x->ctx, g->e, lit, &recorded)
                 : fk__fail(x->ctx, FK_ENOMEM, "out of memory");
        unrecorded |= !recorded;
        fk__buf_clear(&ids);
    }
    fk__buf_dispose(&ids);
    if (rc == FK_OK)
        rc = fk__accept_loss_warn(x->report, reg, x->opts, was_accepted, &x->accepted);
    if (rc == FK_OK && unrecorded)
        rc = fk__report_add(x->report, FK_SEV_WARNING, "loss_accepted_unrecorded", NULL, 0, NULL,
                            NULL, "run `fortknox install`: then acknowledgements are audited",
                            "libfortknox is not installed: the accepted losses are recorded "
                            "nowhere but in this report (and the history of the fixture files)");
    return rc;
}

static void export_run_dispose(export_run *x)
{
    fk__buf_dispose(&x->doc);
    fk__buf_dispose(&x->name);
    fk__buf_dispose(&x->path);
    fk__buf_dispose(&x->rel);
    fk__xfree(x->lost.g);
    fk__xfree(x->accepted.g);
    fk__mreader_free(x->trailer);
}

int fk_export(fk_report **out, fk_ctx *ctx, const char *dir, const fk_export_options *opts)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_export: ctx must not be NULL");
    fk__ok(ctx);
    fk_export_options defaults;
    fk_export_options_init(&defaults, FK_EXPORT_OPTIONS_VERSION);
    if (!opts)
        opts = &defaults;
    if (!dir || !*dir || opts->version == 0 || opts->version > FK_EXPORT_OPTIONS_VERSION ||
        (opts->format != FK_FORMAT_PARTHENON && opts->format != FK_FORMAT_CANONICAL))
        return fk__fail(ctx, FK_EINVAL, "fk_export: invalid argument");
    fk__registry *reg;
    int rc = fk__ctx_registry(ctx, &reg);
    if (rc) /* a damaged type is kept as it is: see keep_damaged_type() */
        return rc;
    if ((rc = fk__accept_loss_check(ctx, reg, opts)))
        return rc;

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    export_run x = {0};
    x.ctx = ctx;
    x.opts = opts;
    x.root = -1;
    x.old_state = 1;
    size_t *order = NULL;
    fk__txn txn = {0};
    int txn_open = 0, changed;
    if ((rc = fk__report_new(&x.report, "export")))
        return fk__fail(ctx, rc, "out of memory");
    if ((rc = fk__lock_root(ctx, dir, 1, &x.root)))
        goto fail;
    if (fk__types_by_name(reg, &order) != 0) {
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
        goto fail;
    }
    fk__fs_remove_stale_tmps(x.root);
    fk__finish_tmps(ctx, x.root, reg, 0); /* leftovers of a killed run */

    rc = fk__mreader_open(ctx, &x.old, x.root, FK__MANIFEST_NAME);
    if (rc == FK_ENOMEM)
        goto fail;
    if (rc == FK_ENOTFOUND) {
        x.old_state = 0;
    } else if (rc) {
        fk__report_add(x.report, FK_SEV_WARNING, "manifest_unreadable", NULL, 0,
                       FK__MANIFEST_NAME, NULL, NULL, "%s", fk_errmsg(ctx));
        x.old_state = 0;
    }
    fk__ok(ctx);
    if (x.old_state && (rc = old_advance(&x)))
        goto fail;
    if ((rc = fk__mwriter_open(ctx, &x.mw, x.root)))
        goto fail;
    if ((rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")))
        goto fail;
    txn_open = 1;
    /* the anchor first: an audit log found tampered with explains nothing */
    int mstatus;
    if ((rc = fk__loss_read_trailer(ctx, x.root, &x.trailer, &mstatus)))
        goto fail;
    fk__ok(ctx); /* an unreadable manifest was reported above */
    int64_t head_id;
    char head_hash[65];
    int anchor_broken;
    if ((rc = fk__audit_anchor_next(ctx, x.trailer ? fk__mreader_chain_head_id(x.trailer) : 0,
                                    x.trailer ? fk__mreader_chain_head_hash(x.trailer) : NULL,
                                    &head_id, head_hash, &anchor_broken)))
        goto fail;
    if (anchor_broken &&
        (rc = fk__report_add(x.report, FK_SEV_ERROR, "FK-TAMPER", NULL, 0, FK__MANIFEST_NAME,
                             NULL,
                             "find out who removed or rewrote the audit log (`fortknox doctor`, "
                             "`fortknox audit verify --anchor DIR`); the manifest keeps the old "
                             "anchor until the chain holds it again",
                             "the audit row the fixtures anchor (id %" PRId64 ") is no longer in "
                             "the audit chain as it was: the log was dropped, cut or rewritten; "
                             "no audit row explains a disappearance now",
                             head_id)))
        goto fail;
    /* before the merge: it keeps the entries of the lost entities */
    double ratio = opts->version >= 2 && opts->drop_ratio > 0 ? opts->drop_ratio : FK__DROP_RATIO;
    if ((rc = fk__loss_scan_manifest(ctx, reg, x.root, ratio, anchor_broken, on_lost, on_drop,
                                     &x, &mstatus, NULL)))
        goto fail;
    fk__ok(ctx);
    /* ... and what the audit log knows alive that no manifest lists (the
     * manifest deleted, edited or never written) */
    for (size_t i = 0; rc == FK_OK && i < reg->ntypes; i++)
        if (!reg->types[i].damage)
            rc = fk__loss_check(ctx, &reg->types[i], NULL,
                                x.trailer ? fk__mreader_chain_head_id(x.trailer) : 0,
                                anchor_broken, on_lost_unlisted, &x);
    if (rc || (rc = count_rows(&x, reg)) || (rc = progress(&x)))
        goto fail;
    for (size_t i = 0; i < reg->ntypes; i++) {
        /* entries of types no longer registered: skip (their files stay) */
        while (rc == FK_OK && x.old_state == 1 &&
               strcmp(x.old_e.type, reg->types[order[i]].name) < 0)
            rc = old_advance(&x);
        if (rc)
            goto fail;
        const fk__etype *e = &reg->types[order[i]];
        int drifted = 0;
        if (!e->damage && (rc = drift(&x, e, &drifted)))
            goto fail;
        if ((rc = e->damage || drifted ? keep_damaged_type(&x, e) : export_type(&x, e)))
            goto fail;
    }
    rc = fk__txn_commit(ctx, &txn);
    txn_open = 0;
    if (rc)
        goto fail;

    while (rc == FK_OK && x.old_state == 1) /* the trailer is read once the entries are */
        rc = old_advance(&x);
    if (rc)
        goto fail;
    /* Nothing changed: keep the old export time so the manifest (and git) stay quiet. */
    const char *old_at = x.old ? fk__mreader_exported_at(x.old) : NULL;
    changed = x.written || x.removed || x.nulls_changed || !old_at ||
              fk__mreader_chain_head_id(x.old) != head_id;
    char now[24];
    fk__utc_now(now);
    if ((rc = fk__mwriter_finish(x.mw, changed ? now : old_at, head_id,
                                 head_hash[0] ? head_hash : NULL)))
        goto fail;
    fk__mreader_free(x.old);
    x.old = NULL;
    if ((rc = record_acceptances(&x, reg)))
        goto fail;
    /* everything that allocates happens before the point of no return */
    fk__buf removals = FK__BUF_INIT;
    int64_t removed = 0;
    rc = fk__plan_removals(ctx, x.root, reg, x.report, (opts->flags & FK_EXPORT_REPORT_FILES) != 0,
                           &removals, &removed);
    fk__report_count(x.report, "entities", x.entities);
    fk__report_count(x.report, "written", x.written);
    fk__report_count(x.report, "unchanged", x.unchanged);
    fk__report_count(x.report, "removed", removed);
    fk__report_count(x.report, "lost", (int64_t)(x.lost.n + x.unreadable + x.unlisted));
    fk__report_count(x.report, "loss_accepted", (int64_t)x.accepted.n);
    if (rc == FK_OK && fk__report_failed(x.report))
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    /* steps 2 to 5 */
    if (rc == FK_OK)
        rc = fk__fs_syncfs(ctx, x.root);
    if (rc == FK_OK)
        rc = fk__finish_tmps(ctx, x.root, reg, 1);
    if (rc == FK_OK)
        rc = fk__apply_removals(ctx, x.root, &removals);
    fk__buf_dispose(&removals);
    if (rc == FK_OK)
        rc = fk__fs_syncfs(ctx, x.root);
    if (rc == FK_OK)
        rc = fk__mwriter_commit(x.mw);
    if (rc)
        goto fail;

    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fk__report_set_elapsed_ms(x.report, (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
                                            (t1.tv_nsec - t0.tv_nsec) / 1000000);
    fk__mwriter_free(x.mw);
    size_t nlost = x.lost.n + x.unreadable + x.unlisted, unreadable = x.unreadable;
    size_t damaged = x.damaged;
    export_run_dispose(&x);
    fk__xfree(order);
    close(x.root); /* releases the lock */
    fk__report_set_ok(x.report, nlost == 0 && damaged == 0 && !anchor_broken);
    if (out)
        *out = x.report;
    else
        fk_report_free(x.report);
    if (anchor_broken)
        return fk__fail(ctx, FK_ETAMPER,
                        "the audit row the fixtures in %s anchor is gone or was rewritten: "
                        "everything was exported, the old anchor was kept%s",
                        dir, nlost ? ", and entities disappeared (see the report)" : "");
    if (damaged && !nlost) /* nothing to lose yet (no manifest): still no backup of it */
        return fk__fail(ctx, FK_ELOSS,
                        "%zu entity type%s could not be exported (damaged table, or a column "
                        "the fixtures hold is gone): see the report; everything else was "
                        "exported to %s",
                        damaged, damaged == 1 ? "" : "s", dir);
    if (nlost)
        return fk__fail(ctx, FK_ELOSS,
                        "%zu entit%s disappeared without a recorded deletion%s: %s kept in "
                        "%s and everything else exported; restore them (`fortknox import %s`) "
                        "or acknowledge the loss (--accept-loss TYPE:ID)",
                        nlost, nlost == 1 ? "y" : "ies",
                        unreadable ? " or cannot be read (damaged tables)" : "",
                        nlost == 1 ? "its file was" : "their files were", dir, dir);
    return FK_OK;

fail:
    if (txn_open)
        fk__txn_rollback(ctx, &txn);
    fk__mreader_free(x.old);
    fk__mwriter_free(x.mw); /* removes the temp manifest (needs the root fd) */
    if (x.root >= 0) {
        fk__finish_tmps(ctx, x.root, reg, 0);
        close(x.root);
    }
    export_run_dispose(&x);
    fk__xfree(order);
    fk_report_free(x.report);
    return rc;
}
