/* Status codes, messages, versions and argument checks: no database needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <string.h>

static void status_codes_have_text_and_names(void **state)
{
    (void)state;
    static const int codes[] = {FK_OK, FK_EINVAL, FK_ENOMEM, FK_EDB, FK_EIO,
                                FK_EPARSE, FK_ENOTFOUND, FK_ECONFLICT, FK_EVERIFY,
                                FK_ETAMPER, FK_EGUARD, FK_EUNSUPPORTED, FK_ECANCELLED};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_non_null(fk_strerror(codes[i]));
        assert_string_not_equal(fk_strerror(codes[i]), "unknown error");
        assert_true(strncmp(fk_status_name(codes[i]), "FK_", 3) == 0);
        for (size_t j = 0; j < i; j++) /* distinct codes, distinct texts */
            assert_string_not_equal(fk_strerror(codes[i]), fk_strerror(codes[j]));
    }
    assert_string_equal(fk_status_name(FK_EGUARD), "FK_EGUARD");
    assert_string_equal(fk_strerror(12345), "unknown error");
    assert_string_equal(fk_status_name(-999), "FK_EUNKNOWN");
}

static void codes_are_stable(void **state)
{
    (void)state; /* part of the ABI: a renumbering must fail here */
    assert_int_equal(FK_OK, 0);
    assert_int_equal(FK_EINVAL, -1);
    assert_int_equal(FK_ENOMEM, -2);
    assert_int_equal(FK_EDB, -3);
    assert_int_equal(FK_EIO, -4);
    assert_int_equal(FK_EPARSE, -5);
    assert_int_equal(FK_ENOTFOUND, -6);
    assert_int_equal(FK_ECONFLICT, -7);
    assert_int_equal(FK_EVERIFY, -8);
    assert_int_equal(FK_ETAMPER, -9);
    assert_int_equal(FK_EGUARD, -10);
}

static void versions_agree(void **state)
{
    (void)state;
    int ma = -1, mi = -1, pa = -1;
    fk_version(&ma, &mi, &pa);
    assert_int_equal(ma, FK_VERSION_MAJOR);
    assert_int_equal(mi, FK_VERSION_MINOR);
    assert_int_equal(pa, FK_VERSION_PATCH);
    assert_int_equal(fk_version_number(), FK_VERSION_NUMBER);
    assert_string_equal(fk_version_string(), FK_VERSION_STRING);
    fk_version(NULL, NULL, NULL);
}

static void null_is_harmless(void **state)
{
    (void)state;
    fk_free(NULL);
    fk_close(NULL);
    assert_int_equal(fk_server_version(NULL), 0);
}

/* A caller built against an older header has only that version's bytes:
 * initialising version v writes nothing past where version v ends (it
 * zeroed the whole current struct, past the end of an older caller's). */
#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
typedef int (*init_fn)(void *, unsigned);
static void options_init_writes_only_its_version(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        init_fn init;
        unsigned version;
        size_t end;
    } cases[] = {
        {"ctx v1", (init_fn)fk_ctx_options_init, 1, END_OF(fk_ctx_options, flags)},
        {"export v1", (init_fn)fk_export_options_init, 1, END_OF(fk_export_options, progress_data)},
        {"import v1", (init_fn)fk_import_options_init, 1, END_OF(fk_import_options, progress_data)},
        {"import v2", (init_fn)fk_import_options_init, 2, END_OF(fk_import_options, unknown_keys)},
        {"doctor v1", (init_fn)fk_doctor_options_init, 1,
         END_OF(fk_doctor_options, backup_shrink_ratio)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char buf[1024];
        memset(buf, 0xab, sizeof buf);
        assert_true(cases[i].end + 64 < sizeof buf);
        if (cases[i].init(buf, cases[i].version) != FK_OK)
            fail_msg("%s: init failed", cases[i].name);
        unsigned v;
        memcpy(&v, buf, sizeof v);
        if (v != cases[i].version)
            fail_msg("%s: version %u", cases[i].name, v);
        for (size_t k = cases[i].end; k < sizeof buf; k++)
            if (buf[k] != 0xab)
                fail_msg("%s: byte %zu written, past the end of version %u (%zu bytes)",
                         cases[i].name, k, cases[i].version, cases[i].end);
    }
}

