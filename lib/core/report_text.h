/* The human text of a report, for fk_report_format() (report_format.c). */
#ifndef FK_CORE_REPORT_TEXT_H
#define FK_CORE_REPORT_TEXT_H

#include "buf.h"
#include "fortknox/report.h"

/* Appends report as o->layout says (o is complete: version checked, indent
 * set, layout resolved from AUTO). Out of memory leaves out failed. */
void fk__report_text(fk__buf *out, const fk_report *report, const fk_report_format_options *o);

#endif
