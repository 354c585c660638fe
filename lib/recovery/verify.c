/* Database vs fixture directory, entity by entity.
 *
 * The database side is serialized exactly as an export would write it; when
 * the bytes equal the file the entity is identical at no further cost.
 * Otherwise the pair goes to the server in a batch and jsonb compares the
 * values: scalars (column values, whose type fixes how they restore) by
 * value, jsonb values and child rows by their jsonb text, which keeps a
 * number's scale as jsonb stores it (0.10 is not 0.1 there) but not key
 * order or layout. Every key of either side is compared: a key the file
 * lacks (the column would take its default on import) or one that names no
 * column (import refuses it) makes the entity differ, because the question
 * is whether importing the file gives back what the database holds. The
 * values the format holds as strings compare exactly: a json column's text,
 * a float's -0, NaN and Infinity (docs/fixture-format.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seal.h"
#include "alloc.h"
#include "entity_iter.h"
#include "export_internal.h"
#include "fixdir.h"
#include "fortknox/recovery.h"
#include "fsutil.h"
#include "json_nulls.h"
#include "json_text.h"
#include "loss.h"
#include "manifest.h"
#include "witness.h"
#include "pgutil.h"
#include "recovery_internal.h"
#include "report_internal.h"
#include "sha256.h"
#include "entry.h"

#define PAIR_BATCH 200
#define PAIR_BYTES (8u * 1024 * 1024)

int fk_verify_options_init(fk_verify_options *opts, unsigned version)
{
    return FK__OPTIONS_INIT(opts, version, FK_VERIFY_OPTIONS_VERSION, "fk_verify_options_init");
}

/* The files of one type directory: id -> name, and whether each was matched. */
typedef struct fileent {
    int64_t id;
    char *name;
    int seen;
    unsigned char sha[32]; /* of the file as the scan read it */
} fileent;

typedef struct typefiles {
    fileent *f;
    size_t n, cap;
} typefiles;

static int cmp_id(const void *a, const void *b)
{
    const fileent *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void typefiles_free(typefiles *t)
{
    for (size_t i = 0; i < t->n; i++)
        fk__xfree(t->f[i].name);
    fk__xfree(t->f);
    memset(t, 0, sizeof *t);
}

typedef struct verifier {
    fk_ctx *ctx;
    fk_report *report;
    const fk_verify_options *opts;
    const fk__etype *e;
    int dirfd;
    typefiles files;
    fk_format fmt;
    fk__buf file;   /* scratch: one file */
    fk__buf pairs;  /* "[[file, db], ...]" pending semantic comparison */
    size_t npairs;
    int64_t *pair_ids;
    size_t pair_cap;
    int64_t identical, differs, db_only, fixture_only, entities;
    uint64_t done, total; /* for progress: entities compared, and in the database */
    fk__jnulls jnulls; /* the manifest's JSON nulls */
} verifier;

static int add_file(verifier *v, const char *name, int64_t id, const unsigned char sha[32])
{
    if (v->files.n == v->files.cap) {
        void *g = fk__grow(v->files.f, &v->files.cap, sizeof *v->files.f, 64);
        if (!g)
            return fk__oom(v->ctx);
        v->files.f = g;
    }
    fileent *f = &v->files.f[v->files.n];
    if (!(f->name = fk__strdup(name)))
        return fk__oom(v->ctx);
    f->id = id;
    f->seen = 0;
    memcpy(f->sha, sha, sizeof f->sha);
    v->files.n++;
    return FK_OK;
}

/* Reads every fixture of the type once for its id (a malformed one is an
 * error with its position, as for import) and its digest: an entity whose
 * document has the same digest is identical without reading its file again. */
static int scan_type_dir(verifier *v)
{
    const fk__etype *e = v->e;
    const char *pk = e->t.cols[e->t.pk].name;
    fk__fixdir_names names;
    int rc = fk__fixdir_list(v->ctx, v->dirfd, e->dir, NULL, &names), canonical_votes = 0;
    for (size_t i = 0; rc == FK_OK && i < names.n; i++) {
        const char *name = names.v[i];
        fk__buf_clear(&v->file);
        rc = fk__fixdir_read(v->ctx, v->dirfd, name, &v->file);
        if (rc) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", fk_errmsg(v->ctx));
            rc = fk__fail(v->ctx, rc == FK_ENOTFOUND ? FK_EIO : rc, "%s/%s: %s", e->dir, name,
                          msg);
            break;
        }
        int64_t id = 0;
        fk__json_error err;
        int r = fk__doc_id(v->file.data, v->file.len, pk, &id, &err);
        if (r == FK__DOC_ID_INVALID) {
            rc = fk__fail(v->ctx, fk__json_error_is_oom(&err) ? FK_ENOMEM : FK_EPARSE,
                          "%s/%s:%zu:%zu: %s", e->dir, name, err.line, err.column, err.msg);
            break;
        }
        if (r != FK__DOC_ID_OK) {
            rc = fk__fail(v->ctx, FK_EPARSE, "%s/%s:1:1: the document has no integer \"%s\"",
                          e->dir, name, pk);
            break;
        }
        canonical_votes += v->file.len && v->file.data[v->file.len - 1] == '\n' ? 1 : -1;
        unsigned char sha[32];
        if (fk__sha256(v->file.data ? v->file.data : "", v->file.len, sha) != 0) {
            rc = fk__fail(v->ctx, FK_ENOMEM, "SHA-256 failed");
            break;
        }
        rc = add_file(v, name, id, sha);
    }
    fk__fixdir_names_free(&names);
    if (rc)
        return rc;
    if (v->files.n) /* qsort and bsearch want a real array */
        qsort(v->files.f, v->files.n, sizeof *v->files.f, cmp_id);
    for (size_t i = 1; i < v->files.n; i++)
        if (v->files.f[i].id == v->files.f[i - 1].id)
            fk__report_add(v->report, FK_SEV_ERROR, "duplicate_id", e->name, v->files.f[i].id,
                           NULL, NULL, "keep one of the two files", "%s/%s and %s/%s both hold "
                           "id %" PRId64, e->dir, v->files.f[i - 1].name, e->dir,
                           v->files.f[i].name, v->files.f[i].id);
    /* canonical files end in a newline; compare against what the export of
     * that format would write */
    v->fmt = canonical_votes > 0 ? FK_FORMAT_CANONICAL : FK_FORMAT_PARTHENON;
    return FK_OK;
}

