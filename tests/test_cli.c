/* The fortknox command-line tool, run as a program (path in $FKT_CLI)
 * against a real throwaway PostgreSQL: every command, every exit status
 * (0, 1, 2, 3), --json output parsed with cJSON, usage errors with help,
 * passwords never printed, snapshot --git committing only the fixtures, watch
 * keeping files current (and measuring how fast), and the demo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fkt.h"
#include "fkt_doctor.h"

static fkt_pg *pg;
static const char *cli_path;

#define PASSWORD "s3cr3t-pw-4711"

/* ------------------------------------------------------------ running the CLI */

typedef fkt_run run;

static void run_free(run *r) { fkt_run_free(r); }

/* Runs the CLI to completion, capturing stdout and stderr. */
static run cli_v(const char *const *env, const char *cwd, const char *const *args)
{
    run r = fkt_run_program(cli_path, env, cwd, args, 0);
    assert_true(r.status != -2);
    return r;
}

#define CLI(...) cli_v(NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define CLI_ENV(env, ...) cli_v(env, NULL, (const char *const[]){__VA_ARGS__, NULL})

/* Fails with everything the program said. */
static void expect_status(const run *r, int want, const char *what)
{
    if (r->status != want)
        fail_msg("%s: exit status %d, want %d\n--- stdout:\n%s\n--- stderr:\n%s", what, r->status,
                 want, r->out, r->err);
}

/* ------------------------------------------------------------ JSON */

/* o["a"]["b"]... with '/' between keys (counter names contain dots). */
static const cJSON *jget(const cJSON *o, const char *path)
{
    char key[256];
    while (o && *path) {
        size_t n = strcspn(path, "/");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '/');
    }
    return o;
}

static double jnum(const cJSON *o, const char *path)
{
    const cJSON *v = jget(o, path);
    if (!cJSON_IsNumber(v))
        fail_msg("%s: not a number", path);
    return v->valuedouble;
}

static const char *jstr(const cJSON *o, const char *path)
{
    const cJSON *v = jget(o, path);
    if (!cJSON_IsString(v))
        fail_msg("%s: not a string", path);
    return v->valuestring;
}

/* stdout must be exactly one JSON document of the documented shape. */
static cJSON *doc_of(const run *r, const char *command)
{
    const char *end = NULL;
    cJSON *d = cJSON_ParseWithOpts(r->out, &end, 0);
    if (!d)
        fail_msg("stdout is not JSON:\n%s\n--- stderr:\n%s", r->out, r->err);
    while (end && (*end == '\n' || *end == ' '))
        end++;
    if (end && *end)
        fail_msg("more than one document on stdout:\n%s", r->out);
    assert_string_equal(jstr(d, "format"), "fortknox-cli");
    assert_int_equal((int)jnum(d, "format_version"), 1);
    if (command)
        assert_string_equal(jstr(d, "command"), command);
    assert_int_equal((int)jnum(d, "exit_status"), r->status);
    assert_true(cJSON_IsObject(jget(d, "report")) || cJSON_IsNull(jget(d, "report")));
    assert_true(jget(d, "data") != NULL);
    if (r->status == 0)
        assert_true(cJSON_IsNull(jget(d, "error")));
    else
        assert_true(cJSON_IsString(jget(d, "error")));
    return d;
}

static int has_item(const cJSON *d, const char *code)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, jget(d, "report/items"))
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "code");
        if (cJSON_IsString(c) && strcmp(c->valuestring, code) == 0)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ helpers */

static long long qnum(const char *db, const char *sql)
{
    char *v = fkt_q1(db, sql);
    long long n = atoll(v);
    free(v);
    return n;
}

static void rm_tree(char *d) { assert_int_equal(fkt_rm_tree(d), 0); }

static char *path_in(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static const char wipe_sql[] =
    "BEGIN; SELECT fortknox.allow('truncate'); TRUNCATE app.users CASCADE; COMMIT";
static const char count_cohorts[] = "SELECT count(*) FROM app.cohort_definitions";
static const char cohort_file[] = "cohort_definitions/t2dm-new-metformin-users.json";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void install_capture(const char *db)
{
    run r = CLI("--db", db, "-q", "install", "--capture");
    expect_status(&r, 0, "install --capture");
    run_free(&r);
}

/* ------------------------------------------------------------ usage and help */

static void usage_errors_print_help_and_exit_2(void **state)
{
    (void)state;
    static const char *const cases[][6] = {
        {NULL},
        {"frobnicate", NULL},
        {"--bogus", "export", "/tmp/x", NULL},
        {"export", NULL},
        {"export", "/tmp/a", "/tmp/b", NULL},
        {"export", "/tmp/x", "--dry-run", NULL},
        {"import", NULL},
        {"verify", NULL},
        {"drill", NULL},
        {"restore", "cohort_definition", "--audit-id", "3", NULL},
        {"restore", "--all", "--type", "concept_set", NULL}, /* --all needs --as-of */
        {"restore", "--all", "--as-of", "2026-01-01", "cohort_definition:1001"},
        {"restore", "cohort_definition:x", "--as-of", "2026-01-01", NULL},
        {"restore", "cohort_definition:1001", "--as-of", "2026-01-01", "--audit-id"},
        {"audit", NULL},
        {"audit", "frob", NULL},
        {"audit", "log", "--limit", "many", NULL},
        {"audit", "log", "--entity", ":5", NULL},
        {"audit", "verify", "extra", NULL},
        {"doctor", "--fixtures", NULL},
        {"snapshot", NULL},
        {"snapshot", "/tmp/x", "--message", "", NULL},
        {"watch", NULL},
        {"watch", "/tmp/x", "--commit-every", "-1", NULL},
        {"install", "--capture=yes", NULL},
        {"demo", "now", NULL},
        {"-x", NULL},
        {"--lock-timeout", "soon", "doctor", NULL},
        {"doctor", "--statement-timeout", "-5", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[8] = {0};
        size_t n = 0;
        for (; n < 6 && cases[i][n]; n++)
            args[n] = cases[i][n];
        run r = cli_v(NULL, NULL, args);
        char what[200];
        snprintf(what, sizeof what, "case %zu (%s %s)", i, args[0] ? args[0] : "",
                 args[0] && args[1] ? args[1] : "");
        expect_status(&r, 2, what);
        if (!strstr(r.err, "usage: fortknox"))
            fail_msg("%s: no help on stderr:\n%s", what, r.err);
        assert_string_equal(r.out, ""); /* stdout stays clean */
        /* the command's own help */
        if (args[0] && strcmp(args[0], "export") == 0)
            assert_non_null(strstr(r.err, "usage: fortknox export DIR"));
        if (args[0] && strcmp(args[0], "audit") == 0)
            assert_non_null(strstr(r.err, "usage: fortknox audit"));
        run_free(&r);
    }
    /* with --json, the usage error is a document too */
    run r = CLI("--json", "export");
    expect_status(&r, 2, "--json export");
    cJSON *d = doc_of(&r, "export");
    assert_string_equal(jstr(d, "status"), "FK_EINVAL");
    assert_non_null(strstr(jstr(d, "error"), "missing argument"));
    assert_non_null(strstr(r.err, "usage: fortknox export"));
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("frobnicate", "--json");
    d = doc_of(&r, NULL);
    assert_true(cJSON_IsNull(jget(d, "command")));
    cJSON_Delete(d);
    run_free(&r);
}

/* Input errors are usage errors (exit 2) whose message teaches: the accepted
 * time formats, the registry's entity types, "did you mean", a forgotten
 * option value, an audit row of another entity. Each used to exit 3 (bad
 * time, unknown type), 0 (`audit log --entity nosuch:1`: "no audit rows";
 * `restore X --audit-id ROW-OF-Y`: "restored"; `--db --json verify`: ran
 * with "--json" as the conninfo), or print help without a hint. */
static void input_errors_are_usage_errors_that_teach(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    install_capture(db);
    /* cohort 1002 has a history before concept set 1001's row: that row used
     * to restore the cohort "as of" it and say "restored" */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Has history' "
                                     "WHERE id = 1002; UPDATE app.concept_sets SET name = "
                                     "'Another entity' WHERE id = 1001"),
                     0);
    char other_row[24], no_row[24];
    snprintf(other_row, sizeof other_row, "%lld",
             qnum(db, "SELECT max(id) FROM fortknox.audit_log WHERE entity_type = 'concept_set'"));
    snprintf(no_row, sizeof no_row, "%lld", qnum(db, "SELECT max(id) + 1000 FROM fortknox.audit_log"));
    char *dir = fkt_tempdir_or_fail("fk-cli-teach");
    static const char times[] = "accepted: 2026-03-15, 2026-03-15 14:05, 2026-03-15T14:05:00Z";
    static const char types[] = "the types of this registry: ";
    const struct {
        const char *args[8];
        const char *teaches, *also;
    } cases[] = {
        {{"audit", "log", "--since", "last tuesday-ish"}, times, "since"},
        {{"audit", "log", "--since", "2026-13-45"}, times, NULL},
        {{"audit", "log", "--diff"}, "--diff needs --entity TYPE:ID, e.g. --entity", NULL},
        {{"audit", "log", "--entity", "concept_set", "--diff"}, "--diff needs --entity TYPE:ID",
         "without --diff, --entity TYPE lists"},
        {{"restore", "cohort_definition:1002", "--as-of", "noon"}, times, "as_of"},
        {{"audit", "log", "--entity", "nosuch:1"}, types, "cohort_definition"},
        {{"audit", "log", "--entity", "cohort_defintion:1002"}, types,
         "did you mean \"cohort_definition\""},
        {{"restore", "nosuch:1", "--as-of", "2999-01-01"}, types, "concept_set"},
        {{"restore", "cohort_defnition:1002", "--audit-id", "1"}, types,
         "did you mean \"cohort_definition\""},
        {{"export", dir, "--accept-loss", "nosuch:1"}, "unknown entity type", "cohort_definition"},
        {{"snapshot", dir, "--accept-loss", "concept_sets:1"}, types,
         "did you mean \"concept_set\""},
        {{"restore", "cohort_definition:1002", "--audit-id", other_row}, "records concept_set 1001",
         "not cohort_definition 1002"},
        {{"restore", "cohort_definition:1002", "--audit-id", no_row}, "there is no audit row", NULL},
        {{"exprot", dir}, "unknown command \"exprot\" (did you mean \"export\"?)", NULL},
        {{"audit", "lgo"}, "(did you mean \"audit log\"?)", NULL},
        {{"adit", "log"}, "(did you mean \"audit log\"?)", NULL},
        {{"export", dir, "--acept-loss", "all"}, "unknown option --acept-loss (did you mean "
                                                 "--accept-loss?)", NULL},
        {{"verify", dir, "--jsno"}, "(did you mean --json?)", NULL},
        {{"verify", dir, "--db", "--json"}, "option --db needs a value, and \"--json\" looks like "
                                           "an option", "--db=VALUE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[12] = {0};
        size_t n = 0;
        /* --db first, as a user would put it, except where the case is about --db */
        if (!(cases[i].args[3] && strcmp(cases[i].args[2], "--db") == 0)) {
            args[n++] = "--db";
            args[n++] = db;
        }
        for (size_t k = 0; cases[i].args[k]; k++)
            args[n++] = cases[i].args[k];
        run r = cli_v(NULL, NULL, args);
        char what[200];
        snprintf(what, sizeof what, "case %zu (%s %s %s)", i, cases[i].args[0],
                 cases[i].args[1] ? cases[i].args[1] : "",
                 cases[i].args[2] ? cases[i].args[2] : "");
        expect_status(&r, 2, what);
        if (!strstr(r.err, cases[i].teaches) || (cases[i].also && !strstr(r.err, cases[i].also)))
            fail_msg("%s: want \"%s\" and \"%s\" on stderr:\n%s", what, cases[i].teaches,
                     cases[i].also ? cases[i].also : "", r.err);
        run_free(&r);
    }
    /* the issue's own line: before the command, and the error is JSON (--json seen) */
    run r = CLI("--db", "--json", "verify", dir);
    expect_status(&r, 2, "--db --json verify");
    cJSON *d = doc_of(&r, NULL);
    assert_non_null(strstr(jstr(d, "error"), "looks like an option"));
    cJSON_Delete(d);
    run_free(&r);
    /* the form that takes a value starting with '-', and the good inputs, still work */
    r = CLI("--db", db, "audit", "log", "--since", "2026-03-15T14:05:00Z", "--entity",
                "cohort_definition:1002");
    expect_status(&r, 0, "a good --since");
    run_free(&r);
    r = CLI("--db", db, "snapshot", dir, "--message=-starts-with-a-dash");
    expect_status(&r, 0, "--message=-VALUE");
    run_free(&r);
    /* nothing was restored by the refused --audit-id */
    assert_int_equal(qnum(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = 'restored'"),
                     0);
    rm_tree(dir);
    free(db);
}

static void every_command_has_help(void **state)
{
    (void)state;
    static const char *const cmds[][2] = {
        {"install", NULL}, {"export", NULL}, {"import", NULL},   {"verify", NULL},
        {"drill", NULL},   {"audit", "log"}, {"audit", "verify"}, {"restore", NULL},
        {"doctor", NULL},  {"snapshot", NULL}, {"watch", NULL},  {"demo", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        run r = cmds[i][1] ? CLI(cmds[i][0], cmds[i][1], "--help") : CLI(cmds[i][0], "-h");
        expect_status(&r, 0, cmds[i][0]);
        char want[64];
        snprintf(want, sizeof want, "usage: fortknox %s%s%s", cmds[i][0], cmds[i][1] ? " " : "",
                 cmds[i][1] ? cmds[i][1] : "");
        if (!strstr(r.out, want))
            fail_msg("%s --help:\n%s", want, r.out);
        run_free(&r);
    }
    run r = CLI("--help");
    expect_status(&r, 0, "--help");
    assert_non_null(strstr(r.out, "exit status: 0 success, 1 a check found a problem"));
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        assert_non_null(strstr(r.out, cmds[i][0]));
    run_free(&r);
    r = CLI("audit", "--help");
    expect_status(&r, 0, "audit --help");
    assert_non_null(strstr(r.out, "fortknox audit verify"));
    run_free(&r);
    r = CLI("--version");
    expect_status(&r, 0, "--version");
    assert_non_null(strstr(r.out, "fortknox 0."));
    run_free(&r);
}

/* ------------------------------------------------------------ connection */

static void failures_exit_3_and_never_show_the_password(void **state)
{
    (void)state;
    char *dir = fkt_tempdir_or_fail("fk-cli");
    const char *bad[] = {
        "host=/nonexistent-fortknox dbname=x user=u password=" PASSWORD,
        "postgresql://someone:" PASSWORD "@127.0.0.1:1/x?connect_timeout=2",
    };
    for (size_t i = 0; i < 2; i++) {
        for (int json = 0; json < 2; json++) {
            run r = json ? CLI("--db", bad[i], "--json", "--verbose", "export", dir)
                         : CLI("--db", bad[i], "--verbose", "export", dir);
            expect_status(&r, 3, "unreachable server");
            assert_null(strstr(r.out, PASSWORD));
            assert_null(strstr(r.err, PASSWORD));
            if (json) {
                cJSON *d = doc_of(&r, "export");
                assert_string_equal(jstr(d, "status"), "FK_EDB");
                cJSON_Delete(d);
            } else {
                assert_non_null(strstr(r.err, "fortknox export: "));
            }
            run_free(&r);
        }
        /* the same through $FORTKNOX_DB */
        char env[300];
        snprintf(env, sizeof env, "FORTKNOX_DB=%s", bad[i]);
        const char *envs[] = {env, NULL};
        run r = CLI_ENV(envs, "doctor");
        expect_status(&r, 3, "FORTKNOX_DB unreachable");
        assert_null(strstr(r.out, PASSWORD));
        assert_null(strstr(r.err, PASSWORD));
        run_free(&r);
    }

    /* a working conninfo with a password (trust ignores it): success, still unseen */
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char with_pw[600];
    snprintf(with_pw, sizeof with_pw, "%s password=%s", db, PASSWORD);
    run r = CLI("--db", with_pw, "--verbose", "install");
    expect_status(&r, 0, "install with a password");
    assert_null(strstr(r.out, PASSWORD));
    assert_null(strstr(r.err, PASSWORD));
    run_free(&r);
    /* --db wins over $FORTKNOX_DB */
    char env[300];
    snprintf(env, sizeof env, "FORTKNOX_DB=%s", bad[0]);
    const char *envs[] = {env, NULL};
    r = CLI_ENV(envs, "--db", db, "export", dir);
    expect_status(&r, 0, "--db over FORTKNOX_DB");
    run_free(&r);
    /* $FORTKNOX_DB alone */
    char good_env[700];
    snprintf(good_env, sizeof good_env, "FORTKNOX_DB=%s", with_pw);
    const char *good_envs[] = {good_env, NULL};
    r = CLI_ENV(good_envs, "--json", "verify", dir);
    expect_status(&r, 0, "FORTKNOX_DB");
    assert_null(strstr(r.out, PASSWORD));
    run_free(&r);
    /* neither: libpq's PG* variables */
    PQconninfoOption *opts = PQconninfoParse(db, NULL);
    assert_non_null(opts);
    char pgvars[4][300];
    const char *pgenv[5] = {0};
    int k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *var = strcmp(o->keyword, "host") == 0     ? "PGHOST"
                          : strcmp(o->keyword, "port") == 0   ? "PGPORT"
                          : strcmp(o->keyword, "user") == 0   ? "PGUSER"
                          : strcmp(o->keyword, "dbname") == 0 ? "PGDATABASE"
                                                              : NULL;
        if (var && o->val && k < 4) {
            snprintf(pgvars[k], sizeof pgvars[k], "%s=%s", var, o->val);
            pgenv[k] = pgvars[k];
            k++;
        }
    }
    PQconninfoFree(opts);
    r = CLI_ENV(pgenv, "verify", dir);
    expect_status(&r, 0, "PG* variables");
    assert_non_null(strstr(r.out, "identical"));
    run_free(&r);
    /* a runtime failure that is not the database: a file where DIR should be */
    char *file = path_in(dir, "cohort_definitions/t2dm-new-metformin-users.json");
    r = CLI("--db", db, "--json", "export", file);
    expect_status(&r, 3, "export into a file");
    cJSON *d = doc_of(&r, "export");
    assert_string_equal(jstr(d, "status"), "FK_EIO");
    cJSON_Delete(d);
    run_free(&r);
    /* a bad registry file */
    r = CLI("--db", db, "--registry", "/nonexistent/registry.json", "export", dir);
    expect_status(&r, 3, "missing registry");
    run_free(&r);
    free(file);
    free(db);
    rm_tree(dir);
}

/* ------------------------------------------------------------ commands */

static void install_export_verify(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    run r = CLI("--db", db, "--json", "install");
    expect_status(&r, 0, "install");
    cJSON *d = doc_of(&r, "install");
    assert_int_equal((int)jnum(d, "report/counters/changed"), 1);
    assert_true(cJSON_IsTrue(jget(d, "data/installed")));
    assert_string_equal(jstr(d, "data/mode"), "app");
    assert_string_equal(jstr(d, "report/operation"), "install");
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "install", "--capture", "--json");
    d = doc_of(&r, "install");
    assert_string_equal(jstr(d, "data/mode"), "capture");
    cJSON_Delete(d);
    run_free(&r);
    /* a plain re-run keeps capture mode and changes nothing */
    r = CLI("--db", db, "--json", "install");
    d = doc_of(&r, "install");
    assert_int_equal((int)jnum(d, "report/counters/changed"), 0);
    assert_string_equal(jstr(d, "data/mode"), "capture");
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "install");
    expect_status(&r, 0, "install human");
    assert_non_null(strstr(r.out, "up to date"));
    run_free(&r);
    r = CLI("--db", db, "install", "--app-role", "no_such_role");
    expect_status(&r, 3, "unknown role");
    assert_non_null(strstr(r.err, "no_such_role"));
    run_free(&r);

    /* export: JSON counters and a human table per type */
    r = CLI("--db", db, "--json", "export", dir);
    expect_status(&r, 0, "export");
    d = doc_of(&r, "export");
    long long designs = qnum(db, "SELECT (SELECT count(*) FROM app.cohort_definitions) + (SELECT "
                                 "count(*) FROM app.concept_sets) + (SELECT count(*) FROM "
                                 "app.heor_analyses) + (SELECT count(*) FROM app.characterizations)"
                                 " + 6");
    assert_int_equal((long long)jnum(d, "report/counters/entities"), designs);
    assert_int_equal((long long)jnum(d, "report/counters/cohort_definition.entities"),
                     qnum(db, count_cohorts));
    assert_true(cJSON_IsTrue(jget(d, "report/ok")));
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "export", dir);
    expect_status(&r, 0, "export again");
    assert_non_null(strstr(r.out, "0 written"));
    assert_non_null(strstr(r.out, "cohort_definition"));
    assert_string_equal(r.err, ""); /* not a TTY: no progress bar */
    run_free(&r);
    r = CLI("--db", db, "--quiet", "export", dir);
    expect_status(&r, 0, "export --quiet");
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
    run_free(&r);

    /* verify: 0 when identical, 1 with the differences listed */
    r = CLI("--db", db, "verify", dir);
    expect_status(&r, 0, "verify");
    assert_non_null(strstr(r.out, "identical"));
    run_free(&r);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Changed "
                                     "behind the fixtures' WHERE id = 1001"),
                     0);
    r = CLI("--db", db, "--json", "verify", dir);
    expect_status(&r, 1, "verify after a change");
    d = doc_of(&r, "verify");
    assert_string_equal(jstr(d, "status"), "FK_EVERIFY");
    assert_true(cJSON_IsFalse(jget(d, "report/ok")));
    assert_true(has_item(d, "differs"));
    assert_int_equal((int)jnum(d, "report/counters/differs"), 1);
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "verify", dir);
    expect_status(&r, 1, "verify human");
    assert_non_null(strstr(r.out, "differs"));
    assert_non_null(strstr(r.out, "cohort_definition 1001"));
    assert_non_null(strstr(r.err, "fortknox verify:"));
    run_free(&r);
    /* --quiet still shows the problem */
    r = CLI("--db", db, "-q", "verify", dir);
    expect_status(&r, 1, "verify --quiet");
    assert_non_null(strstr(r.out, "cohort_definition 1001"));
    run_free(&r);
    r = CLI("--db", db, "verify", "/nonexistent/fixtures");
    assert_true(r.status == 1 || r.status == 3);
    run_free(&r);
    free(db);
    rm_tree(dir);
}

