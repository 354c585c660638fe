/* fortknox demo: the recovery story, told on a throwaway PostgreSQL.
 *
 * Parthenon lost every design twice to a seeder's `TRUNCATE app.users
 * CASCADE`. The demo replays that against the Parthenon-like sample data with
 * libfortknox installed: export, the seeder's truncate (blocked by the guard),
 * Laravel's `migrate:fresh` (blocked by the DDL guard), a deliberate wipe with the override, doctor noticing the loss, import
 * restoring it, verify, drill and the audit chain proving the result; then
 * the same wipe once more, undone by `restore --all --as-of <before the
 * wipe>` from the audit log alone (no fixture read), proven identical. Each
 * step prints what it did and how long it took.
 *
 * The cluster comes from the throwaway-PostgreSQL harness (harness/pg_harness.c): a
 * private temp dir, Unix socket only, removed when the demo ends however it
 * ends (its keeper process dies with us). --keep leaves it running until
 * Ctrl-C, with its conninfo printed, for trying the other commands on it. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_harness.h"

extern const char fk_sample_schema_sql[];
extern const char fk_sample_seed_sql[];

#define NSTEPS 14

/* The sample's entity tables (what the seeder's cascade reaches). */
static const char count_design_sql[] =
    "SELECT (SELECT count(*) FROM app.cohort_definitions) + (SELECT count(*) FROM "
    "app.concept_sets) + (SELECT count(*) FROM app.characterizations) + (SELECT count(*) FROM "
    "app.incidence_rate_analyses) + (SELECT count(*) FROM app.pathway_analyses) + (SELECT "
    "count(*) FROM app.estimation_analyses) + (SELECT count(*) FROM app.prediction_analyses) + "
    "(SELECT count(*) FROM app.sccs_analyses) + (SELECT count(*) FROM "
    "app.evidence_synthesis_analyses) + (SELECT count(*) FROM app.heor_analyses)";

/* Every design entity's document (children included), as the audit log
 * records them, folded into one digest: "identical" for the restore from
 * the log. */
static const char digest_design_sql[] =
    "SELECT md5(string_agg(d, E'\\n' ORDER BY t, id)) FROM (SELECT t, id,"
    " fortknox.entity_doc(t, id, NULL)::text AS d FROM ("
    " SELECT 'cohort_definition' AS t, id FROM app.cohort_definitions"
    " UNION ALL SELECT 'concept_set', id FROM app.concept_sets"
    " UNION ALL SELECT 'characterization', id FROM app.characterizations"
    " UNION ALL SELECT 'incidence_rate_analysis', id FROM app.incidence_rate_analyses"
    " UNION ALL SELECT 'pathway_analysis', id FROM app.pathway_analyses"
    " UNION ALL SELECT 'estimation_analysis', id FROM app.estimation_analyses"
    " UNION ALL SELECT 'prediction_analysis', id FROM app.prediction_analyses"
    " UNION ALL SELECT 'sccs_analysis', id FROM app.sccs_analyses"
    " UNION ALL SELECT 'evidence_synthesis_analysis', id FROM app.evidence_synthesis_analyses"
    " UNION ALL SELECT 'heor_analysis', id FROM app.heor_analyses) e) x";

typedef struct demo {
    cli *c;
    fkt_pg *pg;
    char *ci; /* the demo database; no password in it (trust on a private socket) */
    fk_ctx *ctx;
    char tmp[64];      /* our temp dir */
    char fixtures[96]; /* tmp/fixtures */
    int step;
    double step_t0, t0;
    char *steps; /* the JSON array for "data" */
    size_t steps_len;
    FILE *steps_f;
    int unexpected; /* a step did not go as the story says */
    char before_wipe[40]; /* a time before the first wipe (UTC) */
    char *digest;         /* digest_design_sql then */
} demo;

static int human(const demo *d) { return !d->c->json && !d->c->quiet; }

