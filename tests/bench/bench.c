/* fortknox-bench: libfortknox against pg_dump / pg_restore (issue 8).
 *
 *   fortknox-bench [--sizes 1000,10000,100000] [--runs 3] [--json FILE] [--compare OLD.json]
 *
 * One run, one throwaway PostgreSQL (harness/pg_harness.h; or the
 * server FORTKNOX_TEST_DSN names). For every size N:
 *   1. a fresh database with the Parthenon test schema and seed, whose design
 *      tables generate.sql fills with N entities on the server;
 *   2. every measurement of the table `ops` below, in its order, --runs
 *      times each; the table printed at the end shows the medians, the ratio
 *      to the PostgreSQL tool doing the same job, throughput, peak RSS, the
 *      target of issue 8 and PASS or GAP. A missed target is a GAP, printed,
 *      never an error: the exit status is 0 unless a measurement failed
 *      outright (1), or there is no PostgreSQL here (77, skip).
 *
 * Library calls whose memory matters (export, import, verify, drill, chain
 * verification) run in a fresh process (this program, re-executed with
 * --worker), so their peak RSS (wait4's ru_maxrss) is theirs alone; their
 * time is the parent's wall clock around the whole process, exactly as for
 * pg_dump and psql. --worker-wrapper "valgrind --tool=callgrind" runs those
 * workers under a profiler.
 *
 * Adding a measurement: write an op_fn doing one timed run (untimed set-up
 * goes into `once` or `prepare`) and add a row to `ops`; if it should run in
 * a worker process, add a worker_fn to `workers` and call run_worker(). */
#include <cJSON.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fortknox.h>
#include <ftw.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fkt.h"

extern const char fkb_generate_sql[];

#define MAX_SIZES 16
#define MAX_RUNS 25
#define MAX_TABLES 64
#define MAX_ARGS 160
#define MIB (1024.0 * 1024.0)

/* Targets of issue 8. */
#define RSS_LIMIT_MIB 64.0
#define RSS_GROWTH 1.2

#if defined(__GNUC__)
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF(a, b)
#endif

/* ------------------------------------------------------------ types */

typedef struct sample {
    double secs;    /* wall time of the run (the whole process for tools and workers) */
    double op_secs; /* workers: the library call alone; 0 = not applicable */
    double rows;    /* entities or rows the run handled */
    double bytes;   /* bytes it hashed or wrote, when that explains the time; 0 = n/a */
    long rss_kib;   /* peak RSS of the process doing the work; 0 = not measured */
    double cpu_user, cpu_sys; /* CPU time of that process (tools and workers) */
} sample;

typedef struct bench bench;
typedef int (*op_fn)(bench *b, sample *s);

/* T_MIBS_MIN: a minimum of MiB/s of the bytes a run reports (sample.bytes) */
typedef enum target_kind { T_NONE, T_RATIO_MAX, T_RATE_MIN, T_MIBS_MIN } target_kind;

typedef struct op {
    const char *name;     /* for --only and the JSON */
    const char *label;    /* for the table */
    op_fn once;           /* untimed, before the first run; may be NULL */
    op_fn prepare;        /* untimed, before every run; may be NULL */
    op_fn run;            /* one timed run; NULL = not in this build */
    op_fn done;           /* untimed, after the last run (checks); may be NULL */
    int (*available)(void); /* NULL, or whether the loaded library can do it */
    const char *missing;  /* why run is NULL or unavailable */
    const char *baseline; /* "a|b": ratio against the faster of these ops */
    target_kind target;
    double limit;         /* the ratio's maximum or the rate's minimum */
    int memory;           /* check peak RSS: < 64 MiB, <= 1.2x the N/10 peak */
} op;

enum { ST_SKIPPED = 0, ST_OK, ST_NOT_BUILT, ST_ERROR };

typedef struct result {
    sample runs[MAX_RUNS];
    int nruns;
    int state;
    char error[400];
    double median, median_op, rows, bytes, rate, cpu_user, cpu_sys;
    long rss_kib; /* max over the runs */
} result;

typedef struct dataset {
    size_t n;
    double generate_secs;
    long long counts[MAX_TABLES];
    long long soft_deleted;
    long long expr_min, expr_avg, expr_max;
    long long db_bytes;
    long long fixture_files, fixture_bytes;
    long long dump_plain_bytes, dump_custom_bytes;
} dataset;

struct bench {
    /* options */
    size_t sizes[MAX_SIZES];
    int nsizes;
    int runs;
    const char *json_path;
    const char *tmpbase;
    const char *only;
    const char *wrapper;
    int update_rows;
    int audit_rows;
    int keep;
    /* environment */
    fkt_pg *pg;
    char bindir[PATH_MAX];
    char work[PATH_MAX];
    char self[PATH_MAX];
    char log[PATH_MAX + 16];
    char server_version[64];
    char server_settings[200];
    char load_start[64];
    /* the registry's tables: every design and child table */
    char *tables[MAX_TABLES];   /* quoted "schema"."table" */
    char *table_names[MAX_TABLES];
    int is_entity[MAX_TABLES];
    char *softdel[MAX_TABLES];  /* quoted soft-delete column or NULL */
    int ntables;
    char *truncate_sql;
    /* the current size */
    int si;
    size_t n;
    char *conninfo;
    PGconn *conn;
    dataset *ds;
    char fixtures[PATH_MAX + 64]; /* latest complete export, "" = none */
    char dump_plain[PATH_MAX + 32];
    char dump_custom[PATH_MAX + 32];
    char scratch[PATH_MAX + 64];
    int run;
    long long cohorts;
    fk_ctx *actx;               /* audit measurements */
    char *event_old, *event_new;
    pid_t neighbour;            /* the process writing next to an export, or 0 */
    /* the capture-cost series: a database of its own */
    char *cap_conninfo;
    PGconn *cap_conn;
    fk_ctx *cap_ctx;
    int cap_row_bytes;          /* the row size it was made for; 0 = none */
    const char *compare_path;   /* --compare FILE.json */
    /* results: nsizes x NOPS */
    result *res;
    dataset sets[MAX_SIZES];
    int errors;
};

static volatile sig_atomic_t interrupted;
static char errbuf[1024];

static int fail(const char *fmt, ...) PRINTF(1, 2);
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return -1;
}

static void note(const char *fmt, ...) PRINTF(1, 2);
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------- file system */

static long long tree_files, tree_bytes;

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F) {
        tree_files++;
        tree_bytes += st->st_size;
    }
    return 0;
}

static void tree_size(const char *dir, long long *files, long long *bytes)
{
    tree_files = tree_bytes = 0;
    nftw(dir, count_entry, 32, FTW_PHYS);
    *files = tree_files;
    *bytes = tree_bytes;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail("open %s: %s", path, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? 0 : fail("fsync %s: %s", path, strerror(errno));
}

/* ---------------------------------------------------------- processes */

/* Runs argv; its stderr (and stdout unless out_fd >= 0) is appended to the
 * log. out_fd, if given, is closed here. Returns the exit status (128 + signal
 * when killed, -1 when it could not start) with the wall time and peak RSS. */
static int spawn(char *const argv[], int out_fd, const char *log, double *secs, long *rss_kib,
                 double *cpu_user, double *cpu_sys)
{
    fflush(NULL);
    FILE *hdr = fopen(log, "a"); /* a header, so the log's tail names the program */
    if (hdr) {
        fputs("---", hdr);
        for (int i = 0; argv[i]; i++)
            fprintf(hdr, " %s", argv[i]);
        fputc('\n', hdr);
        fclose(hdr);
    }
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        if (out_fd >= 0)
            close(out_fd);
        return -1;
    }
    if (pid == 0) {
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (lf >= 0) {
            dup2(lf, 2);
            if (out_fd < 0)
                dup2(lf, 1);
        }
        if (out_fd >= 0)
            dup2(out_fd, 1);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execvp(argv[0], argv);
        fprintf(stderr, "fortknox-bench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (out_fd >= 0)
        close(out_fd);
    struct rusage ru;
    int st = 0;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    *secs = now_s() - t0;
    *rss_kib = ru.ru_maxrss;
    *cpu_user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *cpu_sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The tail of the log, for an error message. */
static const char *log_tail(const bench *b)
{
    static char tail[600];
    tail[0] = '\0';
    FILE *f = fopen(b->log, "r");
    if (!f)
        return tail;
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    long from = end > (long)sizeof tail - 1 ? end - (long)sizeof tail + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(tail, 1, sizeof tail - 1, f);
    tail[n] = '\0';
    fclose(f);
    for (char *p = tail; *p; p++)
        if (*p == '\n' && p[1])
            *p = ' ';
    return tail;
}

static int run_tool(bench *b, char *const argv[], sample *s)
{
    double secs = 0;
    long rss = 0;
    int st = spawn(argv, -1, b->log, &secs, &rss, &s->cpu_user, &s->cpu_sys);
    if (st != 0)
        return fail("%s exited with status %d: %s", argv[0], st, log_tail(b));
    s->secs = secs;
    s->rss_kib = rss;
    return 0;
}

/* ------------------------------------------------------------ workers */

typedef int (*worker_fn)(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes);

static int w_export(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)bytes;
    fk_report *r = NULL;
    int rc = fk_export(&r, ctx, dir, NULL);
    *rows = fk_report_counter(r, "entities");
    fk_report_free(r);
    return rc;
}

/* A full pass over an existing directory (no type kept unread). */
static int w_export_full(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)bytes;
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.flags = FK_EXPORT_FULL;
    fk_report *r = NULL;
    int rc = fk_export(&r, ctx, dir, &o);
    *rows = fk_report_counter(r, "entities");
    fk_report_free(r);
    return rc;
}

static int w_import(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)bytes;
    fk_report *r = NULL;
    int rc = fk_import(&r, ctx, dir, NULL);
    *rows = fk_report_counter(r, "files");
    fk_report_free(r);
    return rc;
}

/* fk_verify and fk_drill: compiled in when the headers declare them (meson
 * defines FK_HAVE_VERIFY / FK_HAVE_DRILL), called when the loaded library
 * has them (a declaration can land before its implementation). */
#ifdef FK_HAVE_VERIFY
static __typeof__(&fk_verify) verify_fn(void)
{
    return (__typeof__(&fk_verify))dlsym(RTLD_DEFAULT, "fk_verify");
}

static int have_verify(void) { return verify_fn() != NULL; }

static int w_verify(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)bytes;
    fk_report *r = NULL;
    int rc = verify_fn()(&r, ctx, dir, NULL);
    *rows = fk_report_counter(r, "entities");
    fk_report_free(r);
    return rc;
}
#endif

