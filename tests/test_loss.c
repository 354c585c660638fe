/* No laundering: an entity that disappears without a recorded deletion keeps
 * its fixture file and manifest entry through every export, the export fails
 * with FK_ELOSS (everything else still written), and doctor keeps saying so;
 * only recorded deletions (or an acknowledged loss, itself audited) remove
 * files. Also: verify and drill refuse a directory that is no fixture
 * directory. Against a real server. */
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
#include <unistd.h>

#include "fkt.h"

static fkt_pg *pg;

#define COHORT_FILE "cohort_definitions/t2dm-new-metformin-users.json" /* id 1001 */
/* a delete behind every trigger's back (session_replication_role no longer
 * does it: the triggers are ENABLE ALWAYS) */
#define REPLICA_DELETE FKT_BYPASSED("DELETE FROM app.cohort_definitions WHERE id = 1001")
#define AUDITED_DELETE                                                                            \
    "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM app.cohort_definitions WHERE " \
    "id = 1001; COMMIT"

static int exists(const char *dir, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

static char *slurp(const char *dir, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    char *s = fkt_slurp(p, NULL);
    assert_non_null(s);
    return s;
}

/* The file the manifest gives an entity ("" when it lists none). */
static char *path_of(const char *dir, const char *type, long long id)
{
    char *m = slurp(dir, "fortknox-manifest.json"), want[200];
    snprintf(want, sizeof want, "\"type\": \"%s\", \"id\": %lld,", type, id);
    char *hit = strstr(m, want), *path = strdup("");
    if (hit) {
        char *line = hit;
        while (line > m && line[-1] != '\n')
            line--;
        char *start = strstr(line, "\"path\": \"") + 9, *end = strchr(start, '"');
        free(path);
        path = strndup(start, (size_t)(end - start));
    }
    free(m);
    return path;
}

static int manifest_lists(const char *dir, const char *rel)
{
    char *m = slurp(dir, "fortknox-manifest.json");
    int found = strstr(m, rel) != NULL;
    free(m);
    return found;
}

static int has_item(const fk_report *r, const char *code, int64_t id)
{
    for (size_t i = 0; r && i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, code) == 0 && (id < 0 || it->entity_id == id))
            return 1;
    }
    return 0;
}

static long long qnum(const char *db, const char *sql)
{
    char *v = fkt_pg_query1(db, sql);
    if (!v)
        fail_msg("query failed: %s", sql);
    long long n = atoll(v);
    free(v);
    return n;
}

/* A seeded database, installed in `mode` unless mode < 0. */
static fk_ctx *open_db(const char *db, int mode)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    if (mode >= 0) {
        fk_install_options o;
        fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
        o.mode = (fk_audit_mode)mode;
        assert_ok(ctx, fk_install(NULL, ctx, &o));
    }
    return ctx;
}

/* What every test starts from: a seeded database (installed in `mode`
 * unless mode < 0), a context on it and a fresh export. */
typedef struct scene {
    char *db, *dir;
    fk_ctx *ctx;
} scene;

static scene begin(int mode)
{
    scene s;
    s.db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(s.db);
    s.ctx = open_db(s.db, mode);
    s.dir = fkt_tempdir("fk-loss");
    assert_non_null(s.dir);
    assert_ok(s.ctx, fk_export(NULL, s.ctx, s.dir, NULL));
    return s;
}

static void end(scene *s)
{
    fkt_rm_tree(s->dir);
    fk_close(s->ctx);
    free(s->db);
}

#define SCENE(mode)                                                                               \
    scene s_ = begin(mode);                                                                       \
    char *db = s_.db, *dir = s_.dir;                                                              \
    fk_ctx *ctx = s_.ctx;                                                                         \
    (void)db

static int doctor(fk_ctx *ctx, const char *dir, fk_report **r)
{
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = dir;
    return fk_doctor(r, ctx, &o);
}

static int export_accepting(fk_ctx *ctx, const char *dir, const char *accept, fk_report **r)
{
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    const char *list[1] = {accept};
    o.accept_loss = list;
    o.naccept_loss = accept ? 1 : 0;
    return fk_export(r, ctx, dir, &o);
}

/* The reproduction, installed or not: the file stays, the rest is
 * written, the export fails, and doctor keeps failing afterwards. */
