/* Unit tests for lib/fixtures/manifest.c: the fixture manifest's
 * streaming writer and strict streaming reader. Every test works in its own
 * mkdtemp() directory. Failure messages are read with fk_errmsg(NULL) (the
 * calls get no context). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, fdopendir, mkfifoat */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "fkt_alloc.h"
#include "manifest.h"

typedef struct tdir {
    char path[256];
    int fd;
} tdir;

/* ------------------------------------------------------------- helpers */

static int dir_setup(void **state)
{
    tdir *d = calloc(1, sizeof *d);
    assert_non_null(d);
    const char *tmp = getenv("TMPDIR");
    snprintf(d->path, sizeof d->path, "%s/fk-manifest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(d->path));
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(d->fd >= 0);
    *state = d;
    return 0;
}

static int dir_teardown(void **state)
{
    tdir *d = *state;
    DIR *dir = fdopendir(dup(d->fd));
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(d->fd, de->d_name, 0) != 0)
            unlinkat(d->fd, de->d_name, AT_REMOVEDIR);
    }
    if (dir)
        closedir(dir);
    close(d->fd);
    rmdir(d->path);
    free(d);
    return 0;
}

static void put_file(int dfd, const char *name, const char *data, size_t len)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_true(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

/* Whole file, malloc'd and NUL-terminated; NULL when absent. */
static char *get_file(int dfd, const char *name, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *d = malloc(cap);
    assert_non_null(d);
    ssize_t k;
    while ((k = read(fd, d + n, cap - n - 1)) > 0) {
        n += (size_t)k;
        if (cap - n - 1 == 0) {
            cap *= 2;
            d = realloc(d, cap);
            assert_non_null(d);
        }
    }
    close(fd);
    d[n] = '\0';
    if (len)
        *len = n;
    return d;
}

static int exists(int dfd, const char *name)
{
    struct stat st;
    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A deterministic, distinct hash per entry. */
static void sha_of(char out[65], uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
    for (int k = 0; k < 64; k++) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        out[k] = "0123456789abcdef"[(x >> 7) & 15];
    }
    out[64] = '\0';
}

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* Reads name to the end; returns the final rc (0 or < 0) and the number of
 * entries seen. */
static int read_all(int dfd, const char *name, size_t *entries)
{
    fk__mreader *r;
    *entries = 0;
    int rc = fk__mreader_open(NULL, &r, dfd, name);
    if (rc < 0) {
        assert_null(r);
        return rc;
    }
    fk__mentry e;
    while ((rc = fk__mreader_next(r, &e)) == 1)
        (*entries)++;
    /* errors and the end are sticky */
    assert_int_equal(fk__mreader_next(r, &e), rc);
    fk__mreader_free(r);
    return rc;
}

/* ------------------------------------------------------------- writing */

static const char small_manifest[] =
    "{\n"
    "    \"format\": \"fortknox-manifest\",\n"
    "    \"format_version\": 1,\n"
    "    \"files\": [\n"
    "        {\"path\": \"cohort_definitions/foo.json\", \"type\": \"cohort_definition\", \"id\": 5, "
    "\"sha256\": \"" H64 "\"},\n"
    "        {\"path\": \"cohort_definitions/caf\xc3\xa9 \\\"x\\\".json\", \"type\": "
    "\"cohort_definition\", \"id\": 9, \"sha256\": \"" H64B "\"},\n"
    "        {\"path\": \"concept_sets/bar.json\", \"type\": \"concept_set\", \"id\": 7, "
    "\"sha256\": \"" H64 "\"}\n"
    "    ],\n"
    "    \"counts\": {\"cohort_definition\": 2, \"concept_set\": 1},\n"
    "    \"exported_at\": \"2026-11-27T12:00:00Z\",\n"
    "    \"audit_chain_head\": {\"id\": 42, \"hash\": \"" H64B "\"}\n"
    "}\n";

static void write_small(int dfd)
{
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, dfd), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "cohort_definitions/foo.json", "cohort_definition", 5, H64, NULL),
                     FK_OK);
    assert_int_equal(fk__mwriter_add(w, "cohort_definitions/caf\xc3\xa9 \"x\".json",
                                     "cohort_definition", 9, H64B, NULL),
                     FK_OK);
    assert_int_equal(fk__mwriter_add(w, "concept_sets/bar.json", "concept_set", 7, H64, NULL), FK_OK);
    assert_int_equal(fk__mwriter_finish(w, "2026-11-27T12:00:00Z", 42, H64B), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w);
}

