/* Every command against every damaged database (issue 13).
 *
 * A table of states (a registered table dropped, renamed or moved; columns
 * dropped, renamed or retyped; the library's schema, install record or chain
 * head gone; an empty database; a design table locked by another session)
 * times commands (doctor, audit verify, export, verify, drill, import,
 * install, restore, audit log), each cell the expected exit status and a
 * fragment of what the command must say. The built CLI runs against a real
 * server: no cell may crash (a signal) or hang (a deadline kills it), every
 * --json run prints one document, and no command but a successful export
 * touches the fixture directory (the others may append a newer chain head
 * to its witness, but no damage here makes the chain grow).
 *
 * docs/recovery.md holds the same table, written from this one: when they
 * differ the test fails and prints the table to paste. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cJSON.h>
#include <fortknox.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fkt.h"

#define RECOVERY_MD FKT_SQL_DIR "/../../docs/recovery.md"
#define BEGIN_MARK "<!-- damaged-states:begin (written by tests/test_damaged.c) -->\n"
#define END_MARK "<!-- damaged-states:end -->\n"

/* A cell runs well under a second; this only turns a hang into a failure. */
#define DEADLINE_S 120

static fkt_pg *pg;
static const char *cli_path;

typedef struct command {
    const char *title;      /* column heading */
    const char *args[6];    /* after --db DB --json; "DIR" is the fixture directory */
} command;

/* Read-only commands first; import, restore and install change the database
 * (install last: it repairs what it can). */
