/* Incremental export (see lib/fixtures/export_state.h): after each kind of
 * change, an export that may keep unchanged types leaves exactly the bytes
 * a full pass (--full) leaves on the same starting directory, returns the
 * same status, and re-reads only the types whose tables changed. */
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

static fk_ctx *open_ctx(const char *db)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    return ctx;
}

static void install(const char *db, fk_audit_mode mode)
{
    fk_close(fkt_open_installed(db, mode == FK_AUDIT_CAPTURE, NULL));
}

/* Exports db into dir; *rep receives the report. */
static int export_to(const char *db, const char *dir, unsigned flags, fk_report **rep)
{
    fk_ctx *ctx = open_ctx(db);
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.flags = flags;
    int rc = fk_export(rep, ctx, dir, &o);
    fk_close(ctx);
    return rc;
}

/* The two directories hold the same files with the same bytes; in the
 * manifests, only the export time and the export state may differ, in the
 * witness only the time each head was seen (the two exports may straddle
 * a second). */
static void assert_same_tree(const char *a, const char *b)
{
    assert_int_equal(fkt_sh("cd '%s' && find . -type f ! -name fortknox-manifest.json ! -name "
                            "fortknox-witness | sort | xargs sha256sum > ../a.sums && cd '%s' && "
                            "find . -type f ! -name fortknox-manifest.json ! -name "
                            "fortknox-witness | sort | xargs sha256sum > ../b.sums && "
                            "cmp ../a.sums ../b.sums",
                            a, b),
                     0);
    assert_int_equal(fkt_sh("for d in '%s' '%s'; do test ! -e \"$d/fortknox-witness\" || sed -E "
                            "'s/^([0-9]+) [0-9T:Z-]+ /\\1 /' \"$d/fortknox-witness\" > "
                            "\"$d.w\"; done; test ! -e '%s/fortknox-witness' || cmp '%s.w' '%s.w'",
                            a, b, a, a, b),
                     0);
    assert_int_equal(fkt_sh("grep -v -e '\"exported_at\"' -e '\"export_state\"' -e "
                            "'\"audit_chain_head\"' '%s/fortknox-manifest.json' > '%s.m' && "
                            "grep -v -e '\"exported_at\"' -e '\"export_state\"' -e "
                            "'\"audit_chain_head\"' '%s/fortknox-manifest.json' > '%s.m' && "
                            "cmp '%s.m' '%s.m'",
                            a, a, b, b, a, b),
                     0);
}

typedef struct change_case {
    const char *what;
    fk_audit_mode install; /* 0: not installed */
    const char *before;    /* on the database before the first export */
    const char *sql;       /* the change, on the exported database */
    const char *after;     /* then this, on its own (VACUUM cannot run in a block) */
    int other_db;          /* the change is made in another database of the same seed */
    const char *manifest;  /* a sed expression applied to the manifest before re-export */
    int reread;            /* types the incremental export must read (-1: all) */
    int read;              /* entities it must read (-1: all, a full pass) */
    int written;           /* files it must write (-1: whatever the full pass writes) */
    int rc;                /* both exports' status */
    const char *files;     /* a shell command run in the fixture directory before re-export */
    int rewritten;         /* files of unchanged entities it must find changed */
} change_case;

/* the first cohort definition's file, and another type's directory */
#define COHORT_FILE "\"cohort_definitions/$(ls cohort_definitions | head -n 1)\""
#define COHORT_FILE2 "\"cohort_definitions/$(ls cohort_definitions | sed -n 2p)\""

#define ONE_COHORT "(SELECT min(id) FROM app.cohort_definitions)"
#define ONE_ITEM "(SELECT min(id) FROM app.concept_set_items)"
#define OTHER_SET "(SELECT max(concept_set_id) FROM app.concept_set_items)"
/* a cohort no other one names as superseded_by */
#define FREE_COHORT "(SELECT max(id) FROM app.cohort_definitions WHERE id NOT IN (SELECT " \
                    "superseded_by FROM app.cohort_definitions WHERE superseded_by IS NOT NULL))"

