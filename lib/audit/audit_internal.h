/* What the audit layer's files share: where the audit table is and how it
 * was installed, read once per context from the fortknox.meta table. */
#ifndef FK_L2_AUDIT_INTERNAL_H
#define FK_L2_AUDIT_INTERNAL_H

#include "ctx_internal.h"
#include "registry.h"

#define FK__SCHEMA_VERSION 1

typedef struct fk__install_info {
    int installed;
    int version;
    int capture;          /* FK_AUDIT_CAPTURE */
    int guards;
    char audit_q[300];    /* quoted, schema-qualified audit table */
    char schema_q[140];   /* quoted fortknox schema */
    char options[600];    /* the options fingerprint stored at install */
    char app_role[130];
    char invalid[512];    /* why the install record cannot be used ("" = it can) */
} fk__install_info;

/* Reads what is installed (installed = 0 when nothing is). An install record
 * this library must not act on (written by a newer library, or an audit
 * table that is not a quoted schema-qualified name, which would be pasted
 * into SQL) fails with FK_ECONFLICT or FK_ETAMPER; info->invalid says why. */
int fk__install_info_read(fk_ctx *ctx, fk__install_info *info);

/* Like fk__install_info_read but fails with FK_ENOTFOUND when nothing is
 * installed. */
int fk__install_require(fk_ctx *ctx, fk__install_info *info);

#endif