static void import_dry_run_and_bad_fixture(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    run r = CLI("--db", db, "--quiet", "install");
    expect_status(&r, 0, "install");
    run_free(&r);
    r = CLI("--db", db, "--quiet", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    long long cohorts = qnum(db, count_cohorts);
    assert_int_equal(fkt_pg_exec(db, wipe_sql), 0);
    /* the seeder's users come back (authors must exist for an exact restore) */
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.users (id, name, email, password) SELECT "
                                     "g, 'u' || g, 'u' || g || '@x', 'x' FROM unnest(ARRAY[1, 2, "
                                     "117, 126, 135, 154, 195, 226, 327]) g;"
                                     "UPDATE app.users SET email = 'admin@acumenus.net' WHERE id "
                                     "= 1"),
                     0);
    r = CLI("--db", db, "--json", "import", dir, "--dry-run");
    expect_status(&r, 0, "import --dry-run");
    cJSON *d = doc_of(&r, "import");
    assert_int_equal((long long)jnum(d, "report/counters/cohort_definition.created"), cohorts);
    cJSON_Delete(d);
    run_free(&r);
    assert_int_equal(qnum(db, count_cohorts), 0); /* dry run: nothing changed */
    r = CLI("--db", db, "import", dir);
    expect_status(&r, 0, "import");
    assert_non_null(strstr(r.out, "created"));
    run_free(&r);
    assert_int_equal(qnum(db, count_cohorts), cohorts);
    r = CLI("--db", db, "--json", "import", dir);
    d = doc_of(&r, "import");
    assert_int_equal((int)jnum(d, "report/counters/created"), 0);
    cJSON_Delete(d);
    run_free(&r);
    /* a broken fixture: exit 3, file:line:column, nothing changed */
    char *f = path_in(dir, cohort_file);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fputs("{\n    \"id\": 1001,\n    \"name\": \"x\",\n}", fp);
    fclose(fp);
    r = CLI("--db", db, "import", dir);
    expect_status(&r, 3, "import of a broken file");
    assert_non_null(strstr(r.err, "t2dm-new-metformin-users.json:"));
    run_free(&r);
    r = CLI("--db", db, "--json", "drill", dir);
    expect_status(&r, 3, "drill of a broken file");
    d = doc_of(&r, "drill");
    assert_string_equal(jstr(d, "status"), "FK_EPARSE");
    cJSON_Delete(d);
    run_free(&r);
    free(f);
    free(db);
    rm_tree(dir);
}

/* Schema drift through the command line: a malformed --map, --drop-key or
 * --default is a usage error before anything is read (exit 2); a document
 * that no longer fits its table is refused (exit 3, named, nothing
 * changed), whether a file (import) or an audit row's state (restore); an
 * entry nothing uses is a usage error; the mapped operation succeeds and
 * `audit log` shows how the document was read. */
