/* Crash and fault injection with real PostgreSQL and real files: exports
 * killed with SIGKILL at random points, imports killed or cut off from the
 * server, a full disk, and exports racing the application's writes.
 *
 * The victims run as separate processes (this program re-executed with a
 * --child mode), so a kill hits real code at a random place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fortknox.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fkt.h"

static fkt_pg *pg;
static const char *self_path;

/* ------------------------------------------------------------ children */

static int child_main(int argc, char **argv)
{
    const char *mode = argv[2], *db = argv[3], *dir = argv[4];
    if (strcmp(mode, "export-limited") == 0) {
        struct rlimit rl = {4096, 4096}; /* a "full disk": no file may grow past 4 KiB */
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    fk_ctx_options o = FK_CTX_OPTIONS_INIT;
    o.application_name = "fk-victim";
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, &o) != FK_OK) {
        fprintf(stderr, "%s\n", fk_errmsg(NULL));
        return 10;
    }
    int rc = strncmp(mode, "export", 6) == 0 ? fk_export(NULL, ctx, dir, NULL)
                                             : fk_import(NULL, ctx, dir, NULL);
    /* the parent reads the status and the message */
    printf("%d %s\n", rc, fk_errmsg(ctx));
    fflush(stdout);
    fk_close(ctx);
    return rc == FK_OK ? 0 : 20;
}

static pid_t spawn(const char *mode, const char *db, const char *dir, FILE **out)
{
    int fds[2];
    if (out && pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (out) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
        } else {
            freopen("/dev/null", "w", stdout); /* keep the TAP stream clean */
        }
        execl(self_path, "test_reliability", "--child", mode, db, dir, (char *)NULL);
        _exit(127);
    }
    if (out) {
        close(fds[1]);
        *out = fdopen(fds[0], "r");
    }
    return pid;
}

/* ------------------------------------------------------------- helpers */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static char *checksum(const char *db)
{
    char *s = fkt_pg_query1(
        db, "SELECT md5(string_agg(x, ',')) FROM (SELECT md5(coalesce(string_agg(t::text, '|' "
            "ORDER BY id), '')) x FROM app.cohort_definitions t UNION ALL SELECT "
            "md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM app.concept_sets t "
            "UNION ALL SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM "
            "app.concept_set_items t) s");
    assert_non_null(s);
    return s;
}

/* A database heavy enough that an export or import takes a while. */
static char *big_db(int extra)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO app.cohort_definitions (id, name, author_id, expression_json, "
             "description) SELECT 20000 + g, 'Generated cohort ' || g, 1, jsonb_build_object("
             "'criteria', (SELECT jsonb_agg(jsonb_build_object('concept', g * 10 + k, 'w', "
             "k / 7.0)) FROM generate_series(1, 40) k)), 'v1' FROM generate_series(1, %d) g",
             extra);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    return db;
}

/* id -> path of the file that holds it, for a directory of one type. */
static long long file_id(const char *path)
{
    char *s = fkt_slurp(path, NULL);
    if (!s)
        return -1;
    const char *p = strstr(s, "\n    \"id\": ");
    long long id = p ? atoll(p + 11) : -2;
    free(s);
    return id;
}

static char *find_by_id(const char *dir, long long id)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *found = NULL;
    while (d && (de = readdir(d)) && !found) {
        if (de->d_name[0] == '.' || !strstr(de->d_name, ".json"))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (file_id(p) == id)
            found = strdup(p);
    }
    if (d)
        closedir(d);
    return found;
}

/* Every file is either its entity's old or its new document, and every
 * entity still has a file. */
