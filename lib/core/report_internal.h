/* Building a fk_report. Operations fill a report as they go and hand it to
 * the caller at the end; nothing here prints or records a context error, so a
 * report can be built with or without a context. */
#ifndef FK_CORE_REPORT_INTERNAL_H
#define FK_CORE_REPORT_INTERNAL_H

#include "fortknox/report.h"
#include <stdint.h>

/* *out is NULL on failure. operation may be NULL (written as null).
 * FK_OK, FK_EINVAL (out NULL) or FK_ENOMEM. */
int fk__report_new(fk_report **out, const char *operation);

/* Appends an item. Strings are copied; any may be NULL. fields_json, when not
 * NULL, must be a JSON array (it is embedded as is in fk_report_json, after
 * insignificant whitespace is removed so the output stays on one line).
 * fmt may be NULL: the item then has no message.
 * FK_OK, FK_EINVAL (r NULL, severity out of range, fields_json not a JSON
 * array) or FK_ENOMEM; on failure the report is unchanged. Pointers returned
 * by fk_report_item_at() for earlier items stay valid. */
int fk__report_add(fk_report *r, fk_severity sev, const char *code, const char *entity_type,
                   int64_t entity_id, const char *path, const char *fields_json, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* Counter name += delta; a new counter starts at 0 and keeps its place in
 * insertion order. Overflow wraps (two's complement) rather than being
 * undefined. FK_OK, FK_EINVAL (r or name NULL) or FK_ENOMEM (report unchanged). */
int fk__report_count(fk_report *r, const char *name, int64_t delta);

/* The counter "prefix.name", e.g. ("cohort_definition", "created"), without
 * the caller formatting the key. */
int fk__report_count2(fk_report *r, const char *prefix, const char *name, int64_t delta);

void fk__report_set_elapsed_ms(fk_report *r, int64_t ms);
/* 0 when never set (or r NULL). */
int64_t fk__report_elapsed_ms(const fk_report *r);

/* 1 once any add or count on r ran out of memory: operations check this
 * once before they succeed, so a report is never silently incomplete. */
int fk__report_failed(const fk_report *r);

/* Overrides "ok". Until this is called, ok means "no item with FK_SEV_ERROR". */
void fk__report_set_ok(fk_report *r, int ok);

#endif