static void drift_is_refused_or_mapped(void **state)
{
    (void)state;
    static const char *const malformed[][7] = {
        {"import", "/nonexistent", "--map", "description", NULL},
        {"import", "/nonexistent", "--map", "=summary", NULL},
        {"import", "/nonexistent", "--map", "description=", NULL},
        {"import", "/nonexistent", "--drop-key", "", NULL},
        {"import", "/nonexistent", "--default", "a=b", NULL},
        {"restore", "cohort_definition:1001", "--audit-id", "1", "--map", "x", NULL},
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        run r = cli_v(NULL, NULL, malformed[i]);
        expect_status(&r, 2, malformed[i][3]);
        if (!strstr(r.err, "expected [TABLE.]"))
            fail_msg("case %zu: %s", i, r.err);
        run_free(&r);
    }
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    install_capture(db);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'Then' "
                                     "WHERE id = 1001"),
                     0);
    char row[24];
    snprintf(row, sizeof row, "%lld",
             qnum(db, "SELECT max(id) FROM fortknox.audit_log WHERE entity_id = 1001 AND "
                      "entity_type = 'cohort_definition'"));
    char *dir = fkt_tempdir_or_fail("fk-cli-drift");
    run r = CLI("--db", db, "-q", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    assert_int_equal(fkt_pg_exec(db, "BEGIN; " FKT_DDL_GUARD_OFF "UPDATE app.cohort_definitions"
                                     " SET description = 'Now' WHERE id = 1001; ALTER TABLE"
                                     " app.cohort_definitions RENAME COLUMN description TO"
                                     " summary; " FKT_DDL_GUARD_ON "COMMIT"),
                     0);
    long long rows = qnum(db, "SELECT count(*) FROM fortknox.audit_log");
    static const struct {
        const char *args[8];
        int status;
        const char *says;
    } cases[] = {
        {{"restore", "cohort_definition:1001", "--audit-id", "ROW"}, 3,
         "key \"description\" of cohort_definition is no column"},
        {{"import", "DIR"}, 3, "key \"description\" of cohort_definition is no column"},
        {{"restore", "cohort_definition:1001", "--audit-id", "ROW", "--map", "description=summary",
          "--map", "descripton=summary"},
         2, "--map descripton=summary matched nothing"},
        {{"import", "DIR", "--map", "description=summery"}, 2,
         "summery names no column of any registered table"},
        {{"import", "DIR", "--map", "description=summary", "--drop-key", "concept_set_items.x"}, 2,
         "--drop-key concept_set_items.x matched nothing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[12] = {"--db", db};
        size_t n = 2;
        for (size_t k = 0; k < 8 && cases[i].args[k]; k++)
            args[n++] = strcmp(cases[i].args[k], "DIR") == 0   ? dir
                        : strcmp(cases[i].args[k], "ROW") == 0 ? row
                                                               : cases[i].args[k];
        r = cli_v(NULL, NULL, args);
        char what[64];
        snprintf(what, sizeof what, "drift case %zu", i);
        expect_status(&r, cases[i].status, what);
        if (!strstr(r.err, cases[i].says))
            fail_msg("%s: stderr: %s", what, r.err);
        if (cases[i].status == 3 && !strstr(r.err, "--map cohort_definitions.description="))
            fail_msg("%s: no way out in: %s", what, r.err);
        run_free(&r);
        assert_int_equal(qnum(db, "SELECT count(*) FROM fortknox.audit_log"), rows);
        char *now = fkt_q1(db, "SELECT summary FROM app.cohort_definitions WHERE id = 1001");
        assert_string_equal(now, "Now");
        free(now);
    }
    r = CLI("--db", db, "restore", "cohort_definition:1001", "--audit-id", row, "--map",
            "description=summary");
    expect_status(&r, 0, "restore --map");
    run_free(&r);
    char *then = fkt_q1(db, "SELECT summary FROM app.cohort_definitions WHERE id = 1001");
    assert_string_equal(then, "Then");
    free(then);
    r = CLI("--db", db, "audit", "log", "--entity", "cohort_definition:1001");
    expect_status(&r, 0, "audit log");
    if (!strstr(r.out, "context") || !strstr(r.out, " --map description=summary"))
        fail_msg("audit log does not show the map:\n%s", r.out);
    run_free(&r);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET summary = 'Later' WHERE "
                                     "id = 1001"),
                     0);
    r = CLI("--db", db, "import", dir, "--map", "cohort_definitions.description=summary");
    expect_status(&r, 0, "import --map");
    run_free(&r);
    then = fkt_q1(db, "SELECT summary || ' ' || (SELECT context FROM fortknox.audit_log ORDER BY"
                      " id DESC LIMIT 1) FROM app.cohort_definitions WHERE id = 1001");
    if (strncmp(then, "Then import:", 12) != 0 ||
        !strstr(then, " --map cohort_definitions.description=summary"))
        fail_msg("after import --map: %s", then);
    free(then);
    fkt_rm_tree(dir);
    free(db);
}

/* A key that names no column refuses the import (exit 3, file and key
 * named, nothing changed) until --drop-unknown-keys says what to do. */
static void import_unknown_keys(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    run r = CLI("--db", db, "--quiet", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    char *f = path_in(dir, cohort_file);
    assert_int_equal(fkt_sh("sed -i 's/\"tags\":/\"labels\":/' '%s'", f), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET tags = '[\"changed\"]' "
                                     "WHERE id = 1001"),
                     0);
    r = CLI("--db", db, "import", dir);
    expect_status(&r, 3, "import with an unknown key");
    if (!strstr(r.err, "t2dm-new-metformin-users.json:") || !strstr(r.err, "\"labels\"") ||
        !strstr(r.err, "--drop-unknown-keys"))
        fail_msg("stderr: %s", r.err);
    run_free(&r);
    char *tags = fkt_q1(db, "SELECT tags::text FROM app.cohort_definitions WHERE id = 1001");
    assert_string_equal(tags, "[\"changed\"]");
    free(tags);
    /* the tags column then has no key in the file: refused until its
     * default is asked for */
    r = CLI("--db", db, "import", dir, "--drop-unknown-keys");
    expect_status(&r, 3, "import --drop-unknown-keys without --default tags");
    if (!strstr(r.err, "no key for column(s) tags") ||
        !strstr(r.err, "--default cohort_definitions.tags"))
        fail_msg("stderr: %s", r.err);
    run_free(&r);
    r = CLI("--db", db, "--json", "import", dir, "--drop-unknown-keys", "--default",
            "cohort_definitions.tags");
    expect_status(&r, 0, "import --drop-unknown-keys");
    cJSON *d = doc_of(&r, "import");
    assert_true(has_item(d, "unknown_key"));
    assert_true(has_item(d, "missing_key"));
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "verify", dir);
    expect_status(&r, 1, "verify of a file with an unknown key");
    run_free(&r);
    free(f);
    free(db);
    rm_tree(dir);
}

static void drill_passes_and_fails(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    run r = CLI("--db", db, "-q", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    r = CLI("--db", db, "--json", "drill", dir);
    expect_status(&r, 0, "drill");
    cJSON *d = doc_of(&r, "drill");
    assert_true(jnum(d, "report/counters/restored") > 10);
    assert_int_equal((int)jnum(d, "report/counters/differs"), 0);
    cJSON_Delete(d);
    run_free(&r);
    /* a child row whose parent reference disagrees with its file: it cannot
     * restore as written */
    assert_int_equal(fkt_sh("f=$(ls %s/concept_sets/*.json | head -1) && sed -i "
                        "'s/\"concept_set_id\": [0-9]*/\"concept_set_id\": 1/' \"$f\"",
                        dir),
                     0);
    r = CLI("--db", db, "drill", dir);
    expect_status(&r, 1, "drill of an unrestorable file");
    assert_non_null(strstr(r.out, "drill FAILED"));
    run_free(&r);
    free(db);
    rm_tree(dir);
}

static void doctor_finds_the_loss(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    run r = CLI("--db", db, "-q", "install", "--capture");
    expect_status(&r, 0, "install");
    run_free(&r);
    r = CLI("--db", db, "-q", "export", dir);
    run_free(&r);
    r = CLI("--db", db, "--json", "doctor", "--fixtures", dir);
    expect_status(&r, 0, "doctor on a healthy database");
    cJSON *d = doc_of(&r, "doctor");
    assert_false(has_item(d, "FK-LOSS"));
    cJSON_Delete(d);
    run_free(&r);
    assert_int_equal(fkt_pg_exec(db, wipe_sql), 0);
    r = CLI("--db", db, "--json", "doctor", "--fixtures", dir);
    expect_status(&r, 1, "doctor after the wipe");
    d = doc_of(&r, "doctor");
    assert_string_equal(jstr(d, "status"), "FK_EVERIFY");
    assert_true(has_item(d, "FK-LOSS"));
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "doctor", "--fixtures", dir, "--backups", dir);
    expect_status(&r, 1, "doctor human");
    assert_non_null(strstr(r.out, "FK-LOSS"));
    assert_non_null(strstr(r.out, "lost entities per type"));
    assert_non_null(strstr(r.out, "hint:"));
    run_free(&r);
    free(db);
    rm_tree(dir);
}

static void audit_log_verify_and_tamper(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    /* not installed: a runtime failure */
    run r = CLI("--db", db, "audit", "log");
    expect_status(&r, 3, "audit log before install");
    run_free(&r);
    r = CLI("--db", db, "-q", "install", "--capture");
    expect_status(&r, 0, "install");
    run_free(&r);
    /* three transactions (capture: one row per entity per transaction) */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'v2' WHERE id = "
                                     "1001; COMMIT; UPDATE app.cohort_definitions SET name = 'v3' "
                                     "WHERE id = 1001; COMMIT; UPDATE app.concept_sets SET name = "
                                     "'cs' WHERE id = 1001"),
                     0);
    r = CLI("--db", db, "--json", "audit", "log");
    expect_status(&r, 0, "audit log");
    cJSON *d = doc_of(&r, "audit log");
    assert_true(cJSON_IsNull(jget(d, "report")));
    assert_int_equal(cJSON_GetArraySize(jget(d, "data")), 3);
    assert_string_equal(jstr(cJSON_GetArrayItem(jget(d, "data"), 0), "entity_type"),
                        "concept_set"); /* newest first */
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "--json", "audit", "log", "--entity", "cohort_definition:1001", "--limit",
            "1");
    d = doc_of(&r, "audit log");
    assert_int_equal(cJSON_GetArraySize(jget(d, "data")), 1);
    const cJSON *row = cJSON_GetArrayItem(jget(d, "data"), 0);
    assert_int_equal((int)jnum(row, "entity_id"), 1001);
    assert_string_equal(jstr(row, "new_json/name"), "v3");
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "--json", "audit", "log", "--entity", "heor_analysis", "--since",
            "2001-01-01");
    d = doc_of(&r, "audit log");
    assert_int_equal(cJSON_GetArraySize(jget(d, "data")), 0);
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "audit", "log");
    expect_status(&r, 0, "audit log human");
    assert_non_null(strstr(r.out, "cohort_definition:1001"));
    assert_non_null(strstr(r.out, "updated"));
    run_free(&r);

    r = CLI("--db", db, "-q", "export", dir);
    run_free(&r);
    r = CLI("--db", db, "--json", "audit", "verify", "--anchor", dir);
    expect_status(&r, 0, "audit verify");
    d = doc_of(&r, "audit verify");
    assert_int_equal((int)jnum(d, "report/counters/rows"), 3);
    cJSON_Delete(d);
    run_free(&r);
    /* a superuser rewrites history behind the triggers' back */
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("UPDATE fortknox.audit_log SET actor_email = 'nobody@x' "
                                                  "WHERE id = (SELECT min(id) FROM "
                                                  "fortknox.audit_log)")),
                     0);
    r = CLI("--db", db, "--json", "audit", "verify");
    expect_status(&r, 1, "audit verify after tampering");
    d = doc_of(&r, "audit verify");
    assert_string_equal(jstr(d, "status"), "FK_ETAMPER");
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "audit", "verify");
    expect_status(&r, 1, "audit verify human");
    assert_non_null(strstr(r.out, "BROKEN"));
    run_free(&r);
    free(db);
    rm_tree(dir);
}

/* `audit log --entity T:ID --diff`: one block per row with the per-field
 * changes (nested paths, arrays by index, a creation's fields added, a
 * deletion's removed, a no-op said), exactly; --json the same as data, with
 * numbers as the log holds them (not doubles). */
#define CS_FIELDS(op, name, tags, expr)                                                           \
    "  " op " $.id: 2001\n  " op " $.name: " name "\n  " op " $.tags: " tags "\n  " op            \
    " $.items: []\n  " op " $.status: \"active\"\n  " op " $.author_id: 117\n  " op               \
    " $.is_public: false\n  " op " $.tenant_id: 1\n  " op " $.created_at: null\n  " op           \
    " $.deleted_at: null\n  " op " $.updated_at: null\n  " op " $.archived_at: null\n  " op      \
    " $.archived_by: null\n  " op " $.description: null\n  " op " $.promoted_at: null\n  " op    \
    " $.expression_json: " expr "\n"

