/* What doctor says about a healthy install, on this branch.
 *
 * doctor reports each missing event trigger of the DDL guard as an error
 * (FK-NO-DDL-GUARD): true of every install until install creates them (issue
 * 15, item 2, built on another branch). Tests that expect a healthy install
 * to pass doctor go through this one switch; flip it to 1 when install
 * creates the DDL guard, and the tests expect exit 0 again. */
#ifndef FKT_DOCTOR_H
#define FKT_DOCTOR_H

#include <fortknox.h>
#include <stdio.h>
#include <string.h>

#define FKT_DDL_GUARD_INSTALLED 1

/* The exit status of `fortknox doctor` on a healthy install. */
#define FKT_DOCTOR_HEALTHY_EXIT (FKT_DDL_GUARD_INSTALLED ? 0 : 1)

/* Whether fk_doctor's status and report say "healthy": FK_OK, or, while
 * the DDL guard is not installed, FK_EVERIFY with no error but
 * FK-NO-DDL-GUARD. Prints the findings that make it unhealthy. */
static inline int fkt_doctor_healthy(int rc, const fk_report *r)
{
    if (rc == FK_OK)
        return 1;
    int healthy = !FKT_DDL_GUARD_INSTALLED && rc == FK_EVERIFY && r;
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (it->severity == FK_SEV_ERROR &&
            (FKT_DDL_GUARD_INSTALLED || strcmp(it->code, "FK-NO-DDL-GUARD") != 0)) {
            fprintf(stderr, "# doctor: %s: %s\n", it->code, it->message);
            healthy = 0;
        }
    }
    return healthy;
}

#endif
