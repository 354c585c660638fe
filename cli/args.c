/* Command-line parsing shared by every command.
 *
 * Not getopt: each command declares its options as a table (cli_opt), and the
 * global options are accepted anywhere on the line, so `fortknox export DIR
 * --json` works as well as `fortknox --json export DIR`. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    G_DB = 1,
    G_REGISTRY,
    G_SCHEMA,
    G_JSON,
    G_QUIET,
    G_VERBOSE,
    G_HELP,
    G_VERSION,
    G_LOCK_TIMEOUT,
    G_STATEMENT_TIMEOUT,
    G_CONNECT_TIMEOUT
};

static const struct {
    const char *name;
    char short_name;
    int takes_arg;
    int id;
} globals[] = {
    {"db", 0, 1, G_DB},         {"registry", 0, 1, G_REGISTRY}, {"schema", 0, 1, G_SCHEMA},
    {"json", 0, 0, G_JSON},     {"quiet", 'q', 0, G_QUIET},     {"verbose", 'v', 0, G_VERBOSE},
    {"help", 'h', 0, G_HELP},   {"version", 0, 0, G_VERSION},
    {"lock-timeout", 0, 1, G_LOCK_TIMEOUT}, {"statement-timeout", 0, 1, G_STATEMENT_TIMEOUT},
    {"connect-timeout", 0, 1, G_CONNECT_TIMEOUT},
};

static int print_help(const cli *c)
{
    if (c->cmd)
        fputs(c->cmd->help, stdout);
    else
        cli_print_overview(stdout);
    return CLI_EXIT_OK;
}

/* The conninfo may hold a password: keep a copy and blank the original, so
 * that `ps` and /proc/PID/cmdline stop showing it once we are running. */
static void take_db(cli *c, char *arg)
{
    free(c->db);
    c->db = strdup(arg);
    memset(arg, 'x', strlen(arg));
}

