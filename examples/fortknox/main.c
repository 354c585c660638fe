/* fortknox: the command-line tool over libfortknox.
 *
 *   fortknox [--db CONNINFO] [--registry FILE] [--schema NAME] [--json]
 *            [--quiet] [--verbose] COMMAND [ARGS]
 *
 * This file parses the global options and dispatches; each command lives in
 * its own cmd_*.c. Exit statuses: 0 success / nothing found, 1 a check found a
 * problem, 2 usage error, 3 runtime failure (see docs/fortknox.1). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

extern const cli_command cli_cmd_audit; /* the "audit" group, for its help */

static const cli_command *const commands[] = {
    &cli_cmd_install,   &cli_cmd_export,  &cli_cmd_import,  &cli_cmd_verify,
    &cli_cmd_drill,     &cli_cmd_audit_log, &cli_cmd_audit_verify, &cli_cmd_restore,
    &cli_cmd_doctor,    &cli_cmd_snapshot, &cli_cmd_watch,  &cli_cmd_demo,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_print_overview(FILE *f)
{
    fputs("usage: fortknox [--db CONNINFO] [--registry FILE] [--schema NAME] [--json] [--quiet]\n"
          "                [--verbose] [--lock-timeout MS] [--statement-timeout MS]\n"
          "                [--connect-timeout MS]\n"
          "                COMMAND [ARGS]\n"
          "\n"
          "Keeps the design records of a PostgreSQL application from disappearing silently:\n"
          "database guards, a tamper-evident audit log, and fixture files kept in git.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const cli_command *cmd = commands[i];
        if (strlen(cmd->synopsis) <= 36)
            fprintf(f, "  %-36s  %s\n", cmd->synopsis, cmd->summary);
        else
            fprintf(f, "  %s\n  %-36s  %s\n", cmd->synopsis, "", cmd->summary);
    }
    fputs("\n"
          "global options (accepted before or after the command):\n"
          "  --db CONNINFO    libpq connection string or URI; default $FORTKNOX_DB, else\n"
          "                   libpq's PG* variables (PGHOST, PGDATABASE, ...)\n"
          "  --registry FILE  JSON entity registry (default: the built-in Parthenon one)\n"
          "  --schema NAME    schema of libfortknox's own objects (default: fortknox)\n"
          "  --lock-timeout MS       longest wait for a lock per statement (default 10000;\n"
          "                          0 = the server's setting); a blocked command fails\n"
          "                          with exit 3 naming the locked table and its holder\n"
          "  --statement-timeout MS  longest run of one statement (default 600000)\n"
          "  --connect-timeout MS    longest wait to connect (default 10000; whole\n"
          "                          seconds, at least 2; 0 = libpq's default);\n"
          "                          a connect_timeout in --db or PGCONNECT_TIMEOUT wins\n"
          "  --json           print one JSON document on stdout (see fortknox(1))\n"
          "  -q, --quiet      no progress and no output unless something is wrong\n"
          "  -v, --verbose    every report item, timings\n"
          "  -h, --help       this help; `fortknox COMMAND --help` for a command\n"
          "  --version        print the version\n"
          "\n"
          "exit status: 0 success, 1 a check found a problem, 2 usage error, 3 failure\n",
          f);
}

/* Finds the command named by argv[i] (and argv[i+1] for a group such as
 * "audit log"); *words receives how many words the name used. */
static const cli_command *lookup(int argc, char **argv, int i, int *words, int *group)
{
    *group = 0;
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
        if (strlen(argv[i]) != len || strncmp(name, argv[i], len) != 0)
            continue;
        *group = 1;
        if (i + 1 < argc && strcmp(space + 1, argv[i + 1]) == 0) {
            *words = 2;
            return commands[k];
        }
    }
    return NULL;
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
        int words = 0, group = 0;
        const cli_command *cmd = lookup(argc, argv, at, &words, &group);
        if (cmd) {
            c.cmd = cmd;
            status = cmd->run(&c, argc - at - words + 1, argv + at + words - 1);
        } else if (group && at + 1 < argc &&
                   (strcmp(argv[at + 1], "--help") == 0 || strcmp(argv[at + 1], "-h") == 0)) {
            fputs(cli_cmd_audit.help, stdout);
            status = CLI_EXIT_OK;
        } else if (group) {
            c.cmd = &cli_cmd_audit;
            status = at + 1 < argc ? cli_usage(&c, "unknown subcommand \"%s\"", argv[at + 1])
                                   : cli_usage(&c, "missing subcommand");
        } else {
            status = cli_usage(&c, "unknown command \"%s\"", argv[at]);
        }
    }
    free(c.db);
    return status;
}
