/* The throwaway-cluster harness; see pg_harness.h for the contract. */
#include "pg_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEMPLATES 8

struct fkt_pg {
    char dir[64];        /* cluster dir: socket + data/ + server.log */
    char *conninfo;      /* maintenance db */
    pid_t keeper;        /* 0 with FORTKNOX_TEST_DSN */
    pid_t postmaster;
    int external;
    int db_seq;
    char *dbs[256];      /* databases created on an external server, dropped at stop */
    int ndbs;
    struct {
        char *key;
        char name[64];
    } templates[MAX_TEMPLATES];
    int ntemplates;
};

static char *conninfo_for_db(const char *base, const char *db);

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# pg_harness: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void fkh_rm_rf(const char *path)
{
    if (path && *path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fkt_pg_bindir(char *out, size_t n)
{
    char path[512];
    FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
    if (p) {
        if (fgets(path, sizeof path, p)) {
            path[strcspn(path, "\n")] = '\0';
            char probe[600];
            snprintf(probe, sizeof probe, "%s/postgres", path);
            if (access(probe, X_OK) == 0) {
                pclose(p);
                snprintf(out, n, "%s", path);
                return 0;
            }
        }
        pclose(p);
    }
    /* Debian's client-only pg_config may point elsewhere: take the newest server. */
    glob_t g;
    int found = -1;
    if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) == 0) {
        int best = -1;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            int v = atoi(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
            if (v > best) {
                best = v;
                snprintf(out, n, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/postgres")),
                         g.gl_pathv[i]);
                found = 0;
            }
        }
    }
    globfree(&g);
    return found;
}

/* initdb and postgres refuse to run as root. */
static int server_user(uid_t *uid, gid_t *gid)
{
    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
        return 0;
    }
    struct passwd *pw = getpwnam("postgres");
    if (!pw)
        pw = getpwnam("nobody");
    if (!pw)
        return -1;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

static void become(uid_t uid, gid_t gid)
{
    if (geteuid() == 0) {
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
            _exit(126);
    }
}

static void redirect_output(const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) {
        dup2(nul, 0);
        close(nul);
    }
}

static void show_log(const char *dir)
{
    char path[128], line[512];
    snprintf(path, sizeof path, "%s/server.log", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "#   %s", line);
    fclose(f);
}

/* Runs one of the server's tools (bindir/tool, args after argv[0]) in dir as
 * the server's user, its output into dir/server.log. 0 when it exited 0. */
static int run_tool(const char *bindir, const char *dir, uid_t uid, gid_t gid, const char *tool,
                    const char *const *args)
{
    char exe[600], log[128];
    const char *argv[24] = {exe};
    snprintf(exe, sizeof exe, "%s/%s", bindir, tool);
    snprintf(log, sizeof log, "%s/server.log", dir);
    for (size_t i = 0; args[i] && i + 2 < sizeof argv / sizeof argv[0]; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        become(uid, gid);
        redirect_output(log);
        if (chdir(dir) != 0)
            _exit(126);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int run_initdb(const char *bindir, const char *dir, uid_t uid, gid_t gid)
{
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    return run_tool(bindir, dir, uid, gid, "initdb",
                    (const char *const[]){"-D", data, "-U", "fktest", "-A", "trust", "-E", "UTF8",
                                          "--locale=C", "--no-sync", "--no-instructions", NULL});
}

/* The keeper: parent of the postmaster, child of the test. It exists so that
 * cleanup happens even when the test is killed: the kernel sends it SIGTERM
 * when the test process dies (PR_SET_PDEATHSIG). */
static void keeper_main(pid_t test_pid, const char *bindir, const char *dir, uid_t uid,
                        gid_t gid, int ready_fd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != test_pid) { /* the test died before the prctl took effect */
        fkh_rm_rf(dir);
        _exit(1);
    }

    char exe[600], data[128], log[128], sock[128];
    snprintf(exe, sizeof exe, "%s/postgres", bindir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(sock, sizeof sock, "unix_socket_directories=%s", dir);
    pid_t pm = fork();
    if (pm == 0) {
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        setpgid(0, 0); /* a terminal's Ctrl-C goes to the keeper, which stops us cleanly */
        become(uid, gid);
        prctl(PR_SET_PDEATHSIG, SIGQUIT); /* set after setuid, which clears it */
        redirect_output(log);
        if (chdir(dir) != 0)
            _exit(126);
        execl(exe, exe, "-D", data, "-c", "listen_addresses=", "-c", sock, "-c",
              "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
              "-c", "shared_buffers=32MB", "-c", "max_connections=60", "-c",
              "max_wal_size=1GB", "-c", "log_min_messages=warning", "-c",
              "log_min_error_statement=panic", "-c", "max_locks_per_transaction=256",
              (char *)NULL);
        _exit(127);
    }
    ssize_t w = write(ready_fd, &pm, sizeof pm); /* a short write shows as pid 0 */
    (void)w;
    close(ready_fd);

    int sig;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGCHLD) {
            int st;
            if (waitpid(pm, &st, WNOHANG) == pm) { /* server died on its own */
                fkh_rm_rf(dir);
                _exit(1);
            }
            continue;
        }
        break;
    }
    /* Fast shutdown; escalate to immediate, then kill, so we never hang. */
    kill(pm, SIGINT);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pm, NULL, WNOHANG) == pm)
            goto done;
        if (i == 100)
            kill(pm, SIGQUIT);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(-pm, SIGKILL);
    kill(pm, SIGKILL);
    waitpid(pm, NULL, 0);