static void audit_log_diff(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    install_capture(db);
    assert_int_equal(
        fkt_pg_exec(db, "BEGIN; SET LOCAL fortknox.actor_email = 'ana@example.org'; "
                        /* a context that tries to forge a diff line (taking a
                         * context is the override's: a member's) */
                        "SELECT fortknox.allow('context'); "
                        "SET LOCAL fortknox.context = E'ui\\n  ~ $.name: \"forged\"\\x1b[2K'; "
                        "INSERT INTO app.concept_sets (id, name, expression_json, author_id, tags) "
                        "VALUES (2001, 'Beta blockers', '{\"items\": [{\"id\": 1}, {\"id\": 2}]}', "
                        "117, '[\"a\"]'); COMMIT; "
                        /* capture writes one row per entity per transaction:
                         * the edit is a transaction of its own */
                        "BEGIN; SET LOCAL fortknox.actor_email = 'ana@example.org'; "
                        "SELECT fortknox.allow('context'); "
                        "SET LOCAL fortknox.context = E'ui\\n  ~ $.name: \"forged\"\\x1b[2K'; "
                        /* an app write that changed nothing */
                        "SELECT fortknox.write('concept_set', 2001, 'Beta blockers', 'updated', "
                        "'{\"id\": 2001}', '{\"id\": 2001}', 'app'); "
                        "UPDATE app.concept_sets SET name = 'Beta \"blockers\" é', expression_json "
                        "= '{\"items\": [{\"id\": 1, \"x\": 12345678901234567890}]}', tags = NULL "
                        "WHERE id = 2001; COMMIT; "
                        "BEGIN; SELECT fortknox.allow('hard_delete'); "
                        "DELETE FROM app.concept_sets WHERE id = 2001; COMMIT"),
        0);
    run r = CLI("--db", db, "--json", "audit", "log", "--entity", "concept_set:2001", "--diff");
    expect_status(&r, 0, "audit log --diff --json");
    cJSON *d = doc_of(&r, "audit log");
    const cJSON *rows = jget(d, "data");
    assert_int_equal(cJSON_GetArraySize(rows), 4);
    static const struct {
        const char *action;
        int entries;
        const char *ops;
    } want[] = {
        {"force_deleted", 16, "removed"}, {"updated", 4, "changed changed added removed"},
        {"updated", 0, ""},               {"created", 16, "added"},
    };
    char expected[4096];
    size_t len = 0;
    for (int i = 0; i < 4; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i), *e;
        assert_string_equal(jstr(row, "action"), want[i].action);
        assert_int_equal(cJSON_GetArraySize(jget(row, "diff")), want[i].entries);
        char ops[200] = "";
        size_t n = 0;
        cJSON_ArrayForEach(e, jget(row, "diff"))
        {
            assert_non_null(strstr(jstr(e, "text"), jstr(e, "path")));
            if (i == 1 || n == 0)
                n += (size_t)snprintf(ops + n, sizeof ops - n, "%s%s", n ? " " : "", jstr(e, "op"));
            else
                assert_string_equal(jstr(e, "op"), ops);
        }
        assert_string_equal(ops, want[i].ops);
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s#%d %s %s by %s\n",
                                i ? "\n" : "", (int)jnum(row, "id"), jstr(row, "created_at"),
                                want[i].action, i ? "ana@example.org (ui\\n  ~ $.name: \"forged\"\\x1b[2K)" : "- (capture)");
        static const char *const bodies[] = {
            CS_FIELDS("-", "\"Beta \\\"blockers\\\" é\"", "null",
                      "{\"items\": [{\"x\": 12345678901234567890, \"id\": 1}]}"),
            "  ~ $.name: \"Beta blockers\" → \"Beta \\\"blockers\\\" é\"\n"
            "  ~ $.tags: [\"a\"] → null\n"
            "  + $.expression_json.items[0].x: 12345678901234567890\n"
            "  - $.expression_json.items[1]: {\"id\": 2}\n",
            "  (no change)\n",
            CS_FIELDS("+", "\"Beta blockers\"", "[\"a\"]", "{\"items\": [{\"id\": 1}, {\"id\": 2}]}"),
        };
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s", bodies[i]);
    }
    /* the number as the log holds it: cJSON would have made it a double */
    assert_non_null(strstr(r.out, "{\"path\":\"$.expression_json.items[0].x\",\"op\":\"added\","
                                  "\"new\":12345678901234567890,\"text\":\"+ "
                                  "$.expression_json.items[0].x: 12345678901234567890\"}"));
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "audit", "log", "--entity", "concept_set:2001", "--diff");
    expect_status(&r, 0, "audit log --diff");
    assert_string_equal(r.out, expected);
    run_free(&r);
    /* --since and --limit still filter */
    r = CLI("--db", db, "audit", "log", "--entity", "concept_set:2001", "--diff", "--limit", "1",
            "--since", "2001-01-01");
    expect_status(&r, 0, "audit log --diff --limit 1");
    assert_memory_equal(r.out, expected, strlen(r.out));
    assert_null(strstr(r.out, "\n\n#")); /* one block */
    run_free(&r);
    r = CLI("--db", db, "audit", "log", "--entity", "concept_set:2001", "--diff", "--since",
            "2999-01-01");
    assert_string_equal(r.out, "no audit rows\n");
    run_free(&r);
    free(db);
}

static void restore_from_the_audit_log(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    run r = CLI("--db", db, "-q", "install", "--capture");
    expect_status(&r, 0, "install");
    run_free(&r);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Good name' "
                                     "WHERE id = 1002"),
                     0);
    long long good = qnum(db, "SELECT max(id) FROM fortknox.audit_log");
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Vandalised' "
                                     "WHERE id = 1002"),
                     0);
    char id[24];
    snprintf(id, sizeof id, "%lld", good);
    r = CLI("--db", db, "--json", "restore", "cohort_definition:1002", "--audit-id", id);
    expect_status(&r, 0, "restore --audit-id");
    cJSON *d = doc_of(&r, "restore");
    cJSON_Delete(d);
    run_free(&r);
    char *name = fkt_q1(db, "SELECT name FROM app.cohort_definitions WHERE id = 1002");
    assert_string_equal(name, "Good name");
    free(name);
    r = CLI("--db", db, "restore", "cohort_definition:1002", "--as-of", "2999-01-01");
    expect_status(&r, 0, "restore --as-of");
    assert_non_null(strstr(r.out, "restored cohort_definition 1002"));
    run_free(&r);
    /* another entity's audit row, an unknown type: usage errors (exit 2),
     * tested with the other input errors below */
    r = CLI("--db", db, "restore", "cohort_definition:424242", "--as-of", "2999-01-01");
    expect_status(&r, 3, "restore of an entity without history");
    run_free(&r);
    free(db);
}

/* ------------------------------------------------------------ snapshot --git */

static int git_count(const char *repo)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-list --count HEAD 2>/dev/null || echo 0", repo);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = 0;
        pclose(p);
    }
    return n;
}

static char *git_out(const char *repo, const char *args)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "git -C '%s' %s", repo, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *buf = calloc(1, 8192);
    size_t n = fread(buf, 1, 8191, p);
    buf[n] = '\0';
    pclose(p);
    return buf;
}

static char *git_repo(void)
{
    char *repo = fkt_tempdir_or_fail("fk-cli");
    assert_int_equal(fkt_sh("cd '%s' && git init -q && git config user.email ci@example.org && "
                        "git config user.name CI && echo base > README && git add README && "
                        "git commit -qm base",
                        repo),
                     0);
    return repo;
}

static void snapshot_commits_only_the_fixtures(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *repo = git_repo();
    /* someone's work in progress, staged: must stay staged and uncommitted */
    assert_int_equal(fkt_sh("cd '%s' && echo wip > other.txt && git add other.txt", repo), 0);
    char *fixtures = path_in(repo, "storage/fixtures");
    run r = CLI("--db", db, "--json", "snapshot", fixtures, "--git");
    expect_status(&r, 0, "snapshot --git");
    cJSON *d = doc_of(&r, "snapshot");
    assert_true(cJSON_IsTrue(jget(d, "data/committed")));
    assert_int_equal(strlen(jstr(d, "data/commit")), 40);
    cJSON_Delete(d);
    run_free(&r);
    assert_int_equal(git_count(repo), 2);
    char *files = git_out(repo, "show --name-only --format=%s HEAD");
    assert_non_null(strstr(files, "chore: fortknox snapshot [skip ci]"));
    assert_non_null(strstr(files, "storage/fixtures/fortknox-manifest.json"));
    assert_non_null(strstr(files, "storage/fixtures/cohort_definitions/"));
    assert_null(strstr(files, "other.txt"));
    free(files);
    char *staged = git_out(repo, "diff --cached --name-only");
    assert_string_equal(staged, "other.txt\n");
    free(staged);

    /* unchanged: no commit */
    r = CLI("--db", db, "snapshot", fixtures, "--git");
    expect_status(&r, 0, "snapshot unchanged");
    assert_non_null(strstr(r.out, "nothing to commit"));
    run_free(&r);
    assert_int_equal(git_count(repo), 2);

    /* a change and an acknowledged loss (nothing is installed, so the delete
     * is recorded nowhere): one commit with the custom message */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Renamed' WHERE "
                                     "id = 1001; BEGIN; SET LOCAL fortknox.allow_hard_delete = "
                                     "on; DELETE FROM app.sccs_analyses; COMMIT"),
                     0);
    r = CLI("--db", db, "snapshot", fixtures, "--git", "--message", "fixtures: before migrate",
            "--accept-loss", "all");
    expect_status(&r, 0, "snapshot after a change");
    run_free(&r);
    assert_int_equal(git_count(repo), 3);
    files = git_out(repo, "show --name-status --format=%s HEAD");
    assert_non_null(strstr(files, "fixtures: before migrate"));
    assert_non_null(strstr(files, "renamed.json"));
    assert_non_null(strstr(files, "D\tstorage/fixtures/sccs_analyses/"));
    assert_null(strstr(files, "other.txt"));
    free(files);
    staged = git_out(repo, "status --porcelain");
    assert_string_equal(staged, "A  other.txt\n"); /* the fixtures are fully committed */
    free(staged);

    /* outside a work tree: clear failure, nothing written */
    char *plain = fkt_tempdir_or_fail("fk-cli");
    char *outside = path_in(plain, "fixtures");
    r = CLI("--db", db, "snapshot", outside, "--git");
    expect_status(&r, 3, "snapshot outside git");
    assert_non_null(strstr(r.err, "not inside a git work tree"));
    run_free(&r);
    struct stat st;
    assert_int_not_equal(stat(outside, &st), 0);
    /* without --git it is an export */
    r = CLI("--db", db, "-q", "snapshot", outside);
    expect_status(&r, 0, "snapshot without --git");
    run_free(&r);
    assert_int_equal(stat(outside, &st), 0);
    free(outside);
    rm_tree(plain);
    free(fixtures);
    rm_tree(repo);
    free(db);
}

/* snapshot --git (and watch --commit-every) with no git identity: refused
 * before exporting. It used to export and stage everything, then fail on the
 * commit, leaving the work tree full of staged fixtures. */
static void snapshot_git_checks_the_identity_first(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    run r = CLI("--db", db, "-q", "install");
    run_free(&r);
    char *repo = fkt_tempdir_or_fail("fk-cli-noident");
    /* no identity anywhere, and no guessing one from the host name */
    assert_int_equal(fkt_sh("cd '%s' && git init -q && git config user.useConfigOnly true", repo),
                     0);
    char *dir = path_in(repo, "fixtures");
    static const char *const env[] = {"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
                                      "GIT_AUTHOR_NAME",  "GIT_AUTHOR_EMAIL",
                                      "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
                                      "EMAIL", NULL};
    const char *const *cmds[] = {
        (const char *const[]){"--db", db, "snapshot", dir, "--git", NULL},
        (const char *const[]){"--db", db, "watch", dir, "--commit-every", "5", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        r = fkt_run_program(cli_path, env, NULL, cmds[i], 120);
        expect_status(&r, 3, cmds[i][2]);
        if (!strstr(r.err, "user.name") || !strstr(r.err, "nothing was exported"))
            fail_msg("%s: no teaching message:\n%s", cmds[i][2], r.err);
        run_free(&r);
        struct stat st;
        assert_int_equal(stat(dir, &st), -1); /* nothing exported */
        char *status = git_out(repo, "status --porcelain");
        assert_string_equal(status, "");
        free(status);
    }
    free(dir);
    rm_tree(repo);
    free(db);
}

/* ------------------------------------------------------------ watch */

/* Starts the CLI in the background, stdout and stderr into files. */
static pid_t spawn(const char *out, const char *err, const char *const *args)
{
    char **argv = fkt_argv(cli_path, args);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves nothing running */
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fo < 0 || fe < 0)
            _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        fkt_apply_env(NULL);
        execv(cli_path, argv);
        _exit(127);
    }
    free(argv);
    return pid;
}

/* Waits up to ms for the file to exist and (if given) contain `text`.
 * Returns the time it took, or -1. */
