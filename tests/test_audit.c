/* Layer 2 against a real server: install, immutability, the hash chain
 * (also under concurrent writers), tamper detection in C, capture triggers
 * with the actor from SET LOCAL, app writes, history and restore. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fkt.h"

static fkt_pg *pg;
static const char *self_path;

static fk_ctx *open_ctx(const char *db)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    return ctx;
}

static void install(fk_ctx *ctx, fk_audit_mode mode, unsigned flags, const char *role)
{
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = mode;
    o.flags = flags;
    o.app_role = role;
    fk_report *r = NULL;
    if (fk_install(&r, ctx, &o) != FK_OK)
        fail_msg("fk_install: %s", fk_errmsg(ctx));
    fk_report_free(r);
}

/* Audit rows are read sealed (changed fields, hashes, the head), as the
 * library's reading commands read them. */
static void expect(const char *db, const char *sql, const char *want)
{
    fkt_seal(db);
    char *v = fkt_q1(db, sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s\n  want: %s\n  got:  %s", sql, want, v);
    free(v);
}

/* Runs SQL expecting the server to refuse it with a message containing `msg`. */
static void refused(fk_ctx *ctx, const char *sql, const char *msg)
{
    int rc = fk_exec(ctx, sql);
    if (rc == FK_OK)
        fail_msg("not refused: %s", sql);
    if (!strstr(fk_errmsg(ctx), msg))
        fail_msg("%s: unexpected message: %s", sql, fk_errmsg(ctx));
}

static int64_t write_event(fk_ctx *ctx, const char *action, int64_t id, const char *old_json,
                           const char *new_json)
{
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "cohort_definition";
    ev.entity_id = id;
    ev.entity_name = "Some cohort";
    ev.action = action;
    ev.actor_id = 117;
    ev.actor_email = "researcher@example.org";
    ev.ip_address = "10.0.0.7";
    ev.old_json = old_json;
    ev.new_json = new_json;
    int64_t row = 0;
    if (fk_audit_write(&row, ctx, &ev) != FK_OK)
        fail_msg("fk_audit_write: %s", fk_errmsg(ctx));
    return row;
}

static void install_is_idempotent_and_versioned(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *st = NULL;
    assert_int_equal(fk_install_status(&st, ctx), FK_OK);
    assert_string_equal(st, "{\"installed\": false}");
    fk_free(st);
    fk_report *r = NULL;
    assert_int_equal(fk_install(&r, ctx, NULL), FK_OK);
    assert_int_equal(fk_report_counter(r, "changed"), 1);
    assert_int_equal(fk_report_counter(r, "schema_version"), fk_install_schema_version());
    fk_report_free(r);
    assert_int_equal(fk_install(&r, ctx, NULL), FK_OK);
    assert_int_equal(fk_report_counter(r, "changed"), 0);
    fk_report_free(r);
    assert_int_equal(fk_install_status(&st, ctx), FK_OK);
    assert_non_null(strstr(st, "\"schema_version\": 1"));
    assert_non_null(strstr(st, "\"mode\": \"app\""));
    fk_free(st);
    /* a newer install is refused, not downgraded */
    assert_int_equal(fkt_pg_exec(db, "UPDATE fortknox.meta SET value = '99' WHERE key = "
                                     "'schema_version'"),
                     0);
    assert_int_equal(fk_install(&r, ctx, NULL), FK_ECONFLICT);
    assert_non_null(strstr(fk_errmsg(ctx), "newer"));
    assert_int_equal(fkt_pg_exec(db, "UPDATE fortknox.meta SET value = '1' WHERE key = "
                                     "'schema_version'"),
                     0);
    /* switching to capture mode re-applies */
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = FK_AUDIT_CAPTURE;
    assert_int_equal(fk_install(&r, ctx, &o), FK_OK);
    assert_int_equal(fk_report_counter(r, "changed"), 1);
    fk_report_free(r);
    /* on the 10 entity tables and the 5 child tables */
    expect(db, "SELECT count(*) FROM pg_trigger WHERE tgname = 'FK_capture'", "15");
    /* doctor's advice for damage is "run install again": it must not answer
     * "nothing to do" while the catalog is not what it left */
    static const struct {
        const char *damage, *check;
    } repairs[] = {
        {"ALTER TABLE app.cohort_definitions DISABLE TRIGGER \"FK_guard_delete\"",
         "SELECT tgenabled FROM pg_trigger WHERE tgname = 'FK_guard_delete' AND tgrelid = "
         "'app.cohort_definitions'::regclass"},
        {"DROP TRIGGER \"FK_capture\" ON app.concept_sets",
         "SELECT CASE count(*) WHEN 1 THEN 'A' END FROM pg_trigger WHERE tgname = 'FK_capture' AND "
         "tgrelid = 'app.concept_sets'::regclass"},
        {"ALTER TABLE fortknox.audit_head ENABLE TRIGGER fortknox_head_guard",
         "SELECT tgenabled FROM pg_trigger WHERE tgname = 'fortknox_head_guard'"},
        {"ALTER TABLE fortknox.pending DISABLE TRIGGER fortknox_flush",
         "SELECT tgenabled FROM pg_trigger WHERE tgname = 'fortknox_flush'"},
        {"CREATE OR REPLACE FUNCTION fortknox.quiet() RETURNS boolean LANGUAGE sql AS 'SELECT true'",
         "SELECT CASE WHEN prosrc LIKE '%override_allowed%' THEN 'A' END FROM pg_proc WHERE "
         "oid = 'fortknox.quiet()'::regprocedure"},
        {"GRANT INSERT ON fortknox.audit_log TO PUBLIC",
         "SELECT CASE WHEN has_table_privilege('public', 'fortknox.audit_log', 'INSERT') THEN 'no' "
         "ELSE 'A' END"},
    };
    for (size_t i = 0; i < sizeof repairs / sizeof repairs[0]; i++) {
        char sql[600];
        snprintf(sql, sizeof sql, "BEGIN; SELECT fortknox.allow('ddl'); %s; COMMIT",
                 repairs[i].damage);
        assert_int_equal(fkt_pg_exec(db, sql), 0);
        assert_int_equal(fk_install(&r, ctx, &o), FK_OK);
        if (fk_report_counter(r, "changed") != 1)
            fail_msg("install after \"%s\" said nothing to do", repairs[i].damage);
        fk_report_free(r);
        expect(db, repairs[i].check, "A");
        assert_int_equal(fk_install(&r, ctx, &o), FK_OK);
        assert_int_equal(fk_report_counter(r, "changed"), 0);
        fk_report_free(r);
    }
    o.app_role = "no_such_role";
    assert_int_equal(fk_install(&r, ctx, &o), FK_ENOTFOUND);
    fk_close(ctx);
    free(db);
}

/* The error finding doctor reports for the install, "" if none. */
static const char *install_finding(fk_ctx *ctx)
{
    fk_report *r = NULL;
    int rc = fk_doctor(&r, ctx, NULL); /* findings make it non-zero */
    if (!r)
        fail_msg("fk_doctor: %d %s", rc, fk_errmsg(ctx));
    static char msg[600];
    msg[0] = '\0';
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        if (strcmp(fk_report_item_at(r, i)->code, "FK-NOT-INSTALLED") == 0)
            snprintf(msg, sizeof msg, "%s", fk_report_item_at(r, i)->message);
    fk_report_free(r);
    return msg;
}

/* The install record is data the schema owner can edit: its audit table was
 * pasted into SQL (any SQL ran as whoever runs fortknox), and a schema
 * version from the future was used as if known. */
static void install_record_is_not_trusted(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    fk_close(ctx);
    fk_report *r = NULL;
    assert_int_equal(fkt_pg_exec(db, "UPDATE fortknox.meta SET value = '(SELECT * FROM "
                                     "fortknox.audit_log WHERE entity_id <> 1003)' WHERE key = "
                                     "'audit_table'"),
                     0);
    ctx = open_ctx(db);
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_ETAMPER);
    assert_null(r);
    assert_non_null(strstr(fk_errmsg(ctx), "tampered"));
    assert_non_null(strstr(install_finding(ctx), "not a schema-qualified table name"));
    fk_close(ctx);
    assert_int_equal(fkt_pg_exec(db, "UPDATE fortknox.meta SET value = "
                                     "'\"fortknox\".\"audit_log\"' WHERE key = 'audit_table';"
                                     " UPDATE fortknox.meta SET value = '999' WHERE key = "
                                     "'schema_version'"),
                     0);
    ctx = open_ctx(db);
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_ECONFLICT);
    assert_non_null(strstr(fk_errmsg(ctx), "newer libfortknox (schema version 999"));
    assert_non_null(strstr(install_finding(ctx), "schema version 999"));
    fk_close(ctx);
    assert_int_equal(fkt_pg_exec(db, "UPDATE fortknox.meta SET value = '1' WHERE key = "
                                     "'schema_version'"),
                     0);
    ctx = open_ctx(db); /* the exact form install writes is accepted */
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    fk_report_free(r);
    assert_string_equal(install_finding(ctx), "");
    fk_close(ctx);
    free(db);
}

