/* Committing fixture directories to git (snapshot --git, watch
 * --commit-every).
 *
 * git runs through fork/exec with an argument vector, never a shell, so no
 * path or message can be interpreted as a command. Its output is captured:
 * stdout must stay free for --json, and its complaints become our message. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct capture {
    char *data;
    size_t len, cap;
} capture;

static void cap_add(capture *c, const char *p, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *grown = realloc(c->data, cap);
        if (!grown)
            return;
        c->data = grown;
        c->cap = cap;
    }
    memcpy(c->data + c->len, p, n);
    c->len += n;
    c->data[c->len] = '\0';
}

/* Runs git; returns its exit status (127: could not run it) with its stdout
 * and stderr in *out and *err (malloc'd, "" when empty; either may be NULL). */
static int run_git(const char *const *argv, char **out, char **err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return 127;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return 127;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, STDIN_FILENO);
        execvp("git", (char *const *)argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    capture co = {0}, ce = {0};
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = pid > 0 ? 2 : 0;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                cap_add(i == 0 ? &co : &ce, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    close(po[0]);
    close(pe[0]);
    int status = 127;
    if (pid > 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    }
    if (out)
        *out = co.data ? co.data : strdup("");
    else
        free(co.data);
    if (err)
        *err = ce.data ? ce.data : strdup("");
    else
        free(ce.data);
    return status;
}

static void chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* Fails r with git's own words (its last stderr line is the useful one). */
static int git_failed(cli_result *r, const char *what, int status, char *err)
{
    chomp(err);
    const char *line = err ? strrchr(err, '\n') : NULL;
    line = line ? line + 1 : err;
    if (status == 127)
        cli_fail_msg(r, FK_EIO, "%s: cannot run git (is it installed?)", what);
    else
        cli_fail_msg(r, FK_EIO, "%s failed: %s", what, line && *line ? line : "git failed");
    free(err);
    return -1;
}

int git_toplevel(char **top, const char *dir, cli_result *r)
{
    *top = NULL;
    /* the directory may not exist before the first export: ask its parent */
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s", dir);
    struct stat st;
    while (stat(probe, &st) != 0) {
        char *slash = strrchr(probe, '/');
        if (!slash) {
            snprintf(probe, sizeof probe, ".");
            break;
        }
        if (slash == probe)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    const char *argv[] = {"git", "-C", probe, "rev-parse", "--show-toplevel", NULL};
    char *out = NULL, *err = NULL;
    int status = run_git(argv, &out, &err);
    chomp(out);
    if (status != 0 || !out || !*out) {
        free(out);
        if (status == 127)
            return git_failed(r, "git rev-parse", status, err);
        free(err);
        cli_fail_msg(r, FK_ENOTFOUND,
                     "%s is not inside a git work tree: --git needs one (run `git init`, or "
                     "drop --git)",
                     dir);
        return -1;
    }
    free(err);
    *top = out;
    return 0;
}

int git_check_identity(const char *top, cli_result *r)
{
    /* `git var` resolves the identity as strictly as `git commit` does */
    const char *who[] = {"GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"};
    for (size_t i = 0; i < 2; i++) {
        const char *argv[] = {"git", "-C", top, "var", who[i], NULL};
        char *err = NULL;
        int status = run_git(argv, NULL, &err);
        if (status == 127)
            return git_failed(r, "git var", status, err);
        free(err);
        if (status != 0) {
            cli_fail_msg(r, FK_EIO,
                         "git cannot tell who commits in %s (no user.name/user.email): set them "
                         "first, e.g. `git -C %s config user.name \"Fixture Bot\"` and `git -C "
                         "%s config user.email fixtures@example.org`; nothing was exported",
                         top, top, top);
            return -1;
        }
    }
    return 0;
}

int git_commit_dir(const cli *c, const char *top, const char *dir, const char *message,
                   char **commit, cli_result *r)
{
    (void)c;
    *commit = NULL;
    char abs[PATH_MAX];
    if (!realpath(dir, abs)) {
        cli_fail_msg(r, FK_EIO, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char *err = NULL;
    const char *add[] = {"git", "-C", top, "add", "-A", "--", abs, NULL};
    int status = run_git(add, NULL, &err);
    if (status != 0)
        return git_failed(r, "git add", status, err);
    free(err);

    /* only paths under dir count: anything else staged is none of our business */
    const char *diff[] = {"git", "-C", top, "diff", "--cached", "--quiet", "--", abs, NULL};
    status = run_git(diff, NULL, &err);
    if (status == 0) { /* nothing changed under dir */
        free(err);
        return 0;
    }
    if (status != 1)
        return git_failed(r, "git diff", status, err);
    free(err);

    const char *ci[] = {"git", "-C", top, "commit", "-q", "-m", message, "--", abs, NULL};
    status = run_git(ci, NULL, &err);
    if (status != 0)
        return git_failed(r, "git commit", status, err);
    free(err);

    char *out = NULL;
    const char *head[] = {"git", "-C", top, "rev-parse", "HEAD", NULL};
    status = run_git(head, &out, &err);
    if (status != 0) {
        free(out);
        return git_failed(r, "git rev-parse HEAD", status, err);
    }
    free(err);
    chomp(out);
    *commit = out;
    return 0;
}