static void options_init_checks_version(void **state)
{
    (void)state;
    fk_ctx_options o;
    memset(&o, 0xff, sizeof o);
    assert_int_equal(fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION), FK_OK);
    assert_int_equal(o.version, FK_CTX_OPTIONS_VERSION);
    assert_null(o.schema);
    assert_null(o.registry_file);
    assert_int_equal(fk_ctx_options_init(&o, 999), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "999"));
    assert_int_equal(fk_errcode(NULL), FK_EINVAL);
    assert_int_equal(fk_ctx_options_init(NULL, FK_CTX_OPTIONS_VERSION), FK_EINVAL);
    fk_ctx_options init = FK_CTX_OPTIONS_INIT;
    assert_int_equal(init.version, FK_CTX_OPTIONS_VERSION);
}

static void open_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(fk_open(NULL, "", NULL), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "out"));
    fk_ctx *ctx = (fk_ctx *)&ctx;
    fk_ctx_options o = FK_CTX_OPTIONS_INIT;
    o.version = 77;
    assert_int_equal(fk_open(&ctx, "", &o), FK_EINVAL);
    assert_null(ctx);
    assert_int_equal(fk_exec(NULL, "SELECT 1"), FK_EINVAL);
}

/* Every entry point says which argument is wrong, in one form:
 * "fn: invalid argument: <the check>", "fn: unsupported [options] version N",
 * "fn: ctx must not be NULL". */
static void entry_points_name_what_is_wrong(void **state)
{
    (void)state;
#define EXPECT(call, msg)                                                                        \
    do {                                                                                         \
        assert_int_equal((call), FK_EINVAL);                                                     \
        assert_string_equal(fk_errmsg(NULL), (msg));                                             \
    } while (0)
    fk_export_options eo;
    fk_doctor_options dopt = {0};
    dopt.version = 42;
    fk_ctx_options co = FK_CTX_OPTIONS_INIT;
    co.version = 77;
    fk_ctx *ctx = NULL;
    fk_report *r = NULL;
    EXPECT(fk_export_options_init(&eo, 0), "fk_export_options_init: unsupported version 0");
    EXPECT(fk_import_options_init(NULL, 1), "fk_import_options_init: unsupported version 1");
    EXPECT(fk_doctor_options_init(&dopt, 1000),
           "fk_doctor_options_init: unsupported version 1000");
    EXPECT(fk_open(NULL, "", NULL), "fk_open: invalid argument: out");
    EXPECT(fk_open(&ctx, "", &co), "fk_open: unsupported options version 77");
    EXPECT(fk_export(&r, NULL, "dir", NULL), "fk_export: ctx must not be NULL");
    EXPECT(fk_import(&r, NULL, "dir", NULL), "fk_import: ctx must not be NULL");
    EXPECT(fk_exec(NULL, "SELECT 1"), "fk_exec: ctx must not be NULL");
    EXPECT(fk_audit_write(NULL, NULL, NULL), "fk_audit_write: ctx must not be NULL");
    EXPECT(fk_doctor(&r, NULL, &dopt), "fk_doctor: ctx must not be NULL");
    assert_null(ctx);
    assert_null(r);
#undef EXPECT
}

static void open_reports_unreachable_server_without_password(void **state)
{
    (void)state;
    fk_ctx *ctx = (fk_ctx *)&ctx;
    int rc = fk_open(&ctx, "host=/nonexistent/fortknox port=1 user=x password=sekrit42 "
                           "connect_timeout=2", NULL);
    assert_int_equal(rc, FK_EDB);
    assert_null(ctx);
    assert_int_equal(fk_errcode(NULL), FK_EDB);
    assert_non_null(strstr(fk_errmsg(NULL), "cannot connect"));
    assert_null(strstr(fk_errmsg(NULL), "sekrit42"));
    rc = fk_open(&ctx, "this is = not a conninfo", NULL);
    assert_int_equal(rc, FK_EDB);
    assert_true(strlen(fk_errmsg(NULL)) > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_codes_have_text_and_names),
        cmocka_unit_test(codes_are_stable),
        cmocka_unit_test(versions_agree),
        cmocka_unit_test(null_is_harmless),
        cmocka_unit_test(options_init_checks_version),
        cmocka_unit_test(options_init_writes_only_its_version),
        cmocka_unit_test(open_rejects_bad_arguments),
        cmocka_unit_test(entry_points_name_what_is_wrong),
        cmocka_unit_test(open_reports_unreachable_server_without_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