static void test_exact_bytes(void **state)
{
    tdir *d = *state;
    write_small(d->fd);
    char *got = get_file(d->fd, FK__MANIFEST_NAME, NULL);
    assert_non_null(got);
    assert_string_equal(got, small_manifest);
    free(got);
    assert_false(exists(d->fd, FK__MANIFEST_TMP));

    struct stat st;
    assert_int_equal(fstatat(d->fd, FK__MANIFEST_NAME, &st, 0), 0);
    mode_t um = umask(0);
    umask(um);
    assert_int_equal(st.st_mode & 0777, 0666 & ~um);

    fk__mreader *r;
    fk__mentry e;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
    assert_null(fk__mreader_exported_at(r)); /* not before the end */
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_string_equal(e.path, "cohort_definitions/foo.json");
    assert_string_equal(e.type, "cohort_definition");
    assert_true(e.id == 5);
    assert_string_equal(e.sha256, H64);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_string_equal(e.path, "cohort_definitions/caf\xc3\xa9 \"x\".json");
    assert_true(e.id == 9);
    assert_string_equal(e.sha256, H64B);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_string_equal(e.path, "concept_sets/bar.json");
    assert_string_equal(e.type, "concept_set");
    assert_true(e.id == 7);
    assert_int_equal(fk__mreader_next(r, &e), 0);
    assert_int_equal(fk__mreader_next(r, &e), 0);
    assert_string_equal(fk__mreader_exported_at(r), "2026-11-27T12:00:00Z");
    assert_true(fk__mreader_chain_head_id(r) == 42);
    assert_string_equal(fk__mreader_chain_head_hash(r), H64B);
    assert_int_equal(fk__mreader_count_types(r), 2);
    int64_t n = -1;
    assert_string_equal(fk__mreader_count_type(r, 0, &n), "cohort_definition");
    assert_true(n == 2);
    assert_string_equal(fk__mreader_count_type(r, 1, &n), "concept_set");
    assert_true(n == 1);
    assert_null(fk__mreader_count_type(r, 2, &n));
    assert_true(n == 0);
    assert_string_equal(fk__mreader_count_type(r, 1, NULL), "concept_set");
    fk__mreader_free(r);
}

static void test_roundtrip_empty(void **state)
{
    tdir *d = *state;
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w);
    char *got = get_file(d->fd, FK__MANIFEST_NAME, NULL);
    assert_string_equal(got, "{\n"
                             "    \"format\": \"fortknox-manifest\",\n"
                             "    \"format_version\": 1,\n"
                             "    \"files\": [\n"
                             "    ],\n"
                             "    \"counts\": {},\n"
                             "    \"exported_at\": null,\n"
                             "    \"audit_chain_head\": null\n"
                             "}\n");
    free(got);

    fk__mreader *r;
    fk__mentry e;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
    assert_int_equal(fk__mreader_next(r, &e), 0);
    assert_null(fk__mreader_exported_at(r));
    assert_true(fk__mreader_chain_head_id(r) == 0);
    assert_null(fk__mreader_chain_head_hash(r));
    assert_int_equal(fk__mreader_count_types(r), 0);
    assert_null(fk__mreader_count_type(r, 0, NULL));
    fk__mreader_free(r);
}

static void test_roundtrip_one(void **state)
{
    tdir *d = *state;
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "x/y.json", "t", INT64_MIN, H64, NULL), FK_OK);
    assert_int_equal(fk__mwriter_finish(w, "2000-02-29T23:59:60Z", INT64_MAX, H64), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w);

    fk__mreader *r;
    fk__mentry e;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_string_equal(e.path, "x/y.json");
    assert_string_equal(e.type, "t");
    assert_true(e.id == INT64_MIN);
    assert_int_equal(fk__mreader_next(r, &e), 0);
    assert_string_equal(fk__mreader_exported_at(r), "2000-02-29T23:59:60Z");
    assert_true(fk__mreader_chain_head_id(r) == INT64_MAX);
    int64_t n;
    assert_string_equal(fk__mreader_count_type(r, 0, &n), "t");
    assert_true(n == 1);
    assert_null(fk__mreader_export_state(r));
    fk__mreader_free(r);
}

/* The optional export_state line: written after the chain head, read back;
 * a character that would need escaping is refused before anything is written. */