static void audit_table_refuses_update_delete_truncate(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    write_event(ctx, "created", 1001, NULL, "{\"name\": \"a\"}");
    refused(ctx, "UPDATE fortknox.audit_log SET action = 'x'", "append-only");
    assert_int_equal(fk_errcode(ctx), FK_EGUARD);
    refused(ctx, "DELETE FROM fortknox.audit_log", "append-only");
    refused(ctx, "TRUNCATE fortknox.audit_log", "append-only");
    refused(ctx, "UPDATE fortknox.audit_head SET last_id = 0", "maintained by fortknox");
    refused(ctx, "DELETE FROM fortknox.audit_head", "maintained by fortknox");
    expect(db, "SELECT count(*) FROM fortknox.audit_log", "1");
    /* no forging: id and time come from the database, hashes from
     * sealing; a row arriving with hashes is a copy (a data-only restore
     * of the log) and is refused, not re-stamped as new */
    assert_int_equal(fk_exec(ctx, "INSERT INTO fortknox.audit_log (id, entity_type, entity_id,"
                                  " entity_name, action, created_at) VALUES (999,"
                                  " 'cohort_definition', 1, 'x', 'created', '2001-01-01')"),
                     FK_OK);
    expect(db, "SELECT id <> 999 AND created_at > '2020-01-01' AND row_hash <> repeat('a', 64) "
               "FROM fortknox.audit_log ORDER BY id DESC LIMIT 1",
           "t");
    refused(ctx, "INSERT INTO fortknox.audit_log (entity_type, entity_id, entity_name, action,"
                 " prev_hash, row_hash) VALUES ('cohort_definition', 1, 'x', 'created',"
                 " repeat('0', 64), repeat('a', 64))",
            "a copy of another log");
    /* TRUNCATE users CASCADE does not reach the audit log (no FK to users),
     * and a user with audit rows can be deleted */
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.users WHERE id = 2"), 0);
    expect(db, "SELECT count(*) FROM fortknox.audit_log", "2");
    expect(db, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'fortknox.audit_log'::regclass"
               " AND contype = 'f'",
           "0");
    fk_close(ctx);
    free(db);
}

/* A key written with escapes is the key it decodes to, as PHP's
 * json_decode reads it: "\u0065ntity_type" is "entity_type". */
static void escaped_event_keys_are_the_keys_they_decode_to(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    int64_t row = 0;
    int rc = fk_audit_write_json(&row, ctx, "{\"\\u0065ntity_type\": \"concept_set\", "
                                            "\"entity_id\": 9, \"\\u0061ction\": \"deleted\"}");
    if (rc != FK_OK)
        fail_msg("fk_audit_write_json: %s", fk_errmsg(ctx));
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT entity_type || ':' || action FROM fortknox.audit_log "
                              "WHERE id = %lld", (long long)row);
    expect(db, sql, "concept_set:deleted");
    fk_close(ctx);
    free(db);
}

static void changed_fields_are_computed_by_the_library(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    int64_t row = write_event(ctx, "updated", 1001,
                              "{\"name\": \"a\", \"tags\": [1, 2], \"expr\": {\"x\": 1, \"y\": 2},"
                              " \"same\": 1.0, \"gone\": true}",
                              "{\"name\": \"b\", \"tags\": [2, 1], \"expr\": {\"y\": 2, \"x\": 1},"
                              " \"same\": 1.00, \"new\": null}");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT changed_fields::text || '|' || actor_email || '|' || "
                              "ip_address FROM fortknox.audit_log WHERE id = %lld",
             (long long)row);
    expect(db, sql, "[\"gone\", \"name\", \"new\", \"tags\"]|researcher@example.org|10.0.0.7");
    /* the tracker supplies the old state the ORM captured at "updating" */
    assert_int_equal(fk_audit_before(ctx, "cohort_definition", 1001, "{\"name\": \"before\"}"),
                     FK_OK);
    assert_int_equal(fk_audit_pending(ctx), 1);
    row = write_event(ctx, "updated", 1001, NULL, "{\"name\": \"after\"}");
    assert_int_equal(fk_audit_pending(ctx), 0);
    snprintf(sql, sizeof sql, "SELECT old_json::text || changed_fields::text FROM "
                              "fortknox.audit_log WHERE id = %lld", (long long)row);
    expect(db, sql, "{\"name\": \"before\"}[\"name\"]");
    /* an "after" that never comes: bounded and released */
    for (int i = 0; i < 10005; i++)
        assert_int_equal(fk_audit_before(ctx, "concept_set", i, "{}"), FK_OK);
    assert_int_equal(fk_audit_pending(ctx), 10000);
    fk_audit_forget(ctx);
    assert_int_equal(fk_audit_pending(ctx), 0);
    assert_int_equal(fk_audit_before(ctx, "concept_set", 1, "[1]"), FK_EPARSE);
    /* name fallback */
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "concept_set";
    ev.entity_id = 77;
    ev.action = "created";
    assert_int_equal(fk_audit_write(&row, ctx, &ev), FK_OK);
    snprintf(sql, sizeof sql, "SELECT entity_name FROM fortknox.audit_log WHERE id = %lld",
             (long long)row);
    expect(db, sql, "concept_set-77");
    /* errors: nothing written */
    ev.action = "exploded";
    assert_int_equal(fk_audit_write(&row, ctx, &ev), FK_EINVAL);
    ev.action = "updated";
    ev.entity_type = "nope";
    assert_int_equal(fk_audit_write(&row, ctx, &ev), FK_ENOTFOUND);
    ev.entity_type = "concept_set";
    ev.new_json = "[1, 2]";
    assert_int_equal(fk_audit_write(&row, ctx, &ev), FK_EPARSE);
    /* the JSON twin */
    assert_int_equal(fk_audit_write_json(&row, ctx, "{\"entity_type\": \"concept_set\", "
                                                    "\"entity_id\": 9, \"action\": \"deleted\", "
                                                    "\"actor_id\": 5, \"old\": {\"a\": 1}, "
                                                    "\"new\": {\"a\": 2}}"),
                     FK_OK);
    snprintf(sql, sizeof sql, "SELECT actor_id || changed_fields::text FROM fortknox.audit_log "
                              "WHERE id = %lld", (long long)row);
    expect(db, sql, "5[\"a\"]");
    assert_int_equal(fk_audit_write_json(&row, ctx, "{\"entity_type\": \"concept_set\", "
                                                    "\"entity_id\": 9, \"acton\": \"deleted\"}"),
                     FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(ctx), "acton"));
    assert_int_equal(fk_audit_write_json(&row, ctx, "{\"entity_type\": "), FK_EPARSE);
    fk_close(ctx);
    free(db);
}

