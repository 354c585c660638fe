/* fortknox registry init: a registry proposal for the database, made from
 * its catalog (fk_registry_propose), with every guess and why said to the
 * person who has to review it. */
#include "cli.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A note as text for a terminal: the names in it come from the catalog,
 * where any user who may CREATE can put escape sequences. */
static void put_note(FILE *f, const char *indent, const char *s)
{
    fputs(indent, f);
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
    fputc('\n', f);
}

/* The proposal's notes, grouped by what they are about. */
static void print_notes(FILE *f, const cJSON *reg)
{
    const cJSON *n;
    fprintf(f, "guesses (also in the file's \"notes\"; review each):\n");
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(reg, "notes"))
    {
        if (n != cJSON_GetObjectItemCaseSensitive(reg, "notes")->child) /* not the preface */
            put_note(f, "  ", n->valuestring);
    }
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(reg, "users");
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(users, "notes"))
        put_note(f, "  ", n->valuestring);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(reg, "entities"))
    {
        char head[400];
        snprintf(head, sizeof head, "%s (%s):",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "table")));
        put_note(f, "", head);
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(e, "notes"))
            put_note(f, "  ", n->valuestring);
        const cJSON *ch;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(e, "children"))
        {
            snprintf(head, sizeof head, "child %s:",
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "table")));
            put_note(f, "  ", head);
            cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(ch, "notes"))
                put_note(f, "    ", n->valuestring);
        }
    }
}

/* Writes text to path through a temporary file renamed into place, so a
 * failure never leaves half a registry. 0, or -1 with errno. */
static int write_file(const char *path, const char *text, int force)
{
    if (!force && access(path, F_OK) == 0) {
        errno = EEXIST;
        return -1;
    }
    char *tmp = cli_strdupf("%s.tmp-XXXXXX", path);
    int fd = tmp ? mkstemp(tmp) : -1;
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    mode_t mask = umask(0); /* mkstemp made it 0600: give it what a new file gets */
    umask(mask);
    int ok = done == len && fchmod(fd, 0644 & ~mask) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0)
        ok = 0;
    /* without --force, link() refuses a file created since the check above */
    if (ok && (force ? rename(tmp, path) : link(tmp, path)) != 0) {
        saved = errno;
        ok = 0;
    }
    if (!ok || !force)
        unlink(tmp);
    free(tmp);
    errno = saved;
    return ok ? 0 : -1;
}

static int run(cli *c, int argc, char **argv)
{
    cli_list schemas = {0}, tables = {0};
    const char *output = NULL;
    int force = 0;
    const cli_opt opts[] = {
        {"schema-filter", CLI_LIST, &schemas, 0},
        {"table", CLI_LIST, &tables, 0},
        {"output", CLI_STRING, &output, 0},
        {"force", CLI_FLAG, &force, 1},
        {NULL, 0, NULL, 0},
    };
    /* -o, as pg_dump has it: the one short option of a command */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-o") == 0)
            argv[i] = (char *)"--output";
        else if (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--registry") == 0)
            i++; /* a value, even one spelled -o */
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    for (size_t i = 0; i < tables.n; i++) {
        const char *dot = strchr(tables.v[i], '.');
        if (!dot || dot == tables.v[i] || !dot[1])
            return cli_usage(c, "--table needs SCHEMA.TABLE, not \"%s\"", tables.v[i]);
    }
    if (output && !*output)
        return cli_usage(c, "--output needs a file name");
    if (output && !force && access(output, F_OK) == 0) {
        cli_result r = {0};
        cli_fail_msg(&r, FK_ECONFLICT,
                     "%s exists (a registry you may have edited): choose another file, or "
                     "--force to replace it", output);
        return cli_finish(c, &r);
    }

    cli_result r = {0};
    fk_ctx *ctx = NULL;
    char *proposal = NULL;
    /* the registry the context would load is not this database's: never resolve it */
    if (cli_open(c, &ctx, FK_OPEN_LAZY_REGISTRY, &r) == FK_OK) {
        fk_registry_propose_options o;
        fk_registry_propose_options_init(&o, FK_REGISTRY_PROPOSE_OPTIONS_VERSION);
        o.schemas = schemas.v;
        o.nschemas = schemas.n;
        o.tables = tables.v;
        o.ntables = tables.n;
        r.status = fk_registry_propose(&proposal, ctx, &o);
        if (r.status != FK_OK)
            cli_fail(&r, r.status, ctx);
    }
    fk_close(ctx);
    cJSON *reg = proposal ? cJSON_Parse(proposal) : NULL;
    if (r.status == FK_OK && !reg)
        cli_fail_msg(&r, FK_ENOMEM, "out of memory");
    if (r.status == FK_OK && output && write_file(output, proposal, force) != 0)
        cli_fail_msg(&r, FK_EIO, "cannot write %s: %s", output, strerror(errno));
    if (r.status == FK_OK) {
        int ntypes = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reg, "entities"));
        if (c->json) {
            cJSON *data = cJSON_CreateObject();
            cJSON_AddItemToObject(data, "file", output ? cJSON_CreateString(output)
                                                       : cJSON_CreateNull());
            cJSON_AddItemReferenceToObject(data, "registry", reg);
            r.data = cJSON_PrintUnformatted(data);
            cJSON_Delete(data);
        } else if (!output) {
            fputs(proposal, stdout); /* like pg_dump: the result on stdout, talk on stderr */
            fflush(stdout);
            if (!c->quiet)
                print_notes(stderr, reg);
        } else {
            if (!c->quiet)
                print_notes(stdout, reg);
            cli_summary(&r, "proposed %d entity type%s in %s; review the guesses above, then: "
                            "fortknox --registry %s registry check",
                        ntypes, ntypes == 1 ? "" : "s", output, output);
        }
    }
    cJSON_Delete(reg);
    fk_free(proposal);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_registry_init = {CLI_DOC(registry_init), run};