static void test_roundtrip_export_state(void **state)
{
    tdir *d = *state;
    static const struct {
        const char *state;
        int rc;
    } cases[] = {
        {"1 7/16384 100 105 " H64 " a=1/2;b=0", FK_OK},
        {"", FK_EINVAL},
        {"has \"quote", FK_EINVAL},
        {"UPPER", FK_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fk__mwriter *w;
        assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
        assert_int_equal(fk__mwriter_add(w, "x/y.json", "t", 1, H64, NULL), FK_OK);
        assert_int_equal(fk__mwriter_set_export_state(w, cases[i].state), cases[i].rc);
        assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
        assert_int_equal(fk__mwriter_commit(w), FK_OK);
        fk__mwriter_free(w);
        fk__mreader *r;
        fk__mentry e;
        assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
        assert_int_equal(fk__mreader_next(r, &e), 1);
        assert_int_equal(fk__mreader_next(r, &e), 0);
        if (cases[i].rc == FK_OK)
            assert_string_equal(fk__mreader_export_state(r), cases[i].state);
        else
            assert_null(fk__mreader_export_state(r));
        fk__mreader_free(r);
    }
}

/* 100k entries both ways; the reader's memory must not depend on that. */
static void test_roundtrip_100k(void **state)
{
    tdir *d = *state;
    enum { N = 100000, TYPES = 5 };
    static const char *const types[TYPES] = {"cohort_definition", "concept_set", "analysis_x",
                                             "a", "zz9_"};
    char sha[65], path[128];
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    for (int i = 0; i < N; i++) {
        int t = i / (N / TYPES);
        snprintf(path, sizeof path, "%ss/entity-%d.json", types[t], i);
        sha_of(sha, (uint64_t)i);
        assert_int_equal(fk__mwriter_add(w, path, types[t], (int64_t)i * 3 + 1, sha, NULL), FK_OK);
    }
    assert_int_equal(fk__mwriter_finish(w, "2026-01-01T00:00:00Z", 1, H64), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w);

    fk__mreader *r;
    fk__mentry e;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
    size_t mem0 = fk__mreader_mem_bytes(r);
    size_t peak = mem0;
    for (int i = 0; i < N; i++) {
        int t = i / (N / TYPES);
        assert_int_equal(fk__mreader_next(r, &e), 1);
        snprintf(path, sizeof path, "%ss/entity-%d.json", types[t], i);
        sha_of(sha, (uint64_t)i);
        if (strcmp(e.path, path) != 0 || strcmp(e.type, types[t]) != 0 ||
            e.id != (int64_t)i * 3 + 1 || strcmp(e.sha256, sha) != 0)
            fail_msg("entry %d differs: %s %s %" PRId64, i, e.path, e.type, e.id);
        size_t m = fk__mreader_mem_bytes(r);
        if (m > peak)
            peak = m;
    }
    assert_int_equal(fk__mreader_next(r, &e), 0);
    assert_int_equal(fk__mreader_count_types(r), TYPES);
    for (size_t t = 0; t < TYPES; t++) {
        int64_t n;
        assert_string_equal(fk__mreader_count_type(r, t, &n), types[t]);
        assert_true(n == N / TYPES);
    }
    /* one line buffer plus small scratch buffers, whatever N is */
    assert_true(peak < 128 * 1024);
    assert_true(peak - mem0 < 4096);
    fk__mreader_free(r);
}

static void test_writer_rejects(void **state)
{
    tdir *d = *state;
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "a/1.json", "a", 10, H64, NULL), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "a/2.json", "a", 10, H64, NULL), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "ids must increase"));
    assert_int_equal(fk__mwriter_add(w, "a/2.json", "a", 9, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "b/1.json", "b", 1, H64, NULL), FK_OK); /* new type restarts */
    assert_int_equal(fk__mwriter_add(w, "a/3.json", "a", 11, H64, NULL), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "consecutive"));
    static const char *const bad_paths[] = {
        "", "/abs/x.json", "a/../x.json", "..x/y.json", "a\\b/x.json", "x.json", "a/b/c.json",
        "a/x.txt", "a/.json", "a/.hidden.json", ".a/x.json", "/x.json", "a/x\n.json", "a/x\xff.json"};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++)
        if (fk__mwriter_add(w, bad_paths[i], "b", 100 + (int64_t)i, H64, NULL) != FK_EINVAL)
            fail_msg("path \"%s\" accepted", bad_paths[i]);
    char longp[300];
    memset(longp, 'x', sizeof longp);
    memcpy(longp, "a/", 2);
    memcpy(longp + 251, ".json", 6); /* 256 bytes */
    assert_int_equal(fk__mwriter_add(w, longp, "b", 200, H64, NULL), FK_EINVAL);
    longp[250] = '\0';
    memcpy(longp + 245, ".json", 6); /* 250 bytes: fine */
    assert_int_equal(fk__mwriter_add(w, longp, "b", 200, H64, NULL), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "b/x.json", "B", 300, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "b/x.json", "1b", 300, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "b/x.json", "", 300, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "b/x.json", "b", 300, "ABC", NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "b/x.json", "b", 300, H64 "0", NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "b/x.json", "b", 300,
                                     "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL),
                     FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, NULL, "b", 300, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(NULL, "b/x.json", "b", 300, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_commit(w), FK_EINVAL); /* not finished */
    assert_int_equal(fk__mwriter_finish(w, "2026-13-01T00:00:00Z", 0, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_finish(w, "2026-01-01 00:00:00Z", 0, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, H64), FK_EINVAL); /* id must be >= 1 */
    assert_int_equal(fk__mwriter_finish(w, NULL, 3, "abc"), FK_EINVAL);
    /* the rejected calls wrote nothing: the result is a valid manifest */
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "b/z.json", "b", 999, H64, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_EINVAL);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_EINVAL);
    fk__mwriter_free(w);
    size_t n;
    assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &n), 0);
    assert_int_equal(n, 3);

    assert_int_equal(fk__mwriter_open(NULL, NULL, d->fd), FK_EINVAL);
    w = (fk__mwriter *)1;
    assert_int_equal(fk__mwriter_open(NULL, &w, -1), FK_EINVAL);
    assert_null(w);
    fk__mwriter_free(NULL);
}

static void test_writer_type_limit(void **state)
{
    tdir *d = *state;
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    char type[64], path[96];
    for (int i = 0; i <= FK__MANIFEST_MAX_TYPES; i++) {
        /* longest legal names, to prove the counts line stays under the limit */
        snprintf(type, sizeof type, "t%062d", i);
        snprintf(path, sizeof path, "d/%d.json", i);
        int rc = fk__mwriter_add(w, path, type, 1, H64, NULL);
        assert_int_equal(rc, i < FK__MANIFEST_MAX_TYPES ? FK_OK : FK_EINVAL);
    }
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w);
    size_t n;
    assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &n), 0);
    assert_int_equal(n, FK__MANIFEST_MAX_TYPES);
}

