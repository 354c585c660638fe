/* Connecting to a real throwaway PostgreSQL; errors from the server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"

static fkt_pg *pg;
/* the maintenance database has no Parthenon tables; a version-1 struct, as
 * programs built before the timeouts pass it (they get the default timeouts) */
static const fk_ctx_options lazy = {.version = 1, .flags = FK_OPEN_LAZY_REGISTRY};

static void opens_and_reports_server_version(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_non_null(ctx);
    assert_true(fk_server_version(ctx) >= 120000);
    assert_string_equal(fk_errmsg(ctx), "");
    assert_int_equal(fk_errcode(ctx), FK_OK);
    fk_close(ctx);
}

static void exec_runs_and_fails_with_server_message(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_int_equal(fk_exec(ctx, "CREATE TEMP TABLE t(x int); INSERT INTO t VALUES (1)"),
                     FK_OK);
    assert_int_equal(fk_exec(ctx, "SELECT * FROM no_such_table"), FK_EDB);
    assert_int_equal(fk_errcode(ctx), FK_EDB);
    assert_non_null(strstr(fk_errmsg(ctx), "no_such_table"));
    assert_non_null(strstr(fk_errmsg(ctx), "42P01")); /* SQLSTATE is part of the message */
    /* a later success clears the error */
    assert_int_equal(fk_exec(ctx, "SELECT 1"), FK_OK);
    assert_string_equal(fk_errmsg(ctx), "");
    assert_int_equal(fk_exec(ctx, ""), FK_OK);
    assert_int_equal(fk_exec(ctx, NULL), FK_EINVAL);
    fk_close(ctx);
}

static void guard_sqlstate_maps_to_fk_eguard(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &lazy), FK_OK);
    int rc = fk_exec(ctx, "DO $$BEGIN RAISE EXCEPTION 'blocked by fortknox' "
                          "USING ERRCODE = 'FK001', HINT = 'soft-delete it'; END$$");
    assert_int_equal(rc, FK_EGUARD);
    assert_non_null(strstr(fk_errmsg(ctx), "soft-delete it"));
    fk_close(ctx);
}

/* fk_exec discards rows: a DO block that raises on a mismatch checks a setting */
static int setting_is(fk_ctx *ctx, const char *name, const char *want)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "DO $$BEGIN IF current_setting('%s') <> '%s' THEN RAISE EXCEPTION '%s is %%',"
             " current_setting('%s'); END IF; END$$",
             name, want, name, name);
    int rc = fk_exec(ctx, sql);
    if (rc)
        print_message("# %s\n", fk_errmsg(ctx));
    return rc == FK_OK;
}

/* Without lock_timeout a migration holding a design table made doctor wait
 * forever: every session the library opens bounds its waits. */
static void every_session_bounds_its_waits(void **state)
{
    (void)state;
    fk_ctx_options o;
    assert_int_equal(fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION), FK_OK);
    assert_int_equal(o.lock_timeout_ms, FK_DEFAULT_LOCK_TIMEOUT_MS);
    assert_int_equal(o.statement_timeout_ms, FK_DEFAULT_STATEMENT_TIMEOUT_MS);
    fk_ctx_options init = FK_CTX_OPTIONS_INIT;
    assert_int_equal(init.lock_timeout_ms, FK_DEFAULT_LOCK_TIMEOUT_MS);
    o.flags = FK_OPEN_LAZY_REGISTRY;
    fk_ctx *ctx = NULL;
    /* the defaults, also for a version-1 struct (built before the timeouts) */
    const fk_ctx_options *defaults[] = {&o, &lazy};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), defaults[i]), FK_OK);
        assert_true(setting_is(ctx, "lock_timeout", "10s"));
        assert_true(setting_is(ctx, "statement_timeout", "10min"));
        fk_close(ctx);
    }
    o.lock_timeout_ms = 2500;
    o.statement_timeout_ms = 0; /* the server's setting */
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &o), FK_OK);
    assert_true(setting_is(ctx, "lock_timeout", "2500ms"));
    assert_true(setting_is(ctx, "statement_timeout", "0"));
    fk_close(ctx);
    o.lock_timeout_ms = -1;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &o), FK_EINVAL);
    assert_null(ctx);
}

static void session_is_utf8_iso_utc(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_int_equal(fk_exec(ctx, "DO $$BEGIN "
                                  "IF current_setting('TimeZone') <> 'UTC' THEN RAISE 'tz'; END IF; "
                                  "IF current_setting('client_encoding') <> 'UTF8' THEN RAISE 'enc'; END IF; "
                                  "IF current_setting('DateStyle') NOT LIKE 'ISO%' THEN RAISE 'ds'; END IF; "
                                  "END$$"),
                     FK_OK);
    fk_close(ctx);
}

static void library_prints_nothing(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    fkt_quiet_begin();
    int rc1 = fk_open(&ctx, fkt_pg_conninfo(pg), &lazy);
    int rc2 = fk_exec(ctx, "DO $$BEGIN RAISE NOTICE 'a notice'; RAISE WARNING 'a warning'; END$$");
    int rc3 = fk_exec(ctx, "SELECT 1/0");
    fk_close(ctx);
    fk_ctx *bad = NULL;
    int rc4 = fk_open(&bad, "host=/nonexistent port=1", NULL);
    long printed = fkt_quiet_end();
    assert_int_equal(rc1, FK_OK);
    assert_int_equal(rc2, FK_OK);
    assert_int_equal(rc3, FK_EDB);
    assert_int_equal(rc4, FK_EDB);
    assert_int_equal(printed, 0);
}

static void contexts_are_independent(void **state)
{
    (void)state;
    fk_ctx *a = NULL, *b = NULL;
    assert_int_equal(fk_open(&a, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_int_equal(fk_open(&b, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_int_equal(fk_exec(a, "SELECT nonsense_column"), FK_EDB);
    assert_string_equal(fk_errmsg(b), "");
    assert_int_equal(fk_exec(b, "SELECT 1"), FK_OK);
    assert_non_null(strstr(fk_errmsg(a), "nonsense_column"));
    fk_close(a);
    fk_close(b);
}

static void lost_connection_is_a_clear_error(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL, *killer = NULL;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_int_equal(fk_open(&killer, fkt_pg_conninfo(pg), &lazy), FK_OK);
    assert_int_equal(fk_exec(killer, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE pid <> pg_backend_pid() AND application_name = 'victim'"),
                     FK_OK);
    fk_close(ctx);
    fk_ctx_options o = FK_CTX_OPTIONS_INIT;
    o.application_name = "victim";
    o.flags = FK_OPEN_LAZY_REGISTRY;
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), &o), FK_OK);
    assert_int_equal(fk_exec(killer, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE application_name = 'victim'"),
                     FK_OK);
    assert_int_equal(fk_exec(ctx, "SELECT 1"), FK_EDB);
    assert_true(strlen(fk_errmsg(ctx)) > 0);
    fk_close(ctx);
    fk_close(killer);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opens_and_reports_server_version),
        cmocka_unit_test(exec_runs_and_fails_with_server_message),
        cmocka_unit_test(guard_sqlstate_maps_to_fk_eguard),
        cmocka_unit_test(session_is_utf8_iso_utc),
        cmocka_unit_test(every_session_bounds_its_waits),
        cmocka_unit_test(library_prints_nothing),
        cmocka_unit_test(contexts_are_independent),
        cmocka_unit_test(lost_connection_is_a_clear_error),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
