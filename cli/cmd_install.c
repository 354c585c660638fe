/* fortknox install: create or upgrade the audit log, guards and triggers.
 *
 * Choices not given on the command line keep what is installed (so a plain
 * `fortknox install` after an upgrade never switches capture mode off or
 * drops the application role); a new install takes the library's defaults. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int run(cli *c, int argc, char **argv)
{
    const char *role = NULL;
    int capture = -1, parthenon = 0, add_soft_delete = 0;
    const cli_opt opts[] = {
        {"app-role", CLI_STRING, &role, 0},
        {"capture", CLI_FLAG, &capture, 1},
        {"no-capture", CLI_FLAG, &capture, 0},
        {"parthenon-table", CLI_FLAG, &parthenon, 1},
        {"add-soft-delete", CLI_FLAG, &add_soft_delete, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;

    cli_result r = {0};
    fk_ctx *ctx = NULL;
    /* lazy: --add-soft-delete may add columns the registry names */
    if (cli_open(c, &ctx, FK_OPEN_LAZY_REGISTRY, &r) != FK_OK)
        return cli_finish(c, &r);
    cli_install_info before;
    if (cli_read_install(ctx, &before, &r) != FK_OK) {
        fk_close(ctx);
        return cli_finish(c, &r);
    }
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    if (capture < 0)
        capture = before.installed && before.capture;
    o.mode = capture ? FK_AUDIT_CAPTURE : FK_AUDIT_APP;
    o.app_role = role ? role : before.app_role[0] ? before.app_role : NULL;
    if (parthenon || (before.installed && before.parthenon_table))
        o.flags |= FK_INSTALL_PARTHENON_TABLE;
    if (add_soft_delete)
        o.flags |= FK_INSTALL_ADD_SOFT_DELETE;

    r.status = fk_install(&r.report, ctx, &o);
    if (r.status != FK_OK) {
        cli_fail(&r, r.status, ctx);
    } else {
        cli_install_info after;
        if (cli_read_install(ctx, &after, &r) == FK_OK) {
            r.data = strdup(after.raw);
            if (fk_report_counter(r.report, "changed") == 0)
                cli_summary(&r, "already installed and up to date (%s mode)",
                            capture ? "capture" : "app");
            else
                cli_summary(&r, "%s: schema version %lld, %s mode, %lld guarded tables%s%s",
                            before.installed ? "upgraded" : "installed",
                            (long long)fk_report_counter(r.report, "schema_version"),
                            capture ? "capture" : "app",
                            (long long)fk_report_counter(r.report, "guarded_tables"),
                            o.app_role ? ", application role " : "",
                            o.app_role ? o.app_role : "");
        }
        cli_install_info_free(&after);
    }
    cli_install_info_free(&before);
    fk_close(ctx);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_install = {CLI_DOC(install), run};
