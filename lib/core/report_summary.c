/* fk_report_summary(): the sentence that sums up an operation, printed first
 * by the fortknox tool (and by the PHP binding's artisan commands). */
#include "ctx_internal.h"
#include "buf.h"
#include "fortknox/report.h"
#include "entry.h"
#include <string.h>

static long long counter(const fk_report *r, const char *name)
{
    return (long long)fk_report_counter(r, name);
}

/* Also after a loss or when the audit log the fixtures anchor is gone: the
 * export wrote everything else, and the sentence says what. */
static void export_sentence(fk__buf *b, const fk_report *r, int status, const char *dir)
{
    if (status != FK_OK && status != FK_ELOSS && status != FK_ETAMPER)
        return;
    fk__buf_printf(b, "exported %lld entities to %s: %lld written, %lld unchanged, %lld removed%s",
                   counter(r, "entities"), dir, counter(r, "written"), counter(r, "unchanged"),
                   counter(r, "removed"),
                   counter(r, "lost") ? "; LOST entities kept (see below)" : "");
}

static void import_sentence(fk__buf *b, const fk_report *r, int status, const char *dir)
{
    if (status != FK_OK)
        return;
    int dry_run = strcmp(fk_report_operation(r), "import (dry run)") == 0;
    fk__buf_printf(b, "%s %s: %lld created, %lld updated, %lld unchanged, %lld only in the "
                      "database%s",
                   dry_run ? "dry run of importing" : "imported", dir, counter(r, "created"),
                   counter(r, "updated"), counter(r, "unchanged"), counter(r, "db_only"),
                   dry_run ? " (nothing was changed)" : "");
}

static void verify_sentence(fk__buf *b, const fk_report *r, int status, const char *dir)
{
    if (status == FK_OK)
        fk__buf_printf(b, "identical: %s is a faithful copy of the database (%lld entities)", dir,
                       counter(r, "entities"));
    else if (status == FK_EVERIFY)
        fk__buf_printf(b, "%s differs from the database: %lld differ, %lld only in the database, "
                          "%lld only in %s, %lld files edited, %lld files missing",
                       dir, counter(r, "differs"), counter(r, "db_only"),
                       counter(r, "fixture_only"), dir, counter(r, "file_edited"),
                       counter(r, "file_missing"));
}

static void drill_sentence(fk__buf *b, const fk_report *r, int status, const char *dir)
{
    if (status == FK_OK)
        fk__buf_printf(b, "drill passed: %lld entities from %s restored into a scratch schema "
                          "exactly; live data untouched",
                       counter(r, "restored"), dir);
    else if (status == FK_EVERIFY)
        fk__buf_printf(b, "drill FAILED: %lld of %lld entities from %s did not restore exactly",
                       counter(r, "differs"), counter(r, "entities"), dir);
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

static void doctor_sentence(fk__buf *b, const fk_report *r, int status, const char *dir)
{
    (void)dir;
    if (status != FK_OK && status != FK_EVERIFY)
        return;
    size_t n = fk_report_item_count(r), warnings = 0;
    for (size_t i = 0; i < n; i++)
        warnings += fk_report_item_at(r, i)->severity == FK_SEV_WARNING;
    size_t errors = fk_report_error_count(r);
    if (errors)
        fk__buf_printf(b, "doctor found %zu problem%s and %zu warning%s", errors, plural(errors),
                       warnings, plural(warnings));
    else
        fk__buf_printf(b, "doctor found no loss and no error (%zu warning%s)", warnings,
                       plural(warnings));
}

static void registry_check_sentence(fk__buf *b, const fk_report *r, int status,
                                    const char *registry)
{
    if (status == FK_OK)
        fk__buf_printf(b, "the registry %s fits this database: %lld entity types, %lld child tables",
                       registry, counter(r, "entity_types"), counter(r, "child_tables"));
    else if (status == FK_EVERIFY)
        fk__buf_printf(b, "the registry %s does not fit this database: %lld problem%s (below)",
                       registry, counter(r, "problems"), counter(r, "problems") == 1 ? "" : "s");
}

/* subject: the fixture directory whose anchor and witness were checked, or
 * NULL. "anchored" only for a real anchor: a manifest whose anchor is null
 * (exported with no audit log) proves nothing. */
static void audit_verify_sentence(fk__buf *b, const fk_report *r, int status, const char *anchor)
{
    long long sealed = counter(r, "rows") - counter(r, "unsealed");
    if (status == FK_OK && anchor) {
        long long seen = counter(r, "witnessed");
        fk__buf_printf(b, "audit chain intact: %lld rows verified; ", sealed);
        if (counter(r, "anchor_id"))
            fk__buf_printf(b, "anchored at row %lld", counter(r, "anchor_id"));
        else
            fk__buf_printf(b, "NOT anchored (the manifest has no anchor)");
        fk__buf_printf(b, " in %s; %lld witnessed head%s still in the chain", anchor, seen,
                       seen == 1 ? "" : "s");
    } else if (status == FK_OK)
        fk__buf_printf(b, "audit chain intact: %lld rows verified (not anchored: give --anchor "
                          "DIR to check it against the fixtures' anchor and witness)",
                       sealed);
    else if (status == FK_ETAMPER)
        fk__buf_printf(b, "audit chain BROKEN: the audit log was altered");
    /* a standby, or a role that may not seal: said, never counted verified */
    if (status == FK_OK && counter(r, "unsealed"))
        fk__buf_printf(b, "; %lld newer row%s from row %lld not sealed yet, so not verified "
                          "(`fortknox audit seal` on the primary seals them)",
                       counter(r, "unsealed"), counter(r, "unsealed") == 1 ? "" : "s",
                       counter(r, "first_unsealed_id"));
}

/* The operations that have a sentence; all but doctor's and audit verify's
 * name the directory (registry check's: the registry). */
static const struct {
    const char *operation;
    void (*sentence)(fk__buf *b, const fk_report *r, int status, const char *dir);
    int names_dir;
} sentences[] = {
    {"export", export_sentence, 1},
    {"import", import_sentence, 1},
    {"import (dry run)", import_sentence, 1},
    {"verify", verify_sentence, 1},
    {"drill", drill_sentence, 1},
    {"doctor", doctor_sentence, 0},
    {"registry check", registry_check_sentence, 1},
    {"audit verify", audit_verify_sentence, 0},
};

int fk_report_summary(char **out, const fk_report *report, int status, const char *subject)
{
    FK__ARG(NULL, "fk_report_summary", out);
    *out = NULL;
    FK__ARG(NULL, "fk_report_summary", report);
    const char *op = fk_report_operation(report);
    fk__buf b = FK__BUF_INIT;
    for (size_t i = 0; op && i < sizeof sentences / sizeof *sentences; i++) {
        if (strcmp(op, sentences[i].operation) != 0)
            continue;
        if (sentences[i].names_dir && !subject)
            return fk__fail(NULL, FK_EINVAL,
                            "fk_report_summary: subject is NULL, and the sentence of %s names "
                            "its directory", op);
        sentences[i].sentence(&b, report, status, subject);
    }
    *out = fk__buf_detach(&b);
    return *out ? FK_OK : fk__oom(NULL);
}