static const change_case cases[] = {
    {"nothing", 0, NULL, NULL, NULL, 0, NULL, 0, 0, 0, FK_OK, NULL, 0},
    {"entity row edit", 0, NULL, "UPDATE app.cohort_definitions SET description = 'edited' "
     "WHERE id = " ONE_COHORT, NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"an update to the same values (every cohort read, none written)", 0, NULL,
     "UPDATE app.cohort_definitions SET name = name", NULL, 0, NULL, 1, 5, 0, FK_OK, NULL, 0},
    {"child row edit", 0, NULL, "UPDATE app.concept_set_items SET is_excluded = NOT "
     "is_excluded WHERE id = " ONE_ITEM, NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"child insert", 0, NULL, "INSERT INTO app.concept_set_items (concept_set_id, concept_id) "
     "SELECT concept_set_id, 4242 FROM app.concept_set_items WHERE id = " ONE_ITEM, NULL, 0,
     NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"child delete, nothing else changed (no row version left)", 0, NULL,
     "DELETE FROM app.concept_set_items WHERE id = " ONE_ITEM, NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"child delete and insert (same count)", 0, NULL,
     "INSERT INTO app.concept_set_items (concept_set_id, concept_id) SELECT concept_set_id, 4243 "
     "FROM app.concept_set_items WHERE id = " ONE_ITEM "; DELETE FROM app.concept_set_items "
     "WHERE id = " ONE_ITEM, NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"child delete in one parent, insert in another (same table count)", 0, NULL,
     "INSERT INTO app.concept_set_items (concept_set_id, concept_id) SELECT " OTHER_SET ", 4244; "
     "DELETE FROM app.concept_set_items WHERE id = " ONE_ITEM, NULL, 0, NULL, 1, 2, 2, FK_OK, NULL, 0},
    {"child row moved to another parent", 0, NULL,
     "UPDATE app.concept_set_items SET concept_set_id = " OTHER_SET " WHERE id = " ONE_ITEM,
     NULL, 0, NULL, 1, 2, 2, FK_OK, NULL, 0},
    {"soft delete", 0, NULL, "UPDATE app.cohort_definitions SET deleted_at = '2026-01-01' "
     "WHERE id = " ONE_COHORT, NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"entity inserted", 0, NULL, "INSERT INTO app.cohort_definitions (id, name, author_id) "
     "VALUES (990002, 'Brand new', 1)", NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"raw SQL in app mode (capture off)", FK_AUDIT_APP, NULL,
     "UPDATE app.cohort_definitions SET description = 'raw' WHERE id = " ONE_COHORT, NULL, 0,
     NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"raw SQL with capture off by a superuser", FK_AUDIT_CAPTURE, NULL,
     FKT_BYPASSED("UPDATE app.concept_set_items SET concept_id = 7 WHERE id = " ONE_ITEM), NULL,
     0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"a child delete by a superuser with triggers off", FK_AUDIT_CAPTURE, NULL,
     FKT_BYPASSED("DELETE FROM app.concept_set_items WHERE id = " ONE_ITEM), NULL, 0, NULL, 1,
     1, 1, FK_OK, NULL, 0},
    {"session_replication_role = replica", FK_AUDIT_CAPTURE, NULL,
     "SET session_replication_role = replica; UPDATE app.concept_set_items SET concept_id = 8 "
     "WHERE id = " ONE_ITEM, NULL, 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"column added (no row rewritten)", 0, NULL,
     "ALTER TABLE app.cohort_definitions ADD COLUMN extra text DEFAULT 'x'", NULL, 0, NULL, -1,
     -1, -1, FK_OK, NULL, 0},
    {"a column retyped to its own type, values rewritten (same fingerprint)", 0, NULL,
     "ALTER TABLE app.cohort_definitions ALTER COLUMN description TYPE text USING "
     "upper(description)", NULL, 0, NULL, 1, 5, -1, FK_OK, NULL, 0},
    {"entity deleted without a trace (a loss)", 0, NULL,
     "DELETE FROM app.cohort_definitions WHERE id = " ONE_COHORT, NULL, 0, NULL, 1, 4, 0,
     FK_ELOSS, NULL, 0},
    {"an entity's id changed (the old one is a loss)", 0, NULL,
     "UPDATE app.cohort_definitions SET id = 990001 WHERE id = " FREE_COHORT, NULL, 0, NULL, 1,
     5, 1, FK_ELOSS, NULL, 0},
    {"manifest from another database", 0, NULL,
     "UPDATE app.cohort_definitions SET description = 'elsewhere' WHERE id = " ONE_COHORT, NULL,
     1, NULL, -1, -1, -1, FK_OK, NULL, 0},
    {"an edit, then VACUUM FREEZE (xmin is read raw)", 0, NULL,
     "UPDATE app.cohort_definitions SET description = 'frozen' WHERE id = " ONE_COHORT,
     "VACUUM FREEZE app.cohort_definitions", 0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"TRUNCATE and the same rows put back (same count, same content)", 0, NULL,
     "CREATE TABLE public.keep AS SELECT * FROM app.concept_set_items; "
     "TRUNCATE app.concept_set_items; "
     "INSERT INTO app.concept_set_items SELECT * FROM public.keep", NULL, 0, NULL, 1, 3, 0,
     FK_OK, NULL, 0},
    {"an older copy of the rows restored (as from a dump)", 0,
     "CREATE TABLE public.dump AS SELECT * FROM app.concept_set_items; "
     "UPDATE app.concept_set_items SET concept_id = concept_id + 1 WHERE id = " ONE_ITEM,
     "TRUNCATE app.concept_set_items; "
     "INSERT INTO app.concept_set_items SELECT * FROM public.dump", NULL, 0, NULL, 1, 3, 1,
     FK_OK, NULL, 0},
    {"an entry missing from the manifest (its entity unchanged): read on its own", 0, NULL,
     "UPDATE app.cohort_definitions SET description = 'listed' WHERE id = 1005", NULL, 0,
     "/\"type\": \"cohort_definition\", \"id\": 1001,/d; "
     "s/\"cohort_definition\": 5,/\"cohort_definition\": 4,/", 1, 2, 1, FK_OK, NULL, 0},
    {"an export state of an older format", 0, NULL,
     "UPDATE app.cohort_definitions SET description = 'v1' WHERE id = " ONE_COHORT, NULL, 0,
     "s/\"export_state\": \"3 /\"export_state\": \"2 /", -1, -1, -1, FK_OK, NULL, 0},
    {"an export state of a later transaction counter (a server put back)", 0, NULL, NULL, NULL,
     0, "s/\\(\"export_state\": \"3 [^ ]* [0-9]*\\) [0-9]*/\\1 99999999999/", -1, -1, 0, FK_OK, NULL, 0},
    {"a damaged export state: the type is read whole", 0, NULL,
     "UPDATE app.concept_set_items SET concept_id = 9 WHERE id = " ONE_ITEM, NULL, 0,
     "s/concept_set=\\([0-9/]*\\):0_/concept_set=\\1:0_x/", 1, 3, 1, FK_OK, NULL, 0},
    /* what prints a value changed without a row version (found by attacking
     * the incremental export) */
    {"an enum label renamed under a domain", 0,
     "CREATE TYPE app.cstat AS ENUM ('active', 'draft', 'archived', 'deprecated'); CREATE "
     "DOMAIN app.cstat_d AS "
     "app.cstat; ALTER TABLE app.cohort_definitions ALTER status DROP DEFAULT, ALTER status "
     "TYPE app.cstat_d USING status::text::app.cstat_d",
     "ALTER TYPE app.cstat RENAME VALUE 'active' TO 'ACTIVE'", NULL, 0, NULL, -1, -1, -1, FK_OK,
     NULL, 0},
    {"an enum label renamed in an array column", 0,
     "CREATE TYPE app.tier AS ENUM ('gold', 'silver'); ALTER TABLE app.cohort_definitions "
     "ADD COLUMN tiers app.tier[] DEFAULT '{gold,silver}'",
     "ALTER TYPE app.tier RENAME VALUE 'gold' TO 'platinum'", NULL, 0, NULL, -1, -1, -1, FK_OK,
     NULL, 0},
    {"an inheritance child swapped for another holding older rows", 0,
     "CREATE TABLE app.cd_a (LIKE app.cohort_definitions); CREATE TABLE app.cd_b (LIKE "
     "app.cohort_definitions); INSERT INTO app.cd_a SELECT * FROM app.cohort_definitions WHERE "
     "id = 1001; UPDATE app.cd_a SET id = 5000, description = 'in a'; INSERT INTO app.cd_b "
     "SELECT * FROM app.cd_a; UPDATE app.cd_b SET description = 'in b'; ALTER TABLE app.cd_a "
     "INHERIT app.cohort_definitions",
     "ALTER TABLE app.cd_a NO INHERIT app.cohort_definitions; ALTER TABLE app.cd_b INHERIT "
     "app.cohort_definitions", NULL, 0, NULL, -1, -1, -1, FK_OK, NULL, 0},
    {"the database's bytea_output changed (the session pins its own)", 0,
     "ALTER TABLE app.cohort_definitions ALTER description TYPE bytea USING "
     "convert_to(description, 'UTF8')",
     "DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET bytea_output = escape', "
     "current_database()); END$$", NULL, 0, NULL, 0, 0, 0, FK_OK, NULL, 0},
    {"a search_path that shadows an operator (the session pins its own)", 0, NULL,
     "CREATE SCHEMA evil; CREATE FUNCTION evil.lt8(int8, int8) RETURNS bool LANGUAGE sql AS "
     "'SELECT false'; CREATE OPERATOR evil.< (leftarg = int8, rightarg = int8, function = "
     "evil.lt8); GRANT USAGE ON SCHEMA evil TO PUBLIC; DO $$BEGIN EXECUTE format('ALTER "
     "DATABASE %I SET search_path = evil, pg_catalog', current_database()); END$$; "
     "UPDATE app.cohort_definitions SET description = 'shadowed' WHERE id = " ONE_COHORT, NULL,
     0, NULL, 1, 1, 1, FK_OK, NULL, 0},
    {"an inheritance child's column dropped and added again with a default (no row version)",
     0,
     "CREATE TABLE app.cs_child () INHERITS (app.concept_sets); INSERT INTO app.cs_child (id, "
     "name, description, author_id) VALUES (6000, 'child set', 'original text', 1)",
     "ALTER TABLE app.cs_child NO INHERIT app.concept_sets; ALTER TABLE app.cs_child DROP COLUMN "
     "description; ALTER TABLE app.cs_child ADD COLUMN description text DEFAULT 'injected'; "
     "ALTER TABLE app.cs_child INHERIT app.concept_sets",
     NULL, 0, NULL, -1, -1, -1, FK_OK, NULL, 0},
    {"an entry of an unchanged type removed from the manifest (counts fixed): the type is read",
     0, NULL, NULL, NULL, 0,
     "/\"type\": \"cohort_definition\", \"id\": 1002,/d; "
     "s/\"cohort_definition\": 5,/\"cohort_definition\": 4,/", 1, 5, 0, FK_OK, NULL, 0},
    /* the directory is not what the last export left (rows unchanged) */
    {"a file deleted by hand", 0, NULL, NULL, NULL, 0, NULL, 1, 1, 1, FK_OK,
     "rm " COHORT_FILE, 1},
    {"a file edited by hand", 0, NULL, NULL, NULL, 0, NULL, 1, 1, 1, FK_OK,
     "sed -i 's/\"name\": \"/\"name\": \"hand /' " COHORT_FILE, 1},
    {"a file replaced by a symbolic link to the same content", 0, NULL, NULL, NULL, 0, NULL, 1,
     1, 1, FK_OK, "f=" COHORT_FILE "; mv \"$f\" ../moved.json && ln -s ../../moved.json \"$f\"", 1},
    {"a file touched, its content the same (hashed, kept)", 0, NULL, NULL, NULL, 0, NULL, 0, 0,
     0, FK_OK, "sleep 0.02; touch " COHORT_FILE "; chmod 600 " COHORT_FILE2, 0},
    {"a file edited by hand, then the manifest touched and chmod-ed", 0, NULL, NULL, NULL, 0,
     NULL, 1, 1, 1, FK_OK,
     "sed -i 's/\"name\": \"/\"name\": \"hand /' " COHORT_FILE "; sleep 0.02; touch "
     "fortknox-manifest.json; chmod 600 fortknox-manifest.json", 1},
    {"a file edited by hand under a state edited to start in 2100 (every file hashed)", 0, NULL,
     NULL, NULL, 0, "s/ f[0-9]*\\.[0-9]*_/ f4102444800.0_/", 1, 1, 1, FK_OK,
     "sed -i 's/\"name\": \"/\"name\": \"hand /' " COHORT_FILE, 1},
    {"a type directory deleted by hand", 0, NULL, NULL, NULL, 0, NULL, 1, 5, 5, FK_OK,
     "rm -r cohort_definitions", 5},
    {"another entity's file deleted by hand in a type that changed", 0, NULL,
     "UPDATE app.cohort_definitions SET description = 'edited' WHERE id = " ONE_COHORT, NULL, 0,
     NULL, 1, 2, 2, FK_OK, "rm \"$(grep -o '\"path\": \"cohort_definitions/[^\"]*' fortknox-manifest.json | "
     "sed -n 2p | cut -d '\"' -f 4)\"", 1},
};

