/* State shared by the importer's files. */
#ifndef FK_L3_IMPORT_INTERNAL_H
#define FK_L3_IMPORT_INTERNAL_H

#include "fortknox/report.h"
#include "json_nulls.h"
#include "registry.h"

typedef struct fk__import {
    fk_ctx *ctx;
    fk__registry *reg;
    fk_report *report;
    const char *admin_email;
    char admin_id[24];   /* "" when there is no admin user */
    int report_all;
    int unknown_keys;    /* fk_unknown_keys */
    const fk__jnulls *jnulls; /* the manifest's JSON nulls, or NULL */
    int drill;           /* restoring into scratch tables (fk_drill) */
    int audit;           /* the audit layer is installed: record one row per entity */
    char audit_q[300];   /* its table */
    char schema_q[140];
} fk__import;

/* Turns a server error on one document into a message naming its file (and,
 * for a missing admin user, how to create one). Returns the status. */
int fk__import_server_error(fk__import *im, const fk__etype *e, const PGresult *res,
                            const char *path);

/* Records n imported entities in the audit log (one row each, in one
 * statement), with their state as now stored and the transaction's context
 * tag. Only call when im->audit. */
int fk__import_audit(fk__import *im, const fk__etype *e, const int64_t *ids,
                     const char *const *actions, size_t n);

/* Called once after the transaction began: notes whether the audit layer is
 * installed and tags the transaction so capture triggers stay quiet. */
int fk__import_audit_begin(fk__import *im);

/* The import of a fixture directory (root: an open directory fd) inside
 * the caller's transaction. drill: into retargeted scratch tables. */
struct fk_import_options;
int fk__import_into(fk_ctx *ctx, fk__registry *reg, int root,
                    const struct fk_import_options *opts, fk_report *report, int drill);

/* Applies one entity document (as an import would) in the open transaction. */
int fk__import_apply_doc(fk_ctx *ctx, const fk__etype *e, const char *doc, size_t len, int64_t id,
                         fk_report *report);

#endif