static void test_free_without_commit(void **state)
{
    tdir *d = *state;
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_true(exists(d->fd, FK__MANIFEST_TMP));
    assert_int_equal(fk__mwriter_add(w, "a/1.json", "a", 1, H64, NULL), FK_OK);
    fk__mwriter_free(w);
    assert_false(exists(d->fd, FK__MANIFEST_TMP));
    assert_false(exists(d->fd, FK__MANIFEST_NAME));

    /* finished but not committed: still removed */
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
    assert_true(exists(d->fd, FK__MANIFEST_TMP));
    fk__mwriter_free(w);
    assert_false(exists(d->fd, FK__MANIFEST_TMP));
    assert_false(exists(d->fd, FK__MANIFEST_NAME));

    /* a stale temp file from a crashed run is truncated, not appended to */
    put_file(d->fd, FK__MANIFEST_TMP, "garbage garbage garbage garbage garbage\n", 40);
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
    size_t n;
    assert_int_equal(read_all(d->fd, FK__MANIFEST_TMP, &n), 0);
    fk__mwriter_free(w);
}

/* The old manifest stays whole until the rename; the reader can check the
 * temp file before it is committed. */
static void test_commit_replaces_atomically(void **state)
{
    tdir *d = *state;
    write_small(d->fd);
    char *old = get_file(d->fd, FK__MANIFEST_NAME, NULL);
    struct stat st_old;
    assert_int_equal(fstatat(d->fd, FK__MANIFEST_NAME, &st_old, 0), 0);

    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    char sha[65], path[64];
    for (int i = 1; i <= 5000; i++) {
        snprintf(path, sizeof path, "n/%d.json", i);
        sha_of(sha, (uint64_t)i);
        assert_int_equal(fk__mwriter_add(w, path, "n", i, sha, NULL), FK_OK);
        if (i % 1000 == 0) {
            char *now = get_file(d->fd, FK__MANIFEST_NAME, NULL);
            assert_string_equal(now, old);
            free(now);
        }
    }
    assert_int_equal(fk__mwriter_finish(w, "2027-01-01T00:00:00Z", 0, NULL), FK_OK);
    char *now = get_file(d->fd, FK__MANIFEST_NAME, NULL);
    assert_string_equal(now, old);
    free(now);
    size_t n;
    assert_int_equal(read_all(d->fd, FK__MANIFEST_TMP, &n), 0);
    assert_int_equal(n, 5000);
    assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &n), 0);
    assert_int_equal(n, 3);

    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w); /* must not remove anything now */
    assert_false(exists(d->fd, FK__MANIFEST_TMP));
    assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &n), 0);
    assert_int_equal(n, 5000);
    struct stat st_new;
    assert_int_equal(fstatat(d->fd, FK__MANIFEST_NAME, &st_new, 0), 0);
    assert_true(st_new.st_ino != st_old.st_ino); /* replaced, not rewritten in place */
    free(old);
}

/* A symlink planted under the temp name is not followed. */
static void test_writer_no_symlink(void **state)
{
    tdir *d = *state;
    put_file(d->fd, "victim", "keep me\n", 8);
    assert_int_equal(symlinkat("victim", d->fd, FK__MANIFEST_TMP), 0);
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_EIO);
    assert_null(w);
    char *v = get_file(d->fd, "victim", NULL);
    assert_string_equal(v, "keep me\n");
    free(v);
    assert_true(exists(d->fd, FK__MANIFEST_TMP)); /* not ours: left alone */
}

/* ------------------------------------------------------------- reading */

static void test_absent(void **state)
{
    tdir *d = *state;
    fk__mreader *r = (fk__mreader *)1;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(fk_errmsg(NULL), FK__MANIFEST_NAME));
    assert_non_null(strstr(fk_errmsg(NULL), "not found"));
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_TMP), FK_ENOTFOUND);
    assert_int_equal(fk__mreader_open(NULL, NULL, d->fd, FK__MANIFEST_NAME), FK_EINVAL);
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, NULL), FK_EINVAL);
    fk__mreader_free(NULL);
    assert_int_equal(fk__mreader_count_types(NULL), 0);
    assert_null(fk__mreader_exported_at(NULL));
}

static void test_not_regular(void **state)
{
    tdir *d = *state;
    fk__mreader *r;
    assert_int_equal(mkdirat(d->fd, FK__MANIFEST_NAME, 0755), 0);
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_EIO);
    assert_int_equal(unlinkat(d->fd, FK__MANIFEST_NAME, AT_REMOVEDIR), 0);
    /* a FIFO must fail at once, not block waiting for a writer */
    assert_int_equal(mkfifoat(d->fd, FK__MANIFEST_NAME, 0644), 0);
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_EIO);
}

/* The valid base every malformed case edits (12 lines). */
static const char *const base_lines[] = {
    "{",
    "    \"format\": \"fortknox-manifest\",",
    "    \"format_version\": 1,",
    "    \"files\": [",
    "        {\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1, \"sha256\": \"" H64 "\"},",
    "        {\"path\": \"a/2.json\", \"type\": \"a\", \"id\": 2, \"sha256\": \"" H64 "\"},",
    "        {\"path\": \"b/3.json\", \"type\": \"b\", \"id\": 3, \"sha256\": \"" H64 "\"}",
    "    ],",
    "    \"counts\": {\"a\": 2, \"b\": 1},",
    "    \"exported_at\": \"2026-11-27T12:00:00Z\",",
    "    \"audit_chain_head\": {\"id\": 42, \"hash\": \"" H64 "\"}",
    "}",
};
#define NBASE (sizeof base_lines / sizeof base_lines[0])

