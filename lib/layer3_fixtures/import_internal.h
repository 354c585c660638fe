/* State shared by the importer's files. */
#ifndef FK_L3_IMPORT_INTERNAL_H
#define FK_L3_IMPORT_INTERNAL_H

#include "fortknox/report.h"
#include "registry.h"

typedef struct fk__import {
    fk_ctx *ctx;
    fk__registry *reg;
    fk_report *report;
    const char *admin_email;
    char admin_id[24];   /* "" when there is no admin user */
    int report_all;
    int audit;           /* the audit layer is installed: record one row per entity */
} fk__import;

/* Turns a server error on one document into a message naming its file (and,
 * for a missing admin user, how to create one). Returns the status. */
int fk__import_server_error(fk__import *im, const fk__etype *e, const PGresult *res,
                            const char *path);

/* Records the import of one entity in the audit log when it is installed
 * (one row per entity, tagged as a restore). */
int fk__import_audit(fk__import *im, const fk__etype *e, int64_t id, const char *action,
                     const char *fields_json);

/* Called once after the transaction began: notes whether the audit layer is
 * installed and tags the transaction so capture triggers stay quiet. */
int fk__import_audit_begin(fk__import *im);

#endif
