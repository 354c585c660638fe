/* Layer 1 and the recovery checks, replaying the incidents on a real
 * server: the seeder's TRUNCATE, a raw DELETE, an overridden wipe caught by
 * doctor, verify after a hand edit, the drill, identical backups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "fkt.h"
#include "fkt_doctor.h"

static fkt_pg *pg;

static const char *const design_tables[] = {
    "cohort_definitions", "concept_sets", "concept_set_items", "characterizations",
    "incidence_rate_analyses", "pathway_analyses", "estimation_analyses", "prediction_analyses",
    "sccs_analyses", "evidence_synthesis_analyses", "heor_analyses", "heor_scenarios",
    "heor_cost_parameters", "heor_results", "heor_value_contracts", NULL};

static char *checksum(const char *db)
{
    char sql[4096] = "SELECT md5(string_agg(h, ',' ORDER BY n)) FROM (";
    for (int i = 0; design_tables[i]; i++) {
        char part[256];
        snprintf(part, sizeof part,
                 "%sSELECT %d AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '-') "
                 "AS h FROM app.%s t",
                 i ? " UNION ALL " : "", i, design_tables[i]);
        strcat(sql, part);
    }
    strcat(sql, ") s");
    char *s = fkt_pg_query1(db, sql);
    assert_non_null(s);
    return s;
}

static fk_ctx *installed(const char *db, fk_audit_mode mode)
{
    return fkt_open_installed(db, mode == FK_AUDIT_CAPTURE, NULL);
}

static void rm_tree(char *d) { assert_int_equal(fkt_rm_tree(d), 0); }

static int has_item(const fk_report *r, const char *code, int64_t id)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, code) == 0 && (id < 0 || it->entity_id == id))
            return 1;
    }
    return 0;
}

static void seeder_truncate_is_blocked_and_nothing_is_lost(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = installed(db, FK_AUDIT_APP);
    char *before = checksum(db);
    int rc = fk_exec(ctx, "TRUNCATE app.users CASCADE");
    assert_int_equal(rc, FK_EGUARD);
    assert_non_null(strstr(fk_errmsg(ctx), "blocked by fortknox"));
    assert_non_null(strstr(fk_errmsg(ctx), "CASCADE"));
    char *after = checksum(db);
    assert_string_equal(before, after);
    char *users = fkt_q1(db, "SELECT count(*) FROM app.users");
    assert_true(atoi(users) > 0);
    /* direct truncates of design and child tables too */
    assert_int_equal(fk_exec(ctx, "TRUNCATE app.cohort_definitions"), FK_EGUARD);
    assert_int_equal(fk_exec(ctx, "TRUNCATE app.concept_set_items"), FK_EGUARD);
    free(users);
    free(before);
    free(after);
    fk_close(ctx);
    free(db);
}