static fileent *find_file(verifier *v, int64_t id)
{
    fileent key = {id, NULL, 0, {0}};
    if (!v->files.n)
        return NULL;
    return bsearch(&key, v->files.f, v->files.n, sizeof key, cmp_id);
}

static int flush_pairs(verifier *v)
{
    if (!v->npairs)
        return FK_OK;
    fk__buf_putc(&v->pairs, ']');
    const char *p = fk__buf_cstr(&v->pairs);
    PGresult *res;
    int rc = p ? fk__pg_query(v->ctx, &res,
                              "SELECT x.ord, (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]'::jsonb)"
                              " FROM (SELECT jsonb_object_keys(x.p -> 0) UNION "
                              "SELECT jsonb_object_keys(x.p -> 1)) u(k) WHERE CASE WHEN "
                              "jsonb_typeof((x.p -> 1) -> k) IN ('object', 'array') THEN "
                              "((x.p -> 0) -> k)::text IS DISTINCT FROM ((x.p -> 1) -> k)::text "
                              "ELSE (x.p -> 0) -> k IS DISTINCT FROM (x.p -> 1) -> k END)::text "
                              "FROM "
                              "jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(p, ord) "
                              "ORDER BY x.ord",
                              1, &p, "comparing entities")
               : fk__oom(v->ctx);
    for (int r = 0; rc == FK_OK && r < PQntuples(res); r++) {
        const char *fields = PQgetvalue(res, r, 1);
        int64_t id = v->pair_ids[r];
        if (strcmp(fields, "[]") == 0) {
            v->identical++;
            continue;
        }
        v->differs++;
        fileent *f = find_file(v, id);
        char path[400];
        snprintf(path, sizeof path, "%s/%s", v->e->dir, f ? f->name : "?");
        fk__report_add(v->report, FK_SEV_ERROR, "differs", v->e->name, id, path, fields,
                       "export to bring the fixtures up to date, or import to bring the "
                       "database back to them",
                       "%s %" PRId64 " differs from %s", v->e->name, id, path);
    }
    if (rc == FK_OK)
        PQclear(res);
    fk__buf_clear(&v->pairs);
    v->npairs = 0;
    return rc;
}