static void check_old_or_new(const char *dir, const char *olddir, const char *newdir)
{
    char sub[600], osub[600], nsub[600];
    snprintf(sub, sizeof sub, "%s/cohort_definitions", dir);
    snprintf(osub, sizeof osub, "%s/cohort_definitions", olddir);
    snprintf(nsub, sizeof nsub, "%s/cohort_definitions", newdir);
    DIR *d = opendir(sub);
    assert_non_null(d);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !strstr(de->d_name, ".json"))
            continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", sub, de->d_name);
        char *got = fkt_slurp(p, NULL);
        assert_non_null(got);
        char op[1200], np[1200];
        snprintf(op, sizeof op, "%s/%s", osub, de->d_name);
        snprintf(np, sizeof np, "%s/%s", nsub, de->d_name);
        char *o = fkt_slurp(op, NULL), *n = fkt_slurp(np, NULL);
        int ok = (o && strcmp(o, got) == 0) || (n && strcmp(n, got) == 0);
        if (!ok)
            fail_msg("%s is neither its old nor its new content", p);
        free(o);
        free(n);
        free(got);
        files++;
    }
    closedir(d);
    /* no entity lost its file: at least as many files as entities */
    DIR *od = opendir(osub);
    int old_files = 0;
    while ((de = readdir(od)))
        old_files += de->d_name[0] != '.' && strstr(de->d_name, ".json") != NULL;
    closedir(od);
    assert_true(files >= old_files);
}

/* -------------------------------------------------------------- tests */

static void export_killed_at_random_points(void **state)
{
    (void)state;
    char *db = big_db(400);
    char *v1 = fkt_tempdir_or_fail("fk-rel"), *v2 = fkt_tempdir_or_fail("fk-rel"), *dir = fkt_tempdir_or_fail("fk-rel");
    fk_ctx *ctx = NULL;
    assert_ok(NULL, fk_open(&ctx, db, NULL));
    assert_ok(ctx, fk_export(NULL, ctx, v1, NULL));
    /* the new state: every description changes (same names, so same files) */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'v2 ' || "
                                     "id"),
                     0);
    assert_ok(ctx, fk_export(NULL, ctx, v2, NULL));
    /* how long a full export of the change takes, to aim the kills */
    assert_int_equal(fkt_sh("rm -rf '%s' && cp -a '%s' '%s'", dir, v1, dir), 0);
    double t0 = now_s();
    pid_t p = spawn("export", db, dir, NULL);
    int st;
    waitpid(p, &st, 0);
    double full = now_s() - t0;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    srand(20261127);
    int killed = 0;
    /* until 50 kills landed mid-export (a late timer lets one finish first) */
    for (int round = 0; killed < 50 && round < 120; round++) {
        assert_int_equal(fkt_sh("rm -rf '%s' && cp -a '%s' '%s'", dir, v1, dir), 0);
        double at = 0.9 * full * (double)rand() / RAND_MAX;
        p = spawn("export", db, dir, NULL);
        sleep_s(at);
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        killed += WIFSIGNALED(st);
        check_old_or_new(dir, v1, v2);
    }
    assert_true(killed >= 50);
    /* a rerun completes and the result verifies */
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    assert_ok(ctx, fk_verify(NULL, ctx, dir, NULL));
    assert_int_equal(fkt_sh("test -z \"$(find '%s' -name '*.fk-tmp')\"", dir), 0);
    fk_close(ctx);
    fkt_sh("rm -rf '%s' '%s' '%s'", v1, v2, dir);
    free(v1);
    free(v2);
    free(dir);
    free(db);
}

/* The wiped state the import tests start from. */
#define WIPE                                                                                      \
    "DELETE FROM app.concept_set_items; UPDATE app.cohort_definitions SET superseded_by = NULL; " \
    "DELETE FROM app.cohort_definitions; DELETE FROM app.concept_sets"

/* Waits until the victim's session is there (present=1: it connected, or the
 * process `pid` ended first) or gone (present=0: its backend ended, so its
 * transaction is rolled back) — a condition, not a guessed delay. */