#ifdef FK_HAVE_DRILL
static __typeof__(&fk_drill) drill_fn(void)
{
    return (__typeof__(&fk_drill))dlsym(RTLD_DEFAULT, "fk_drill");
}

static int have_drill(void) { return drill_fn() != NULL; }

static int w_drill(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)bytes;
    fk_report *r = NULL;
    int rc = drill_fn()(&r, ctx, dir, NULL);
    *rows = fk_report_counter(r, "entities");
    fk_report_free(r);
    return rc;
}
#endif

/* doctor with the fixture directory: its findings (an uninstalled library,
 * no audit log) are the answer, not a failure to measure. */
static int w_doctor(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)bytes;
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = dir;
    fk_report *r = NULL;
    int rc = fk_doctor(&r, ctx, &o);
    *rows = r ? fk_report_counter(r, "entities") : 0;
    fk_report_free(r);
    return rc == FK_EVERIFY && r ? FK_OK : rc;
}

static int w_audit_verify(fk_ctx *ctx, const char *dir, int64_t *rows, int64_t *bytes)
{
    (void)dir;
    (void)bytes;
    fk_report *r = NULL;
    int rc = fk_audit_verify(&r, ctx, NULL);
    *rows = fk_report_counter(r, "rows");
    fk_report_free(r);
    return rc;
}

static const struct {
    const char *name;
    worker_fn fn;
} workers[] = {
    {"export", w_export},
    {"export_full", w_export_full},
    {"import", w_import},
#ifdef FK_HAVE_VERIFY
    {"verify", w_verify},
#endif
#ifdef FK_HAVE_DRILL
    {"drill", w_drill},
#endif
    {"doctor", w_doctor},
    {"audit_verify", w_audit_verify},
};

/* In the worker process: one library call on a context of its own. Prints
 * "ok <call seconds> <open seconds> <rows>" or "error <message>". */
static int worker_main(const char *name, const char *conninfo, const char *dir)
{
    worker_fn fn = NULL;
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++)
        if (strcmp(workers[i].name, name) == 0)
            fn = workers[i].fn;
    if (!fn || !conninfo) {
        printf("error unknown worker \"%s\" or no --conninfo\n", name);
        return 2;
    }
    double t0 = now_s();
    fk_ctx *ctx = NULL;
    int rc = fk_open(&ctx, conninfo, NULL);
    if (rc != FK_OK) {
        printf("error fk_open: %s\n", fk_errmsg(NULL));
        return 1;
    }
    double t1 = now_s();
    int64_t rows = 0, bytes = 0;
    rc = fn(ctx, dir, &rows, &bytes);
    double t2 = now_s();
    if (rc != FK_OK)
        printf("error %s: %s\n", fk_status_name(rc), fk_errmsg(ctx));
    else
        printf("ok %.6f %.6f %" PRId64 " %" PRId64 "\n", t2 - t1, t1 - t0, rows, bytes);
    fk_close(ctx);
    return rc == FK_OK ? 0 : 1;
}

/* Runs a worker (optionally under --worker-wrapper) on the database
 * conninfo names and reads its result. */
static int run_worker_at(bench *b, const char *name, const char *conninfo, const char *dir,
                         sample *s)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    char *wrap = b->wrapper ? strdup(b->wrapper) : NULL;
    for (char *tok = wrap ? strtok(wrap, " ") : NULL; tok && argc < MAX_ARGS - 10;
         tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc++] = b->self;
    argv[argc++] = (char *)"--worker";
    argv[argc++] = (char *)name;
    argv[argc++] = (char *)"--conninfo";
    argv[argc++] = (char *)conninfo;
    argv[argc++] = (char *)"--dir";
    argv[argc++] = (char *)(dir ? dir : "");
    argv[argc] = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        free(wrap);
        return fail("pipe: %s", strerror(errno));
    }
    double secs = 0;
    long rss = 0;
    double cpu_user = 0, cpu_sys = 0;
    int st = spawn(argv, fds[1], b->log, &secs, &rss, &cpu_user, &cpu_sys);
    char line[1024] = "";
    ssize_t got = read(fds[0], line, sizeof line - 1);
    close(fds[0]);
    line[got > 0 ? got : 0] = '\0';
    line[strcspn(line, "\n")] = '\0';
    free(wrap);
    double op_secs = 0, open_secs = 0;
    long long rows = 0, bytes = 0;
    if (st != 0 || sscanf(line, "ok %lf %lf %lld %lld", &op_secs, &open_secs, &rows, &bytes) != 4)
        return fail("%s: %s", name, line[0] ? line : log_tail(b));
    s->secs = secs;
    s->op_secs = op_secs;
    s->rows = (double)rows;
    s->bytes = (double)bytes;
    s->rss_kib = rss;
    s->cpu_user = cpu_user;
    s->cpu_sys = cpu_sys;
    return 0;
}

static int run_worker(bench *b, const char *name, const char *dir, sample *s)
{
    return run_worker_at(b, name, b->conninfo, dir, s);
}

/* ---------------------------------------------------------------- SQL */

static int exec_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fail("%.200s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* First column of the first row; malloc'd; NULL on error ("" for no row). */
static char *query1(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    char *v = NULL;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail("%.200s: %s", sql, PQerrorMessage(c));
    else
        v = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return v;
}

static long long query_ll(PGconn *c, const char *sql)
{
    char *v = query1(c, sql);
    long long n = v ? strtoll(v, NULL, 10) : -1;
    free(v);
    return n;
}

static char *quote_ident(PGconn *c, const char *s)
{
    char *q = PQescapeIdentifier(c, s, strlen(s));
    char *out = q ? strdup(q) : NULL;
    PQfreemem(q);
    return out;
}

/* The design and child tables, from the library's own view of the registry. */
static int load_tables(bench *b)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, b->conninfo, NULL) != FK_OK)
        return fail("fk_open: %s", fk_errmsg(NULL));
    char *desc = NULL;
    int rc = fk_registry_describe(&desc, ctx);
    if (rc != FK_OK) {
        fail("fk_registry_describe: %s", fk_errmsg(ctx));
        fk_close(ctx);
        return -1;
    }
    fk_close(ctx);
    cJSON *root = cJSON_Parse(desc);
    fk_free(desc);
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(root, "entities");
    const cJSON *e;
    size_t len = 0;
    b->ntables = 0;
    cJSON_ArrayForEach(e, ents) {
        for (int child = -1;; child++) {
            const cJSON *t = e;
            if (child >= 0) {
                t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "children"), child);
                if (!t)
                    break;
            }
            if (b->ntables == MAX_TABLES)
                break;
            const char *schema = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "schema"));
            const char *table = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "table"));
            char *qs = quote_ident(b->conn, schema ? schema : "");
            char *qt = quote_ident(b->conn, table ? table : "");
            char *q = malloc(strlen(qs) + strlen(qt) + 2);
            sprintf(q, "%s.%s", qs, qt);
            char *plain = malloc(strlen(schema ? schema : "") + strlen(table ? table : "") + 2);
            sprintf(plain, "%s.%s", schema ? schema : "", table ? table : "");
            free(qs);
            free(qt);
            int i = b->ntables++;
            b->tables[i] = q;
            b->table_names[i] = plain;
            b->is_entity[i] = child < 0;
            const char *sd = child < 0 ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                             t, "soft_delete_column"))
                                       : NULL;
            b->softdel[i] = sd ? quote_ident(b->conn, sd) : NULL;
            len += strlen(q) + 2;
        }
    }
    cJSON_Delete(root);
    if (b->ntables == 0)
        return fail("the registry names no tables");
    /* an override for when the guards of layer 1 are installed */
    b->truncate_sql = malloc(len + 256);
    /* the guard's override once installed (before, there is no fortknox schema) */
    strcpy(b->truncate_sql, "BEGIN; DO $t$ BEGIN IF to_regnamespace('fortknox') IS NOT NULL "
                            "THEN PERFORM fortknox.allow('truncate'); END IF; END $t$; TRUNCATE ");
    for (int i = 0; i < b->ntables; i++) {
        strcat(b->truncate_sql, b->tables[i]);
        strcat(b->truncate_sql, i + 1 < b->ntables ? ", " : "; COMMIT");
    }
    return 0;
}

static void free_tables(bench *b)
{
    for (int i = 0; i < b->ntables; i++) {
        free(b->tables[i]);
        free(b->table_names[i]);
        free(b->softdel[i]);
    }
    b->ntables = 0;
    free(b->truncate_sql);
    b->truncate_sql = NULL;
}

static int count_rows(bench *b, long long *counts)
{
    char sql[400];
    for (int i = 0; i < b->ntables; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", b->tables[i]);
        if ((counts[i] = query_ll(b->conn, sql)) < 0)
            return -1;
    }
    return 0;
}

/* After a restore: every table holds exactly what was generated. */
static int check_counts(bench *b, const char *what)
{
    long long now[MAX_TABLES];
    if (count_rows(b, now) != 0)
        return -1;
    for (int i = 0; i < b->ntables; i++)
        if (now[i] != b->ds->counts[i])
            return fail("after %s, %s holds %lld rows instead of %lld", what,
                        b->table_names[i], now[i], b->ds->counts[i]);
    return 0;
}

/* Empties the design tables and analyzes them, so every restore starts from
 * the same statistics ("empty") and no autoanalyze left pending by the
 * previous run fires inside the next one. (An ANALYZE that runs while an
 * import's transaction is filling a table records reltuples = 0 with
 * relpages > 0, and fk_import's plans then scan the whole table in every
 * batch: see docs/performance.md.) */
static int truncate_design(bench *b)
{
    if (exec_sql(b->conn, b->truncate_sql) != 0) {
        exec_sql(b->conn, "ROLLBACK");
        return -1;
    }
    size_t len = 16;
    for (int i = 0; i < b->ntables; i++)
        len += strlen(b->tables[i]) + 2;
    char *sql = malloc(len);
    strcpy(sql, "ANALYZE ");
    for (int i = 0; i < b->ntables; i++) {
        strcat(sql, b->tables[i]);
        if (i + 1 < b->ntables)
            strcat(sql, ", ");
    }
    int rc = exec_sql(b->conn, sql);
    free(sql);
    return rc;
}

static int vacuum(bench *b)
{
    size_t len = 64;
    for (int i = 0; i < b->ntables; i++)
        len += strlen(b->tables[i]) + 2;
    char *sql = malloc(len);
    strcpy(sql, "VACUUM (FREEZE, ANALYZE) ");
    for (int i = 0; i < b->ntables; i++) {
        strcat(sql, b->tables[i]);
        if (i + 1 < b->ntables)
            strcat(sql, ", ");
    }
    int rc = exec_sql(b->conn, sql);
    free(sql);
    /* a settled server: no checkpoint or dirty page of ours lands in a run */
    PQclear(PQexec(b->conn, "CHECKPOINT"));
    sync();
    return rc;
}

