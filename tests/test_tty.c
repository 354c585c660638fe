/* The fortknox tool on a terminal (a pseudo-terminal, forkpty, at 80, 40, 12
 * and 1 columns): progress lines never wider than the terminal, with a total,
 * for every long command;
 * no progress at all when stderr is no terminal; and Ctrl-C -- a real ^C
 * typed at the terminal -- during export, import and drill leaves nothing
 * behind (the fixture tree byte for byte, the database as it was).
 * Ctrl-C comes at a known point: the tool's test build (fortknox-test-hooks,
 * $FKT_CLI_HOOKS) waits at FORTKNOX_TEST_PAUSE_AT=end (the last progress
 * call, everything written but not committed) until a signal arrives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fkt.h"

static fkt_pg *pg;
static const char *cli_path, *hooks_path;

/* ------------------------------------------------------------ on a terminal */

typedef struct tty_run {
    int status;    /* exit status, -1 when a signal ended it */
    char out[1 << 16]; /* everything the terminal showed (stderr; stdout goes to /dev/null) */
    size_t len;
} tty_run;

/* Reads what the terminal shows until `until` appears (then returns 1) or
 * the program closes it (0). No time limit: meson's test timeout is the
 * backstop for a program that hangs. */
static int read_until(int master, tty_run *r, const char *until)
{
    for (;;) {
        if (until && strstr(r->out, until))
            return 1;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno == EINTR)
            continue;
        if (r->len + 1 >= sizeof r->out)
            r->len = 0; /* keep reading; a test never needs this much */
        ssize_t n = read(master, r->out + r->len, sizeof r->out - 1 - r->len);
        if (n <= 0) /* EIO: every slave end closed */
            return 0;
        r->len += (size_t)n;
        r->out[r->len] = '\0';
    }
}

/* Runs prog with args on a terminal `cols` columns wide; with `then`, types
 * `keys` once the terminal shows `then`. */
static void on_tty(tty_run *r, const char *prog, int cols, const char *const *env,
                   const char *const *args, const char *then, const char *keys)
{
    memset(r, 0, sizeof *r);
    struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO); /* what the terminal shows is stderr: progress */
        fkt_apply_env(env);
        unsetenv("COLUMNS"); /* the terminal says how wide it is */
        char **argv = fkt_argv(prog, args);
        execv(prog, argv);
        _exit(127);
    }
    if (then) {
        if (!read_until(master, r, then))
            fail_msg("the terminal never showed \"%s\"; it showed:\n%s", then, r->out);
        assert_int_equal(write(master, keys, strlen(keys)), (ssize_t)strlen(keys));
    }
    read_until(master, r, NULL);
    close(master);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Every line the terminal was given (split at \r and \n, "\033[K" removed)
 * is narrower than the terminal; returns the number of progress lines that
 * show a total ("N/N"), and how many reached it ("T/T 100%"). */
static void check_lines(const tty_run *r, int cols, const char *what, int *with_total,
                        int *complete)
{
    *with_total = *complete = 0;
    char *copy = strdup(r->out), *save = NULL;
    for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char clean[4096];
        size_t n = 0;
        for (const char *s = line; *s && n + 1 < sizeof clean; s++) {
            if (strncmp(s, "\033[K", 3) == 0) {
                s += 2;
                continue;
            }
            clean[n++] = *s;
        }
        clean[n] = '\0';
        if (!n)
            continue;
        if ((int)n >= cols)
            fail_msg("%s at %d columns: a line of %zu columns:\n\"%s\"\n(all: %s)", what, cols, n,
                     clean, r->out);
        unsigned long long done, total;
        for (const char *s = clean; *s; s++) {
            int used = 0;
            if (sscanf(s, "%llu/%llu%n", &done, &total, &used) == 2 && used && total > 0 &&
                (s == clean || s[-1] == ' ')) {
                (*with_total)++;
                if (done == total && strstr(s + used, "100%"))
                    (*complete)++;
                break;
            }
        }
    }
    free(copy);
}

/* ------------------------------------------------------------ the commands */

typedef struct command {
    const char *name;
    const char *args[6]; /* after --db DB; "DIR" is the fixture directory */
    int ok_statuses;     /* bit mask of accepted exit statuses */
} command;

