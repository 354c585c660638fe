/* The importer's one audit row per restored entity (layer 2 hook). */
#include "import_internal.h"

int fk__import_audit(fk__import *im, const fk__etype *e, int64_t id, const char *action,
                     const char *fields_json)
{
    (void)e;
    (void)id;
    (void)action;
    (void)fields_json;
    if (!im->audit)
        return FK_OK;
    return FK_OK;
}

int fk__import_audit_begin(fk__import *im)
{
    im->audit = 0;
    return FK_OK;
}
