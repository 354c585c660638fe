/* The witness outside the database (issue 15, item 5).
 *
 * A table of states × commands. Each state starts the same way: capture
 * installed, one audited edit, an export (the manifest anchors that head,
 * the witness records it), two more audited edits, and a `verify` that
 * witnesses the newer head -- rows after the last anchor. Then a superuser
 * attacks the audit log the way issue 15 lists: the rows after the anchor
 * cut and the head fixed, a row after the anchor rewritten and the chain
 * re-hashed, the log wiped, the database restored from a dump taken at the
 * export. The attacker drops every event trigger and every trigger on the
 * audit tables first (and sets session_replication_role = replica), which a
 * superuser can always do, so the attack stays real whatever guards later
 * versions install. Every command that touches the audit log (export,
 * verify, doctor --fixtures, audit verify --anchor) must then fail with
 * FK-TAMPER, through the CLI (exit 1) and the library (FK_ETAMPER, doctor
 * FK_EVERIFY with an FK-TAMPER item), each from the same fixture directory,
 * and must leave the witness as it was. The anchor in the manifest alone
 * misses all of these but the wipe: the anchored row is intact.
 *
 * And the file itself: edited (a line that does not parse) or deleted (the
 * manifest anchors a head, so an export recorded one) is FK-TAMPER,
 * unreadable (not a regular file) is exit 3; a head that cannot be recorded
 * is a warning, not a failure; the file stays bounded however often it is
 * written; a manifest with a null anchor is never reported as anchored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fkt.h"

#define DEADLINE_S 120

static fkt_pg *pg;
static const char *cli_path;

typedef struct command {
    const char *title;
    const char *args[5]; /* after --db DB --json; "DIR" is the fixture directory */
} command;

enum { C_EXPORT, C_VERIFY, C_DOCTOR, C_AUDIT, NCOMMANDS };
static const command commands[NCOMMANDS] = {
    {"export", {"export", "DIR"}},
    {"verify", {"verify", "DIR"}},
    {"doctor", {"doctor", "--fixtures", "DIR"}},
    {"audit verify", {"audit", "verify", "--anchor", "DIR"}},
};

/* The superuser's way around every trigger: nothing installed can stop it
 * (and nothing but something outside the database can notice it). */
#define UNGUARD                                                                                   \
    "SET session_replication_role = replica;"                                                     \
    "DO $$ DECLARE t record; BEGIN"                                                               \
    " FOR t IN SELECT evtname FROM pg_event_trigger LOOP"                                         \
    "  EXECUTE format('DROP EVENT TRIGGER %%I', t.evtname); END LOOP;"                              \
    " FOR t IN SELECT tgname, tgrelid::regclass AS rel FROM pg_trigger WHERE NOT tgisinternal"     \
    "  AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'fortknox'::regnamespace)"  \
    "  LOOP"                                                                                      \
    "  EXECUTE format('DROP TRIGGER %%I ON %%s', t.tgname, t.rel); END LOOP; END $$;"
#define AUDIT "fortknox.audit_log"

typedef enum {
    S_CLEAN,
    S_CUT,
    S_REHASH,
    S_WIPE,
    S_FORGED,
    S_RESTORE,
    S_EDITED,
    S_DELETED,
    S_UNREADABLE,
} state_kind;

typedef struct wstate {
    const char *title;
    state_kind kind;
    int cli[NCOMMANDS];   /* exit status */
    int lib[NCOMMANDS];   /* status; doctor's FK_EVERIFY must carry FK-TAMPER */
    const char *says;     /* in every failing run's output */
} wstate;

#define TAMPERED {1, 1, 1, 1}, {FK_ETAMPER, FK_ETAMPER, FK_EVERIFY, FK_ETAMPER}, "FK-TAMPER"

static const wstate states[] = {
    {"clean", S_CLEAN, {0, 0, 0, 0}, {FK_OK, FK_OK, FK_OK, FK_OK}, NULL},
    {"rows after the anchor deleted, head fixed", S_CUT, TAMPERED},
    {"row after the anchor rewritten, chain re-hashed", S_REHASH, TAMPERED},
    {"audit log wiped (DROP SCHEMA fortknox CASCADE)", S_WIPE, TAMPERED},
    /* doctor refuses the record before its report is done (its manifest
     * check reads the install): FK_ETAMPER without a report */
    {"install record forged (the audit table named as \"x\")", S_FORGED, {1, 1, 1, 1},
     {FK_ETAMPER, FK_ETAMPER, FK_ETAMPER, FK_ETAMPER}, NULL},
    {"database restored from a dump taken at the export", S_RESTORE, TAMPERED},
    {"witness edited (a line that does not parse)", S_EDITED, TAMPERED},
    {"witness deleted (the manifest anchors a head)", S_DELETED, TAMPERED},
    {"witness unreadable (a directory)", S_UNREADABLE, {3, 3, 3, 3},
     {FK_EIO, FK_EIO, FK_EIO, FK_EIO}, "fortknox-witness"},
};
#define NSTATES (sizeof states / sizeof states[0])

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("failed: %s", cmd);
}