/* -------------------------------------------------------- the dataset */

static int generate(bench *b)
{
    double t0 = now_s();
    if (truncate_design(b) != 0)
        return -1;
    char n[32];
    snprintf(n, sizeof n, "%zu", b->n);
    const char *p[1] = {n};
    PGresult *r = PQexecParams(b->conn, "SELECT set_config('fkbench.n', $1, false)", 1, NULL, p,
                               NULL, NULL, 0);
    PQclear(r);
    if (exec_sql(b->conn, fkb_generate_sql) != 0)
        return -1;
    if (vacuum(b) != 0)
        return -1;
    dataset *d = b->ds;
    d->generate_secs = now_s() - t0;
    if (count_rows(b, d->counts) != 0)
        return -1;
    long long entities = 0;
    for (int i = 0; i < b->ntables; i++) {
        if (!b->is_entity[i])
            continue;
        entities += d->counts[i];
        if (b->softdel[i]) {
            char sql[400];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s IS NOT NULL",
                     b->tables[i], b->softdel[i]);
            d->soft_deleted += query_ll(b->conn, sql);
        }
    }
    if (entities != (long long)b->n)
        return fail("the generator made %lld entities instead of %zu", entities, b->n);
    b->cohorts = query_ll(b->conn, "SELECT count(*) FROM app.cohort_definitions");
    char *v = query1(b->conn, "SELECT coalesce(min(l), 0) || ' ' || coalesce(round(avg(l)), 0) "
                              "|| ' ' || coalesce(max(l), 0) FROM (SELECT "
                              "octet_length(expression_json::text) AS l FROM "
                              "app.cohort_definitions) x");
    if (v)
        sscanf(v, "%lld %lld %lld", &d->expr_min, &d->expr_avg, &d->expr_max);
    free(v);
    d->db_bytes = query_ll(b->conn, "SELECT pg_database_size(current_database())");
    return 0;
}

/* ----------------------------------------------------- pg_dump / restore */

static int dump(bench *b, int custom, sample *s)
{
    const char *path = custom ? b->dump_custom : b->dump_plain;
    char pg_dump[PATH_MAX + 16], file[PATH_MAX + 48], db[4096];
    snprintf(pg_dump, sizeof pg_dump, "%s%spg_dump", b->bindir, b->bindir[0] ? "/" : "");
    snprintf(file, sizeof file, "--file=%s", path);
    snprintf(db, sizeof db, "--dbname=%s", b->conninfo);
    char *argv[MAX_ARGS];
    int argc = 0;
    argv[argc++] = pg_dump;
    argv[argc++] = (char *)"--data-only";
    if (custom) {
        argv[argc++] = (char *)"--format=custom";
        argv[argc++] = (char *)"--compress=0";
    }
    argv[argc++] = file;
    argv[argc++] = db;
    for (int i = 0; i < b->ntables && argc < MAX_ARGS - 2; i++) {
        argv[argc++] = (char *)"-t";
        argv[argc++] = b->tables[i]; /* a quoted pattern matches literally */
    }
    argv[argc] = NULL;
    unlink(path);
    if (run_tool(b, argv, s) != 0)
        return -1;
    /* pg_dump syncs its file itself (unless --no-sync); once more to be sure */
    double t0 = now_s();
    if (fsync_path(path) != 0)
        return -1;
    s->secs += now_s() - t0;
    s->rows = (double)b->n;
    s->bytes = (double)file_size(path);
    return 0;
}

static int run_dump_plain(bench *b, sample *s) { return dump(b, 0, s); }
static int run_dump_custom(bench *b, sample *s) { return dump(b, 1, s); }

static int done_dump_plain(bench *b, sample *s)
{
    (void)s;
    b->ds->dump_plain_bytes = file_size(b->dump_plain);
    return 0;
}

static int done_dump_custom(bench *b, sample *s)
{
    (void)s;
    b->ds->dump_custom_bytes = file_size(b->dump_custom);
    return 0;
}

static int restore(bench *b, int custom, sample *s)
{
    char tool[PATH_MAX + 16], db[4096];
    snprintf(db, sizeof db, "--dbname=%s", b->conninfo);
    char *argv[16];
    int argc = 0;
    if (custom) {
        snprintf(tool, sizeof tool, "%s%spg_restore", b->bindir, b->bindir[0] ? "/" : "");
        argv[argc++] = tool;
        argv[argc++] = (char *)"--exit-on-error";
        argv[argc++] = (char *)"--single-transaction";
        argv[argc++] = db;
        argv[argc++] = b->dump_custom;
    } else {
        snprintf(tool, sizeof tool, "%s%spsql", b->bindir, b->bindir[0] ? "/" : "");
        argv[argc++] = tool;
        argv[argc++] = (char *)"-X";
        argv[argc++] = (char *)"-q";
        argv[argc++] = (char *)"-v";
        argv[argc++] = (char *)"ON_ERROR_STOP=1";
        argv[argc++] = (char *)"--single-transaction";
        argv[argc++] = db;
        argv[argc++] = (char *)"-f";
        argv[argc++] = b->dump_plain;
    }
    argv[argc] = NULL;
    if (run_tool(b, argv, s) != 0)
        return -1;
    s->rows = (double)b->n;
    return 0;
}

/* Restores need a dump; one is made (untimed) when its op did not run. */
static int prepare_restore(bench *b, int custom)
{
    const char *path = custom ? b->dump_custom : b->dump_plain;
    sample s;
    if (access(path, R_OK) != 0 && dump(b, custom, &s) != 0)
        return -1;
    return truncate_design(b);
}

static int prepare_restore_plain(bench *b, sample *s)
{
    (void)s;
    return prepare_restore(b, 0);
}

static int prepare_restore_custom(bench *b, sample *s)
{
    (void)s;
    return prepare_restore(b, 1);
}

static int run_restore_plain(bench *b, sample *s) { return restore(b, 0, s); }
static int run_restore_custom(bench *b, sample *s) { return restore(b, 1, s); }

static int done_restore(bench *b, sample *s)
{
    (void)s;
    return check_counts(b, "the dump restore");
}

/* ----------------------------------------------------- export / import */

static int prepare_export(bench *b, sample *s)
{
    (void)s;
    snprintf(b->scratch, sizeof b->scratch, "%s/export-%zu-%d", b->work, b->n, b->run);
    fkh_rm_rf(b->scratch);
    return 0;
}

static int run_export(bench *b, sample *s)
{
    if (run_worker(b, "export", b->scratch, s) != 0)
        return -1;
    if (s->rows != (double)b->n)
        return fail("export wrote %.0f entities instead of %zu", s->rows, b->n);
    /* The newest export feeds the import. None is deleted before the end:
     * on ext4 without a journal, every file created soon after many were
     * deleted pays a scan of the recently freed inodes (docs/performance.md). */
    snprintf(b->fixtures, sizeof b->fixtures, "%s", b->scratch);
    return 0;
}

static int done_export(bench *b, sample *s)
{
    (void)s;
    tree_size(b->fixtures, &b->ds->fixture_files, &b->ds->fixture_bytes);
    return 0;
}

/* Operations reading fixtures need an export; one is made (untimed) when the
 * export op did not run. */
static int need_fixtures(bench *b)
{
    if (b->fixtures[0])
        return 0;
    int saved = b->run;
    b->run = 0;
    sample s;
    int rc = prepare_export(b, &s);
    if (rc == 0)
        rc = run_export(b, &s);
    b->run = saved;
    return rc;
}

static int prepare_import(bench *b, sample *s)
{
    (void)s;
    if (need_fixtures(b) != 0)
        return -1;
    return truncate_design(b);
}

static int run_import(bench *b, sample *s)
{
    if (run_worker(b, "import", b->fixtures, s) != 0)
        return -1;
    if (s->rows != (double)b->n)
        return fail("import read %.0f entities instead of %zu", s->rows, b->n);
    return 0;
}

static int done_import(bench *b, sample *s)
{
    (void)s;
    if (check_counts(b, "fk_import") != 0)
        return -1;
    return vacuum(b); /* what follows sees settled tables */
}

static int prepare_fixtures(bench *b, sample *s)
{
    (void)s;
    return need_fixtures(b);
}

#ifdef FK_HAVE_VERIFY
static int run_verify(bench *b, sample *s) { return run_worker(b, "verify", b->fixtures, s); }

static int run_doctor(bench *b, sample *s) { return run_worker(b, "doctor", b->fixtures, s); }
#endif

#ifdef FK_HAVE_DRILL
static int run_drill(bench *b, sample *s) { return run_worker(b, "drill", b->fixtures, s); }
#endif

/* --------------------------------------------------------- UPDATE loop */

/* The application's edit of one design row at a time (autocommit), on
 * cohort_definitions of conn (ids 1..rows): the widest rows (2-20 KB
 * expression_json) of the data set, or the capture series' own. */
static int update_rows_of(bench *b, PGconn *conn, long long rows, sample *s)
{
    long long m = b->update_rows;
    if (rows <= 0)
        return fail("no cohort definitions to update");
    double t0 = now_s();
    for (long long i = 0; i < m; i++) {
        char id[24], desc[64];
        snprintf(id, sizeof id, "%lld", 1 + (i * 7919) % rows);
        snprintf(desc, sizeof desc, "benchmark edit %d.%lld", b->run, i);
        const char *p[2] = {desc, id};
        PGresult *r = PQexecParams(conn,
                                   "UPDATE app.cohort_definitions SET description = $1, "
                                   "updated_at = date_trunc('second', now() AT TIME ZONE 'UTC') "
                                   "WHERE id = $2::bigint",
                                   2, NULL, p, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok)
            return fail("UPDATE: %s", PQerrorMessage(conn));
    }
    s->secs = now_s() - t0;
    s->rows = (double)m;
    return 0;
}

static int update_loop(bench *b, sample *s) { return update_rows_of(b, b->conn, b->cohorts, s); }

/* ------------------------------------------------------------- audit */

static int audit_open(bench *b, fk_audit_mode mode)
{
    if (!b->actx && fk_open(&b->actx, b->conninfo, NULL) != FK_OK)
        return fail("fk_open: %s", fk_errmsg(NULL));
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = mode;
    if (fk_install(NULL, b->actx, &o) != FK_OK)
        return fail("fk_install: %s", fk_errmsg(b->actx));
    return 0;
}

/* App-level audit: the event an ORM hook sends after saving a cohort
 * definition of median size -- old and new state, the description changed. */
