/**
 * @file fortknox/report.h
 * @brief The report every long operation returns (export, import, verify,
 *        drill, doctor): counters plus a list of items, readable from C and
 *        as one JSON document (for PHP and scripts).
 */
#ifndef FORTKNOX_REPORT_H
#define FORTKNOX_REPORT_H

#include <stdint.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque report. Free with fk_report_free(). */
typedef struct fk_report fk_report;

/** How serious an item is. */
typedef enum fk_severity {
    FK_SEV_INFO = 0,    /**< a fact: an entity created, a file written */
    FK_SEV_WARNING = 1, /**< worth a look, not a failure */
    FK_SEV_ERROR = 2    /**< a problem the operation or check found */
} fk_severity;

/**
 * One line of a report. All strings are owned by the report and valid until
 * fk_report_free(); any of them may be NULL when it does not apply.
 * Fields are only ever appended to this structure in later versions.
 */
typedef struct fk_report_item {
    fk_severity severity;
    const char *code;        /**< stable machine code: "created", "updated", "unchanged",
                                  "db_only", "written", "removed", "FK-LOSS", ... */
    const char *entity_type; /**< registry type, e.g. "cohort_definition" */
    int64_t entity_id;       /**< primary key, 0 when the item is not about one entity */
    const char *path;        /**< fixture file relative to the fixture root */
    const char *message;     /**< one human sentence */
    const char *fields;      /**< JSON array of changed field names, e.g. ["name","items"] */
    const char *hint;        /**< how to fix it (doctor findings) */
} fk_report_item;

/** Number of items. 0 for NULL. */
FK_EXTERN size_t fk_report_item_count(const fk_report *report);

/** Item @p index (0-based), or NULL when out of range. Borrowed. */
FK_EXTERN const fk_report_item *fk_report_item_at(const fk_report *report, size_t index);

/**
 * Value of a named counter (0 when absent). Counter names are documented by
 * each operation, e.g. "written", "unchanged", "removed", "entities", and per
 * entity type "cohort_definition.created".
 */
FK_EXTERN int64_t fk_report_counter(const fk_report *report, const char *name);

/** Number of counters (for listing them; see fk_report_counter_at()). */
FK_EXTERN size_t fk_report_counter_count(const fk_report *report);

/**
 * Name of counter @p index (0-based, in the order counters were first
 * set), with its value in @p value (may be NULL). NULL when out of range.
 * The name is owned by the report.
 */
FK_EXTERN const char *fk_report_counter_at(const fk_report *report, size_t index,
                                           int64_t *value);

/** Number of items with severity FK_SEV_ERROR. */
FK_EXTERN size_t fk_report_error_count(const fk_report *report);

/**
 * The whole report as a JSON object:
 * `{"operation": "...", "ok": true, "counters": {...}, "items": [{...}], "elapsed_ms": N}`.
 * @param[out] out  receives a NUL-terminated string; release with fk_free().
 * @return FK_OK, FK_EINVAL (NULL argument) or FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_report_json(char **out, const fk_report *report);

/** Name of the operation that made the report ("export", "import", ...). */
FK_EXTERN const char *fk_report_operation(const fk_report *report);

/** Frees a report. NULL is harmless. */
FK_EXTERN void fk_report_free(fk_report *report);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_REPORT_H */