static void sql(const char *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql(const char *db, const char *fmt, ...)
{
    char q[4000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    if (fkt_pg_exec(db, q) != 0)
        fail_msg("SQL failed: %s", q);
}

static fkt_run cli_as(int json, const char *db, const char *dir, const char *const *cargs)
{
    const char *args[16];
    size_t n = 0;
    const char *global[] = {"--db", db, "--json"};
    for (size_t i = 0; i < (json ? 3u : 2u); i++)
        args[n++] = global[i];
    for (size_t i = 0; cargs[i] && i < 5; i++)
        args[n++] = strcmp(cargs[i], "DIR") == 0 ? dir : cargs[i];
    args[n] = NULL;
    fkt_run r = fkt_run_program(cli_path, NULL, NULL, args, DEADLINE_S);
    if (r.signal || r.timed_out || r.status < 0)
        fail_msg("%s: crashed or hung\n%s\n%s", cargs[0], r.out, r.err);
    return r;
}

static fkt_run cli(const char *db, const char *dir, const char *const *cargs)
{
    return cli_as(1, db, dir, cargs);
}

static void cli_ok(const char *db, const char *dir, const char *const *cargs)
{
    fkt_run r = cli(db, dir, cargs);
    if (r.status != 0)
        fail_msg("%s exited %d:\n%s\n%s", cargs[0], r.status, r.out, r.err);
    fkt_run_free(&r);
}

static void edit(const char *db, int n)
{
    sql(db, "UPDATE app.cohort_definitions SET description = 'edit %d' WHERE id = 1001", n);
}

/* Two audited changes that leave the entity as exported (after edit(db, 1)):
 * the chain grows, the fixtures still match. */
static void edit_and_back(const char *db, int n)
{
    edit(db, n);
    edit(db, 1);
}

static char *witness_path(const char *dir)
{
    char *p = malloc(PATH_MAX);
    snprintf(p, PATH_MAX, "%s/fortknox-witness", dir);
    return p;
}

/* The witness's text; "" when absent, "<not a file>" when it is something
 * else (the unreadable state makes it a directory). */
static char *slurp_witness(const char *dir)
{
    char *p = witness_path(dir), *s = NULL;
    struct stat st;
    if (stat(p, &st) == 0 && !S_ISREG(st.st_mode))
        s = strdup("<not a file>");
    else
        s = fkt_slurp(p, NULL);
    free(p);
    return s ? s : strdup("");
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A new database with capture installed and one audited edit, exported to
 * the new directory dir (a mkdtemp template): the manifest anchors that
 * head and the witness records it. Returns the conninfo. */
static char *exported(char *dir)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    assert_non_null(mkdtemp(dir));
    cli_ok(db, dir, (const char *const[]){"install", "--capture", NULL});
    edit(db, 1);
    cli_ok(db, dir, commands[C_EXPORT].args);
    return db;
}

/* A database in the state, and *dir the fixture directory as the commands
 * before the attack left it. Returns the conninfo to run the commands on. */
static char *prepare(const wstate *s, char *dir)
{
    char *db = exported(dir);
    char *anchor = fkt_q1(db, "SELECT last_id FROM fortknox.audit_head");
    char dump[PATH_MAX + 8], bindir[PATH_MAX];
    snprintf(dump, sizeof dump, "%s.dump", dir);
    if (s->kind == S_RESTORE) {
        assert_int_equal(fkt_pg_bindir(bindir, sizeof bindir), 0);
        sh("'%s/pg_dump' -Fc -f '%s' '%s'", bindir, dump, db);
    }
    edit_and_back(db, 2);
    cli_ok(db, dir, commands[C_VERIFY].args); /* witnesses a head after the anchor */
    char *w = slurp_witness(dir);
    assert_int_equal(lines(w), 3); /* header, export's head, verify's head */
    free(w);
    switch (s->kind) {
    case S_CLEAN:
        break;
    case S_CUT:
        sql(db, UNGUARD "DELETE FROM " AUDIT " WHERE id > %s; UPDATE fortknox.audit_head SET"
                        " last_id = %s, last_hash = (SELECT row_hash FROM " AUDIT " WHERE id = %s)",
            anchor, anchor, anchor);
        break;
    case S_REHASH:
        sql(db, UNGUARD
            "UPDATE " AUDIT " SET actor_email = 'mallory@example.org' WHERE id = (SELECT min(id)"
            " FROM " AUDIT " WHERE id > %s);"
            "DO $$ DECLARE r record; BEGIN"
            " FOR r IN SELECT id FROM " AUDIT " WHERE id > %s ORDER BY id LOOP"
            "  UPDATE " AUDIT " a SET prev_hash = (SELECT row_hash FROM " AUDIT " p WHERE p.id <"
            "   r.id ORDER BY p.id DESC LIMIT 1) WHERE a.id = r.id;"
            "  UPDATE " AUDIT " a SET row_hash = fortknox.row_hash(a) WHERE a.id = r.id;"
            " END LOOP;"
            " UPDATE fortknox.audit_head SET (last_id, last_hash) = (SELECT id, row_hash FROM "
            AUDIT " ORDER BY id DESC LIMIT 1); END $$",
            anchor, anchor);
        /* the attack is only worth testing if the chain adds up again */
        {
            fk_ctx *ctx;
            assert_int_equal(fk_open(&ctx, db, NULL), FK_OK);
            assert_int_equal(fk_audit_verify(NULL, ctx, NULL), FK_OK);
            fk_close(ctx);
        }
        break;
    case S_WIPE:
        sql(db, UNGUARD "DROP SCHEMA fortknox CASCADE");
        break;
    case S_FORGED:
        sql(db, UNGUARD "UPDATE fortknox.meta SET value = 'x' WHERE key = 'audit_table'");
        break;
    case S_RESTORE: {
        char *fresh = fkt_pg_new_db(pg, NULL);
        assert_non_null(fresh);
        sh("'%s/pg_restore' --no-owner -d '%s' '%s' 2>/dev/null || true", bindir, fresh, dump);
        char *head = fkt_q1(fresh, "SELECT last_id FROM fortknox.audit_head");
        assert_string_equal(head, anchor); /* the dump's chain, as it was at the export */
        free(head);
        unlink(dump);
        free(db);
        db = fresh;
        break;
    }
    case S_EDITED: {
        char *p = witness_path(dir);
        sh("echo 'not a witness line' >> '%s'", p);
        free(p);
        break;
    }
    case S_DELETED: {
        char *p = witness_path(dir);
        sh("rm '%s'", p);
        free(p);
        break;
    }
    case S_UNREADABLE: {
        char *p = witness_path(dir);
        sh("rm '%s' && mkdir '%s'", p, p);
        free(p);
        break;
    }
    }
    free(anchor);
    return db;
}

static int says(const fkt_run *r, const char *fragment)
{
    return !fragment || strstr(r->out, fragment) || strstr(r->err, fragment);
}

static char lib_msg[600]; /* the last library run's message, for a failing cell */

static int lib_run(int c, const char *db, const char *dir, fk_report **rep)
{
    fk_ctx *ctx;
    assert_int_equal(fk_open(&ctx, db, NULL), FK_OK);
    int rc;
    switch (c) {
    case C_EXPORT:
        rc = fk_export(rep, ctx, dir, NULL);
        break;
    case C_VERIFY:
        rc = fk_verify(rep, ctx, dir, NULL);
        break;
    case C_DOCTOR: {
        fk_doctor_options o;
        fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
        o.fixture_dir = dir;
        rc = fk_doctor(rep, ctx, &o);
        break;
    }
    default:
        rc = fk_audit_verify(rep, ctx, dir);
    }
    snprintf(lib_msg, sizeof lib_msg, "%s", fk_errmsg(ctx));
    fk_close(ctx);
    return rc;
}

static int has_item(const fk_report *r, const char *code)
{
    for (size_t i = 0; r && i < fk_report_item_count(r); i++)
        if (strcmp(fk_report_item_at(r, i)->code, code) == 0)
            return 1;
    return 0;
}

/* One state's row, CLI and library, every command from the same fixture
 * directory; the number of cells that differ (each printed). */
static int run_state(const wstate *s)
{
    char dir[] = "/tmp/fk-witness-XXXXXX";
    char *db = prepare(s, dir);
    char pristine[sizeof dir + 10];
    snprintf(pristine, sizeof pristine, "%s.attacked", dir);
    sh("cp -a '%s' '%s'", dir, pristine);
    char *before = slurp_witness(pristine);
    int bad = 0;
    for (int c = 0; c < NCOMMANDS; c++) {
        for (int lib = 0; lib < 2; lib++) {
            sh("rm -rf '%s' && cp -a '%s' '%s'", dir, pristine, dir);
            int got, want = lib ? s->lib[c] : s->cli[c], ok;
            fkt_run r = {0};
            fk_report *rep = NULL;
            if (lib) {
                got = lib_run(c, db, dir, &rep);
                ok = got == want && (want != FK_EVERIFY || has_item(rep, "FK-TAMPER"));
            } else {
                r = cli(db, dir, commands[c].args);
                got = r.status;
                ok = got == want && (want == 0 || says(&r, s->says));
            }
            if (!ok) {
                printf("# %s / %s (%s): got %d, want %d%s%s\n", s->title, commands[c].title,
                       lib ? "library" : "CLI", got, want, "\n", lib ? lib_msg : r.out);
                bad++;
            }
            /* a failed check never writes the witness; a passed one appends */
            char *after = slurp_witness(dir);
            if (want != 0 && s->kind != S_UNREADABLE && strcmp(before, after) != 0) {
                printf("# %s / %s (%s): the witness changed after a failed check\n", s->title,
                       commands[c].title, lib ? "library" : "CLI");
                bad++;
            }
            if (want == 0 && strncmp(before, after, strlen(before)) != 0) {
                printf("# %s / %s (%s): the witness lost lines\n", s->title, commands[c].title,
                       lib ? "library" : "CLI");
                bad++;
            }
            free(after);
            fk_report_free(rep);
            fkt_run_free(&r);
        }
    }
    free(before);
    sh("rm -rf '%s' '%s'", dir, pristine);
    free(db);
    return bad;
}

static void every_command_in_every_state(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t s = 0; s < NSTATES; s++)
        bad += run_state(&states[s]);
    if (bad)
        fail_msg("%d cells differ (listed above)", bad);
}

/* Every passing command records the head it saw, once: the file grows only
 * when the chain did (a cron job's verify makes no git noise). */
static void each_command_records_a_new_head_once(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-witness-rec-XXXXXX";
    char *db = exported(dir);
    for (int c = 0; c < NCOMMANDS; c++) {
        edit_and_back(db, c + 10);
        char *before = slurp_witness(dir);
        cli_ok(db, dir, commands[c].args);
        char *once = slurp_witness(dir);
        cli_ok(db, dir, commands[c].args);
        char *twice = slurp_witness(dir);
        char *head = fkt_q1(db, "SELECT last_id || ' ' || last_hash FROM fortknox.audit_head");
        size_t nb = strlen(before);
        assert_int_equal(strncmp(before, once, nb), 0);
        /* the new line names the command and the head */
        const char *line = once + nb;
        char want_cmd[40];
        snprintf(want_cmd, sizeof want_cmd, " %s ",
                 c == C_AUDIT ? "audit-verify" : commands[c].args[0]);
        if (!strstr(line, want_cmd) || !strstr(line, head))
            fail_msg("%s recorded \"%s\", want the command and head %s", commands[c].title, line,
                     head);
        assert_string_equal(once, twice);
        free(before);
        free(once);
        free(twice);
        free(head);
    }
    sh("rm -rf '%s'", dir);
    free(db);
}

/* However many heads are recorded, the file keeps the newest 64 and at most
 * 64 checkpoints; the newest is always there. */
static void the_witness_stays_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-witness-bound-XXXXXX";
    char *db = exported(dir);
    fk_ctx *ctx;
    assert_int_equal(fk_open(&ctx, db, NULL), FK_OK);
    for (int i = 0; i < 300; i++) {
        edit_and_back(db, 100 + i);
        assert_int_equal(fk_verify(NULL, ctx, dir, NULL), FK_OK);
    }
    fk_close(ctx);
    char *w = slurp_witness(dir);
    char *head = fkt_q1(db, "SELECT last_id || ' ' || last_hash FROM fortknox.audit_head");
    assert_true(lines(w) <= 1 + 2 * 64);
    assert_true(lines(w) > 64);
    assert_non_null(strstr(w, head));
    free(w);
    free(head);
    sh("rm -rf '%s'", dir);
    free(db);
}