static void replica_delete_is_not_laundered(int mode)
{
    SCENE(mode);
    char *cs = path_of(dir, "concept_set", 1001);
    char *before = slurp(dir, cs);
    assert_int_equal(fkt_pg_exec(db, REPLICA_DELETE), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET description = 'changed' WHERE "
                                     "id = 1001"),
                     0);
    for (int round = 0; round < 2; round++) { /* a second export launders nothing either */
        fk_report *r = NULL;
        assert_int_equal(fk_export(&r, ctx, dir, NULL), FK_ELOSS);
        assert_non_null(r);
        assert_true(has_item(r, "FK-LOSS", 1001));
        assert_int_equal(fk_report_counter(r, "lost"), 1);
        assert_true(fk_report_error_count(r) > 0);
        fk_report_free(r);
        assert_non_null(strstr(fk_errmsg(ctx), "without a recorded deletion"));
        assert_true(exists(dir, COHORT_FILE));
        assert_true(manifest_lists(dir, COHORT_FILE));
        assert_int_equal(doctor(ctx, dir, &r), FK_EVERIFY);
        assert_true(has_item(r, "FK-LOSS", 1001));
        fk_report_free(r);
    }
    /* everything else was exported */
    char *after = slurp(dir, cs);
    assert_string_not_equal(before, after);
    assert_non_null(strstr(after, "changed"));
    /* and the kept file restores the entity */
    assert_ok(ctx, fk_import(NULL, ctx, dir, NULL));
    assert_int_equal(qnum(db, "SELECT count(*) FROM app.cohort_definitions WHERE id = 1001"), 1);
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    free(before);
    free(after);
    free(cs);
    end(&s_);
}

static void replica_delete_then_export_not_installed(void **state)
{
    (void)state;
    replica_delete_is_not_laundered(-1);
}

static void replica_delete_then_export_capture(void **state)
{
    (void)state;
    replica_delete_is_not_laundered(FK_AUDIT_CAPTURE);
}

static void soft_delete_then_export_is_fine(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_CAPTURE);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET deleted_at = now() WHERE "
                                     "id = 1001"),
                     0);
    fk_report *r = NULL;
    assert_ok(ctx, fk_export(&r, ctx, dir, NULL));
    assert_int_equal(fk_report_counter(r, "lost"), 0);
    fk_report_free(r);
    assert_true(exists(dir, COHORT_FILE));
    char *doc = slurp(dir, COHORT_FILE);
    assert_null(strstr(doc, "\"deleted_at\": null"));
    free(doc);
    end(&s_);
}

/* A deliberate, audited hard delete is no loss: the file goes, doctor is
 * quiet about it. A soft delete followed by a silent hard delete is one. */
static void audited_force_delete_removes_the_file(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_CAPTURE);
    /* one of several: below the sudden-drop threshold */
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.cohort_definitions (name, author_id) SELECT"
                                     " 'filler ' || i, 1 FROM generate_series(1, 5) i"),
                     0);
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    char *cs = path_of(dir, "concept_set", 1001);
    assert_int_equal(fkt_pg_exec(db, AUDITED_DELETE), 0);
    fk_report *r = NULL;
    (void)doctor(ctx, dir, &r); /* other findings may fail it; a loss must not be one */
    assert_false(has_item(r, "FK-LOSS", -1));
    fk_report_free(r);
    assert_ok(ctx, fk_export(&r, ctx, dir, NULL));
    assert_int_equal(fk_report_counter(r, "removed"), 1);
    fk_report_free(r);
    assert_false(exists(dir, COHORT_FILE));
    assert_false(manifest_lists(dir, COHORT_FILE));

    /* the same through the single-entity refresh (what watch calls) */
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE "
                                     "FROM app.concept_sets WHERE id = 1001; COMMIT"),
                     0);
    assert_true(exists(dir, cs));
    assert_ok(ctx, fk_export_entity(ctx, dir, "concept_set", 1001, NULL, FK_FORMAT_PARTHENON));
    assert_false(exists(dir, cs));
    free(cs);

    /* soft-deleted, then gone without a trace: a loss */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET deleted_at = now() WHERE "
                                     "id = 1002"),
                     0);
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("DELETE FROM app.cohort_definitions WHERE "
                                                  "id = 1002")),
                     0);
    assert_int_equal(fk_export(&r, ctx, dir, NULL), FK_ELOSS);
    assert_true(has_item(r, "FK-LOSS", 1002));
    fk_report_free(r);
    end(&s_);
}

