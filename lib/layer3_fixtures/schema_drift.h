/* Fixture files against the table they came from: a key that no column has
 * any more (the column was dropped or renamed) or whose values no longer fit
 * the column (retyped). doctor reports it; export refuses to rewrite the
 * type's files over it, since the rewrite would erase the only copy of the
 * lost column's values. One rule, here. */
#ifndef FK_L3_SCHEMA_DRIFT_H
#define FK_L3_SCHEMA_DRIFT_H

#include "fortknox/report.h"
#include "registry.h"

/* Reads the fixture file `path` (relative to the directory root) of intact
 * type e and adds an FK-SCHEMA error to report for each top-level key that
 * no column of e's table has, and for each column whose kind an export would
 * not write as the file's value. *found receives the number of findings. A
 * file that cannot be read or parsed gives no finding (the manifest checks
 * report it). Fails only for out of memory. */
int fk__schema_drift(fk_ctx *ctx, int root, const fk__etype *e, const char *path,
                     fk_report *report, int *found);

#endif
