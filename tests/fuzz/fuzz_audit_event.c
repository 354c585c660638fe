/* Fuzz target: the audit event JSON of fk_audit_write_json()
 * (include/fortknox/audit.h, lib/audit/audit_write.c), without a
 * database: the context is built by hand with no connection and the
 * built-in Parthenon registry already loaded, so everything up to the
 * INSERT runs, and a valid event ends in FK_EDB ("no connection").
 *
 * The input (up to its first NUL: the API takes a C string) is the event.
 * Invariants:
 *  - the outcome is exactly what the documented rules give, computed here
 *    independently from the members: invalid JSON, not an object, an unknown
 *    key (compared as written), a member of the wrong type, or a missing
 *    entity_type / entity_id -> FK_EPARSE; an action other than the five ->
 *    FK_EINVAL; a type the registry does not know -> FK_ENOTFOUND; anything
 *    else reaches the database (FK_EDB here). Never FK_OK, never FK_ENOMEM
 *    without an allocation failure, and always a message;
 *  - fk_audit_before() (the ORM tracker) takes the same text as an old
 *    state: FK_OK exactly for a JSON object (then one pending entry, which
 *    fk_audit_forget() drops), FK_EPARSE otherwise;
 *  - in both, the k-th allocation failing gives FK_ENOMEM, or -- when the
 *    failed allocation was only the copy of the error message, which the
 *    library tolerates -- the same code and message as without the failure.
 *
 * As the library does today, strings are taken as C strings: a "\u0000"
 * inside entity_type, action, entity_name, actor_email or ip_address cuts the
 * value there (docs/testing.md, "Fuzzing", lists this as an open finding).
 */
#include <fortknox.h>
#include <inttypes.h>

#include "alloc.h"
#include "buf.h"
#include "ctx_internal.h"
#include "fuzz.h"
#include "json_text.h"
#include "registry.h"

/* Open findings (docs/testing.md, "Fuzzing"): audit_write.c reports some
 * allocation failures as FK_EPARSE ("...: out of memory", or "... is
 * unknown or has the wrong type"). The regression inputs in
 * corpus/audit_event/ make the meson test fail until that is fixed. Building
 * with -DFUZZ_AUDIT_KNOWN_OOM_MISREPORT accepts exactly those so that a long
 * libFuzzer run can look for anything else. */
static int oom_outcome_ok(int r2, const char *msg2, int rc, const char *msg)
{
    if (r2 == FK_ENOMEM || (r2 == rc && strcmp(msg2, msg) == 0))
        return 1;
#ifdef FUZZ_AUDIT_KNOWN_OOM_MISREPORT
    if (r2 == FK_EPARSE &&
        (strstr(msg2, "out of memory") || strstr(msg2, "is unknown or has the wrong type")))
        return 1;
#endif
    return 0;
}

static fk_ctx *the_ctx;

static void drop_ctx(void) { fk_close(the_ctx); }

static fk_ctx *ctx_without_db(void)
{
    if (the_ctx)
        return the_ctx;
    fk_ctx *c = calloc(1, sizeof *c);
    FUZZ_CHECK(c);
    c->schema = strdup("fortknox");
    FUZZ_CHECK(c->schema);
    fk__alloc_fail_at(0);
    FUZZ_CHECK(fk__registry_parse(NULL, &c->registry, fk__parthenon_registry_json,
                                  strlen(fk__parthenon_registry_json), "built-in") == FK_OK);
    the_ctx = c;
    atexit(drop_ctx);
    return c;
}

/* ------------------------------------------------ the expected outcome */

typedef struct ref {
    int bad, has_id;
    fk__buf type, action;
    int type_set, action_set;
} ref;

static int raw_key(const fk__jmember *m, const char *k)
{
    return fuzz_mem_eq(m->key, m->key_len, k, strlen(k));
}

/* An integer token that fits int64: the grammar is already checked. */
static int int_ok(const fk__jmember *m)
{
    if (m->type != FK__JT_NUMBER)
        return 0;
    if (memchr(m->val, '.', m->val_len) || memchr(m->val, 'e', m->val_len) ||
        memchr(m->val, 'E', m->val_len))
        return 0;
    int neg = m->val[0] == '-';
    size_t digits = m->val_len - (size_t)neg;
    if (digits < 19)
        return 1;
    if (digits > 19)
        return 0;
    return memcmp(m->val + neg, neg ? "9223372036854775808" : "9223372036854775807", 19) <= 0;
}

