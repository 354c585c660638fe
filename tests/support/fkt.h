/* Small helpers shared by the cmocka test programs. */
#ifndef FKT_H
#define FKT_H

#include "pg_harness.h"
#include <stddef.h>
#include <libpq-fe.h>

#ifndef FKT_SQL_DIR
#error "FKT_SQL_DIR must be defined by the build"
#endif

#define FKT_SCHEMA_SQL FKT_SQL_DIR "/parthenon_schema.sql"
#define FKT_SEED_SQL FKT_SQL_DIR "/parthenon_seed.sql"

/* A superuser going around every protection of the library, which the
 * detection (doctor, export, verify) must still catch: the DDL guard's event
 * triggers and the library's triggers switched off, then put back ENABLE
 * ALWAYS. Neither PostgreSQL nor the library can stop a superuser doing
 * this; session_replication_role no longer can (the triggers are ALWAYS).
 * Capture's commit trigger (fortknox_flush) is left alone: with the capture
 * triggers off it has nothing to write, and a table with trigger events
 * pending (an earlier change in the same transaction) cannot be altered.
 * Use inside one transaction:
 *   "BEGIN; " FKT_BYPASS_ON "DELETE ...; " FKT_BYPASS_OFF "COMMIT" */
/* Only the DDL guard's event triggers (PostgreSQL fires none for ALTER
 * EVENT TRIGGER, so nothing records this): the DDL that follows is neither
 * refused nor recorded, and the library's triggers stay as they are. */
#define FKT_DDL_GUARD_OFF                                                                         \
    "DO $fkt$ DECLARE r record; BEGIN"                                                            \
    " FOR r IN SELECT evtname FROM pg_event_trigger WHERE evtname LIKE 'fortknox\\_%' LOOP"        \
    " EXECUTE format('ALTER EVENT TRIGGER %I DISABLE', r.evtname); END LOOP; END $fkt$; "
#define FKT_DDL_GUARD_ON                                                                          \
    "DO $fkt$ DECLARE r record; BEGIN"                                                            \
    " FOR r IN SELECT evtname FROM pg_event_trigger WHERE evtname LIKE 'fortknox\\_%' LOOP"        \
    " EXECUTE format('ALTER EVENT TRIGGER %I ENABLE ALWAYS', r.evtname); END LOOP; END $fkt$; "
/* sql run by a superuser who switched the DDL guard off first, in one
 * transaction */
#define FKT_DDL_GUARD_BYPASSED(sql) "BEGIN; " FKT_DDL_GUARD_OFF sql "; " FKT_DDL_GUARD_ON "COMMIT"
#define FKT_BYPASS_ON                                                                             \
    FKT_DDL_GUARD_OFF                                                                             \
    "DO $fkt$ DECLARE r record; BEGIN"                                                            \
    " FOR r IN SELECT tgrelid::regclass AS t, tgname FROM pg_trigger WHERE NOT tgisinternal AND"  \
    " tgname ~ '^(FK_|fortknox_)' AND tgname <> 'fortknox_flush' LOOP"     \
    " EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', r.t, r.tgname); END LOOP; END $fkt$; "
#define FKT_BYPASS_OFF                                                                            \
    "DO $fkt$ DECLARE r record; BEGIN"                                                            \
    " FOR r IN SELECT tgrelid::regclass AS t, tgname FROM pg_trigger WHERE NOT tgisinternal AND"  \
    " tgname ~ '^(FK_|fortknox_)' AND tgname <> 'fortknox_flush' LOOP"     \
    " EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', r.t, r.tgname); END LOOP;"        \
    " END $fkt$; " FKT_DDL_GUARD_ON
/* sql run as such a superuser, in one transaction. */
#define FKT_BYPASSED(sql) "BEGIN; " FKT_BYPASS_ON sql "; " FKT_BYPASS_OFF "COMMIT"