static void step_begin(demo *d, const char *title, const char *command)
{
    d->step++;
    d->step_t0 = cli_now_ms();
    if (human(d)) {
        printf("\n[%2d/%d] %s\n", d->step, NSTEPS, title);
        if (command)
            printf("        $ %s\n", command);
        fflush(stdout);
    }
}

/* Ends a step: `as_expected` says whether the story went as told; the
 * sentence (printf-style) says what happened. */
static void step_end(demo *d, const char *name, int as_expected, int status,
                     const fk_report *report, const char *fmt, ...) CLI_PRINTF(6, 7);

static void step_end(demo *d, const char *name, int as_expected, int status,
                     const fk_report *report, const char *fmt, ...)
{
    double ms = cli_now_ms() - d->step_t0;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!as_expected)
        d->unexpected = 1;
    if (human(d) || (!as_expected && !d->c->json)) {
        char dur[32];
        printf("        %s%s (%s)\n", as_expected ? "" : "UNEXPECTED: ", line,
               out_duration(dur, ms));
        fflush(stdout);
    }
    char *rj = NULL;
    if (report && fk_report_json(&rj, report) != FK_OK)
        rj = NULL;
    fprintf(d->steps_f, "%s{\"step\": %d, \"name\": ", d->step > 1 ? ", " : "", d->step);
    out_json_string(d->steps_f, name);
    fprintf(d->steps_f, ", \"as_expected\": %s, \"status\": ", as_expected ? "true" : "false");
    out_json_string(d->steps_f, fk_status_name(status));
    fprintf(d->steps_f, ", \"elapsed_ms\": %.1f, \"message\": ", ms);
    out_json_string(d->steps_f, line);
    fprintf(d->steps_f, ", \"report\": %s}", rj ? rj : "null");
    fk_free(rj);
}

/* A step that could not run at all ends the story: r gets the failure. */
static int step_failed(demo *d, cli_result *r, const char *name, int status)
{
    cli_fail(r, status, d->ctx);
    step_end(d, name, 0, status, NULL, "failed: %s", r->error);
    return -1;
}

static long long count(demo *d, const char *sql)
{
    char *v = fkt_pg_query1(d->ci, sql);
    long long n = v ? atoll(v) : -1;
    free(v);
    return n;
}

static int start_cluster(demo *d, cli_result *r)
{
    step_begin(d, "start a throwaway PostgreSQL (private temp dir, Unix socket only)", NULL);
    int rc = fkt_pg_start(&d->pg);
    if (rc != 0) {
        cli_fail_msg(r, FK_EDB, "%s",
                     rc == FKT_SKIP ? "no PostgreSQL server binaries found: install "
                                      "postgresql-15 (sh tools/bootstrap does)"
                                    : "the throwaway PostgreSQL did not start (see above)");
        step_end(d, "start", 0, FK_EDB, NULL, "%s", r->error);
        return -1;
    }
    d->ci = fkt_pg_new_db(d->pg, NULL);
    fk_ctx_options o;
    fk_ctx_options_init(&o, FK_CTX_OPTIONS_VERSION);
    o.flags = FK_OPEN_LAZY_REGISTRY; /* the tables are created next */
    o.application_name = "fortknox-demo";
    rc = d->ci ? fk_open(&d->ctx, d->ci, &o) : FK_EDB;
    if (rc != FK_OK) {
        cli_fail(r, rc, NULL);
        step_end(d, "start", 0, rc, NULL, "cannot connect: %s", r->error);
        return -1;
    }
    step_end(d, "start", 1, FK_OK, NULL, "PostgreSQL %d is running in %s",
             fk_server_version(d->ctx) / 10000,
             fkt_pg_dir(d->pg) ? fkt_pg_dir(d->pg) : "the FORTKNOX_TEST_DSN server");
    return 0;
}

