/* Fuzz target: the audit event JSON that fk_audit_write_json() takes
 * (include/fortknox/audit.h), parsed without a database.
 *
 * PREPARED, NOT YET BUILT. tests/fuzz/meson.build builds this target only
 * when lib/layer2_audit/audit_event.h exists AND declares exactly the
 * contract below (checked with cc.compiles()), so a different API never
 * breaks the build; it is then simply skipped. If the real API differs,
 * adapt the two calls marked ADAPT and the snippet in meson.build.
 *
 * Expected contract:
 *
 *   // Parses an event object ({"entity_type", "entity_id", "entity_name",
 *   // "action", "actor_id", "actor_email", "ip_address", "old", "new"}) into
 *   // *ev. The strings ev points to (old_json/new_json as JSON text) live in
 *   // one block returned in *storage, released with fk__xfree(); *storage is
 *   // NULL on failure. FK_OK, FK_EPARSE, FK_EINVAL or FK_ENOMEM.
 *   int fk__audit_event_from_json(fk_ctx *ctx, const char *json, size_t len,
 *                                 fk_audit_event *ev, char **storage);
 *
 * Invariants:
 *  - accepted only if the text is valid JSON (fk__json_validate) and a
 *    top-level object;
 *  - an accepted event has version FK_AUDIT_EVENT_VERSION, an entity type
 *    [a-z][a-z0-9_]{0,62}, one of the five actions, strings in valid UTF-8,
 *    and old/new either NULL or valid JSON objects;
 *  - refusals are FK_EPARSE or FK_EINVAL, never FK_ENOMEM; the k-th
 *    allocation failing gives FK_ENOMEM without a leak.
 */
#include <fortknox.h>

#include "alloc.h"
#include "fuzz.h"
#include "json_text.h"
#include "layer2_audit/audit_event.h"

static int parse(const char *in, size_t size, fk_audit_event *ev, char **storage)
{
    *storage = NULL;
    return fk__audit_event_from_json(NULL, in, size, ev, storage); /* ADAPT */
}

static void release(char *storage) { fk__xfree(storage); /* ADAPT */ }

static int type_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 63 && s[0] >= 'a' && s[0] <= 'z' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void check_text(const char *s)
{
    if (s)
        FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)s, strlen(s)));
}

static void check_object(const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s), i = 0;
    FUZZ_CHECK(fk__json_validate(s, n, NULL) == 0);
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    FUZZ_CHECK(i < n && s[i] == '{');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const actions[] = {"created", "updated", "deleted", "restored",
                                          "force_deleted"};
    const char *in = (const char *)data;
    uint64_t h = fuzz_hash(data, size);
    fk_audit_event ev;
    char *storage = NULL;

    fk__alloc_fail_at(0);
    memset(&ev, 0, sizeof ev);
    int rc = parse(in, size, &ev, &storage);
    long n = fk__alloc_count();
    if (rc == FK_OK) {
        FUZZ_CHECK(fk__json_validate(in, size, NULL) == 0);
        FUZZ_CHECK(ev.version == FK_AUDIT_EVENT_VERSION);
        FUZZ_CHECK(ev.entity_type && type_ok(ev.entity_type));
        int known = 0;
        for (size_t i = 0; i < 5; i++)
            known |= ev.action && strcmp(ev.action, actions[i]) == 0;
        FUZZ_CHECK(known);
        check_text(ev.entity_name);
        check_text(ev.actor_email);
        check_text(ev.ip_address);
        check_object(ev.old_json);
        check_object(ev.new_json);
    } else {
        FUZZ_CHECK(storage == NULL);
        FUZZ_CHECK(rc == FK_EPARSE || rc == FK_EINVAL);
    }
    release(storage);

    if (n > 0) {
        fk__alloc_fail_at(1 + (long)((h >> 16) % (uint64_t)n));
        rc = parse(in, size, &ev, &storage);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(rc == FK_ENOMEM && storage == NULL);
        release(storage);
    }
    return 0;
}