static void raw_delete_is_blocked_then_overridden_audited_and_restored(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = installed(db, FK_AUDIT_CAPTURE);
    char *dir = fkt_tempdir_or_fail("fk-recovery");
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    int rc = fk_exec(ctx, "DELETE FROM app.cohort_definitions WHERE id = 1005");
    assert_int_equal(rc, FK_EGUARD);
    assert_non_null(strstr(fk_errmsg(ctx), "hard delete of cohort_definitions id 1005 blocked by "
                                           "fortknox; soft-delete it, or, as a member of "
                                           "fortknox_override, SELECT "
                                           "\"fortknox\".allow('hard_delete') in the same "
                                           "transaction"));
    /* a new id removes the entity the old one named (found by an attack: the
     * app role removed an entity without the override): the same guard */
    assert_int_equal(fk_exec(ctx, "UPDATE app.cohort_definitions SET id = 5005 WHERE id = 1005"),
                     FK_EGUARD);
    assert_non_null(strstr(fk_errmsg(ctx), "changing the id of cohort_definitions id 1005 to "
                                           "5005 blocked by fortknox"));
    /* naming the id without changing it is no such change */
    assert_ok(ctx, fk_exec(ctx, "UPDATE app.cohort_definitions SET id = id WHERE id = 1005"));
    /* through ON DELETE CASCADE too (a user's deletion reaching designs) */
    assert_int_equal(fkt_pg_exec(db, "CREATE TABLE app.notes (id int PRIMARY KEY, cohort bigint "
                                     "REFERENCES app.cohort_definitions(id) ON DELETE CASCADE);"
                                     "ALTER TABLE app.cohort_definitions ADD COLUMN owner_note "
                                     "int REFERENCES app.notes(id) ON DELETE CASCADE;"
                                     "INSERT INTO app.notes VALUES (1, NULL);"
                                     "UPDATE app.cohort_definitions SET owner_note = 1 WHERE id = "
                                     "1004"),
                     0);
    assert_int_equal(fk_exec(ctx, "DELETE FROM app.notes WHERE id = 1"), FK_EGUARD);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET owner_note = NULL;"
                                     "ALTER TABLE app.cohort_definitions DROP COLUMN owner_note;"
                                     "DROP TABLE app.notes"),
                     0);
    assert_ok(ctx, fk_exec(ctx, "BEGIN; SELECT fortknox.allow('hard_delete'); "
                                "SET LOCAL fortknox.actor_email = 'dba@example.org'; "
                                "DELETE FROM app.cohort_definitions WHERE id = 1005; COMMIT"));
    char *audited = fkt_q1(db, "SELECT action || ':' || actor_email || ':' || (old_json ->> 'id') "
                           "FROM fortknox.audit_log WHERE entity_id = 1005 ORDER BY id DESC "
                           "LIMIT 1");
    assert_string_equal(audited, "force_deleted:dba@example.org:1005");
    free(audited);
    fk_report *r = NULL;
    assert_ok(ctx, fk_import(&r, ctx, dir, NULL));
    assert_int_equal(fk_report_counter(r, "created"), 1);
    fk_report_free(r);
    char *back = fkt_q1(db, "SELECT count(*) FROM app.cohort_definitions WHERE id = 1005");
    assert_string_equal(back, "1");
    free(back);
    assert_ok(ctx, fk_verify(NULL, ctx, dir, NULL));
    rm_tree(dir);
    fk_close(ctx);
    free(db);
}

static void overridden_wipe_is_reported_by_doctor_per_entity(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = installed(db, FK_AUDIT_CAPTURE);
    char *dir = fkt_tempdir_or_fail("fk-recovery");
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = dir;
    fk_report *r = NULL;
    int rc = fk_doctor(&r, ctx, &o);
    assert_true(fkt_doctor_healthy(rc, r)); /* healthy */
    assert_int_equal(fk_report_counter(r, "lost"), 0);
    fk_report_free(r);
    char *n = fkt_q1(db, "SELECT (SELECT count(*) FROM app.cohort_definitions) + (SELECT count(*) FROM"
                     " app.concept_sets) + (SELECT count(*) FROM app.heor_analyses)");
    /* the wipe, with every override, as a careless seeder with superpowers would */
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('truncate'); TRUNCATE "
                                     "app.users CASCADE; COMMIT"),
                     0);
    /* recorded even so: the truncate row with its count */
    char *tr = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = 'truncated'");
    assert_true(atoi(tr) >= 3);
    free(tr);
    /* and, in capture mode, every removed entity's last state */
    char *kept = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = 'force_deleted'"
                        " AND context = 'truncate' AND old_json ? 'name'");
    assert_true(atoll(kept) >= atoll(n));
    free(kept);
    assert_int_equal(fk_doctor(&r, ctx, &o), FK_EVERIFY);
    assert_true(has_item(r, "FK-LOSS", 1001));
    assert_true(has_item(r, "FK-DROP", -1));
    assert_true(fk_report_counter(r, "lost") >= atoll(n));
    int per_entity = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, "FK-LOSS") == 0) {
            assert_non_null(it->entity_type);
            assert_true(it->entity_id > 0);
            assert_non_null(it->hint);
            per_entity++;
        }
    }
    assert_true(per_entity >= atoi(n));
    fk_report_free(r);

    /* the recovery: admin back, import, verify, doctor clean of losses */
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.users (id, name, email, password) VALUES "
                                     "(1, 'Admin', 'admin@acumenus.net', 'x')"),
                     0);
    assert_ok(ctx, fk_import(NULL, ctx, dir, NULL));
    r = NULL;
    rc = fk_verify(&r, ctx, dir, NULL);
    /* authors that no longer exist were remapped to the admin: reported as differences */
    assert_true(rc == FK_OK || rc == FK_EVERIFY);
    fk_report_free(r);
    assert_int_equal(fk_doctor(&r, ctx, &o) == FK_OK || !has_item(r, "FK-LOSS", -1), 1);
    assert_false(has_item(r, "FK-LOSS", -1));
    fk_report_free(r);
    free(n);
    rm_tree(dir);
    fk_close(ctx);
    free(db);
}