static void batches_are_all_or_nothing(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    fk_audit_event ev[3];
    for (int i = 0; i < 3; i++) {
        fk_audit_event_init(&ev[i], FK_AUDIT_EVENT_VERSION);
        ev[i].entity_type = "cohort_definition";
        ev[i].entity_id = 1001 + i;
        ev[i].action = "updated";
        ev[i].old_json = "{\"v\": 1}";
        ev[i].new_json = "{\"v\": 2}";
    }
    int64_t ids[3] = {0, 0, 0};
    assert_ok(ctx, fk_audit_write_many(ids, ctx, ev, 3));
    assert_true(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1]);
    /* one bad event: nothing of the batch is written */
    ev[1].action = "exploded";
    assert_int_equal(fk_audit_write_many(ids, ctx, ev, 3), FK_EINVAL);
    assert_true(ids[0] == 0 && ids[2] == 0);
    ev[1].action = "updated";
    ev[2].entity_type = "nope";
    assert_int_equal(fk_audit_write_many(NULL, ctx, ev, 3), FK_ENOTFOUND);
    /* a server-side failure also writes nothing: a name too long for its column */
    ev[2].entity_type = "cohort_definition";
    char *longname = malloc(600);
    memset(longname, 'x', 599);
    longname[599] = '\0';
    ev[2].actor_email = longname;
    assert_int_equal(fk_audit_write_many(NULL, ctx, ev, 3), FK_EDB);
    free(longname);
    expect(db, "SELECT count(*) FROM fortknox.audit_log", "3");
    assert_ok(ctx, fk_audit_verify(NULL, ctx, NULL));
    assert_ok(ctx, fk_audit_write_many(NULL, ctx, ev, 0));
    fk_close(ctx);
    free(db);
}

static void tamper_is_detected_in_c(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    for (int i = 0; i < 50; i++)
        write_event(ctx, "updated", 1001, "{\"v\": 1}", "{\"v\": 2, \"π\": \"ünïcode\"}");
    fk_report *r = NULL;
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    assert_int_equal(fk_report_counter(r, "rows"), 50);
    fk_report_free(r);

    /* anchor: export writes the chain head into the manifest */
    char dir[] = "/tmp/fk-anchor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    assert_ok(ctx, fk_audit_verify(&r, ctx, dir));
    fk_report_free(r);

    /* a superuser edits one old row behind the trigger's back */
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("UPDATE fortknox.audit_log SET actor_email = 'nobody@x' "
                                                  "WHERE id = (SELECT min(id) + 10 FROM "
                                                  "fortknox.audit_log)")),
                     0);
    char *bad = fkt_q1(db, "SELECT min(id) + 10 FROM fortknox.audit_log");
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_ETAMPER);
    char want[64];
    snprintf(want, sizeof want, "row %s", bad);
    assert_non_null(strstr(fk_errmsg(ctx), want));
    assert_int_equal(fk_report_error_count(r), 1);
    assert_int_equal(fk_report_item_at(r, 0)->entity_id, atoll(bad));
    fk_report_free(r);
    free(bad);
    fk_close(ctx);
    free(db);

    /* deleting the last rows (and fixing the head) is caught by the anchor */
    db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    for (int i = 0; i < 20; i++)
        write_event(ctx, "updated", 1001, "{\"v\": 1}", "{\"v\": 2}");
    /* a fresh directory: the old one anchors the first database's chain, which
     * an export here would rightly call tampering */
    char cmd0[100];
    snprintf(cmd0, sizeof cmd0, "rm -rf %s/* %s/.fk*", dir, dir);
    assert_int_equal(system(cmd0), 0);
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED(
                                     "DELETE FROM fortknox.audit_log WHERE id > (SELECT max(id) - 3"
                                     " FROM fortknox.audit_log);"
                                     "UPDATE fortknox.audit_head SET (last_id, last_hash) = (SELECT"
                                     " id, row_hash FROM fortknox.audit_log ORDER BY id DESC LIMIT 1)")),
                     0);
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL)); /* internally consistent ... */
    fk_report_free(r);
    assert_int_equal(fk_audit_verify(&r, ctx, dir), FK_ETAMPER); /* ... but not to git */
    assert_non_null(strstr(fk_errmsg(ctx), "witness saw")); /* the witness speaks first */
    fk_report_free(r);
    /* and with the witness restarted (only its header), the manifest's
     * anchor still catches it */
    char cmdw[200];
    snprintf(cmdw, sizeof cmdw, "head -n 1 %s/fortknox-witness > %s/w && mv %s/w %s/fortknox-witness",
             dir, dir, dir, dir);
    assert_int_equal(system(cmdw), 0);
    assert_int_equal(fk_audit_verify(&r, ctx, dir), FK_ETAMPER);
    assert_non_null(strstr(fk_errmsg(ctx), "anchored"));
    fk_report_free(r);
    /* without fixing the head, the head alone catches it */
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("DELETE FROM fortknox.audit_log WHERE id = (SELECT max(id)"
                                                  " FROM fortknox.audit_log)")),
                     0);
    assert_int_equal(fk_audit_verify(NULL, ctx, NULL), FK_ETAMPER);
    assert_non_null(strstr(fk_errmsg(ctx), "removed from the end"));
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    fk_close(ctx);
    free(db);
}

static void run_writers(fk_audit_mode mode, const char *flag)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, mode, 0, NULL);
    fk_close(ctx);
    enum { WRITERS = 8, ROWS = 1000 };
    pid_t kids[WRITERS];
    /* separate processes, exec'd so that a valgrind run checks only this one */
    for (int w = 0; w < WRITERS; w++) {
        kids[w] = fork();
        if (kids[w] == 0) {
            char wn[16], rows[16];
            snprintf(wn, sizeof wn, "%d", w);
            snprintf(rows, sizeof rows, "%d", ROWS);
            /* argv[0], not /proc/self/exe, which is valgrind itself under valgrind */
            execl(self_path, "test_audit", flag, db, wn, rows, (char *)NULL);
            _exit(127);
        }
    }
    int ok = 1;
    for (int w = 0; w < WRITERS; w++) {
        int st;
        waitpid(kids[w], &st, 0);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    ctx = open_ctx(db);
    fk_report *r = NULL;
    int rc = fk_audit_verify(&r, ctx, NULL);
    int64_t rows = fk_report_counter(r, "rows");
    fk_report_free(r);
    fk_close(ctx);
    free(db);
    assert_true(ok);
    assert_int_equal(rc, FK_OK);
    assert_int_equal(rows, WRITERS * ROWS);
}

static void concurrent_writers_form_one_chain(void **state)
{
    (void)state;
    run_writers(FK_AUDIT_APP, "--writer");
}

static void concurrent_captured_changes_form_one_chain(void **state)
{
    (void)state;
    run_writers(FK_AUDIT_CAPTURE, "--sql-writer");
}