/* The number of entity types, from a first full export's counters. */
static int64_t ntypes_of(fk_report *r)
{
    int64_t n = 0;
    for (size_t i = 0; i < fk_report_counter_count(r); i++) {
        int64_t v;
        const char *name = fk_report_counter_at(r, i, &v);
        size_t l = strlen(name);
        n += l > 9 && strcmp(name + l - 9, ".entities") == 0;
    }
    return n;
}

/* One case (each its own cmocka test, so that every case reports). */
static void incremental_equals_full(void **state)
{
    const change_case *c = *state;
    {
        char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
        char *other = fkt_pg_new_db(pg, fkt_schema_and_seed);
        assert_non_null(db);
        assert_non_null(other);
        const char *changed = c->other_db ? other : db;
        if (c->install)
            install(changed, c->install);
        if (c->before)
            assert_int_equal(fkt_pg_exec(db, c->before), 0);
        if (c->other_db) /* before the export: its row versions are older */
            assert_int_equal(fkt_pg_exec(other, c->sql), 0);
        char *base = fkt_tempdir_or_fail("fk-inc");
        char inc[512], full[512];
        snprintf(inc, sizeof inc, "%s/inc", base);
        snprintf(full, sizeof full, "%s/full", base);
        fk_report *r = NULL;
        assert_int_equal(export_to(db, inc, 0, &r), FK_OK);
        int64_t ntypes = ntypes_of(r), nentities = fk_report_counter(r, "entities");
        assert_true(ntypes > 2);
        fk_report_free(r);
        if (c->sql && !c->other_db)
            assert_int_equal(fkt_pg_exec(db, c->sql), 0);
        if (c->after)
            assert_int_equal(fkt_pg_exec(db, c->after), 0);
        if (c->manifest)
            assert_int_equal(fkt_sh("sed -i '%s' '%s/fortknox-manifest.json'", c->manifest, inc),
                             0);
        if (c->files)
            assert_int_equal(fkt_sh("cd '%s' && %s", inc, c->files), 0);
        assert_int_equal(fkt_sh("cp -a '%s' '%s'", inc, full), 0);

        fk_report *ri = NULL, *rf = NULL;
        assert_int_equal(export_to(changed, inc, 0, &ri), c->rc);
        assert_int_equal(export_to(changed, full, FK_EXPORT_FULL, &rf), c->rc);
        assert_same_tree(inc, full);
        int64_t reread = ntypes - fk_report_counter(ri, "types_unchanged");
        assert_int_equal(reread, c->reread >= 0 ? c->reread : ntypes);
        /* precision: only the entities that may have changed were read, and
         * exactly the changed ones written */
        assert_int_equal(fk_report_counter(ri, "read"),
                         c->read >= 0 ? c->read : fk_report_counter(rf, "entities"));
        assert_int_equal(fk_report_counter(ri, "full_pass"), c->read < 0);
        assert_int_equal(fk_report_counter(rf, "types_unchanged"), 0);
        assert_int_equal(fk_report_counter(rf, "full_pass"), 1);
        assert_int_equal(fk_report_counter(rf, "read"), fk_report_counter(rf, "entities"));
        assert_true(fk_report_counter(rf, "entities") >= nentities - 1);
        assert_int_equal(fk_report_counter(ri, "written"), fk_report_counter(rf, "written"));
        assert_int_equal(fk_report_counter(ri, "rewritten"), c->rewritten);
        if (c->written >= 0)
            assert_int_equal(fk_report_counter(ri, "written"), c->written);
        fk_report_free(ri);
        fk_report_free(rf);

        /* and again, with nothing changed since: nothing is read, except
         * a type with a loss (kept entries are not rows: it is read until
         * the loss is resolved, and reported each time) */
        assert_int_equal(export_to(changed, inc, 0, &ri), c->rc);
        assert_int_equal(fk_report_counter(ri, "types_unchanged"),
                         c->rc == FK_OK ? ntypes : ntypes - 1);
        assert_int_equal(fk_report_counter(ri, "written"), 0);
        assert_int_equal(fk_report_counter(ri, "full_pass"), 0);
        fk_report_free(ri);
        fkt_rm_tree(base);
        free(db);
        free(other);
    }
}