static void single_entity_refresh_keeps_a_lost_file(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_CAPTURE);
    assert_int_equal(fkt_pg_exec(db, REPLICA_DELETE), 0);
    assert_int_equal(fk_export_entity(ctx, dir, "cohort_definition", 1001, NULL,
                                      FK_FORMAT_PARTHENON),
                     FK_ELOSS);
    assert_true(exists(dir, COHORT_FILE));
    assert_true(manifest_lists(dir, COHORT_FILE));
    const char *types[2] = {"cohort_definition", "concept_set"};
    int64_t ids[2] = {1001, 1001};
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET description = 'batch' WHERE "
                                     "id = 1001"),
                     0);
    fk_report *r = NULL;
    assert_int_equal(fk_export_entities(&r, ctx, dir, types, ids, 2, FK_FORMAT_PARTHENON),
                     FK_ELOSS);
    assert_true(has_item(r, "FK-LOSS", 1001));
    fk_report_free(r);
    assert_true(exists(dir, COHORT_FILE));
    assert_true(manifest_lists(dir, COHORT_FILE));
    char *csp = path_of(dir, "concept_set", 1001), *cs = slurp(dir, csp);
    assert_non_null(strstr(cs, "batch")); /* the rest of the batch was written */
    free(cs);
    free(csp);
    assert_int_equal(doctor(ctx, dir, &r), FK_EVERIFY);
    assert_true(has_item(r, "FK-LOSS", 1001));
    fk_report_free(r);
    end(&s_);
}

/* An acknowledged loss: recorded in the audit log, then the file goes. */
static void accept_loss_removes_and_is_audited(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_APP);
    assert_int_equal(fkt_pg_exec(db, REPLICA_DELETE), 0);
    fk_report *r = NULL;
    /* another entity's acknowledgement does not cover it */
    assert_int_equal(export_accepting(ctx, dir, "cohort_definition:1002", &r), FK_ELOSS);
    fk_report_free(r);
    assert_true(exists(dir, COHORT_FILE));
    assert_int_equal(qnum(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = "
                              "'loss_accepted'"),
                     0);
    assert_ok(ctx, export_accepting(ctx, dir, "cohort_definition:1001", &r));
    assert_int_equal(fk_report_counter(r, "loss_accepted"), 1);
    assert_int_equal(fk_report_counter(r, "removed"), 1);
    fk_report_free(r);
    assert_false(exists(dir, COHORT_FILE));
    assert_false(manifest_lists(dir, COHORT_FILE));
    assert_int_equal(qnum(db, "SELECT count(*) FROM fortknox.audit_log WHERE action = "
                              "'loss_accepted' AND entity_type = 'cohort_definition' AND "
                              "entity_id = 1001 AND context = 'export'"),
                     1);
    (void)doctor(ctx, dir, &r);
    assert_false(has_item(r, "FK-LOSS", -1));
    fk_report_free(r);
    assert_ok(ctx, fk_audit_verify(NULL, ctx, dir)); /* the chain takes the new row */
    end(&s_);
}

/* Most of a type gone at once stops the export even when an override let
 * the deletion through and it was recorded: the incidents looked like that. */
