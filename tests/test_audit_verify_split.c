/* Chain verification split into id ranges, one connection each: every kind
 * of damage is reported exactly as one pass over the whole log reports it
 * (the same status, the same row, the same reason), wherever the range
 * boundaries fall -- one connection, the damaged row first or last in its
 * range, alone in a range, an empty range before or after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_verify.h"
#include "fkt.h"

static fkt_pg *pg, *standby; /* standby: NULL where there is none (FORTKNOX_TEST_DSN) */

/* A damage a superuser does behind the triggers' back, at row {d} (d),
 * and what verification must say: the row it names (expect_sql, {d} = d)
 * and the reason. d is the row the manifest anchors (mid-log) or, at_end,
 * the last row. */
typedef struct damage {
    const char *name;
    const char *sql; /* NULL: the intact log */
    int at_end;
    int anchored;    /* verify with the manifest's anchor */
    const char *expect_sql;
    const char *why;
} damage;

#define AUDIT "fortknox.audit_log"
#define NEXT "SELECT min(id) FROM " AUDIT " WHERE id > {d}"
#define D "SELECT {d}"

static const damage damages[] = {
    {"intact", NULL, 0, 1, NULL, NULL},
    {"row altered", "UPDATE " AUDIT " SET actor_email = 'nobody@x' WHERE id = {d}", 0, 0, D,
     "its content does not match its row_hash"},
    {"row_hash altered", "UPDATE " AUDIT " SET row_hash = repeat('e', 64) WHERE id = {d}", 0,
     0, D, "its content does not match its row_hash"},
    {"prev_hash altered", "UPDATE " AUDIT " SET prev_hash = repeat('f', 64) WHERE id = {d}", 0,
     0, D, "its prev_hash does not match"},
    {"row removed (gap)", "DELETE FROM " AUDIT " WHERE id = {d}", 0, 0, NEXT,
     "its prev_hash does not match"},
    {"row rewritten with its own hash", "UPDATE " AUDIT " SET actor_email = 'forger@x' WHERE id = "
     "{d}; UPDATE " AUDIT " a SET row_hash = fortknox.row_hash(a) WHERE id = {d}", 0, 0, NEXT,
     "its prev_hash does not match"},
    {"anchored row rewritten", "UPDATE " AUDIT " SET actor_email = 'forger@x' WHERE id = {d}; "
     "UPDATE " AUDIT " a SET row_hash = fortknox.row_hash(a) WHERE id = {d}", 0, 1, D,
     "differs from the one anchored"},
    {"anchored row gone, head fixed", "DELETE FROM " AUDIT " WHERE id >= {d}; UPDATE "
     "fortknox.audit_head SET (last_id, last_hash) = (SELECT id, row_hash FROM " AUDIT
     " ORDER BY id DESC LIMIT 1)", 0, 1, D, "does not exist any more"},
    {"last row removed", "DELETE FROM " AUDIT " WHERE id = {d}", 1, 0, D,
     "rows were removed from the end"},
    {"row past the head", "INSERT INTO " AUDIT " (id, entity_type, entity_id, entity_name, "
     "action, created_at, prev_hash) SELECT id + 1, entity_type, entity_id, entity_name, action, "
     "created_at, row_hash FROM " AUDIT " WHERE id = {d}; UPDATE " AUDIT " a SET row_hash = "
     "fortknox.row_hash(a) WHERE id = {d} + 1", 1, 0, D, "the chain head says the last row is"},
    {"head row missing", "DELETE FROM fortknox.audit_head", 1, 0, D, "is missing"},
    /* unsealed rows are a run at the end: one unsealed, then one sealed
     * past the triggers (the join sees them in two ranges when the
     * boundary falls between them) */
    {"a sealed row after an unsealed one", "INSERT INTO " AUDIT " (id, entity_type, entity_id, "
     "entity_name, action) VALUES ({d} + 1, 'cohort_definition', 1001, 'x', 'updated'), ({d} + "
     "2, 'cohort_definition', 1001, 'x', 'updated'); UPDATE " AUDIT " SET prev_hash = repeat('a',"
     " 64), row_hash = repeat('b', 64) WHERE id = {d} + 2", 1, 0, "SELECT {d} + 2",
     "a row before it is not"},
};