static int once_audit_app(bench *b, sample *s)
{
    (void)s;
    if (audit_open(b, FK_AUDIT_APP) != 0)
        return -1;
    /* every time: the 1 KB series replaces them */
    free(b->event_old);
    free(b->event_new);
    {
        b->event_old = query1(b->conn, "SELECT to_jsonb(t) - 'share_token' FROM "
                                       "app.cohort_definitions t ORDER BY "
                                       "octet_length(t.expression_json::text), t.id OFFSET "
                                       "(SELECT count(*) / 2 FROM app.cohort_definitions) LIMIT 1");
        b->event_new = query1(b->conn, "SELECT jsonb_set(to_jsonb(t) - 'share_token', "
                                       "'{description}', '\"edited by the benchmark\"') FROM "
                                       "app.cohort_definitions t ORDER BY "
                                       "octet_length(t.expression_json::text), t.id OFFSET "
                                       "(SELECT count(*) / 2 FROM app.cohort_definitions) LIMIT 1");
        if (!b->event_old || !b->event_new || !b->event_old[0])
            return fail("no cohort definition for the audit event");
    }
    return 0;
}

static int audit_writes(bench *b, sample *s, int batched)
{
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "cohort_definition";
    ev.action = "updated";
    ev.actor_id = 117;
    ev.actor_email = "elena.marsh@example.org";
    ev.ip_address = "10.0.0.7";
    ev.old_json = b->event_old;
    ev.new_json = b->event_new;
    long long m = b->audit_rows;
    double t0 = now_s();
    if (batched) { /* fk_audit_write_many: 100 events per call, one round trip each */
        enum { CHUNK = 100 };
        fk_audit_event evs[CHUNK];
        for (long long i = 0; i < m; i += CHUNK) {
            size_t k = 0;
            for (; k < CHUNK && i + (long long)k < m; k++) {
                evs[k] = ev;
                evs[k].entity_id = 1 + ((i + (long long)k) * 7919) % (b->cohorts > 0 ? b->cohorts : 1);
            }
            if (fk_audit_write_many(NULL, b->actx, evs, k) != FK_OK)
                return fail("fk_audit_write_many: %s", fk_errmsg(b->actx));
        }
        s->secs = now_s() - t0;
        s->rows = (double)m;
        s->bytes = (double)m * (double)(strlen(b->event_old) + strlen(b->event_new));
        return 0;
    }
    for (long long i = 0; i < m; i++) { /* one call, one row, one transaction each */
        ev.entity_id = 1 + (i * 7919) % (b->cohorts > 0 ? b->cohorts : 1);
        if (fk_audit_write(NULL, b->actx, &ev) != FK_OK)
            return fail("fk_audit_write: %s", fk_errmsg(b->actx));
    }
    s->secs = now_s() - t0;
    s->rows = (double)m;
    s->bytes = (double)m * (double)(strlen(b->event_old) + strlen(b->event_new));
    return 0;
}

/* The 1 KB series (issue 17: the target is stated for 1 KB documents): the
 * same events with a document of about 1 KB in place of the cohort's. */
static int once_audit_app_1k(bench *b, sample *s)
{
    if (once_audit_app(b, s) != 0)
        return -1;
    free(b->event_old);
    free(b->event_new);
    b->event_old = query1(b->conn, "SELECT jsonb_build_object('id', 1001, 'name', 'benchmark "
                                   "cohort', 'description', 'before', 'pad', repeat('x', 960))");
    b->event_new = query1(b->conn, "SELECT jsonb_build_object('id', 1001, 'name', 'benchmark "
                                   "cohort', 'description', 'after', 'pad', repeat('x', 960))");
    return b->event_old && b->event_new ? 0 : fail("no 1 KB audit event");
}

static int run_audit_single(bench *b, sample *s) { return audit_writes(b, s, 0); }
static int run_audit_batched(bench *b, sample *s) { return audit_writes(b, s, 1); }

static int once_capture(bench *b, sample *s)
{
    (void)s;
    return audit_open(b, FK_AUDIT_CAPTURE);
}

/* The chain to verify: what the audit measurements before it wrote; when
 * none of them ran, capture is installed and one UPDATE loop fills it. */
static int once_audit_verify(bench *b, sample *s)
{
    if (b->actx)
        return 0;
    if (audit_open(b, FK_AUDIT_CAPTURE) != 0)
        return -1;
    return update_loop(b, s);
}

static int run_audit_verify(bench *b, sample *s)
{
    if (run_worker(b, "audit_verify", NULL, s) != 0)
        return -1;
    char *v = query1(b->conn, "SELECT coalesce(sum(octet_length(old_json::text) + "
                              "coalesce(octet_length(new_json::text), 0)), 0) FROM "
                              "fortknox.audit_log");
    s->bytes = v ? strtod(v, NULL) : 0;
    free(v);
    return 0;
}

/* ------------------------------------------------- incremental export */

/* Re-export into the newest complete export: nothing changed since. */
static int run_export_again(bench *b, sample *s)
{
    if (run_worker(b, "export", b->fixtures, s) != 0)
        return -1;
    if (s->rows != (double)b->n)
        return fail("export counted %.0f entities instead of %zu", s->rows, b->n);
    return 0;
}

/* ... after 10 cohort definitions were edited (raw SQL, as any client). */
static int prepare_export_10(bench *b, sample *s)
{
    (void)s;
    if (need_fixtures(b) != 0)
        return -1;
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE app.cohort_definitions SET description = 'incremental %d ' || id "
             "WHERE id IN (SELECT id FROM app.cohort_definitions ORDER BY id LIMIT 10)",
             b->run);
    return exec_sql(b->conn, sql);
}

static int run_export_full_again(bench *b, sample *s)
{
    if (run_worker(b, "export_full", b->fixtures, s) != 0)
        return -1;
    if (s->rows != (double)b->n)
        return fail("export counted %.0f entities instead of %zu", s->rows, b->n);
    return 0;
}

/* ------------------------------------------ export with a neighbour writing */

/* Another process on the same file system writing ~100 MiB/s of buffered
 * data (as a database server does): syncfs() flushes its dirty pages too,
 * fdatasync() of our own files does not. */
static int prepare_export_neighbour(bench *b, sample *s)
{
    if (prepare_export(b, s) != 0)
        return -1;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/neighbour.dat", b->work);
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        static char chunk[1 << 20];
        memset(chunk, 'n', sizeof chunk);
        struct timespec pause = {0, 10 * 1000 * 1000};
        for (long i = 0; fd >= 0; i++) {
            if (write(fd, chunk, sizeof chunk) < 0)
                _exit(1);
            if (i % 256 == 255 && (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0))
                _exit(1);
            nanosleep(&pause, NULL);
        }
        _exit(1);
    }
    b->neighbour = pid;
    struct timespec warm = {0, 300 * 1000 * 1000}; /* dirty pages pile up first */
    nanosleep(&warm, NULL);
    return 0;
}

static void stop_neighbour(bench *b)
{
    if (b->neighbour <= 0)
        return;
    kill(b->neighbour, SIGKILL);
    waitpid(b->neighbour, NULL, 0);
    b->neighbour = 0;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/neighbour.dat", b->work);
    unlink(path);
}

static int run_export_neighbour(bench *b, sample *s)
{
    int rc = run_export(b, s);
    stop_neighbour(b);
    return rc;
}

/* ------------------------------------------------------- capture cost */

/* The capture series' table: CAP_ROWS rows of about b->cap_row_bytes. */
#define CAP_ROWS 1000

static void cap_close(bench *b)
{
    fk_close(b->cap_ctx);
    b->cap_ctx = NULL;
    char *db = b->cap_conn ? strdup(PQdb(b->cap_conn)) : NULL;
    PQfinish(b->cap_conn);
    b->cap_conn = NULL;
    if (db && b->pg && !b->keep) {
        char sql[300];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db);
        fkt_pg_exec(fkt_pg_conninfo(b->pg), sql);
    }
    free(db);
    free(b->cap_conninfo);
    b->cap_conninfo = NULL;
    b->cap_row_bytes = 0;
}

/* A fresh database whose cohort_definitions hold CAP_ROWS rows of about
 * row_bytes (a Parthenon-like entity row: name, description, timestamps,
 * a JSON expression), no triggers. */
static int cap_db(bench *b, int row_bytes)
{
    cap_close(b);
    b->cap_conninfo = fkt_pg_new_db(b->pg, fkt_schema_and_seed);
    if (!b->cap_conninfo)
        return fail("cannot create the capture-cost database");
    b->cap_conn = PQconnectdb(b->cap_conninfo);
    if (PQstatus(b->cap_conn) != CONNECTION_OK)
        return fail("connect: %s", PQerrorMessage(b->cap_conn));
    PQclear(PQexec(b->cap_conn, "SET client_min_messages = warning"));
    char sql[1200];
    snprintf(sql, sizeof sql,
             "TRUNCATE app.cohort_definitions CASCADE; "
             "INSERT INTO app.cohort_definitions (id, name, description, expression_json, "
             "author_id, created_at, updated_at) SELECT g, 'benchmark cohort ' || g, "
             "'a cohort definition of the capture-cost series', "
             "jsonb_build_object('ConceptSets', '[]'::jsonb, 'pad', repeat('x', %d)), "
             "(SELECT min(id) FROM app.users), now(), now() FROM generate_series(1, %d) g",
             row_bytes > 260 ? row_bytes - 260 : 1, CAP_ROWS);
    if (exec_sql(b->cap_conn, sql) != 0 ||
        exec_sql(b->cap_conn, "VACUUM ANALYZE app.cohort_definitions") != 0)
        return -1;
    long long avg = query_ll(b->cap_conn, "SELECT avg(pg_column_size(t.*))::bigint FROM "
                                          "app.cohort_definitions t");
    note("capture series: %d rows of %lld bytes (pg_column_size)", CAP_ROWS, avg);
    b->cap_row_bytes = row_bytes;
    return 0;
}

static int cap_loop(bench *b, sample *s) { return update_rows_of(b, b->cap_conn, CAP_ROWS, s); }

/* The peer: one AFTER ... FOR EACH ROW trigger writing to_jsonb(OLD) and
 * to_jsonb(NEW) into an audit table, as supa_audit does (no chain, no actor,
 * no changed fields). */
#define PEER_ON                                                                                   \
    "CREATE TABLE public.peer_audit (id bigserial PRIMARY KEY, ts timestamptz NOT NULL "          \
    "DEFAULT now(), old_record jsonb, record jsonb); "                                            \
    "CREATE FUNCTION public.peer_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $p$ BEGIN "       \
    "INSERT INTO public.peer_audit (old_record, record) SELECT to_jsonb(OLD), to_jsonb(NEW); "    \
    "RETURN NULL; END $p$; "                                                                      \
    "CREATE TRIGGER peer_audit AFTER INSERT OR UPDATE OR DELETE ON app.cohort_definitions "       \
    "FOR EACH ROW EXECUTE FUNCTION public.peer_audit_fn()"
