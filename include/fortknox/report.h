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

/* ----------------------------------------------------------- formatting */

/** Current version of fk_report_format_options. */
#define FK_REPORT_FORMAT_OPTIONS_VERSION 1

/** Flags of fk_report_format_options (the fortknox tool's global options). */
typedef enum fk_report_format_flags {
    /** One JSON document instead of text (the tool's --json). */
    FK_REPORT_FORMAT_JSON = 1,
    /** Every item, not only warnings and errors, and no limit on how many (--verbose). */
    FK_REPORT_FORMAT_VERBOSE = 2,
    /** No counters and tables; no text at all when exit_status is 0 (--quiet). */
    FK_REPORT_FORMAT_QUIET = 4
} fk_report_format_flags;

/** What the text shows of a report (the JSON document always holds all of it). */
typedef enum fk_report_layout {
    /** FK_REPORT_LAYOUT_FINDINGS for a doctor report, FK_REPORT_LAYOUT_COUNTERS otherwise. */
    FK_REPORT_LAYOUT_AUTO = 0,
    /** The counters on one line with the elapsed time, a table of the
        "<type>.<counter>" counters with a row per entity type, then the items. */
    FK_REPORT_LAYOUT_COUNTERS = 1,
    /** A table of the warnings and errors per code, the lost entities
        (code "FK-LOSS") per entity type, then the items. */
    FK_REPORT_LAYOUT_FINDINGS = 2,
    /** The items alone; with item_code set, a table counting them per entity type first. */
    FK_REPORT_LAYOUT_ITEMS = 3
} fk_report_layout;

/**
 * Options for fk_report_format(): the outcome of a command as the fortknox
 * tool prints it. Fill with fk_report_format_options_init(); fields are only
 * ever appended.
 */
typedef struct fk_report_format_options {
    unsigned version;        /**< FK_REPORT_FORMAT_OPTIONS_VERSION */
    unsigned flags;          /**< fk_report_format_flags; default 0 (text) */
    fk_report_layout layout; /**< default FK_REPORT_LAYOUT_AUTO */
    const char *command;     /**< the command's name, e.g. "verify" (JSON "command"); may be NULL */
    int status;              /**< the operation's outcome: FK_OK (default) or a FK_E* code */
    int exit_status;         /**< the exit status the caller returns: 0 ok, 1 a problem
                                  found, 2 usage error, 3 could not run (default 0) */
    const char *error;       /**< what failed, when status is not FK_OK; may be NULL */
    const char *summary;     /**< the sentence printed first (fk_report_summary()); may be NULL */
    const char *data;        /**< JSON text for the document's "data" member, inserted
                                  as is; NULL = null */
    const char *indent;      /**< before each line of counters, tables and items; NULL = two spaces */
    const char *item_code;   /**< list only the items with this code; NULL = the warnings
                                  and errors (every item with FK_REPORT_FORMAT_VERBOSE) */
    size_t max_items;        /**< most items listed, then "... and N more"; 0 = 25, or
                                  no limit with FK_REPORT_FORMAT_VERBOSE */
} fk_report_format_options;

/** Fills @p opts with defaults. @return FK_OK or FK_EINVAL (NULL, or an unknown version). */
FK_EXTERN int fk_report_format_options_init(fk_report_format_options *opts, unsigned version);

/**
 * What the fortknox tool writes to standard output at the end of a command,
 * so that programs (the PHP binding's artisan commands) print exactly the
 * same. The message for standard error ("fortknox COMMAND: error") stays
 * the caller's.
 *
 * With FK_REPORT_FORMAT_JSON, one line holding one JSON document, whatever
 * the outcome:
 * `{"format": "fortknox-cli", "format_version": 1, "command": "verify",
 *   "exit_status": 1, "status": "FK_EVERIFY", "error": "..." | null,
 *   "report": {...fk_report_json()...} | null, "data": ... | null}`.
 *
 * Otherwise text: the summary line, then the report as opts->layout says.
 * Warnings and errors are listed (every item with FK_REPORT_FORMAT_VERBOSE),
 * each with its file, changed fields and hint, at most opts->max_items.
 * The text is empty when exit_status is 3 (nothing was done: the error is
 * the whole story) and, with FK_REPORT_FORMAT_QUIET, when it is 0.
 *
 * @param[out] out receives the text (possibly ""); release with fk_free().
 * @param report   the operation's report; may be NULL (a failure without one).
 * @param opts     NULL = all defaults.
 * @return FK_OK, FK_EINVAL (out NULL, an unknown options version or layout)
 *         or FK_ENOMEM. Failures are also recorded for fk_errmsg(NULL).
 */
FK_EXTERN FK_WARN_UNUSED int fk_report_format(char **out, const fk_report *report,
                                              const fk_report_format_options *opts);

/**
 * The sentence that sums up an operation's report, as the fortknox tool
 * prints it first: for an "export", "import" (also "import (dry run)"),
 * "verify", "drill", "doctor", "registry check" or "audit verify" report
 * with the outcomes the tool sums up (e.g. `identical: DIR is a faithful
 * copy of the database (12 entities)`). Other operations and outcomes have
 * no sentence: *out is then "".
 *
 * @param[out] out  receives the sentence; release with fk_free().
 * @param report    the report.
 * @param status    what the operation returned (FK_OK, FK_EVERIFY, ...).
 * @param subject   the fixture directory the operation worked on, as the
 *                  user named it; NULL only for doctor and for an audit
 *                  verify without an anchor directory.
 * @return FK_OK, FK_EINVAL (out or report NULL, or subject NULL where the
 *         sentence names it) or FK_ENOMEM.
 */
FK_EXTERN FK_WARN_UNUSED int fk_report_summary(char **out, const fk_report *report, int status,
                                               const char *subject);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_REPORT_H */