/* A context on db with libfortknox installed (capture mode when capture,
 * else app mode; app_role may be NULL) by the harness's superuser, so with
 * the DDL guard; fails the test on error. fk_close() it. */
struct fk_ctx;
struct fk_ctx *fkt_open_installed(const char *db, int capture, const char *app_role);
/* The same with the registry read from a file (NULL: the built-in one). */
struct fk_ctx *fkt_open_installed_registry(const char *db, int capture, const char *app_role,
                                           const char *registry);
/* A new seeded database (fkt_schema_and_seed) installed that way; its
 * conninfo, free() it. */
char *fkt_installed_db(fkt_pg *pg, int capture, const char *app_role);

/* SQL file lists for fkt_pg_new_db(). */
extern const char *const fkt_schema_only[];
extern const char *const fkt_schema_and_seed[];

/* Redirects this process's stdout and stderr into a temp file, so a test can
 * prove the library printed nothing. fkt_quiet_end() returns the number of
 * bytes written meanwhile (and restores the streams). */
void fkt_quiet_begin(void);
long fkt_quiet_end(void);

#if defined(__GNUC__)
#define FKT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FKT_PRINTF(f, a)
#endif

/* A new empty directory /tmp/<prefix>-XXXXXX (malloc'd; NULL on failure),
 * and its removal with everything in it (frees dir; NULL is harmless; 0 when
 * rm succeeded). */
char *fkt_tempdir(const char *prefix);
int fkt_rm_tree(char *dir);

/* fkt_tempdir(), failing the running test when the directory cannot be made. */
char *fkt_tempdir_or_fail(const char *prefix);

/* Runs a shell command built like printf. Returns system()'s status: 0 when
 * the command ran and exited 0. */
int fkt_sh(const char *fmt, ...) FKT_PRINTF(1, 2);

/* A library call that must return FK_OK; else the running test fails with
 * the call and the library's message (cmocka's fail_msg: include cmocka.h
 * first). */
#define assert_ok(ctx, call)                                                                      \
    do {                                                                                          \
        int rc_ = (call);                                                                         \
        if (rc_ != FK_OK)                                                                         \
            fail_msg("%s: %s", #call, fk_errmsg(ctx));                                            \
    } while (0)

/* fkt_pg_query1(), failing the running test (naming the query) on error. */
char *fkt_q1(const char *conninfo, const char *sql);

/* Seals the audit log of the database (fortknox.seal(), when installed),
 * failing the test on error: audit rows read with SQL read as every
 * reading command of the library reads them (docs/audit.md, "Sealing"). */
void fkt_seal(const char *conninfo);

/* Reads a whole file; malloc'd, NUL-terminated; *len optional. NULL if absent. */
char *fkt_slurp(const char *path, size_t *len);

/* A program's run: exit status (-1 when a signal ended it, -2 when it could
 * not be started), the signal, whether the deadline killed it, and all it
 * wrote. */
typedef struct fkt_run {
    int status;
    int signal;
    int timed_out;
    char *out, *err;
} fkt_run;

/* Runs path with args (NULL-terminated, without argv[0]) in cwd (NULL: here),
 * env entries "NAME=value" set and "NAME" unset (FORTKNOX_DB always unset
 * first); SIGKILLs it after deadline_s seconds (0: no deadline). */
fkt_run fkt_run_program(const char *path, const char *const *env, const char *cwd,
                        const char *const *args, int deadline_s);
void fkt_run_free(fkt_run *r);

/* argv for execv: path, then args (malloc'd array; the strings are not copied). */
char **fkt_argv(const char *path, const char *const *args);

/* In a child about to exec: apply "NAME=value" (set) and "NAME" (unset).
 * FORTKNOX_DB is always cleared first, so only what a test gives counts. */
void fkt_apply_env(const char *const *env);

/* The fortknox CLI's path from $FKT_CLI (meson test sets it); bails out of
 * the TAP run without it. */
const char *fkt_cli_path(void);

#endif