static void verify_finds_an_edited_fixture(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = installed(db, FK_AUDIT_APP);
    char *dir = fkt_tempdir_or_fail("fk-recovery");
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    fk_report *r = NULL;
    assert_ok(ctx, fk_verify(&r, ctx, dir, NULL));
    assert_int_equal(fk_report_counter(r, "differs"), 0);
    assert_true(fk_report_counter(r, "identical") > 10);
    fk_report_free(r);
    /* someone edits a file by hand */
    char path[300];
    snprintf(path, sizeof path, "%s/pathway_analyses", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "f=$(ls %s/*.json | head -1) && sed -i 's/\"name\": \"/\"name\": "
                              "\"EDITED /' \"$f\"", path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_true(has_item(r, "differs", 1001));
    assert_true(has_item(r, "file_edited", 1001));
    assert_int_equal(fk_report_counter(r, "differs"), 1);
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        if (strcmp(fk_report_item_at(r, i)->code, "differs") == 0)
            assert_string_equal(fk_report_item_at(r, i)->fields, "[\"name\"]");
    char *json = NULL;
    assert_int_equal(fk_report_json(&json, r), FK_OK);
    assert_non_null(strstr(json, "\"ok\":false"));
    fk_free(json);
    fk_report_free(r);
    /* a file removed, a row only in the database, a fixture only on disk */
    snprintf(cmd, sizeof cmd, "rm %s/sccs_analyses/*.json", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.characterizations (id, name, author_id) "
                                     "VALUES (9090, 'new', 1)"),
                     0);
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_true(has_item(r, "file_missing", 1001));
    assert_true(has_item(r, "db_only", 9090));
    fk_report_free(r);
    /* semantic, not bytes: the same values written differently (layout, key
     * order) are identical; but Python writes the seed's jsonb 1.10 as 1.1,
     * which an import would store as 1.1: that one entity differs */
    char *dir2 = fkt_tempdir_or_fail("fk-recovery");
    assert_ok(ctx, fk_export(NULL, ctx, dir2, NULL));
    snprintf(cmd, sizeof cmd, "cd %s/cohort_definitions && for f in *.json; do python3 -c "
                              "'import json,sys; d=json.load(open(sys.argv[1])); "
                              "open(sys.argv[1],\"w\").write(json.dumps(d, indent=1, "
                              "sort_keys=True))' \"$f\"; done", dir2);
    assert_int_equal(system(cmd), 0);
    r = NULL;
    int rc = fk_verify(&r, ctx, dir2, NULL);
    assert_int_equal(fk_report_counter(r, "differs"), 1);
    assert_true(has_item(r, "differs", 1001));
    assert_true(fk_report_counter(r, "identical") > 10);
    assert_true(has_item(r, "file_edited", -1)); /* but the manifest notices the rewrite */
    assert_int_equal(rc, FK_EVERIFY);
    fk_report_free(r);
    rm_tree(dir2);
    rm_tree(dir);
    fk_close(ctx);
    free(db);
}

struct reader {
    const char *db;
    volatile int stop;
    int queries, slowest_ms;
};

static void *read_loop(void *arg)
{
    struct reader *rd = arg;
    PGconn *c = PQconnectdb(rd->db);
    while (!rd->stop) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        PGresult *res = PQexec(c, "SELECT count(*) FROM app.cohort_definitions; UPDATE "
                                  "app.users SET name = name WHERE id = 1");
        PQclear(res);
        clock_gettime(CLOCK_MONOTONIC, &b);
        int ms = (int)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
        if (ms > rd->slowest_ms)
            rd->slowest_ms = ms;
        rd->queries++;
    }
    PQfinish(c);
    return NULL;
}

