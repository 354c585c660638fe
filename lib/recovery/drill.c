/* The recovery drill: the fixtures restored into scratch copies of the
 * design tables and compared with the files, proving a restore would work.
 *
 * Everything happens in one transaction that is always rolled back: the
 * scratch schema never becomes visible to anyone and vanishes even if this
 * process dies. Live tables are only read (ACCESS SHARE locks; concurrent
 * reads and writes go on), and live sequences are never touched. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "fortknox/recovery.h"
#include "import_internal.h"
#include "pgutil.h"
#include "recovery_internal.h"
#include "report_internal.h"
#include "standby.h"
#include "sql_quote.h"
#include "entry.h"

/* What was swapped in the registry, to put back afterwards. */
typedef struct swap {
    char **slot;
    char *saved;
} swap;

typedef struct retarget {
    swap *s;
    size_t n, cap;
} retarget;

static int push(retarget *r, char **slot, char *value)
{
    if (r->n == r->cap) {
        void *g = fk__grow(r->s, &r->cap, sizeof *r->s, 64);
        if (!g)
            return -1;
        r->s = g;
    }
    r->s[r->n++] = (swap){slot, *slot};
    *slot = value;
    return 0;
}

static void restore_all(retarget *r)
{
    for (size_t i = r->n; i-- > 0;) {
        fk__xfree(*r->s[i].slot);
        *r->s[i].slot = r->s[i].saved;
    }
    fk__xfree(r->s);
    memset(r, 0, sizeof *r);
}

/* Creates the scratch copy of table t and points the registry at it: the
 * table name, references to it from other registered tables, and defaults
 * drawing on live sequences. */
static int scratch_table(fk_ctx *ctx, fk__registry *reg, fk__table *t, const char *schema_q,
                         int seq, retarget *rt)
{
    fk__buf sql = FK__BUF_INIT, name = FK__BUF_INIT;
    char *qs = fk__quote_ident(t->schema), *qt = fk__quote_ident(t->name);
    /* "<schema>__<table>" keeps tables of several app schemas apart */
    char raw[140];
    snprintf(raw, sizeof raw, "%s__%s", t->schema, t->name);
    char *qraw = fk__quote_ident(raw);
    int rc = qs && qt && qraw ? FK_OK : fk__oom(ctx);
    if (rc == FK_OK) {
        fk__buf_printf(&name, "%s.%s", schema_q, qraw);
        fk__buf_printf(&sql, "CREATE TABLE %s (LIKE %s INCLUDING ALL);", fk__buf_cstr(&name),
                       t->quoted);
    }
    int k = 0;
    for (size_t i = 0; rc == FK_OK && i < t->ncols; i++) {
        fk__column *c = &t->cols[i];
        if (!c->default_expr || !strstr(c->default_expr, "nextval("))
            continue;
        fk__buf_printf(&sql, "CREATE SEQUENCE %s.\"seq_%d_%d\"; ALTER TABLE %s ALTER COLUMN %s"
                             " SET DEFAULT nextval('%s.\"seq_%d_%d\"'::regclass);",
                       schema_q, seq, k, fk__buf_cstr(&name), c->quoted, schema_q, seq, k);
        fk__buf expr = FK__BUF_INIT;
        fk__buf_printf(&expr, "nextval('%s.\"seq_%d_%d\"'::regclass)", schema_q, seq, k);
        char *e = fk__buf_detach(&expr);
        if (!e || push(rt, &c->default_expr, e) != 0) {
            fk__xfree(e);
            rc = fk__oom(ctx);
        }
        k++;
    }
    if (rc == FK_OK && fk__buf_failed(&sql))
        rc = fk__oom(ctx);
    if (rc == FK_OK)
        rc = fk__pg_exec(ctx, fk__buf_cstr(&sql), "creating the drill's scratch tables");
    /* references to this table from registered tables now mean the copy */
    for (size_t i = 0; rc == FK_OK && i < reg->ntypes; i++)
        for (size_t j = 0; rc == FK_OK && j <= reg->types[i].nchildren; j++) {
            fk__table *o = j == 0 ? &reg->types[i].t : &reg->types[i].children[j - 1].t;
            for (size_t c = 0; rc == FK_OK && c < o->ncols; c++) {
                if (!o->cols[c].fk_table || strcmp(o->cols[c].fk_table, t->quoted) != 0)
                    continue;
                char *copy = fk__strdup(fk__buf_cstr(&name));
                if (!copy || push(rt, &o->cols[c].fk_table, copy) != 0) {
                    fk__xfree(copy);
                    rc = fk__oom(ctx);
                }
            }
        }
    if (rc == FK_OK) {
        char *copy = fk__strdup(fk__buf_cstr(&name));
        if (!copy || push(rt, &t->quoted, copy) != 0) {
            fk__xfree(copy);
            rc = fk__oom(ctx);
        }
    }
    fk__xfree(qs);
    fk__xfree(qt);
    fk__xfree(qraw);
    fk__buf_dispose(&sql);
    fk__buf_dispose(&name);
    return rc;
}

/* The drill's two phases under its own name ("drill: restore", "drill:
 * verify"): a caller shows "drill", and sees the count start again. */