/* Nothing changed: the manifest stays byte for byte what it was (git stays
 * quiet), export_state included -- also when the export had to hash the
 * few files the last one wrote (kept_file.h; from HASHED_KEEPS_STATE files
 * on, it records its own start instead). */
static void nothing_changed_keeps_the_manifest(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    char *dir = fkt_tempdir_or_fail("fk-inc-quiet");
    fk_report *r = NULL;
    assert_int_equal(export_to(db, dir, 0, &r), FK_OK);
    fk_report_free(r);
    char path[512];
    snprintf(path, sizeof path, "%s/fortknox-manifest.json", dir);
    char *before = fkt_read_file(path, NULL);
    /* a clock tick (ctime's granularity); the few files the first export
     * wrote are hashed, and the state is carried over as it was */
    assert_int_equal(fkt_sh("sleep 0.02"), 0);
    assert_int_equal(export_to(db, dir, 0, &r), FK_OK);
    assert_true(fk_report_counter(r, "hashed") > 2);
    assert_int_equal(fk_report_counter(r, "written"), 0);
    fk_report_free(r);
    assert_non_null(strstr(before, "\"export_state\": \"3 "));
    /* unrelated write traffic moves the transaction counter */
    assert_int_equal(fkt_pg_exec(db, "CREATE TABLE public.noise (x int); INSERT INTO "
                                     "public.noise VALUES (1)"),
                     0);
    assert_int_equal(export_to(db, dir, 0, &r), FK_OK);
    assert_true(fk_report_counter(r, "types_unchanged") > 2);
    fk_report_free(r);
    char *after = fkt_read_file(path, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    fkt_rm_tree(dir);
    free(db);
}

/* The report's "full_pass" item, or NULL. */
static const fk_report_item *full_pass_item(const fk_report *r)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        if (strcmp(fk_report_item_at(r, i)->code, "full_pass") == 0)
            return fk_report_item_at(r, i);
    return NULL;
}