static void drill_proves_restore_without_touching_live_rows(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = installed(db, FK_AUDIT_CAPTURE);
    /* the 31 real fixtures too (one was written before four columns existed:
     * they take their defaults, asked for explicitly) */
    static const char *const legacy[] = {"evidence_synthesis_analyses.*"};
    fk_key_map km;
    fk_key_map_init(&km, FK_KEY_MAP_VERSION);
    km.default_col = legacy;
    km.ndefault_col = 1;
    fk_import_options io;
    fk_import_options_init(&io, FK_IMPORT_OPTIONS_VERSION);
    io.key_map = &km;
    assert_ok(ctx, fk_import(NULL, ctx, FKT_DATA_DIR "/parthenon-fixtures", &io));
    char *dir = fkt_tempdir_or_fail("fk-recovery");
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    char *before = checksum(db);
    char *seq = fkt_q1(db, "SELECT last_value FROM app.cohort_definitions_id_seq");
    char *audit = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log");
    struct reader rd = {db, 0, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, read_loop, &rd);
    fk_report *r = NULL;
    assert_ok(ctx, fk_drill(&r, ctx, dir, NULL));
    rd.stop = 1;
    pthread_join(th, NULL);
    assert_true(fk_report_counter(r, "restored") > 40);
    assert_int_equal(fk_report_counter(r, "differs"), 0);
    assert_int_equal(fk_report_counter(r, "identical"), fk_report_counter(r, "entities"));
    assert_true(fk_report_counter(r, "elapsed_ms") >= 0);
    fk_report_free(r);
    char *after = checksum(db);
    assert_string_equal(before, after);
    char *seq2 = fkt_q1(db, "SELECT last_value FROM app.cohort_definitions_id_seq");
    assert_string_equal(seq, seq2);
    char *audit2 = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log");
    assert_string_equal(audit, audit2);
    char *left = fkt_q1(db, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'fortknox_drill%'");
    assert_string_equal(left, "0");
    assert_true(rd.queries > 0); /* concurrent reads and writes went on during the drill */

    /* a fixture that cannot restore faithfully fails the drill */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "f=$(ls %s/concept_sets/*.json | head -1) && sed -i "
                              "'s/\"concept_set_id\": [0-9]*/\"concept_set_id\": 1/' \"$f\"", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(fk_drill(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_true(has_item(r, "differs", -1));
    fk_report_free(r);
    char *after2 = checksum(db);
    assert_string_equal(before, after2);
    free(before);
    free(after);
    free(after2);
    free(seq);
    free(seq2);
    free(audit);
    free(audit2);
    free(left);
    rm_tree(dir);
    fk_close(ctx);
    free(db);
}

static void touch(const char *dir, const char *name, const char *content, long age_s)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(content, f);
    fclose(f);
    struct utimbuf t = {time(NULL) - age_s, time(NULL) - age_s};
    utime(p, &t);
}

static void doctor_flags_backups_and_schema_risks(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    /* the HEOR table as Parthenon had it: no soft-delete column */
    assert_int_equal(fkt_pg_exec(db, "ALTER TABLE app.heor_analyses DROP COLUMN deleted_at; "
                                     "ALTER TABLE app.cohort_definitions DROP CONSTRAINT "
                                     "cohort_definitions_archived_by_foreign, ADD CONSTRAINT "
                                     "archived_by_cascade FOREIGN KEY (archived_by) REFERENCES "
                                     "app.users(id) ON DELETE CASCADE; CREATE ROLE fk_app_role"),
                     0);
    fk_ctx *ctx = installed(db, FK_AUDIT_APP);
    char *backups = fkt_tempdir_or_fail("fk-recovery");
    /* Parthenon's week: identical backups, then an old newest one */
    const char *dump = "-- dump of an empty database\n";
    touch(backups, "app-schema-20260309.sql.gz", "-- a real one with data and more data\n",
          7 * 86400);
    touch(backups, "app-schema-20260310.sql.gz", dump, 6 * 86400);
    touch(backups, "app-schema-20260311.sql.gz", dump, 5 * 86400);
    touch(backups, "app-schema-20260312.sql.gz", dump, 4 * 86400);
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.backup_dir = backups;
    fk_report *r = NULL;
    int rc = fk_doctor(&r, ctx, &o);
    assert_true(has_item(r, "FK-BACKUP-IDENTICAL", -1));
    assert_true(has_item(r, "FK-BACKUP-STALE", -1));
    assert_true(has_item(r, "FK-BACKUP-SHRINK", -1));
    assert_true(has_item(r, "FK-NO-SOFT-DELETE", -1));
    assert_true(has_item(r, "FK-CASCADE", -1));
    assert_false(has_item(r, "FK-GUARD-DISABLED", -1));
    assert_true(fkt_doctor_healthy(rc, r)); /* only warnings so far */
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        if (strcmp(fk_report_item_at(r, i)->code, "FK-BACKUP-IDENTICAL") == 0)
            assert_non_null(strstr(fk_report_item_at(r, i)->message, "3 consecutive"));
    fk_report_free(r);
    /* a disabled guard and an over-privileged app role are errors */
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('ddl'); ALTER TABLE "
                                     "app.concept_sets DISABLE TRIGGER \"FK_guard_delete\"; COMMIT"),
                     0);
    fk_install_options io;
    fk_install_options_init(&io, FK_INSTALL_OPTIONS_VERSION);
    io.app_role = "fk_app_role";
    io.flags = FK_INSTALL_ADD_SOFT_DELETE;
    assert_ok(ctx, fk_install(NULL, ctx, &io));
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('ddl'); ALTER TABLE "
                                     "app.concept_sets DISABLE TRIGGER \"FK_guard_delete\"; GRANT "
                                     "UPDATE ON fortknox.audit_log TO fk_app_role; COMMIT"),
                     0);
    assert_int_equal(fk_doctor(&r, ctx, &o), FK_EVERIFY);
    assert_true(has_item(r, "FK-GUARD-DISABLED", -1));
    assert_true(has_item(r, "FK-AUDIT-PRIVILEGES", -1));
    assert_false(has_item(r, "FK-NO-SOFT-DELETE", -1)); /* the install added the column */
    fk_report_free(r);
    char *col = fkt_q1(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                       "'heor_analyses' AND column_name = 'deleted_at'");
    assert_string_equal(col, "1");
    free(col);
    /* app role: SELECT only after install, and app_write() (issue 15: no
     * INSERT; the app's rows are stamped by the function) */
    char *priv = fkt_q1(db, "SELECT NOT has_table_privilege('fk_app_role', 'fortknox.audit_log', "
                        "'INSERT') AND has_function_privilege('fk_app_role', "
                        "'fortknox.app_write(text, bigint, text, text, bigint, text, jsonb, jsonb, "
                        "text)', 'EXECUTE') AND has_table_privilege('fk_app_role', 'fortknox.audit_log', "
                        "'SELECT') AND NOT has_table_privilege('fk_app_role', 'fortknox.audit_head',"
                        " 'SELECT')");
    assert_string_equal(priv, "t");
    free(priv);
    rm_tree(backups);
    fk_close(ctx);
    free(db);
}