static int parse_int(const char *s, int64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* One option word at argv[*i]. Returns CLI_CONTINUE or an exit status. */
static int one_option(cli *c, int argc, char **argv, int *i, const cli_opt *opts, int global_only)
{
    char *word = argv[*i];
    char name[64];
    char *inline_arg = NULL;
    if (word[1] == '-') {
        const char *eq = strchr(word + 2, '=');
        size_t len = eq ? (size_t)(eq - (word + 2)) : strlen(word + 2);
        if (len >= sizeof name)
            return cli_usage(c, "unknown option %.60s", word);
        memcpy(name, word + 2, len);
        name[len] = '\0';
        if (eq)
            inline_arg = word + 2 + len + 1;
    } else {
        if (word[2] != '\0')
            return cli_usage(c, "unknown option %s (options are long: --name)", word);
        name[0] = '\0';
        for (size_t g = 0; g < sizeof globals / sizeof globals[0]; g++)
            if (globals[g].short_name == word[1])
                snprintf(name, sizeof name, "%s", globals[g].name);
        if (!name[0])
            return cli_usage(c, "unknown option %s", word);
    }

    const cli_opt *o = NULL;
    for (const cli_opt *p = opts; !global_only && p && p->name; p++)
        if (strcmp(p->name, name) == 0)
            o = p;
    int gid = 0, gtakes = 0;
    if (!o)
        for (size_t g = 0; g < sizeof globals / sizeof globals[0]; g++)
            if (strcmp(globals[g].name, name) == 0) {
                gid = globals[g].id;
                gtakes = globals[g].takes_arg;
            }
    if (!o && !gid) {
        const char *names[64];
        size_t n = 0;
        for (const cli_opt *p = opts; !global_only && p && p->name && n < 48; p++)
            names[n++] = p->name;
        for (size_t g = 0; g < sizeof globals / sizeof globals[0]; g++)
            names[n++] = globals[g].name;
        const char *guess = cli_suggest(name, names, n);
        return cli_usage(c, "unknown option --%s%s%s%s", name, guess ? " (did you mean --" : "",
                         guess ? guess : "", guess ? "?)" : "");
    }
    if (gid == G_VERSION && c->cmd)
        return cli_usage(c, "--version goes before the command");

    int takes = o ? o->kind != CLI_FLAG : gtakes;
    char *arg = NULL;
    if (takes) {
        if (inline_arg)
            arg = inline_arg;
        else if (*i + 1 < argc && argv[*i + 1][0] == '-' && argv[*i + 1][1] != '\0')
            /* `--db --json verify`: the value was forgotten, not "--json" */
            return cli_usage(c, "option --%s needs a value, and \"%s\" looks like an option (a "
                                "value that starts with '-' is given as --%s=VALUE)",
                             name, argv[*i + 1], name);
        else if (*i + 1 < argc)
            arg = argv[++*i];
        else
            return cli_usage(c, "option --%s needs a value", name);
    } else if (inline_arg) {
        return cli_usage(c, "option --%s takes no value", name);
    }

    if (o) {
        switch (o->kind) {
        case CLI_FLAG:
            *(int *)o->target = o->value;
            break;
        case CLI_STRING:
            *(const char **)o->target = arg;
            break;
        case CLI_INT:
            if (parse_int(arg, (int64_t *)o->target) != 0)
                return cli_usage(c, "option --%s needs a non-negative integer, not \"%s\"", name,
                                 arg);
            break;
        case CLI_LIST: {
            cli_list *l = o->target;
            if (l->n == CLI_MAX_LIST)
                return cli_usage(c, "option --%s given more than %d times", name, CLI_MAX_LIST);
            l->v[l->n++] = arg;
            break;
        }
        }
        return CLI_CONTINUE;
    }
    int64_t ms = 0;
    if ((gid == G_LOCK_TIMEOUT || gid == G_STATEMENT_TIMEOUT || gid == G_CONNECT_TIMEOUT) &&
        (parse_int(arg, &ms) != 0 || ms > INT32_MAX))
        return cli_usage(c, "option --%s needs milliseconds (0 = the server's setting), not "
                            "\"%s\"",
                         name, arg);
    switch (gid) {
    case G_LOCK_TIMEOUT:
        c->lock_timeout_ms = (int)ms;
        break;
    case G_STATEMENT_TIMEOUT:
        c->statement_timeout_ms = (int)ms;
        break;
    case G_CONNECT_TIMEOUT:
        c->connect_timeout_ms = (int)ms;
        break;
    case G_DB:
        take_db(c, arg);
        break;
    case G_REGISTRY:
        c->registry = arg;
        break;
    case G_SCHEMA:
        c->schema = arg;
        break;
    case G_JSON:
        c->json = 1;
        break;
    case G_QUIET:
        c->quiet = 1;
        break;
    case G_VERBOSE:
        c->verbose = 1;
        break;
    case G_HELP:
        return print_help(c);
    case G_VERSION:
        printf("fortknox %s (libfortknox %s)\n", FK_VERSION_STRING, fk_version_string());
        return CLI_EXIT_OK;
    }
    return CLI_CONTINUE;
}

int cli_parse_global(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            return i;
        if (strcmp(argv[i], "--") == 0)
            return i + 1;
        int rc = one_option(c, argc, argv, &i, NULL, 1);
        if (rc != CLI_CONTINUE)
            return -1 - rc;
    }
    return argc;
}

int cli_parse(cli *c, int argc, char **argv, const cli_opt *opts, int min_pos, int max_pos)
{
    int options_done = 0;
    c->npos = 0;
    for (int i = 1; i < argc; i++) {
        char *w = argv[i];
        if (!options_done && w[0] == '-' && w[1] != '\0') {
            if (strcmp(w, "--") == 0) {
                options_done = 1;
                continue;
            }
            int rc = one_option(c, argc, argv, &i, opts, 0);
            if (rc != CLI_CONTINUE)
                return rc;
            continue;
        }
        if (c->npos == max_pos || c->npos == CLI_MAX_POS)
            return cli_usage(c, "unexpected argument \"%s\"", w);
        c->pos[c->npos++] = w;
    }
    if (c->npos < min_pos)
        return cli_usage(c, "missing argument");
    return CLI_CONTINUE;
}

int cli_entity_arg(const char *arg, const char **type, int64_t *id, int allow_bare_type)
{
    static char buf[256];
    const char *colon = strrchr(arg, ':');
    size_t tlen = colon ? (size_t)(colon - arg) : strlen(arg);
    if (tlen == 0 || tlen >= sizeof buf || (!colon && !allow_bare_type))
        return -1;
    memcpy(buf, arg, tlen);
    buf[tlen] = '\0';
    *type = buf;
    *id = 0;
    if (colon && (parse_int(colon + 1, id) != 0 || *id == 0))
        return -1;
    return 0;
}
