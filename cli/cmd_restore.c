/* fortknox restore TYPE:ID [--as-of TIME | --audit-id N]: put one entity
 * back into the state the audit log recorded; fortknox restore --all
 * [--type T] --as-of TIME [--dry-run]: every entity at once. */
#include "cli.h"

#include <cJSON.h>
#include <stdlib.h>

typedef struct restore_args {
    const char *type, *as_of;
    int64_t id, audit_id;
    int all, dry_run;
} restore_args;

static int restore_all_op(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg)
{
    const restore_args *a = arg;
    fk_restore_all_options o;
    fk_restore_all_options_init(&o, FK_RESTORE_ALL_OPTIONS_VERSION);
    o.as_of = a->as_of;
    o.entity_type = a->type;
    if (a->dry_run)
        o.flags |= FK_RESTORE_ALL_DRY_RUN;
    o.progress = progress_cb;
    o.progress_data = progress;
    return fk_restore_all(report, ctx, &o);
}

/* Per changed entity: "code type:id: message", then its per-field diff
 * (the lines audit log --diff prints); the text cli_finish() prints instead
 * of the report (NULL when out of memory: the report is printed). */
static char *all_text(const cli_result *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < fk_report_item_count(r->report); i++) {
        const fk_report_item *it = fk_report_item_at(r->report, i);
        if (it->entity_id == 0) {
            fprintf(f, "%s: %s\n", it->code, it->message ? it->message : "");
            continue;
        }
        fprintf(f, "%s %s:%lld: %s\n", it->code, it->entity_type ? it->entity_type : "?",
                (long long)it->entity_id, it->message ? it->message : "");
        cJSON *d = it->fields ? cJSON_Parse(it->fields) : NULL;
        if (d)
            out_diff_lines(f, d, "  ");
        cJSON_Delete(d);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int run_all(cli *c, restore_args *a)
{
    if (!a->as_of)
        return cli_usage(c, "--all needs --as-of TIME: the time to bring every entity back to");
    if (a->audit_id)
        return cli_usage(c, "--all takes --as-of TIME, not --audit-id (an audit row is one "
                            "entity's: restore TYPE:ID --audit-id N)");
    if (c->npos)
        return cli_usage(c, "--all restores every entity: give no TYPE:ID (--type TYPE for one "
                            "type)");
    cli_result r = {0};
    cli_run_op(c, &r, 0, restore_all_op, a);
    if (r.status == FK_OK && r.report)
        r.text = all_text(&r);
    if (r.status == FK_OK) {
        fk_report *rep = r.report;
        cli_summary(&r, "%s %lld entities%s%s to their state as of %s: %lld set back, %lld "
                        "re-inserted, %lld soft-deleted, %lld unchanged",
                    a->dry_run ? "dry run, nothing changed: would restore" : "restored",
                    (long long)(fk_report_counter(rep, "restored") +
                                fk_report_counter(rep, "reinserted") +
                                fk_report_counter(rep, "soft_deleted")),
                    a->type ? " of type " : "", a->type ? a->type : "", a->as_of,
                    (long long)fk_report_counter(rep, "restored"),
                    (long long)fk_report_counter(rep, "reinserted"),
                    (long long)fk_report_counter(rep, "soft_deleted"),
                    (long long)fk_report_counter(rep, "unchanged"));
    }
    return cli_finish(c, &r);
}

static int run(cli *c, int argc, char **argv)
{
    restore_args a = {0};
    cli_key_map_args keys = {0};
    fk_key_map km;
    const cli_opt opts[] = {
        {"as-of", CLI_STRING, &a.as_of, 0},
        {"audit-id", CLI_INT, &a.audit_id, 0},
        CLI_KEY_MAP_OPTS(&keys),
        {"all", CLI_FLAG, &a.all, 1},
        {"type", CLI_STRING, &a.type, 0},
        {"dry-run", CLI_FLAG, &a.dry_run, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 1);
    if (rc == CLI_CONTINUE)
        rc = cli_key_map(c, &km, &keys);
    if (rc == CLI_CONTINUE && a.all && (keys.map.n || keys.drop_key.n || keys.defaults.n))
        rc = cli_usage(c, "--map, --drop-key and --default go with TYPE:ID: restore --all takes "
                          "no key map (a drifted state refuses it, naming the entity)");
    if (rc != CLI_CONTINUE)
        return rc;
    if (a.all)
        return run_all(c, &a);
    if (c->npos != 1)
        return cli_usage(c, "expected TYPE:ID, or --all --as-of TIME");
    if (a.type || a.dry_run)
        return cli_usage(c, "--type and --dry-run go with --all");
    if (cli_entity_arg(c->pos[0], &a.type, &a.id, 0) != 0)
        return cli_usage(c, "expected TYPE:ID (ID a positive integer), not \"%s\"", c->pos[0]);
    if (a.as_of && a.audit_id)
        return cli_usage(c, "give at most one of --as-of TIME and --audit-id N (N > 0)");
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
        else if (a.audit_id)
            cli_summary(&r, "restored %s %lld to its state at audit row %lld", a.type,
                        (long long)a.id, (long long)a.audit_id);
        else
            cli_summary(&r, "restored %s %lld from its deletion row", a.type, (long long)a.id);
    }
    return cli_finish(c, &r);
}

const cli_command cli_cmd_restore = {CLI_DOC(restore), run};