static double wait_for(const char *path, const char *text, double ms)
{
    double t0 = now_ms();
    while (now_ms() - t0 < ms) {
        char *s = fkt_slurp(path, NULL);
        int ok = s && (!text || strstr(s, text));
        free(s);
        if (ok)
            return now_ms() - t0;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int wait_exit(pid_t pid, double ms)
{
    double t0 = now_ms();
    int st;
    while (now_ms() - t0 < ms) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -2;
}

/* An empty file /tmp/<prefix>-XXXXXX for a background command's output. */
static char *temp_file(const char *prefix)
{
    char *p = malloc(strlen(prefix) + 16);
    sprintf(p, "/tmp/%s-XXXXXX", prefix);
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

/* Removes and frees the output files of a background command. */
static void drop_outputs(char *out, char *err)
{
    unlink(out);
    unlink(err);
    free(out);
    free(err);
}

/* Kills both of watch's connections (the library's and the LISTEN one). */
static void kill_watch_connections(const char *db)
{
    assert_int_equal(qnum(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE application_name IN ('fortknox', 'fortknox-watch') AND "
                              "datname = current_database()"),
                     2);
}

static void watch_keeps_the_files_current(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *repo = git_repo();
    char *dir = path_in(repo, "fixtures");
    char *out = temp_file("fk-cli-watch-out"), *err = temp_file("fk-cli-watch-err");
    /* app mode: nothing would be announced, so watch refuses */
    run r = CLI("--db", db, "-q", "install");
    run_free(&r);
    r = CLI("--db", db, "watch", dir);
    expect_status(&r, 3, "watch without capture mode");
    assert_non_null(strstr(r.err, "capture"));
    run_free(&r);
    install_capture(db);

    char with_pw[600];
    snprintf(with_pw, sizeof with_pw, "%s password=%s", db, PASSWORD);
    pid_t pid = spawn(out, err,
                      (const char *const[]){"--db", with_pw, "--json", "watch", dir,
                                            "--commit-every", "1", NULL});
    char *manifest = path_in(dir, "fortknox-manifest.json");
    char *file = path_in(dir, cohort_file);
    if (wait_for(manifest, NULL, 60000) < 0)
        fail_msg("watch did not export: %s", fkt_slurp(err, NULL));
    /* the password is not even in the process's command line */
    char cmdline_path[64];
    snprintf(cmdline_path, sizeof cmdline_path, "/proc/%d/cmdline", (int)pid);
    size_t cl_len = 0;
    char *cmdline = fkt_slurp(cmdline_path, &cl_len);
    assert_non_null(cmdline);
    assert_null(memmem(cmdline, cl_len, PASSWORD, strlen(PASSWORD)));
    free(cmdline);

    /* commit -> file on disk, measured from the test's side */
    enum { N = 20 };
    double lat[N];
    for (int i = 0; i < N; i++) {
        char sql[200], want[64];
        snprintf(want, sizeof want, "latency probe %d", i);
        snprintf(sql, sizeof sql,
                 "UPDATE app.cohort_definitions SET description = '%s' WHERE id = 1001", want);
        assert_int_equal(fkt_pg_exec(db, sql), 0);
        lat[i] = wait_for(file, want, 60000);
        if (lat[i] < 0)
            fail_msg("change %d not written within 60 s: %s", i, fkt_slurp(err, NULL));
    }
    qsort(lat, N, sizeof lat[0], cmp_double);
    printf("# watch: commit to file on disk: median %.1f ms, max %.1f ms over %d changes\n",
           lat[N / 2], lat[N - 1], N);

    /* a new entity, and a child-table change attributed to its parent */
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.characterizations (id, name, author_id, "
                                     "created_at, updated_at) VALUES (5000, 'Watched newcomer', "
                                     "117, now(), now())"),
                     0);
    char *newfile = path_in(dir, "characterizations/watched-newcomer.json");
    assert_true(wait_for(newfile, "Watched newcomer", 60000) >= 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_set_items SET concept_id = 4242 WHERE "
                                     "id = (SELECT min(id) FROM app.concept_set_items WHERE "
                                     "concept_set_id = 1001)"),
                     0);
    assert_int_equal(fkt_sh("for i in $(seq 1200); do grep -rqs 4242 '%s/concept_sets' && exit 0; "
                        "sleep 0.05; done; exit 1",
                        dir),
                     0);

    /* both connections killed: watch reconnects and catches up */
    kill_watch_connections(db);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'after "
                                     "the reconnect' WHERE id = 1001"),
                     0);
    if (wait_for(file, "after the reconnect", 60000) < 0)
        fail_msg("no catch-up after the reconnect: %s", fkt_slurp(err, NULL));

    /* --commit-every 1: the changes reach git, and later ones in a later commit */
#define WAIT_COMMITS                                                                              \
    "for i in $(seq 600); do n=$(git -C '%s' rev-list --count HEAD); [ \"$n\" -ge %d ] && exit 0; " \
    "sleep 0.1; done; exit 1"
    assert_int_equal(fkt_sh(WAIT_COMMITS, repo, 2), 0);
    int before = git_count(repo);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'in a "
                                     "later commit' WHERE id = 1001"),
                     0);
    assert_int_equal(fkt_sh(WAIT_COMMITS, repo, before + 1), 0);

    /* any connected role can NOTIFY: an id beyond bigint or with a fraction
     * used to be read as INT64_MIN and as 1; now it is ignored, with a warning */
    assert_int_equal(fkt_pg_exec(db, "NOTIFY fortknox, '{\"type\": \"cohort_definition\", "
                                     "\"id\": 99999999999999999999999}'; NOTIFY fortknox, "
                                     "'{\"type\": \"cohort_definition\", \"id\": 1.5}'"),
                     0);
    if (wait_for(err, "\"id\": 1.5}", 60000) < 0 ||
        wait_for(err, "ignored a malformed notification: {\"type\": \"cohort_definition\", "
                      "\"id\": 99999999999999999999999}", 10) < 0)
        fail_msg("no warning for the malformed notifications: %s", fkt_slurp(err, NULL));

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid, 60000), 0);
    run res = {.status = 0, .out = fkt_slurp(out, NULL), .err = fkt_slurp(err, NULL)};
    cJSON *d = doc_of(&res, "watch");
    assert_true(jnum(d, "data/refreshed") >= N + 2);
    assert_true(jnum(d, "data/reconnects") >= 1);
    assert_true(jnum(d, "data/commits") >= 1);
    assert_true(jnum(d, "data/latency_ms/samples") >= N);
    assert_int_equal((int)jnum(d, "data/ignored"), 2);
    printf("# watch: notification to file written (as watch measures it): median %.1f ms, "
           "max %.1f ms\n",
           jnum(d, "data/latency_ms/median"), jnum(d, "data/latency_ms/max"));
    assert_null(strstr(res.out, PASSWORD));
    assert_null(strstr(res.err, PASSWORD));
    cJSON_Delete(d);
    run_free(&res);
    /* the final commit left nothing of the fixtures uncommitted */
    char *status = git_out(repo, "status --porcelain");
    assert_string_equal(status, "");
    free(status);

    /* SIGINT stops it cleanly too; --verbose prints the latency per file */
    pid = spawn(out, err, (const char *const[]){"--db", db, "--verbose", "watch", dir, NULL});
    assert_true(wait_for(out, "watching for changes", 60000) >= 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'verbose' "
                                     "WHERE id = 1001"),
                     0);
    assert_true(wait_for(out, "after the notification", 60000) >= 0);
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_int_equal(wait_exit(pid, 60000), 0);
    assert_true(wait_for(out, "watch stopped", 10) >= 0);

    free(newfile);
    free(manifest);
    free(file);
    drop_outputs(out, err);
    free(dir);
    rm_tree(repo);
    free(db);
}

/* ------------------------------------------------------------ no laundering */

/* a delete behind every trigger's back (session_replication_role no longer
 * does it: the triggers are ENABLE ALWAYS) */
static const char replica_delete[] =
    FKT_BYPASSED("DELETE FROM app.cohort_definitions WHERE id = 1001");

/* The issue's reproduction: a delete that bypassed the triggers, then export.
 * The file stays, the export says so and exits 1, doctor goes on failing;
 * only an acknowledgement (audited) removes the file. */
static void export_does_not_launder_a_loss(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    char *file = path_in(dir, cohort_file);
    run r = CLI("--db", db, "-q", "install");
    expect_status(&r, 0, "install");
    run_free(&r);
    r = CLI("--db", db, "-q", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    assert_int_equal(fkt_pg_exec(db, replica_delete), 0);
    r = CLI("--db", db, "-q", "doctor", "--fixtures", dir);
    expect_status(&r, 1, "doctor after the loss");
    run_free(&r);
    for (int round = 0; round < 2; round++) {
        r = CLI("--db", db, "-q", "export", dir);
        expect_status(&r, 1, "export after the loss");
        assert_non_null(strstr(r.err, "without a recorded deletion"));
        assert_non_null(strstr(r.out, "FK-LOSS")); /* -q hides no finding */
        run_free(&r);
        assert_int_equal(access(file, F_OK), 0);
        r = CLI("--db", db, "-q", "doctor", "--fixtures", dir);
        expect_status(&r, 1, "doctor after the export");
        run_free(&r);
    }
    r = CLI("--db", db, "--json", "export", dir);
    expect_status(&r, 1, "export --json");
    cJSON *d = doc_of(&r, "export");
    assert_string_equal(jstr(d, "status"), "FK_ELOSS");
    assert_true(has_item(d, "FK-LOSS"));
    assert_int_equal((int)jnum(d, "report/counters/lost"), 1);
    cJSON_Delete(d);
    run_free(&r);
    r = CLI("--db", db, "export", dir, "--accept-loss", "cohort_definition");
    expect_status(&r, 2, "--accept-loss without an id");
    run_free(&r);
    /* a typo in the type used to acknowledge nothing, silently */
    r = CLI("--db", db, "export", dir, "--accept-loss", "nope:1001");
    expect_status(&r, 2, "--accept-loss with an unknown type");
    assert_non_null(strstr(r.err, "unknown entity type"));
    assert_non_null(strstr(r.err, "concept_set")); /* the valid types are listed */
    run_free(&r);
    assert_int_equal(access(file, F_OK), 0);
    r = CLI("--db", db, "export", dir, "--accept-loss", "cohort_definition:1001",
            "--accept-loss", "cohort_definition:99999");
    expect_status(&r, 0, "export --accept-loss");
    if (!strstr(r.out, "nothing to accept for cohort_definition:99999") &&
        !strstr(r.err, "nothing to accept for cohort_definition:99999"))
        fail_msg("no warning for the id that was not lost:\n%s\n%s", r.out, r.err);
    run_free(&r);
    assert_int_equal(access(file, F_OK), -1);
    assert_int_equal(qnum(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = "
                              "'loss_accepted' AND entity_id = 1001"),
                     1);
    free(file);
    free(db);
    rm_tree(dir);
}

/* The seeder's wipe with every override: recorded, but a sudden drop, so
 * the export stops the same way until told otherwise (--accept-loss all). */
static void export_stops_at_a_sudden_drop(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *dir = fkt_tempdir_or_fail("fk-cli");
    char *file = path_in(dir, cohort_file);
    install_capture(db);
    run r = CLI("--db", db, "-q", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    long long cohorts = qnum(db, count_cohorts);
    assert_int_equal(fkt_pg_exec(db, wipe_sql), 0);
    r = CLI("--db", db, "--json", "export", dir);
    expect_status(&r, 1, "export after the wipe");
    cJSON *d = doc_of(&r, "export");
    assert_true(has_item(d, "FK-DROP"));
    assert_true(jnum(d, "report/counters/lost") >= cohorts);
    cJSON_Delete(d);
    run_free(&r);
    assert_int_equal(access(file, F_OK), 0);
    r = CLI("--db", db, "-q", "export", dir, "--accept-loss", "all");
    expect_status(&r, 0, "export --accept-loss all");
    run_free(&r);
    assert_int_equal(access(file, F_OK), -1);
    assert_true(qnum(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = "
                         "'loss_accepted' AND entity_type = 'cohort_definition'") == cohorts);
    free(file);
    free(db);
    rm_tree(dir);
}

static void snapshot_does_not_commit_a_loss(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *repo = git_repo();
    char *fixtures = path_in(repo, "fixtures");
    run r = CLI("--db", db, "-q", "snapshot", fixtures, "--git");
    expect_status(&r, 0, "snapshot --git");
    run_free(&r);
    int commits = git_count(repo);
    assert_int_equal(fkt_pg_exec(db, replica_delete), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET description = 'meanwhile' "
                                     "WHERE id = 1001"),
                     0);
    r = CLI("--db", db, "--json", "snapshot", fixtures, "--git");
    expect_status(&r, 1, "snapshot --git after the loss");
    cJSON *d = doc_of(&r, "snapshot");
    assert_string_equal(jstr(d, "status"), "FK_ELOSS");
    assert_true(cJSON_IsFalse(jget(d, "data/committed")));
    cJSON_Delete(d);
    run_free(&r);
    assert_int_equal(git_count(repo), commits);
    char *in_head = git_out(repo, "ls-tree -r --name-only HEAD fixtures/cohort_definitions");
    assert_non_null(strstr(in_head, "t2dm-new-metformin-users.json"));
    free(in_head);
    free(fixtures);
    rm_tree(repo);
    free(db);
}

/* A FIFO's read end, opened without waiting for a writer; the test then
 * waits for the line the writer sends (poll: a watch that died fails the
 * test instead of hanging it). */
static void fifo_await(const char *fifo, const char *what)
{
    int fd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(fd >= 0);
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 120000) != 1)
        fail_msg("%s never happened", what);
    char buf[16];
    assert_true(read(fd, buf, sizeof buf) > 0);
    close(fd);
}

/* A change committed while watch runs its git commit (a slow one with 20k
 * entities; here a pre-commit hook that blocks until the test releases it)
 * reaches the file and git, and a SIGTERM then (before or after the commit
 * ends) finishes that batch first: it used to leave the loop without reading
 * the socket, exit 0, and the change reached neither. */
