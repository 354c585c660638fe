/* fortknox import DIR: restore the entities in DIR, all or nothing. */
#include "cli.h"

typedef struct import_args {
    const char *dir, *admin_email;
    int dry_run, drop_unknown_keys;
    cli_key_map_args keys;
    fk_key_map km;
} import_args;

static int import_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    const import_args *a = arg;
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    if (a->dry_run)
        o.flags |= FK_IMPORT_DRY_RUN;
    o.admin_email = a->admin_email;
    o.unknown_keys = a->drop_unknown_keys ? FK_UNKNOWN_KEYS_DROP : FK_UNKNOWN_KEYS_REFUSE;
    o.key_map = &a->km;
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_import(report, ctx, a->dir, &o);
}

static int run(cli *c, int argc, char **argv)
{
    import_args a = {0};
    const cli_opt opts[] = {
        {"dry-run", CLI_FLAG, &a.dry_run, 1},
        {"admin-email", CLI_STRING, &a.admin_email, 0},
        {"drop-unknown-keys", CLI_FLAG, &a.drop_unknown_keys, 1},
        CLI_KEY_MAP_OPTS(&a.keys),
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc == CLI_CONTINUE)
        rc = cli_key_map(c, &a.km, &a.keys);
    if (rc != CLI_CONTINUE)
        return rc;
    a.dir = c->pos[0];
    cli_result r = {0};
    cli_run_op(c, &r, 0, import_op, &a);
    cli_report_summary(&r, a.dir);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_import = {CLI_DOC(import), run};
