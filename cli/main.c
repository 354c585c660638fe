/* fortknox: the command-line tool over libfortknox.
 *
 *   fortknox [GLOBAL OPTIONS] COMMAND [ARGS]   (`fortknox --help`)
 *
 * This file parses the global options and dispatches; each command lives in
 * its own cmd_*.c, registered in commands.def. Exit statuses: 0 success / nothing found, 1 a check found a
 * problem, 2 usage error, 3 runtime failure (see docs/fortknox.1). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In the order of the overview (commands.def). */
static const cli_command *const commands[] = {
#define CLI_COMMAND(id) &cli_cmd_##id,
#include "commands.def"
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* A group has its help and no run function. */
#define CLI_GROUP(id) const cli_command cli_cmd_##id = {CLI_DOC(id), NULL};
#include "commands.def"

static const cli_command *const groups[] = {
#define CLI_GROUP(id) &cli_cmd_##id,
#include "commands.def"
};

void cli_print_overview(FILE *f) { fputs(CLI_OVERVIEW, f); }

/* The group named word ("audit"), or NULL. (tools/gen-cli-docs refuses a
 * two-word command whose first word is no group.) */
static const cli_command *find_group(const char *word)
{
    for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++)
        if (strcmp(groups[k]->name, word) == 0)
            return groups[k];
    return NULL;
}

/* Finds the command named by argv[i] (and argv[i+1] for a group such as
 * "audit log"); *words receives how many words the name used. */
static const cli_command *lookup(int argc, char **argv, int i, int *words)
{
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const char *name = commands[k]->name;
        const char *space = strchr(name, ' ');
        if (!space) {
            if (strcmp(name, argv[i]) == 0) {
                *words = 1;
                return commands[k];
            }
            continue;
        }
        size_t len = (size_t)(space - name);
        if (strlen(argv[i]) == len && strncmp(name, argv[i], len) == 0 && i + 1 < argc &&
            strcmp(space + 1, argv[i + 1]) == 0) {
            *words = 2;
            return commands[k];
        }
    }
    return NULL;
}

/* "unknown command", with the closest command name: a typo in either word
 * of a two-word command ("audit lgo", "adit log") is found too. */
static int unknown_command(cli *c, const char *word, const char *next)
{
    const char *names[NCOMMANDS];
    char two[NCOMMANDS][64];
    const char *guess = NULL;
    size_t n = 0;
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (!strchr(commands[k]->name, ' '))
            names[n++] = commands[k]->name;
    if (!(guess = cli_suggest(word, names, n)) && next) {
        char typed[128];
        snprintf(typed, sizeof typed, "%s %s", word, next);
        n = 0;
        for (size_t k = 0; k < NCOMMANDS; k++)
            if (strchr(commands[k]->name, ' ')) {
                snprintf(two[n], sizeof two[n], "%s", commands[k]->name);
                names[n] = two[n];
                n++;
            }
        guess = cli_suggest(typed, names, n);
    }
    if (c->cmd) /* a group: "audit frob" */
        return cli_usage(c, "unknown subcommand \"%s\"%s%s%s", next, guess ? " (did you mean \"" : "",
                         guess ? guess : "", guess ? "\"?)" : "");
    return cli_usage(c, "unknown command \"%s\"%s%s%s", word, guess ? " (did you mean \"" : "",
                     guess ? guess : "", guess ? "\"?)" : "");
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.lock_timeout_ms = c.statement_timeout_ms = c.connect_timeout_ms = -1;
    /* known before parsing, so that even an early usage error gives JSON */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            c.json = 1;
    if (fk_version_number() < FK_VERSION_NUMBER)
        fprintf(stderr, "fortknox: warning: libfortknox %s is older than this program (%s)\n",
                fk_version_string(), FK_VERSION_STRING);

    int status;
    int at = cli_parse_global(&c, argc, argv);
    if (at < 0) {
        status = -1 - at;
    } else if (at == argc) {
        status = cli_usage(&c, "no command given");
    } else {
        int words = 0;
        const cli_command *cmd = lookup(argc, argv, at, &words);
        const cli_command *group = cmd ? NULL : find_group(argv[at]);
        if (cmd) {
            c.cmd = cmd;
            status = cmd->run(&c, argc - at - words + 1, argv + at + words - 1);
        } else if (group && at + 1 < argc &&
                   (strcmp(argv[at + 1], "--help") == 0 || strcmp(argv[at + 1], "-h") == 0)) {
            fputs(group->help, stdout);
            status = CLI_EXIT_OK;
        } else if (group) {
            c.cmd = group;
            status = at + 1 < argc ? unknown_command(&c, argv[at], argv[at + 1])
                                   : cli_usage(&c, "missing subcommand");
        } else {
            status = unknown_command(&c, argv[at], at + 1 < argc ? argv[at + 1] : NULL);
        }
    }
    free(c.db);
    return status;
}