static void wait_for_victim(const char *db, int present, pid_t pid)
{
    for (;;) {
        char *n = fkt_pg_query1(db, "SELECT count(*) FROM pg_stat_activity WHERE "
                                    "application_name = 'fk-victim'");
        assert_non_null(n);
        int here = atoi(n) > 0;
        free(n);
        if (here == present)
            return;
        siginfo_t si = {0};
        if (present && pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == pid)
            return; /* it finished (or failed) before we saw it */
        sleep_s(0.002);
    }
}

static void import_killed_or_disconnected_changes_nothing(void **state)
{
    (void)state;
    char *db = big_db(800);
    char *dir = fkt_tempdir_or_fail("fk-rel");
    fk_ctx *ctx = NULL;
    assert_ok(NULL, fk_open(&ctx, db, NULL));
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    assert_int_equal(fkt_pg_exec(db, WIPE), 0);
    char *before = checksum(db);
    double t0 = now_s();
    pid_t p = spawn("import", db, dir, NULL);
    int st;
    waitpid(p, &st, 0);
    double full = now_s() - t0;
    char *after_full = checksum(db);
    assert_string_not_equal(before, after_full);
    srand(7);
    /* Keep going until enough kills landed mid-import: on a loaded machine a
     * random kill time can fall after the import finished, and that round
     * proves nothing (the bound only stops a machine that never lets one land). */
    int killed = 0;
    for (int round = 0; killed < 6 && round < 100; round++) {
        /* back to the wiped state */
        assert_int_equal(fkt_pg_exec(db, WIPE), 0);
        char *b = checksum(db);
        p = spawn("import", db, dir, NULL);
        wait_for_victim(db, 1, p);
        sleep_s(full * 0.9 * (double)rand() / RAND_MAX);
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        wait_for_victim(db, 0, 0); /* the server noticed the dead client and rolled back */
        char *a = checksum(db);
        if (strcmp(a, b) != 0 && strcmp(a, after_full) != 0)
            fail_msg("round %d: the database is half imported", round);
        free(a);
        free(b);
    }
    assert_true(killed >= 6);

    /* the server connection terminated mid-import: until one lands mid-import */
    int cut = 0;
    char *a = NULL, *b = NULL;
    for (int round = 0; !cut && round < 50; round++) {
        free(a);
        free(b);
        assert_int_equal(fkt_pg_exec(db, WIPE), 0);
        b = checksum(db);
        FILE *out = NULL;
        p = spawn("import", db, dir, &out);
        wait_for_victim(db, 1, p);
        sleep_s(full * 0.3 * (double)rand() / RAND_MAX);
        assert_int_equal(fkt_pg_exec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE application_name = 'fk-victim'"),
                         0);
        char line[2048] = "";
        if (!fgets(line, sizeof line, out))
            line[0] = '\0';
        fclose(out);
        waitpid(p, &st, 0);
        wait_for_victim(db, 0, 0);
        a = checksum(db);
        if (!line[0]) { /* cut while connecting (fk_open): the import never began */
            assert_string_equal(a, b);
        } else if (atoi(line) == FK_OK) { /* it finished before the terminate: then it is whole */
            assert_string_equal(a, after_full);
        } else {
            assert_int_equal(atoi(line), FK_EDB);
            assert_true(strlen(line) > 10); /* a message, e.g. "terminating connection" */
            assert_string_equal(a, b);
            cut = 1;
        }
    }
    assert_true(cut);
    free(a);
    free(b);
    free(before);
    free(after_full);
    fk_close(ctx);
    fkt_sh("rm -rf '%s'", dir);
    free(dir);
    free(db);
}