static void exec_on(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* A long transaction that began before a short one but commits after it:
 * its row must carry the later time. With the transaction's start time
 * (now()) at second precision it carried the earlier or the same time and
 * the later id, and "as of" between the two returned a state that was
 * never current. Time is taken when a row joins the chain, in microseconds. */
static void audit_time_is_chain_order(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    PGconn *longer = PQconnectdb(db), *shorter = PQconnectdb(db);
    assert_int_equal(PQstatus(longer), CONNECTION_OK);
    assert_int_equal(PQstatus(shorter), CONNECTION_OK);
    /* the long one has started (now() is fixed) and holds an xid */
    exec_on(longer, "BEGIN; SELECT pg_current_xact_id()");
    exec_on(shorter, "UPDATE app.cohort_definitions SET name = 'short' WHERE id = 1001");
    exec_on(longer, "UPDATE app.cohort_definitions SET name = 'long' WHERE id = 1002; COMMIT");
    expect(db, "SELECT count(*) FROM (SELECT created_at > lag(created_at) OVER (ORDER BY id) AS up"
               " FROM fortknox.audit_log) s WHERE NOT up",
           "0");
    expect(db, "SELECT string_agg(new_json ->> 'name', ',' ORDER BY created_at) FROM "
               "fortknox.audit_log WHERE action = 'updated'",
           "short,long");
    /* one transaction, one id; two transactions, two */
    expect(db, "SELECT count(DISTINCT transaction_id) || ':' || count(transaction_id) FROM "
               "fortknox.audit_log WHERE action = 'updated'",
           "2:2");
    expect(db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
               "'fortknox.audit_log'::regclass AND attname = 'created_at'",
           "timestamp(6) without time zone");
    /* the head moves once, at commit, to the transaction's last row: a
     * transaction of many rows leaves a chain that verifies */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET version = version + 1"), 0);
    expect(db, "SELECT (SELECT last_id FROM fortknox.audit_head) = max(id) FROM fortknox.audit_log",
           "t");
    fk_report *r = NULL;
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_OK);
    fk_report_free(r);
    /* made immediate, the head moves after each row: still one chain */
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM "
                                     "app.cohort_definitions WHERE id = 1002; UPDATE "
                                     "app.cohort_definitions SET version = version + 1; SET "
                                     "CONSTRAINTS ALL IMMEDIATE; COMMIT"),
                     0);
    expect(db, "SELECT (SELECT last_id FROM fortknox.audit_head) = max(id) FROM fortknox.audit_log",
           "t");
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_OK);
    fk_report_free(r);
    PQfinish(longer);
    PQfinish(shorter);
    fk_close(ctx);
    free(db);
}

/* Sealing (docs/audit.md, "Sealing"): rows are written unsealed and
 * hashed into the chain after commit. Each case: three captured changes,
 * then what someone does, then what sealing and verification say. */
static const struct {
    const char *name;
    const char *sql;     /* as a superuser past the triggers (FKT_BYPASSED), or NULL */
    int seal_first;      /* seal the three rows before sql */
    int seal_rc, verify_rc;
    const char *msg;     /* in verify's message when it fails */
} seal_cases[] = {
    {"untouched: sealed and verified", NULL, 0, FK_OK, FK_OK, NULL},
    {"a sealed row altered", "UPDATE fortknox.audit_log SET new_json = '{}' WHERE id = (SELECT "
     "min(id) FROM fortknox.audit_log)", 1, FK_OK, FK_ETAMPER, "does not match its row_hash"},
    {"a sealed row removed", "DELETE FROM fortknox.audit_log WHERE id = (SELECT min(id) + 1 FROM "
     "fortknox.audit_log)", 1, FK_OK, FK_ETAMPER, "prev_hash does not match"},
    {"a forged sealed row past the head",
     "INSERT INTO fortknox.audit_log (id, entity_type, entity_id, entity_name, action, created_at,"
     " prev_hash, row_hash) SELECT max(id) + 1, 'cohort_definition', 1, 'x', 'updated', now(),"
     " repeat('b', 64), repeat('c', 64) FROM fortknox.audit_log", 1, FK_ETAMPER, FK_ETAMPER,
     "prev_hash does not match"},
    {"a sealed row after unsealed ones",
     "UPDATE fortknox.audit_log SET prev_hash = repeat('b', 64), row_hash = repeat('c', 64) WHERE "
     "id = (SELECT max(id) FROM fortknox.audit_log)", 0, FK_ETAMPER, FK_ETAMPER,
     "before it is not"},
};

static void sealing_states(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof seal_cases / sizeof seal_cases[0]; i++) {
        char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
        fk_ctx *ctx = open_ctx(db);
        install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
        for (int k = 0; k < 3; k++) {
            char sql[200];
            snprintf(sql, sizeof sql, "UPDATE app.cohort_definitions SET name = 'edit %d' WHERE "
                                      "id = 1001", k);
            assert_int_equal(fkt_pg_exec(db, sql), 0);
        }
        /* written unsealed: no hashes, no changed fields, the head not moved */
        char *v = fkt_q1(db, "SELECT count(*) FILTER (WHERE row_hash = '' AND prev_hash = '' AND "
                             "changed_fields IS NULL) || ':' || (SELECT last_id FROM "
                             "fortknox.audit_head) FROM fortknox.audit_log");
        if (strcmp(v, "3:0") != 0)
            fail_msg("%s: written rows not unsealed: %s", seal_cases[i].name, v);
        free(v);
        uint64_t n = 0;
        if (seal_cases[i].seal_first) {
            assert_ok(ctx, fk_audit_seal(&n, ctx));
            assert_int_equal(n, 3);
        }
        if (seal_cases[i].sql) {
            /* the case's SQL in the bypass's place of "\x01" */
            const char *tmpl = FKT_BYPASSED("\x01");
            const char *at = strchr(tmpl, '\x01');
            char *sql = NULL;
            assert_true(asprintf(&sql, "%.*s%s%s", (int)(at - tmpl), tmpl, seal_cases[i].sql,
                                 at + 1) > 0);
            assert_int_equal(fkt_pg_exec(db, sql), 0);
            free(sql);
        }
        int rc = fk_audit_seal(&n, ctx);
        if (rc != seal_cases[i].seal_rc)
            fail_msg("%s: fk_audit_seal returned %d: %s", seal_cases[i].name, rc, fk_errmsg(ctx));
        fk_report *r = NULL;
        rc = fk_audit_verify(&r, ctx, NULL);
        if (rc != seal_cases[i].verify_rc ||
            (seal_cases[i].msg && !strstr(fk_errmsg(ctx), seal_cases[i].msg)))
            fail_msg("%s: fk_audit_verify returned %d: %s", seal_cases[i].name, rc,
                     fk_errmsg(ctx));
        if (rc == FK_OK)
            assert_int_equal(fk_report_counter(r, "unsealed"), 0);
        fk_report_free(r);
        fk_close(ctx);
        free(db);
    }
}

/* A session that may not seal (read-only here; a standby is the same)
 * verifies the sealed rows and counts the newer ones; doctor warns once
 * they are an hour old. Updates that are not a seal, and a head moved
 * back, are refused. */