done:
    fkh_rm_rf(dir);
    _exit(0);
}

static int wait_ready(fkt_pg *pg)
{
    for (int i = 0; i < 600; i++) {
        if (PQping(pg->conninfo) == PQPING_OK)
            return 0;
        if (waitpid(pg->keeper, NULL, WNOHANG) == pg->keeper) {
            pg->keeper = 0;
            return -1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int start_external(fkt_pg *pg, const char *dsn)
{
    pg->external = 1;
    pg->conninfo = strdup(dsn);
    PGconn *c = PQconnectdb(dsn);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (!ok)
        say("FORTKNOX_TEST_DSN: cannot connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Starts the keeper (and through it the server) on pg->dir, whose data/ is
 * ready, and waits until the server accepts connections. */
static int launch(fkt_pg *pg, const char *bindir, uid_t uid, gid_t gid)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t self = getpid();
    pg->keeper = fork();
    if (pg->keeper == 0) {
        close(fds[0]);
        keeper_main(self, bindir, pg->dir, uid, gid, fds[1]);
    }
    close(fds[1]);
    if (read(fds[0], &pg->postmaster, sizeof pg->postmaster) != (ssize_t)sizeof pg->postmaster)
        pg->postmaster = 0;
    close(fds[0]);

    char buf[256];
    snprintf(buf, sizeof buf, "host=%s port=5432 user=fktest dbname=postgres", pg->dir);
    pg->conninfo = strdup(buf);
    if (pg->keeper < 0 || wait_ready(pg) != 0) {
        say("the server did not start:");
        show_log(pg->dir);
        return -1;
    }
    return 0;
}

/* A new cluster directory /tmp/fkpg-XXXXXX owned by the server's user. */
static int make_dir(fkt_pg *pg, uid_t uid, gid_t gid)
{
    /* Short path: a Unix socket path must fit in 107 bytes. */
    snprintf(pg->dir, sizeof pg->dir, "/tmp/fkpg-XXXXXX");
    if (!mkdtemp(pg->dir)) {
        say("mkdtemp: %s", strerror(errno));
        return -1;
    }
    if (geteuid() == 0 && chown(pg->dir, uid, gid) != 0) {
        say("chown %s: %s", pg->dir, strerror(errno));
        fkh_rm_rf(pg->dir);
        return -1;
    }
    return 0;
}

int fkt_pg_start(fkt_pg **out)
{
    *out = NULL;
    const char *require = getenv("FORTKNOX_REQUIRE_PG");
    int required = require && strcmp(require, "1") == 0;
    fkt_pg *pg = calloc(1, sizeof *pg);
    if (!pg)
        return -1;

    const char *dsn = getenv("FORTKNOX_TEST_DSN");
    if (dsn && *dsn) {
        if (start_external(pg, dsn) != 0) {
            fkt_pg_stop(pg);
            return -1;
        }
        *out = pg;
        return 0;
    }

    char bindir[512];
    if (fkt_pg_bindir(bindir, sizeof bindir) != 0) {
        free(pg);
        if (required) {
            say("FORTKNOX_REQUIRE_PG=1 but no PostgreSQL server binaries were found "
                "(pg_config --bindir, /usr/lib/postgresql/*/bin)");
            return -1;
        }
        say("no PostgreSQL server binaries: skipping (set FORTKNOX_REQUIRE_PG=1 to fail)");
        return FKT_SKIP;
    }
    uid_t uid;
    gid_t gid;
    if (server_user(&uid, &gid) != 0) {
        free(pg);
        say("running as root and neither user 'postgres' nor 'nobody' exists");
        return -1;
    }
    if (make_dir(pg, uid, gid) != 0) {
        free(pg);
        return -1;
    }
    if (run_initdb(bindir, pg->dir, uid, gid) != 0) {
        say("initdb failed:");
        show_log(pg->dir);
        fkh_rm_rf(pg->dir);
        free(pg);
        return -1;
    }
    if (launch(pg, bindir, uid, gid) != 0) {
        fkt_pg_stop(pg);
        return -1;
    }
    *out = pg;
    return 0;
}

/* pg_basebackup of the primary into dir/data, as the server's user, with -R:
 * standby.signal and primary_conninfo (the primary's socket) written for us. */
static int run_basebackup(const char *bindir, const fkt_pg *primary, const char *dir, uid_t uid,
                          gid_t gid)
{
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    return run_tool(bindir, dir, uid, gid, "pg_basebackup",
                    (const char *const[]){"-D", data, "-R", "-X", "stream", "-c", "fast",
                                          "--no-sync", "-h", primary->dir, "-p", "5432", "-U",
                                          "fktest", NULL});
}

int fkt_pg_start_standby(fkt_pg **out, fkt_pg *primary)
{
    *out = NULL;
    if (primary->external) {
        say("a standby needs the harness's own primary, not FORTKNOX_TEST_DSN: skipping");
        return FKT_SKIP;
    }
    char bindir[512];
    uid_t uid;
    gid_t gid;
    if (fkt_pg_bindir(bindir, sizeof bindir) != 0 || server_user(&uid, &gid) != 0)
        return -1;
    fkt_pg *pg = calloc(1, sizeof *pg);
    if (!pg)
        return -1;
    if (make_dir(pg, uid, gid) != 0) {
        free(pg);
        return -1;
    }
    if (run_basebackup(bindir, primary, pg->dir, uid, gid) != 0) {
        say("pg_basebackup failed:");
        show_log(pg->dir);
        fkh_rm_rf(pg->dir);
        free(pg);
        return -1;
    }
    if (launch(pg, bindir, uid, gid) != 0 || fkt_pg_standby_catch_up(pg, primary) != 0) {
        fkt_pg_stop(pg);
        return -1;
    }
    *out = pg;
    return 0;
}

int fkt_pg_standby_catch_up(fkt_pg *standby, fkt_pg *primary)
{
    /* The servers run with synchronous_commit=off, so a commit's WAL may not
     * be flushed yet, and a walsender sends only flushed WAL. A transaction
     * that commits synchronously flushes everything before it; the flush
     * position then covers every commit so far (pg_current_wal_lsn(), the
     * write position, may not, and would let the wait end too early). */
    if (fkt_pg_exec(primary->conninfo,
                    "SET synchronous_commit = on; SELECT pg_current_xact_id()") != 0)
        return -1;
    char *target = fkt_pg_query1(primary->conninfo, "SELECT pg_current_wal_flush_lsn()");
    if (!target)
        return -1;
    PGconn *c = PQconnectdb(standby->conninfo);
    int rc = -1;
    const char *p[1] = {target};
    /* 1200 polls 50 ms apart: a minute at most, then a failure that says so */
    for (int i = 0; PQstatus(c) == CONNECTION_OK && i < 1200; i++) {
        PGresult *r = PQexecParams(c,
                                   "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= "
                                   "$1::pg_lsn",
                                   1, NULL, p, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        int recovering = ok && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        int caught_up = ok && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        if (!ok)
            say("standby: %s", PQerrorMessage(c));
        PQclear(r);
        if (!ok || !recovering) {
            if (ok)
                say("the standby is not in recovery: it is no standby");
            break;
        }
        if (caught_up) {
            rc = 0;
            break;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc != 0 && PQstatus(c) != CONNECTION_OK)
        say("standby: connect: %s", PQerrorMessage(c));
    else if (rc != 0)
        say("the standby did not replay up to the primary's %s:", target);
    if (rc != 0)
        show_log(standby->dir);
    PQfinish(c);
    free(target);
    return rc;
}

char *fkt_pg_on(const fkt_pg *pg, const char *db_conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(db_conninfo, &err);
    if (!opts) {
        say("bad conninfo: %s", err ? err : "?");
        PQfreemem(err);
        return NULL;
    }
    const char *db = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    char *out = conninfo_for_db(pg->conninfo, db ? db : "postgres");
    PQconninfoFree(opts);
    return out;
}

fkt_pg *fkt_pg_start_or_exit(void)
{
    fkt_pg *pg;
    int rc = fkt_pg_start(&pg);
    if (rc == FKT_SKIP) {
        printf("1..0 # SKIP no PostgreSQL server on this machine\n");
        exit(FKT_SKIP);
    }
    if (rc != 0) {
        printf("Bail out! could not start a throwaway PostgreSQL\n");
        exit(1);
    }
    return pg;
}

static void drop_db(fkt_pg *pg, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    fkt_pg_exec(pg->conninfo, sql);
}

void fkt_pg_stop(fkt_pg *pg)
{
    if (!pg)
        return;
    if (pg->external) {
        for (int i = 0; i < pg->ndbs; i++)
            drop_db(pg, pg->dbs[i]);
        for (int i = 0; i < pg->ntemplates; i++) {
            char sql[160];
            snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" IS_TEMPLATE false",
                     pg->templates[i].name);
            fkt_pg_exec(pg->conninfo, sql);
            drop_db(pg, pg->templates[i].name);
        }
    }
    if (pg->keeper > 0) {
        kill(pg->keeper, SIGTERM);
        while (waitpid(pg->keeper, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    for (int i = 0; i < pg->ndbs; i++)
        free(pg->dbs[i]);
    for (int i = 0; i < pg->ntemplates; i++)
        free(pg->templates[i].key);
    free(pg->conninfo);
    free(pg);
}

const char *fkt_pg_conninfo(const fkt_pg *pg) { return pg->conninfo; }

int fkt_pg_server_pid(const fkt_pg *pg) { return pg->external ? 0 : (int)pg->postmaster; }

const char *fkt_pg_dir(const fkt_pg *pg) { return pg->external ? NULL : pg->dir; }

/* Same server, other database: rebuilt through libpq's own parser so URIs work. */
static char *conninfo_for_db(const char *base, const char *db)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(base, &err);
    if (!opts) {
        say("bad conninfo: %s", err ? err : "?");
        PQfreemem(err);
        return NULL;
    }
    size_t cap = 1024, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? db : o->val;
        if (!v)
            continue;
        size_t need = len + strlen(o->keyword) + 2 * strlen(v) + 8;
        if (need > cap) {
            cap = need * 2;
            out = realloc(out, cap);
        }
        len += (size_t)sprintf(out + len, "%s%s='", len ? " " : "", o->keyword);
        for (const char *p = v; *p; p++) {
            if (*p == '\'' || *p == '\\')
                out[len++] = '\\';
            out[len++] = *p;
        }
        out[len++] = '\'';
        out[len] = '\0';
    }
    PQconninfoFree(opts);
    return out;
}

static int create_db(fkt_pg *pg, const char *name, const char *template)
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\" TEMPLATE \"%s\"", name, template);
    if (fkt_pg_exec(pg->conninfo, sql) != 0)
        return -1;
    if (pg->external && pg->ndbs < 256 && strncmp(name, "fkt_tpl", 7) != 0)
        pg->dbs[pg->ndbs++] = strdup(name);
    return 0;
}

static const char *template_for(fkt_pg *pg, const char *const *files)
{
    char key[4096] = "";
    for (const char *const *f = files; f && *f; f++) {
        strncat(key, *f, sizeof key - strlen(key) - 2);
        strcat(key, "\n");
    }
    if (!key[0])
        return "template0";
    for (int i = 0; i < pg->ntemplates; i++)
        if (strcmp(pg->templates[i].key, key) == 0)
            return pg->templates[i].name;
    if (pg->ntemplates == MAX_TEMPLATES) {
        say("too many distinct SQL file lists");
        return NULL;
    }
    int i = pg->ntemplates;
    snprintf(pg->templates[i].name, sizeof pg->templates[i].name, "fkt_tpl_%d_%d",
             (int)getpid(), i);
    if (create_db(pg, pg->templates[i].name, "template0") != 0)
        return NULL;
    pg->templates[i].key = strdup(key);
    pg->ntemplates++;
    char *ci = conninfo_for_db(pg->conninfo, pg->templates[i].name);
    int rc = 0;
    for (const char *const *f = files; rc == 0 && *f; f++)
        rc = fkt_pg_load_sql(ci, *f);
    free(ci);
    if (rc != 0)
        return NULL;
    return pg->templates[i].name;
}

char *fkt_pg_new_db(fkt_pg *pg, const char *const *sql_files)
{
    const char *tpl = template_for(pg, sql_files);
    if (!tpl)
        return NULL;
    char name[64];
    snprintf(name, sizeof name, "fkt_%d_%d", (int)getpid(), ++pg->db_seq);
    if (create_db(pg, name, tpl) != 0)
        return NULL;
    return conninfo_for_db(pg->conninfo, name);
}

char *fkt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) {
        s[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    fclose(f);
    return s;
}

static void quiet_notice(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

int fkt_pg_exec(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    PQsetNoticeReceiver(c, quiet_notice, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        say("connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        say("SQL failed: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

int fkt_pg_load_sql(const char *conninfo, const char *path)
{
    char *sql = fkt_read_file(path, NULL);
    if (!sql) {
        say("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = fkt_pg_exec(conninfo, sql);
    if (rc != 0)
        say("... while loading %s", path);
    free(sql);
    return rc;
}

char *fkt_pg_query1(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    char *out = NULL;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            out = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
        else
            say("query failed: %s", PQerrorMessage(c));
        PQclear(r);
    } else {
        say("connect: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return out;
}