typedef struct bad_case {
    int line;            /* 1-based line to replace; 0 = none */
    const char *text;    /* its replacement (NULL deletes the line) */
    int cut_after;       /* keep only this many lines (0 = all) */
    const char *suffix;  /* appended after the (possibly cut) text */
    size_t err_line;     /* expected "<name>:<line>:" */
    const char *want;    /* expected substring of the message */
} bad_case;

static size_t build(char *out, size_t cap, const bad_case *c)
{
    size_t n = 0;
    for (size_t i = 0; i < NBASE; i++) {
        if (c->cut_after && (int)i >= c->cut_after)
            break;
        const char *l = base_lines[i];
        if (c->line == (int)i + 1) {
            if (!c->text)
                continue;
            l = c->text;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s\n", l);
    }
    if (c->suffix)
        n += (size_t)snprintf(out + n, cap - n, "%s", c->suffix);
    assert_true(n < cap);
    return n;
}

#define E5(body) "        {" body "}"
#define ENTRY1_REST "\"type\": \"a\", \"id\": 1, \"sha256\": \"" H64 "\""

static const bad_case bad_cases[] = {
    /* header */
    {1, "{ ", 0, NULL, 1, "expected exactly '{'"},
    {2, "    \"format\": \"something-else\",", 0, NULL, 2, "not a fortknox manifest"},
    {2, "  \"format\": \"fortknox-manifest\",", 0, NULL, 2, "line layout is fixed"},
    {3, "    \"format_version\": 2,", 0, NULL, 3, "unsupported format_version"},
    {4, "    \"files\": [],", 0, NULL, 4, "expected exactly"},
    {4, NULL, 0, NULL, 4, "expected exactly"},
    /* comma rules */
    {5, E5("\"path\": \"a/1.json\", " ENTRY1_REST), 0, NULL, 5, "missing ','"},
    {7, E5("\"path\": \"b/3.json\", \"type\": \"b\", \"id\": 3, \"sha256\": \"" H64 "\"") ",",
     0, NULL, 7, "',' after the last entry"},
    {5, E5("\"path\": \"a/1.json\", " ENTRY1_REST) ",,", 0, NULL, 5, "must end with"},
    {5, E5("\"path\": \"a/1.json\", " ENTRY1_REST) ", ", 0, NULL, 5, "must end with"},
    /* entry contents */
    {5, E5("\"path\": \"a/1.json\", \"extra\": 1, " ENTRY1_REST) ",", 0, NULL, 5,
     "unknown key \"extra\""},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1") ",", 0, NULL, 5,
     "without \"sha256\""},
    {5, E5("\"path\": \"a/1.json\", \"path\": \"a/1.json\", " ENTRY1_REST) ",", 0, NULL, 5,
     "invalid JSON"},
    {5, E5("\"path\": \"a/1.json\" " ENTRY1_REST) ",", 0, NULL, 5, "invalid JSON at column"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1, \"sha256\": \"" H64B "0\"") ",", 0,
     NULL, 5, "64 lowercase hex"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1, \"sha256\": "
           "\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"") ",",
     0, NULL, 5, "64 lowercase hex"},
    {6, E5("\"path\": \"a/2.json\", \"type\": \"a\", \"id\": 2, \"sha256\": 5") ",", 0, NULL, 6,
     "must be a string"},
    {5, E5("\"path\": \"a/../1.json\", " ENTRY1_REST) ",", 0, NULL, 5, "contains \"..\""},
    {5, E5("\"path\": \"/a/1.json\", " ENTRY1_REST) ",", 0, NULL, 5, "is absolute"},
    {5, E5("\"path\": \"a\\\\1.json\", " ENTRY1_REST) ",", 0, NULL, 5, "backslash"},
    {5, E5("\"path\": \"a/1\\u0000.json\", " ENTRY1_REST) ",", 0, NULL, 5, "NUL"},
    {5, E5("\"path\": \"1.json\", " ENTRY1_REST) ",", 0, NULL, 5, "<directory>/<file>.json"},
    {5, E5("\"path\": \"a/b/1.json\", " ENTRY1_REST) ",", 0, NULL, 5, "<directory>/<file>.json"},
    {5, E5("\"path\": \"a/1.txt\", " ENTRY1_REST) ",", 0, NULL, 5, "<directory>/<file>.json"},
    {5, E5("\"path\": 1, " ENTRY1_REST) ",", 0, NULL, 5, "\"path\" must be a string"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"A\", \"id\": 1, \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 5, "[a-z][a-z0-9_]*"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1.5, \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 5, "no fraction or exponent"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1e2, \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 5, "no fraction or exponent"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 99999999999999999999, \"sha256\": \"" H64
           "\"") ",",
     0, NULL, 5, "64-bit"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 9223372036854775808, \"sha256\": \"" H64
           "\"") ",",
     0, NULL, 5, "64-bit"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": \"1\", \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 5, "must be an integer"},
    {6, E5("\"path\": \"a/2.json\", \"type\": \"a\", \"id\": 1, \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 6, "ids must increase"},
    /* the writer's own form, one check off: the canonical reader passes them
     * to the general one, whose errors they get */
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 01, \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 5, "invalid JSON"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": -, \"sha256\": \"" H64 "\"") ",", 0,
     NULL, 5, "invalid JSON"},
    {5, E5("\"path\": \"a/\x01.json\", " ENTRY1_REST) ",", 0, NULL, 5, "invalid JSON"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1, \"sha256\": \"" H64 "\", "
           "\"json_null\": 5") ",",
     0, NULL, 5, "\"json_null\" must be an array"},
    {5, E5("\"path\": \"a/1.json\", \"type\": \"a123456789012345678901234567890123456789012345678901"
           "234567890123\", \"id\": 1, \"sha256\": \"" H64 "\"") ",",
     0, NULL, 5, "at most 63 bytes"},
    {7, E5("\"path\": \"b/3.json\", \"type\": \"a\", \"id\": 3, \"sha256\": \"" H64 "\""), 0, NULL,
     9, "counts do not match"},
    {6, "    " E5("\"path\": \"a/2.json\", \"type\": \"a\", \"id\": 2, \"sha256\": \"" H64 "\"") ",",
     0, NULL, 6, "expected a file entry"},
    {6, "        [1],", 0, NULL, 6, "expected a file entry"},
    {6, "", 0, NULL, 6, "expected a file entry"},
    /* the trailer */
    {9, "    \"counts\": {\"a\": 3, \"b\": 1},", 0, NULL, 9, "counts do not match the files listed"},
    {9, "    \"counts\": {\"b\": 1, \"a\": 2},", 0, NULL, 9, "counts do not match"},
    {9, "    \"counts\": {\"a\": 2},", 0, NULL, 9, "counts do not match"},
    {9, "    \"counts\": {\"a\": 2, \"b\": 1, \"c\": 0},", 0, NULL, 9, "counts do not match"},
    {9, "    \"counts\": {\"a\": 2, \"b\": 1.0},", 0, NULL, 9, "non-negative integers"},
    {9, "    \"counts\": [],", 0, NULL, 9, "must be an object"},
    {9, "    \"counts\": {\"a\": 2, \"b\": 1}", 0, NULL, 9, "missing ','"},
    {9, "    \"counts\":  {\"a\": 2, \"b\": 1},", 0, NULL, 9, "whitespace"},
    {9, "    \"counts\": {\"a\": 2, \"b\": 1,},", 0, NULL, 9, "\"counts\": invalid JSON at column 30: trailing comma"},
    {10, "    \"exported_at\": \"2026-11-27 12:00:00\",", 0, NULL, 10, "YYYY-MM-DDTHH:MM:SSZ"},
    {10, "    \"exported_at\": 5,", 0, NULL, 10, "YYYY-MM-DDTHH:MM:SSZ"},
    {10, NULL, 0, NULL, 10, "expected a line starting with '    \"exported_at\": '"},
    /* a comma after the chain head announces export_state */
    {11, "    \"audit_chain_head\": {\"id\": 42, \"hash\": \"" H64 "\"},", 0, NULL, 12,
     "expected a line starting with '    \"export_state\": '"},
    {11, "    \"audit_chain_head\": null,\n    \"export_state\": 5", 0, NULL, 12,
     "\"export_state\" must be a non-empty string"},
    {11, "    \"audit_chain_head\": null,\n    \"export_state\": \"\"", 0, NULL, 12,
     "\"export_state\" must be a non-empty string"},
    {11, "    \"audit_chain_head\": null,\n    \"export_state\": \"A\"", 0, NULL, 12,
     "holds characters"},
    {11, "    \"audit_chain_head\": null,\n    \"export_state\": \"1\",", 0, NULL, 12,
     "',' after the last member"},
    {11, "    \"audit_chain_head\": {\"id\": 0, \"hash\": \"" H64 "\"}", 0, NULL, 11, ">= 1"},
    {11, "    \"audit_chain_head\": {\"id\": 4, \"hash\": \"abc\"}", 0, NULL, 11, "64 lowercase hex"},
    {11, "    \"audit_chain_head\": {\"id\": 4}", 0, NULL, 11, "needs both"},
    {11, "    \"audit_chain_head\": {\"id\": 4, \"hash\": \"" H64 "\", \"x\": 1}", 0, NULL, 11,
     "unknown key \"x\""},
    {11, "    \"audit_chain_head\": 7", 0, NULL, 11, "object or null"},
    {12, "} ", 0, NULL, 12, "expected exactly '}'"},
    /* truncation, garbage, missing pieces */
    {0, NULL, 6, NULL, 7, "unexpected end of file inside \"files\""},
    {0, NULL, 5, "        {\"path\": \"a/2.json\", \"ty", 6, "no newline"},
    {0, NULL, 8, NULL, 9, "trailer"},
    {0, NULL, 11, NULL, 12, "expected '}'"},
    {0, NULL, 0, "x\n", 13, "after the closing '}'"},
    {0, NULL, 0, "\n", 13, "after the closing '}'"},
    {0, NULL, 11, "}", 12, "no newline"},
    {0, NULL, 0, "{\n", 13, "after the closing '}'"},
};

