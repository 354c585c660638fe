/* The throwaway-cluster harness itself: two at once, cleanup on stop and on
 * a crash of the test process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fkt.h"

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

static int wait_gone(const char *dir, pid_t pid)
{
    for (int i = 0; i < 300; i++) {
        if (!exists(dir) && !alive(pid))
            return 1;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void two_servers_at_once(void **state)
{
    (void)state;
    if (getenv("FORTKNOX_TEST_DSN"))
        skip();
    fkt_pg *a = fkt_pg_start_or_exit();
    fkt_pg *b = fkt_pg_start_or_exit();
    assert_string_not_equal(fkt_pg_dir(a), fkt_pg_dir(b));
    assert_int_not_equal(fkt_pg_server_pid(a), fkt_pg_server_pid(b));
    assert_int_equal(fkt_pg_exec(fkt_pg_conninfo(a), "CREATE TABLE only_in_a(x int)"), 0);
    char *n = fkt_pg_query1(fkt_pg_conninfo(b),
                            "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'");
    assert_string_equal(n, "0");
    free(n);
    /* no TCP: the server listens on its private socket only */
    n = fkt_pg_query1(fkt_pg_conninfo(a), "SHOW listen_addresses");
    assert_string_equal(n, "");
    free(n);
    n = fkt_pg_query1(fkt_pg_conninfo(a), "SHOW fsync");
    assert_string_equal(n, "off");
    free(n);

    char dir[64];
    snprintf(dir, sizeof dir, "%s", fkt_pg_dir(a));
    pid_t pm = fkt_pg_server_pid(a);
    fkt_pg_stop(a);
    assert_false(exists(dir));
    assert_false(alive(pm));
    n = fkt_pg_query1(fkt_pg_conninfo(b), "SELECT 42");
    assert_string_equal(n, "42");
    free(n);
    fkt_pg_stop(b);
}

static void crash_of_the_test_leaves_nothing(void **state)
{
    (void)state;
    if (getenv("FORTKNOX_TEST_DSN"))
        skip();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        fkt_pg *pg;
        if (fkt_pg_start(&pg) != 0)
            _exit(2);
        char msg[96];
        snprintf(msg, sizeof msg, "%d %s", fkt_pg_server_pid(pg), fkt_pg_dir(pg));
        if (write(fds[1], msg, strlen(msg) + 1) < 0)
            _exit(3);
        raise(SIGKILL); /* no cleanup code of ours runs */
        _exit(4);
    }
    close(fds[1]);
    char msg[96] = "";
    ssize_t got = read(fds[0], msg, sizeof msg - 1);
    close(fds[0]);
    int st;
    waitpid(child, &st, 0);
    assert_true(got > 0);
    assert_true(WIFSIGNALED(st));
    int pm = 0;
    char dir[80] = "";
    assert_int_equal(sscanf(msg, "%d %79s", &pm, dir), 2);
    assert_true(strncmp(dir, "/tmp/fkpg-", 10) == 0);
    assert_true(wait_gone(dir, pm));
}

static void new_databases_are_isolated_and_loaded(void **state)
{
    (void)state;
    fkt_pg *pg = fkt_pg_start_or_exit();
    char *a = fkt_pg_new_db(pg, fkt_schema_only);
    char *b = fkt_pg_new_db(pg, fkt_schema_only);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a, b);
    assert_int_equal(fkt_pg_exec(a, "INSERT INTO app.users(id, name, email, password) "
                                    "VALUES (99, 'x', 'x@example.org', 'h')"),
                     0);
    char *n = fkt_pg_query1(b, "SELECT count(*) FROM app.users");
    assert_string_equal(n, "0");
    free(n);
    char *c = fkt_pg_new_db(pg, NULL);
    n = fkt_pg_query1(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'");
    assert_string_equal(n, "0");
    free(n);
    assert_int_equal(fkt_pg_load_sql(c, "/nonexistent.sql"), -1);
    free(a);
    free(b);
    free(c);
    fkt_pg_stop(pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_servers_at_once),
        cmocka_unit_test(crash_of_the_test_leaves_nothing),
        cmocka_unit_test(new_databases_are_isolated_and_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
