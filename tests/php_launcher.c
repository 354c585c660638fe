/* Runs a command (the PHP binding's test suite) against a throwaway
 * PostgreSQL: starts the cluster (or uses FORTKNOX_TEST_DSN), creates a
 * database with the Parthenon schema and seed, exports
 *
 *   FORTKNOX_PHP_DSN    libpq conninfo of that database
 *   FORTKNOX_PHP_ADMIN  conninfo of the maintenance database (to create more)
 *   FORTKNOX_LIB        the library under test (argv[1])
 *
 * and runs argv[2..] with them, returning its exit status; the cluster is
 * removed afterwards (also when this process is killed: see pg_harness.h).
 * No PostgreSQL here: exit 77 (skip), or 1 with FORTKNOX_REQUIRE_PG=1.
 *
 * usage: php_launcher LIBRARY COMMAND [ARG...] */
#include "fkt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBRARY COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    fkt_pg *pg;
    int rc = fkt_pg_start(&pg);
    if (rc == FKT_SKIP) {
        fprintf(stderr, "# php_launcher: no PostgreSQL server on this machine: skipped\n");
        return FKT_SKIP;
    }
    if (rc != 0) {
        fprintf(stderr, "# php_launcher: could not start a throwaway PostgreSQL\n");
        return 1;
    }
    char *dsn = fkt_pg_new_db(pg, fkt_schema_and_seed);
    if (!dsn) {
        fprintf(stderr, "# php_launcher: could not create the test database\n");
        fkt_pg_stop(pg);
        return 1;
    }
    setenv("FORTKNOX_PHP_DSN", dsn, 1);
    setenv("FORTKNOX_PHP_ADMIN", fkt_pg_conninfo(pg), 1);
    setenv("FORTKNOX_LIB", argv[1], 1);
    free(dsn);

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        fkt_pg_stop(pg);
        return 1;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "# php_launcher: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    fkt_pg_stop(pg);
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    fprintf(stderr, "# php_launcher: %s died of signal %d\n", argv[2],
            WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 1;
}