static void check_bad(tdir *d, const char *text, size_t len, size_t err_line, const char *want,
                      const char *label)
{
    put_file(d->fd, FK__MANIFEST_NAME, text, len);
    size_t n;
    int rc = read_all(d->fd, FK__MANIFEST_NAME, &n);
    const char *msg = fk_errmsg(NULL);
    char prefix[64];
    snprintf(prefix, sizeof prefix, FK__MANIFEST_NAME ":%zu: ", err_line);
    if (rc != FK_EPARSE || strncmp(msg, prefix, strlen(prefix)) != 0 || !strstr(msg, want))
        fail_msg("%s: rc %d, message \"%s\"; wanted FK_EPARSE, \"%s...%s\"", label, rc, msg, prefix,
                 want);
}

static void test_malformed(void **state)
{
    tdir *d = *state;
    static char text[1 << 16];
    bad_case ok = {0, NULL, 0, NULL, 0, NULL};
    size_t len = build(text, sizeof text, &ok);
    size_t n;
    put_file(d->fd, FK__MANIFEST_NAME, text, len);
    assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &n), 0); /* the base is valid */
    assert_int_equal(n, 3);

    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        len = build(text, sizeof text, c);
        char label[32];
        snprintf(label, sizeof label, "case %zu", i);
        check_bad(d, text, len, c->err_line, c->want, label);
    }
}