typedef struct phase {
    const fk_verify_options *opts;
    const char *operation;
} phase;

static int phase_progress(const fk_progress *p, void *userdata)
{
    const phase *ph = userdata;
    fk_progress q = *p;
    q.operation = ph->operation;
    return ph->opts->progress(&q, ph->opts->progress_data);
}

int fk_drill(fk_report **out, fk_ctx *ctx, const char *dir, const fk_verify_options *opts)
{
    if (out)
        *out = NULL;
    fk_verify_options defaults;
    fk__registry *reg;
    int root;
    int rc = fk__verify_begin(ctx, "fk_drill", dir, &opts, &defaults, &reg, &root);
    if (rc)
        return rc;
    /* the drill restores into a scratch schema it then rolls back */
    if ((rc = fk__require_primary(ctx, "fk_drill", "a drill"))) {
        close(root);
        return rc;
    }
    fk__clock clock;
    fk__clock_start(&clock);
    fk_report *report = NULL, *imported = NULL;
    fk__txn txn;
    int txn_open = 0;
    retarget rt = {0};
    int64_t diffs = 0;
    char schema[64], *schema_q = NULL;
    snprintf(schema, sizeof schema, "fortknox_drill_%d", (int)getpid());
    if (fk__report_new(&report, "drill") != FK_OK || fk__report_new(&imported, "import") != FK_OK ||
        !(schema_q = fk__quote_ident(schema)))
        rc = fk__oom(ctx);
    if (rc == FK_OK && (rc = fk__txn_begin(ctx, &txn, "BEGIN")) == FK_OK)
        txn_open = 1;
    if (rc == FK_OK) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT set_config('fortknox.context', 'drill', true); "
                                  "CREATE SCHEMA %s", schema_q);
        rc = fk__pg_exec(ctx, sql, "creating the drill's scratch schema");
    }
    int seq = 0;
    for (size_t i = 0; rc == FK_OK && i < reg->ntypes; i++)
        for (size_t j = 0; rc == FK_OK && j <= reg->types[i].nchildren; j++)
            rc = scratch_table(ctx, reg,
                               j == 0 ? &reg->types[i].t : &reg->types[i].children[j - 1].t,
                               schema_q, seq++, &rt);
    /* A file lacking a column does not restore exactly: that is the drill's
     * finding ("differs", exit 1), not a rehearsal that cannot run, so the
     * rehearsal gives such columns their defaults, as fk_import would when
     * asked to (--default '*'); keys without a column still refuse it. */
    static const char *const every_column[] = {"*"};
    fk_key_map km;
    fk_key_map_init(&km, FK_KEY_MAP_VERSION);
    km.default_col = every_column;
    km.ndefault_col = 1;
    phase restore = {opts, "drill: restore"}, verify = {opts, "drill: verify"};
    fk_import_options io;
    fk_import_options_init(&io, FK_IMPORT_OPTIONS_VERSION);
    io.key_map = &km;
    io.progress = opts->progress ? phase_progress : NULL;
    io.progress_data = &restore;
    fk_verify_options vo = *opts;
    vo.progress = opts->progress ? phase_progress : NULL;
    vo.progress_data = &verify;
    if (rc == FK_OK)
        rc = fk__import_into(ctx, reg, root, &io, imported, 1);
    if (rc == FK_OK)
        rc = fk__verify_into(ctx, reg, root, &vo, report, &diffs);
    restore_all(&rt); /* the registry means the live tables again */
    if (txn_open)
        fk__txn_rollback(ctx, &txn); /* the scratch schema disappears with it */
    /* a file the manifest lists and the directory lacks (or holds edited)
     * would not be restored: the backup is incomplete, however well the
     * rest restores */
    int64_t edited = 0, missing = 0;
    if (rc == FK_OK && (rc = fk__verify_manifest(ctx, root, report, &edited, &missing)) == FK_OK)
        diffs += edited + missing;
    close(root);
    int64_t ms = fk__clock_ms(&clock);
    fk__xfree(schema_q);
    if (rc) {
        fk_report_free(report);
        fk_report_free(imported);
        return rc;
    }
    fk__report_count(report, "restored", fk_report_counter(imported, "created"));
    fk__report_count(report, "elapsed_ms", ms);
    fk__report_set_elapsed_ms(report, ms);
    /* what the restore itself warned about belongs in the drill's report */
    for (size_t i = 0; i < fk_report_item_count(imported); i++) {
        const fk_report_item *it = fk_report_item_at(imported, i);
        if (it->severity != FK_SEV_INFO)
            fk__report_add(report, it->severity, it->code, it->entity_type, it->entity_id,
                           it->path, it->fields, it->hint, "%s", it->message ? it->message : "");
    }
    fk_report_free(imported);
    fk__report_set_ok(report, diffs == 0);
    if (fk__report_failed(report)) {
        fk_report_free(report);
        return fk__oom(ctx);
    }
    fk__report_give(out, report);
    if (diffs)
        return fk__fail(ctx, FK_EVERIFY,
                        "drill failed: restoring the fixtures does not reproduce them (%" PRId64
                        " entities differ, or files the manifest lists are missing or edited)",
                        diffs);
    return FK_OK;
}
