/* Running a program (the fortknox CLI) to completion with its output
 * captured, and a deadline so a hang is a failure rather than a stuck suite. */
#include "fkt.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void fkt_apply_env(const char *const *env)
{
    unsetenv("FORTKNOX_DB");
    for (; env && *env; env++) {
        const char *eq = strchr(*env, '=');
        if (!eq) {
            unsetenv(*env);
            continue;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *env), *env);
        setenv(name, eq + 1, 1);
    }
}

static void append(char **buf, size_t *len, const char *p, size_t n)
{
    *buf = realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads both pipes until they close or the deadline passes (then kills). */
static void drain(fkt_run *r, pid_t pid, int out_fd, int err_fd, int deadline_s)
{
    size_t lo = 0, le = 0;
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_fds = 2;
    double end = deadline_s > 0 ? now_s() + deadline_s : 0;
    while (open_fds) {
        int wait_ms = end ? (int)((end - now_s()) * 1000) : -1;
        if (end && wait_ms <= 0 && !r->timed_out) {
            r->timed_out = 1;
            kill(pid, SIGKILL);
            wait_ms = -1;
        }
        if (poll(fds, 2, wait_ms) < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char buf[8192];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                if (i == 0)
                    append(&r->out, &lo, buf, (size_t)n);
                else
                    append(&r->err, &le, buf, (size_t)n);
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
}

char **fkt_argv(const char *path, const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)path;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    return argv;
}

fkt_run fkt_run_program(const char *path, const char *const *env, const char *cwd,
                        const char *const *args, int deadline_s)
{
    fkt_run r = {-1, 0, 0, calloc(1, 1), calloc(1, 1)};
    char **argv = fkt_argv(path, args);
    int po[2], pe[2];
    if (!argv || pipe(po) != 0 || pipe(pe) != 0) {
        free(argv);
        r.status = -2;
        return r;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(po[1]);
        close(pe[1]);
        fkt_apply_env(env);
        if (cwd && chdir(cwd) != 0)
            _exit(126);
        execvp(path, argv); /* a bare name (valgrind) is looked up in PATH */
        _exit(127);
    }
    free(argv);
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        r.status = -2;
        return r;
    }
    drain(&r, pid, po[0], pe[0], deadline_s);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return r;
}

void fkt_run_free(fkt_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *fkt_cli_path(void)
{
    const char *p = getenv("FKT_CLI");
    if (!p) {
        printf("Bail out! FKT_CLI is not set (meson test sets it)\n");
        exit(1);
    }
    return p;
}
