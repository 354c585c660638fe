#include "fkt.h"

#include <stdio.h>
#include <stdlib.h>
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

char *fkt_slurp(const char *path, size_t *len) { return fkt_read_file(path, len); }