/* The boundaries, around d (the damaged row) and the log's ends: ids
 * (-inf, s0], (s0, s1], ... */
typedef struct split {
    const char *name;
    int n;
    int64_t rel[2]; /* to d; LO/HI: to the log's first/last id */
} split;

#define LO 1000000
#define HI 2000000

static const split splits[] = {
    {"one connection", 0, {0, 0}},
    {"d first in the second range", 1, {-1, 0}},
    {"d last in the first range", 1, {0, 0}},
    {"d two ahead of the boundary", 1, {1, 0}},
    {"d alone in the middle range", 2, {-1, 0}},
    {"d first of three", 2, {-1, 1}},
    {"empty first range", 1, {LO - 5, 0}},
    {"empty last range", 1, {HI + 5, 0}},
};

/* tmpl with every {d} replaced by d. */
static void with_d(char *out, size_t len, const char *tmpl, int64_t d)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 24 < len; p++) {
        if (strncmp(p, "{d}", 3) == 0) {
            n += (size_t)snprintf(out + n, len - n, "%" PRId64, d);
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static int64_t q_i64(const char *db, const char *tmpl, int64_t d)
{
    char sql[600];
    with_d(sql, sizeof sql, tmpl, d);
    char *v = fkt_q1(db, sql);
    int64_t x = atoll(v);
    free(v);
    return x;
}

static void write_events(fk_ctx *ctx, int n)
{
    for (int i = 0; i < n; i++) {
        fk_audit_event ev;
        fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
        ev.entity_type = "cohort_definition";
        ev.entity_id = 1001;
        ev.entity_name = "Some cohort";
        ev.action = "updated";
        ev.actor_id = 117;
        ev.actor_email = "researcher@example.org";
        ev.old_json = "{\"v\": 1}";
        ev.new_json = "{\"v\": 2, \"π\": \"ünïcode\", \"s\": \"a\\\\b\\nc\"}";
        if (fk_audit_write(NULL, ctx, &ev) != FK_OK)
            fail_msg("fk_audit_write: %s", fk_errmsg(ctx));
    }
}

static int64_t boundary(int64_t rel, int64_t d, int64_t lo, int64_t hi)
{
    if (rel > HI / 2)
        return hi + (rel - HI);
    if (rel > LO / 2)
        return lo + (rel - LO);
    return d + rel;
}

static void check_split(fk_ctx *ctx, const damage *dm, const split *sp, const char *dir,
                        int64_t d, int64_t lo, int64_t hi, int64_t want_id)
{
    int64_t cut[2];
    for (int i = 0; i < sp->n; i++)
        cut[i] = boundary(sp->rel[i], d, lo, hi);
    fk_report *r = NULL;
    int rc = fk__audit_verify_split(&r, ctx, dm->anchored ? dir : NULL, 0, NULL, NULL, cut,
                                    sp->n);
    const char *what = fk_errmsg(ctx);
    if (rc != (dm->sql ? FK_ETAMPER : FK_OK))
        fail_msg("%s, %s: status %s (%s)", dm->name, sp->name, fk_status_name(rc), what);
    assert_non_null(r);
    if (fk_report_counter(r, "connections") != sp->n + 1)
        fail_msg("%s, %s: %lld connections, not %d", dm->name, sp->name,
                 (long long)fk_report_counter(r, "connections"), sp->n + 1);
    if (dm->sql) {
        if (!strstr(what, dm->why))
            fail_msg("%s, %s: \"%s\" does not say \"%s\"", dm->name, sp->name, what, dm->why);
        if (fk_report_item_at(r, 0)->entity_id != want_id)
            fail_msg("%s, %s: row %lld named, not %lld (%s)", dm->name, sp->name,
                     (long long)fk_report_item_at(r, 0)->entity_id, (long long)want_id, what);
    } else {
        assert_int_equal(fk_report_counter(r, "rows"), hi - lo + 1);
        assert_int_equal(fk_report_counter(r, "last_id"), hi);
    }
    fk_report_free(r);
}

/* What verification reads, as one value. */
static const char fingerprint_sql[] =
    "SELECT coalesce(md5(string_agg(id || prev_hash || row_hash || coalesce(actor_email, ''), ','"
    " ORDER BY id)), '') || (SELECT coalesce(string_agg(last_id || last_hash, ','), '') FROM "
    "fortknox.audit_head) FROM " AUDIT;

/* db on the standby once the standby shows what the primary holds
 * (replayed and visible: polled, at most a minute); NULL without one. */
static char *on_standby(const char *db)
{
    if (!standby)
        return NULL;
    assert_int_equal(fkt_pg_standby_catch_up(standby, pg), 0);
    char *sdb = fkt_pg_on(standby, db);
    assert_non_null(sdb);
    char *want = fkt_q1(db, fingerprint_sql);
    int seen = 0;
    for (int i = 0; !seen && i < 1200; i++) {
        char *got = fkt_pg_query1(sdb, fingerprint_sql);
        seen = got && strcmp(got, want) == 0;
        free(got);
        if (!seen)
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    free(want);
    if (!seen)
        fail_msg("the standby never showed the primary's audit log");
    return sdb;
}

static void damage_is_found_wherever_the_ranges_split(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof damages / sizeof damages[0]; k++) {
        const damage *dm = &damages[k];
        char *db = fkt_installed_db(pg, 0, NULL);
        fk_ctx *ctx = fkt_open_installed(db, 0, NULL);
        write_events(ctx, 20);
        char *dir = fkt_tempdir_or_fail("fk-split");
        assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK); /* anchors the row d */
        int64_t anchor = q_i64(db, "SELECT max(id) FROM " AUDIT, 0);
        write_events(ctx, 20);
        fkt_seal(db); /* damage to sealed rows (unsealed ones are the documented window) */
        int64_t lo = q_i64(db, "SELECT min(id) FROM " AUDIT, 0);
        int64_t hi = q_i64(db, "SELECT max(id) FROM " AUDIT, 0);
        int64_t d = dm->at_end ? hi : anchor;
        int64_t want = 0;
        if (dm->sql) {
            char sql[1200], bypassed[4000];
            with_d(sql, sizeof sql, dm->sql, d);
            snprintf(bypassed, sizeof bypassed, "BEGIN; %s%s; %sCOMMIT", FKT_BYPASS_ON, sql,
                     FKT_BYPASS_OFF);
            assert_int_equal(fkt_pg_exec(db, bypassed), 0);
            want = q_i64(db, dm->expect_sql, d);
        }
        for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++)
            check_split(ctx, dm, &splits[s], dir, d, lo, hi, want);
        fk_close(ctx);
        char *sdb = on_standby(db);
        if (sdb) {
            fk_ctx *sctx = NULL;
            if (fk_open(&sctx, sdb, NULL) != FK_OK)
                fail_msg("fk_open on the standby: %s", fk_errmsg(NULL));
            for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++)
                check_split(sctx, dm, &splits[s], dir, d, lo, hi, want);
            fk_close(sctx);
            free(sdb);
        }
        fkt_rm_tree(dir);
        free(db);
    }
}

