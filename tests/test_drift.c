/* Schema drift is never silent: a document (a fixture file, or a state the
 * audit log recorded) whose keys no longer match its table -- a column
 * renamed, dropped or added since, at the entity level or in child rows --
 * is refused naming it, and nothing changes; fk_key_map (--map, --drop-key,
 * --default) reads it explicitly, exactly, and the audit rows say how.
 * Table-driven: {file import, restore from history} x {drifts} x
 * {no map, an entry nothing uses, the map}. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"

static fkt_pg *pg;

static fk_ctx *open_ctx(const char *db)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    return ctx;
}

static void expect(const char *db, const char *sql, const char *want)
{
    char *v = fkt_q1(db, sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s\n  want: %s\n  got:  %s", sql, want, v);
    free(v);
}

/* Everything a refused operation must leave as it was. */
static char *state_of(const char *db)
{
    return fkt_q1(db, "SELECT md5(concat((SELECT string_agg(t::text, ',' ORDER BY id) FROM"
                      " app.cohort_definitions t), (SELECT string_agg(t::text, ',' ORDER BY id)"
                      " FROM app.concept_sets t), (SELECT string_agg(t::text, ',' ORDER BY id)"
                      " FROM app.concept_set_items t), (SELECT count(*) FROM"
                      " fortknox.audit_log)))");
}

typedef enum source { FROM_FILES, FROM_HISTORY } source;

typedef struct drift {
    const char *name;
    const char *type;
    int64_t id;
    const char *before;  /* the state the documents hold */
    const char *after;   /* the state to undo */
    const char *ddl;     /* the drift, by a superuser past the DDL guard */
    const char *said[3]; /* in the refusal: the key or column, and the way out */
    const char *map[2], *drop[1], *deflt[1];
    const char *check, *want; /* after the mapped operation */
    const char *context;      /* in the context of the entity's audit row */
} drift;

static const drift drifts[] = {
    {"renamed column", "cohort_definition", 1001,
     "UPDATE app.cohort_definitions SET name = 'Before', description = 'Desc S' WHERE id = 1001",
     "UPDATE app.cohort_definitions SET name = 'After', description = 'Desc T' WHERE id = 1001",
     "ALTER TABLE app.cohort_definitions RENAME COLUMN description TO summary",
     {"key \"description\" of cohort_definition", "--map cohort_definitions.description=",
      "--drop-key cohort_definitions.description"},
     {"description=summary", NULL}, {NULL}, {NULL},
     "SELECT name || ':' || summary FROM app.cohort_definitions WHERE id = 1001", "Before:Desc S",
     " --map description=summary"},
    {"dropped column", "cohort_definition", 1001,
     "UPDATE app.cohort_definitions SET name = 'Before', tags = '[\"t\"]', quality_tier = 'gold'"
     " WHERE id = 1001",
     "UPDATE app.cohort_definitions SET name = 'After', quality_tier = 'tin' WHERE id = 1001",
     "ALTER TABLE app.cohort_definitions DROP COLUMN tags",
     {"key \"tags\" of cohort_definition", "--drop-key cohort_definitions.tags",
      "--map cohort_definitions.tags="},
     {NULL, NULL}, {"cohort_definitions.tags"}, {NULL},
     "SELECT name || ':' || quality_tier FROM app.cohort_definitions WHERE id = 1001",
     "Before:gold", " --drop-key cohort_definitions.tags"},
    {"added column", "cohort_definition", 1001,
     "UPDATE app.cohort_definitions SET name = 'Before' WHERE id = 1001",
     "UPDATE app.cohort_definitions SET name = 'After' WHERE id = 1001",
     "ALTER TABLE app.cohort_definitions ADD COLUMN note text DEFAULT 'n/a';"
     " UPDATE app.cohort_definitions SET note = 'later' WHERE id = 1001",
     {"cohort_definition has no key for column(s) note", "--default cohort_definitions.note",
      "--map cohort_definitions.OLD_KEY=COLUMN"},
     {NULL, NULL}, {NULL}, {"cohort_definitions.note"},
     "SELECT name || ':' || note FROM app.cohort_definitions WHERE id = 1001", "Before:n/a",
     " --default cohort_definitions.note"},
    {"renamed child column", "concept_set", 1001,
     "UPDATE app.concept_sets SET name = 'Before' WHERE id = 1001;"
     " UPDATE app.concept_set_items SET is_excluded = true WHERE id = 100001",
     "UPDATE app.concept_sets SET name = 'After' WHERE id = 1001;"
     " UPDATE app.concept_set_items SET is_excluded = false WHERE id IN (100001, 100003)",
     "ALTER TABLE app.concept_set_items RENAME COLUMN is_excluded TO excluded",
     {"key \"items[].is_excluded\" of concept_set", "--map concept_set_items.is_excluded=",
      "--drop-key concept_set_items.is_excluded"},
     {"concept_set_items.is_excluded=excluded", NULL}, {NULL}, {NULL},
     "SELECT (SELECT name FROM app.concept_sets WHERE id = 1001) || ':' || string_agg("
     "excluded::text, ',' ORDER BY id) FROM app.concept_set_items WHERE concept_set_id = 1001",
     "Before:true,false,true", " --map concept_set_items.is_excluded=excluded"},
};