static int queue_pair(verifier *v, int64_t id, const fk__entity *ent)
{
    if (v->npairs == v->pair_cap) {
        void *g = fk__grow(v->pair_ids, &v->pair_cap, sizeof *v->pair_ids, PAIR_BATCH);
        if (!g)
            return fk__oom(v->ctx);
        v->pair_ids = g;
    }
    fk__buf_puts(&v->pairs, v->npairs ? ",[" : "[[");
    fk__buf_put(&v->pairs, v->file.data, v->file.len);
    fk__buf_putc(&v->pairs, ',');
    fk__buf_put(&v->pairs, ent->doc, ent->len);
    fk__buf_putc(&v->pairs, ']');
    if (fk__buf_failed(&v->pairs))
        return fk__oom(v->ctx);
    v->pair_ids[v->npairs++] = id;
    if (v->npairs >= PAIR_BATCH || v->pairs.len >= PAIR_BYTES)
        return flush_pairs(v);
    return FK_OK;
}

static int progress(verifier *v)
{
    if (!v->opts->progress)
        return FK_OK;
    fk_progress p = {"verify", v->e->name, v->done, v->total};
    if (v->opts->progress(&p, v->opts->progress_data) != 0)
        return fk__fail(v->ctx, FK_ECANCELLED, "verify cancelled");
    return FK_OK;
}

/* A fixture writes JSON null and SQL NULL alike; the manifest lists the
 * JSON ones. When its list is not the database's, an import would not give
 * back what the database holds. Returns 1 when they differ (reported). */
static int json_nulls_differ(verifier *v, const fk__entity *ent, const fileent *f)
{
    const char *want = fk__jnulls_find(&v->jnulls, ent->e->name, ent->id);
    if (want && ent->json_null ? strcmp(want, ent->json_null) == 0 : want == ent->json_null)
        return 0;
    v->differs++;
    char path[400];
    snprintf(path, sizeof path, "%s/%s", v->e->dir, f->name);
    fk__report_add(v->report, FK_SEV_ERROR, "differs", ent->e->name, ent->id, path,
                   ent->json_null ? ent->json_null : want,
                   "export to bring the fixtures up to date, or import to bring the "
                   "database back to them",
                   "%s %" PRId64 " differs from %s: JSON null and SQL NULL (the database holds "
                   "JSON null in %s, the manifest lists %s)",
                   ent->e->name, ent->id, path, ent->json_null ? ent->json_null : "nothing",
                   want ? want : "nothing");
    return 1;
}

/* The file of an entity whose document differs from what the scan read,
 * for the comparison of values (it may also have changed since the scan:
 * its bytes now are the ones compared). */
static int read_again(verifier *v, const fk__entity *ent, const fileent *f)
{
    fk__buf_clear(&v->file);
    int rc = fk__fixdir_read(v->ctx, v->dirfd, f->name, &v->file);
    if (rc == FK_ENOTFOUND)
        return fk__fail(v->ctx, FK_EIO, "%s/%s disappeared", ent->e->dir, f->name);
    return rc;
}

static int verify_entity(void *ud, const fk__entity *ent)
{
    verifier *v = ud;
    v->entities++;
    v->done++;
    fileent *f = find_file(v, ent->id);
    if (!f) {
        v->db_only++;
        return fk__report_add(v->report, FK_SEV_ERROR, "db_only", ent->e->name, ent->id, NULL,
                              NULL, "export to write its fixture",
                              "%s %" PRId64 " (\"%s\") is in the database but has no fixture",
                              ent->e->name, ent->id, ent->name ? ent->name : "");
    }
    f->seen = 1;
    unsigned char sha[32];
    if (fk__sha256(ent->doc, ent->len, sha) != 0)
        return fk__fail(v->ctx, FK_ENOMEM, "SHA-256 failed");
    int same = memcmp(sha, f->sha, sizeof sha) == 0, rc = FK_OK;
    if (!same && (rc = read_again(v, ent, f)) == FK_OK)
        same = v->file.len == ent->len && memcmp(v->file.data, ent->doc, ent->len) == 0;
    if (rc)
        return rc;
    if (json_nulls_differ(v, ent, f))
        ; /* counted and reported */
    else if (same)
        v->identical++;
    else if ((rc = queue_pair(v, ent->id, ent)))
        return rc;
    if (v->done % 500 == 0)
        return progress(v);
    return FK_OK;
}