/* Left to itself, verification splits a log spanning 4096 ids or more
 * (here: ids skipped, as a rolled-back writer leaves them) and finds the
 * same damage as one pass; a short one stays on one connection. */
static void a_long_log_is_split_by_itself(void **state)
{
    (void)state;
    char *db = fkt_installed_db(pg, 0, NULL);
    fk_ctx *ctx = fkt_open_installed(db, 0, NULL);
    write_events(ctx, 10);
    fk_report *r = NULL;
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_OK);
    assert_int_equal(fk_report_counter(r, "connections"), 1);
    fk_report_free(r);
    free(fkt_q1(db, "SELECT setval('fortknox.audit_id_seq', nextval('fortknox.audit_id_seq') "
                    "+ 10000)"));
    write_events(ctx, 10);
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_OK);
    assert_int_equal(fk_report_counter(r, "connections"), 2);
    assert_int_equal(fk_report_counter(r, "rows"), q_i64(db, "SELECT count(*) FROM " AUDIT, 0));
    fk_report_free(r);
    int64_t last = q_i64(db, "SELECT max(id) FROM " AUDIT, 0);
    char sql[4000];
    with_d(sql, sizeof sql, "BEGIN; " FKT_BYPASS_ON "UPDATE " AUDIT " SET entity_name = 'x' "
           "WHERE id = {d}; " FKT_BYPASS_OFF "COMMIT", last - 3);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    assert_int_equal(fk_audit_verify(&r, ctx, NULL), FK_ETAMPER);
    assert_int_equal(fk_report_counter(r, "connections"), 2);
    assert_int_equal(fk_report_item_at(r, 0)->entity_id, last - 3);
    fk_report_free(r);
    fk_close(ctx);
    free(db);
}