static int load_sample(demo *d, cli_result *r)
{
    step_begin(d, "load the Parthenon-like sample schema and data", NULL);
    int rc = fk_exec(d->ctx, fk_sample_schema_sql);
    if (rc == FK_OK)
        rc = fk_exec(d->ctx, fk_sample_seed_sql);
    if (rc != FK_OK)
        return step_failed(d, r, "load", rc);
    step_end(d, "load", 1, FK_OK, NULL, "%lld design entities, %lld users",
             count(d, count_design_sql), count(d, "SELECT count(*) FROM app.users"));
    return 0;
}

static int install(demo *d, cli_result *r)
{
    step_begin(d, "install libfortknox: audit log, capture triggers, guards",
               "fortknox install --capture");
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = FK_AUDIT_CAPTURE;
    fk_report *rep = NULL;
    int rc = fk_install(&rep, d->ctx, &o);
    if (rc != FK_OK)
        return step_failed(d, r, "install", rc);
    step_end(d, "install", 1, rc, rep, "%lld tables guarded, every change audited",
             (long long)fk_report_counter(rep, "guarded_tables"));
    fk_report_free(rep);
    return 0;
}

static int export(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox export %s", d->fixtures);
    step_begin(d, "export every design entity to its own JSON file", cmd);
    fk_report *rep = NULL;
    int rc = fk_export(&rep, d->ctx, d->fixtures, NULL);
    if (rc != FK_OK)
        return step_failed(d, r, "export", rc);
    step_end(d, "export", 1, rc, rep, "%lld entities written (in git, this is the backup)",
             (long long)fk_report_counter(rep, "entities"));
    fk_report_free(rep);
    return 0;
}

static int seeder(demo *d, cli_result *r)
{
    (void)r;
    step_begin(d, "the seeder runs what wiped Parthenon twice",
               "psql -c 'TRUNCATE app.users CASCADE'");
    int rc = fk_exec(d->ctx, "TRUNCATE app.users CASCADE");
    long long left = count(d, count_design_sql);
    if (rc == FK_EGUARD)
        step_end(d, "seeder_truncate", 1, rc, NULL,
                 "blocked by the guard, nothing lost (%lld design entities still there):\n"
                 "        %s",
                 left, fk_errmsg(d->ctx));
    else
        step_end(d, "seeder_truncate", 0, rc, NULL, "not blocked (%s)", fk_status_name(rc));
    return 0;
}

/* Laravel's migrate:fresh / db:wipe: PostgresBuilder::dropAllTables sends
 * one `drop table "a","b",... cascade` of every table in the schema. */
static int migrate_fresh(demo *d, cli_result *r)
{
    step_begin(d, "a developer runs Laravel's migrate:fresh against the wrong database",
               "php artisan migrate:fresh  (drop table \"users\",\"sources\",... cascade)");
    char *stmt = fkt_pg_query1(d->ci, "SELECT 'drop table \"' || string_agg(tablename, '\",\"' "
                                      "ORDER BY tablename) || '\" cascade' FROM "
                                      "pg_catalog.pg_tables WHERE schemaname IN ('app')");
    char *sql = NULL;
    if (!stmt || asprintf(&sql, "SET search_path = app; %s", stmt) < 0) {
        free(stmt);
        cli_fail_msg(r, FK_ENOMEM, "cannot build the statement");
        return step_failed(d, r, "migrate_fresh", FK_ENOMEM);
    }
    free(stmt);
    long long before = count(d, count_design_sql);
    int rc = fk_exec(d->ctx, sql);
    free(sql);
    long long left = count(d, count_design_sql);
    if (rc == FK_EGUARD && left == before)
        step_end(d, "migrate_fresh", 1, rc, NULL,
                 "refused by the DDL guard, nothing lost (%lld design entities still there):\n"
                 "        %s",
                 left, fk_errmsg(d->ctx));
    else
        step_end(d, "migrate_fresh", 0, rc, NULL, "not refused (%s), %lld of %lld left",
                 fk_status_name(rc), left, before);
    return 0;
}

/* The override and the truncate, the seeder re-creating its users after.
 * app.users is no design table: keep its rows aside to play that part, so a
 * restore finds every author again (with only the admin back, authors would
 * be remapped to it and verify would rightly report those differences).
 * Returns the status; *left: the design entities left. */
