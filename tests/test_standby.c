/* A hot standby: a real primary and a streaming-replication standby started
 * by the harness. The read-only commands (export, verify, doctor, audit
 * verify, audit log, snapshot without git) run on the standby and agree with the
 * primary; the commands that write (install, import, drill, restore) say up
 * front, through the CLI (exit 3) and the library (FK_EUNSUPPORTED), that the
 * server is a hot standby and to use the primary, instead of PostgreSQL's
 * "cannot execute ... in a read-only transaction" from the middle of their
 * work. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fkt.h"
#include <fortknox.h>

static fkt_pg *primary, *standby;
static char *pdb;          /* the database on the primary */
static char *sdb;          /* the same database on the standby */
static char *fixtures;     /* exported from the primary */
static const char *cli_path;

static fkt_run cli(const char *const *args)
{
    fkt_run r = fkt_run_program(cli_path, NULL, NULL, args, 300);
    assert_true(r.status != -2);
    return r;
}

/* What must agree between primary and standby: the exit status, whether the
 * report is ok, its counters (without the times), and the command's data. */
static char *agreed_part(const fkt_run *r)
{
    cJSON *d = cJSON_Parse(r->out);
    if (!d)
        fail_msg("stdout is not JSON:\n%s\n--- stderr:\n%s", r->out, r->err);
    cJSON *report = cJSON_GetObjectItemCaseSensitive(d, "report");
    cJSON *keep = cJSON_CreateObject();
    cJSON_AddItemToObject(keep, "exit_status",
                          cJSON_DetachItemFromObject(d, "exit_status"));
    if (cJSON_IsObject(report)) {
        cJSON_AddItemToObject(keep, "ok", cJSON_DetachItemFromObject(report, "ok"));
        cJSON *counters = cJSON_DetachItemFromObject(report, "counters");
        cJSON *c = counters ? counters->child : NULL;
        while (c) {
            cJSON *next = c->next;
            if (strstr(c->string, "_ms") || strstr(c->string, "elapsed"))
                cJSON_Delete(cJSON_DetachItemViaPointer(counters, c));
            c = next;
        }
        if (counters)
            cJSON_AddItemToObject(keep, "counters", counters);
    }
    /* what a command has beyond a report: the rows of audit log */
    cJSON_AddItemToObject(keep, "data", cJSON_DetachItemFromObject(d, "data"));
    char *s = cJSON_PrintUnformatted(keep);
    cJSON_Delete(keep);
    cJSON_Delete(d);
    return s;
}

/* ------------------------------------------------------------ read-only */

enum { DIR_NONE, DIR_FIXTURES, DIR_NEW };

static const struct {
    const char *name;
    const char *args[4]; /* after --db X --json; "@" is the directory */
    int dir;
} readers[] = {
    {"export", {"export", "@"}, DIR_NEW},
    {"snapshot (no git)", {"snapshot", "@"}, DIR_NEW},
    {"verify", {"verify", "@"}, DIR_FIXTURES},
    {"doctor", {"doctor", "--fixtures", "@"}, DIR_FIXTURES},
    {"audit verify", {"audit", "verify"}, DIR_NONE},
    {"audit log", {"audit", "log", "--limit", "1000"}, DIR_NONE},
};

/* One reader on db; *out_dir receives a new directory it exported into. */
static fkt_run run_reader(size_t i, const char *db, char **out_dir)
{
    const char *args[10] = {"--db", db, "--json"};
    size_t n = 3;
    *out_dir = NULL;
    if (readers[i].dir == DIR_NEW)
        *out_dir = fkt_tempdir_or_fail("fk-sb");
    for (size_t k = 0; k < 4 && readers[i].args[k]; k++)
        args[n++] = strcmp(readers[i].args[k], "@") != 0 ? readers[i].args[k]
                    : readers[i].dir == DIR_NEW         ? *out_dir
                                                        : fixtures;
    args[n] = NULL;
    return cli(args);
}

static void read_only_commands_work_on_the_standby_and_agree(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        char *pdir, *sdir;
        fkt_run p = run_reader(i, pdb, &pdir);
        fkt_run s = run_reader(i, sdb, &sdir);
        if (p.status != 0 || s.status != 0)
            fail_msg("%s: primary exit %d, standby exit %d\n--- standby stdout:\n%s\n"
                     "--- standby stderr:\n%s\n--- primary stderr:\n%s",
                     readers[i].name, p.status, s.status, s.out, s.err, p.err);
        char *pa = agreed_part(&p), *sa = agreed_part(&s);
        if (strcmp(pa, sa) != 0)
            fail_msg("%s: primary and standby disagree:\n  primary: %s\n  standby: %s",
                     readers[i].name, pa, sa);
        /* what they wrote is the same, byte for byte, but for the time of
         * the export (the manifest's, and the witness line's) and what the
         * export state records of each directory (its start, its inodes) */
        if (pdir && fkt_sh("diff -r -I '\"exported_at\": ' -I '^[0-9]* [0-9T:Z-]* export ' "
                           "-I '\"export_state\": ' "
                           "'%s' '%s' >&2",
                           pdir, sdir) != 0)
            fail_msg("%s: the standby's files differ from the primary's", readers[i].name);
        free(pa);
        free(sa);
        fkt_run_free(&p);
        fkt_run_free(&s);
        fkt_rm_tree(pdir);
        fkt_rm_tree(sdir);
    }
}

