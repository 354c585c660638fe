/* fortknox doctor: silent loss, and what makes loss possible. */
#include "cli.h"

#include <stdlib.h>

typedef struct doctor_args {
    const char *fixtures, *backups;
    int64_t mass_percent, mass_min, mass_days;
    int64_t accept[CLI_MAX_LIST];
    size_t naccept;
} doctor_args;

static int doctor_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    const doctor_args *a = arg;
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = a->fixtures;
    o.backup_dir = a->backups;
    /* zero keeps the library's default */
    o.mass_change_ratio = (double)a->mass_percent / 100.0;
    o.mass_change_min = a->mass_min;
    o.mass_change_window_s = a->mass_days * 24 * 3600;
    o.accept_mass_change = a->accept;
    o.naccept_mass_change = a->naccept;
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_doctor(report, ctx, &o);
}

static int run(cli *c, int argc, char **argv)
{
    doctor_args a = {0};
    cli_list accept = {0};
    const cli_opt opts[] = {
        {"fixtures", CLI_STRING, &a.fixtures, 0},
        {"backups", CLI_STRING, &a.backups, 0},
        {"mass-change-percent", CLI_INT, &a.mass_percent, 0},
        {"mass-change-min", CLI_INT, &a.mass_min, 0},
        {"mass-change-days", CLI_INT, &a.mass_days, 0},
        {"accept-mass-change", CLI_LIST, &accept, 0},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (a.mass_percent > 100)
        return cli_usage(c, "--mass-change-percent takes 1 to 100, not %lld",
                         (long long)a.mass_percent);
    if (a.mass_days > 36500)
        return cli_usage(c, "--mass-change-days takes at most 36500, not %lld",
                         (long long)a.mass_days);
    for (size_t i = 0; i < accept.n; i++) {
        char *end;
        long long x = strtoll(accept.v[i], &end, 10);
        if (!*accept.v[i] || *end || x <= 0)
            return cli_usage(c, "--accept-mass-change takes a transaction id (the number "
                                "FK-MASS-CHANGE names), not \"%s\"",
                             accept.v[i]);
        a.accept[a.naccept++] = x;
    }
    cli_result r = {.problem_status = FK_EVERIFY};
    cli_run_op(c, &r, 0, doctor_op, &a);
    cli_report_summary(&r, NULL);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_doctor = {CLI_DOC(doctor), run};