/* The helper connection reads as the context's role: a login role that
 * may read the log only through SET ROLE (to an auditor role granted
 * SELECT on it) verifies both ranges, and so does the auditor logged in
 * itself. */
static void the_helper_reads_as_the_contexts_role(void **state)
{
    (void)state;
    char *db = fkt_installed_db(pg, 0, NULL);
    fk_ctx *ctx = fkt_open_installed(db, 0, NULL);
    write_events(ctx, 20);
    fk_close(ctx);
    /* an auditor's grant is DDL on fortknox's objects: past the DDL guard */
    assert_int_equal(fkt_pg_exec(db, FKT_DDL_GUARD_BYPASSED(
                                         "DO $r$ BEGIN CREATE ROLE fk_split_auditor LOGIN; CREATE "
                                         "ROLE fk_split_login LOGIN NOINHERIT; EXCEPTION WHEN "
                                         "duplicate_object THEN NULL; END $r$; GRANT "
                                         "fk_split_auditor TO fk_split_login; GRANT USAGE ON "
                                         "SCHEMA fortknox TO fk_split_auditor; GRANT SELECT ON "
                                         "ALL TABLES IN SCHEMA fortknox TO fk_split_auditor")),
                     0);
    int64_t mid = q_i64(db, "SELECT min(id) + 10 FROM " AUDIT, 0);
    const char *users[] = {"fk_split_auditor", "fk_split_login"};
    for (int i = 0; i < 2; i++) {
        char conninfo[600];
        snprintf(conninfo, sizeof conninfo, "%s user=%s", db, users[i]);
        if (fk_open(&ctx, conninfo, NULL) != FK_OK)
            fail_msg("fk_open as %s: %s", users[i], fk_errmsg(NULL));
        if (i == 1)
            assert_int_equal(fk_exec(ctx, "SET ROLE fk_split_auditor"), FK_OK);
        fk_report *r = NULL;
        int rc = fk__audit_verify_split(&r, ctx, NULL, 0, NULL, NULL, &mid, 1);
        if (rc != FK_OK)
            fail_msg("as %s: %s", users[i], fk_errmsg(ctx));
        assert_int_equal(fk_report_counter(r, "connections"), 2);
        fk_report_free(r);
        fk_close(ctx);
    }
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    int rc = fkt_pg_start_standby(&standby, pg);
    if (rc != 0 && rc != FKT_SKIP) {
        fkt_pg_stop(pg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(damage_is_found_wherever_the_ranges_split),
        cmocka_unit_test(a_long_log_is_split_by_itself),
        cmocka_unit_test(the_helper_reads_as_the_contexts_role),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (standby)
        fkt_pg_stop(standby);
    fkt_pg_stop(pg);
    return rc;
}