static int verify_type(verifier *v, int root)
{
    int rc = fk__fs_open_subdir(v->ctx, root, v->e->dir, 0, &v->dirfd);
    if (rc == FK_ENOTFOUND) {
        fk__ok(v->ctx);
        rc = FK_OK; /* no directory: every row is db-only */
    } else if (rc == FK_OK) {
        rc = scan_type_dir(v);
    }
    if (rc == FK_OK)
        rc = fk__entity_iter(v->ctx, v->e, v->fmt, verify_entity, v);
    if (rc == FK_OK)
        rc = flush_pairs(v);
    for (size_t i = 0; rc == FK_OK && i < v->files.n; i++) {
        if (v->files.f[i].seen)
            continue;
        v->fixture_only++;
        v->entities++;
        char path[400];
        snprintf(path, sizeof path, "%s/%s", v->e->dir, v->files.f[i].name);
        rc = fk__report_add(v->report, FK_SEV_ERROR, "fixture_only", v->e->name,
                            v->files.f[i].id, path, NULL, "import to restore it",
                            "%s %" PRId64 " has a fixture but is not in the database",
                            v->e->name, v->files.f[i].id);
    }
    if (rc == FK_OK)
        rc = progress(v);
    typefiles_free(&v->files);
    if (v->dirfd >= 0)
        close(v->dirfd);
    v->dirfd = -1;
    return rc;
}

/* Why a file's digest could not be had: gone (FK_ENOTFOUND), or unreadable
 * (not a regular file, a symlink, too large...: FK_EIO), as
 * fk__fixdir_read() would have said. */
static int file_state(int dfd, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? FK_ENOTFOUND : FK_EIO;
    return FK_EIO;
}

/* The manifest's hashes against the files: edited or missing since export. */
int fk__verify_manifest(fk_ctx *ctx, int root, fk_report *report, int64_t *edited,
                        int64_t *missing)
{
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    if (rc == FK_ENOMEM)
        return rc;
    if (rc == FK_ENOTFOUND) {
        fk__ok(ctx);
        return fk__report_add(report, FK_SEV_WARNING, "manifest_missing", NULL, 0,
                              FK__MANIFEST_NAME, NULL, "export into this directory to write one",
                              "no manifest: files cannot be checked against what was exported");
    }
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", fk_errmsg(ctx));
        fk__ok(ctx);
        return fk__report_add(report, FK_SEV_ERROR, "manifest_unreadable", NULL, 0,
                              FK__MANIFEST_NAME, NULL, "export again to rewrite it", "%s", msg);
    }
    fk__mentry e;
    int r, dfd = -1, dir_rc = FK_ENOTFOUND;
    char dir[256] = "";
    while ((r = fk__mreader_next(m, &e)) == 1) {
        const char *slash = strchr(e.path, '/');
        char want[256];
        snprintf(want, sizeof want, "%.*s", (int)(slash - e.path), e.path);
        if (strcmp(want, dir) != 0 || !dir[0]) { /* entries come by type: one open each */
            if (dfd >= 0)
                close(dfd);
            dfd = -1;
            snprintf(dir, sizeof dir, "%s", want);
            dir_rc = fk__fs_open_subdir(NULL, root, dir, 0, &dfd);
        }
        unsigned char raw[32];
        char sha[65] = "";
        int rr = dir_rc;
        if (rr == FK_OK && fk__sha256_file(dfd, slash + 1, raw) != 0)
            rr = file_state(dfd, slash + 1);
        else if (rr == FK_OK)
            fk__hex(raw, sizeof raw, sha);
        if (rr == FK_ENOTFOUND || (rr != FK_OK && rr != FK_ENOMEM)) {
            (*missing)++;
            fk__report_add(report, FK_SEV_ERROR, "file_missing", e.type, e.id, e.path, NULL,
                           "export again, or restore the file from git",
                           "%s was exported but is gone", e.path);
        } else if (rr == FK_OK && strcmp(sha, e.sha256) != 0) {
            (*edited)++;
            fk__report_add(report, FK_SEV_ERROR, "file_edited", e.type, e.id, e.path, NULL,
                           "review the change (git diff); export again to overwrite it",
                           "%s was changed after it was exported", e.path);
        } else if (rr == FK_ENOMEM) {
            r = fk__oom(ctx);
            break;
        }
    }
    if (dfd >= 0)
        close(dfd);
    fk__mreader_free(m);
    if (r == FK_ENOMEM)
        return fk__oom(ctx);
    fk__ok(ctx);
    if (r < 0) /* the manifest broke mid-way: a finding, not a failure */
        fk__report_add(report, FK_SEV_ERROR, "manifest_unreadable", NULL, 0, FK__MANIFEST_NAME,
                       NULL, "export again to rewrite it", "the manifest is damaged");
    return FK_OK;
}