/* ------------------------------------------------------------ writers */

static const struct {
    const char *name;
    const char *args[5]; /* after --db X; "@" is the fixtures */
} writers[] = {
    {"install", {"install", "--capture"}},
    {"import", {"import", "@"}},
    {"import --dry-run", {"import", "@", "--dry-run"}},
    {"drill", {"drill", "@"}},
    {"restore", {"restore", "cohort_definition:1002", "--as-of", "2999-01-01"}},
    {"restore --all", {"restore", "--all", "--as-of", "2999-01-01"}},
    {"restore --all --dry-run", {"restore", "--all", "--as-of", "2999-01-01", "--dry-run"}},
    /* no writer, but it LISTENs, which a standby cannot (nothing is
     * announced there); "@" is a new directory here, which it would fill */
    {"watch", {"watch", "@"}},
};

/* The CLI's arguments for writers[i] on db ("@": dir). */
static void writer_args(size_t i, const char *db, const char *dir, const char *args[10])
{
    size_t n = 2;
    args[0] = "--db";
    args[1] = db;
    for (size_t k = 0; k < 5 && writers[i].args[k]; k++)
        args[n++] = strcmp(writers[i].args[k], "@") ? writers[i].args[k] : dir;
    args[n] = NULL;
}

static void says_standby(const char *what, const char *msg)
{
    if (!strstr(msg, "hot standby") || !strstr(msg, "pg_is_in_recovery()") ||
        !strstr(msg, "primary") || strstr(msg, "read-only transaction"))
        fail_msg("%s: the message does not say the server is a hot standby and to use the "
                 "primary:\n%s",
                 what, msg);
}

static void writing_commands_refuse_the_standby_up_front(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        const char *args[10];
        int watch = strcmp(writers[i].name, "watch") == 0;
        char *dir = watch ? fkt_tempdir_or_fail("fk-sb-watch") : NULL;
        writer_args(i, sdb, watch ? dir : fixtures, args);
        fkt_run r = cli(args);
        fkt_rm_tree(dir);
        if (r.status != 3)
            fail_msg("%s on the standby: exit %d, want 3\n--- stdout:\n%s\n--- stderr:\n%s",
                     writers[i].name, r.status, r.out, r.err);
        says_standby(writers[i].name, r.err);
        fkt_run_free(&r);
    }

    /* the library: the same refusal, FK_EUNSUPPORTED, before any work */
    fk_ctx *ctx;
    assert_int_equal(fk_open(&ctx, sdb, NULL), FK_OK);
    static const char *const names[] = {"fk_install", "fk_import", "fk_drill",
                                        "fk_entity_restore"};
    for (int k = 0; k < 4; k++) {
        fk_report *rep = NULL;
        int rc = k == 0   ? fk_install(&rep, ctx, NULL)
                 : k == 1 ? fk_import(&rep, ctx, fixtures, NULL)
                 : k == 2 ? fk_drill(&rep, ctx, fixtures, NULL)
                          : fk_entity_restore(&rep, ctx, "cohort_definition", 1002,
                                              "2999-01-01", 0);
        if (rc != FK_EUNSUPPORTED)
            fail_msg("%s on the standby: %s (%s), want FK_EUNSUPPORTED", names[k],
                     fk_status_name(rc), fk_errmsg(ctx));
        assert_null(rep);
        says_standby(names[k], fk_errmsg(ctx));
        assert_non_null(strstr(fk_errmsg(ctx), names[k]));
    }
    fk_close(ctx);
    /* nothing reached the primary either: the standby replays what it did */
    assert_int_equal(fkt_pg_standby_catch_up(standby, primary), 0);
    char *count = fkt_q1(pdb, "SELECT count(*) FROM fortknox.audit_log WHERE action = 'restored'");
    assert_string_equal(count, "0");
    free(count);
}

/* A primary whose sessions are read-only (default_transaction_read_only for
 * the database, as a read-only role or pooler sets it): the same refusal up
 * front, saying what is read-only. */
