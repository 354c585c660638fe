/* Application-level audit writes and the actor settings (the before-state
 * tracker an ORM hook needs is audit_tracker.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "audit_tracker.h"
#include "installed.h"
#include "buf.h"
#include "fortknox/audit.h"
#include "fortknox/fixtures.h"
#include "json_text.h"
#include "pgutil.h"
#include "registry.h"
#include "entry.h"

/* ------------------------------------------------------------- writing */

int fk_audit_event_init(fk_audit_event *ev, unsigned version)
{
    return FK__OPTIONS_INIT(ev, version, FK_AUDIT_EVENT_VERSION, "fk_audit_event_init");
}

static int valid_action(const char *a)
{
    static const char *const ok[] = {"created", "updated", "deleted", "restored",
                                     "force_deleted", NULL};
    for (const char *const *p = ok; a && *p; p++)
        if (strcmp(a, *p) == 0)
            return 1;
    return 0;
}

/* One event checked, its 9 statement parameters filled (texts in ids). */
typedef struct prepared_event {
    const char *p[9];
    char id[24], actor[24];
} prepared_event;

static int check_event(fk_ctx *ctx, const fk_audit_event *ev, prepared_event *pe)
{
    FK__ARG(ctx, "fk_audit_write", ev);
    if (fk__options_check(ctx, ev, FK_AUDIT_EVENT_VERSION, "fk_audit_write"))
        return FK_EINVAL;
    FK__ARG(ctx, "fk_audit_write", ev->entity_type);
    if (!valid_action(ev->action))
        return fk__fail(ctx, FK_EINVAL,
                        "fk_audit_write: action \"%s\" is not one of created, updated, deleted, "
                        "restored, force_deleted",
                        ev->action ? ev->action : "(null)");
    const fk__etype *e;
    int rc = fk__ctx_etype(ctx, ev->entity_type, &e);
    if (rc)
        return rc;
    const char *old_json =
        ev->old_json ? ev->old_json : fk__audit_tracked(ctx, ev->entity_type, ev->entity_id);
    if ((old_json && (rc = fk__audit_need_object(ctx, "old_json", old_json))) ||
        (ev->new_json && (rc = fk__audit_need_object(ctx, "new_json", ev->new_json))))
        return rc;
    fk__i64_to_text(pe->id, ev->entity_id);
    fk__i64_to_text(pe->actor, ev->actor_id);
    const char *p[9] = {ev->entity_type, pe->id, ev->entity_name, ev->action,
                        ev->actor_id ? pe->actor : NULL, ev->actor_email, old_json, ev->new_json,
                        ev->ip_address};
    memcpy(pe->p, p, sizeof p);
    return FK_OK;
}

/* Prepared once per context (and install): planning the call cost more
 * than running it. The application role may not INSERT into the log: its
 * rows go through app_write() (audit_write--1.sql), which stamps them. */
static int prepare_insert(fk_ctx *ctx, const fk__install_info *info)
{
    if (ctx->audit_prepared)
        return FK_OK;
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT %s.app_write($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)",
             info->schema_q);
    PGresult *prep = PQprepare(ctx->conn, "fortknox_audit_write", sql, 9, NULL);
    int rc = FK_OK;
    if (PQresultStatus(prep) != PGRES_COMMAND_OK)
        rc = fk__fail_pg(ctx, FK_EDB, prep, "preparing the audit insert");
    PQclear(prep);
    ctx->audit_prepared = rc == FK_OK;
    return rc;
}

/* Sends every insert in one pipeline: one round trip for the batch, and
 * one implicit transaction (all rows or none) unless one is open already. */
static int insert_pipelined(fk_ctx *ctx, prepared_event *pe, size_t n, int64_t *out_ids)
{
    PGconn *c = ctx->conn;
    if (PQenterPipelineMode(c) != 1)
        return fk__fail(ctx, FK_EDB, "cannot enter pipeline mode: %s", PQerrorMessage(c));
    int rc = FK_OK;
    size_t sent = 0;
    for (; sent < n; sent++)
        if (PQsendQueryPrepared(c, "fortknox_audit_write", 9, pe[sent].p, NULL, NULL, 0) != 1)
            break;
    if (sent < n || PQpipelineSync(c) != 1)
        rc = fk__fail(ctx, FK_EDB, "sending the audit rows: %s", PQerrorMessage(c));
    /* read every result back, whatever happened, to leave the pipeline clean */
    for (size_t i = 0; i < sent; i++) {
        PGresult *res = PQgetResult(c);
        if (!res)
            break;
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            if (out_ids)
                fk__text_to_i64(PQgetvalue(res, 0, 0), &out_ids[i]);
        } else if (rc == FK_OK && PQresultStatus(res) != PGRES_PIPELINE_ABORTED) {
            rc = fk__fail_pg(ctx, FK_EDB, res, "writing audit row %zu", i + 1);
        }
        PQclear(res);
        PQclear(PQgetResult(c)); /* the NULL that ends each query's results */
    }
    if (sent == n) {
        PGresult *sync = PQgetResult(c);
        while (sync && PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
            PQclear(sync);
            sync = PQgetResult(c);
        }
        PQclear(sync);
    }
    if (PQexitPipelineMode(c) != 1 && rc == FK_OK)
        rc = fk__fail(ctx, FK_EDB, "leaving pipeline mode: %s", PQerrorMessage(c));
    return rc;
}