static int truncate_everything(demo *d, long long *left)
{
    int rc = fk_exec(d->ctx, "CREATE TEMP TABLE seeded_users AS TABLE app.users");
    if (rc == FK_OK)
        rc = fk_exec(d->ctx, "BEGIN; SELECT fortknox.allow('truncate'); "
                             "TRUNCATE app.users CASCADE; COMMIT");
    if (rc != FK_OK)
        return rc;
    *left = count(d, count_design_sql);
    return fk_exec(d->ctx, "INSERT INTO app.users SELECT * FROM seeded_users; "
                           "DROP TABLE seeded_users");
}

/* Notes a time before the wipe and what every entity was then. The wait
 * makes the wipe's audit rows later than that time whatever precision the
 * audit table stores its times at (whole seconds: at most one second). */
static int note_before_wipe(demo *d)
{
    char *t = fkt_pg_query1(d->ci, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',"
                                   " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    d->digest = fkt_pg_query1(d->ci, digest_design_sql);
    if (!t || !d->digest) {
        free(t);
        return FK_EDB;
    }
    snprintf(d->before_wipe, sizeof d->before_wipe, "%s", t);
    free(t);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT date_trunc('second', clock_timestamp() AT TIME ZONE 'UTC')"
                              " > '%s'::timestamptz AT TIME ZONE 'UTC'", d->before_wipe);
    for (;;) {
        char *past = fkt_pg_query1(d->ci, sql);
        int done = !past || strcmp(past, "t") == 0;
        free(past);
        if (done)
            return FK_OK;
    }
}

static int wipe(demo *d, cli_result *r)
{
    step_begin(d, "someone overrides the guard on purpose and wipes everything",
               "psql -c \"BEGIN; SELECT fortknox.allow('truncate'); TRUNCATE app.users "
               "CASCADE; COMMIT\"");
    long long left = -1;
    int rc = note_before_wipe(d);
    if (rc == FK_OK)
        rc = truncate_everything(d, &left);
    if (rc != FK_OK)
        return step_failed(d, r, "wipe", rc);
    step_end(d, "wipe", left == 0, FK_OK, NULL,
             "%lld design entities left; the seeder re-created its %lld users "
             "(admin@acumenus.net among them). The audit log recorded the override.",
             left, count(d, "SELECT count(*) FROM app.users"));
    return 0;
}

static int wipe_again(demo *d, cli_result *r)
{
    step_begin(d, "the same wipe once more; this time no fixtures are used",
               "psql -c \"BEGIN; SELECT fortknox.allow('truncate'); TRUNCATE app.users "
               "CASCADE; COMMIT\"");
    long long left = -1;
    int rc = truncate_everything(d, &left);
    if (rc != FK_OK)
        return step_failed(d, r, "wipe_again", rc);
    step_end(d, "wipe_again", left == 0, FK_OK, NULL, "%lld design entities left", left);
    return 0;
}

/* Everything back from the audit log alone, to its state before the first
 * wipe, and compared with what it was then. */
static int restore_all(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox restore --all --as-of %s", d->before_wipe);
    step_begin(d, "restore --all brings everything back to before the wipe, from the audit log",
               cmd);
    fk_restore_all_options o;
    fk_restore_all_options_init(&o, FK_RESTORE_ALL_OPTIONS_VERSION);
    o.as_of = d->before_wipe;
    fk_report *rep = NULL;
    int rc = fk_restore_all(&rep, d->ctx, &o);
    if (rc != FK_OK)
        return step_failed(d, r, "restore_all", rc);
    char *now = fkt_pg_query1(d->ci, digest_design_sql);
    int same = now && d->digest && strcmp(now, d->digest) == 0;
    free(now);
    step_end(d, "restore_all", same && fk_report_counter(rep, "reinserted") > 0, rc, rep,
             "%lld entities re-inserted in one transaction; every entity %s its state before "
             "the wipe",
             (long long)fk_report_counter(rep, "reinserted"),
             same ? "is identical to" : "DIFFERS from");
    fk_report_free(rep);
    return 0;
}