static void writing_commands_refuse_a_read_only_session(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(primary, fkt_schema_and_seed);
    fkt_run r = cli((const char *const[]){"--db", db, "-q", "install", "--capture", NULL});
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    char *name = fkt_q1(db, "SELECT current_database()");
    char sql[200];
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" SET default_transaction_read_only = on",
             name);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        if (strcmp(writers[i].name, "watch") == 0)
            continue; /* LISTEN works in a read-only session: watch only reads */
        const char *args[10];
        writer_args(i, db, fixtures, args);
        r = cli(args);
        if (r.status != 3 || !strstr(r.err, "session is read-only") ||
            strstr(r.err, "in a read-only transaction"))
            fail_msg("%s in a read-only session: exit %d, want 3 saying so\n--- stderr:\n%s",
                     writers[i].name, r.status, r.err);
        fkt_run_free(&r);
    }
    /* the readers still work there */
    r = cli((const char *const[]){"--db", db, "-q", "audit", "verify", NULL});
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    free(name);
    free(db);
}

/* ------------------------------------------------------------ the harness */

static void the_standby_is_one(void **state)
{
    (void)state;
    char *v = fkt_q1(sdb, "SELECT pg_is_in_recovery()");
    assert_string_equal(v, "t");
    free(v);
    v = fkt_q1(pdb, "SELECT pg_is_in_recovery()");
    assert_string_equal(v, "f");
    free(v);
    /* a change on the primary arrives once caught up (setup made one to a
     * design record after the base backup, which the fixtures hold) */
    v = fkt_q1(sdb, "SELECT name FROM app.cohort_definitions WHERE id = 1003");
    char *w = fkt_q1(pdb, "SELECT name FROM app.cohort_definitions WHERE id = 1003");
    assert_string_equal(v, w);
    assert_non_null(strstr(v, "(streamed)"));
    free(v);
    free(w);
    /* and the standby refuses writes (what the commands above must say
     * before PostgreSQL does) */
    assert_int_not_equal(fkt_pg_exec(sdb, "CREATE TABLE x (i int)"), 0);
}

static int setup(void **state)
{
    (void)state;
    cli_path = fkt_cli_path();
    primary = fkt_pg_start_or_exit();
    pdb = fkt_pg_new_db(primary, fkt_schema_and_seed);
    if (!pdb)
        return -1;
    fkt_run r = cli((const char *const[]){"--db", pdb, "-q", "install", "--capture", NULL});
    if (r.status != 0) {
        fprintf(stderr, "# install: %s\n", r.err);
        return -1;
    }
    fkt_run_free(&r);
    if (fkt_pg_exec(pdb, "UPDATE app.cohort_definitions SET name = name || ' (edited)' "
                         "WHERE id = 1002") != 0)
        return -1;
    int rc = fkt_pg_start_standby(&standby, primary);
    if (rc == FKT_SKIP) {
        printf("1..0 # SKIP no standby with FORTKNOX_TEST_DSN\n");
        exit(FKT_SKIP);
    }
    if (rc != 0)
        return -1;
    /* a change after the base backup reaches the standby by streaming */
    if (fkt_pg_exec(pdb, "UPDATE app.cohort_definitions SET name = name || ' (streamed)' "
                         "WHERE id = 1003") != 0)
        return -1;
    /* sealed before the standby catches up: the readers below, which seal
     * on the primary first, find nothing to seal, and both servers hold the
     * same chain head */
    fkt_seal(pdb);
    if (fkt_pg_standby_catch_up(standby, primary) != 0)
        return -1;
    fixtures = fkt_tempdir("fk-sb-fix");
    r = cli((const char *const[]){"--db", pdb, "-q", "export", fixtures, NULL});
    if (r.status != 0) {
        fprintf(stderr, "# export: %s\n", r.err);
        return -1;
    }
    fkt_run_free(&r);
    sdb = fkt_pg_on(standby, pdb);
    if (!sdb)
        return -1;
    /* The replay position covers the change (fkt_pg_standby_catch_up); the
     * standby's own view of this database must show it too before anything
     * is compared: the audit log's last row and the chain head, polled (at
     * most a minute). */
#define LAST_ROW_AND_HEAD                                                                         \
    "SELECT max(id) || ':' || (SELECT last_id FROM fortknox.audit_head) FROM fortknox.audit_log"
    char *want = fkt_q1(pdb, LAST_ROW_AND_HEAD);
    int seen = 0;
    for (int i = 0; want && !seen && i < 1200; i++) {
        char *got = fkt_q1(sdb, LAST_ROW_AND_HEAD);
        seen = got && strcmp(got, want) == 0;
        free(got);
        if (!seen)
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    if (!seen)
        fprintf(stderr, "# the standby never showed the primary's audit row %s\n",
                want ? want : "?");
    free(want);
    return seen ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fkt_pg_stop(standby);
    fkt_pg_stop(primary);
    fkt_rm_tree(fixtures);
    free(pdb);
    free(sdb);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_standby_is_one),
        cmocka_unit_test(read_only_commands_work_on_the_standby_and_agree),
        cmocka_unit_test(writing_commands_refuse_the_standby_up_front),
        cmocka_unit_test(writing_commands_refuse_a_read_only_session),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