/* A login role that may read the app schema (then sql, as the superuser);
 * its conninfo on db in out. */
static void reader_role(const char *db, const char *role, const char *sql, char *out, size_t n)
{
    char setup[1024];
    snprintf(setup, sizeof setup,
             "DO $r$ BEGIN CREATE ROLE %s LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
             "END $r$; GRANT USAGE ON SCHEMA app TO %s; GRANT SELECT ON ALL TABLES IN SCHEMA "
             "app TO %s; %s",
             role, role, role, sql);
    assert_int_equal(fkt_pg_exec(db, setup), 0);
    snprintf(out, n, "%s user=%s", db, role);
}

/* Two exports into dir, each a full pass whose report says why. */
static void always_full(const char *conninfo, const char *dir, const char *why)
{
    for (int run = 0; run < 2; run++) {
        fk_report *r = NULL;
        assert_int_equal(export_to(conninfo, dir, 0, &r), FK_OK);
        assert_int_equal(fk_report_counter(r, "full_pass"), 1);
        assert_int_equal(fk_report_counter(r, "types_unchanged"), 0);
        assert_int_equal(fk_report_counter(r, "read"), fk_report_counter(r, "entities"));
        const fk_report_item *it = full_pass_item(r);
        assert_non_null(it);
        assert_non_null(strstr(it->message, why));
        fk_report_free(r);
    }
}