static size_t count(const char *const *v, size_t max)
{
    size_t n = 0;
    while (n < max && v[n])
        n++;
    return n;
}

/* The case's map, plus `extra` (an entry nothing uses) when given. */
typedef struct mapping {
    const char *map[3];
    fk_key_map km;
} mapping;

static void mapping_of(mapping *m, const drift *d, const char *extra)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(fk_key_map_init(&m->km, FK_KEY_MAP_VERSION), FK_OK);
    size_t n = count(d->map, 2);
    memcpy(m->map, d->map, n * sizeof *d->map);
    if (extra)
        m->map[n++] = extra;
    m->km.map = m->map;
    m->km.nmap = n;
    m->km.drop_key = d->drop;
    m->km.ndrop_key = count(d->drop, 1);
    m->km.default_col = d->deflt;
    m->km.ndefault_col = count(d->deflt, 1);
}

/* The world of one case: its database, the documents in the state
 * `before`, the table drifted since. */
typedef struct world {
    char *db, *dir;
    int64_t row; /* FROM_HISTORY: the audit row holding `before` */
} world;

static void install(fk_ctx *ctx)
{
    fk_install_options io;
    fk_install_options_init(&io, FK_INSTALL_OPTIONS_VERSION);
    io.mode = FK_AUDIT_CAPTURE;
    if (fk_install(NULL, ctx, &io) != FK_OK)
        fail_msg("install: %s", fk_errmsg(ctx));
}

static world world_of(const drift *d, source src)
{
    world w = {fkt_pg_new_db(pg, fkt_schema_and_seed), NULL, 0};
    fk_ctx *ctx = open_ctx(w.db);
    install(ctx);
    assert_int_equal(fkt_pg_exec(w.db, d->before), 0);
    if (src == FROM_FILES) {
        w.dir = fkt_tempdir_or_fail("fk-drift");
        if (fk_export(NULL, ctx, w.dir, NULL) != FK_OK)
            fail_msg("export: %s", fk_errmsg(ctx));
    } else {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT max(id) FROM fortknox.audit_log WHERE entity_type ="
                                  " '%s' AND entity_id = %" PRId64, d->type, d->id);
        char *v = fkt_q1(w.db, sql);
        w.row = atoll(v);
        free(v);
        assert_true(w.row > 0);
    }
    fk_close(ctx);
    assert_int_equal(fkt_pg_exec(w.db, d->after), 0);
    char ddl[1200]; /* the guard's SQL holds '%': no printf */
    ddl[0] = '\0';
    strcat(strcat(strcat(strcat(ddl, "BEGIN; " FKT_DDL_GUARD_OFF), d->ddl), "; "),
           FKT_DDL_GUARD_ON "COMMIT");
    assert_int_equal(fkt_pg_exec(w.db, ddl), 0);
    return w;
}

static int run_op(fk_ctx *ctx, const drift *d, source src, const world *w, const fk_key_map *km)
{
    if (src == FROM_HISTORY)
        return fk_entity_restore_mapped(NULL, ctx, d->type, d->id, NULL, w->row, km);
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.key_map = km;
    return fk_import(NULL, ctx, w->dir, &o);
}

