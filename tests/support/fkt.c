#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const fkt_schema_only[] = {FKT_SCHEMA_SQL, NULL};
const char *const fkt_schema_and_seed[] = {FKT_SCHEMA_SQL, FKT_SEED_SQL, NULL};

static int saved_out = -1, saved_err = -1;
static FILE *sink;

void fkt_quiet_begin(void)
{
    fflush(stdout);
    fflush(stderr);
    sink = tmpfile();
    saved_out = dup(1);
    saved_err = dup(2);
    dup2(fileno(sink), 1);
    dup2(fileno(sink), 2);
}

long fkt_quiet_end(void)
{
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    long n = ftell(sink) > 0 ? ftell(sink) : (long)lseek(fileno(sink), 0, SEEK_END);
    fclose(sink);
    return n;
}

char *fkt_tempdir(const char *prefix)
{
    char *d = malloc(strlen(prefix) + 20);
    if (!d)
        return NULL;
    sprintf(d, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

int fkt_rm_tree(char *dir)
{
    if (!dir)
        return 0;
    pid_t pid = fork();
    if (pid == 0) { /* no shell: the path is never parsed */
        execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
        _exit(127);
    }
    int st = -1;
    if (pid > 0)
        waitpid(pid, &st, 0);
    free(dir);
    return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

char *fkt_tempdir_or_fail(const char *prefix)
{
    char *d = fkt_tempdir(prefix);
    if (!d)
        fail_msg("cannot make a temp dir /tmp/%s-XXXXXX", prefix);
    return d;
}

int fkt_sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    int n = vasprintf(&cmd, fmt, ap);
    va_end(ap);
    if (n < 0)
        fail_msg("out of memory for a shell command");
    int st = system(cmd);
    free(cmd);
    return st;
}

char *fkt_q1(const char *conninfo, const char *sql)
{
    char *v = fkt_pg_query1(conninfo, sql);
    if (!v)
        fail_msg("query failed: %s", sql);
    return v;
}

void fkt_seal(const char *conninfo)
{
    if (fkt_pg_exec(conninfo, "DO $fkt$ BEGIN IF to_regprocedure('fortknox.seal(integer)') IS NOT "
                              "NULL THEN PERFORM fortknox.seal(1000000000); END IF; END $fkt$") != 0)
        fail_msg("sealing the audit log failed");
}

char *fkt_slurp(const char *path, size_t *len) { return fkt_read_file(path, len); }