/* Two exports into dir: the first reads everything, the second nothing. */
static void then_incremental(const char *conninfo, const char *dir)
{
    for (int run = 0; run < 2; run++) {
        fk_report *r = NULL;
        assert_int_equal(export_to(conninfo, dir, 0, &r), FK_OK);
        assert_int_equal(fk_report_counter(r, "full_pass"), run == 0);
        assert_int_equal(fk_report_counter(r, "read"),
                         run == 0 ? fk_report_counter(r, "entities") : 0);
        fk_report_free(r);
    }
}

/* A role that may not run pg_control_system() (PUBLIC may by default; a
 * hardened server revokes it) cannot tell this database from another one:
 * every export is a full pass, and says so; granted the function, it
 * exports incrementally. */
static void without_pg_control_system(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    char as_role[600];
    reader_role(db, "fk_inc_reader",
                "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_control_system() FROM PUBLIC", as_role,
                sizeof as_role);
    char *may = fkt_q1(as_role, "SELECT has_function_privilege('pg_catalog.pg_control_system()', "
                                "'EXECUTE')");
    assert_string_equal(may, "f");
    free(may);
    char *dir = fkt_tempdir_or_fail("fk-inc-role");
    always_full(as_role, dir, "pg_control_system()");
    char path[512];
    snprintf(path, sizeof path, "%s/fortknox-manifest.json", dir);
    char *m = fkt_read_file(path, NULL);
    assert_null(strstr(m, "export_state"));
    free(m);
    assert_int_equal(fkt_pg_exec(db, "GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_system() "
                                     "TO fk_inc_reader"),
                     0);
    then_incremental(as_role, dir);
    fkt_rm_tree(dir);
    free(db);
}