static const command commands[] = {
    {"export", {"export", "DIR"}, 1 << 0},
    {"verify", {"verify", "DIR"}, 1 << 0},
    {"import", {"import", "DIR"}, 1 << 0},
    {"drill", {"drill", "DIR"}, 1 << 0},
    /* doctor's findings on the sample (exit 1) are not this test's business */
    {"doctor", {"doctor", "--fixtures", "DIR"}, 1 << 0 | 1 << 1},
    {"audit verify", {"audit", "verify", "--anchor", "DIR"}, 1 << 0},
};

/* argv: --db DB, then the command's args with DIR replaced. */
static void command_args(const command *c, const char *db, const char *dir, const char **out)
{
    size_t k = 0;
    out[k++] = "--db";
    out[k++] = db;
    for (size_t i = 0; c->args[i]; i++)
        out[k++] = strcmp(c->args[i], "DIR") == 0 ? dir : c->args[i];
    out[k] = NULL;
}

static char *new_installed_db(void)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    fkt_run r = fkt_run_program(cli_path, NULL, NULL,
                                (const char *const[]){"--db", db, "-q", "install", "--capture", NULL},
                                0);
    if (r.status != 0)
        fail_msg("install: %d\n%s%s", r.status, r.out, r.err);
    fkt_run_free(&r);
    /* audit rows, for audit verify to count */
    free(fkt_q1(db, "UPDATE app.cohort_definitions SET description = 'audited' RETURNING 1"));
    return db;
}

static void progress_fits_the_terminal_and_shows_a_total(void **state)
{
    (void)state;
    char *db = new_installed_db();
    char *dir = fkt_tempdir_or_fail("fk-tty");
    /* columns, and whether the line still has room for the counts */
    static const struct {
        int cols, counts;
    } widths[] = {{80, 1}, {40, 1}, {12, 0}, {1, 0}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            const command *c = &commands[i];
            const char *args[12];
            command_args(c, db, dir, args);
            static tty_run r;
            on_tty(&r, cli_path, widths[w].cols, NULL, args, NULL, NULL);
            if (r.status < 0 || !(c->ok_statuses & (1 << r.status)))
                fail_msg("%s: exit status %d\n%s", c->name, r.status, r.out);
            int with_total, complete;
            check_lines(&r, widths[w].cols, c->name, &with_total, &complete);
            if (!widths[w].counts)
                continue;
            if (!with_total || !complete)
                fail_msg("%s at %d columns: no progress line with a total reaching 100%%:\n%s",
                         c->name, widths[w].cols, r.out);
            /* the drill's phases are its own, each with its rate */
            if (strcmp(c->name, "drill") == 0 &&
                (!strstr(r.out, "drill: restore") || !strstr(r.out, "drill: verify")))
                fail_msg("drill: its phases are not shown as the drill's:\n%s", r.out);
        }
    assert_int_equal(fkt_rm_tree(dir), 0);
    free(db);
}

static void no_progress_without_a_terminal(void **state)
{
    (void)state;
    char *db = new_installed_db();
    char *dir = fkt_tempdir_or_fail("fk-notty");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command *c = &commands[i];
        const char *args[12];
        command_args(c, db, dir, args);
        fkt_run r = fkt_run_program(cli_path, NULL, NULL, args, 0);
        if (r.status < 0 || !(c->ok_statuses & (1 << r.status)))
            fail_msg("%s: exit status %d\n%s%s", c->name, r.status, r.out, r.err);
        if (strchr(r.err, '\r') || strstr(r.err, "\033[") || strchr(r.out, '\r'))
            fail_msg("%s without a terminal drew progress:\n%s", c->name, r.err);
        fkt_run_free(&r);
    }
    assert_int_equal(fkt_rm_tree(dir), 0);
    free(db);
}

/* ------------------------------------------------------------ Ctrl-C */

/* Every path below dir with its type and, for files, its SHA-256: equal
 * listings mean an identical tree. */
static char *tree_listing(const char *dir, const char *name)
{
    char out[512];
    snprintf(out, sizeof out, "%s.%s", dir, name);
    assert_int_equal(fkt_sh("if [ -e '%s' ]; then cd '%s' && find . -printf '%%y %%m %%p\\n' | "
                            "LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | "
                            "xargs -0 -r sha256sum; else echo absent; fi >'%s'",
                            dir, dir, out),
                     0);
    char *s = fkt_slurp(out, NULL);
    assert_non_null(s);
    unlink(out);
    return s;
}