static void test_malformed_layouts(void **state)
{
    tdir *d = *state;
    static char text[1 << 16], flat[1 << 16];
    bad_case ok = {0, NULL, 0, NULL, 0, NULL};
    size_t len = build(text, sizeof text, &ok);

    /* the whole thing on one line (still valid JSON) */
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\n')
            flat[k++] = text[i];
    flat[k++] = '\n';
    check_bad(d, flat, k, 1, "expected exactly '{'", "one line");
    check_bad(d, flat, k - 1, 1, "no newline", "one line, no newline");

    /* CRLF line ends */
    k = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            flat[k++] = '\r';
        flat[k++] = text[i];
    }
    check_bad(d, flat, k, 1, "expected exactly '{'", "CRLF");

    /* empty file, a lone newline */
    check_bad(d, "", 0, 1, "unexpected end of file", "empty");
    check_bad(d, "\n", 1, 1, "expected exactly '{'", "blank");

    /* pretty-printed by another tool: an entry spread over several lines */
    static const char pretty[] = "{\n    \"format\": \"fortknox-manifest\",\n    \"format_version\": 1,\n"
                                 "    \"files\": [\n        {\n            \"path\": \"a/1.json\",\n";
    check_bad(d, pretty, sizeof pretty - 1, 5, "must end with", "pretty");

    /* a NUL byte in a line */
    len = build(text, sizeof text, &ok);
    char *p = strstr(text, "a/2.json");
    p[1] = '\0';
    check_bad(d, text, len, 6, "invalid JSON", "NUL");
}

/* A line of exactly FK__MANIFEST_LINE_MAX bytes is read; one byte more is
 * refused without reading the rest of it into memory. */
static void test_long_line(void **state)
{
    tdir *d = *state;
    size_t cap = 3 * FK__MANIFEST_LINE_MAX;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = 0;
        for (size_t i = 0; i < 5; i++)
            n += (size_t)sprintf(text + n, "%s\n", base_lines[i]);
        /* entry 2 padded with spaces inside the object up to the limit */
        const char *l = base_lines[5];
        size_t llen = strlen(l), pad = FK__MANIFEST_LINE_MAX + (size_t)extra - llen;
        memcpy(text + n, l, 9);
        n += 9;
        memset(text + n, ' ', pad);
        n += pad;
        memcpy(text + n, l + 9, llen - 9);
        n += llen - 9;
        text[n++] = '\n';
        for (size_t i = 6; i < NBASE; i++)
            n += (size_t)sprintf(text + n, "%s\n", base_lines[i]);
        if (!extra) {
            put_file(d->fd, FK__MANIFEST_NAME, text, n);
            size_t cnt;
            assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &cnt), 0);
            assert_int_equal(cnt, 3);
        } else {
            check_bad(d, text, n, 6, "line longer than 65536 bytes", "long line");
        }
    }
    /* a 1 MiB line without a newline anywhere */
    size_t big = 1 << 20;
    text = realloc(text, big);
    memset(text, 'x', big);
    check_bad(d, text, big, 1, "line longer than", "huge line");
    free(text);
}

/* Entries hand-edited but well-formed still read; keys in another order and
 * escapes are JSON, so they are accepted. */
static void test_lenient_within_a_line(void **state)
{
    tdir *d = *state;
    static char text[1 << 16];
    bad_case c = {5,
                  "        {\"sha256\": \"" H64 "\",\"id\":1,  \"t\\u0079pe\": \"\\u0061\", "
                  "\"path\": \"a\\/1.json\"},",
                  0, NULL, 0, NULL};
    size_t len = build(text, sizeof text, &c);
    put_file(d->fd, FK__MANIFEST_NAME, text, len);
    fk__mreader *r;
    fk__mentry e;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_string_equal(e.path, "a/1.json");
    assert_string_equal(e.type, "a");
    assert_true(e.id == 1);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_int_equal(fk__mreader_next(r, &e), 0);
    fk__mreader_free(r);
}

/* Types that reappear after another type are refused. */
static void test_types_not_consecutive(void **state)
{
    tdir *d = *state;
    static const char text[] =
        "{\n    \"format\": \"fortknox-manifest\",\n    \"format_version\": 1,\n    \"files\": [\n"
        "        {\"path\": \"a/1.json\", \"type\": \"a\", \"id\": 1, \"sha256\": \"" H64 "\"},\n"
        "        {\"path\": \"b/1.json\", \"type\": \"b\", \"id\": 1, \"sha256\": \"" H64 "\"},\n"
        "        {\"path\": \"a/2.json\", \"type\": \"a\", \"id\": 2, \"sha256\": \"" H64 "\"}\n"
        "    ],\n    \"counts\": {\"a\": 2, \"b\": 1},\n    \"exported_at\": null,\n"
        "    \"audit_chain_head\": null\n}\n";
    check_bad(d, text, sizeof text - 1, 7, "not consecutive", "types");
}