static int ref_member(void *ud, const fk__jmember *m)
{
    ref *r = ud;
    int ok;
    fk__buf *str = raw_key(m, "entity_type") ? &r->type
                   : raw_key(m, "action")    ? &r->action
                                             : NULL;
    if (str || raw_key(m, "entity_name") || raw_key(m, "actor_email") || raw_key(m, "ip_address")) {
        ok = m->type == FK__JT_NULL || m->type == FK__JT_STRING;
        if (ok && m->type == FK__JT_STRING) {
            /* the library refuses an escaped NUL in any string field */
            fk__buf tmp = FK__BUF_INIT;
            FUZZ_CHECK(fk__json_unescape(&tmp, m->val, m->val_len) == 0);
            ok = memchr(tmp.data ? tmp.data : "", '\0', tmp.len) == NULL;
            fk__buf_dispose(&tmp);
        }
        if (ok && str && m->type == FK__JT_STRING) {
            FUZZ_CHECK(fk__json_unescape(str, m->val, m->val_len) == 0);
            *(str == &r->type ? &r->type_set : &r->action_set) = 1;
        }
    } else if (raw_key(m, "entity_id")) {
        ok = r->has_id = int_ok(m);
    } else if (raw_key(m, "actor_id")) {
        ok = m->type == FK__JT_NULL || int_ok(m);
    } else if (raw_key(m, "old") || raw_key(m, "new")) {
        ok = m->type == FK__JT_OBJECT || m->type == FK__JT_NULL;
    } else {
        ok = 0;
    }
    if (!ok) {
        r->bad = 1;
        return 1;
    }
    return 0;
}

static int expected(fk_ctx *ctx, const char *json)
{
    static const char *const actions[] = {"created", "updated", "deleted", "restored",
                                          "force_deleted"};
    ref r = {.type = FK__BUF_INIT, .action = FK__BUF_INIT};
    int sr = fk__json_scan_object(json, strlen(json), ref_member, &r, NULL);
    int want;
    if (sr < 0 || r.bad || !r.has_id || r.type.len == 0) {
        want = FK_EPARSE;
    } else {
        const char *action = r.action.len ? fk__buf_cstr(&r.action) : NULL; /* C string */
        int known = 0;
        for (size_t i = 0; action && i < 5; i++)
            known |= strcmp(action, actions[i]) == 0;
        if (!known)
            want = FK_EINVAL;
        else if (!fk__registry_find(ctx->registry, fk__buf_cstr(&r.type)))
            want = FK_ENOTFOUND;
        else
            want = FK_EDB;
    }
    fk__buf_dispose(&r.type);
    fk__buf_dispose(&r.action);
    return want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_ctx *ctx = ctx_without_db();
    uint64_t h = fuzz_hash(data, size);
    char *json = malloc(size + 1);
    FUZZ_CHECK(json);
    memcpy(json, data, size);
    json[size] = '\0';

    fk__alloc_fail_at(0);
    int want = expected(ctx, json);

    int64_t id = 12345;
    fk__alloc_fail_at(0);
    int rc = fk_audit_write_json(&id, ctx, json);
    long n = fk__alloc_count();
    if (rc != want)
        fprintf(stderr, "fk_audit_write_json: %s (%s), expected %s\n", fk_status_name(rc),
                fk_errmsg(ctx), fk_status_name(want));
    FUZZ_CHECK(rc == want);
    FUZZ_CHECK(id == 0);
    FUZZ_CHECK(fk_errcode(ctx) == rc && fk_errmsg(ctx)[0] != '\0');
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", fk_errmsg(ctx));

    if (n > 0) {
        fk__alloc_fail_at(1 + (long)((h >> 16) % (uint64_t)n));
        int r2 = fk_audit_write_json(&id, ctx, json);
        fk__alloc_fail_at(0);
        if (!oom_outcome_ok(r2, fk_errmsg(ctx), rc, msg))
            fprintf(stderr, "allocation failure: %s (%s); without it: %s (%s)\n",
                    fk_status_name(r2), fk_errmsg(ctx), fk_status_name(rc), msg);
        FUZZ_CHECK(oom_outcome_ok(r2, fk_errmsg(ctx), rc, msg));
    }

    /* the tracker's "before" state */
    fk__json_error e;
    size_t len = strlen(json), i = 0;
    int is_object = fk__json_validate(json, len, &e) == 0;
    while (is_object && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    is_object = is_object && json[i] == '{';
    fk__alloc_fail_at(0);
    rc = fk_audit_before(ctx, "concept_set", 7, json);
    n = fk__alloc_count();
    FUZZ_CHECK(rc == (is_object ? FK_OK : FK_EPARSE));
    FUZZ_CHECK(fk_audit_pending(ctx) == (is_object ? 1u : 0u));
    snprintf(msg, sizeof msg, "%s", fk_errmsg(ctx));
    fk_audit_forget(ctx);
    FUZZ_CHECK(fk_audit_pending(ctx) == 0);
    if (n > 0) {
        fk__alloc_fail_at(1 + (long)((h >> 24) % (uint64_t)n));
        int r2 = fk_audit_before(ctx, "concept_set", 7, json);
        fk__alloc_fail_at(0);
        if (!oom_outcome_ok(r2, fk_errmsg(ctx), rc, msg))
            fprintf(stderr, "fk_audit_before, allocation failure: %s (%s); without it: %s (%s)\n",
                    fk_status_name(r2), fk_errmsg(ctx), fk_status_name(rc), msg);
        FUZZ_CHECK(oom_outcome_ok(r2, fk_errmsg(ctx), rc, msg));
        fk_audit_forget(ctx);
    }
    free(json);
    return 0;
}