static const command commands[] = {
    {"doctor", {"doctor"}},
    {"doctor --fixtures", {"doctor", "--fixtures", "DIR"}},
    {"audit verify", {"audit", "verify"}},
    {"audit verify --anchor", {"audit", "verify", "--anchor", "DIR"}},
    {"audit log", {"audit", "log", "--limit", "5"}},
    {"export", {"export", "DIR"}},
    {"verify", {"verify", "DIR"}},
    {"drill", {"drill", "DIR"}},
    {"import", {"import", "DIR"}},
    {"restore", {"restore", "cohort_definition:1001", "--as-of", "2100-01-01T00:00:00"}},
    {"install", {"install", "--capture"}},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* An expected outcome: exit status and a fragment of stdout or stderr. */
typedef struct cell {
    int status;
    const char *says;
} cell;

typedef struct state {
    const char *title;  /* row heading */
    const char *damage; /* SQL run after install, export and one audited edit */
    int lock;           /* another session holds ACCESS EXCLUSIVE on cohort_definitions */
    cell want[NCOMMANDS];
} dstate;

/* What the refusals and findings say */
#define GONE "does not exist"
#define NOT_INSTALLED "not installed"
#define LOCKED "app.cohort_definitions is locked"
#define HOLDER "fkt-migration" /* the application_name of the session holding the lock */
#define NO_COLUMN "is no column" /* import's refusal of a key without a column */
/* export writes every intact type and keeps the damaged type's files */
#define LOST {1, "FK-DAMAGED"}
/* export keeps the manifest's anchor when the audit row it names is gone */
#define ANCHOR_KEPT {1, "FK-TAMPER"}
/* verify checks the witness the export wrote: the chain it saw is gone */
#define WITNESS_BROKEN {1, "FK-TAMPER"}
#define OK {0, NULL}
/* doctor on a database whose protections are whole */
#define DOCTOR_OK OK
#define REFUSED(what) {3, what}

static const dstate states[] = {
    {"healthy (no damage)", "", 0,
     {DOCTOR_OK, DOCTOR_OK, OK, OK, OK, OK, OK, OK, OK, OK, OK}},
    {"entity table dropped (`DROP TABLE app.characterizations`)",
     "DROP TABLE app.characterizations", 0,
     {{1, "FK-SCHEMA"}, {1, "2 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), OK, REFUSED(GONE)}},
    {"child table dropped (`DROP TABLE app.concept_set_items`)",
     "DROP TABLE app.concept_set_items", 0,
     {{1, "FK-SCHEMA"}, {1, "3 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), OK, REFUSED(GONE)}},
    {"table renamed (`ALTER TABLE app.cohort_definitions RENAME TO cohorts`)",
     "ALTER TABLE app.cohort_definitions RENAME TO cohorts", 0,
     {{1, "FK-SCHEMA"}, {1, "5 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE)}},
    {"table moved (`ALTER TABLE app.cohort_definitions SET SCHEMA attic`)",
     "CREATE SCHEMA attic; ALTER TABLE app.cohort_definitions SET SCHEMA attic", 0,
     {{1, "FK-SCHEMA"}, {1, "5 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE)}},
    {"name column dropped (`cohort_definitions.name`)",
     "ALTER TABLE app.cohort_definitions DROP COLUMN name", 0,
     {{1, "FK-SCHEMA"}, {1, "5 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE)}},
    /* CASCADE: FK_capture_check_key's WHEN names the column */
    {"child's parent key dropped (`concept_set_items.concept_set_id`, `CASCADE`)",
     "ALTER TABLE app.concept_set_items DROP COLUMN concept_set_id CASCADE", 0,
     {{1, "FK-SCHEMA"}, {1, "3 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), OK, REFUSED(GONE)}},
    {"plain column dropped (`cohort_definitions.expression_json`)",
     "ALTER TABLE app.cohort_definitions DROP COLUMN expression_json", 0,
     {DOCTOR_OK, {1, "column expression_json"}, OK, OK, OK, {1, "column expression_json"},
      {1, "differs"}, REFUSED(NO_COLUMN), REFUSED(NO_COLUMN), REFUSED(NO_COLUMN), OK}},
    {"column renamed (`cohort_definitions.name` to `title`)",
     "ALTER TABLE app.cohort_definitions RENAME COLUMN name TO title", 0,
     {{1, "FK-SCHEMA"}, {1, "5 in the fixture manifest"}, OK, OK, OK, LOST,
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE), REFUSED(GONE)}},
    {"jsonb column retyped to text (`cohort_definitions.expression_json`)",
     "ALTER TABLE app.cohort_definitions ALTER COLUMN expression_json TYPE text", 0,
     {DOCTOR_OK, {1, "is text in the database"}, OK, OK, OK, {1, "is text in the database"},
      {1, "differs"},
      REFUSED("must be a string"), REFUSED("must be a string"), OK, OK}},
    /* PostgreSQL retypes no column a trigger's WHEN names: the key
     * triggers go first, as docs/recovery.md tells a migration to do */
    {"primary key retyped to text (`characterizations.id`, its key triggers dropped first)",
     "DROP TRIGGER \"FK_guard_key\" ON app.characterizations; DROP TRIGGER "
     "\"FK_capture_check_key\" ON app.characterizations; ALTER TABLE app.characterizations ALTER "
     "COLUMN id DROP DEFAULT, ALTER COLUMN id TYPE text",
     0,
     {{1, "FK-SCHEMA"}, {1, "2 in the fixture manifest"}, OK, OK, OK,
      {1, "must be an integer"}, REFUSED("must be an integer"),
      REFUSED("must be an integer"), REFUSED("must be an integer"), OK,
      REFUSED("must be an integer")}},
    {"users table renamed (`ALTER TABLE app.users RENAME TO people`)",
     "ALTER TABLE app.users RENAME TO people", 0,
     {{0, "FK-SCHEMA"}, {0, "FK-SCHEMA"}, OK, OK, OK,
      OK, OK, OK, OK, OK, OK}},
    {"library schema dropped (`DROP SCHEMA fortknox CASCADE`)", "DROP SCHEMA fortknox CASCADE", 0,
     {{1, "FK-NOT-INSTALLED"}, {1, "anchors audit row 1"}, REFUSED(NOT_INSTALLED),
      {1, "FK-TAMPER"}, REFUSED(NOT_INSTALLED), ANCHOR_KEPT, WITNESS_BROKEN, OK, OK, REFUSED(NOT_INSTALLED),
      OK}},
    {"install record deleted (`DELETE FROM fortknox.meta`)", "DELETE FROM fortknox.meta", 0,
     {{1, "FK-NOT-INSTALLED"}, {1, "anchors audit row 1"}, REFUSED(NOT_INSTALLED),
      {1, "FK-TAMPER"}, REFUSED(NOT_INSTALLED), ANCHOR_KEPT, WITNESS_BROKEN, OK, OK, REFUSED(NOT_INSTALLED),
      OK}},
    {"chain head row deleted (`DELETE FROM fortknox.audit_head`)",
     "ALTER TABLE fortknox.audit_head DISABLE TRIGGER fortknox_head_guard; DELETE FROM "
     "fortknox.audit_head; ALTER TABLE fortknox.audit_head ENABLE ALWAYS TRIGGER "
     "fortknox_head_guard",
     0,
     {{1, "FK-TAMPER"}, {1, "FK-TAMPER"}, {1, "FK-TAMPER"}, {1, "FK-TAMPER"}, OK, ANCHOR_KEPT,
      WITNESS_BROKEN, OK, OK, {1, "cannot be restored from"}, OK}},
    {"empty database (`DROP SCHEMA app, fortknox CASCADE`)", "DROP SCHEMA app, fortknox CASCADE",
     0,
     {{1, "FK-NOT-INSTALLED"}, {1, "5 in the fixture manifest"}, REFUSED(NOT_INSTALLED),
      {1, "FK-TAMPER"}, REFUSED(NOT_INSTALLED), LOST, REFUSED(GONE), REFUSED(GONE),
      REFUSED(GONE), REFUSED(GONE), REFUSED(GONE)}},
    {"guard enabled for replica sessions only (`ENABLE REPLICA TRIGGER \"FK_guard_delete\"`)",
     "ALTER TABLE app.cohort_definitions ENABLE REPLICA TRIGGER \"FK_guard_delete\"", 0,
     {{1, "FK-GUARD-DISABLED"}, {1, "FK-GUARD-DISABLED"}, OK, OK, OK, OK, OK, OK, OK, OK, OK}},
    {"child capture trigger dropped (`DROP TRIGGER \"FK_capture\" ON app.concept_set_items`)",
     "DROP TRIGGER \"FK_capture\" ON app.concept_set_items", 0,
     {{1, "FK-AUDIT-TRIGGER"}, {1, "FK-AUDIT-TRIGGER"}, OK, OK, OK, OK, OK, OK, OK, OK, OK}},
    {"rule on the audit table (`CREATE RULE … ON INSERT TO fortknox.audit_log DO INSTEAD NOTHING`)",
     "CREATE RULE swallow AS ON INSERT TO fortknox.audit_log DO INSTEAD NOTHING", 0,
     /* import's audit rows vanish without an error: only doctor sees why */
     {{1, "FK-RULE"}, {1, "FK-RULE"}, OK, OK, OK, OK, OK, OK, OK,
      REFUSED("cannot perform INSERT RETURNING"), OK}},
    {"entity changed unaudited (capture trigger disabled for the change)",
     "ALTER TABLE app.cohort_definitions DISABLE TRIGGER \"FK_capture\", DISABLE TRIGGER "
     "\"FK_capture_check\"; UPDATE app.cohort_definitions SET name = 'unseen' WHERE id = 1001; "
     "ALTER TABLE app.cohort_definitions ENABLE ALWAYS TRIGGER \"FK_capture\", ENABLE ALWAYS "
     "TRIGGER \"FK_capture_check\"", 0,
     {DOCTOR_OK, {1, "FK-UNTRACED"}, OK, OK, OK, OK, {1, "differs"}, OK, OK, OK, OK}},
    {"design table locked (another session: `LOCK app.cohort_definitions`, idle in transaction)",
     "", 1,
     {REFUSED(LOCKED), REFUSED(HOLDER), OK, OK, OK, REFUSED(HOLDER), REFUSED(LOCKED),
      REFUSED(HOLDER), REFUSED(LOCKED), REFUSED(HOLDER), REFUSED(LOCKED)}},
};
#define NSTATES (sizeof states / sizeof states[0])

/* ------------------------------------------------------------ running */

/* The damage is done as a superuser who switched the DDL guard off first
 * (fkt.h; the library's triggers stay as the state leaves them, so a state
 * can be a trigger's): what the commands must cope with is what is left. */
static int run_sql(const char *db, const char *sql)
{
    if (!*sql)
        return 0;
    size_t n = strlen(sql) + strlen(FKT_DDL_GUARD_BYPASSED("")) + 1;
    char *all = malloc(n);
    if (!all)
        return -1;
    snprintf(all, n, "BEGIN; %s%s; %sCOMMIT", FKT_DDL_GUARD_OFF, sql, FKT_DDL_GUARD_ON);
    int rc = fkt_pg_exec(db, all);
    free(all);
    return rc;
}

/* A hash of every file's path and content: "did anything touch the fixtures?" */
static char *tree_digest(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum",
             dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[200] = "";
    if (!fgets(buf, sizeof buf, p))
        buf[0] = '\0';
    assert_int_equal(pclose(p), 0);
    return strdup(buf);
}

/* One CLI run of a command; fails the test on a crash, a hang or a second
 * JSON document. */
static fkt_run run_command(const char *db, const char *dir, const command *c)
{
    /* in the valgrind pass the CLI runs under valgrind too: a memory error
     * in it is exit status 99, which no cell expects */
    static const char *const vg[] = {"--error-exitcode=99", "--leak-check=full",
                                     "--errors-for-leak-kinds=definite,indirect", "--quiet"};
    int under_vg = getenv("FORTKNOX_UNDER_VALGRIND") != NULL;
    const char *args[24];
    size_t n = 0;
    if (under_vg) {
        for (size_t i = 0; i < sizeof vg / sizeof vg[0]; i++)
            args[n++] = vg[i];
        args[n++] = cli_path;
    }
    const char *global[] = {"--db", db, "--json", "--lock-timeout", "1000"};
    for (size_t i = 0; i < 5; i++)
        args[n++] = global[i];
    for (size_t i = 0; i < 6 && c->args[i]; i++)
        args[n++] = strcmp(c->args[i], "DIR") == 0 ? dir : c->args[i];
    args[n] = NULL;
    fkt_run r = fkt_run_program(under_vg ? "valgrind" : cli_path, NULL, NULL, args,
                                DEADLINE_S);
    if (r.signal || r.timed_out || r.status < 0)
        fail_msg("%s: %s (signal %d)\n--- stdout:\n%s\n--- stderr:\n%s", c->title,
                 r.timed_out ? "hung: killed after the deadline" : "crashed", r.signal, r.out,
                 r.err);
    cJSON *doc = cJSON_Parse(r.out);
    if (!doc)
        fail_msg("%s: stdout is not one JSON document:\n%s\n--- stderr:\n%s", c->title, r.out,
                 r.err);
    cJSON_Delete(doc);
    return r;
}

/* A fresh database in the given state, with a fixture directory exported
 * from it before the damage; *locker holds the lock when the state says so. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static char *prepare(const dstate *s, char *dir, PGconn **locker)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    assert_non_null(mkdtemp(dir));
    /* one audited change before the export: the manifest anchors it, and
     * restore has a row to go back to */
    static const command install = {"install", {"install", "--capture"}},
                         export = {"export", {"export", "DIR"}};
    fkt_run r = run_command(db, dir, &install);
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'edited' "
                                 "WHERE id = 1001"),
                     0);
    r = run_command(db, dir, &export);
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    if (run_sql(db, s->damage) != 0)
        fail_msg("damaging (%s) failed: %s", s->title, s->damage);
    *locker = NULL;
    if (s->lock) {
        *locker = PQconnectdb(db);
        assert_int_equal(PQstatus(*locker), CONNECTION_OK);
        PGresult *res = PQexec(*locker, "SET application_name = 'fkt-migration'; BEGIN; LOCK "
                                        "TABLE app.cohort_definitions IN ACCESS EXCLUSIVE MODE");
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
    }
    return db;
}

static int says(const fkt_run *r, const char *fragment)
{
    return !fragment || strstr(r->out, fragment) || strstr(r->err, fragment);
}

/* What a run said, briefly: its error and the codes of its error items. */
static void print_outcome(const fkt_run *r)
{
    cJSON *d = cJSON_Parse(r->out);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(d, "error");
    printf("#   error: %.500s\n#   findings:", cJSON_IsString(err) ? err->valuestring : "-");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(d, "report"), "items"))
    {
        const cJSON *sev = cJSON_GetObjectItemCaseSensitive(it, "severity");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(it, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(it, "message");
        if (cJSON_IsString(sev) && strcmp(sev->valuestring, "error") == 0)
            printf("\n#     %s: %.300s", cJSON_IsString(code) ? code->valuestring : "?",
                   cJSON_IsString(msg) ? msg->valuestring : "");
    }
    printf("\n");
    cJSON_Delete(d);
}

/* The audit anchor line of a manifest, "" when it has none (malloc'd). */
static char *anchor_line(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/fortknox-manifest.json", dir);
    char *m = fkt_slurp(path, NULL), *line = NULL;
    const char *at = m ? strstr(m, "\"audit_chain_head\":") : NULL;
    line = strndup(at ? at : "", at ? strcspn(at, "\n") : 0);
    free(m);
    return line;
}

/* An export may move the anchor forward (a new chain head), never drop it:
 * whatever it found, a manifest that anchored a chain still does. */
static int anchor_kept(const char *before_dir, const char *after_dir)
{
    char *a = anchor_line(before_dir), *b = anchor_line(after_dir);
    int kept = strstr(a, "null") || !strstr(b, "null");
    free(a);
    free(b);
    return kept;
}

/* Runs one state's row; returns the number of cells that differ (each
 * printed), so one run shows every difference at once. */
static int run_state(const dstate *s)
{
    char dir[] = "/tmp/fk-damaged-XXXXXX";
    PGconn *locker;
    char *db = prepare(s, dir, &locker);
    /* every command starts from the fixtures as exported (a successful
     * export may rewrite them) */
    char pristine[sizeof dir + 9];
    snprintf(pristine, sizeof pristine, "%s.exported", dir);
    sh("cp -a '%s' '%s'", dir, pristine);
    int bad = 0;
    for (size_t c = 0; c < NCOMMANDS; c++) {
        sh("rm -rf '%s' && cp -a '%s' '%s'", dir, pristine, dir);
        char *before = tree_digest(dir);
        fkt_run r = run_command(db, dir, &commands[c]);
        char *after = tree_digest(dir);
        const cell *w = &s->want[c];
        int touched = strcmp(before, after) != 0;
        /* export writes what it can read even when it finds a loss (exit 1)
         * and keeps what it cannot: the loss and anchor cells say which */
        if (touched && !(strcmp(commands[c].title, "export") == 0 && r.status <= 1)) {
            printf("# %s / %s: changed the fixture directory (exit %d)\n", s->title,
                   commands[c].title, r.status);
            bad++;
        }
        if (strcmp(commands[c].title, "export") == 0 && !anchor_kept(pristine, dir)) {
            printf("# %s / %s: the manifest lost the audit anchor it had\n", s->title,
                   commands[c].title);
            bad++;
        }
        if (r.status != w->status || !says(&r, w->says)) {
            printf("# %s / %s: exit %d, want %d saying \"%s\"\n", s->title, commands[c].title,
                   r.status, w->status, w->says ? w->says : "");
            print_outcome(&r);
            bad++;
        }
        free(before);
        free(after);
        fkt_run_free(&r);
    }
    if (locker)
        PQfinish(locker);
    sh("rm -rf '%s' '%s'", dir, pristine);
    free(db);
    return bad;
}

static void every_command_in_every_damaged_state(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t s = 0; s < NSTATES; s++)
        bad += run_state(&states[s]);
    if (bad)
        fail_msg("%d cells differ from the table (listed above)", bad);
}

/* ------------------------------------------------------------ a lock taken mid-call */

static PGconn *hold_lock(const char *db, const char *table)
{
    PGconn *c = PQconnectdb(db);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SET application_name = 'fkt-migration'; BEGIN; LOCK TABLE %s IN ACCESS "
             "EXCLUSIVE MODE",
             table);
    PGresult *res = PQexec(c, sql);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    return c;
}

static void expect_blocked(fk_ctx *ctx, int rc, const char *call, const char *table)
{
    if (rc != FK_EDB || !strstr(fk_errmsg(ctx), "lock timeout") ||
        !strstr(fk_errmsg(ctx), table) || !strstr(fk_errmsg(ctx), "\"fkt-migration\"") ||
        !strstr(fk_errmsg(ctx), "by pid "))
        fail_msg("%s: rc %d, message: %s", call, rc, fk_errmsg(ctx));
}

/* A context with a short lock timeout on db, installed in capture mode;
 * dir (a mkdtemp template) becomes an empty directory. */
static fk_ctx *installed_ctx(const char *db, char *dir)
{
    assert_non_null(mkdtemp(dir));
    static const command install = {"install", {"install", "--capture"}};
    fkt_run r = run_command(db, dir, &install);
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    fk_ctx_options o;
    fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION);
    o.lock_timeout_ms = 300;
    fk_ctx *ctx;
    assert_int_equal(fk_open(&ctx, db, &o), FK_OK);
    return ctx;
}

/* The context is open (registry resolved) before the lock is taken, so the
 * wait happens inside the call's own transaction, which the lock timeout
 * aborts: the holder is still named, and the context stays usable. */
static void a_lock_inside_a_call_fails_naming_its_holder(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char dir[] = "/tmp/fk-damaged-XXXXXX";
    fk_ctx *ctx = installed_ctx(db, dir);
    fk_report *rep = NULL;
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK); /* verify needs fixtures */

    PGconn *locker = hold_lock(db, "app.cohort_definitions");
    expect_blocked(ctx, fk_doctor(&rep, ctx, NULL), "fk_doctor", "app.cohort_definitions");
    assert_null(rep);
    expect_blocked(ctx, fk_export(&rep, ctx, dir, NULL), "fk_export", "app.cohort_definitions");
    expect_blocked(ctx, fk_verify(&rep, ctx, dir, NULL), "fk_verify", "app.cohort_definitions");
    PQfinish(locker); /* ends its transaction: the lock is gone */

    locker = hold_lock(db, "fortknox.audit_log");
    expect_blocked(ctx, fk_audit_verify(&rep, ctx, NULL), "fk_audit_verify",
                   "fortknox.audit_log");
    PQfinish(locker);

    assert_int_equal(fk_audit_verify(&rep, ctx, NULL), FK_OK); /* usable again */
    fk_report_free(rep);
    fk_close(ctx);
    sh("rm -rf '%s'", dir);
    free(db);
}

/* A row lock names no relation in pg_locks' wait: the message used to say
 * the holder "could not be found", or named an unrelated session's lock. */
static void a_row_lock_names_its_holder(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char dir[] = "/tmp/fk-damaged-XXXXXX";
    fk_ctx *ctx = installed_ctx(db, dir);

    PGconn *unrelated = hold_lock(db, "app.sources"); /* "fkt-migration" */
    PGconn *holder = PQconnectdb(db);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    PGresult *res = PQexec(holder, "SET application_name = 'fkt-row-holder'; BEGIN;"
                                   " SELECT * FROM fortknox.audit_head FOR UPDATE");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    /* sealing waits for the chain head (writers do not: they take the
     * log's advisory lock) */
    assert_int_equal(fk_exec(ctx, "UPDATE app.cohort_definitions SET description = 'x' WHERE "
                                  "id = 1001"),
                     FK_OK);
    int rc = fk_audit_seal(NULL, ctx);
    const char *m = fk_errmsg(ctx);
    if (rc != FK_EDB || !strstr(m, "lock timeout") || !strstr(m, "\"audit_head\"") ||
        !strstr(m, "is locked (RowShareLock) by pid ") || !strstr(m, "\"fkt-row-holder\"") ||
        strstr(m, "could not be found") || (strstr(m, "app.sources") &&
                                             !strstr(m, "possibly: app.sources")))
        fail_msg("sealing: rc %d, message: %s", rc, m);
    PQfinish(holder);
    PQfinish(unrelated);
    assert_int_equal(fk_audit_seal(NULL, ctx), FK_OK);
    fk_close(ctx);
    sh("rm -rf '%s'", dir);
    free(db);
}

/* ------------------------------------------------------------ connecting */

/* Backend start-up reads pg_class: a session holding it made fk_open() and
 * every command wait forever before lock_timeout could apply. */
static void connecting_is_bounded(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    PGconn *locker = hold_lock(db, "pg_catalog.pg_class");
    fk_ctx_options o;
    fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION);
    assert_int_equal(o.connect_timeout_ms, FK_DEFAULT_CONNECT_TIMEOUT_MS);
    o.connect_timeout_ms = 1; /* rounded up: libpq waits 2 s */
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, db, &o), FK_EDB);
    assert_null(ctx);
    assert_non_null(strstr(fk_errmsg(NULL), "cannot connect"));
    o.connect_timeout_ms = -1;
    assert_int_equal(fk_open(&ctx, db, &o), FK_EINVAL);

    const char *args[] = {"--db", db, "--connect-timeout", "2000", "doctor", NULL};
    fkt_run r = fkt_run_program(cli_path, NULL, NULL, args, DEADLINE_S);
    assert_false(r.timed_out);
    if (r.status != 3 || !strstr(r.err, "cannot connect"))
        fail_msg("doctor: exit %d\n%s", r.status, r.err);
    fkt_run_free(&r);
    PQfinish(locker);
    free(db);
}

/* ------------------------------------------------------------ the documented table */

static void md_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
}

static char *markdown_table(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fputs("| state |", f);
    for (size_t c = 0; c < NCOMMANDS; c++)
        fprintf(f, " %s |", commands[c].title);
    fputs("\n| --- |", f);
    for (size_t c = 0; c < NCOMMANDS; c++)
        fputs(" --- |", f);
    fputc('\n', f);
    for (size_t s = 0; s < NSTATES; s++) {
        fputs("| ", f);
        md_escape(f, states[s].title);
        fputs(" |", f);
        for (size_t c = 0; c < NCOMMANDS; c++) {
            fprintf(f, " %d", states[s].want[c].status);
            if (states[s].want[c].says) {
                fputs(": ", f);
                md_escape(f, states[s].want[c].says);
            }
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    fclose(f);
    return buf;
}

static void recovery_md_has_the_table(void **state)
{
    (void)state;
    char *doc = fkt_slurp(RECOVERY_MD, NULL);
    assert_non_null(doc);
    char *table = markdown_table();
    const char *b = strstr(doc, BEGIN_MARK), *e = b ? strstr(b, END_MARK) : NULL;
    size_t n = strlen(table);
    int same = b && e && (size_t)(e - (b + strlen(BEGIN_MARK))) == n &&
               memcmp(b + strlen(BEGIN_MARK), table, n) == 0;
    if (!same) {
        /* TAP: every line a comment; the file holds it ready to paste */
        FILE *f = fopen("damaged-table.md", "w");
        if (f) {
            fprintf(f, "%s%s%s", BEGIN_MARK, table, END_MARK);
            fclose(f);
        }
        printf("# docs/recovery.md lacks the current table (also in damaged-table.md in the "
               "test's directory); paste between the markers:\n# ");
        for (const char *p = table; *p; p++)
            fputs(*p == '\n' && p[1] ? "\n# " : (char[]){*p, 0}, stdout);
        free(table);
        free(doc);
        fail_msg("docs/recovery.md differs from the table in tests/test_damaged.c");
    }
    free(table);
    free(doc);
}

int main(void)
{
    cli_path = fkt_cli_path();
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recovery_md_has_the_table),
        cmocka_unit_test(every_command_in_every_damaged_state),
        cmocka_unit_test(a_lock_inside_a_call_fails_naming_its_holder),
        cmocka_unit_test(a_row_lock_names_its_holder),
        cmocka_unit_test(connecting_is_bounded),
    };
    if (getenv("FKT_ONLY")) /* while iterating: one test, e.g. FKT_ONLY=connecting* */
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
