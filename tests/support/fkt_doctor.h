/* What doctor says about a healthy install: FK_OK, exit 0 (the DDL guard
 * included: install creates its event triggers as a superuser). */
#ifndef FKT_DOCTOR_H
#define FKT_DOCTOR_H

#include <fortknox.h>
#include <stdio.h>

/* Whether fk_doctor's status says "healthy"; prints the error findings
 * that make it unhealthy. */
static inline int fkt_doctor_healthy(int rc, const fk_report *r)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (it->severity == FK_SEV_ERROR)
            fprintf(stderr, "# doctor: %s: %s\n", it->code, it->message);
    }
    return rc == FK_OK;
}

#endif