static int doctor(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox doctor --fixtures %s", d->fixtures);
    step_begin(d, "doctor looks for silent loss", cmd);
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = d->fixtures;
    fk_report *rep = NULL;
    int rc = fk_doctor(&rep, d->ctx, &o);
    if (rc != FK_OK && rc != FK_EVERIFY)
        return step_failed(d, r, "doctor", rc);
    size_t lost = 0;
    for (size_t i = 0; i < fk_report_item_count(rep); i++)
        lost += strcmp(fk_report_item_at(rep, i)->code, "FK-LOSS") == 0;
    if (human(d) && lost) {
        out_items(d->c, rep, "FK-LOSS", 2, "        ");
    }
    step_end(d, "doctor", rc == FK_EVERIFY && lost > 0, rc, rep,
             "loss detected: %zu entities are in the fixtures but not in the database (FK-LOSS)",
             lost);
    fk_report_free(rep);
    return 0;
}

static int import(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox import %s", d->fixtures);
    step_begin(d, "import restores them, exactly, in one transaction", cmd);
    fk_report *rep = NULL;
    int rc = fk_import(&rep, d->ctx, d->fixtures, NULL);
    if (rc != FK_OK)
        return step_failed(d, r, "import", rc);
    step_end(d, "import", fk_report_counter(rep, "created") > 0, rc, rep,
             "%lld entities re-created (ids, timestamps and authors kept)",
             (long long)fk_report_counter(rep, "created"));
    fk_report_free(rep);
    return 0;
}

static int verify(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox verify %s", d->fixtures);
    step_begin(d, "verify compares the database with the fixtures", cmd);
    fk_report *rep = NULL;
    int rc = fk_verify(&rep, d->ctx, d->fixtures, NULL);
    if (rc != FK_OK && rc != FK_EVERIFY)
        return step_failed(d, r, "verify", rc);
    if (rc == FK_EVERIFY && human(d))
        out_items(d->c, rep, NULL, 5, "        ");
    step_end(d, "verify", rc == FK_OK, rc, rep, "%s: %lld identical, %lld differ",
             rc == FK_OK ? "identical" : "differences", (long long)fk_report_counter(rep, "identical"),
             (long long)fk_report_counter(rep, "differs"));
    fk_report_free(rep);
    return 0;
}

static int drill(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox drill %s", d->fixtures);
    step_begin(d, "drill rehearses the restore in a scratch schema (live rows untouched)", cmd);
    fk_report *rep = NULL;
    int rc = fk_drill(&rep, d->ctx, d->fixtures, NULL);
    if (rc != FK_OK && rc != FK_EVERIFY)
        return step_failed(d, r, "drill", rc);
    step_end(d, "drill", rc == FK_OK, rc, rep, "%s: %lld entities restored, %lld identical",
             rc == FK_OK ? "passed" : "FAILED", (long long)fk_report_counter(rep, "restored"),
             (long long)fk_report_counter(rep, "identical"));
    fk_report_free(rep);
    return 0;
}

static int audit(demo *d, cli_result *r)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fortknox audit verify --anchor %s", d->fixtures);
    step_begin(d, "the audit chain: every change above, hash-chained and anchored in git", cmd);
    fk_report *rep = NULL;
    int rc = fk_audit_verify(&rep, d->ctx, d->fixtures);
    if (rc != FK_OK && rc != FK_ETAMPER)
        return step_failed(d, r, "audit_verify", rc);
    step_end(d, "audit_verify", rc == FK_OK, rc, rep, "%s: %lld audit rows verified",
             rc == FK_OK ? "intact" : "BROKEN", (long long)fk_report_counter(rep, "rows"));
    fk_report_free(rep);
    return 0;
}

/* The harness's keeper stops the server when this process exits, so --keep
 * means: stay alive until asked to stop. */