static void full_disk_leaves_old_fixtures(void **state)
{
    (void)state;
    char *db = big_db(50);
    char *dir = fkt_tempdir_or_fail("fk-rel"), *copy = fkt_tempdir_or_fail("fk-rel");
    fk_ctx *ctx = NULL;
    assert_ok(NULL, fk_open(&ctx, db, NULL));
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    assert_int_equal(fkt_sh("rm -rf '%s' && cp -a '%s' '%s'", copy, dir, copy), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = repeat('x',"
                                     " 5000)"),
                     0);
    FILE *out = NULL;
    pid_t p = spawn("export-limited", db, dir, &out);
    char line[2048] = "";
    if (!fgets(line, sizeof line, out))
        line[0] = '\0';
    fclose(out);
    int st;
    waitpid(p, &st, 0);
    assert_int_equal(atoi(line), FK_EIO);
    assert_non_null(strstr(line, "File too large"));
    assert_int_equal(fkt_sh("diff -r '%s' '%s' >/dev/null", dir, copy), 0); /* old fixtures intact */
    assert_int_equal(fkt_sh("test -z \"$(find '%s' -name '*.fk-tmp')\"", dir), 0); /* no temp files */
    fk_close(ctx);
    fkt_sh("rm -rf '%s' '%s'", dir, copy);
    free(dir);
    free(copy);
    free(db);
}

struct writer {
    const char *db;
    volatile int stop;
    int commits;
};

/* The application's invariant: cohorts 1001 and 1002 always have the same
 * version, changed together in one transaction. */
static void *app_writes(void *arg)
{
    struct writer *w = arg;
    PGconn *c = PQconnectdb(w->db);
    while (!w->stop) {
        PQclear(PQexec(c, "BEGIN; UPDATE app.cohort_definitions SET version = version + 1 WHERE "
                          "id = 1001; UPDATE app.cohort_definitions SET version = version + 1 "
                          "WHERE id = 1002; COMMIT"));
        w->commits++;
    }
    PQfinish(c);
    return NULL;
}

static int version_in(const char *dir, long long id)
{
    char sub[600];
    snprintf(sub, sizeof sub, "%s/cohort_definitions", dir);
    char *p = find_by_id(sub, id);
    assert_non_null(p);
    char *s = fkt_slurp(p, NULL);
    const char *v = strstr(s, "\"version\": ");
    int ver = v ? atoi(v + 11) : -1;
    free(s);
    free(p);
    return ver;
}

static void export_is_one_snapshot_while_the_app_writes(void **state)
{
    (void)state;
    char *db = big_db(800);
    char *dir = fkt_tempdir_or_fail("fk-rel");
    fk_ctx *ctx = NULL;
    assert_ok(NULL, fk_open(&ctx, db, NULL));
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET version = 1 WHERE id IN "
                                     "(1001, 1002)"),
                     0);
    struct writer w = {db, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, app_writes, &w);
    for (int round = 0; round < 5; round++) {
        assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
        assert_int_equal(version_in(dir, 1001), version_in(dir, 1002));
    }
    w.stop = 1;
    pthread_join(th, NULL);
    assert_true(w.commits > 0);
    /* once the writes stop, one more export verifies exactly */
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    assert_ok(ctx, fk_verify(NULL, ctx, dir, NULL));
    fk_close(ctx);
    fkt_sh("rm -rf '%s'", dir);
    free(dir);
    free(db);
}

static void modes_respect_umask_and_never_world_writable(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = NULL;
    assert_ok(NULL, fk_open(&ctx, db, NULL));
    char *dir = fkt_tempdir_or_fail("fk-rel");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/out", dir);
    mode_t old = umask(022);
    assert_ok(ctx, fk_export(NULL, ctx, sub, NULL));
    struct stat st;
    char p[700];
    snprintf(p, sizeof p, "%s/cohort_definitions", sub);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    snprintf(p, sizeof p, "%s/fortknox-manifest.json", sub);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(fkt_sh("test -z \"$(find '%s' -type f ! -perm 0644)\"", sub), 0);
    /* a permissive umask still never yields world-writable files */
    umask(0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'again'"),
                     0);
    assert_ok(ctx, fk_export(NULL, ctx, sub, NULL));
    assert_int_equal(fkt_sh("test -z \"$(find '%s' -perm -o+w)\"", sub), 0);
    umask(077);
    char sub2[700];
    snprintf(sub2, sizeof sub2, "%s/private", dir);
    assert_ok(ctx, fk_export(NULL, ctx, sub2, NULL));
    assert_int_equal(fkt_sh("test -z \"$(find '%s' -type f ! -perm 0600)\"", sub2), 0);
    umask(old);
    fk_close(ctx);
    fkt_sh("rm -rf '%s'", dir);
    free(dir);
    free(db);
}