static void sealing_by_whom(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'a' WHERE id = "
                                     "1001"),
                     0);
    uint64_t n = 0;
    assert_ok(ctx, fk_audit_seal(&n, ctx));
    assert_int_equal(n, 1);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'b' WHERE id = "
                                     "1001; UPDATE app.cohort_definitions SET name = 'c' WHERE "
                                     "id = 1002"),
                     0);
    char *first = fkt_q1(db, "SELECT min(id) FROM fortknox.audit_log WHERE row_hash = ''");
    char *ro_db = NULL;
    assert_true(asprintf(&ro_db, "%s options='-c default_transaction_read_only=on'", db) > 0);
    fk_ctx *ro = open_ctx(ro_db);
    fk_report *r = NULL;
    assert_ok(ro, fk_audit_verify(&r, ro, NULL));
    assert_int_equal(fk_report_counter(r, "rows"), 3);
    assert_int_equal(fk_report_counter(r, "unsealed"), 2);
    assert_int_equal(fk_report_counter(r, "first_unsealed_id"), atoll(first));
    char *sum = NULL;
    assert_int_equal(fk_report_summary(&sum, r, FK_OK, NULL), FK_OK);
    if (!strstr(sum, "1 rows verified") || !strstr(sum, "2 newer rows") ||
        !strstr(sum, "not sealed yet"))
        fail_msg("summary: %s", sum);
    fk_free(sum);
    fk_report_free(r);
    assert_int_equal(fk_audit_seal(&n, ro), FK_EUNSUPPORTED);
    /* doctor: recent unsealed rows are normal, hour-old ones are not */
    assert_int_equal(fk_doctor(&r, ro, NULL), FK_OK);
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        assert_string_not_equal(fk_report_item_at(r, i)->code, "FK-UNSEALED");
    fk_report_free(r);
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("UPDATE fortknox.audit_log SET created_at = "
                                                  "created_at - interval '2 hours' WHERE "
                                                  "row_hash = ''")),
                     0);
    fk_doctor(&r, ro, NULL);
    int warned = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        warned |= strcmp(fk_report_item_at(r, i)->code, "FK-UNSEALED") == 0 &&
                  fk_report_item_at(r, i)->severity == FK_SEV_WARNING &&
                  fk_report_item_at(r, i)->entity_id == atoll(first);
    fk_report_free(r);
    assert_true(warned);
    /* sealing runs under READ COMMITTED only: an older snapshot would seal
     * past rows committed since it was taken, stranding them */
    PGconn *c = PQconnectdb(db);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *res = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT fortknox.seal(10)");
    if (PQresultStatus(res) != PGRES_FATAL_ERROR ||
        strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "55000") != 0)
        fail_msg("seal under REPEATABLE READ: %s", PQerrorMessage(c));
    PQclear(res);
    exec_on(c, "ROLLBACK");
    /* a writer sealing in its own transaction seals the others' rows and
     * stops before its own (not committed) */
    exec_on(c, "BEGIN; UPDATE app.cohort_definitions SET name = 'd' WHERE id = 1003;"
               " SET CONSTRAINTS ALL IMMEDIATE");
    char *sealed = NULL;
    res = PQexec(c, "SELECT fortknox.seal(100)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    sealed = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    exec_on(c, "COMMIT");
    PQfinish(c);
    assert_string_equal(sealed, "2"); /* 'b' and 'c', not 'd' */
    free(sealed);
    assert_ok(ctx, fk_audit_seal(&n, ctx));
    assert_int_equal(n, 1);
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    fk_report_free(r);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'e' WHERE id = "
                                     "1001; UPDATE app.cohort_definitions SET name = 'f' WHERE "
                                     "id = 1002"),
                     0);
    /* the owner's own updates: only a seal, with the hash of the row */
    refused(ctx, "UPDATE fortknox.audit_log SET prev_hash = repeat('0', 64), row_hash = "
                 "repeat('1', 64) WHERE row_hash = ''",
            "append-only");
    refused(ctx, "UPDATE fortknox.audit_log a SET new_json = '{}', prev_hash = repeat('0', 64),"
                 " row_hash = fortknox.row_hash(a) WHERE row_hash = ''",
            "append-only");
    refused(ctx, "UPDATE fortknox.audit_head SET last_id = last_id - 1", "maintained by fortknox");
    /* a seal by hand must be the next link: a chosen prev_hash, a row
     * whose predecessor is unsealed, or a document changed to an equal
     * value of other text (1 -> 1.000) are refused */
    static const char *const forged[] = {
        "DO $d$ DECLARE r fortknox.audit_log; BEGIN SELECT * INTO r FROM fortknox.audit_log"
        " WHERE row_hash = '' ORDER BY id LIMIT 1; r.prev_hash := repeat('ab', 32);"
        " r.changed_fields := fortknox.changed_fields(r.old_json, r.new_json); r.row_hash :="
        " fortknox.row_hash(r); UPDATE fortknox.audit_log SET prev_hash = r.prev_hash,"
        " changed_fields = r.changed_fields, row_hash = r.row_hash WHERE id = r.id; END $d$",
        "DO $d$ DECLARE r fortknox.audit_log; BEGIN SELECT * INTO r FROM fortknox.audit_log"
        " WHERE row_hash = '' ORDER BY id DESC LIMIT 1; r.prev_hash := (SELECT last_hash FROM"
        " fortknox.audit_head); r.changed_fields := fortknox.changed_fields(r.old_json,"
        " r.new_json); r.row_hash := fortknox.row_hash(r); UPDATE fortknox.audit_log SET"
        " prev_hash = r.prev_hash, changed_fields = r.changed_fields, row_hash = r.row_hash"
        " WHERE id = r.id; END $d$",
        "DO $d$ DECLARE r fortknox.audit_log; BEGIN SELECT * INTO r FROM fortknox.audit_log"
        " WHERE row_hash = '' ORDER BY id LIMIT 1; r.new_json := jsonb_set(r.new_json,"
        " '{version}', to_jsonb((r.new_json ->> 'version')::numeric(10, 3))); r.prev_hash :="
        " (SELECT last_hash FROM fortknox.audit_head); r.changed_fields :="
        " fortknox.changed_fields(r.old_json, r.new_json); r.row_hash := fortknox.row_hash(r);"
        " UPDATE fortknox.audit_log SET new_json = r.new_json, prev_hash = r.prev_hash,"
        " changed_fields = r.changed_fields, row_hash = r.row_hash WHERE id = r.id; END $d$",
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++)
        refused(ctx, forged[i], "append-only");
    /* the application role may not seal (holding the head's lock in an
     * open or prepared transaction would keep every row unsealed), nor
     * take the write lock; a session holding the advisory key an earlier
     * version locked stops nobody */
    assert_int_equal(fkt_pg_exec(db, "DO $r$ BEGIN CREATE ROLE fk_seal_app LOGIN; EXCEPTION WHEN "
                                     "duplicate_object THEN NULL; END $r$; GRANT USAGE ON SCHEMA "
                                     "app TO fk_seal_app; GRANT SELECT, UPDATE ON ALL TABLES IN "
                                     "SCHEMA app TO fk_seal_app"),
                     0);
    install(ctx, FK_AUDIT_CAPTURE, 0, "fk_seal_app");
    char *app = NULL;
    assert_true(asprintf(&app, "%s user=fk_seal_app", db) > 0);
    PGconn *a = PQconnectdb(app);
    assert_int_equal(PQstatus(a), CONNECTION_OK);
    static const char *const denied[] = {"SELECT fortknox.seal(0)",
                                         "SELECT 1 FROM fortknox.write_lock FOR UPDATE"};
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        res = PQexec(a, denied[i]);
        if (PQresultStatus(res) != PGRES_FATAL_ERROR ||
            strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501") != 0)
            fail_msg("the application role: %s: %s", denied[i], PQerrorMessage(a));
        PQclear(res);
    }
    exec_on(a, "SELECT pg_advisory_lock((1718316664::bigint << 32) | "
               "'fortknox.audit_log'::regclass::oid::bigint)");
    assert_int_equal(fkt_pg_exec(db, "SET lock_timeout = '5s'; UPDATE app.cohort_definitions SET "
                                     "name = 'g' WHERE id = 1001"),
                     0);
    PQfinish(a);
    free(app);
    fk_close(ro);
    free(ro_db);
    free(first);
    fk_close(ctx);
    free(db);
}

