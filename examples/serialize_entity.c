/* serialize_entity: print one entity exactly as its fixture file holds it.
 *
 *   fortknox-serialize-entity [--canonical] CONNINFO TYPE ID
 *
 * e.g. fortknox-serialize-entity "dbname=parthenon" cohort_definition 65
 * Exit status: 0 printed, 1 not found, 2 usage, 3 other failure. */
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    fk_format format = FK_FORMAT_PARTHENON;
    int a = 1;
    if (a < argc && strcmp(argv[a], "--canonical") == 0) {
        format = FK_FORMAT_CANONICAL;
        a++;
    }
    if (argc - a != 3) {
        fprintf(stderr, "usage: %s [--canonical] CONNINFO TYPE ID\n", argv[0]);
        return 2;
    }
    char *end;
    long long id = strtoll(argv[a + 2], &end, 10);
    if (*end || end == argv[a + 2]) {
        fprintf(stderr, "%s: ID must be an integer\n", argv[0]);
        return 2;
    }
    fk_ctx *ctx;
    if (fk_open(&ctx, argv[a], NULL) != FK_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], fk_errmsg(NULL));
        return 3;
    }
    char *doc = NULL;
    size_t len = 0;
    int rc = fk_entity_serialize(&doc, &len, ctx, argv[a + 1], id, format);
    if (rc == FK_OK)
        fwrite(doc, 1, len, stdout);
    else
        fprintf(stderr, "%s: %s\n", argv[0], fk_errmsg(ctx));
    fk_free(doc);
    fk_close(ctx);
    return rc == FK_OK ? 0 : rc == FK_ENOTFOUND ? 1 : 3;
}