static void watch_loses_nothing_committed_during_a_git_commit(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int term_before_release; /* the signal comes while the commit is blocked */
    } cases[] = {
        {"TERM while the git commit runs", 1},
        {"TERM after the git commit", 0},
    };
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    install_capture(db);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *repo = git_repo();
        char *dir = path_in(repo, "fixtures");
        char *file = path_in(dir, cohort_file);
        char *entered = path_in(repo, ".git/entered"), *release = path_in(repo, ".git/release"),
             *block = path_in(repo, ".git/block");
        assert_int_equal(mkfifo(entered, 0600), 0);
        assert_int_equal(mkfifo(release, 0600), 0);
        assert_int_equal(fkt_sh("touch '%s' && printf '#!/bin/sh\\n[ -e %s ] || exit 0\\nrm -f "
                                "%s\\necho blocked > %s\\nread x < %s\\nexit 0\\n' > "
                                "'%s/.git/hooks/pre-commit' && chmod +x '%s/.git/hooks/pre-commit'",
                                block, block, block, entered, release, repo, repo),
                         0);
        char *out = temp_file("fk-cli-watch2-out"), *err = temp_file("fk-cli-watch2-err");
        pid_t pid = spawn(out, err,
                          (const char *const[]){"--db", db, "--verbose", "watch", dir,
                                                "--commit-every", "1", NULL});
        /* the first commit (of the initial export) blocks in the hook */
        fifo_await(entered, "the first git commit");
        char sql[200], text[64];
        snprintf(text, sizeof text, "committed during git commit %zu", i);
        snprintf(sql, sizeof sql,
                 "UPDATE app.cohort_definitions SET description = '%s' WHERE id = 1001", text);
        assert_int_equal(fkt_pg_exec(db, sql), 0);
        /* anyone connected can NOTIFY: a type the registry does not know is
         * ignored with a warning, not a failure that would spoil the stop */
        assert_int_equal(fkt_pg_exec(db, "NOTIFY fortknox, '{\"type\": \"nosuch\", \"id\": 1}'"),
                         0);
        if (cases[i].term_before_release)
            assert_int_equal(kill(pid, SIGTERM), 0);
        FILE *rel = fopen(release, "w"); /* waits for the hook's read */
        assert_non_null(rel);
        fputs("go\n", rel);
        fclose(rel);
        if (!cases[i].term_before_release)
            assert_int_equal(kill(pid, SIGTERM), 0);
        int status = wait_exit(pid, 120000);
        run res = {.status = status, .out = fkt_slurp(out, NULL), .err = fkt_slurp(err, NULL)};
        expect_status(&res, 0, cases[i].name);
        char *content = fkt_slurp(file, NULL);
        if (!content || !strstr(content, text))
            fail_msg("%s: the change is not in the file\n--- stdout:\n%s\n--- stderr:\n%s",
                     cases[i].name, res.out, res.err);
        free(content);
        char show[300];
        snprintf(show, sizeof show, "show HEAD:fixtures/%s", cohort_file);
        char *committed = git_out(repo, show);
        if (!strstr(committed, text))
            fail_msg("%s: the change is not in git\n--- stdout:\n%s", cases[i].name, res.out);
        free(committed);
        assert_non_null(strstr(res.err, "ignored a malformed notification: {\"type\": \"nosuch\""));
        /* every notification counted: the UPDATE's at least */
        assert_non_null(strstr(res.out, "watch stopped: "));
        assert_null(strstr(res.out, "watch stopped: 0 notifications"));
        run_free(&res);
        drop_outputs(out, err);
        free(entered);
        free(release);
        free(block);
        free(file);
        free(dir);
        rm_tree(repo);
    }
    free(db);
}

/* The last commit at a stop fails (here a pre-commit hook refuses it): the
 * files are current, git is not, and that is no clean stop (it exited 0). */
static void watch_exits_3_when_the_last_commit_fails(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    install_capture(db);
    char *repo = git_repo();
    char *dir = path_in(repo, "fixtures");
    assert_int_equal(fkt_sh("printf '#!/bin/sh\\necho refused by the hook >&2\\nexit 1\\n' > "
                            "'%s/.git/hooks/pre-commit' && chmod +x '%s/.git/hooks/pre-commit'",
                            repo, repo),
                     0);
    char *out = temp_file("fk-cli-watch3-out"), *err = temp_file("fk-cli-watch3-err");
    /* an hour between commits: the only one is the one at the stop */
    pid_t pid = spawn(out, err, (const char *const[]){"--db", db, "watch", dir, "--commit-every",
                                                      "3600", NULL});
    if (wait_for(out, "watching for changes", 120000) < 0)
        fail_msg("watch did not start: %s", fkt_slurp(err, NULL));
    assert_int_equal(kill(pid, SIGTERM), 0);
    run res = {.status = wait_exit(pid, 120000), .out = fkt_slurp(out, NULL),
               .err = fkt_slurp(err, NULL)};
    expect_status(&res, 3, "watch whose last commit failed");
    assert_non_null(strstr(res.err, "written but not committed"));
    assert_non_null(strstr(res.err, "refused by the hook"));
    run_free(&res);
    drop_outputs(out, err);
    free(dir);
    rm_tree(repo);
    free(db);
}

/* watch after a reconnect: the full export finds the loss (a DELETE with
 * the triggers off announces nothing), keeps the file, raises the alarm and
 * commits nothing more, not even at exit. */
static void watch_raises_the_alarm_and_stops_committing(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *repo = git_repo();
    char *dir = path_in(repo, "fixtures");
    char *out = temp_file("fk-cli-alarm-out"), *err = temp_file("fk-cli-alarm-err");
    install_capture(db);
    pid_t pid = spawn(out, err,
                      (const char *const[]){"--db", db, "--json", "-q", "watch", dir,
                                            "--commit-every", "1", NULL});
    char *file = path_in(dir, cohort_file);
    if (wait_for(file, NULL, 60000) < 0)
        fail_msg("watch did not export: %s", fkt_slurp(err, NULL));
    assert_int_equal(fkt_sh(WAIT_COMMITS, repo, 2), 0);
    int commits = git_count(repo);
    assert_int_equal(fkt_pg_exec(db, replica_delete), 0);
    kill_watch_connections(db);
    if (wait_for(err, "LOSS", 60000) < 0)
        fail_msg("no alarm after the reconnect: %s", fkt_slurp(err, NULL));
    /* -q hides progress, never an error: the lost connection was reported */
    assert_true(wait_for(err, "reconnecting", 10) >= 0);
    /* other changes are still written, not committed */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'after "
                                     "the alarm' WHERE id = 1002"),
                     0);
    assert_int_equal(fkt_sh("for i in $(seq 1200); do grep -rqs 'after the alarm' "
                        "'%s/cohort_definitions' && exit 0; sleep 0.05; done; exit 1",
                        dir),
                     0);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid, 60000), 1);
    assert_int_equal(git_count(repo), commits);
    assert_int_equal(access(file, F_OK), 0);
    run res = {.status = 1, .out = fkt_slurp(out, NULL), .err = fkt_slurp(err, NULL)};
    cJSON *d = doc_of(&res, "watch");
    assert_string_equal(jstr(d, "status"), "FK_ELOSS");
    assert_true(jnum(d, "data/lost") >= 1);
    cJSON_Delete(d);
    run_free(&res);
    free(file);
    drop_outputs(out, err);
    free(dir);
    rm_tree(repo);
    free(db);
}

/* verify and drill of an empty directory, or of the one above the fixtures:
 * no "passed", exit 3, and the reason printed even with -q. */
static void verify_and_drill_refuse_what_is_no_fixture_directory(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char *top = fkt_tempdir_or_fail("fk-cli"), *empty = fkt_tempdir_or_fail("fk-cli"), *dir = path_in(top, "fixtures");
    run r = CLI("--db", db, "-q", "export", dir);
    expect_status(&r, 0, "export");
    run_free(&r);
    const char *cmds[] = {"drill", "verify"};
    for (int i = 0; i < 2; i++) {
        r = CLI("--db", db, "-q", cmds[i], empty);
        expect_status(&r, 3, cmds[i]);
        assert_non_null(strstr(r.err, "not a fixture directory"));
        assert_null(strstr(r.out, "passed"));
        run_free(&r);
        r = CLI("--db", db, "-q", cmds[i], top);
        expect_status(&r, 3, cmds[i]);
        assert_non_null(strstr(r.err, "did you mean"));
        run_free(&r);
        r = CLI("--db", db, "-q", cmds[i], dir);
        expect_status(&r, 0, cmds[i]);
        run_free(&r);
    }
    free(dir);
    rm_tree(top);
    rm_tree(empty);
    free(db);
}

/* ------------------------------------------------------------ your own database */

/* The recipes app of tests/sql/other_schema.sql: not Parthenon's schema. */
static const char *const other_schema[] = {FKT_SQL_DIR "/other_schema.sql", NULL};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The entity of type `type` in a registry document, or NULL. */
static const cJSON *entity_of(const cJSON *reg, const char *type)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, jget(reg, "entities"))
    {
        if (strcmp(jstr(e, "type"), type) == 0)
            return e;
    }
    return NULL;
}

/* Every string of the array at path, joined by '\n' (for strstr). */
static char *joined(const cJSON *o, const char *path)
{
    size_t len = 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, jget(o, path)) len += strlen(it->valuestring) + 1;
    char *s = calloc(1, len);
    cJSON_ArrayForEach(it, jget(o, path))
    {
        strcat(s, it->valuestring);
        strcat(s, "\n");
    }
    return s;
}

static void expect_in(const char *text, const char *what, const char *where)
{
    if (!strstr(text, what))
        fail_msg("%s: \"%s\" not in:\n%s", where, what, text);
}

/* registry init on the recipes app: the guesses the conventions promise,
 * each explained in a note; the left-out tables and why; the failures. */