#define PEER_OFF                                                                                  \
    "DROP TRIGGER IF EXISTS peer_audit ON app.cohort_definitions; "                               \
    "DROP FUNCTION IF EXISTS public.peer_audit_fn(); DROP TABLE IF EXISTS public.peer_audit"

/* The series' states, each reached from a fresh database of the row size. */
static int cap_state(bench *b, int row_bytes, int state)
{
    if (cap_db(b, row_bytes) != 0)
        return -1;
    if (state == 1)
        return exec_sql(b->cap_conn, PEER_ON);
    if (state == 2) {
        if (fk_open(&b->cap_ctx, b->cap_conninfo, NULL) != FK_OK)
            return fail("fk_open: %s", fk_errmsg(NULL));
        fk_install_options o;
        fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
        o.mode = FK_AUDIT_CAPTURE; /* whatever `fortknox install --mode capture` installs */
        if (fk_install(NULL, b->cap_ctx, &o) != FK_OK)
            return fail("fk_install: %s", fk_errmsg(b->cap_ctx));
    }
    return 0;
}

#define CAP_ONCE(bytes, state, fn)                                                                \
    static int fn(bench *b, sample *s)                                                            \
    {                                                                                             \
        (void)s;                                                                                  \
        return cap_state(b, bytes, state);                                                        \
    }
CAP_ONCE(500, 0, once_cap500_bare)
CAP_ONCE(500, 1, once_cap500_peer)
CAP_ONCE(500, 2, once_cap500_fk)
CAP_ONCE(1000, 0, once_cap1k_bare)
CAP_ONCE(1000, 1, once_cap1k_peer)
CAP_ONCE(1000, 2, once_cap1k_fk)

/* The chain of 1 KB documents (issue 17): the capture database of 1 KB rows,
 * every row updated until the log holds one audit row per entity of the
 * size (old and new document of about 1 KB each). */
static int once_audit_verify_1k(bench *b, sample *s)
{
    (void)s;
    if (cap_state(b, 1000, 2) != 0)
        return -1;
    for (long long done = 0; done < (long long)b->n; done += CAP_ROWS) {
        char sql[200];
        snprintf(sql, sizeof sql, "UPDATE app.cohort_definitions SET description = "
                                  "'benchmark edit %lld' WHERE id <= %lld",
                 done, (long long)b->n - done);
        if (exec_sql(b->cap_conn, sql) != 0)
            return -1;
    }
    return 0;
}

static int run_audit_verify_1k(bench *b, sample *s)
{
    if (run_worker_at(b, "audit_verify", b->cap_conninfo, NULL, s) != 0)
        return -1;
    s->bytes = (double)query_ll(b->cap_conn, "SELECT coalesce(sum(octet_length(old_json::text) "
                                             "+ coalesce(octet_length(new_json::text), 0)), 0) "
                                             "FROM fortknox.audit_log");
    return 0;
}

/* The fortknox state measured again, for its ratio to the bare loop (the
 * table prints one baseline per row). */
static int once_cap_again(bench *b, sample *s)
{
    (void)s;
    return b->cap_ctx ? 0 : fail("run the row before (capture installed) first");
}

/* Sealing what capture wrote: untimed UPDATEs leave unsealed audit rows,
 * then fk_audit_seal() hashes them into the chain (the work the writer no
 * longer does; docs/audit.md, "Sealing"). The first run also seals what the
 * rows before it left. */
static int prepare_cap_seal(bench *b, sample *s)
{
    sample untimed = *s;
    return cap_loop(b, &untimed);
}

static int run_cap_seal(bench *b, sample *s)
{
    uint64_t n = 0;
    double t0 = now_s();
    if (fk_audit_seal(&n, b->cap_ctx) != FK_OK)
        return fail("fk_audit_seal: %s", fk_errmsg(b->cap_ctx));
    s->secs = now_s() - t0;
    s->rows = (double)n;
    return 0;
}

/* ------------------------------------------------------- the measurements */

static const op ops[] = {
    {.name = "pg_dump", .label = "pg_dump --data-only (plain)", .run = run_dump_plain,
     .done = done_dump_plain},
    {.name = "pg_dump_custom", .label = "pg_dump --data-only -Fc -Z0", .run = run_dump_custom,
     .done = done_dump_custom},
    {.name = "export", .label = "fk_export (durable files)", .prepare = prepare_export,
     .run = run_export, .done = done_export, .baseline = "pg_dump|pg_dump_custom",
     .target = T_RATIO_MAX, .limit = 2.0, .memory = 1},
    {.name = "export_again", .label = "fk_export, nothing changed", .prepare = prepare_fixtures,
     .run = run_export_again, .baseline = "export", .target = T_RATIO_MAX, .limit = 0.05},
    {.name = "export_10", .label = "fk_export, 10 cohorts changed", .prepare = prepare_export_10,
     .run = run_export_again, .baseline = "export", .target = T_RATIO_MAX, .limit = 0.05},
    {.name = "export_full_again", .label = "fk_export --full, nothing changed",
     .prepare = prepare_fixtures, .run = run_export_full_again, .baseline = "export"},
    {.name = "export_neighbour", .label = "fk_export, a neighbour writing",
     .prepare = prepare_export_neighbour, .run = run_export_neighbour, .baseline = "export"},
    {.name = "restore_psql", .label = "psql -f dump (1 txn)", .prepare = prepare_restore_plain,
     .run = run_restore_plain, .done = done_restore},
    {.name = "restore_pg_restore", .label = "pg_restore -1 (custom dump)",
     .prepare = prepare_restore_custom, .run = run_restore_custom, .done = done_restore},
    {.name = "import", .label = "fk_import (empty tables)", .prepare = prepare_import,
     .run = run_import, .done = done_import, .baseline = "restore_psql|restore_pg_restore",
     .target = T_RATIO_MAX, .limit = 1.5, .memory = 1},
    {.name = "verify", .label = "fk_verify", .prepare = prepare_fixtures,
#ifdef FK_HAVE_VERIFY
     .run = run_verify, .available = have_verify,
#endif
     .missing = "fk_verify is not in this libfortknox", .baseline = "export", .target = T_RATIO_MAX,
     .limit = 0.5},
    {.name = "doctor", .label = "fk_doctor --fixtures", .prepare = prepare_fixtures,
     .run = run_doctor, .baseline = "export", .target = T_RATIO_MAX, .limit = 0.5},
    {.name = "drill", .label = "fk_drill", .prepare = prepare_fixtures,
#ifdef FK_HAVE_DRILL
     .run = run_drill, .available = have_drill,
#endif
     .missing = "fk_drill is not in this libfortknox", .baseline = "import"},
    {.name = "update_bare", .label = "UPDATE loop, no triggers", .run = update_loop},
    {.name = "audit_single", .label = "fk_audit_write, autocommit", .once = once_audit_app,
     .run = run_audit_single},
    /* issue 17: ">= 10,000 rows/s with 1 KB documents; state MiB/s for 11 KB" */
    {.name = "audit_batched", .label = "fk_audit_write_many, 100/call, 11 KB", .once = once_audit_app,
     .run = run_audit_batched},
    {.name = "audit_batched_1k", .label = "fk_audit_write_many, 100/call, 1 KB",
     .once = once_audit_app_1k, .run = run_audit_batched, .target = T_RATE_MIN, .limit = 10000},
    {.name = "update_capture", .label = "UPDATE loop, capture triggers", .once = once_capture,
     .run = update_loop, .baseline = "update_bare", .target = T_RATIO_MAX, .limit = 1.5},
    /* issue 17: ">= 100,000 rows/s for 1 KB documents; >= 400 MiB/s for large
     * ones": this chain's documents are the ~11 KB cohort definitions */
    {.name = "audit_verify", .label = "fk_audit_verify (chain), 11 KB", .once = once_audit_verify,
     .run = run_audit_verify, .target = T_MIBS_MIN, .limit = 400},
    {.name = "audit_verify_1k", .label = "fk_audit_verify, 1 KB documents",
     .once = once_audit_verify_1k, .run = run_audit_verify_1k, .target = T_RATE_MIN,
     .limit = 100000},
    /* capture cost (issue 16 item 7): the same loop, ~500-byte and 1 KB rows */
    {.name = "cap500_bare", .label = "UPDATE 500 B rows, no trigger", .once = once_cap500_bare,
     .run = cap_loop},
    {.name = "cap500_peer", .label = "UPDATE 500 B rows, peer trigger", .once = once_cap500_peer,
     .run = cap_loop},
    {.name = "cap500_fk", .label = "UPDATE 500 B rows, fortknox capture", .once = once_cap500_fk,
     .run = cap_loop, .baseline = "cap500_peer", .target = T_RATIO_MAX, .limit = 1.3},
    {.name = "cap500_fk_bare", .label = "  the same, against no trigger", .once = once_cap_again,
     .run = cap_loop, .baseline = "cap500_bare"},
    {.name = "cap500_seal", .label = "  sealing those audit rows", .once = once_cap_again,
     .prepare = prepare_cap_seal, .run = run_cap_seal},
    {.name = "cap1k_bare", .label = "UPDATE 1 KB rows, no trigger", .once = once_cap1k_bare,
     .run = cap_loop},
    {.name = "cap1k_peer", .label = "UPDATE 1 KB rows, peer trigger", .once = once_cap1k_peer,
     .run = cap_loop},
    {.name = "cap1k_fk", .label = "UPDATE 1 KB rows, fortknox capture", .once = once_cap1k_fk,
     .run = cap_loop, .baseline = "cap1k_peer", .target = T_RATIO_MAX, .limit = 1.3},
    {.name = "cap1k_fk_bare", .label = "  the same, against no trigger", .once = once_cap_again,
     .run = cap_loop, .baseline = "cap1k_bare"},
    {.name = "cap1k_seal", .label = "  sealing those audit rows", .once = once_cap_again,
     .prepare = prepare_cap_seal, .run = run_cap_seal},
};
#define NOPS (sizeof ops / sizeof ops[0])