/* A directory the witness cannot be written to: the check still runs and
 * passes, the report says the head was not recorded (a read-only checkout). */
static void an_unwritable_witness_is_a_warning(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-witness-ro-XXXXXX";
    char *db = exported(dir);
    edit_and_back(db, 7);
    /* the temp file's name taken by a directory: writing fails as on a
     * read-only file system (root ignores permissions) */
    sh("mkdir '%s/.fortknox-witness.fk-tmp'", dir);
    char *before = slurp_witness(dir);
    fkt_run r = cli(db, dir, commands[C_VERIFY].args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "FK-WITNESS-UNRECORDED"));
    char *after = slurp_witness(dir);
    assert_string_equal(before, after);
    fkt_run_free(&r);
    /* still checked: cut the log and the same directory fails */
    sql(db, UNGUARD "DELETE FROM " AUDIT);
    r = cli(db, dir, commands[C_VERIFY].args);
    assert_int_equal(r.status, 1);
    fkt_run_free(&r);
    free(before);
    free(after);
    sh("rm -rf '%s'", dir);
    free(db);
}

/* No audit log at the export: the manifest's anchor is null, and audit
 * verify never calls that anchored. */
static void a_null_anchor_is_not_anchored(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-witness-null-XXXXXX";
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(mkdtemp(dir));
    cli_ok(db, dir, commands[C_EXPORT].args); /* nothing installed: anchor null */
    cli_ok(db, dir, (const char *const[]){"install", "--capture", NULL});
    edit(db, 1);
    fkt_run r = cli_as(0, db, dir, commands[C_AUDIT].args);
    assert_int_equal(r.status, 0);
    if (strstr(r.out, "anchored at") || !strstr(r.out, "NOT anchored"))
        fail_msg("a null anchor reported as anchored:\n%s", r.out);
    fkt_run_free(&r);
    sh("rm -rf '%s'", dir);
    free(db);
}

