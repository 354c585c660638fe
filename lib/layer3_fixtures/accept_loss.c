/* The acknowledgements of an export (fk_export_options.accept_loss). A typo
 * ("nope:1", "cohort_definition:1x") used to match nothing and pass
 * silently: it is refused before the export starts, naming the valid types;
 * a well-formed entry for an entity that was not lost gets a warning. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctx_internal.h"
#include "export_internal.h"
#include "fortknox/fixtures.h"
#include "report_internal.h"

/* "all" -> 1; "TYPE:ID" with a registered type and a positive id -> 0;
 * malformed -> -1; unknown type -> -2. */
static int parse(const fk__registry *reg, const char *a, const fk__etype **e, int64_t *id)
{
    if (strcmp(a, "all") == 0)
        return 1;
    const char *colon = strrchr(a, ':');
    char *end;
    if (!colon || colon == a || colon[1] < '0' || colon[1] > '9')
        return -1;
    long long v = strtoll(colon + 1, &end, 10);
    if (*end || v <= 0 || v == LLONG_MAX)
        return -1;
    *id = v;
    for (size_t i = 0; i < reg->ntypes; i++)
        if (strlen(reg->types[i].name) == (size_t)(colon - a) &&
            strncmp(reg->types[i].name, a, (size_t)(colon - a)) == 0) {
            *e = &reg->types[i];
            return 0;
        }
    return -2;
}

int fk__accept_loss_check(fk_ctx *ctx, const fk__registry *reg, const fk_export_options *o)
{
    for (size_t i = 0; o->version >= 2 && o->accept_loss && i < o->naccept_loss; i++) {
        const char *a = o->accept_loss[i];
        const fk__etype *e;
        int64_t id;
        int p = a ? parse(reg, a, &e, &id) : -1;
        if (p >= 0)
            continue;
        fk__buf types = FK__BUF_INIT;
        for (size_t t = 0; t < reg->ntypes; t++)
            fk__buf_printf(&types, "%s%s", t ? ", " : "", reg->types[t].name);
        const char *list = fk__buf_cstr(&types);
        int rc = fk__fail(ctx, FK_EINVAL,
                          "accept_loss \"%s\": %s; give TYPE:ID (a positive id) or all, with "
                          "TYPE one of: %s",
                          a ? a : "(null)", p == -2 ? "unknown entity type" : "malformed",
                          list ? list : "(out of memory)");
        fk__buf_dispose(&types);
        return rc;
    }
    return FK_OK;
}

int fk__accept_loss_warn(fk_report *report, const fk__registry *reg, const fk_export_options *o,
                         int (*lost)(const void *arg, const fk__etype *e, int64_t id),
                         const void *arg)
{
    int rc = FK_OK;
    for (size_t i = 0; rc == FK_OK && o->version >= 2 && o->accept_loss && i < o->naccept_loss;
         i++) {
        const fk__etype *e;
        int64_t id;
        if (o->accept_loss[i] && parse(reg, o->accept_loss[i], &e, &id) == 0 && !lost(arg, e, id))
            rc = fk__report_add(report, FK_SEV_WARNING, "accept_loss_unmatched", e->name, id,
                                NULL, NULL, "check the type and id",
                                "nothing to accept for %s: it is not lost", o->accept_loss[i]);
    }
    return rc;
}
