/* The static SQL of an install (lib/sql/) is SQL: each file runs with psql
 * -f against a fresh database once its placeholders are filled in, in the
 * order install runs them; and it raises the SQLSTATEs and creates the
 * triggers the C code (error mapping, doctor) expects by name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_internal.h"
#include "fkt.h"
#include "sql_files.h"
#include "sql_names.h"

#ifndef FKT_LIB_SQL_DIR
#error "FKT_LIB_SQL_DIR must be defined by the build"
#endif

/* In install's order (install_sql.c); the generated entity_doc, which
 * capture and guard call, is only resolved when a trigger fires. */
static const struct {
    const char *file;
    const char *embedded;
} files[] = {
    {"core--1.sql", fk__sql_core},
    {"audit_write--1.sql", fk__sql_audit_write},
    {"capture--1.sql", fk__sql_capture},
    {"guard--1.sql", fk__sql_guard},
    {"ddl_guard--1.sql", fk__sql_ddl_guard},
    /* Parthenon's design_audit_log adopted: here run on the audit table the
     * files above made, which they leave as an adopted one must be */
    {"adopt_before--1.sql", fk__sql_adopt_before},
    {"adopt_after--1.sql", fk__sql_adopt_after},
    /* a superuser's part; the harness's cluster runs as one */
    {"ddl_guard_events--1.sql", fk__sql_ddl_guard_events},
    /* a query install runs on what the files above made */
    {"fingerprint--1.sql", fk__sql_fingerprint},
};
#define NFILES (sizeof files / sizeof files[0])

static fkt_pg *pg;

/* text with every occurrence of from replaced by to (malloc'd). */
static char *replace(const char *text, const char *from, const char *to)
{
    size_t lf = strlen(from), lt = strlen(to), count = 0;
    for (const char *p = strstr(text, from); p; p = strstr(p + lf, from))
        count++;
    char *out = malloc(strlen(text) + count * lt + 1), *o = out;
    assert_non_null(out);
    for (const char *p = text;;) {
        const char *hit = strstr(p, from);
        if (!hit) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, to, lt);
        o += lt;
        p = hit + lf;
    }
}

/* The file as psql will run it: placeholders filled in as install does. */
static char *filled(const char *text)
{
    char *a = replace(text, FK__SQL_SCHEMA, "\"fk sql\"");
    char *b = replace(a, FK__SQL_AUDIT, "\"fk sql\".\"audit log\"");
    free(a);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void each_file_runs_with_psql(void **state)
{
    (void)state;
    char bindir[512], psql[600];
    if (fkt_pg_bindir(bindir, sizeof bindir) != 0)
        fail_msg("no PostgreSQL bin directory (pg_config --bindir, /usr/lib/postgresql/*/bin)");
    snprintf(psql, sizeof psql, "%s/psql", bindir);
    char *db = fkt_pg_new_db(pg, NULL);
    assert_non_null(db);
    char *dir = fkt_tempdir("fkt-sql");
    assert_non_null(dir);
    for (size_t i = 0; i < NFILES; i++) {
        char src[1024], dst[1024];
        snprintf(src, sizeof src, "%s/%s", FKT_LIB_SQL_DIR, files[i].file);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i].file);
        char *text = fkt_slurp(src, NULL);
        assert_non_null(text);
        /* psql runs what the library installs */
        assert_string_equal(text, files[i].embedded);
        char *sql = filled(text);
        write_file(dst, sql);
        free(sql);
        free(text);
        const char *const args[] = {"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", dst,
                                    NULL};
        fkt_run r = fkt_run_program(psql, NULL, NULL, args, 120);
        if (r.status != 0)
            fail_msg("psql -f %s exited %d: %s", files[i].file, r.status, r.err);
        fkt_run_free(&r);
    }
    /* the last file's objects are there: the run went through */
    char *got = fkt_pg_query1(db, "SELECT count(*) FROM pg_trigger WHERE tgname IN ('"
                              FK__TRG_CHAIN "', '" FK__TRG_IMMUTABLE "', '" FK__TRG_NO_TRUNCATE
                              "') AND tgrelid = '\"fk sql\".\"audit log\"'::regclass");
    assert_non_null(got);
    assert_string_equal(got, "3");
    free(got);
    got = fkt_pg_query1(db, "SELECT '\"fk sql\".guard_truncate'::regproc::text");
    assert_non_null(got);
    assert_string_equal(got, "\"fk sql\".guard_truncate");
    free(got);
    got = fkt_pg_query1(db, "SELECT count(*) FROM pg_event_trigger WHERE evtenabled = 'A'");
    assert_non_null(got);
    assert_string_equal(got, "4");
    free(got);
    fkt_rm_tree(dir);
    free(db);
}

/* error.c maps these SQLSTATEs to FK_EGUARD / FK_ETAMPER; doctor looks for
 * these trigger names. */
static void sql_and_c_agree_on_names(void **state)
{
    (void)state;
    const char *guard = "ERRCODE = '" FK__GUARD_SQLSTATE "'";
    assert_non_null(strstr(fk__sql_core, guard));
    assert_non_null(strstr(fk__sql_guard, guard));
    assert_non_null(strstr(fk__sql_ddl_guard, guard));
    assert_non_null(strstr(fk__sql_ddl_guard_events, guard));
    /* doctor and install look for the event triggers by these names */
    static const char *const events[] = {FK__EVT_DDL_START, FK__EVT_SQL_DROP, FK__EVT_DDL_END,
                                         FK__EVT_TABLE_REWRITE};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        char want[160];
        snprintf(want, sizeof want, "CREATE EVENT TRIGGER %s ON ", events[i]);
        if (!strstr(fk__sql_ddl_guard_events, want))
            fail_msg("ddl_guard_events--1.sql does not create event trigger %s", events[i]);
        snprintf(want, sizeof want, "ALTER EVENT TRIGGER %s ENABLE ALWAYS;", events[i]);
        if (!strstr(fk__sql_ddl_guard_events, want))
            fail_msg("ddl_guard_events--1.sql does not make %s ENABLE ALWAYS", events[i]);
    }
    assert_non_null(strstr(fk__sql_core, "ERRCODE = '" FK__TAMPER_SQLSTATE "'"));
    static const char *const core_triggers[] = {FK__TRG_CHAIN, FK__TRG_IMMUTABLE,
                                                FK__TRG_NO_TRUNCATE, FK__TRG_HEAD_GUARD,
                                                FK__TRG_HEAD_NO_TRUNCATE};
    for (size_t i = 0; i < sizeof core_triggers / sizeof core_triggers[0]; i++) {
        char want[100];
        snprintf(want, sizeof want, "CREATE OR REPLACE TRIGGER %s ", core_triggers[i]);
        if (!strstr(fk__sql_core, want))
            fail_msg("core--1.sql does not create trigger %s", core_triggers[i]);
    }
}

static int setup(void **state)
{
    (void)state;
    pg = fkt_pg_start_or_exit();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fkt_pg_stop(pg);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sql_and_c_agree_on_names),
        cmocka_unit_test(each_file_runs_with_psql),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