int fk_audit_write_many(int64_t *out_ids, fk_ctx *ctx, const fk_audit_event *events, size_t n)
{
    FK__BEGIN(ctx, "fk_audit_write_many");
    if (out_ids)
        memset(out_ids, 0, n * sizeof *out_ids);
    FK__ARG(ctx, "fk_audit_write_many", events || !n);
    /* every event is checked before the database is asked anything */
    prepared_event *pe = fk__calloc(n ? n : 1, sizeof *pe);
    if (!pe)
        return fk__oom(ctx);
    int rc = FK_OK;
    for (size_t i = 0; rc == FK_OK && i < n; i++)
        rc = check_event(ctx, &events[i], &pe[i]);
    fk__install_info info;
    if (rc == FK_OK)
        rc = fk__install_require(ctx, &info);
    if (rc == FK_OK && info.capture)
        rc = fk__fail(ctx, FK_ECONFLICT,
                      "the audit log is in capture mode: the database records every change "
                      "itself; pass the actor with fk_set_actor() or SET LOCAL fortknox.actor_id "
                      "instead of writing audit rows");
    if (rc == FK_OK)
        rc = prepare_insert(ctx, &info);
    if (rc == FK_OK && n)
        rc = insert_pipelined(ctx, pe, n, out_ids);
    fk__xfree(pe);
    if (rc) {
        if (out_ids)
            memset(out_ids, 0, n * sizeof *out_ids);
        return rc;
    }
    /* the before-states of these entities are used up (or superseded) */
    for (size_t i = 0; i < n; i++)
        fk__audit_tracked_drop(ctx, events[i].entity_type, events[i].entity_id);
    if (ctx->fixture_root && n) {
        const char **types = fk__calloc(n, sizeof *types);
        int64_t *ids = fk__calloc(n, sizeof *ids);
        if (!types || !ids)
            rc = fk__oom(ctx);
        for (size_t i = 0; rc == FK_OK && i < n; i++) {
            types[i] = events[i].entity_type;
            ids[i] = events[i].entity_id;
        }
        if (rc == FK_OK)
            rc = fk_export_entities(NULL, ctx, ctx->fixture_root, types, ids, n,
                                    FK_FORMAT_PARTHENON);
        fk__xfree(types);
        fk__xfree(ids);
        if (rc) {
            char msg[700];
            snprintf(msg, sizeof msg, "%s", fk_errmsg(ctx));
            return fk__fail(ctx, rc == FK_ENOMEM ? FK_ENOMEM : FK_EIO,
                            "audit rows written, but refreshing the fixtures failed: %s", msg);
        }
    }
    return FK_OK;
}

int fk_audit_write(int64_t *out_id, fk_ctx *ctx, const fk_audit_event *ev)
{
    if (out_id)
        *out_id = 0;
    FK__BEGIN(ctx, "fk_audit_write");
    FK__ARG(ctx, "fk_audit_write", ev);
    return fk_audit_write_many(out_id, ctx, ev, 1);
}

/* ----------------------------------------------------------- JSON twin */

typedef struct jevent {
    fk__buf type, name, action, email, ip;
    const char *old_json, *new_json;
    size_t old_len, new_len;
    int64_t id, actor;
    int has_id, bad, oom;
    char bad_key[64];
} jevent;

/* Keys compared decoded (fk__json_key_is); running out of memory is noted. */
static int key_is(jevent *j, const fk__jmember *m, const char *k)
{
    int is = fk__json_key_is(m, k);
    j->oom |= is < 0;
    return is > 0;
}

static int get_int(const fk__jmember *m, int64_t *out)
{
    if (m->type != FK__JT_NUMBER)
        return -1;
    return fk__json_int64(m->val, m->val_len, out) == 0 ? 0 : -1;
}

