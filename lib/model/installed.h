/* What is installed: where the audit table is and how it was installed,
 * read once per context from the fortknox.meta table; and the audit chain's
 * head, which exports anchor in the manifest. */
#ifndef FK_MODEL_INSTALLED_H
#define FK_MODEL_INSTALLED_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctx_internal.h"

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

/* The audit chain's head, or id 0 when no audit log is installed. */
int fk__audit_chain_head(fk_ctx *ctx, int64_t *id, char hash[65]);

/* The anchor the next manifest records, given the one the old manifest
 * recorded (old_id 0 / old_hash NULL: none): the chain head, unless the old
 * anchor no longer holds -- the library is gone, the head row is missing, or
 * the anchored row is missing or was rewritten. Then *broken is 1 and the
 * old anchor is kept, so no export erases the evidence (FK-TAMPER). */
int fk__audit_anchor_next(fk_ctx *ctx, int64_t old_id, const char *old_hash, int64_t *id,
                          char hash[65], int *broken);

/* The override role of an install in schema `schema` (cluster-wide, so
 * installs of the same schema name in several databases share it):
 * "<schema>_override", cut to PostgreSQL's 63 bytes. */
void fk__override_role_name(char out[64], const char *schema);

/* The SQL that creates the override role when it is missing (NOLOGIN,
 * cluster-wide) and override_role() naming it, in schema S (quoted). Install
 * runs it; doctor compares override_role() with it. */
void fk__override_role_sql(fk__buf *b, const char *S, const char *role);

#endif