static void sudden_drop_stops_the_export(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_CAPTURE);
    long long n = qnum(db, "SELECT count(*) FROM app.cohort_definitions");
    assert_int_equal(fkt_pg_exec(db, "BEGIN; SELECT fortknox.allow('hard_delete'); UPDATE "
                                     "app.cohort_definitions SET superseded_by = NULL; DELETE FROM "
                                     "app.cohort_definitions WHERE id IN (SELECT id FROM "
                                     "app.cohort_definitions ORDER BY id LIMIT 3); COMMIT"),
                     0);
    fk_report *r = NULL;
    assert_int_equal(fk_export(&r, ctx, dir, NULL), FK_ELOSS);
    assert_true(has_item(r, "FK-DROP", -1));
    assert_int_equal(fk_report_counter(r, "lost"), 3);
    fk_report_free(r);
    assert_true(exists(dir, COHORT_FILE));
    /* the single-entity refresh (watch) applies the same rule */
    const char *type = "cohort_definition";
    int64_t id = 1001;
    assert_int_equal(fk_export_entities(&r, ctx, dir, &type, &id, 1, FK_FORMAT_PARTHENON),
                     FK_ELOSS);
    assert_true(has_item(r, "FK-DROP", -1));
    assert_true(has_item(r, "FK-LOSS", 1001));
    fk_report_free(r);
    assert_true(exists(dir, COHORT_FILE));
    /* a higher threshold lets the recorded deletions through */
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.drop_ratio = 0.9;
    assert_ok(ctx, fk_export(&r, ctx, dir, &o));
    assert_int_equal(fk_report_counter(r, "cohort_definition.entities"), n - 3);
    fk_report_free(r);
    assert_false(exists(dir, COHORT_FILE));
    end(&s_);
}

/* A type whose table went missing: every other type is exported, the
 * damaged type's files and manifest entries stay exactly as they were, each
 * of its entities is reported lost, and the export fails. */
static void damaged_type_is_kept_and_the_rest_exported(void **state)
{
    (void)state;
    SCENE(-1);
    char *sccs = path_of(dir, "sccs_analysis", 1001), *cs = path_of(dir, "concept_set", 1001);
    char *sccs_doc = slurp(dir, sccs);
    fk_close(ctx);
    assert_int_equal(fkt_pg_exec(db, "DROP TABLE app.sccs_analyses CASCADE; UPDATE "
                                     "app.concept_sets SET description = 'after the drop' WHERE "
                                     "id = 1001"),
                     0);
    s_.ctx = ctx = open_db(db, -1);
    fk_report *r = NULL;
    assert_int_equal(fk_export(&r, ctx, dir, NULL), FK_ELOSS);
    assert_true(has_item(r, "FK-DAMAGED", -1));
    assert_true(has_item(r, "FK-LOSS", 1001));
    fk_report_free(r);
    assert_true(manifest_lists(dir, sccs));
    char *sccs_after = slurp(dir, sccs), *cs_doc = slurp(dir, cs);
    assert_string_equal(sccs_doc, sccs_after);
    assert_non_null(strstr(cs_doc, "after the drop"));
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_ELOSS); /* and again */
    assert_true(manifest_lists(dir, sccs));
    free(sccs_after);
    free(cs_doc);
    free(sccs_doc);
    free(sccs);
    free(cs);
    end(&s_);
}

/* verify and drill of something that is no fixture directory: refused, and
 * the message points at the fixture directory one level down. */
/* A column dropped (or renamed) since the export: its values are left only
 * in the files, so the export keeps the type's files as they are
 * (FK-SCHEMA) instead of rewriting them without the key, until the loss is
 * acknowledged; the other types are still written. */
static void dropped_column_is_not_laundered(void **state)
{
    (void)state;
    SCENE(-1);
    char *cs = path_of(dir, "concept_set", 1001);
    char *before = slurp(dir, COHORT_FILE);
    assert_non_null(strstr(before, "\"expression_json\""));
    assert_int_equal(fkt_pg_exec(db, "ALTER TABLE app.cohort_definitions DROP COLUMN "
                                     "expression_json; UPDATE app.concept_sets SET description = "
                                     "'changed' WHERE id = 1001"),
                     0);
    (void)ctx;
    fk_ctx *c2 = open_db(db, -1); /* a context resolves the catalog when it opens */
    fk_report *r = NULL;
    assert_int_equal(fk_export(&r, c2, dir, NULL), FK_ELOSS);
    assert_true(has_item(r, "FK-SCHEMA", 0));
    fk_report_free(r);
    char *kept = slurp(dir, COHORT_FILE);
    assert_string_equal(before, kept);
    char *other = slurp(dir, cs);
    assert_non_null(strstr(other, "changed"));
    /* acknowledged: the key goes */
    assert_ok(c2, export_accepting(c2, dir, "all", NULL));
    char *after = slurp(dir, COHORT_FILE);
    assert_null(strstr(after, "\"expression_json\""));
    free(before);
    free(kept);
    free(other);
    free(after);
    free(cs);
    fk_close(c2);
    end(&s_);
}