static int op_index(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPS; i++)
        if (strlen(ops[i].name) == len && strncmp(ops[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static int selected(const bench *b, const op *o)
{
    if (!b->only)
        return 1;
    size_t len = strlen(o->name);
    for (const char *p = b->only; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, o->name, n) == 0)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

static result *res_at(bench *b, int si, size_t oi) { return &b->res[(size_t)si * NOPS + oi]; }

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

static double median_of(const sample *runs, int n, size_t offset)
{
    double v[MAX_RUNS];
    for (int i = 0; i < n; i++)
        v[i] = *(const double *)((const char *)&runs[i] + offset);
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summarise(result *r)
{
    r->median = median_of(r->runs, r->nruns, offsetof(sample, secs));
    r->median_op = median_of(r->runs, r->nruns, offsetof(sample, op_secs));
    r->rows = median_of(r->runs, r->nruns, offsetof(sample, rows));
    r->bytes = median_of(r->runs, r->nruns, offsetof(sample, bytes));
    r->cpu_user = median_of(r->runs, r->nruns, offsetof(sample, cpu_user));
    r->cpu_sys = median_of(r->runs, r->nruns, offsetof(sample, cpu_sys));
    r->rate = r->median > 0 ? r->rows / r->median : 0;
    r->rss_kib = 0;
    for (int i = 0; i < r->nruns; i++)
        if (r->runs[i].rss_kib > r->rss_kib)
            r->rss_kib = r->runs[i].rss_kib;
}

static void measure(bench *b, size_t oi)
{
    const op *o = &ops[oi];
    result *r = res_at(b, b->si, oi);
    if (!selected(b, o) || interrupted)
        return;
    if (!o->run || (o->available && !o->available())) {
        r->state = ST_NOT_BUILT;
        note("N=%zu %s: not measured (%s)", b->n, o->name, o->missing);
        return;
    }
    sample s;
    memset(&s, 0, sizeof s);
    b->run = 0;
    if (o->once && o->once(b, &s) != 0)
        goto error;
    for (b->run = 1; b->run <= b->runs && !interrupted; b->run++) {
        memset(&s, 0, sizeof s);
        if (o->prepare && o->prepare(b, &s) != 0)
            goto error;
        memset(&s, 0, sizeof s);
        sync(); /* nothing dirty from the set-up is flushed inside the run */
        if (o->run(b, &s) != 0)
            goto error;
        r->runs[r->nruns++] = s;
        note("N=%zu %s run %d/%d: %.3f s, %.0f rows, peak RSS %.1f MiB", b->n, o->name, b->run,
             b->runs, s.secs, s.rows, (double)s.rss_kib / 1024.0);
    }
    if (o->done && o->done(b, &s) != 0)
        goto error;
    if (!interrupted) {
        r->state = ST_OK;
        summarise(r);
    }
    return;
error:
    r->state = ST_ERROR;
    snprintf(r->error, sizeof r->error, "%.390s", errbuf);
    b->errors++;
    note("N=%zu %s FAILED: %s", b->n, o->name, errbuf);
}

/* ------------------------------------------------------------- one size */

static void close_size(bench *b)
{
    stop_neighbour(b);
    cap_close(b);
    fk_close(b->actx);
    b->actx = NULL;
    free(b->event_old);
    free(b->event_new);
    b->event_old = b->event_new = NULL;
    char *db = b->conn ? strdup(PQdb(b->conn)) : NULL;
    PQfinish(b->conn);
    b->conn = NULL;
    free_tables(b);
    /* Files stay until the end (see run_export); the database goes now. */
    if (!b->keep) {
        if (db && b->pg) {
            char sql[300];
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db);
            fkt_pg_exec(fkt_pg_conninfo(b->pg), sql);
        }
    }
    free(db);
    b->fixtures[0] = '\0';
    free(b->conninfo);
    b->conninfo = NULL;
}

static void bench_size(bench *b)
{
    b->n = b->sizes[b->si];
    b->ds = &b->sets[b->si];
    memset(b->ds, 0, sizeof *b->ds);
    b->ds->n = b->n;
    b->fixtures[0] = '\0';
    snprintf(b->dump_plain, sizeof b->dump_plain, "%s/dump-%zu.sql", b->work, b->n);
    snprintf(b->dump_custom, sizeof b->dump_custom, "%s/dump-%zu.custom", b->work, b->n);
    note("N=%zu: creating the database and generating the data", b->n);
    b->conninfo = fkt_pg_new_db(b->pg, fkt_schema_and_seed);
    if (!b->conninfo) {
        fail("cannot create a database with the Parthenon schema");
        goto error;
    }
    b->conn = PQconnectdb(b->conninfo);
    if (PQstatus(b->conn) != CONNECTION_OK) {
        fail("connect: %s", PQerrorMessage(b->conn));
        goto error;
    }
    PQclear(PQexec(b->conn, "SET client_min_messages = warning"));
    if (load_tables(b) != 0 || generate(b) != 0)
        goto error;
    note("N=%zu: generated in %.1f s; database %.1f MiB", b->n, b->ds->generate_secs,
         (double)b->ds->db_bytes / MIB);
    for (size_t oi = 0; oi < NOPS && !interrupted; oi++)
        measure(b, oi);
    close_size(b);
    return;
error:
    note("N=%zu: cannot prepare the data: %s", b->n, errbuf);
    b->errors++;
    for (size_t oi = 0; oi < NOPS; oi++)
        if (selected(b, &ops[oi])) {
            result *r = res_at(b, b->si, oi);
            r->state = ST_ERROR;
            snprintf(r->error, sizeof r->error, "no data: %.380s", errbuf);
        }
    close_size(b);
}

/* ------------------------------------------------------------ verdicts */

typedef struct verdict {
    const result *base; /* NULL: no ratio */
    const char *base_name;
    double ratio;
    char target[80];
    const char *status; /* PASS, GAP, n/a, ERROR, or "" (no target) */
    /* memory */
    char mem_target[80];
    const char *mem_status;
} verdict;

static void judge(bench *b, int si, size_t oi, verdict *v)
{
    const op *o = &ops[oi];
    const result *r = res_at(b, si, oi);
    memset(v, 0, sizeof *v);
    v->status = "";
    v->mem_status = "";
    if (o->baseline) { /* the fastest of the alternatives that ran */
        const char *p = o->baseline;
        while (*p) {
            size_t n = strcspn(p, "|");
            int bi = op_index(p, n);
            const result *c = bi >= 0 ? res_at(b, si, (size_t)bi) : NULL;
            if (c && c->state == ST_OK && (!v->base || c->median < v->base->median)) {
                v->base = c;
                v->base_name = ops[bi].name;
            }
            p += n + (p[n] == '|');
        }
    }
    if (v->base && r->state == ST_OK && v->base->median > 0)
        v->ratio = r->median / v->base->median;
    const char *against = v->base_name ? v->base_name : o->baseline ? o->baseline : "";
    if (o->target == T_RATIO_MAX)
        snprintf(v->target, sizeof v->target, "<= %gx %s", o->limit, against);
    else if (o->target == T_RATE_MIN)
        snprintf(v->target, sizeof v->target, ">= %.0f rows/s", o->limit);
    else if (o->target == T_MIBS_MIN)
        snprintf(v->target, sizeof v->target, ">= %.0f MiB/s", o->limit);
    if (o->target != T_NONE) {
        if (r->state == ST_NOT_BUILT)
            v->status = "n/a";
        else if (r->state == ST_ERROR)
            v->status = "ERROR";
        else if (r->state == ST_OK && o->target == T_RATIO_MAX)
            v->status = !v->base ? "n/a" : v->ratio <= o->limit ? "PASS" : "GAP";
        else if (r->state == ST_OK && o->target == T_MIBS_MIN)
            v->status = r->bytes > 0 && r->median > 0 && r->bytes / MIB / r->median >= o->limit
                            ? "PASS"
                            : "GAP";
        else if (r->state == ST_OK)
            v->status = r->rate >= o->limit ? "PASS" : "GAP";
    }
    if (o->memory && r->state == ST_OK) {
        double mib = (double)r->rss_kib / 1024.0;
        int ok = mib < RSS_LIMIT_MIB;
        const result *small = NULL;
        size_t want = b->sizes[si] / 10;
        for (int sj = 0; sj < b->nsizes; sj++)
            if (b->sizes[sj] == want && res_at(b, sj, oi)->state == ST_OK)
                small = res_at(b, sj, oi);
        if (small) {
            double smib = (double)small->rss_kib / 1024.0;
            ok = ok && mib <= RSS_GROWTH * smib;
            snprintf(v->mem_target, sizeof v->mem_target, "< %.0f MiB, <= %.1fx %.1f (N=%zu)",
                     RSS_LIMIT_MIB, RSS_GROWTH, smib, want);
        } else {
            snprintf(v->mem_target, sizeof v->mem_target, "< %.0f MiB", RSS_LIMIT_MIB);
        }
        v->mem_status = ok ? "PASS" : "GAP";
    }
}

typedef struct tally {
    int pass, gap, na, error;
} tally;

static void count_status(tally *t, const char *s)
{
    if (strcmp(s, "PASS") == 0)
        t->pass++;
    else if (strcmp(s, "GAP") == 0)
        t->gap++;
    else if (strcmp(s, "n/a") == 0)
        t->na++;
    else if (strcmp(s, "ERROR") == 0)
        t->error++;
}

static void fmt_num(char *out, size_t cap, double v, int decimals, const char *suffix, int valid)
{
    if (valid)
        snprintf(out, cap, "%.*f%s", decimals, v, suffix);
    else
        snprintf(out, cap, "-");
}

static void print_table(bench *b, tally *t)
{
    printf("\n%7s  %-30s %9s %7s %10s %7s %8s  %-34s %s\n", "N", "operation", "median s",
           "ratio", "rows/s", "MiB/s", "RSS MiB", "target", "result");
    for (int si = 0; si < b->nsizes; si++) {
        for (size_t oi = 0; oi < NOPS; oi++) {
            const result *r = res_at(b, si, oi);
            if (!selected(b, &ops[oi]) || r->state == ST_SKIPPED)
                continue;
            verdict v;
            judge(b, si, oi, &v);
            int ok = r->state == ST_OK;
            char med[32], ratio[32], rate[32], mibs[32], rss[32];
            fmt_num(med, sizeof med, r->median, 3, "", ok);
            fmt_num(mibs, sizeof mibs, r->median > 0 ? r->bytes / MIB / r->median : 0, 0, "",
                    ok && r->bytes > 0 && r->median > 0);
            fmt_num(ratio, sizeof ratio, v.ratio, 2, "x", ok && v.base);
            fmt_num(rate, sizeof rate, r->rate, 0, "", ok && r->rate > 0);
            fmt_num(rss, sizeof rss, (double)r->rss_kib / 1024.0, 1, "", ok && r->rss_kib);
            const char *status = v.status[0] ? v.status : ok ? "-" : r->state == ST_ERROR ? "ERROR" : "n/a";
            printf("%7zu  %-30s %9s %7s %10s %7s %8s  %-34s %s", b->sizes[si], ops[oi].label,
                   med, ratio, rate, mibs, rss, v.target[0] ? v.target : "-", status);
            if (r->state == ST_NOT_BUILT)
                printf(" (%s)", ops[oi].missing);
            putchar('\n');
            count_status(t, v.status);
            if (ops[oi].memory && ok) {
                char label[64];
                snprintf(label, sizeof label, "  %s peak RSS", ops[oi].name);
                printf("%7zu  %-30s %9s %7s %10s %7s %8s  %-34s %s\n", b->sizes[si], label, "",
                       "", "", "", rss, v.mem_target, v.mem_status);
                count_status(t, v.mem_status);
            }
        }
        putchar('\n');
    }
    printf("targets: %d PASS, %d GAP, %d n/a, %d ERROR\n", t->pass, t->gap, t->na, t->error);
    for (int si = 0; si < b->nsizes; si++)
        for (size_t oi = 0; oi < NOPS; oi++) {
            const result *r = res_at(b, si, oi);
            if (r->state == ST_ERROR)
                printf("ERROR N=%zu %s: %s\n", b->sizes[si], ops[oi].name, r->error);
        }
}

static void print_datasets(const bench *b)
{
    printf("\ndatasets (generate.sql; every entity type, ~5%% soft-deleted):\n");
    for (int si = 0; si < b->nsizes; si++) {
        const dataset *d = &b->sets[si];
        if (!d->generate_secs)
            continue;
        long long children = 0;
        for (int i = 0; i < MAX_TABLES; i++)
            children += d->counts[i];
        children -= (long long)d->n;
        printf("  N=%zu: %lld child rows, %lld soft-deleted; cohort expression_json %.1f-%.1f KB "
               "(avg %.1f); database %.1f MiB, generated in %.1f s\n",
               d->n, children, d->soft_deleted, (double)d->expr_min / 1024.0,
               (double)d->expr_max / 1024.0, (double)d->expr_avg / 1024.0,
               (double)d->db_bytes / MIB, d->generate_secs);
        if (d->fixture_files || d->dump_plain_bytes)
            printf("  %*s  fixtures %.1f MiB in %lld files; dump %.1f MiB plain, %.1f MiB "
                   "custom\n",
                   (int)snprintf(NULL, 0, "N=%zu", d->n), "", (double)d->fixture_bytes / MIB,
                   d->fixture_files, (double)d->dump_plain_bytes / MIB,
                   (double)d->dump_custom_bytes / MIB);
    }
}

/* ---------------------------------------------------------------- JSON */

static void read_first_line(const char *cmd_or_path, int is_cmd, const char *prefix, char *out,
                            size_t cap)
{
    out[0] = '\0';
    FILE *f = is_cmd ? popen(cmd_or_path, "r") : fopen(cmd_or_path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (prefix && strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        const char *v = prefix ? strchr(line, ':') : line;
        v = v ? v + (prefix ? 1 : 0) : line;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(out, cap, "%s", v);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    if (is_cmd)
        pclose(f);
    else
        fclose(f);
}

/* The 1, 5 and 15 minute load averages. */
static void loadavg(char *out, size_t cap)
{
    double l1 = 0, l5 = 0, l15 = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
        snprintf(out, cap, "%.2f %.2f %.2f", l1, l5, l15);
    else
        snprintf(out, cap, "?");
    if (f)
        fclose(f);
}

/* The file system holding the work directory, from /proc/mounts. */
static void fs_of(const char *path, char *out, size_t cap)
{
    char real[PATH_MAX];
    snprintf(out, cap, "?");
    if (!realpath(path, real))
        return;
    FILE *f = fopen("/proc/mounts", "r");
    if (!f)
        return;
    char dev[256], mnt[512], type[64];
    size_t best = 0;
    while (fscanf(f, "%255s %511s %63s %*[^\n]", dev, mnt, type) == 3) {
        size_t l = strlen(mnt);
        if (strncmp(real, mnt, l) == 0 && (real[l] == '/' || real[l] == '\0' || l == 1) &&
            l >= best) {
            best = l;
            snprintf(out, cap, "%.60s (%.200s on %.200s)", type, dev, mnt);
        }
    }
    fclose(f);
}

static cJSON *machine_json(const bench *b)
{
    cJSON *m = cJSON_CreateObject();
    char buf[512];
    cJSON_AddNumberToObject(m, "nproc", (double)sysconf(_SC_NPROCESSORS_ONLN));
    read_first_line("/proc/cpuinfo", 0, "model name", buf, sizeof buf);
    cJSON_AddStringToObject(m, "cpu", buf);
    cJSON_AddNumberToObject(m, "memory_mib",
                            (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / MIB);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(m, "kernel", buf);
    }
    fs_of(b->work, buf, sizeof buf);
    cJSON_AddStringToObject(m, "work_fs", buf);
    cJSON_AddStringToObject(m, "postgresql", b->server_version);
    cJSON_AddStringToObject(m, "server_settings", b->server_settings);
    cJSON_AddStringToObject(m, "pg_bindir", b->bindir);
    cJSON_AddStringToObject(m, "libfortknox", fk_version_string());
    cJSON_AddStringToObject(m, "loadavg_start", b->load_start);
    loadavg(buf, sizeof buf);
    cJSON_AddStringToObject(m, "loadavg_end", buf);
    return m;
}

static int write_json(bench *b)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tool", "fortknox-bench");
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(root, "finished_at", when);
    cJSON_AddItemToObject(root, "machine", machine_json(b));
    cJSON *opt = cJSON_AddObjectToObject(root, "options");
    cJSON *sizes = cJSON_AddArrayToObject(opt, "sizes");
    for (int si = 0; si < b->nsizes; si++)
        cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)b->sizes[si]));
    cJSON_AddNumberToObject(opt, "runs", b->runs);
    cJSON_AddNumberToObject(opt, "update_rows", b->update_rows);
    cJSON_AddNumberToObject(opt, "audit_rows", b->audit_rows);
    cJSON *sets = cJSON_AddArrayToObject(root, "datasets");
    for (int si = 0; si < b->nsizes; si++) {
        const dataset *d = &b->sets[si];
        if (!d->generate_secs)
            continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToArray(sets, j);
        cJSON_AddNumberToObject(j, "n", (double)d->n);
        cJSON_AddNumberToObject(j, "generate_s", d->generate_secs);
        cJSON_AddNumberToObject(j, "soft_deleted", (double)d->soft_deleted);
        cJSON_AddNumberToObject(j, "expression_json_min_bytes", (double)d->expr_min);
        cJSON_AddNumberToObject(j, "expression_json_avg_bytes", (double)d->expr_avg);
        cJSON_AddNumberToObject(j, "expression_json_max_bytes", (double)d->expr_max);
        cJSON_AddNumberToObject(j, "database_bytes", (double)d->db_bytes);
        cJSON_AddNumberToObject(j, "fixture_files", (double)d->fixture_files);
        cJSON_AddNumberToObject(j, "fixture_bytes", (double)d->fixture_bytes);
        cJSON_AddNumberToObject(j, "dump_plain_bytes", (double)d->dump_plain_bytes);
        cJSON_AddNumberToObject(j, "dump_custom_bytes", (double)d->dump_custom_bytes);
    }
    cJSON *results = cJSON_AddArrayToObject(root, "results");
    tally t = {0, 0, 0, 0};
    for (int si = 0; si < b->nsizes; si++)
        for (size_t oi = 0; oi < NOPS; oi++) {
            const result *r = res_at(b, si, oi);
            if (!selected(b, &ops[oi]) || r->state == ST_SKIPPED)
                continue;
            verdict v;
            judge(b, si, oi, &v);
            cJSON *j = cJSON_CreateObject();
            cJSON_AddItemToArray(results, j);
            cJSON_AddNumberToObject(j, "n", (double)b->sizes[si]);
            cJSON_AddStringToObject(j, "op", ops[oi].name);
            cJSON_AddStringToObject(j, "label", ops[oi].label);
            static const char *const states[] = {"skipped", "ok", "not_built", "error"};
            cJSON_AddStringToObject(j, "state", states[r->state]);
            if (r->state == ST_ERROR)
                cJSON_AddStringToObject(j, "error", r->error);
            if (r->state == ST_NOT_BUILT)
                cJSON_AddStringToObject(j, "missing", ops[oi].missing);
            if (r->state == ST_OK) {
                cJSON *runs = cJSON_AddArrayToObject(j, "runs_s");
                for (int i = 0; i < r->nruns; i++)
                    cJSON_AddItemToArray(runs, cJSON_CreateNumber(r->runs[i].secs));
                cJSON_AddNumberToObject(j, "median_s", r->median);
                if (r->median_op > 0)
                    cJSON_AddNumberToObject(j, "median_call_s", r->median_op);
                cJSON_AddNumberToObject(j, "rows", r->rows);
                cJSON_AddNumberToObject(j, "rows_per_s", r->rate);
                if (r->bytes > 0)
                    cJSON_AddNumberToObject(j, "mib_per_s", r->bytes / MIB / r->median);
                if (r->rss_kib) {
                    cJSON_AddNumberToObject(j, "peak_rss_mib", (double)r->rss_kib / 1024.0);
                    cJSON_AddNumberToObject(j, "cpu_user_s", r->cpu_user);
                    cJSON_AddNumberToObject(j, "cpu_sys_s", r->cpu_sys);
                }
            }
            if (v.base) {
                cJSON_AddStringToObject(j, "baseline", v.base_name);
                cJSON_AddNumberToObject(j, "ratio", v.ratio);
            }
            if (v.target[0]) {
                cJSON_AddStringToObject(j, "target", v.target);
                cJSON_AddStringToObject(j, "status", v.status);
                count_status(&t, v.status);
            }
            if (v.mem_target[0]) {
                cJSON_AddStringToObject(j, "rss_target", v.mem_target);
                cJSON_AddStringToObject(j, "rss_status", v.mem_status);
                count_status(&t, v.mem_status);
            }
        }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(sum, "pass", t.pass);
    cJSON_AddNumberToObject(sum, "gap", t.gap);
    cJSON_AddNumberToObject(sum, "na", t.na);
    cJSON_AddNumberToObject(sum, "error", t.error);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(b->json_path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    cJSON_free(text);
    if (!ok)
        return fail("cannot write %s: %s", b->json_path, strerror(errno));
    return 0;
}


/* --compare FILE.json: every figure of this run next to the same figure of
 * a previous run (same N, same measurement), as now/before, so that a
 * regression shows in one command. */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_ratio(char *out, size_t cap, double now, double before)
{
    if (now > 0 && before > 0)
        snprintf(out, cap, "%.2fx", now / before);
    else
        snprintf(out, cap, "-");
}

static int compare(bench *b)
{
    char *text = fkt_read_file(b->compare_path, NULL);
    cJSON *prev = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *results = prev ? cJSON_GetObjectItemCaseSensitive(prev, "results") : NULL;
    if (!cJSON_IsArray(results)) {
        cJSON_Delete(prev);
        return fail("--compare %s: not a fortknox-bench JSON file", b->compare_path);
    }
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(prev, "finished_at");
    printf("\ncompared with %s (%s): now / before, per figure (time: lower is better)\n",
           b->compare_path, cJSON_IsString(fin) ? fin->valuestring : "?");
    printf("%-20s %8s %10s %10s %7s %7s %9s %9s\n", "measurement", "N", "before s", "now s",
           "time", "rows/s", "peak RSS", "vs base");
    int shown = 0;
    const cJSON *j;
    cJSON_ArrayForEach(j, results)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "op");
        if (!cJSON_IsString(name))
            continue;
        int oi = op_index(name->valuestring, strlen(name->valuestring));
        size_t n = (size_t)jnum(j, "n");
        int si = -1;
        for (int k = 0; k < b->nsizes; k++)
            if (b->sizes[k] == n)
                si = k;
        if (oi < 0 || si < 0)
            continue;
        const result *r = res_at(b, si, (size_t)oi);
        if (r->state != ST_OK || jnum(j, "median_s") <= 0)
            continue;
        verdict v;
        judge(b, si, (size_t)oi, &v);
        char t[16], rate[16], rss[16], base[16];
        print_ratio(t, sizeof t, r->median, jnum(j, "median_s"));
        print_ratio(rate, sizeof rate, r->rate, jnum(j, "rows_per_s"));
        print_ratio(rss, sizeof rss, (double)r->rss_kib / 1024.0, jnum(j, "peak_rss_mib"));
        print_ratio(base, sizeof base, v.base ? v.ratio : 0, jnum(j, "ratio"));
        printf("%-20s %8zu %10.3f %10.3f %7s %7s %9s %9s\n", name->valuestring, n,
               jnum(j, "median_s"), r->median, t, rate, rss, base);
        shown++;
    }
    if (!shown)
        printf("(no measurement in common)\n");
    cJSON_Delete(prev);
    return 0;
}

