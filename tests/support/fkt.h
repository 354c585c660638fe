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

/* SQL file lists for fkt_pg_new_db(). */
extern const char *const fkt_schema_only[];
extern const char *const fkt_schema_and_seed[];

/* Redirects this process's stdout and stderr into a temp file, so a test can
 * prove the library printed nothing. fkt_quiet_end() returns the number of
 * bytes written meanwhile (and restores the streams). */
void fkt_quiet_begin(void);
long fkt_quiet_end(void);

/* A new empty directory /tmp/<prefix>-XXXXXX (malloc'd; NULL on failure),
 * and its removal with everything in it (frees dir; NULL is harmless). */
char *fkt_tempdir(const char *prefix);
void fkt_rm_tree(char *dir);

/* Reads a whole file; malloc'd, NUL-terminated; *len optional. NULL if absent. */
char *fkt_slurp(const char *path, size_t *len);

#endif
