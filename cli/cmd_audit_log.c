/* fortknox audit log: the tamper-evident audit log, newest first. */
#include "cli.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct log_args {
    const char *entity, *since;
    int64_t limit;
    const char *type;
    int64_t id;
    int diff;
} log_args;

/* Copies s cut to at most max code points (max >= 4), marking a cut with
 * "...". */
static const char *cut(char *dst, size_t cap, const char *s, size_t max)
{
    size_t cps = 0, keep = 0;
    for (size_t i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cps == max - 3)
                keep = i; /* where code point max-3 starts: keep what is before */
            cps++;
        }
    if (cps <= max)
        snprintf(dst, cap, "%s", s);
    else
        snprintf(dst, cap, "%.*s...", (int)keep, s);
    return dst;
}

static const char *str_of(const cJSON *row, const char *key, char *buf, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(buf, cap, "%.0f", v->valuedouble);
        return buf;
    }
    if (cJSON_IsArray(v)) { /* changed_fields */
        size_t len = 0;
        buf[0] = '\0';
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (cJSON_IsString(e) && len + strlen(e->valuestring) + 3 < cap)
                len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
                                        e->valuestring);
        }
        return buf;
    }
    return "";
}

/* s with control characters shown as escapes, into dst (cut to fit): actor
 * and context are whatever the writer set (any role can SET
 * fortknox.context), and a raw newline could forge a line of the table or
 * of a diff under the row's header. */
static const char *visible(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 5 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n')
            n += (size_t)snprintf(dst + n, cap - n, "\\n");
        else if (ch < 0x20 || ch == 0x7f)
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", ch);
        else
            dst[n++] = (char)ch;
    }
    dst[n] = '\0';
    return dst;
}

static void put_visible(const char *s)
{
    char buf[1200]; /* actor (255) and context (200), each escape 4 bytes at most */
    fputs(visible(buf, sizeof buf, s), stdout);
}

static void log_human(cli *c, const cli_result *r)
{
    (void)c;
    cJSON *rows = cJSON_Parse(r->data);
    if (!cJSON_GetArraySize(rows)) {
        printf("no audit rows\n");
        cJSON_Delete(rows);
        return;
    }
    /* context last and whole: it says which import or restore wrote the row
     * and how it read drifted documents (" --map OLD=NEW ...") */
    cli_table *t = table_new(8);
    table_rowv(t, "id", "time (UTC)", "action", "entity", "name", "actor", "changed", "context");
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        char id[32], at[64], ty[160], eid[32], entity[200], name[64], nbuf[200], actor[64],
            abuf[64], changed[300], cbuf[300], context[900], xbuf[256];
        snprintf(entity, sizeof entity, "%s:%s", str_of(row, "entity_type", ty, sizeof ty),
                 str_of(row, "entity_id", eid, sizeof eid));
        const char *who = str_of(row, "actor_email", abuf, sizeof abuf);
        if (!*who)
            who = str_of(row, "actor_id", abuf, sizeof abuf);
        table_rowv(t, str_of(row, "id", id, sizeof id), str_of(row, "created_at", at, sizeof at),
                   str_of(row, "action", nbuf, sizeof nbuf), entity,
                   cut(name, sizeof name, str_of(row, "entity_name", nbuf, sizeof nbuf), 32),
                   cut(actor, sizeof actor, *who ? who : "-", 28),
                   cut(changed, sizeof changed, str_of(row, "changed_fields", cbuf, sizeof cbuf),
                       40),
                   visible(context, sizeof context, str_of(row, "context", xbuf, sizeof xbuf)));
    }
    table_print(t, stdout, "");
    table_free(t);
    cJSON_Delete(rows);
}

/* A diff line longer than this many code points is cut: --json has it whole. */
#define DIFF_LINE_MAX 200

/* --diff: one block per row, "#ID TIME ACTION by ACTOR (context)", then the
 * row's diff lines (the library's "text": it has the values' exact text). */
static void diff_human(cli *c, const cli_result *r)
{
    (void)c;
    cJSON *rows = cJSON_Parse(r->data);
    if (!cJSON_GetArraySize(rows))
        printf("no audit rows\n");
    const cJSON *row;
    size_t n = 0;
    cJSON_ArrayForEach(row, rows)
    {
        char id[32], at[64], act[64], abuf[300], ctx[300];
        const char *who = str_of(row, "actor_email", abuf, sizeof abuf);
        if (!*who)
            who = str_of(row, "actor_id", abuf, sizeof abuf);
        printf("%s#%s %s %s", n++ ? "\n" : "", str_of(row, "id", id, sizeof id),
               str_of(row, "created_at", at, sizeof at), str_of(row, "action", act, sizeof act));
        fputs(" by ", stdout);
        put_visible(*who ? who : "-");
        const char *context = str_of(row, "context", ctx, sizeof ctx);
        if (*context) {
            fputs(" (", stdout);
            put_visible(context);
            putchar(')');
        }
        putchar('\n');
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, "diff"), *e;
        if (!cJSON_GetArraySize(d))
            printf("  (no change)\n");
        cJSON_ArrayForEach(e, d)
        {
            const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "text"));
            size_t cap = text ? strlen(text) + 4 : 0;
            char *line = text ? malloc(cap) : NULL;
            if (line)
                printf("  %s\n", cut(line, cap, text, DIFF_LINE_MAX));
            free(line);
        }
    }
    cJSON_Delete(rows);
}

static int run_log(cli *c, int argc, char **argv)
{
    log_args a = {0};
    const cli_opt opts[] = {
        {"entity", CLI_STRING, &a.entity, 0},
        {"since", CLI_STRING, &a.since, 0},
        {"limit", CLI_INT, &a.limit, 0},
        {"diff", CLI_FLAG, &a.diff, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (a.entity && cli_entity_arg(a.entity, &a.type, &a.id, 1) != 0)
        return cli_usage(c, "--entity needs TYPE or TYPE:ID (ID a positive integer), not \"%s\"",
                         a.entity);
    /* a diff reads as one entity's story; across all entities it is a flood */
    if (a.diff && a.id == 0)
        return cli_usage(c, "--diff needs --entity TYPE:ID, e.g. --entity cohort_definition:65 "
                            "--diff: it shows how one entity changed, row by row (without "
                            "--diff, --entity TYPE lists a type's rows)");
    cli_result r = {.human = a.diff ? diff_human : log_human};
    fk_ctx *ctx = NULL;
    if (cli_open(c, &ctx, CLI_AUDIT_OPEN_FLAGS, &r) == FK_OK) {
        fk_audit_query q;
        fk_audit_query_init(&q, FK_AUDIT_QUERY_VERSION);
        q.entity_type = a.type;
        q.entity_id = a.id;
        q.since = a.since;
        q.limit = a.limit;
        char *rows = NULL;
        r.status = fk_audit_log(&rows, ctx, &q);
        if (r.status != FK_OK)
            cli_fail(&r, r.status, ctx);
        /* no rows for a type: a typo, unless the type is in the registry
         * (a type no longer in it still shows its history) */
        else if (!a.type || strcmp(rows, "[]") != 0 || cli_check_type(ctx, a.type, &r) == FK_OK) {
            char *diffed = NULL;
            if (!a.diff)
                r.data = strdup(rows);
            else if ((r.status = fk_audit_diff(&diffed, rows)) != FK_OK)
                cli_fail(&r, r.status, NULL);
            else
                r.data = strdup(diffed);
            fk_free(diffed);
        }
        fk_free(rows);
    }
    fk_close(ctx);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_audit_log = {CLI_DOC(audit_log), run_log};