int fk__verify_into(fk_ctx *ctx, fk__registry *reg, int root, const fk_verify_options *opts,
                    fk_report *report, int64_t *differences)
{
    verifier v;
    memset(&v, 0, sizeof v);
    v.ctx = ctx;
    v.report = report;
    v.opts = opts;
    v.dirfd = -1;
    size_t *order = NULL;
    int rc = fk__types_by_name(reg, &order) == 0 ? FK_OK
                                                 : fk__oom(ctx);
    if (rc == FK_OK)
        rc = fk__jnulls_load(ctx, root, &v.jnulls);
    if (rc == FK_OK && opts->progress)
        rc = fk__entity_count(ctx, reg, &v.total);
    for (size_t i = 0; rc == FK_OK && i < reg->ntypes; i++) {
        v.e = &reg->types[order[i]];
        int64_t before = v.identical;
        rc = verify_type(&v, root);
        fk__report_count2(report, v.e->name, "identical", v.identical - before);
    }
    fk__xfree(order);
    fk__jnulls_free(&v.jnulls);
    typefiles_free(&v.files);
    fk__buf_dispose(&v.file);
    fk__buf_dispose(&v.pairs);
    fk__xfree(v.pair_ids);
    if (v.dirfd >= 0)
        close(v.dirfd);
    fk__report_count(report, "entities", v.entities);
    fk__report_count(report, "identical", v.identical);
    fk__report_count(report, "differs", v.differs);
    fk__report_count(report, "db_only", v.db_only);
    fk__report_count(report, "fixture_only", v.fixture_only);
    *differences = v.differs + v.db_only + v.fixture_only;
    return rc;
}

/* Whether the directory `name` below fd holds at least one .json file. */
static int holds_json(int fd, const char *name)
{
    int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    DIR *d = sub >= 0 ? fdopendir(sub) : NULL;
    if (!d) {
        if (sub >= 0)
            close(sub);
        return 0;
    }
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        found = fk__fixdir_is_fixture(de->d_name);
    }
    closedir(d);
    return found;
}

/* A fixture directory has a manifest or a fixture file in a directory of a
 * registered type. Anything else -- empty, a typo, the repository one level
 * up, the empty directories of a failed export -- would otherwise "restore
 * exactly" zero entities and pass. */
static int looks_like_fixtures(int fd, const fk__registry *reg)
{
    struct stat st;
    if (fstatat(fd, FK__MANIFEST_NAME, &st, 0) == 0)
        return 1;
    /* an empty type directory is what a failed export leaves: no backup */
    for (size_t i = 0; i < reg->ntypes; i++)
        if (holds_json(fd, reg->types[i].dir))
            return 1;
    return 0;
}

static int not_fixtures(fk_ctx *ctx, int root, const char *dir, const fk__registry *reg)
{
    char guess[NAME_MAX + 1] = "";
    int fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    while (d && !guess[0] && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int sub = openat(root, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sub >= 0 && looks_like_fixtures(sub, reg))
            snprintf(guess, sizeof guess, "%s", de->d_name);
        if (sub >= 0)
            close(sub);
    }
    if (d)
        closedir(d);
    else if (fd >= 0)
        close(fd);
    return fk__fail(ctx, FK_ENOTFOUND,
                    "%s is not a fixture directory (no %s and no directory of a registered "
                    "entity type)%s%s%s%s",
                    dir, FK__MANIFEST_NAME, guess[0] ? ": did you mean " : "",
                    guess[0] ? dir : "", guess[0] ? "/" : "", guess);
}