static const char ctrl_c[] = "\003";
static const char *const pause_env[] = {"FORTKNOX_TEST_PAUSE_AT=end", NULL};

/* Presses Ctrl-C while `args` waits at its last progress call; it must
 * exit non-zero, saying it was interrupted. */
static void interrupt(const char *const *args, const char *what)
{
    static tty_run r;
    on_tty(&r, hooks_path, 80, pause_env, args, "[paused at", ctrl_c);
    if (r.status == 0 || r.status < 0)
        fail_msg("%s interrupted: exit status %d\n%s", what, r.status, r.out);
}

static void ctrl_c_during_export_changes_no_file(void **state)
{
    (void)state;
    char *db = new_installed_db();
    char *base = fkt_tempdir_or_fail("fk-int");
    char fresh[600], old[600];
    /* 1. a first export into a directory that does not exist yet (two levels):
     *    nothing may be left, not even the directory */
    snprintf(fresh, sizeof fresh, "%s/new/fixtures", base);
    interrupt((const char *const[]){"--db", db, "export", fresh, NULL}, "export into a new dir");
    char *listing = tree_listing(base, "base");
    if (strstr(listing, "./new"))
        fail_msg("an interrupted export left something behind:\n%s", listing);
    free(listing);

    /* 2. an existing tree: the entities changed since (temp files written),
     *    a type's directory gone (created again): the tree stays as it was */
    snprintf(old, sizeof old, "%s/fixtures", base);
    fkt_run r = fkt_run_program(cli_path, NULL, NULL,
                                (const char *const[]){"--db", db, "-q", "export", old, NULL}, 0);
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    assert_int_equal(fkt_sh("rm -r '%s/concept_sets'", old), 0);
    char *c = fkt_q1(db, "UPDATE app.cohort_definitions SET description = 'changed' "
                         "RETURNING 1");
    free(c);
    char *before = tree_listing(old, "before");
    interrupt((const char *const[]){"--db", db, "export", old, NULL}, "export over a tree");
    char *after = tree_listing(old, "after");
    if (strcmp(before, after) != 0)
        fail_msg("an interrupted export changed the tree:\n--- before:\n%s\n--- after:\n%s",
                 before, after);
    free(before);
    free(after);
    assert_int_equal(fkt_rm_tree(base), 0);
    free(db);
}

/* The design tables and the audit log, as one checksum. */
static char *db_state(const char *db)
{
    return fkt_q1(db, "SELECT md5(concat_ws('|',"
                      " (SELECT string_agg(t::text, ',' ORDER BY id) FROM app.cohort_definitions t),"
                      " (SELECT string_agg(t::text, ',' ORDER BY id) FROM app.concept_sets t),"
                      " (SELECT count(*) FROM fortknox.audit_log),"
                      " (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'fortknox_drill%')))");
}

static void ctrl_c_during_import_and_drill_changes_nothing(void **state)
{
    (void)state;
    char *db = new_installed_db();
    char *dir = fkt_tempdir_or_fail("fk-int-db");
    fkt_run r = fkt_run_program(cli_path, NULL, NULL,
                                (const char *const[]){"--db", db, "-q", "export", dir, NULL}, 0);
    assert_int_equal(r.status, 0);
    fkt_run_free(&r);
    /* the import would change everything: the fixtures say otherwise */
    char *c = fkt_q1(db, "UPDATE app.cohort_definitions SET description = 'changed' RETURNING 1");
    free(c);
    static const char *const cmds[] = {"import", "drill"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *before = db_state(db);
        interrupt((const char *const[]){"--db", db, cmds[i], dir, NULL}, cmds[i]);
        char *after = db_state(db);
        if (strcmp(before, after) != 0)
            fail_msg("an interrupted %s changed the database", cmds[i]);
        free(before);
        free(after);
    }
    assert_int_equal(fkt_rm_tree(dir), 0);
    free(db);
}

int main(void)
{
    cli_path = fkt_cli_path();
    hooks_path = getenv("FKT_CLI_HOOKS");
    if (!hooks_path) {
        printf("Bail out! FKT_CLI_HOOKS is not set (meson test sets it)\n");
        return 1;
    }
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(progress_fits_the_terminal_and_shows_a_total),
        cmocka_unit_test(no_progress_without_a_terminal),
        cmocka_unit_test(ctrl_c_during_export_changes_no_file),
        cmocka_unit_test(ctrl_c_during_import_and_drill_changes_nothing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