/* What can stop sealing, and what the commands then say: a row sealed by
 * hand past the head (even exactly as seal() would) stops sealing loudly
 * and verify names it (it said "rows were removed"); the write lock's row
 * is guarded, and doctor names it gone; a seal that fails (the head
 * locked) is a warning of audit verify, not silence. */
static void sealing_obstacles(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'a' WHERE id = "
                                     "1001; UPDATE app.cohort_definitions SET name = 'b' WHERE "
                                     "id = 1002"),
                     0);
    assert_int_equal(fkt_pg_exec(db, "DO $d$ DECLARE r fortknox.audit_log; BEGIN SELECT * INTO r "
                                     "FROM fortknox.audit_log ORDER BY id LIMIT 1; r.prev_hash :="
                                     " repeat('0', 64); r.changed_fields := "
                                     "fortknox.changed_fields(r.old_json, r.new_json); r.row_hash "
                                     ":= fortknox.row_hash(r); UPDATE fortknox.audit_log SET "
                                     "prev_hash = r.prev_hash, changed_fields = r.changed_fields,"
                                     " row_hash = r.row_hash WHERE id = r.id; END $d$"),
                     0);
    uint64_t n = 0;
    assert_int_equal(fk_audit_seal(&n, ctx), FK_ETAMPER);
    fk_report *r = NULL;
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_ETAMPER);
    if (!strstr(fk_errmsg(ctx), "past the head were sealed or inserted past the triggers"))
        fail_msg("verify: %s", fk_errmsg(ctx));
    fk_report_free(r);
    /* moving the head to it (allowed: forward, to a sealed row, past no
     * unsealed one) is the repair */
    assert_int_equal(fk_exec(ctx, "UPDATE fortknox.audit_head SET (last_id, last_hash) = (SELECT"
                                  " id, row_hash FROM fortknox.audit_log ORDER BY id LIMIT 1)"),
                     FK_OK);
    assert_ok(ctx, fk_audit_seal(&n, ctx));
    assert_int_equal(n, 1);
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    assert_int_equal(fk_report_counter(r, "unsealed"), 0);
    fk_report_free(r);
    /* the write lock's row */
    refused(ctx, "DELETE FROM fortknox.write_lock", "append-only");
    refused(ctx, "TRUNCATE fortknox.write_lock", "append-only");
    /* a seal that cannot take the head's lock */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'c' WHERE id = "
                                     "1001"),
                     0);
    PGconn *holder = PQconnectdb(db);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    exec_on(holder, "BEGIN; SELECT 1 FROM fortknox.audit_head FOR UPDATE");
    char *impatient = NULL;
    assert_true(asprintf(&impatient, "%s options='-c lock_timeout=300'", db) > 0);
    fk_ctx *ictx = open_ctx(impatient);
    assert_ok(ictx, fk_audit_verify(&r, ictx, NULL));
    assert_int_equal(fk_report_counter(r, "unsealed"), 1);
    int warned = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        warned |= strcmp(fk_report_item_at(r, i)->code, "FK-UNSEALED") == 0 &&
                  strstr(fk_report_item_at(r, i)->message, "lock timeout") != NULL;
    fk_report_free(r);
    assert_true(warned);
    exec_on(holder, "ROLLBACK");
    PQfinish(holder);
    fk_close(ictx);
    free(impatient);
    /* the row gone (a superuser past the guard): doctor names it */
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("DELETE FROM fortknox.write_lock")), 0);
    assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
    int named = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        named |= strstr(fk_report_item_at(r, i)->message, "write lock") != NULL;
    fk_report_free(r);
    assert_true(named);
    fk_close(ctx);
    free(db);
}

/* Writers under REPEATABLE READ: the log's write lock is an advisory lock,
 * not the chain head's row, so a writer whose snapshot predates another
 * writer's commit waits and commits (it got SQLSTATE 40001). */
static void repeatable_read_writers_commit(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    PGconn *a = PQconnectdb(db);
    assert_int_equal(PQstatus(a), CONNECTION_OK);
    exec_on(a, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM fortknox.audit_log");
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'b' WHERE id = "
                                     "1002"),
                     0);
    exec_on(a, "UPDATE app.cohort_definitions SET name = 'a' WHERE id = 1001");
    PGresult *res = PQexec(a, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("COMMIT: %s", PQerrorMessage(a));
    PQclear(res);
    PQfinish(a);
    expect(db, "SELECT string_agg(new_json ->> 'name', ',' ORDER BY id) FROM fortknox.audit_log",
           "b,a");
    fk_report *r = NULL;
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    fk_report_free(r);
    fk_close(ctx);
    free(db);
}

static void capture_records_raw_sql_with_the_actor(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SET LOCAL fortknox.actor_id = '117';"
                                     " SET LOCAL fortknox.actor_email = 'alice@example.org';"
                                     " SET LOCAL fortknox.ip = '192.0.2.1';"
                                     " UPDATE app.cohort_definitions SET name = 'Renamed by SQL'"
                                     " WHERE id = 1001; COMMIT"),
                     0);
    expect(db, "SELECT action || '|' || actor_id || '|' || actor_email || '|' || ip_address ||"
               " '|' || changed_fields::text || '|' || (new_json ->> 'name') || '|' ||"
               " (old_json ->> 'name') FROM fortknox.audit_log ORDER BY id DESC LIMIT 1",
           "updated|117|alice@example.org|192.0.2.1|[\"name\"]|Renamed by SQL|T2DM New "
           "Metformin Users");
    /* secrets stay out of the audit log too */
    expect(db, "SELECT count(*) FROM fortknox.audit_log WHERE new_json ? 'share_token'", "0");
    /* a mass update: one row per entity */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET version = version + 1"),
                     0);
    expect(db, "SELECT (SELECT count(*) FROM fortknox.audit_log WHERE changed_fields = "
               "'[\"version\"]') = (SELECT count(*) FROM app.cohort_definitions)",
           "t");
    /* soft delete and restore are named as such (two transactions: one
     * row per entity per transaction, and a change undone in the same
     * transaction writes none) */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET deleted_at = now() WHERE id = "
                                     "1001"),
                     0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET deleted_at = NULL WHERE id = "
                                     "1001"),
                     0);
    expect(db, "SELECT string_agg(action, ',' ORDER BY id) FROM fortknox.audit_log WHERE "
               "entity_type = 'concept_set'",
           "deleted,restored");
    /* a child change is attributed to its parent, once per transaction,
     * with the parent's whole state before and after */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_set_items SET is_excluded = NOT "
                                     "is_excluded WHERE concept_set_id = 1001"),
                     0);
    expect(db, "SELECT count(*) || ':' || min(entity_id) || ':' || min(changed_fields::text) FROM"
               " fortknox.audit_log WHERE entity_type = 'concept_set' AND action = 'updated'",
           "1:1001:[\"items\"]");
    /* inserts and forced deletes */
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.sccs_analyses (id, name, author_id) "
                                     "VALUES (5555, 'new', 1)"),
                     0);
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM "
                                     "app.sccs_analyses WHERE id = 5555; COMMIT"),
                     0);
    expect(db, "SELECT string_agg(action, ',' ORDER BY id) FROM fortknox.audit_log WHERE "
               "entity_type = 'sccs_analysis' AND entity_id = 5555",
           "created,force_deleted");
    /* app-level writes are refused in capture mode: no double logging */
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "concept_set";
    ev.entity_id = 1;
    ev.action = "updated";
    assert_int_equal(fk_audit_write(NULL, ctx, &ev), FK_ECONFLICT);
    fk_report *r = NULL;
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    fk_report_free(r);
    fk_close(ctx);
    free(db);
}