/* Under row-level security what a role sees can change without a row
 * version (a policy reading a setting or another table): no state, every
 * export a full pass, saying why. The table's owner and a superuser are
 * not subject to it. */
static void row_level_security(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    char as_role[600];
    reader_role(db, "fk_inc_rls",
                "ALTER TABLE app.cohort_definitions ENABLE ROW LEVEL SECURITY; CREATE POLICY seen "
                "ON app.cohort_definitions FOR SELECT USING (id % 2 = 1 OR "
                "current_setting('fk.all', true) = 'on')",
                as_role, sizeof as_role);
    char *dir = fkt_tempdir_or_fail("fk-inc-rls");
    always_full(as_role, dir, "row-level security");
    fkt_rm_tree(dir);
    dir = fkt_tempdir_or_fail("fk-inc-rls"); /* the superuser: incremental */
    then_incremental(db, dir);
    fkt_rm_tree(dir);
    free(db);
}

/* An incremental export into `dir` equals a full one into a copy of it,
 * and found exactly `rewritten` files changed. */
static void incremental_repairs(const char *db, const char *base, const char *dir,
                                int64_t rewritten)
{
    char full[512];
    snprintf(full, sizeof full, "%s/full", base);
    assert_int_equal(fkt_sh("rm -rf '%s' && cp -a '%s' '%s'", full, dir, full), 0);
    fk_report *ri = NULL, *rf = NULL;
    assert_int_equal(export_to(db, dir, 0, &ri), FK_OK);
    assert_int_equal(export_to(db, full, FK_EXPORT_FULL, &rf), FK_OK);
    assert_same_tree(dir, full);
    assert_int_equal(fk_report_counter(ri, "full_pass"), 0);
    assert_int_equal(fk_report_counter(ri, "rewritten"), rewritten);
    fk_report_free(ri);
    fk_report_free(rf);
}

/* A seeded database exported once into <base>/inc (dir, of n bytes): the
 * database's conninfo and *base are the caller's to free. */
static char *exported(const char *tag, char **base, char *dir, size_t n)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    *base = fkt_tempdir_or_fail(tag);
    snprintf(dir, n, "%s/inc", *base);
    fk_report *r = NULL;
    assert_int_equal(export_to(db, dir, 0, &r), FK_OK);
    fk_report_free(r);
    return db;
}

/* A type directory moved away, and moved back in after an export that
 * changed one of its entities: its files keep their old ctimes, but the
 * directory is another inode than the one the state recorded. */
static void a_type_directory_moved_back_in(void **state)
{
    (void)state;
    char *base, dir[512];
    char *db = exported("fk-inc-moved", &base, dir, sizeof dir);
    fk_report *r = NULL;
    assert_int_equal(fkt_sh("mv '%s/cohort_definitions' '%s/old'", dir, base), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'moved' "
                                     "WHERE id = " ONE_COHORT),
                     0);
    assert_int_equal(export_to(db, dir, 0, &r), FK_OK);
    fk_report_free(r);
    /* ... and the manifest's own times moved (they are not what tells) */
    assert_int_equal(fkt_sh("sleep 0.02; rm -r '%s/cohort_definitions' && mv '%s/old' "
                            "'%s/cohort_definitions' && chmod 600 '%s/fortknox-manifest.json' && "
                            "touch '%s/fortknox-manifest.json'",
                            dir, base, dir, dir, dir),
                     0);
    incremental_repairs(db, base, dir, 1);
    fkt_rm_tree(base);
    free(db);
}

/* A file edited while an export runs, after that export looked at it: the
 * next export still finds it (its ctime is after the start that export
 * recorded in its state). */
typedef struct edit_during {
    const char *dir;
    int done;
} edit_during;

static int edit_after_the_cohorts(const fk_progress *p, void *ud)
{
    edit_during *e = ud;
    if (!e->done && p->entity_type && strcmp(p->entity_type, "cohort_definition") > 0) {
        e->done = 1;
        /* then a clock tick (ctime's granularity) before the export goes on:
         * an export of this size would otherwise end within the same one */
        assert_int_equal(fkt_sh("cd '%s' && sed -i 's/\"name\": \"/\"name\": \"during /' "
                                COHORT_FILE " && sleep 0.02", e->dir),
                         0);
    }
    return 0;
}