/* ------------------------------------------------------- out of memory */

static int write_and_read(int dfd, long fail_at)
{
    fk__mwriter *w = NULL;
    fk__mreader *r = NULL;
    fk__mentry e;
    int rc;
    size_t n = 0;
    fk__alloc_fail_at(fail_at);
    if ((rc = fk__mwriter_open(NULL, &w, dfd)) < 0)
        goto out;
    if ((rc = fk__mwriter_add(w, "a/1.json", "a", 1, H64, NULL)) < 0 ||
        (rc = fk__mwriter_add(w, "a/caf\xc3\xa9.json", "a", 2, H64, NULL)) < 0 ||
        (rc = fk__mwriter_add(w, "b/1.json", "b", 2, H64, NULL)) < 0 ||
        (rc = fk__mwriter_finish(w, "2026-01-01T00:00:00Z", 5, H64)) < 0 ||
        (rc = fk__mwriter_commit(w)) < 0)
        goto out;
    if ((rc = fk__mreader_open(NULL, &r, dfd, FK__MANIFEST_NAME)) < 0)
        goto out;
    while ((rc = fk__mreader_next(r, &e)) == 1)
        n++;
    if (rc == 0)
        assert_int_equal(n, 3);
out:
    fk__alloc_fail_at(0);
    fk__mwriter_free(w);
    fk__mreader_free(r);
    unlinkat(dfd, FK__MANIFEST_NAME, 0);
    assert_false(exists(dfd, FK__MANIFEST_TMP));
    return rc;
}

static void test_alloc_failures(void **state)
{
    tdir *d = *state;
    if (!fkt_alloc_faults_available())
        skip(); /* alloc.c built without FK_ALLOC_FAULTS */
    long k;
    for (k = 1;; k++) {
        int rc = write_and_read(d->fd, k);
        if (rc == 0)
            break;
        if (rc != FK_ENOMEM)
            fail_msg("allocation %ld: rc %d (%s)", k, rc, fk_errmsg(NULL));
        assert_true(k < 10000);
    }
    assert_true(k > 5);
}

/* The optional "json_null" of an entry: written only when given, read
 * back as the same text; anything but a one-line array of strings is
 * refused by the writer and by the reader. */
static void test_json_null(void **state)
{
    tdir *d = *state;
    fk__mwriter *w;
    assert_int_equal(fk__mwriter_open(NULL, &w, d->fd), FK_OK);
    assert_int_equal(fk__mwriter_add(w, "a/1.json", "a", 1, H64, "[\"tags\", \"items/3/x\"]"),
                     FK_OK);
    assert_int_equal(fk__mwriter_add(w, "a/2.json", "a", 2, H64, "[1]"), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "a/2.json", "a", 2, H64, "{\"a\": 1}"), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "a/2.json", "a", 2, H64, "[\"a\",\n\"b\"]"), FK_EINVAL);
    assert_int_equal(fk__mwriter_add(w, "a/2.json", "a", 2, H64, NULL), FK_OK);
    assert_int_equal(fk__mwriter_finish(w, NULL, 0, NULL), FK_OK);
    assert_int_equal(fk__mwriter_commit(w), FK_OK);
    fk__mwriter_free(w);
    char *got = get_file(d->fd, FK__MANIFEST_NAME, NULL);
    assert_non_null(strstr(got, "\"id\": 1, \"sha256\": \"" H64 "\", \"json_null\": "
                                "[\"tags\", \"items/3/x\"]},\n"));
    assert_non_null(strstr(got, "\"id\": 2, \"sha256\": \"" H64 "\"}\n"));
    fk__mreader *r;
    fk__mentry e;
    assert_int_equal(fk__mreader_open(NULL, &r, d->fd, FK__MANIFEST_NAME), FK_OK);
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_string_equal(e.json_null, "[\"tags\", \"items/3/x\"]");
    assert_int_equal(fk__mreader_next(r, &e), 1);
    assert_null(e.json_null);
    assert_int_equal(fk__mreader_next(r, &e), 0);
    fk__mreader_free(r);
    /* the reader refuses what the writer would not write */
    char *bad = strstr(got, "\"tags\", ");
    memcpy(bad, "17,     ", 8); /* valid JSON, but a number */
    put_file(d->fd, FK__MANIFEST_NAME, got, strlen(got));
    size_t n;
    assert_int_equal(read_all(d->fd, FK__MANIFEST_NAME, &n), FK_EPARSE);
    free(got);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
    const struct CMUnitTest tests[] = {
        T(test_exact_bytes),
        T(test_json_null),
        T(test_roundtrip_empty),
        T(test_roundtrip_one),
        T(test_roundtrip_export_state),
        T(test_roundtrip_100k),
        T(test_writer_rejects),
        T(test_writer_type_limit),
        T(test_free_without_commit),
        T(test_commit_replaces_atomically),
        T(test_writer_no_symlink),
        T(test_absent),
        T(test_not_regular),
        T(test_malformed),
        T(test_malformed_layouts),
        T(test_long_line),
        T(test_lenient_within_a_line),
        T(test_types_not_consecutive),
        T(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