static void registry_init_proposes_and_explains(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, other_schema);
    run r = CLI("--db", db, "--json", "registry", "init", "--schema-filter", "kitchen");
    expect_status(&r, 0, "registry init");
    cJSON *d = doc_of(&r, "registry init");
    const cJSON *reg = jget(d, "data/registry");
    assert_true(cJSON_IsNull(jget(d, "data/file")));
    assert_string_equal(jstr(reg, "format"), "fortknox-registry");
    assert_int_equal(cJSON_GetArraySize(jget(reg, "entities")), 1); /* staging: filtered out */
    const cJSON *e = entity_of(reg, "recipe");
    assert_non_null(e);
    static const char *const want[][2] = {
        {"table", "kitchen.recipes"},     {"directory", "recipes"},
        {"primary_key", "id"},            {"name_column", "title"},
        {"soft_delete_column", "deleted_at"}, {"author_column", "created_by"},
        {"users/table", "kitchen.users"}, {"users/email_column", "email"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(jstr(strncmp(want[i][0], "users", 5) ? e : reg, want[i][0]),
                            want[i][1]);
    assert_int_equal(cJSON_GetArraySize(jget(e, "secret_columns")), 1);
    assert_string_equal(cJSON_GetArrayItem(jget(e, "secret_columns"), 0)->valuestring,
                        "share_secret");
    assert_string_equal(cJSON_GetArrayItem(jget(e, "self_references"), 0)->valuestring,
                        "variant_of");
    const cJSON *children = jget(e, "children");
    assert_int_equal(cJSON_GetArraySize(children), 2); /* ratings: no cascade, no child */
    static const char *const keys[][2] = {{"ingredients", "kitchen.recipe_ingredients"},
                                          {"steps", "kitchen.recipe_steps"}};
    for (int i = 0; i < 2; i++) {
        const cJSON *c = cJSON_GetArrayItem(children, i);
        assert_string_equal(jstr(c, "key"), keys[i][0]);
        assert_string_equal(jstr(c, "table"), keys[i][1]);
        assert_string_equal(jstr(c, "foreign_key"), "recipe_id");
        char *n = joined(c, "notes");
        expect_in(n, "ON DELETE CASCADE", "child notes");
        free(n);
    }
    /* a note on every guess */
    char *n = joined(e, "notes");
    static const char *const said[] = {"soft-delete column deleted_at", "name_column: title",
                                       "author_column: created_by", "secret_columns: share_secret",
                                       "self_references: variant_of"};
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++)
        expect_in(n, said[i], "entity notes");
    free(n);
    n = joined(reg, "notes");
    static const char *const left[] = {"kitchen.comments", "integer primary key",
                                       "kitchen.ratings", "without ON DELETE CASCADE",
                                       "kitchen.newsletters.is_deleted"};
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        expect_in(n, left[i], "top-level notes");
    free(n);
    n = joined(reg, "users/notes");
    expect_in(n, "password_hash", "users notes"); /* listed, though never exported */
    free(n);
    cJSON_Delete(d);
    run_free(&r);

    /* every schema; --table adds a table without a soft-delete column */
    r = CLI("--db", db, "--json", "registry", "init", "--table", "kitchen.meal_plans");
    expect_status(&r, 0, "registry init --table");
    d = doc_of(&r, "registry init");
    reg = jget(d, "data/registry");
    assert_int_equal(cJSON_GetArraySize(jget(reg, "entities")), 3);
    assert_non_null(entity_of(reg, "import")); /* staging.imports */
    e = entity_of(reg, "meal_plan");
    assert_string_equal(jstr(e, "author_column"), "owner_id");
    assert_null(jget(e, "soft_delete_column"));
    assert_string_equal(jstr(cJSON_GetArrayItem(jget(e, "children"), 0), "key"), "entries");
    cJSON_Delete(d);
    run_free(&r);

    /* human: the proposal on stdout (as -o writes it), the guesses on stderr */
    char *dir = fkt_tempdir_or_fail("fk-cli-reg");
    char *file = path_in(dir, "registry.json");
    r = CLI("--db", db, "registry", "init", "--schema-filter", "kitchen");
    expect_status(&r, 0, "registry init to stdout");
    expect_in(r.err, "share_secret looks like a secret", "stderr");
    run p = CLI("--db", db, "registry", "init", "--schema-filter", "kitchen", "-o", file);
    expect_status(&p, 0, "registry init -o");
    char *text = fkt_slurp(file, NULL);
    assert_string_equal(text, r.out);
    expect_in(p.out, "share_secret", "stdout with -o");
    expect_in(p.out, "registry check", "stdout with -o");
    run_free(&p);
    run_free(&r);
    /* an existing file is kept without --force */
    r = CLI("--db", db, "registry", "init", "--table", "kitchen.meal_plans", "-o", file);
    expect_status(&r, 3, "registry init over a file");
    expect_in(r.err, "--force", "refusal");
    char *again = fkt_slurp(file, NULL);
    assert_string_equal(again, text);
    free(again);
    run_free(&r);
    r = CLI("--db", db, "-q", "registry", "init", "--table", "kitchen.meal_plans", "-o", file,
            "--force");
    expect_status(&r, 0, "registry init --force");
    assert_string_equal(r.out, "");
    again = fkt_slurp(file, NULL);
    expect_in(again, "kitchen.meal_plans", "replaced file");
    free(again);
    run_free(&r);
    free(text);

    /* what cannot be proposed: cases x exit status and what the message says */
    char *empty = fkt_pg_new_db(pg, (const char *const[]){NULL});
    assert_int_equal(fkt_pg_exec(empty, "CREATE TABLE public.notes (id serial PRIMARY KEY, "
                                        "body text)"),
                     0);
    static const struct {
        int empty_db;
        const char *args[3];
        int status;
        const char *says;
    } bad[] = {
        {0, {"--table", "kitchen.nope"}, 3, "kitchen.nope does not exist"},
        {0, {"--table", "kitchen.comments"}, 3, "integer primary key"},
        {0, {"--table", "meal_plans"}, 2, "SCHEMA.TABLE"},
        {0, {"--schema-filter", "nosuch"}, 3, "schema nosuch"},
        {0, {"--schema-filter", "public"}, 3, "no table"},
        {1, {NULL}, 3, "--table SCHEMA.TABLE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[10] = {"--db", bad[i].empty_db ? empty : db, "registry", "init"};
        for (int k = 0; k < 3 && bad[i].args[k]; k++)
            args[4 + k] = bad[i].args[k];
        r = cli_v(NULL, NULL, args);
        char what[64];
        snprintf(what, sizeof what, "bad init case %zu", i);
        expect_status(&r, bad[i].status, what);
        expect_in(r.err, bad[i].says, what);
        assert_string_equal(r.out, "");
        run_free(&r);
    }
    free(empty);
    free(file);
    rm_tree(dir);
    free(db);
}

/* On Parthenon's schema the conventions find Parthenon's own registry: every
 * type of docs/parthenon-registry.json, with its table, directory, name,
 * soft-delete, author, secret and self-reference columns and its children's
 * keys (the proposal may hold more: app.sources has a deleted_at). */
static void registry_init_finds_the_parthenon_registry(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_only);
    run r = CLI("--db", db, "--json", "registry", "init");
    expect_status(&r, 0, "registry init on Parthenon");
    cJSON *d = doc_of(&r, "registry init");
    const cJSON *got = jget(d, "data/registry");
    char *text = fkt_slurp(FKT_SOURCE_ROOT "/docs/parthenon-registry.json", NULL);
    cJSON *builtin = cJSON_Parse(text);
    assert_non_null(builtin);
    assert_string_equal(jstr(got, "users/table"), jstr(builtin, "users/table"));
    const cJSON *want;
    cJSON_ArrayForEach(want, jget(builtin, "entities"))
    {
        const cJSON *e = entity_of(got, jstr(want, "type"));
        if (!e)
            fail_msg("type %s not proposed", jstr(want, "type"));
        static const char *const keys[] = {"table", "directory", "primary_key", "name_column",
                                           "soft_delete_column", "author_column"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            assert_string_equal(jstr(e, keys[k]), jstr(want, keys[k]));
        static const char *const lists[] = {"secret_columns", "self_references"};
        for (size_t k = 0; k < 2; k++) {
            char *a = joined(e, lists[k]), *b = joined(want, lists[k]);
            assert_string_equal(a, b);
            free(a);
            free(b);
        }
        const cJSON *wc;
        assert_int_equal(cJSON_GetArraySize(jget(e, "children")),
                         cJSON_GetArraySize(jget(want, "children")));
        cJSON_ArrayForEach(wc, jget(want, "children"))
        {
            int found = 0;
            const cJSON *gc;
            cJSON_ArrayForEach(gc, jget(e, "children"))
            {
                found |= strcmp(jstr(gc, "key"), jstr(wc, "key")) == 0 &&
                         strcmp(jstr(gc, "table"), jstr(wc, "table")) == 0 &&
                         strcmp(jstr(gc, "foreign_key"), jstr(wc, "foreign_key")) == 0;
            }
            if (!found)
                fail_msg("%s: child %s not proposed", jstr(want, "type"), jstr(wc, "key"));
        }
    }
    cJSON_Delete(builtin);
    free(text);
    cJSON_Delete(d);
    run_free(&r);
    free(db);
}

/* Names a registry must quote, and one it cannot hold: the proposal still
 * parses, checks, installs and exports; the dotted table is left out, noted. */
static void registry_init_odd_names(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, (const char *const[]){NULL});
    assert_int_equal(
        fkt_pg_exec(db, "CREATE SCHEMA \"Odd Schema\";"
                        "CREATE TABLE \"Odd Schema\".\"Chef's \"\"Specials\"\"\" (id serial PRIMARY "
                        "KEY, \"Title\" text, deleted_at timestamptz);"
                        "CREATE TABLE \"Odd Schema\".\"Chef's \"\"Specials\"\"_items\" (id serial "
                        "PRIMARY KEY, special_id int REFERENCES \"Odd Schema\".\"Chef's "
                        "\"\"Specials\"\"\" ON DELETE CASCADE, what text);"
                        "CREATE TABLE public.\"dot.ted\" (id serial PRIMARY KEY, deleted_at "
                        "timestamptz);"
                        "CREATE TABLE public.U&\"evil\\001b[2Jname\" (id serial PRIMARY KEY, "
                        "deleted_at timestamptz);"
                        "INSERT INTO \"Odd Schema\".\"Chef's \"\"Specials\"\"\" (\"Title\") VALUES "
                        "('Soup / of the day');"
                        "INSERT INTO \"Odd Schema\".\"Chef's \"\"Specials\"\"_items\" (special_id, "
                        "what) VALUES (1, 'bread')"),
        0);
    char *dir = fkt_tempdir_or_fail("fk-cli-reg");
    char *file = path_in(dir, "odd.json"), *fixtures = path_in(dir, "fixtures");
    run r = CLI("--db", db, "-q", "registry", "init", "-o", file);
    expect_status(&r, 0, "init");
    run_free(&r);
    /* a name with an escape sequence reaches no terminal raw */
    r = CLI("--db", db, "registry", "init");
    expect_status(&r, 0, "init to stdout");
    expect_in(r.err, "evil?[2Jname", "the guesses");
    assert_null(strchr(r.err, 0x1b));
    assert_null(strchr(r.out, 0x1b));
    run_free(&r);
    char *text = fkt_slurp(file, NULL);
    expect_in(text, "\"table\": \"Odd Schema.Chef's \\\"Specials\\\"\"", "quoted name");
    expect_in(text, "dot.ted", "left-out note");
    assert_null(strstr(text, "\"table\": \"public.dot.ted\""));
    free(text);
    static const char *const cmds[][3] = {
        {"registry", "check", NULL}, {"install", NULL, NULL}, {"export", "@", NULL},
        {"verify", "@", NULL}};
    for (int i = 0; i < 4; i++) {
        const char *args[8] = {"--db", db, "--registry", file, cmds[i][0],
                               cmds[i][1] && strcmp(cmds[i][1], "@") == 0 ? fixtures : cmds[i][1]};
        r = cli_v(NULL, NULL, args);
        expect_status(&r, 0, cmds[i][0]);
        run_free(&r);
    }
    free(fixtures);
    free(file);
    rm_tree(dir);
    free(db);
}

/* registry check names every problem of a file, each once, and exits 1;
 * a file it cannot read is exit 3. */
static void registry_check_names_every_problem(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, other_schema);
    char *dir = fkt_tempdir_or_fail("fk-cli-reg");
    char *file = path_in(dir, "registry.json");
#define HEAD "{\"format\": \"fortknox-registry\", \"format_version\": 1, "
#define RECIPE(table, extra)                                                                    \
    "{\"type\": \"recipe\", \"table\": \"" table "\", \"name_column\": \"title\"" extra "}"
    static const struct {
        const char *title, *json;
        int status;
        const char *says[3];
    } cases[] = {
        {"fits", HEAD "\"entities\": [" RECIPE("kitchen.recipes", ", \"soft_delete_column\": "
                                                                   "\"deleted_at\"") "]}",
         0, {"fits this database",
             "kitchen.recipe_steps references kitchen.recipes ON DELETE CASCADE but is not in "
             "the registry"}},
        {"notes are ignored, everywhere",
         HEAD "\"notes\": [\"a\"], \"users\": {\"notes\": \"u\", \"table\": \"kitchen.users\"}, "
              "\"entities\": [" RECIPE("kitchen.recipes", ", \"notes\": [\"why\"], \"children\": "
              "[{\"notes\": [], \"key\": \"steps\", \"table\": \"kitchen.recipe_steps\", "
              "\"foreign_key\": \"recipe_id\"}]") "]}",
         0, {"1 child tables"}},
        {"missing table", HEAD "\"entities\": [" RECIPE("kitchen.recipez", "") "]}", 1,
         {"table kitchen.recipez", "does not exist", "1 problem"}},
        {"missing columns: each named",
         HEAD "\"entities\": [" RECIPE("kitchen.recipes", ", \"author_column\": \"writer\", "
              "\"secret_columns\": [\"pin\"], \"children\": [{\"key\": \"steps\", \"table\": "
              "\"kitchen.recipe_steps\", \"foreign_key\": \"recipe\"}]") "]}",
         1, {"column writer (author column)", "column pin (secret column)",
             "column recipe (foreign key to the parent)"}},
        {"integer key", HEAD "\"entities\": [{\"type\": \"comment\", \"table\": "
                             "\"kitchen.comments\", \"primary_key\": \"uid\", \"name_column\": "
                             "\"body\"}]}",
         1, {"must be an integer column"}},
        {"soft delete that is no timestamp",
         HEAD "\"entities\": [" RECIPE("kitchen.recipes", ", \"soft_delete_column\": "
                                                          "\"summary\"") "]}",
         1, {"not a timestamp or date"}},
        {"soft delete column to add (warning)",
         HEAD "\"entities\": [" RECIPE("kitchen.recipes", ", \"soft_delete_column\": "
                                                          "\"gone_at\"") "]}",
         0, {"--add-soft-delete"}},
        {"users table missing", HEAD "\"users\": {\"table\": \"kitchen.people\"}, \"entities\": ["
                                     RECIPE("kitchen.recipes", "") "]}",
         1, {"table kitchen.people (users table"}},
        {"malformed JSON", HEAD "\"entities\": [}", 1, {":1:"}},
        {"unknown key", HEAD "\"entities\": [" RECIPE("kitchen.recipes", ", \"nmae\": 1") "]}", 1,
         {"unknown key \"nmae\""}},
        {"notes that are no text", HEAD "\"notes\": 5, \"entities\": [" RECIPE("kitchen.recipes",
                                                                                "") "]}",
         1, {"notes must be a string or an array of strings"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(file, cases[i].json);
        run r = CLI("--db", db, "--verbose", "registry", "check", file);
        expect_status(&r, cases[i].status, cases[i].title);
        for (int k = 0; k < 3 && cases[i].says[k]; k++)
            if (!strstr(r.out, cases[i].says[k]) && !strstr(r.err, cases[i].says[k]))
                fail_msg("%s: \"%s\" not said:\n%s\n%s", cases[i].title, cases[i].says[k], r.out,
                         r.err);
        run_free(&r);
    }
    /* three problems at once: three items in the report */
    write_text(file, cases[3].json);
    run r = CLI("--db", db, "--json", "registry", "check", file);
    expect_status(&r, 1, "check --json");
    cJSON *d = doc_of(&r, "registry check");
    assert_string_equal(jstr(d, "status"), "FK_EVERIFY");
    assert_int_equal((int)jnum(d, "report/counters/problems"), 3);
    assert_true(has_item(d, "FK-REGISTRY"));
    cJSON_Delete(d);
    run_free(&r);
    /* no FILE: the registry in use, from FORTKNOX_REGISTRY; the built-in one does not fit */
    char env[600];
    snprintf(env, sizeof env, "FORTKNOX_REGISTRY=%s", file);
    write_text(file, cases[0].json);
    r = CLI_ENV(((const char *const[]){env, NULL}), "--db", db, "registry", "check");
    expect_status(&r, 0, "check FORTKNOX_REGISTRY");
    run_free(&r);
    r = CLI("--db", db, "registry", "check");
    expect_status(&r, 1, "check the built-in registry");
    expect_in(r.out, "app.cohort_definitions", "built-in");
    expect_in(r.out, "built-in Parthenon", "built-in");
    run_free(&r);
    r = CLI("--db", db, "registry", "check", "/nonexistent/registry.json");
    expect_status(&r, 3, "check a missing file");
    run_free(&r);
    free(file);
    rm_tree(dir);
    free(db);
}

/* A database of another application, as a newcomer meets it: every
 * command that needs the registry says which one is in use and how to
 * choose another; with `registry init` the whole story works: install,
 * export, a wipe, import, verify, drill. */
static void your_own_database_round_trip(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, other_schema);
    char *dir = fkt_tempdir_or_fail("fk-cli-reg");
    char *fixtures = path_in(dir, "fixtures"), *file = path_in(dir, "kitchen-registry.json");
    static const struct {
        const char *cmd;
        int dir, status;
    } wrong[] = {{"install", 0, 3}, {"export", 1, 1}, {"verify", 1, 3}, {"drill", 1, 3},
                 {"doctor", 0, 1}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        run r = cli_v(NULL, NULL, (const char *const[]){"--db", db, wrong[i].cmd,
                                                        wrong[i].dir ? fixtures : NULL, NULL});
        expect_status(&r, wrong[i].status, wrong[i].cmd);
        static const char *const says[] = {"another application's database",
                                           "the built-in Parthenon registry",
                                           "--registry FILE or FORTKNOX_REGISTRY",
                                           "fortknox registry init"};
        for (size_t k = 0; k < sizeof says / sizeof says[0]; k++)
            if (!strstr(r.err, says[k]) && !strstr(r.out, says[k]))
                fail_msg("%s: \"%s\" not said:\n%s\n%s", wrong[i].cmd, says[k], r.out, r.err);
        run_free(&r);
    }
    rm_tree(strdup(fixtures));

    char env_db[600], env_reg[600];
    snprintf(env_db, sizeof env_db, "FORTKNOX_DB=%s", db);
    snprintf(env_reg, sizeof env_reg, "FORTKNOX_REGISTRY=%s", file);
    const char *const env[] = {env_db, env_reg, NULL};
    static const struct {
        const char *args[6];
        int status;
        const char *says;
    } steps[] = {
        {{"-q", "registry", "init", "--schema-filter", "kitchen", "-o"}, 0, NULL},
        {{"registry", "check"}, 0, "fits this database"},
        {{"install"}, 0, NULL},
        {{"export", "@"}, 0, "exported 4 entities"},
        {{"verify", "@"}, 0, "identical"},
        {{"!wipe"}, 0, NULL},
        {{"verify", "@"}, 1, "4 only in"},
        {{"doctor", "--fixtures", "@"}, 1, "FK-LOSS"},
        {{"import", "@"}, 0, "4 created"},
        {{"verify", "@"}, 0, "identical"},
        {{"drill", "@"}, 0, "drill passed"},
        {{"export", "@"}, 0, "0 written"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const char *args[8] = {0};
        size_t n = 0;
        for (; n < 6 && steps[i].args[n]; n++)
            args[n] = strcmp(steps[i].args[n], "@") == 0 ? fixtures : steps[i].args[n];
        if (strcmp(args[0], "!wipe") == 0) { /* the override, as on purpose */
            assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('truncate'); "
                                             "TRUNCATE kitchen.recipes CASCADE; COMMIT"),
                             0);
            assert_int_equal(qnum(db, "SELECT count(*) FROM kitchen.recipe_steps"), 0);
            continue;
        }
        if (n == 6)
            args[n] = file; /* -o FILE */
        run r = cli_v(env, NULL, args);
        char what[128];
        snprintf(what, sizeof what, "step %zu (%s %s)", i, args[0], args[1] ? args[1] : "");
        expect_status(&r, steps[i].status, what);
        if (steps[i].says && !strstr(r.out, steps[i].says) && !strstr(r.err, steps[i].says))
            fail_msg("%s: \"%s\" not said:\n%s\n%s", what, steps[i].says, r.out, r.err);
        run_free(&r);
    }
    /* the data came back exactly: children, the self-reference, the secret left alone */
    assert_int_equal(qnum(db, "SELECT count(*) FROM kitchen.recipe_steps"), 8);
    assert_int_equal(qnum(db, "SELECT count(*) FROM kitchen.recipe_ingredients"), 5);
    assert_int_equal(qnum(db, "SELECT variant_of FROM kitchen.recipes WHERE id = 2"), 1);
    char *secret = fkt_q1(db, "SELECT coalesce(share_secret, 'none') FROM kitchen.recipes "
                              "WHERE id = 1");
    assert_string_equal(secret, "none"); /* never exported, so never restored */
    free(secret);
    char *fx = path_in(fixtures, "recipes/tomato-soup.json");
    char *doc = fkt_slurp(fx, NULL);
    assert_non_null(doc);
    assert_null(strstr(doc, "sh-1"));
    expect_in(doc, "\"steps\": [", "fixture");
    free(doc);
    free(fx);
    /* --registry wins over FORTKNOX_REGISTRY */
    run r = cli_v(env, NULL, (const char *const[]){"--registry", "/nonexistent/r.json", "verify",
                                                   fixtures, NULL});
    expect_status(&r, 3, "--registry over FORTKNOX_REGISTRY");
    expect_in(r.err, "/nonexistent/r.json", "--registry");
    run_free(&r);
    free(file);
    free(fixtures);
    rm_tree(dir);
    free(db);
}