static int jevent_cb(void *ud, const fk__jmember *m)
{
    jevent *j = ud;
    fk__buf *str = key_is(j, m, "entity_type")   ? &j->type
                   : key_is(j, m, "entity_name") ? &j->name
                   : key_is(j, m, "action")      ? &j->action
                   : key_is(j, m, "actor_email") ? &j->email
                   : key_is(j, m, "ip_address")  ? &j->ip
                                              : NULL;
    int ok = 1;
    if (str && m->type == FK__JT_STRING) {
        size_t before = str->len;
        if (fk__json_unescape(str, m->val, m->val_len) != 0) {
            if (fk__buf_failed(str)) { /* out of memory, not a bad event */
                j->oom = 1;
                return 1;
            }
            ok = 0;
        } else {
            /* an escaped NUL would silently cut the string short */
            ok = str->len == before || !memchr(str->data + before, '\0', str->len - before);
        }
    } else if (str)
        ok = m->type == FK__JT_NULL;
    else if (key_is(j, m, "entity_id"))
        ok = (j->has_id = get_int(m, &j->id) == 0);
    else if (key_is(j, m, "actor_id"))
        ok = m->type == FK__JT_NULL || get_int(m, &j->actor) == 0;
    else if (key_is(j, m, "old") || key_is(j, m, "new")) {
        ok = m->type == FK__JT_OBJECT || m->type == FK__JT_NULL;
        if (ok && m->type == FK__JT_OBJECT) {
            if (key_is(j, m, "old")) {
                j->old_json = m->val;
                j->old_len = m->val_len;
            } else {
                j->new_json = m->val;
                j->new_len = m->val_len;
            }
        }
    } else
        ok = 0; /* unknown key: a typo would silently lose data */
    if (!ok) {
        snprintf(j->bad_key, sizeof j->bad_key, "%.*s", (int)(m->key_len > 60 ? 60 : m->key_len),
                 m->key);
        j->bad = 1;
        return 1;
    }
    return 0;
}

int fk_audit_write_json(int64_t *out_id, fk_ctx *ctx, const char *event_json)
{
    if (out_id)
        *out_id = 0;
    FK__BEGIN(ctx, "fk_audit_write_json");
    FK__ARG(ctx, "fk_audit_write_json", event_json);
    jevent j;
    memset(&j, 0, sizeof j);
    fk__json_error err;
    int rc = FK_OK;
    int sr = fk__json_scan_object(event_json, strlen(event_json), jevent_cb, &j, &err);
    char *old_copy = NULL, *new_copy = NULL;
    if (j.oom)
        rc = fk__oom(ctx);
    else if (sr < 0)
        rc = fk__json_error_is_oom(&err)
                 ? fk__oom(ctx)
                 : fk__fail(ctx, FK_EPARSE, "audit event: %zu:%zu: %s", err.line, err.column,
                            err.msg);
    else if (j.bad)
        rc = fk__fail(ctx, FK_EPARSE, "audit event: \"%s\" is unknown or has the wrong type",
                      j.bad_key);
    else if (!j.has_id || !j.type.len)
        rc = fk__fail(ctx, FK_EPARSE, "audit event: entity_type and entity_id are required");
    else if ((j.old_json && !(old_copy = fk__strndup(j.old_json, j.old_len))) ||
             (j.new_json && !(new_copy = fk__strndup(j.new_json, j.new_len))) ||
             fk__buf_failed(&j.type) || fk__buf_failed(&j.name) || fk__buf_failed(&j.action) ||
             fk__buf_failed(&j.email) || fk__buf_failed(&j.ip))
        rc = fk__oom(ctx);
    if (rc == FK_OK) {
        fk_audit_event ev;
        fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
        ev.entity_type = fk__buf_cstr(&j.type);
        ev.entity_id = j.id;
        ev.entity_name = j.name.len ? fk__buf_cstr(&j.name) : NULL;
        ev.action = j.action.len ? fk__buf_cstr(&j.action) : NULL;
        ev.actor_id = j.actor;
        ev.actor_email = j.email.len ? fk__buf_cstr(&j.email) : NULL;
        ev.ip_address = j.ip.len ? fk__buf_cstr(&j.ip) : NULL;
        ev.old_json = old_copy;
        ev.new_json = new_copy;
        rc = fk_audit_write(out_id, ctx, &ev);
    }
    fk__xfree(old_copy);
    fk__xfree(new_copy);
    fk__buf_dispose(&j.type);
    fk__buf_dispose(&j.name);
    fk__buf_dispose(&j.action);
    fk__buf_dispose(&j.email);
    fk__buf_dispose(&j.ip);
    return rc;
}

int fk_set_actor(fk_ctx *ctx, int64_t actor_id, const char *actor_email, const char *ip_address)
{
    FK__BEGIN(ctx, "fk_set_actor");
    char id[24];
    fk__i64_to_text(id, actor_id);
    const char *p[3] = {actor_id ? id : "", actor_email ? actor_email : "",
                        ip_address ? ip_address : ""};
    PGresult *res;
    int rc = fk__pg_query(ctx, &res,
                          "SELECT set_config('fortknox.actor_id', $1, false),"
                          " set_config('fortknox.actor_email', $2, false),"
                          " set_config('fortknox.ip', $3, false)",
                          3, p, "setting the actor");
    if (rc == FK_OK)
        PQclear(res);
    return rc;
}