/* A type that cannot be exported fails the export even when there is no
 * manifest yet (a first export, a snapshot, a lost manifest): nothing of it
 * is backed up, which is never "all is well". */
static void damaged_type_fails_a_first_export(void **state)
{
    (void)state;
    SCENE(-1);
    (void)ctx;
    (void)dir;
    assert_int_equal(fkt_pg_exec(db, "ALTER TABLE app.cohort_definitions RENAME TO cohorts"), 0);
    fk_ctx *c2 = open_db(db, -1);
    char *fresh = fkt_tempdir("fk-loss-first");
    fk_report *r = NULL;
    assert_int_equal(fk_export(&r, c2, fresh, NULL), FK_ELOSS);
    assert_true(has_item(r, "FK-DAMAGED", -1));
    fk_report_free(r);
    fkt_rm_tree(fresh); /* frees it */
    fk_close(c2);
    end(&s_);
}

/* The manifest is gone (or does not list the entity): the audit log still
 * knows the entity was alive, so its silent disappearance is a loss. */
static void silent_delete_without_a_manifest_is_a_loss(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_CAPTURE);
    /* an audit history (entities untouched since the install have none:
     * for them the manifest is the only witness) */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'seen' "
                                     "WHERE id = 1001"),
                     0);
    assert_int_equal(fkt_pg_exec(db, REPLICA_DELETE), 0);
    char manifest[PATH_MAX];
    snprintf(manifest, sizeof manifest, "%s/fortknox-manifest.json", dir);
    assert_int_equal(unlink(manifest), 0);
    for (int round = 0; round < 2; round++) {
        fk_report *r = NULL;
        int rc = fk_export(&r, ctx, dir, NULL);
        if (rc != FK_ELOSS)
            fail_msg("round %d: rc %d: %s", round, rc, fk_errmsg(ctx));
        assert_true(has_item(r, "FK-LOSS", 1001));
        fk_report_free(r);
    }
    assert_ok(ctx, export_accepting(ctx, dir, "cohort_definition:1001", NULL));
    end(&s_);
}

/* Someone with the owner's rights cuts the audit log back to a row that
 * says the entity was force-deleted (long ago, before it was restored),
 * then deletes it silently: the anchor shows the log was cut, so no audit
 * row explains the disappearance and the file stays. */
static void a_cut_audit_log_explains_nothing(void **state)
{
    (void)state;
    SCENE(FK_AUDIT_CAPTURE);
    assert_int_equal(fkt_pg_exec(db, AUDITED_DELETE), 0);
    assert_ok(ctx, fk_import(NULL, ctx, dir, NULL)); /* restored, with an audit row */
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL)); /* anchors the chain past it */
    assert_int_equal(
        fkt_pg_exec(db, FKT_BYPASSED(
                        "DELETE FROM fortknox.audit_log WHERE id > (SELECT max(id) FROM "
                        "fortknox.audit_log WHERE entity_type = 'cohort_definition' AND "
                        "entity_id = 1001 AND action = 'force_deleted');"
                        "UPDATE fortknox.audit_head SET (last_id, last_hash) = (SELECT id, "
                        "row_hash FROM fortknox.audit_log ORDER BY id DESC LIMIT 1)")),
        0);
    assert_int_equal(fkt_pg_exec(db, REPLICA_DELETE), 0);
    fk_report *r = NULL;
    /* watch's single-entity refresh trusts the cut log no more */
    const char *type = "cohort_definition";
    const int64_t id = 1001;
    int rc = fk_export_entities(&r, ctx, dir, &type, &id, 1, FK_FORMAT_PARTHENON);
    if (rc >= 0 || !has_item(r, "FK-LOSS", 1001))
        fail_msg("rc %d (%s), report %p", rc, fk_errmsg(ctx), (void *)r);
    fk_report_free(r);
    r = NULL;
    assert_true(exists(dir, COHORT_FILE));
    assert_true(fk_export(&r, ctx, dir, NULL) < 0);
    assert_true(has_item(r, "FK-TAMPER", -1));
    assert_true(has_item(r, "FK-LOSS", 1001));
    fk_report_free(r);
    assert_true(exists(dir, COHORT_FILE));
    assert_true(manifest_lists(dir, COHORT_FILE));
    end(&s_);
}

