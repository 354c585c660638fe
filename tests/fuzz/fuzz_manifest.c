/* Fuzz target: the manifest reader, fk__mreader_open/next/free
 * (lib/fixtures/manifest.h), on arbitrary file contents. The input is
 * written to fortknox-manifest.json in one temp directory per process
 * (under /dev/shm when it is writable, else $TMPDIR or /tmp), removed at exit.
 *
 * Invariants:
 *  - failures are FK_EPARSE (never FK_EIO or FK_ENOMEM here) with a message
 *    naming the file, and repeat on later calls;
 *  - every entry has a path that stays inside the root: relative,
 *    "<dir>/<file>.json", no "..", no backslash, no control characters, no
 *    component starting with '.', at most 255 bytes; a type
 *    [a-z][a-z0-9_]{0,62}; 64 lowercase hex digits; ids increasing within a
 *    type; types never coming back after another type;
 *  - a manifest read to its end is valid JSON, and its counts and trailer
 *    match the entries;
 *  - round trip: the manifest writer accepts every entry the reader gave,
 *    and reading what it wrote gives the same entries and trailer;
 *  - the k-th allocation failing gives FK_ENOMEM (no crash, no leak).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "fuzz.h"
#include "json_text.h"
#include "manifest.h"

/* ------------------------------------------------------ the temp dir */