static void one_case(const drift *d, source src)
{
    const char *what = src == FROM_FILES ? "import" : "restore";
    world w = world_of(d, src);
    fk_ctx *ctx = open_ctx(w.db); /* the registry as the table now is */
    char *before = state_of(w.db);

    /* no map: refused, naming the document, the key or column and the way out */
    int rc = run_op(ctx, d, src, &w, NULL);
    const char *msg = fk_errmsg(ctx);
    if (rc != FK_EPARSE)
        fail_msg("%s, %s, no map: rc %d (%s)", d->name, what, rc, msg);
    const char *doc = src == FROM_FILES ? (d->id && strcmp(d->type, "concept_set") == 0
                                               ? "concept_sets/"
                                               : "cohort_definitions/")
                                        : "audit row ";
    if (!strstr(msg, doc) || !strstr(msg, "othing was"))
        fail_msg("%s, %s: message names no document: %s", d->name, what, msg);
    for (size_t i = 0; i < 3; i++)
        if (!strstr(msg, d->said[i]))
            fail_msg("%s, %s: message lacks \"%s\": %s", d->name, what, d->said[i], msg);
    char *now = state_of(w.db);
    if (strcmp(before, now) != 0)
        fail_msg("%s, %s: a refused operation changed the database", d->name, what);
    free(now);

    /* an entry nothing uses: a typo must not pass */
    mapping m;
    mapping_of(&m, d, "no_such_key=name");
    rc = run_op(ctx, d, src, &w, &m.km);
    if (rc != FK_EINVAL || !strstr(fk_errmsg(ctx), "--map no_such_key=name matched nothing"))
        fail_msg("%s, %s, unused entry: rc %d (%s)", d->name, what, rc, fk_errmsg(ctx));
    now = state_of(w.db);
    if (strcmp(before, now) != 0)
        fail_msg("%s, %s: an operation refused for its map changed the database", d->name, what);
    free(now);

    /* the map: accepted, the values exact, the audit row says how */
    mapping_of(&m, d, NULL);
    rc = run_op(ctx, d, src, &w, &m.km);
    if (rc != FK_OK)
        fail_msg("%s, %s, mapped: rc %d (%s)", d->name, what, rc, fk_errmsg(ctx));
    expect(w.db, d->check, d->want);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT action || ' ' || context FROM fortknox.audit_log WHERE"
                              " entity_type = '%s' AND entity_id = %" PRId64 " ORDER BY id DESC"
                              " LIMIT 1", d->type, d->id);
    char *ctxt = fkt_q1(w.db, sql);
    if (!strstr(ctxt, d->context) ||
        strncmp(ctxt, src == FROM_FILES ? "updated import:" : "restored restore:", 15) != 0)
        fail_msg("%s, %s: audit row %s lacks \"%s\"", d->name, what, ctxt, d->context);
    free(ctxt);
    if (fk_audit_verify(NULL, ctx, NULL) != FK_OK)
        fail_msg("%s, %s: audit verify: %s", d->name, what, fk_errmsg(ctx));
    free(before);
    fk_close(ctx);
    if (w.dir)
        fkt_rm_tree(w.dir);
    free(w.db);
}

static void drift_in_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof drifts / sizeof drifts[0]; i++)
        one_case(&drifts[i], FROM_FILES);
}

static void drift_in_history(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof drifts / sizeof drifts[0]; i++)
        one_case(&drifts[i], FROM_HISTORY);
}

/* The blanket FK_UNKNOWN_KEYS_DROP (--drop-unknown-keys) is a reading of the
 * documents too: the audit rows record it. */
static void drop_unknown_keys_is_recorded(void **state)
{
    (void)state;
    const drift *d = &drifts[1]; /* the dropped column */
    world w = world_of(d, FROM_FILES);
    fk_ctx *ctx = open_ctx(w.db);
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.unknown_keys = FK_UNKNOWN_KEYS_DROP;
    if (fk_import(NULL, ctx, w.dir, &o) != FK_OK)
        fail_msg("import: %s", fk_errmsg(ctx));
    expect(w.db, d->check, d->want);
    char *c = fkt_q1(w.db, "SELECT context FROM fortknox.audit_log WHERE entity_type ="
                           " 'cohort_definition' AND entity_id = 1001 ORDER BY id DESC LIMIT 1");
    if (strncmp(c, "import:", 7) != 0 || !strstr(c, " --drop-unknown-keys"))
        fail_msg("context: %s", c);
    free(c);
    fk_close(ctx);
    fkt_rm_tree(w.dir);
    free(w.db);
}