static void keep_running(demo *d, const char *conninfo)
{
    if (!d->c->json) {
        printf("\n--keep: the cluster runs until you press Ctrl-C (or send SIGTERM). Try:\n"
               "  export FORTKNOX_DB=\"%s\"\n"
               "  fortknox audit log --limit 5\n"
               "  fortknox doctor --fixtures %s\n",
               conninfo, d->fixtures);
        fflush(stdout);
    }
    while (cli_sleep_ms(3600 * 1000) == 0)
        ;
}

static void cleanup(demo *d)
{
    fk_close(d->ctx);
    free(d->ci);
    free(d->digest);
    fkt_pg_stop(d->pg);
    if (d->tmp[0])
        fkh_rm_rf(d->tmp);
}

static int run(cli *c, int argc, char **argv)
{
    int keep = 0;
    const cli_opt opts[] = {
        {"keep", CLI_FLAG, &keep, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    demo d;
    memset(&d, 0, sizeof d);
    d.c = c;
    d.t0 = cli_now_ms();
    cli_result r = {.problem_status = FK_EVERIFY};
    d.steps_f = open_memstream(&d.steps, &d.steps_len);
    snprintf(d.tmp, sizeof d.tmp, "/tmp/fortknox-demo-XXXXXX");
    if (!d.steps_f || !mkdtemp(d.tmp)) {
        d.tmp[0] = '\0';
        cli_fail_msg(&r, FK_EIO, "cannot create a temp directory");
    }
    snprintf(d.fixtures, sizeof d.fixtures, "%s/fixtures", d.tmp);
    cli_signals_install(); /* Ctrl-C: stop after the current step, clean up */
    if (human(&d))
        printf("fortknox demo: the recovery story on a throwaway PostgreSQL (libfortknox %s)\n",
               fk_version_string());

    int (*const story[])(demo *, cli_result *) = {
        start_cluster, load_sample, install, export, seeder,     migrate_fresh, wipe,
        doctor,        import,      verify,  drill,  audit,      wipe_again,    restore_all};
    for (size_t i = 0; r.status == FK_OK && i < sizeof story / sizeof story[0]; i++) {
        if (cli_stop_requested) {
            cli_fail_msg(&r, FK_ECANCELLED, "interrupted");
            break;
        }
        if (story[i](&d, &r) != 0 && r.status == FK_OK)
            r.status = FK_EDB;
    }
    if (d.steps_f)
        fclose(d.steps_f);
    char total[32];
    out_duration(total, cli_now_ms() - d.t0);
    if (r.status == FK_OK && d.unexpected)
        cli_fail_msg(&r, FK_EVERIFY, "the story did not go as told (see UNEXPECTED above)");
    else if (r.status == FK_OK)
        cli_summary(&r, "\ndone in %s: the wipe was caught, the designs restored (from the "
                        "fixtures, then from the audit log alone) and proven identical.%s",
                    total, keep ? "" : "\nThe throwaway server is stopped and removed.");
    char *shown = keep && d.ci ? cli_conninfo_redacted(d.ci) : NULL;
    char *data = NULL;
    size_t data_len = 0;
    FILE *f = open_memstream(&data, &data_len);
    if (f) {
        fprintf(f, "{\"steps\": [%s], \"elapsed_ms\": %.1f, \"kept\": %s, \"conninfo\": ",
                d.steps ? d.steps : "", cli_now_ms() - d.t0, shown ? "true" : "false");
        out_json_string(f, shown);
        fputs(", \"fixtures\": ", f);
        out_json_string(f, d.fixtures);
        fputc('}', f);
        fclose(f);
        r.data = data;
    }
    free(d.steps);
    if (!shown)
        cleanup(&d); /* before the last words, which say it is done */
    int status = cli_finish(c, &r);
    if (shown) {
        if (status == CLI_EXIT_OK && !cli_stop_requested)
            keep_running(&d, shown);
        cleanup(&d);
        free(shown);
    }
    return status;
}

const cli_command cli_cmd_demo = {CLI_DOC(demo), run};