static void verify_and_drill_refuse_a_non_fixture_directory(void **state)
{
    (void)state;
    SCENE(-1);
    /* the fixture directory, one level down */
    char *top = fkt_tempdir("fk-loss"), sub[400], stranger[400];
    snprintf(sub, sizeof sub, "%s/fixtures", top);
    snprintf(stranger, sizeof stranger, "%s/fixtures/notes", top);
    assert_int_equal(rename(dir, sub), 0);
    char *empty = fkt_tempdir("fk-loss");
    assert_int_equal(mkdir(dir, 0700), 0); /* for end() */
    fk_report *r = NULL;
    assert_int_equal(fk_verify(&r, ctx, empty, NULL), FK_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(fk_errmsg(ctx), "not a fixture directory"));
    assert_int_equal(fk_drill(&r, ctx, empty, NULL), FK_ENOTFOUND);
    assert_null(r);
    assert_int_equal(fk_verify(&r, ctx, top, NULL), FK_ENOTFOUND);
    assert_non_null(strstr(fk_errmsg(ctx), "fixtures"));
    assert_int_equal(fk_drill(&r, ctx, top, NULL), FK_ENOTFOUND);
    assert_non_null(strstr(fk_errmsg(ctx), "did you mean"));
    /* only directories that are no entity type: no fixture directory either */
    char only_unknown[400];
    snprintf(only_unknown, sizeof only_unknown, "mkdir -p '%s/notes' '%s/misc'", empty, empty);
    assert_int_equal(system(only_unknown), 0);
    assert_int_equal(fk_verify(&r, ctx, empty, NULL), FK_ENOTFOUND);
    assert_int_equal(fk_drill(&r, ctx, empty, NULL), FK_ENOTFOUND);
    /* the empty type directories a failed export leaves: no backup */
    snprintf(only_unknown, sizeof only_unknown, "mkdir -p '%s/cohort_definitions'", empty);
    assert_int_equal(system(only_unknown), 0);
    assert_int_equal(fk_verify(&r, ctx, empty, NULL), FK_ENOTFOUND);
    assert_int_equal(fk_drill(&r, ctx, empty, NULL), FK_ENOTFOUND);
    /* the real one still verifies, strangers inside it notwithstanding */
    assert_int_equal(mkdir(stranger, 0755), 0);
    assert_ok(ctx, fk_verify(&r, ctx, sub, NULL));
    fk_report_free(r);
    assert_ok(ctx, fk_drill(&r, ctx, sub, NULL));
    fk_report_free(r);
    /* a file the manifest lists is gone: the drill restores the rest well,
     * but the backup is incomplete */
    char gone[600];
    snprintf(gone, sizeof gone, "%s/%s", sub, COHORT_FILE);
    assert_int_equal(unlink(gone), 0);
    assert_int_equal(fk_drill(&r, ctx, sub, NULL), FK_EVERIFY);
    assert_true(fk_report_error_count(r) > 0);
    fk_report_free(r);
    fkt_rm_tree(empty);
    fkt_rm_tree(top);
    end(&s_);
}

static void status_is_named(void **state)
{
    (void)state;
    assert_string_equal(fk_status_name(FK_ELOSS), "FK_ELOSS");
    assert_string_equal(fk_strerror(FK_ELOSS), "entities disappeared without a recorded deletion");
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_is_named),
        cmocka_unit_test(replica_delete_then_export_not_installed),
        cmocka_unit_test(replica_delete_then_export_capture),
        cmocka_unit_test(soft_delete_then_export_is_fine),
        cmocka_unit_test(audited_force_delete_removes_the_file),
        cmocka_unit_test(single_entity_refresh_keeps_a_lost_file),
        cmocka_unit_test(accept_loss_removes_and_is_audited),
        cmocka_unit_test(sudden_drop_stops_the_export),
        cmocka_unit_test(damaged_type_is_kept_and_the_rest_exported),
        cmocka_unit_test(dropped_column_is_not_laundered),
        cmocka_unit_test(damaged_type_fails_a_first_export),
        cmocka_unit_test(silent_delete_without_a_manifest_is_a_loss),
        cmocka_unit_test(a_cut_audit_log_explains_nothing),
        cmocka_unit_test(verify_and_drill_refuse_a_non_fixture_directory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
