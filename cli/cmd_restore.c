/* fortknox restore TYPE:ID --as-of TIME | --audit-id N: put one entity back
 * into the state the audit log recorded. */
#include "cli.h"

static int run(cli *c, int argc, char **argv)
{
    struct {
        const char *type, *as_of;
        int64_t id, audit_id;
    } a = {0};
    cli_key_map_args keys = {0};
    fk_key_map km;
    const cli_opt opts[] = {
        {"as-of", CLI_STRING, &a.as_of, 0},
        {"audit-id", CLI_INT, &a.audit_id, 0},
        CLI_KEY_MAP_OPTS(&keys),
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc == CLI_CONTINUE)
        rc = cli_key_map(c, &km, &keys);
    if (rc != CLI_CONTINUE)
        return rc;
    if (cli_entity_arg(c->pos[0], &a.type, &a.id, 0) != 0)
        return cli_usage(c, "expected TYPE:ID (ID a positive integer), not \"%s\"", c->pos[0]);
    if ((a.as_of != NULL) == (a.audit_id != 0))
        return cli_usage(c, "give exactly one of --as-of TIME and --audit-id N (N > 0)");
    cli_result r = {0};
    fk_ctx *ctx = NULL;
    /* one entity, no progress to show: the call itself, after the type's check */
    if (cli_open(c, &ctx, 0, &r) == FK_OK && cli_check_type(ctx, a.type, &r) == FK_OK &&
        (r.status = fk_entity_restore_mapped(&r.report, ctx, a.type, a.id, a.as_of, a.audit_id,
                                             &km)))
        cli_fail(&r, r.status, ctx);
    fk_close(ctx);
    if (r.status == FK_OK) {
        if (a.as_of)
            cli_summary(&r, "restored %s %lld to its state as of %s", a.type, (long long)a.id,
                        a.as_of);
        else
            cli_summary(&r, "restored %s %lld to its state at audit row %lld", a.type,
                        (long long)a.id, (long long)a.audit_id);
    }
    return cli_finish(c, &r);
}

const cli_command cli_cmd_restore = {CLI_DOC(restore), run};