static void history_as_of_and_restore(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET name = 'v2' WHERE id = 1001"),
                     0);
    char *v2 = fkt_q1(db, "SELECT max(id) FROM fortknox.audit_log");
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET name = 'v3', description = 'x'"
                                     " WHERE id = 1001; DELETE FROM app.concept_set_items WHERE "
                                     "concept_set_id = 1001"),
                     0);
    char *log = NULL;
    fk_audit_query q;
    fk_audit_query_init(&q, FK_AUDIT_QUERY_VERSION);
    q.entity_type = "concept_set";
    q.entity_id = 1001;
    assert_int_equal(fk_audit_log(&log, ctx, &q), FK_OK);
    assert_true(strstr(log, "\"v3\"") < strstr(log, "\"v2\"")); /* newest first */
    fk_free(log);
    char *doc = NULL;
    assert_int_equal(fk_entity_as_of(&doc, ctx, "concept_set", 1001, NULL, atoll(v2)), FK_OK);
    assert_non_null(strstr(doc, "\"name\": \"v2\""));
    assert_non_null(strstr(doc, "\"items\": [{"));
    fk_free(doc);
    fk_report *r = NULL;
    assert_int_equal(fk_entity_restore(&r, ctx, "concept_set", 1001, NULL, atoll(v2)), FK_OK);
    fk_report_free(r);
    expect(db, "SELECT name || ':' || (SELECT count(*) FROM app.concept_set_items WHERE "
               "concept_set_id = 1001) FROM app.concept_sets WHERE id = 1001",
           "v2:3");
    /* one audit row for the restore, none from the capture triggers */
    expect(db, "SELECT action || ':' || (context LIKE 'restore:%') FROM fortknox.audit_log ORDER"
               " BY id DESC LIMIT 1",
           "restored:true");
    expect(db, "SELECT count(*) FROM fortknox.audit_log WHERE context LIKE 'restore%'", "1");
    /* before its first recorded change: the state that change found (issue
     * 16: the old_json of the first row after the time); no history at all:
     * not found */
    assert_int_equal(fk_entity_as_of(&doc, ctx, "concept_set", 1001, "1999-01-01", 0), FK_OK);
    assert_non_null(strstr(doc, "\"name\": \"Statins (seed)\""));
    fk_free(doc);
    assert_int_equal(fk_entity_as_of(&doc, ctx, "concept_set", 1002, "1999-01-01", 0),
                     FK_ENOTFOUND);
    assert_int_equal(fk_entity_as_of(&doc, ctx, "concept_set", 1001, NULL, 0), FK_EINVAL);
    assert_ok(ctx, fk_audit_verify(NULL, ctx, NULL));
    free(v2);
    fk_close(ctx);
    free(db);
}

/* A restore from the history goes through import's statement: a column
 * type without an equality operator (point, json) must not stop it. */
static void history_restore_of_types_without_equality(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_int_equal(fkt_pg_exec(db, "ALTER TABLE app.concept_sets ADD COLUMN pt point, "
                                     "ADD COLUMN js json"),
                     0);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET pt = '(1,2)', js = '[1]' "
                                     "WHERE id = 1001"),
                     0);
    char *v = fkt_q1(db, "SELECT max(id) FROM fortknox.audit_log");
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET pt = '(3,4)', js = '[2]' "
                                     "WHERE id = 1001"),
                     0);
    fk_report *r = NULL;
    if (fk_entity_restore(&r, ctx, "concept_set", 1001, NULL, atoll(v)) != FK_OK)
        fail_msg("restore: %s", fk_errmsg(ctx));
    fk_report_free(r);
    expect(db, "SELECT pt::text || js::text FROM app.concept_sets WHERE id = 1001", "(1,2)[1]");
    free(v);
    fk_close(ctx);
    free(db);
}

static void import_writes_one_row_per_entity(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_CAPTURE, 0, NULL);
    char dir[] = "/tmp/fk-import-audit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('hard_delete');"
                                     " UPDATE app.cohort_definitions SET superseded_by = NULL;"
                                     " DELETE FROM app.cohort_definitions; COMMIT"),
                     0);
    char *before = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log");
    assert_int_equal(fk_set_actor(ctx, 1, "admin@acumenus.net", "127.0.0.1"), FK_OK);
    fk_report *r = NULL;
    assert_int_equal(fk_import(&r, ctx, dir, NULL), FK_OK);
    int64_t restored = fk_report_counter(r, "created");
    fk_report_free(r);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) - %s FROM fortknox.audit_log", before);
    char want[24];
    snprintf(want, sizeof want, "%lld", (long long)restored);
    expect(db, sql, want);
    expect(db, "SELECT count(DISTINCT context) || ':' || min(action) || ':' || min(actor_email) "
               "FROM fortknox.audit_log WHERE context LIKE 'import:%'",
           "1:restored:admin@acumenus.net");
    assert_ok(ctx, fk_audit_verify(NULL, ctx, NULL));
    snprintf(sql, sizeof sql, "rm -rf %s", dir);
    assert_int_equal(system(sql), 0);
    free(before);
    fk_close(ctx);
    free(db);
}

static void app_writes_refresh_the_fixture(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char dir[] = "/tmp/fk-app-refresh-XXXXXX";
    assert_non_null(mkdtemp(dir));
    fk_ctx_options o = FK_CTX_OPTIONS_INIT;
    o.fixture_root = dir;
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, db, &o), FK_OK);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.pathway_analyses SET name = 'Fresh Name' WHERE "
                                     "id = 1001"),
                     0);
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "pathway_analysis";
    ev.entity_id = 1001;
    ev.action = "updated";
    ev.new_json = "{\"name\": \"Fresh Name\"}";
    assert_int_equal(fk_audit_write(NULL, ctx, &ev), FK_OK);
    char path[200];
    snprintf(path, sizeof path, "%s/pathway_analyses/fresh-name.json", dir);
    char *doc = fkt_slurp(path, NULL);
    assert_non_null(doc);
    free(doc);
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE "
                                     "FROM app.pathway_analyses WHERE id = 1001; COMMIT"),
                     0);
    ev.action = "force_deleted";
    assert_int_equal(fk_audit_write(NULL, ctx, &ev), FK_OK);
    assert_null(fkt_slurp(path, NULL));
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    fk_close(ctx);
    free(db);
}

static void parthenon_table_is_adopted(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    /* Parthenon's own table, with its defects: FK to users, no TRUNCATE guard */
    assert_int_equal(fkt_pg_exec(db,
        "CREATE TABLE app.design_audit_log (id bigserial PRIMARY KEY, entity_type varchar(50) NOT"
        " NULL, entity_id bigint NOT NULL, entity_name varchar(500) NOT NULL, action varchar(20)"
        " NOT NULL, actor_id bigint NULL REFERENCES app.users(id) ON DELETE SET NULL,"
        " actor_email varchar(255), old_json jsonb, new_json jsonb, changed_fields jsonb,"
        " ip_address varchar(45), created_at timestamp(0) NOT NULL DEFAULT CURRENT_TIMESTAMP);"
        " CREATE FUNCTION app.design_audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN RAISE EXCEPTION 'design_audit_log rows are immutable'; END$$;"
        " CREATE TRIGGER design_audit_log_no_update_delete BEFORE UPDATE OR DELETE ON"
        " app.design_audit_log FOR EACH ROW EXECUTE FUNCTION app.design_audit_log_immutable();"
        " INSERT INTO app.design_audit_log (entity_type, entity_id, entity_name, action, actor_id)"
        " VALUES ('cohort_definition', 1001, 'x', 'created', 117), ('concept_set', 1001, 'y',"
        " 'updated', 2)"),
                     0);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, FK_INSTALL_PARTHENON_TABLE, NULL);
    write_event(ctx, "updated", 1001, "{\"a\": 1}", "{\"a\": 2}");
    fk_report *r = NULL;
    assert_ok(ctx, fk_audit_verify(&r, ctx, NULL));
    assert_int_equal(fk_report_counter(r, "rows"), 3);
    fk_report_free(r);
    /* the user with audit rows can now be deleted; the log cannot be truncated */
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.users WHERE id = 2"), 0);
    expect(db, "SELECT count(*) FROM app.design_audit_log WHERE actor_id = 2", "1");
    refused(ctx, "TRUNCATE app.design_audit_log", "append-only");
    expect(db, "SELECT count(*) FROM app.design_audit_log", "3");
    fk_close(ctx);
    free(db);
}