/* One set of variable names for the CLI and PHP: FORTKNOX_DB; the old
 * FORTKNOX_DSN still works, with a warning. */
static void environment_variable_names(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char dsn[600], bad[600], good[600];
    snprintf(dsn, sizeof dsn, "FORTKNOX_DSN=%s", db);
    snprintf(good, sizeof good, "FORTKNOX_DB=%s", db);
    snprintf(bad, sizeof bad, "FORTKNOX_DSN=host=/nonexistent-fortknox dbname=x");
    static const char deprecated[] = "FORTKNOX_DSN is deprecated";
    run r = CLI("--db", db, "-q", "install");
    expect_status(&r, 0, "install");
    run_free(&r);
    r = CLI_ENV(((const char *const[]){dsn, NULL}), "audit", "verify");
    expect_status(&r, 0, "FORTKNOX_DSN alone");
    expect_in(r.err, deprecated, "FORTKNOX_DSN alone");
    expect_in(r.err, "use FORTKNOX_DB", "FORTKNOX_DSN alone");
    run_free(&r);
    r = CLI_ENV(((const char *const[]){good, bad, NULL}), "audit", "verify");
    expect_status(&r, 0, "FORTKNOX_DB over FORTKNOX_DSN");
    expect_in(r.err, "ignored", "both set");
    run_free(&r);
    r = CLI_ENV(((const char *const[]){good, NULL}), "audit", "verify");
    expect_status(&r, 0, "FORTKNOX_DB");
    assert_null(strstr(r.err, "deprecated"));
    run_free(&r);
    free(db);
}

static void registry_help_and_usage(void **state)
{
    (void)state;
    static const char *const helps[][3] = {{"registry", "init", "--help"},
                                           {"registry", "check", "-h"},
                                           {"registry", "--help", NULL}};
    for (int i = 0; i < 3; i++) {
        run r = cli_v(NULL, NULL, (const char *const[]){helps[i][0], helps[i][1], helps[i][2],
                                                        NULL});
        expect_status(&r, 0, helps[i][1]);
        expect_in(r.out, i == 1 ? "usage: fortknox registry check" : "usage: fortknox registry init",
                  "help");
        run_free(&r);
    }
    static const char *const usage[][5] = {
        {"registry", NULL}, {"registry", "frob", NULL}, {"registry", "init", "extra", NULL},
        {"registry", "check", "a", "b"}, {"registry", "init", "-o", NULL},
    };
    for (int i = 0; i < 5; i++) {
        run r = cli_v(NULL, NULL, usage[i]);
        expect_status(&r, 2, usage[i][1] ? usage[i][1] : "registry");
        expect_in(r.err, "usage: fortknox registry", "usage");
        run_free(&r);
    }
}

/* ------------------------------------------------------------ demo */

static void demo_runs_to_completion(void **state)
{
    (void)state;
    run r = CLI("--json", "demo");
    expect_status(&r, 0, "demo");
    cJSON *d = doc_of(&r, "demo");
    const cJSON *steps = jget(d, "data/steps");
    assert_int_equal(cJSON_GetArraySize(steps), 14);
    const char *const names[] = {"start",  "load",   "install", "export",
                                 "seeder_truncate", "migrate_fresh", "wipe",  "doctor",
                                 "import", "verify", "drill",   "audit_verify",
                                 "wipe_again", "restore_all"};
    for (int i = 0; i < 14; i++) {
        const cJSON *s = cJSON_GetArrayItem(steps, i);
        assert_string_equal(jstr(s, "name"), names[i]);
        if (!cJSON_IsTrue(jget(s, "as_expected")))
            fail_msg("step %s: %s", names[i], jstr(s, "message"));
    }
    assert_string_equal(jstr(cJSON_GetArrayItem(steps, 4), "status"), "FK_EGUARD");
    /* Laravel's migrate:fresh, refused by the DDL guard, with what it would destroy */
    assert_string_equal(jstr(cJSON_GetArrayItem(steps, 5), "status"), "FK_EGUARD");
    assert_non_null(strstr(jstr(cJSON_GetArrayItem(steps, 5), "message"),
                           "18 design entities in 15 registered tables"));
    assert_string_equal(jstr(cJSON_GetArrayItem(steps, 7), "status"), "FK_EVERIFY");
    assert_true(jnum(cJSON_GetArrayItem(steps, 7), "report/errors") > 0);
    /* the last wipe undone from the audit log alone, every entity identical */
    assert_true(jnum(cJSON_GetArrayItem(steps, 13), "report/counters/reinserted") > 0);
    assert_non_null(strstr(jstr(cJSON_GetArrayItem(steps, 13), "message"), "is identical to"));
    const char *fixtures = jstr(d, "data/fixtures");
    struct stat st;
    assert_int_not_equal(stat(fixtures, &st), 0); /* nothing left behind */
    assert_true(cJSON_IsFalse(jget(d, "data/kept")));
    cJSON_Delete(d);
    run_free(&r);
}

static void demo_keep_waits_for_a_signal(void **state)
{
    (void)state;
    char out[] = "/tmp/fk-cli-demo-out-XXXXXX", err[] = "/tmp/fk-cli-demo-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err);
    close(fo);
    close(fe);
    pid_t pid = spawn(out, err, (const char *const[]){"demo", "--keep", NULL});
    if (wait_for(out, "--keep: the cluster runs", 60000) < 0)
        fail_msg("demo --keep: %s", fkt_slurp(err, NULL));
    char *text = fkt_slurp(out, NULL);
    const char *ci = strstr(text, "FORTKNOX_DB=\"");
    assert_non_null(ci);
    ci += strlen("FORTKNOX_DB=\"");
    char conninfo[400];
    snprintf(conninfo, sizeof conninfo, "%.*s", (int)strcspn(ci, "\""), ci);
    free(text);
    /* the kept cluster answers, with the story's result in it */
    run r = CLI("--db", conninfo, "--json", "audit", "verify");
    expect_status(&r, 0, "audit verify on the kept cluster");
    run_free(&r);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid, 30000), 0);
    r = CLI("--db", conninfo, "audit", "verify");
    expect_status(&r, 3, "the cluster is gone after the signal");
    run_free(&r);
    unlink(out);
    unlink(err);
}

int main(void)
{
    cli_path = fkt_cli_path();
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors_print_help_and_exit_2),
        cmocka_unit_test(every_command_has_help),
        cmocka_unit_test(input_errors_are_usage_errors_that_teach),
        cmocka_unit_test(failures_exit_3_and_never_show_the_password),
        cmocka_unit_test(install_export_verify),
        cmocka_unit_test(import_dry_run_and_bad_fixture),
        cmocka_unit_test(import_unknown_keys),
        cmocka_unit_test(drift_is_refused_or_mapped),
        cmocka_unit_test(drill_passes_and_fails),
        cmocka_unit_test(doctor_finds_the_loss),
        cmocka_unit_test(audit_log_verify_and_tamper),
        cmocka_unit_test(audit_log_diff),
        cmocka_unit_test(restore_from_the_audit_log),
        cmocka_unit_test(snapshot_commits_only_the_fixtures),
        cmocka_unit_test(snapshot_git_checks_the_identity_first),
        cmocka_unit_test(watch_keeps_the_files_current),
        cmocka_unit_test(export_does_not_launder_a_loss),
        cmocka_unit_test(export_stops_at_a_sudden_drop),
        cmocka_unit_test(snapshot_does_not_commit_a_loss),
        cmocka_unit_test(watch_raises_the_alarm_and_stops_committing),
        cmocka_unit_test(watch_loses_nothing_committed_during_a_git_commit),
        cmocka_unit_test(watch_exits_3_when_the_last_commit_fails),
        cmocka_unit_test(verify_and_drill_refuse_what_is_no_fixture_directory),
        cmocka_unit_test(registry_init_proposes_and_explains),
        cmocka_unit_test(registry_init_finds_the_parthenon_registry),
        cmocka_unit_test(registry_init_odd_names),
        cmocka_unit_test(registry_check_names_every_problem),
        cmocka_unit_test(your_own_database_round_trip),
        cmocka_unit_test(environment_variable_names),
        cmocka_unit_test(registry_help_and_usage),
        cmocka_unit_test(demo_runs_to_completion),
        cmocka_unit_test(demo_keep_waits_for_a_signal),
    };
    if (getenv("FKT_ONLY")) /* while iterating: one test, e.g. FKT_ONLY=export* */
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
