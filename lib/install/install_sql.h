/* Generating the install script from the registry. */
#ifndef FK_L2_INSTALL_SQL_H
#define FK_L2_INSTALL_SQL_H

#include "buf.h"
#include "registry.h"

typedef struct fk__install_plan {
    const char *schema_q;   /* quoted fortknox schema */
    const char *audit_q;    /* quoted, schema-qualified audit table */
    const char *app_role_q; /* quoted role, or NULL */
    const char *override_role; /* the override role's name, unquoted */
    int capture;
    int guards;
} fk__install_plan;

/* Appends the whole (idempotent) install script. */
int fk__install_sql(fk__buf *b, const fk__registry *reg, const fk__install_plan *p);

#endif