/* A concurrent writer: test_audit --writer CONNINFO N ROWS (app-level
 * audit writes), or --sql-writer (raw UPDATEs the capture triggers audit). */
static int writer_main(const char *db, int w, int rows, int sql)
{
    fk_ctx *c = NULL;
    if (fk_open(&c, db, NULL) != FK_OK) {
        fprintf(stderr, "# writer %d: %s\n", w, fk_errmsg(NULL));
        return 2;
    }
    for (int i = 0; i < rows; i++) {
        if (sql) {
            char upd[200];
            snprintf(upd, sizeof upd, "UPDATE app.cohort_definitions SET version = version + 1 "
                                      "WHERE id = %d", 1001 + (w + i) % 5);
            if (fk_exec(c, upd) != FK_OK) {
                fprintf(stderr, "# writer %d: %s\n", w, fk_errmsg(c));
                fk_close(c);
                return 3;
            }
            continue;
        }
        fk_audit_event ev;
        fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
        ev.entity_type = "concept_set";
        ev.entity_id = w * 10000 + i;
        ev.action = "created";
        ev.new_json = "{\"w\": 1}";
        if (fk_audit_write(NULL, c, &ev) != FK_OK) {
            fprintf(stderr, "# writer %d: %s\n", w, fk_errmsg(c));
            fk_close(c);
            return 3;
        }
    }
    fk_close(c);
    return 0;
}

/* What a progress callback saw, and whether it stops the call. */
typedef struct seen_progress {
    int calls, stop;
    fk_progress last;
} seen_progress;

static int record_progress(const fk_progress *p, void *userdata)
{
    seen_progress *s = userdata;
    s->calls++;
    s->last = *p;
    return s->stop;
}

/* audit verify and doctor report progress with a total, and stop when the
 * callback says so (FK_ECANCELLED), recording no witness then. */
static void audit_verify_and_doctor_report_progress(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx, FK_AUDIT_APP, 0, NULL);
    for (int i = 0; i < 2500; i++)
        write_event(ctx, "updated", 1001, "{\"v\": 1}", "{\"v\": 2}");
    char dir[] = "/tmp/fk-progress-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    char witness[64];
    snprintf(witness, sizeof witness, "%s/fortknox-witness", dir);
    char *before = fkt_slurp(witness, NULL);
    assert_non_null(before);

    fk_audit_verify_options o;
    assert_int_equal(fk_audit_verify_options_init(&o, FK_AUDIT_VERIFY_OPTIONS_VERSION), FK_OK);
    assert_int_equal(fk_audit_verify_options_init(&o, FK_AUDIT_VERIFY_OPTIONS_VERSION + 1),
                     FK_EINVAL);
    fk_report *r = NULL;
    assert_int_equal(fk_audit_verify_with(&r, ctx, NULL), FK_EINVAL);
    fk_audit_verify_options_init(&o, FK_AUDIT_VERIFY_OPTIONS_VERSION);
    seen_progress seen = {0};
    o.anchor_dir = dir;
    o.progress = record_progress;
    o.progress_data = &seen;
    seen.stop = 1; /* cancelled at the first call: nothing recorded */
    assert_int_equal(fk_audit_verify_with(&r, ctx, &o), FK_ECANCELLED);
    assert_null(r);
    char *after = fkt_slurp(witness, NULL);
    assert_string_equal(before, after);
    free(after);
    memset(&seen, 0, sizeof seen);
    assert_ok(ctx, fk_audit_verify_with(&r, ctx, &o));
    int64_t rows = fk_report_counter(r, "rows");
    assert_true(rows >= 2500);
    assert_int_equal(seen.calls, 1 + (int)(rows / 1000)); /* every 1000 rows, and the end */
    assert_string_equal(seen.last.operation, "audit verify");
    assert_int_equal(seen.last.done, rows);
    assert_int_equal(seen.last.total, rows);
    fk_report_free(r);

    fk_doctor_options d;
    fk_doctor_options_init(&d, FK_DOCTOR_OPTIONS_VERSION);
    d.fixture_dir = dir;
    d.progress = record_progress;
    d.progress_data = &seen;
    memset(&seen, 0, sizeof seen);
    seen.stop = 1;
    assert_int_equal(fk_doctor(&r, ctx, &d), FK_ECANCELLED);
    assert_null(r);
    memset(&seen, 0, sizeof seen);
    int rc = fk_doctor(&r, ctx, &d);
    assert_true(rc == FK_OK || rc == FK_EVERIFY);
    assert_string_equal(seen.last.operation, "doctor");
    assert_true(seen.last.total > 1);
    assert_int_equal(seen.calls, (int)seen.last.total); /* one call per check */
    assert_int_equal(seen.last.done, seen.last.total);
    fk_report_free(r);
    /* a version-1 caller's struct has no progress fields: none are read */
    d.version = 1;
    memset(&seen, 0, sizeof seen);
    rc = fk_doctor(&r, ctx, &d);
    assert_true(rc == FK_OK || rc == FK_EVERIFY);
    assert_int_equal(seen.calls, 0);
    fk_report_free(r);

    free(before);
    assert_int_equal(fkt_sh("rm -rf '%s'", dir), 0);
    fk_close(ctx);
    free(db);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--writer") == 0)
        return writer_main(argv[2], atoi(argv[3]), atoi(argv[4]), 0);
    if (argc == 5 && strcmp(argv[1], "--sql-writer") == 0)
        return writer_main(argv[2], atoi(argv[3]), atoi(argv[4]), 1);
    self_path = argv[0];
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(install_is_idempotent_and_versioned),
        cmocka_unit_test(install_record_is_not_trusted),
        cmocka_unit_test(audit_table_refuses_update_delete_truncate),
        cmocka_unit_test(escaped_event_keys_are_the_keys_they_decode_to),
        cmocka_unit_test(changed_fields_are_computed_by_the_library),
        cmocka_unit_test(batches_are_all_or_nothing),
        cmocka_unit_test(tamper_is_detected_in_c),
        cmocka_unit_test(concurrent_writers_form_one_chain),
        cmocka_unit_test(concurrent_captured_changes_form_one_chain),
        cmocka_unit_test(audit_time_is_chain_order),
        cmocka_unit_test(sealing_states),
        cmocka_unit_test(sealing_by_whom),
        cmocka_unit_test(repeatable_read_writers_commit),
        cmocka_unit_test(sealing_obstacles),
        cmocka_unit_test(capture_records_raw_sql_with_the_actor),
        cmocka_unit_test(history_as_of_and_restore),
        cmocka_unit_test(history_restore_of_types_without_equality),
        cmocka_unit_test(import_writes_one_row_per_entity),
        cmocka_unit_test(app_writes_refresh_the_fixture),
        cmocka_unit_test(parthenon_table_is_adopted),
        cmocka_unit_test(audit_verify_and_doctor_report_progress),
    };
    if (getenv("FKT_ONLY")) /* while iterating: one test, e.g. FKT_ONLY=install* */
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