static void hostile_fixtures_are_refused(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = NULL;
    assert_ok(NULL, fk_open(&ctx, db, NULL));
    char *good = fkt_tempdir_or_fail("fk-rel");
    assert_ok(ctx, fk_export(NULL, ctx, good, NULL));
    char *sum = checksum(db);
    struct {
        const char *what;
        const char *cmd; /* run in the cohort_definitions directory */
        int rc;
    } cases[] = {
        {"100k levels of nesting",
         "python3 -c \"import sys; sys.stdout.write('{\\\"id\\\": 9, \\\"x\\\": ' + '[' * "
         "100000 + ']' * 100000 + '}')\" > zz-deep.json",
         FK_EPARSE},
        {"a 70 MB file", "head -c 73400320 /dev/zero | tr '\\0' ' ' > zz-huge.json", FK_EIO},
        {"a control character in a string",
         "printf '{\"id\": 9, \"name\": \"a\\001b\"}' > zz-ctl.json", FK_EPARSE},
        {"a fixture that is a FIFO", "mkfifo zz-fifo.json", FK_EIO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = fkt_tempdir_or_fail("fk-rel");
        assert_int_equal(fkt_sh("cp -a '%s/.' '%s/'", good, dir), 0);
        char sub[600];
        snprintf(sub, sizeof sub, "%s/cohort_definitions", dir);
        assert_int_equal(fkt_sh("cd '%s' && %s", sub, cases[i].cmd), 0);
        fk_report *r = NULL;
        int rc = fk_import(&r, ctx, dir, NULL);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d: %s", cases[i].what, rc, fk_errmsg(ctx));
        assert_non_null(strstr(fk_errmsg(ctx), "cohort_definitions/zz-"));
        char *now = checksum(db);
        assert_string_equal(sum, now);
        free(now);
        fkt_sh("rm -rf '%s'", dir);
        free(dir);
    }
    /* huge numbers survive exactly */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET expression_json = "
                                     "'{\"big\": 123456789012345678901234567890.000000000000000001,"
                                     " \"tiny\": 1e-300, \"huge\": 1e300}' WHERE id = 1001"),
                     0);
    char *dir = fkt_tempdir_or_fail("fk-rel");
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET expression_json = '{}' "
                                     "WHERE id = 1001"),
                     0);
    assert_ok(ctx, fk_import(NULL, ctx, dir, NULL));
    char *v = fkt_pg_query1(db, "SELECT (expression_json -> 'big')::text = "
                                "'123456789012345678901234567890.000000000000000001' AND "
                                "(expression_json -> 'huge')::numeric = 1e300 FROM "
                                "app.cohort_definitions WHERE id = 1001");
    assert_string_equal(v, "t");
    free(v);
    free(sum);
    fkt_sh("rm -rf '%s' '%s'", dir, good);
    free(dir);
    free(good);
    fk_close(ctx);
    free(db);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--child") == 0)
        return child_main(argc, argv);
    self_path = argv[0];
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_killed_at_random_points),
        cmocka_unit_test(import_killed_or_disconnected_changes_nothing),
        cmocka_unit_test(full_disk_leaves_old_fixtures),
        cmocka_unit_test(export_is_one_snapshot_while_the_app_writes),
        cmocka_unit_test(modes_respect_umask_and_never_world_writable),
        cmocka_unit_test(hostile_fixtures_are_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