static void an_edit_while_an_export_runs(void **state)
{
    (void)state;
    char *base, dir[512];
    char *db = exported("fk-inc-during", &base, dir, sizeof dir);
    fk_report *r = NULL;
    edit_during e = {dir, 0};
    fk_ctx *ctx = open_ctx(db);
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.progress = edit_after_the_cohorts;
    o.progress_data = &e;
    assert_int_equal(fk_export(&r, ctx, dir, &o), FK_OK);
    assert_true(e.done);
    assert_int_equal(fk_report_counter(r, "rewritten"), 0); /* checked before the edit */
    fk_report_free(r);
    fk_close(ctx);
    incremental_repairs(db, base, dir, 1);
    fkt_rm_tree(base);
    free(db);
}

/* A hand edit, then `watch` refreshing another entity (it rewrites the
 * manifest, carrying the export state over): the next export still finds
 * the edit. */
static void an_edit_before_a_watch_refresh(void **state)
{
    (void)state;
    char *base, dir[512];
    char *db = exported("fk-inc-watch", &base, dir, sizeof dir);
    fk_report *r = NULL;
    assert_int_equal(export_to(db, dir, 0, &r), FK_OK); /* the files' ctimes now vouch */
    fk_report_free(r);
    assert_int_equal(fkt_sh("sleep 0.02; cd '%s' && sed -i 's/\"name\": \"/\"name\": \"hand /' "
                            COHORT_FILE " && sleep 0.02", dir),
                     0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.concept_sets SET description = 'watched' WHERE "
                                     "id = (SELECT min(id) FROM app.concept_sets)"),
                     0);
    fk_ctx *ctx = open_ctx(db);
    const char *types[] = {"concept_set"};
    int64_t ids[1];
    char *id = fkt_q1(db, "SELECT min(id) FROM app.concept_sets");
    assert_non_null(id);
    ids[0] = strtoll(id, NULL, 10);
    free(id);
    assert_int_equal(fk_export_entities(NULL, ctx, dir, types, ids, 1, FK_FORMAT_PARTHENON),
                     FK_OK);
    fk_close(ctx);
    incremental_repairs(db, base, dir, 1);
    fkt_rm_tree(base);
    free(db);
}

/* Row versions cannot tell what changed: every export is a full pass. */
static const char *const opaque_setups[] = {
    /* a column that prints a catalog object's current name */
    "CREATE TABLE app.zz (i int); ALTER TABLE app.concept_sets ADD COLUMN src regclass; "
    "UPDATE app.concept_sets SET src = 'app.zz'",
    /* a foreign table among a registered table's children (its xmin reads 0) */
    "CREATE EXTENSION file_fdw; CREATE SERVER fk_files FOREIGN DATA WRAPPER file_fdw; "
    "CREATE FOREIGN TABLE app.cd_remote () INHERITS (app.cohort_definitions) SERVER fk_files "
    "OPTIONS (program 'true', format 'csv')",
};

static void what_row_versions_cannot_tell(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof opaque_setups / sizeof opaque_setups[0]; i++) {
        char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
        assert_non_null(db);
        assert_int_equal(fkt_pg_exec(db, opaque_setups[i]), 0);
        char *dir = fkt_tempdir_or_fail("fk-inc-opaque");
        always_full(db, dir, "row versions cannot tell");
        fkt_rm_tree(dir);
        free(db);
    }
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    enum { NCASES = sizeof cases / sizeof cases[0] };
    struct CMUnitTest tests[NCASES + 7] = {
        cmocka_unit_test(nothing_changed_keeps_the_manifest),
    };
    for (size_t i = 0; i < NCASES; i++)
        tests[1 + i] = (struct CMUnitTest){cases[i].what, incremental_equals_full, NULL, NULL,
                                           (void *)&cases[i]};
    tests[NCASES + 1] = (struct CMUnitTest)cmocka_unit_test(without_pg_control_system);
    tests[NCASES + 2] = (struct CMUnitTest)cmocka_unit_test(row_level_security);
    tests[NCASES + 3] = (struct CMUnitTest)cmocka_unit_test(a_type_directory_moved_back_in);
    tests[NCASES + 4] = (struct CMUnitTest)cmocka_unit_test(an_edit_while_an_export_runs);
    tests[NCASES + 5] = (struct CMUnitTest)cmocka_unit_test(an_edit_before_a_watch_refresh);
    tests[NCASES + 6] = (struct CMUnitTest)cmocka_unit_test(what_row_versions_cannot_tell);
    int rc = _cmocka_run_group_tests("incremental", tests, NCASES + 7, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