static char dir_path[4096];
static int dir_fd = -1;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void remove_dir(void)
{
    if (dir_fd >= 0) {
        close(dir_fd);
        nftw(dir_path, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    }
}

static int the_dir(void)
{
    if (dir_fd >= 0)
        return dir_fd;
    const char *bases[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < 3 && dir_fd < 0; i++) {
        if (!bases[i] || !*bases[i] || access(bases[i], W_OK) != 0)
            continue;
        snprintf(dir_path, sizeof dir_path, "%s/fk-fuzz-manifest-XXXXXX", bases[i]);
        if (mkdtemp(dir_path))
            dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    FUZZ_CHECK(dir_fd >= 0);
    atexit(remove_dir);
    return dir_fd;
}

static void put_file(const char *name, const uint8_t *data, size_t size)
{
    int fd = openat(the_dir(), name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_CHECK(fd >= 0);
    for (size_t off = 0; off < size;) {
        ssize_t k = write(fd, data + off, size - off);
        FUZZ_CHECK(k > 0);
        off += (size_t)k;
    }
    close(fd);
}

/* ------------------------------------------------------- what was read */

typedef struct entry {
    char *path;
    char type[64];
    int64_t id;
    char sha[65];
    char *json_null; /* NULL when the entry has none */
} entry;

typedef struct result {
    int rc; /* 0: read to the end */
    entry *v;
    size_t n, cap;
    char exported_at[32];
    int has_exported;
    int64_t head_id;
    char head_hash[65];
    int has_head;
    size_t ntypes;
} result;

static void result_free(result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].path), free(r->v[i].json_null);
    free(r->v);
    memset(r, 0, sizeof *r);
}

static int path_ok(const char *p)
{
    size_t n = strlen(p);
    if (n < 1 || n > FK__MANIFEST_PATH_MAX || p[0] == '/' || p[0] == '.' || strstr(p, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
            return 0;
    const char *slash = strchr(p, '/');
    if (!slash || strchr(slash + 1, '/') || slash == p || slash[1] == '.')
        return 0;
    size_t flen = n - (size_t)(slash - p) - 1;
    return flen > 5 && strcmp(p + n - 5, ".json") == 0;
}

static int type_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 63 && s[0] >= 'a' && s[0] <= 'z' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int hex_ok(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Reads name in the temp dir to the end or the first error. With check,
 * every invariant on the entries is asserted. */
static void read_manifest(const char *name, result *res, int check)
{
    memset(res, 0, sizeof *res);
    fk__mreader *r = NULL;
    res->rc = fk__mreader_open(NULL, &r, the_dir(), name);
    if (res->rc != FK_OK) {
        FUZZ_CHECK(r == NULL);
        return;
    }
    FUZZ_CHECK(r != NULL);
    size_t mem0 = fk__mreader_mem_bytes(r);
    for (;;) {
        fk__mentry e;
        memset(&e, 0, sizeof e);
        int k = fk__mreader_next(r, &e);
        if (k <= 0) {
            res->rc = k;
            if (k < 0) /* errors stick */
                FUZZ_CHECK(fk__mreader_next(r, &e) == k);
            else
                FUZZ_CHECK(fk__mreader_next(r, &e) == 0);
            break;
        }
        FUZZ_CHECK(k == 1);
        if (check) {
            FUZZ_CHECK(e.path && e.type && path_ok(e.path));
            FUZZ_CHECK(type_ok(e.type) && hex_ok(e.sha256));
            if (res->n > 0) {
                const entry *prev = &res->v[res->n - 1];
                if (strcmp(prev->type, e.type) == 0) {
                    FUZZ_CHECK(e.id > prev->id);
                } else {
                    for (size_t i = 0; i < res->n; i++)
                        FUZZ_CHECK(strcmp(res->v[i].type, e.type) != 0);
                }
            }
            /* memory does not grow with the number of entries beyond the
             * two line-sized buffers */
            FUZZ_CHECK(fk__mreader_mem_bytes(r) <= mem0 + 4 * (FK__MANIFEST_LINE_MAX + 1));
        }
        if (res->n == res->cap) {
            res->cap = res->cap ? res->cap * 2 : 16;
            res->v = realloc(res->v, res->cap * sizeof *res->v);
            FUZZ_CHECK(res->v);
        }
        entry *x = &res->v[res->n++];
        x->path = strdup(e.path);
        FUZZ_CHECK(x->path);
        snprintf(x->type, sizeof x->type, "%s", e.type);
        x->id = e.id;
        memcpy(x->sha, e.sha256, sizeof x->sha);
        x->json_null = e.json_null ? strdup(e.json_null) : NULL;
        FUZZ_CHECK(!e.json_null || x->json_null);
    }
    if (res->rc == 0) {
        const char *ex = fk__mreader_exported_at(r);
        if (ex) {
            res->has_exported = 1;
            snprintf(res->exported_at, sizeof res->exported_at, "%s", ex);
        }
        const char *hh = fk__mreader_chain_head_hash(r);
        res->head_id = fk__mreader_chain_head_id(r);
        if (hh) {
            res->has_head = 1;
            memcpy(res->head_hash, hh, sizeof res->head_hash);
        }
        if (check) {
            FUZZ_CHECK(!ex || strlen(ex) == 20);
            FUZZ_CHECK(hh ? res->head_id >= 1 && hex_ok(hh) : res->head_id == 0);
        }
        /* per-type counts equal the entries, in order of appearance */
        res->ntypes = fk__mreader_count_types(r);
        size_t at = 0;
        for (size_t t = 0; t < res->ntypes; t++) {
            int64_t cnt = -1;
            const char *ty = fk__mreader_count_type(r, t, &cnt);
            FUZZ_CHECK(ty && cnt >= 1);
            for (int64_t c = 0; c < cnt; c++, at++)
                FUZZ_CHECK(at < res->n && strcmp(res->v[at].type, ty) == 0);
        }
        FUZZ_CHECK(at == res->n);
        int64_t cnt = 7;
        FUZZ_CHECK(fk__mreader_count_type(r, res->ntypes, &cnt) == NULL && cnt == 0);
    }
    fk__mreader_free(r);
}

static void check_failure(int rc)
{
    FUZZ_CHECK(rc == FK_EPARSE);
    const char *msg = fk_errmsg(NULL);
    FUZZ_CHECK(strncmp(msg, FK__MANIFEST_NAME ":", strlen(FK__MANIFEST_NAME) + 1) == 0);
}

static int same_results(const result *a, const result *b)
{
    if (a->rc != b->rc || a->n != b->n || a->has_exported != b->has_exported ||
        a->has_head != b->has_head || a->head_id != b->head_id || a->ntypes != b->ntypes)
        return 0;
    if (a->has_exported && strcmp(a->exported_at, b->exported_at) != 0)
        return 0;
    if (a->has_head && strcmp(a->head_hash, b->head_hash) != 0)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].path, b->v[i].path) != 0 || strcmp(a->v[i].type, b->v[i].type) != 0 ||
            a->v[i].id != b->v[i].id || strcmp(a->v[i].sha, b->v[i].sha) != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fuzz_hash(data, size);
    fk__alloc_fail_at(0);
    put_file(FK__MANIFEST_NAME, data, size);

    result res;
    read_manifest(FK__MANIFEST_NAME, &res, 1);
    long nallocs = fk__alloc_count(); /* the reader's own, plus nothing else */
    if (res.rc < 0)
        check_failure(res.rc);

    if (res.rc == 0) {
        FUZZ_CHECK(fk__json_validate((const char *)data, size, NULL) == 0);

        /* the writer takes back what the reader gave */
        fk__mwriter *w = NULL;
        FUZZ_CHECK(fk__mwriter_open(NULL, &w, the_dir()) == FK_OK);
        for (size_t i = 0; i < res.n; i++)
            FUZZ_CHECK(fk__mwriter_add(w, res.v[i].path, res.v[i].type, res.v[i].id,
                                       res.v[i].sha, res.v[i].json_null) == FK_OK);
        FUZZ_CHECK(fk__mwriter_finish(w, res.has_exported ? res.exported_at : NULL, res.head_id,
                                      res.has_head ? res.head_hash : NULL) == FK_OK);
        fk__mwriter_free(w); /* not committed: removes the temp file... */
        FUZZ_CHECK(faccessat(the_dir(), FK__MANIFEST_TMP, F_OK, 0) != 0);

        /* ...so write it again and keep it this time, by committing */
        FUZZ_CHECK(fk__mwriter_open(NULL, &w, the_dir()) == FK_OK);
        for (size_t i = 0; i < res.n; i++)
            FUZZ_CHECK(fk__mwriter_add(w, res.v[i].path, res.v[i].type, res.v[i].id,
                                       res.v[i].sha, res.v[i].json_null) == FK_OK);
        FUZZ_CHECK(fk__mwriter_finish(w, res.has_exported ? res.exported_at : NULL, res.head_id,
                                      res.has_head ? res.head_hash : NULL) == FK_OK);
        FUZZ_CHECK(fk__mwriter_commit(w) == FK_OK);
        fk__mwriter_free(w);
        result again;
        read_manifest(FK__MANIFEST_NAME, &again, 1);
        FUZZ_CHECK(same_results(&res, &again));
        result_free(&again);
        put_file(FK__MANIFEST_NAME, data, size); /* for the allocation-failure pass */
    }

    if (nallocs > 0) {
        result f;
        fk__alloc_fail_at(1 + (long)((h >> 16) % (uint64_t)nallocs));
        read_manifest(FK__MANIFEST_NAME, &f, 0);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(f.rc == FK_ENOMEM);
        result_free(&f);
    }
    result_free(&res);
    return 0;
}