/* One entity's refresh (fk_export_entity: the application's fixture_root,
 * `fortknox watch`) moves the manifest's anchor, so it checks and records
 * the witness like a full export: an anchored head is always witnessed, and
 * a refresh after a cut fails without moving either. */
static void a_one_entity_export_checks_and_records(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-witness-one-XXXXXX";
    char *db = exported(dir);
    char *anchor = fkt_q1(db, "SELECT last_id FROM fortknox.audit_head");
    edit_and_back(db, 2);
    fk_ctx *ctx;
    assert_int_equal(fk_open(&ctx, db, NULL), FK_OK);
    assert_int_equal(fk_export_entity(ctx, dir, "cohort_definition", 1001, NULL,
                                      FK_FORMAT_PARTHENON),
                     FK_OK);
    char *w = slurp_witness(dir);
    char *head = fkt_q1(db, "SELECT last_id || ' ' || last_hash FROM fortknox.audit_head");
    assert_int_equal(lines(w), 3);
    assert_non_null(strstr(w, head));
    free(w);
    sql(db, UNGUARD "DELETE FROM " AUDIT " WHERE id > %s; UPDATE fortknox.audit_head SET"
                    " last_id = %s, last_hash = (SELECT row_hash FROM " AUDIT " WHERE id = %s)",
        anchor, anchor, anchor);
    fk_close(ctx); /* a new context: the install is read again */
    assert_int_equal(fk_open(&ctx, db, NULL), FK_OK);
    char *before = slurp_witness(dir);
    assert_int_equal(fk_export_entity(ctx, dir, "cohort_definition", 1001, NULL,
                                      FK_FORMAT_PARTHENON),
                     FK_ETAMPER);
    char *after = slurp_witness(dir);
    assert_string_equal(before, after);
    fk_close(ctx);
    free(before);
    free(after);
    free(head);
    free(anchor);
    sh("rm -rf '%s'", dir);
    free(db);
}

int main(void)
{
    cli_path = fkt_cli_path();
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_command_in_every_state),
        cmocka_unit_test(each_command_records_a_new_head_once),
        cmocka_unit_test(the_witness_stays_bounded),
        cmocka_unit_test(an_unwritable_witness_is_a_warning),
        cmocka_unit_test(a_null_anchor_is_not_anchored),
        cmocka_unit_test(a_one_entity_export_checks_and_records),
    };
    if (getenv("FKT_ONLY"))
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