/* ------------------------------------------------------------- set-up */

static void find_bindir(bench *b, int server_major)
{
    char probe[PATH_MAX + 32];
    const char *env = getenv("FORTKNOX_PG_BINDIR");
    if (env && *env) {
        snprintf(b->bindir, sizeof b->bindir, "%s", env);
        return;
    }
    snprintf(b->bindir, sizeof b->bindir, "/usr/lib/postgresql/%d/bin", server_major);
    snprintf(probe, sizeof probe, "%s/pg_dump", b->bindir);
    if (access(probe, X_OK) == 0)
        return;
    read_first_line("pg_config --bindir 2>/dev/null", 1, NULL, b->bindir, sizeof b->bindir);
    snprintf(probe, sizeof probe, "%s/pg_dump", b->bindir);
    if (b->bindir[0] && access(probe, X_OK) == 0)
        return;
    b->bindir[0] = '\0'; /* whatever PATH holds */
}

static int server_info(bench *b)
{
    PGconn *c = PQconnectdb(fkt_pg_conninfo(b->pg));
    if (PQstatus(c) != CONNECTION_OK) {
        fail("connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    char *v = query1(c, "SELECT current_setting('server_version') || ' (' || "
                        "current_setting('server_version_num') || ')'");
    char *s = query1(c, "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' "
                        "|| current_setting('synchronous_commit') || ' shared_buffers=' || "
                        "current_setting('shared_buffers') || ' full_page_writes=' || "
                        "current_setting('full_page_writes')");
    snprintf(b->server_version, sizeof b->server_version, "%s", v ? v : "?");
    snprintf(b->server_settings, sizeof b->server_settings, "%s", s ? s : "?");
    free(v);
    free(s);
    find_bindir(b, PQserverVersion(c) / 10000);
    PQfinish(c);
    return 0;
}

static int parse_sizes(bench *b, const char *arg)
{
    b->nsizes = 0;
    for (const char *p = arg; *p;) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (*end == 'k' || *end == 'K')
            v *= 1000, end++;
        else if (*end == 'm' || *end == 'M')
            v *= 1000000, end++;
        if (end == p || v == 0 || v > 100000000 || b->nsizes == MAX_SIZES ||
            (*end && *end != ','))
            return -1;
        b->sizes[b->nsizes++] = (size_t)v;
        p = *end ? end + 1 : end;
    }
    return b->nsizes ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fortknox-bench [options]\n"
            "  --sizes LIST          entity counts, e.g. 1000,10000,100000 or 1k,10k,100k (1000)\n"
            "  --runs K              runs per measurement; the median is reported (3)\n"
            "  --json FILE           also write the results as JSON\n"
            "  --compare FILE        print every figure's ratio to a previous run's JSON\n"
            "  --only OPS            comma-separated measurements (default: all):\n"
            "                        ");
    for (size_t i = 0; i < NOPS; i++)
        fprintf(f, "%s%s", ops[i].name, i + 1 < NOPS ? "," : "\n");
    fprintf(f,
            "  --update-rows M       UPDATEs per UPDATE-loop run (2000)\n"
            "  --audit-rows M        fk_audit_write calls per run (2000)\n"
            "  --tmpdir DIR          where fixtures and dumps go (TMPDIR or /tmp)\n"
            "  --worker-wrapper CMD  run library workers under CMD (split at spaces), e.g.\n"
            "                        \"valgrind --tool=callgrind --callgrind-out-file=cg.%%p\"\n"
            "  --keep                keep the work directory (fixtures, dumps, tool log)\n"
            "The server is a throwaway cluster (or FORTKNOX_TEST_DSN); pg_dump, psql and\n"
            "pg_restore come from FORTKNOX_PG_BINDIR, the server's bindir or PATH.\n");
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--worker") == 0) {
        const char *conninfo = NULL, *dir = NULL;
        for (int i = 3; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--conninfo") == 0)
                conninfo = argv[i + 1];
            else if (strcmp(argv[i], "--dir") == 0)
                dir = argv[i + 1];
        }
        return worker_main(argc > 2 ? argv[2] : "", conninfo, dir && *dir ? dir : NULL);
    }

    static bench bs;
    bench *b = &bs;
    b->runs = 3;
    b->update_rows = 2000;
    b->audit_rows = 2000;
    b->sizes[0] = 1000;
    b->nsizes = 1;
    b->tmpbase = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--keep") == 0) {
            b->keep = 1;
            used = 0;
        } else if (!v) {
            used = -1;
        } else if (strcmp(a, "--sizes") == 0) {
            used = parse_sizes(b, v) == 0 ? 1 : -1;
        } else if (strcmp(a, "--runs") == 0) {
            b->runs = atoi(v);
            used = b->runs >= 1 && b->runs <= MAX_RUNS ? 1 : -1;
        } else if (strcmp(a, "--json") == 0) {
            b->json_path = v;
        } else if (strcmp(a, "--compare") == 0) {
            b->compare_path = v;
        } else if (strcmp(a, "--only") == 0) {
            b->only = v;
            for (const char *p = v; *p && used == 1;) {
                size_t n = strcspn(p, ",");
                used = op_index(p, n) >= 0 ? 1 : -1;
                p += n + (p[n] == ',');
            }
        } else if (strcmp(a, "--update-rows") == 0) {
            b->update_rows = atoi(v);
            used = b->update_rows > 0 ? 1 : -1;
        } else if (strcmp(a, "--audit-rows") == 0) {
            b->audit_rows = atoi(v);
            used = b->audit_rows > 0 ? 1 : -1;
        } else if (strcmp(a, "--tmpdir") == 0) {
            b->tmpbase = v;
        } else if (strcmp(a, "--worker-wrapper") == 0) {
            b->wrapper = v;
        } else {
            used = -1;
        }
        if (used < 0) {
            fprintf(stderr, "fortknox-bench: bad or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        }
        i += used;
    }
    ssize_t sl = readlink("/proc/self/exe", b->self, sizeof b->self - 1);
    if (sl <= 0) {
        fprintf(stderr, "fortknox-bench: cannot find its own executable\n");
        return 1;
    }
    b->self[sl] = '\0';

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    snprintf(b->work, sizeof b->work, "%s/fkbench-XXXXXX", b->tmpbase);
    if (!mkdtemp(b->work)) {
        fprintf(stderr, "fortknox-bench: cannot create a directory in %s: %s\n", b->tmpbase,
                strerror(errno));
        return 1;
    }
    snprintf(b->log, sizeof b->log, "%.4000s/tools.log", b->work);
    int hrc = fkt_pg_start(&b->pg);
    if (hrc != 0) {
        fkh_rm_rf(b->work);
        if (hrc == FKT_SKIP) {
            printf("fortknox-bench: no PostgreSQL server here: skipped\n");
            return FKT_SKIP;
        }
        fprintf(stderr, "fortknox-bench: cannot start PostgreSQL\n");
        return 1;
    }
    int rc = 0;
    if (server_info(b) != 0) {
        fprintf(stderr, "fortknox-bench: %s\n", errbuf);
        rc = 1;
        goto out;
    }
    loadavg(b->load_start, sizeof b->load_start);
    note("libfortknox %s, PostgreSQL %s, tools from %s, work in %s, load %s",
         fk_version_string(), b->server_version, b->bindir[0] ? b->bindir : "PATH", b->work,
         b->load_start);
    b->res = calloc((size_t)b->nsizes * NOPS, sizeof *b->res);
    if (!b->res) {
        rc = 1;
        goto out;
    }
    for (b->si = 0; b->si < b->nsizes && !interrupted; b->si++)
        bench_size(b);
    if (interrupted) {
        fprintf(stderr, "fortknox-bench: interrupted\n");
        rc = 130;
        goto out;
    }
    {
        char buf[512];
        fs_of(b->work, buf, sizeof buf);
        char load[64];
        loadavg(load, sizeof load);
        printf("\nfortknox-bench: libfortknox %s; PostgreSQL %s (%s); %ld CPUs; work dir on %s; "
               "load average %s at the start, %s at the end\n",
               fk_version_string(), b->server_version, b->server_settings,
               sysconf(_SC_NPROCESSORS_ONLN), buf, b->load_start, load);
    }
    print_datasets(b);
    tally t = {0, 0, 0, 0};
    print_table(b, &t);
    if (b->json_path && write_json(b) != 0) {
        fprintf(stderr, "fortknox-bench: %s\n", errbuf);
        rc = 1;
    }
    if (b->compare_path && compare(b) != 0) {
        fprintf(stderr, "fortknox-bench: %s\n", errbuf);
        rc = 1;
    }
    if (b->errors)
        rc = 1;
out:
    fkt_pg_stop(b->pg);
    if (b->keep)
        note("kept %s", b->work);
    else
        fkh_rm_rf(b->work);
    free(b->res);
    return rc;
}