/* Backups of one size are told apart by content, however far in the
 * difference is: they are hashed in chunks, and these differ only in their
 * last byte, past the first chunks. A run ends at the first that differs. */
static void doctor_tells_same_size_backups_apart(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = installed(db, FK_AUDIT_APP);
    char *backups = fkt_tempdir_or_fail("fk-recovery");
    enum { SIZE = 100000 };
    char *a = malloc(SIZE + 1), *b = malloc(SIZE + 1);
    assert_non_null(a);
    assert_non_null(b);
    memset(a, 'x', SIZE);
    memcpy(b, a, SIZE);
    a[SIZE - 1] = 'A';
    b[SIZE - 1] = 'B';
    a[SIZE] = b[SIZE] = '\0';
    touch(backups, "app-20260309.sql", a, 4 * 3600);
    touch(backups, "app-20260310.sql", b, 3 * 3600);
    touch(backups, "app-20260311.sql", b, 2 * 3600);
    touch(backups, "app-20260312.sql", a, 1 * 3600);
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.backup_dir = backups;
    fk_report *r = NULL;
    int rc = fk_doctor(&r, ctx, &o);
    assert_true(fkt_doctor_healthy(rc, r));
    int identical = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, "FK-BACKUP-IDENTICAL") == 0) {
            identical++;
            assert_non_null(strstr(it->message, "2 consecutive backups are byte-identical "
                                                "(100000 bytes, app-20260310.sql to "
                                                "app-20260311.sql)"));
        }
    }
    assert_int_equal(identical, 1);
    assert_false(has_item(r, "FK-BACKUP-SHRINK", -1));
    assert_false(has_item(r, "FK-BACKUP-STALE", -1));
    fk_report_free(r);
    free(a);
    free(b);
    rm_tree(backups);
    fk_close(ctx);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeder_truncate_is_blocked_and_nothing_is_lost),
        cmocka_unit_test(raw_delete_is_blocked_then_overridden_audited_and_restored),
        cmocka_unit_test(overridden_wipe_is_reported_by_doctor_per_entity),
        cmocka_unit_test(verify_finds_an_edited_fixture),
        cmocka_unit_test(drill_proves_restore_without_touching_live_rows),
        cmocka_unit_test(doctor_flags_backups_and_schema_risks),
        cmocka_unit_test(doctor_tells_same_size_backups_apart),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
