/* quickstart: starts a throwaway PostgreSQL, loads the Parthenon-like sample
 * schema through libfortknox and prints what is in it. Nothing is left
 * behind: the cluster is removed when the program ends, however it ends. */
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_harness.h"

extern const char fk_sample_schema_sql[];
extern const char fk_sample_seed_sql[];

static const char *const tables[] = {
    "users", "cohort_definitions", "concept_sets", "concept_set_items",
    "characterizations", "incidence_rate_analyses", "pathway_analyses",
    "estimation_analyses", "prediction_analyses", "sccs_analyses",
    "evidence_synthesis_analyses", "heor_analyses", "heor_scenarios",
    "heor_cost_parameters", "heor_results", "heor_value_contracts",
};

int main(void)
{
    printf("libfortknox %s: starting a throwaway PostgreSQL...\n", fk_version_string());
    fkt_pg *pg;
    int hrc = fkt_pg_start(&pg);
    if (hrc != 0) {
        fprintf(stderr, "quickstart: cannot start PostgreSQL (install postgresql-15)\n");
        return 3;
    }
    char *ci = fkt_pg_new_db(pg, NULL);
    fk_ctx *ctx = NULL;
    fk_ctx_options opts = FK_CTX_OPTIONS_INIT;
    opts.flags = FK_OPEN_LAZY_REGISTRY; /* the tables are created below */
    int rc = ci ? fk_open(&ctx, ci, &opts) : FK_EDB;
    if (rc != FK_OK) {
        fprintf(stderr, "quickstart: %s\n", fk_errmsg(NULL));
        goto out;
    }
    printf("connected to PostgreSQL %d\n", fk_server_version(ctx));
    if ((rc = fk_exec(ctx, fk_sample_schema_sql)) != FK_OK ||
        (rc = fk_exec(ctx, fk_sample_seed_sql)) != FK_OK) {
        fprintf(stderr, "quickstart: loading the sample schema: %s\n", fk_errmsg(ctx));
        goto out;
    }
    printf("sample schema loaded; rows per table:\n");
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM app.%s", tables[i]);
        char *n = fkt_pg_query1(ci, sql);
        printf("  %-30s %6s\n", tables[i], n ? n : "?");
        free(n);
    }
    rc = FK_OK;
out:
    fk_close(ctx);
    free(ci);
    fkt_pg_stop(pg);
    printf(rc == FK_OK ? "done: the throwaway server is stopped and removed\n" : "failed\n");
    return rc == FK_OK ? 0 : 3;
}