/* Entries that cannot be right are refused before anything is read. */
static void bad_entries_are_usage_errors(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    install(ctx);
    char *dir = fkt_tempdir_or_fail("fk-drift");
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    static const struct {
        int list; /* 0 map, 1 drop, 2 default */
        const char *entry, *said;
    } cases[] = {
        {0, "description", "expected [TABLE.]OLD=NEW"},
        {0, "=name", "expected [TABLE.]OLD=NEW"},
        {0, "description=", "expected [TABLE.]OLD=NEW"},
        {0, "name=name", "the key and the column are the same"},
        {0, "description=no_such_column", "no_such_column names no column of any registered"},
        {0, "concept_set_items.x=description", "description names no column of \"app\"."
                                               "\"concept_set_items\""},
        {0, "cohort_definitions.=name", "no key after the table"},
        {1, "", "an empty entry"},
        {1, "cohort_definitions.name", "name is a column of"},
        {2, "no_such_column", "names no column"},
        {2, "concept_set_items.tags", "tags names no column of \"app\".\"concept_set_items\""},
    };
    char *before = state_of(db);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fk_key_map km;
        fk_key_map_init(&km, FK_KEY_MAP_VERSION);
        const char *one[1] = {cases[i].entry};
        if (cases[i].list == 0)
            km.map = one, km.nmap = 1;
        else if (cases[i].list == 1)
            km.drop_key = one, km.ndrop_key = 1;
        else
            km.default_col = one, km.ndefault_col = 1;
        fk_import_options o;
        fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
        o.key_map = &km;
        int rc = fk_import(NULL, ctx, dir, &o);
        if (rc != FK_EINVAL || !strstr(fk_errmsg(ctx), cases[i].said))
            fail_msg("entry \"%s\": rc %d: %s", cases[i].entry, rc, fk_errmsg(ctx));
    }
    /* a map longer than the audit rows can record is refused, not cut */
    {
        static const char *const many[] = {"tags=description", "x_1=name", "x_2=name",
                                           "x_3=name", "x_4=name", "x_5=name", "x_6=name",
                                           "x_7=name", "x_8=name", "x_9=name", "x_10=name",
                                           "x_11=name", "x_12=name", "x_13=name"};
        fk_key_map long_map;
        fk_key_map_init(&long_map, FK_KEY_MAP_VERSION);
        long_map.map = many;
        long_map.nmap = sizeof many / sizeof many[0];
        fk_import_options lo;
        fk_import_options_init(&lo, FK_IMPORT_OPTIONS_VERSION);
        lo.key_map = &long_map;
        assert_int_equal(fk_import(NULL, ctx, dir, &lo), FK_EINVAL);
        if (!strstr(fk_errmsg(ctx), "than the 150 the audit rows' context can record"))
            fail_msg("long map: %s", fk_errmsg(ctx));
    }
    /* the same key read two ways */
    fk_key_map km;
    fk_key_map_init(&km, FK_KEY_MAP_VERSION);
    const char *maps[1] = {"tags=description"}, *drops[1] = {"tags"};
    km.map = maps, km.nmap = 1, km.drop_key = drops, km.ndrop_key = 1;
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.key_map = &km;
    assert_int_equal(fk_import(NULL, ctx, dir, &o), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(ctx), "read the same key twice"));
    /* a map onto a column the document also has: which value? refused */
    const char *clash[1] = {"tags=description"};
    fk_key_map_init(&km, FK_KEY_MAP_VERSION);
    km.map = clash, km.nmap = 1;
    assert_int_equal(fk_import(NULL, ctx, dir, &o), FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(ctx), "both fill column description"));
    char *now = state_of(db);
    assert_string_equal(before, now);
    free(now);
    free(before);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* A json column renamed since the export keeps its JSON null (listed in the
 * manifest under the column's old name), and --default cannot fill a NOT
 * NULL column without a default. */
static void mapped_json_null_and_defaults_without_a_value(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET tags = 'null'::jsonb "
                                     "WHERE id = 1001"),
                     0);
    char *dir = fkt_tempdir_or_fail("fk-drift");
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    fk_close(ctx);
    assert_int_equal(fkt_pg_exec(db, "ALTER TABLE app.cohort_definitions RENAME COLUMN tags TO "
                                     "labels; UPDATE app.cohort_definitions SET labels = '[1]'"),
                     0);
    ctx = open_ctx(db);
    static const char *const map[] = {"tags=labels"};
    fk_key_map km;
    fk_key_map_init(&km, FK_KEY_MAP_VERSION);
    km.map = map;
    km.nmap = 1;
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.key_map = &km;
    if (fk_import(NULL, ctx, dir, &o) != FK_OK)
        fail_msg("import: %s", fk_errmsg(ctx));
    expect(db, "SELECT string_agg(id || ':' || coalesce(jsonb_typeof(labels), 'SQL NULL'), ',' "
               "ORDER BY id) FROM app.cohort_definitions WHERE id = 1001",
           "1001:null");
    fk_close(ctx);

    assert_int_equal(fkt_pg_exec(db, "ALTER TABLE app.cohort_definitions ADD COLUMN must text "
                                     "NOT NULL DEFAULT 'x'; ALTER TABLE app.cohort_definitions "
                                     "ALTER COLUMN must DROP DEFAULT"),
                     0);
    ctx = open_ctx(db);
    static const char *const must[] = {"must"};
    km.default_col = must;
    km.ndefault_col = 1;
    assert_int_equal(fk_import(NULL, ctx, dir, &o), FK_EPARSE);
    if (!strstr(fk_errmsg(ctx), "which is NOT NULL without a default: --default must cannot"))
        fail_msg("message: %s", fk_errmsg(ctx));
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drift_in_files),
        cmocka_unit_test(drift_in_history),
        cmocka_unit_test(drop_unknown_keys_is_recorded),
        cmocka_unit_test(bad_entries_are_usage_errors),
        cmocka_unit_test(mapped_json_null_and_defaults_without_a_value),
    };
    if (getenv("FKT_ONLY"))
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
