/* Unit tests for doctor's table of checks (lib/recovery/doctor) and the
 * streaming file digest its backup check uses (lib/util/sha256.c). The
 * table's codes must be the ones docs/recovery.md and recovery.h document,
 * so adding a check without documenting its codes fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "doctor_internal.h"
#include "sha256.h"

#ifndef FKT_SOURCE_ROOT
#error "FKT_SOURCE_ROOT must be defined by the build"
#endif

/* ------------------------------------------------------------- helpers */

#define MAXCODES 64

typedef struct codes {
    char *v[MAXCODES];
    size_t n;
} codes;

static void add_code(codes *c, const char *s, size_t len)
{
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->v[i]) == len && strncmp(c->v[i], s, len) == 0)
            return;
    assert_true(c->n < MAXCODES);
    c->v[c->n++] = strndup(s, len);
}

static int has_code(const codes *c, const char *s)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i], s) == 0)
            return 1;
    return 0;
}

static void free_codes(codes *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    c->n = 0;
}

/* Every FK-[A-Z-]+ word in text[0..len). */
static void scan_codes(codes *c, const char *text, size_t len)
{
    for (const char *p = text; p + 3 < text + len; p++) {
        if (strncmp(p, "FK-", 3) != 0 ||
            (p > text && (p[-1] == '-' || (p[-1] >= 'A' && p[-1] <= 'Z'))))
            continue;
        const char *e = p + 3;
        while (e < text + len && ((*e >= 'A' && *e <= 'Z') || *e == '-'))
            e++;
        while (e > p + 3 && e[-1] == '-')
            e--;
        add_code(c, p, (size_t)(e - p));
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *s = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&s, &cap);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    fclose(m);
    return s;
}

/* The text between the first occurrence of from and the next of to. */
static const char *section(const char *text, const char *from, const char *to, size_t *len)
{
    const char *a = strstr(text, from);
    if (!a)
        fail_msg("\"%s\" not found", from);
    const char *b = strstr(a + strlen(from), to);
    if (!b)
        fail_msg("\"%s\" not found after \"%s\"", to, from);
    *len = (size_t)(b - a);
    return a;
}

static void table_codes(codes *c)
{
    for (size_t i = 0; i < fk__doctor_ncheck; i++)
        scan_codes(c, fk__doctor_checks[i].codes, strlen(fk__doctor_checks[i].codes));
}

static void assert_same_codes(const codes *table, const codes *doc, const char *where)
{
    for (size_t i = 0; i < table->n; i++)
        if (!has_code(doc, table->v[i]))
            fail_msg("%s is in doctor's checks[] but not in %s", table->v[i], where);
    for (size_t i = 0; i < doc->n; i++)
        if (!has_code(table, doc->v[i]))
            fail_msg("%s is in %s but no entry of doctor's checks[] emits it", doc->v[i], where);
}

/* ------------------------------------------------------------- the table */

static void table_codes_are_the_documented_ones(void **state)
{
    (void)state;
    codes table = {0}, doc = {0}, header = {0};
    table_codes(&table);
    assert_true(table.n > 10);
    char *md = slurp(FKT_SOURCE_ROOT "/docs/recovery.md");
    size_t len;
    const char *s = section(md, "\n## Doctor", "\n## ", &len);
    /* the table's rows: "| `FK-...`, `FK-...` | severity | finds |" */
    for (const char *line = s; line && line < s + len; line = strchr(line + 1, '\n'))
        if (strncmp(line, "\n| `FK-", 7) == 0)
            scan_codes(&doc, line, (size_t)(strchr(line + 2, '|') - line));
    assert_same_codes(&table, &doc, "docs/recovery.md");
    char *h = slurp(FKT_SOURCE_ROOT "/include/fortknox/recovery.h");
    s = section(h, "Looks for silent loss", "@return", &len);
    scan_codes(&header, s, len);
    assert_same_codes(&table, &header, "recovery.h (fk_doctor)");
    free_codes(&table);
    free_codes(&doc);
    free_codes(&header);
    free(md);
    free(h);
}

/* In the snapshot, what needs the audit log runs after the check that
 * finds out whether it is there (the pass after the snapshot comes later
 * anyway). */
static void audit_checks_come_after_the_install_check(void **state)
{
    (void)state;
    size_t install = fk__doctor_ncheck;
    for (size_t i = 0; i < fk__doctor_ncheck; i++)
        if (fk__doctor_checks[i].fn == fk__doctor_install)
            install = i;
    assert_true(install < fk__doctor_ncheck);
    assert_true(fk__doctor_checks[install].in_snapshot);
    for (size_t i = 0; i < fk__doctor_ncheck; i++)
        if ((fk__doctor_checks[i].needs & (FK__DOCTOR_AUDIT | FK__DOCTOR_INSTALLED)) &&
            fk__doctor_checks[i].in_snapshot && i < install)
            fail_msg("checks[%zu] (%s) needs the install but runs before its check", i,
                     fk__doctor_checks[i].codes);
}

/* ------------------------------------------------------------- fk__sha256_file */

static char dir[] = "/tmp/fk-doctor-XXXXXX";

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(int dfd, const char *name, const char *data, size_t len)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void file_digest_is_the_contents_digest(void **state)
{
    (void)state;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    unsigned char got[32], want[32];
    char hex[65];
    /* the FIPS 180-2 example */
    put(dfd, "abc", "abc", 3);
    assert_int_equal(fk__sha256_file(dfd, "abc", got), 0);
    fk__hex(got, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    put(dfd, "empty", "", 0);
    assert_int_equal(fk__sha256_file(dfd, "empty", got), 0);
    fk__hex(got, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* larger than any read chunk, with a byte that differs at the end */
    size_t n = 200001;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 7 + i / 251);
    put(dfd, "big", big, n);
    assert_int_equal(fk__sha256_file(dfd, "big", got), 0);
    assert_int_equal(fk__sha256(big, n, want), 0);
    assert_memory_equal(got, want, 32);
    big[n - 1] ^= 1;
    assert_int_equal(fk__sha256(big, n, want), 0);
    assert_memory_not_equal(got, want, 32);
    free(big);
    close(dfd);
}

/* What is not a regular file is never hashed (and never blocks). */
static void file_digest_refuses_what_is_not_a_regular_file(void **state)
{
    (void)state;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    unsigned char got[32];
    assert_int_equal(fk__sha256_file(dfd, "absent", got), -1);
    assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
    assert_int_equal(fk__sha256_file(dfd, "sub", got), -1);
    assert_int_equal(symlinkat("abc", dfd, "link"), 0);
    assert_int_equal(fk__sha256_file(dfd, "link", got), -1);
    assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
    assert_int_equal(fk__sha256_file(dfd, "fifo", got), -1);
    close(dfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_codes_are_the_documented_ones),
        cmocka_unit_test(audit_checks_come_after_the_install_check),
        cmocka_unit_test(file_digest_is_the_contents_digest),
        cmocka_unit_test(file_digest_refuses_what_is_not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