int fk__verify_begin(fk_ctx *ctx, const char *fn, const char *dir,
                     const fk_verify_options **opts, fk_verify_options *defaults,
                     fk__registry **reg, int *root)
{
    *root = -1;
    FK__BEGIN(ctx, fn);
    fk_verify_options_init(defaults, FK_VERIFY_OPTIONS_VERSION);
    if (!*opts)
        *opts = defaults;
    FK__ARG(ctx, fn, dir);
    if (fk__options_check(ctx, *opts, FK_VERIFY_OPTIONS_VERSION, fn))
        return FK_EINVAL;
    int rc = fk__ctx_registry(ctx, reg);
    if (rc || (rc = fk__registry_usable(ctx, *reg)))
        return rc;
    if ((rc = fk__fixdir_open(ctx, dir, FK__FIXDIR_SHARED, root)))
        return rc;
    if (!looks_like_fixtures(*root, *reg)) {
        rc = not_fixtures(ctx, *root, dir, *reg);
        close(*root);
        *root = -1;
        return rc;
    }
    return FK_OK;
}

/* The manifest's anchor, 0 when it has none or cannot be read (the
 * manifest check reports that): whether the witness may be missing. */
static int manifest_anchor(fk_ctx *ctx, int root, int64_t *id)
{
    fk__mreader *m = NULL;
    int mstatus = FK_OK;
    int rc = fk__loss_read_trailer(ctx, root, &m, &mstatus);
    *id = m ? fk__mreader_chain_head_id(m) : 0;
    fk__mreader_free(m);
    if (rc == FK_OK)
        fk__ok(ctx);
    return rc;
}

int fk_verify(fk_report **out, fk_ctx *ctx, const char *dir, const fk_verify_options *opts)
{
    if (out)
        *out = NULL;
    fk_verify_options defaults;
    fk__registry *reg;
    int root;
    int rc = fk__verify_begin(ctx, "fk_verify", dir, &opts, &defaults, &reg, &root);
    if (rc)
        return rc;
    fk__clock clock;
    fk__clock_start(&clock);
    fk_report *report = NULL;
    fk__txn txn;
    int64_t diffs = 0, edited = 0, missing = 0;
    if (fk__report_new(&report, "verify") != FK_OK)
        rc = fk__oom(ctx);
    /* the head it witnesses is the chain as sealed: up to date first */
    if (rc == FK_OK)
        rc = fk__audit_seal_if_permitted(ctx);
    if (rc == FK_OK)
        rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    fk__witness wit = {0};
    int64_t anchor_id = 0;
    if (rc == FK_OK) {
        /* the witness in the snapshot the entities are compared in */
        if ((rc = manifest_anchor(ctx, root, &anchor_id)) == FK_OK &&
            (rc = fk__witness_check(ctx, root, anchor_id, &wit)) == FK_OK)
            rc = fk__verify_into(ctx, reg, root, opts, report, &diffs);
        if (rc == FK_OK) /* after the entities' counters, which summaries show first */
            rc = fk__witness_report(report, &wit);
        fk__txn_rollback(ctx, &txn);
    }
    if (rc == FK_OK)
        rc = fk__verify_manifest(ctx, root, report, &edited, &missing);
    if (rc) {
        close(root);
        return fk__report_finish(out, report, rc);
    }
    fk__report_count(report, "file_edited", edited);
    fk__report_count(report, "file_missing", missing);
    if ((rc = fk__witness_record(ctx, root, "verify", &wit, report))) {
        close(root);
        fk_report_free(report);
        return rc;
    }
    close(root);
    if (fk__report_failed(report)) {
        fk_report_free(report);
        return fk__oom(ctx);
    }
    fk__report_set_elapsed_ms(report, fk__clock_ms(&clock));
    int errors = fk_report_error_count(report) > 0;
    fk__report_set_ok(report, !errors);
    fk__report_give(out, report);
    if (wit.tampered)
        return fk__fail(ctx, FK_ETAMPER, "%s", wit.why);
    if (errors)
        return fk__fail(ctx, FK_EVERIFY,
                        "the fixtures are not a faithful copy of the database: %" PRId64
                        " entities differ or are missing, %" PRId64 " files edited, %" PRId64
                        " files missing",
                        diffs, edited, missing);
    return FK_OK;
}
