/* fortknox watch DIR: keep DIR current within seconds of every committed
 * change.
 *
 * The capture triggers notify channel "fortknox" with the type and id of each
 * changed entity; watch LISTENs on its own connection (listen.c) and refreshes
 * exactly those files with fk_export_entities(), in small batches, deduplicated.
 * Notifications sent while the LISTEN connection was down are lost, so after
 * (re)connecting watch runs one full export; a storm of changes (a mass
 * update) is also handled by one full export instead of thousands of single
 * ones. Both connections reconnect with backoff.
 *
 * No notification is dropped: those arriving while an export or a git commit
 * runs wait in the LISTEN socket and are read by the next drain (a change
 * committed after an export's snapshot is announced after that commit, so it
 * is always read after the export that missed it). SIGINT/SIGTERM finish the
 * pending batch: the LISTEN connection is synchronised (a round trip, so the
 * notifications of every transaction committed before the signal are in),
 * drained, every pending entity written, and the last commit made. Only what
 * cannot be written then (a storm's backlog, an export the signal cancelled,
 * an entity that failed) is left to the next start, and the exit status is 3
 * so that nothing calls that a clean stop. */
#include "cli.h"

#include <cJSON.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 50         /* entities refreshed between two looks at the socket */
#define STORM 200        /* more pending than this: one full export instead */
#define MAX_ATTEMPTS 3   /* then an entity is given up (the next full export catches it) */
#define BACKOFF_MIN 250  /* ms */
#define BACKOFF_MAX 30000
#define MAX_SAMPLES 100000

typedef struct pending {
    char type[128];
    int64_t id;
    char action[24];
    double received_ms; /* of the first notification not yet served */
    int attempts;
} pending;

typedef struct watch {
    cli *c;
    const char *dir, *message;
    int64_t commit_every; /* seconds, 0 = never */
    char *top;            /* git work tree (with --commit-every) */
    fk_ctx *ctx;
    cli_listener *listener;
    pending *queue;
    size_t nqueue, capqueue;
    int dirty;
    int behind; /* a full export did not finish, or an entity failed: DIR may miss changes */
    uint64_t lost; /* entities found lost (FK_ELOSS): from then on, no commit */
    double last_commit_ms;
    uint64_t received; /* every notification read from the socket */
    uint64_t events, refreshed, failed, full_exports, reconnects, commits;
    uint64_t ignored; /* malformed notifications (anyone connected can NOTIFY) */
    char **types;       /* the registry's entity types: others are malformed */
    size_t ntypes;
    uint64_t unwritten; /* entities still pending when it stopped */
    double *lat; /* notification -> file written, ms */
    size_t nlat, caplat;
    double lat_max, lat_sum;
    uint64_t lat_count;
} watch;

static int human(const watch *w) { return !w->c->json && !w->c->quiet; }

/* ids up to 2^53 are exact in the double cJSON reads; beyond that (or a
 * fraction, or a negative) the id cannot be trusted: 99999999999999999999999
 * used to become INT64_MIN and 1.5 became 1. */
#define MAX_EXACT_ID 9007199254740992.0

/* 1: a usable notification; 0: a table-level one (id 0: an overridden
 * TRUNCATE, whose rows come one by one); -1: malformed. */
static int notification_ok(const cJSON *type, const cJSON *id)
{
    if (!cJSON_IsString(type) || !type->valuestring[0] || !cJSON_IsNumber(id))
        return -1;
    double v = id->valuedouble;
    if (v < 0 || v > MAX_EXACT_ID || v != (double)(int64_t)v)
        return -1;
    return v >= 1;
}

static void on_notify(const char *payload, void *userdata)
{
    watch *w = userdata;
    w->received++;
    cJSON *doc = cJSON_Parse(payload);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(doc, "action");
    int ok = notification_ok(type, id);
    /* a type the registry does not know could never be refreshed: counting
     * it as a failure would let anyone who can NOTIFY fail the watcher */
    for (size_t i = 0; ok > 0 && w->types; i++) {
        if (i == w->ntypes) {
            ok = -1;
            break;
        }
        if (strcmp(w->types[i], type->valuestring) == 0)
            break;
    }
    if (ok < 0) { /* a warning, so printed even with --quiet */
        w->ignored++;
        fprintf(stderr, "fortknox watch: ignored a malformed notification: %.200s\n", payload);
        fflush(stderr);
    }
    if (ok > 0) {
        w->events++;
        if (w->nqueue > STORM) { /* a full export follows: no need to track more */
            cJSON_Delete(doc);
            return;
        }
        int64_t eid = (int64_t)id->valuedouble;
        size_t i = 0;
        while (i < w->nqueue && !(w->queue[i].id == eid && strcmp(w->queue[i].type,
                                                                   type->valuestring) == 0))
            i++;
        if (i == w->nqueue) {
            if (w->nqueue == w->capqueue) {
                size_t cap = w->capqueue ? w->capqueue * 2 : 64;
                pending *grown = realloc(w->queue, cap * sizeof *grown);
                if (!grown) {
                    cJSON_Delete(doc);
                    return;
                }
                w->queue = grown;
                w->capqueue = cap;
            }
            pending *p = &w->queue[w->nqueue++];
            memset(p, 0, sizeof *p);
            snprintf(p->type, sizeof p->type, "%s", type->valuestring);
            p->id = eid;
            p->received_ms = cli_now_ms();
        }
        snprintf(w->queue[i].action, sizeof w->queue[i].action, "%s",
                 cJSON_IsString(action) ? action->valuestring : "changed");
    }
    cJSON_Delete(doc);
}

/* Whether rc is a finding that comes after everything else was written: a
 * loss, or an audit log found cut or rewritten (FK_ETAMPER). */
static int written_but_alarming(int rc) { return rc == FK_ELOSS || rc == FK_ETAMPER; }

/* A loss (FK_ELOSS: the files of entities that disappeared without a
 * recorded deletion were kept, everything else written; or FK_ETAMPER). Committing would
 * still be harmless file-wise, but a watcher that goes on committing as if
 * all were well is how the damage became "the backup" before: it stops
 * committing, says so on stderr whatever --quiet says, and exits 1. */
static void alarm_loss(watch *w, const fk_report *rep)
{
    uint64_t n = 0;
    for (size_t i = 0; rep && i < fk_report_item_count(rep); i++) {
        const fk_report_item *it = fk_report_item_at(rep, i);
        if (strcmp(it->code, "FK-TAMPER") == 0)
            fprintf(stderr, "fortknox watch: TAMPER: %s\n", it->message);
        if (strcmp(it->code, "FK-LOSS") != 0)
            continue;
        n++;
        fprintf(stderr, "fortknox watch: LOSS: %s\n", it->message);
    }
    if (!w->lost)
        fprintf(stderr, "fortknox watch: LOSS: no more commits of %s until the lost entities "
                        "are restored (`fortknox import %s`) or acknowledged (`fortknox export "
                        "%s --accept-loss TYPE:ID`) and watch is restarted\n",
                w->dir, w->dir, w->dir);
    w->lost += n ? n : 1;
    fflush(stderr);
}

/* Reopens the library's connection, with backoff, until it works or a stop
 * is requested. */
static int reopen_ctx(watch *w)
{
    fk_close(w->ctx);
    w->ctx = NULL;
    long backoff = BACKOFF_MIN;
    for (;;) {
        cli_result r = {0};
        int rc = cli_open(w->c, &w->ctx, 0, &r);
        if (rc == FK_OK || cli_stop_requested) {
            free(r.error);
            return rc == FK_OK ? 0 : -1;
        }
        /* an error, so printed even with --quiet (which hides progress only) */
        fprintf(stderr, "fortknox watch: %s; retrying in %ld ms\n", r.error, backoff);
        free(r.error);
        if (cli_sleep_ms(backoff) != 0)
            return -1;
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
}

/* The whole directory at once: at start, after a reconnect, after a storm. */
static int full_export(watch *w)
{
    w->behind = 1;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!w->ctx && reopen_ctx(w) != 0)
            return -1;
        cli_progress progress;
        progress_init(&progress, w->c);
        fk_report *rep = NULL;
        double t0 = cli_now_ms();
        cli_export_args a = {w->dir, NULL, NULL, 0};
        int rc = cli_op_export(&rep, w->ctx, &progress, &a);
        progress_end(&progress);
        if (written_but_alarming(rc)) /* everything else was written */
            alarm_loss(w, rep);
        if (rc == FK_OK || written_but_alarming(rc)) {
            w->behind = 0;
            w->full_exports++;
            int64_t changed = fk_report_counter(rep, "written") + fk_report_counter(rep, "removed");
            w->dirty |= changed > 0;
            if (human(w)) {
                char d[32];
                printf("full export: %lld entities, %lld files written, %lld removed (%s)\n",
                       (long long)fk_report_counter(rep, "entities"),
                       (long long)fk_report_counter(rep, "written"),
                       (long long)fk_report_counter(rep, "removed"),
                       out_duration(d, cli_now_ms() - t0));
                fflush(stdout);
            }
            fk_report_free(rep);
            return 0;
        }
        if (rc == FK_ECANCELLED)
            return -1;
        if (rc != FK_EDB) {
            fprintf(stderr, "fortknox watch: export failed: %s\n", fk_errmsg(w->ctx));
            return -1;
        }
        /* usually the connection was lost (server restart, idle timeout) */
        fprintf(stderr, "fortknox watch: database error, reconnecting: %s\n", fk_errmsg(w->ctx));
        if (reopen_ctx(w) != 0)
            return -1;
    }
    return -1;
}

static void record_latency(watch *w, double ms)
{
    w->lat_count++;
    w->lat_sum += ms;
    if (ms > w->lat_max)
        w->lat_max = ms;
    if (w->nlat == w->caplat && w->caplat < MAX_SAMPLES) {
        size_t cap = w->caplat ? w->caplat * 2 : 256;
        double *grown = realloc(w->lat, cap * sizeof *grown);
        if (grown) {
            w->lat = grown;
            w->caplat = cap;
        }
    }
    if (w->nlat < w->caplat)
        w->lat[w->nlat++] = ms;
}

static void refreshed(watch *w, const pending *p)
{
    double ms = cli_now_ms() - p->received_ms;
    record_latency(w, ms);
    w->refreshed++;
    w->dirty = 1;
    if (human(w)) {
        if (w->c->verbose)
            printf("%s:%lld %s: file written %.1f ms after the notification\n", p->type,
                   (long long)p->id, p->action, ms);
        else
            printf("%s:%lld %s\n", p->type, (long long)p->id, p->action);
    }
}

/* One entity at a time: only used to find which one of a failed batch fails. */
static size_t refresh_each(watch *w, size_t n, size_t kept)
{
    for (size_t i = 0; i < n; i++) {
        pending *p = &w->queue[i];
        if (!w->ctx && reopen_ctx(w) != 0) {
            w->queue[kept++] = *p;
            continue;
        }
        fk_report *rep = NULL;
        const char *type = p->type;
        int rc = fk_export_entities(&rep, w->ctx, w->dir, &type, &p->id, 1, FK_FORMAT_PARTHENON);
        if (written_but_alarming(rc))
            alarm_loss(w, rep);
        fk_report_free(rep);
        if (rc == FK_OK || written_but_alarming(rc)) {
            refreshed(w, p);
            continue;
        }
        const char *msg = fk_errmsg(w->ctx);
        /* FK_EDB is usually a lost connection: reconnect and try again */
        if (rc == FK_EDB && ++p->attempts < MAX_ATTEMPTS && !cli_stop_requested) {
            fprintf(stderr, "fortknox watch: %s:%lld: %s; reconnecting\n", p->type,
                    (long long)p->id, msg);
            w->queue[kept++] = *p;
            fk_close(w->ctx);
            w->ctx = NULL;
            continue;
        }
        fprintf(stderr, "fortknox watch: %s:%lld not refreshed: %s\n", p->type, (long long)p->id,
                msg);
        w->failed++;
        w->behind = 1; /* its file is not current: no clean stop */
    }
    return kept;
}

/* Refreshes up to BATCH pending entities, oldest first, with one
 * fk_export_entities() call (one manifest rewrite for the whole batch). */
static void refresh_batch(watch *w)
{
    size_t n = w->nqueue < BATCH ? w->nqueue : BATCH;
    if (n == 0 || (!w->ctx && reopen_ctx(w) != 0))
        return;
    const char *types[BATCH];
    int64_t ids[BATCH];
    for (size_t i = 0; i < n; i++) {
        types[i] = w->queue[i].type;
        ids[i] = w->queue[i].id;
    }
    size_t kept = 0;
    fk_report *rep = NULL;
    int rc = fk_export_entities(&rep, w->ctx, w->dir, types, ids, n, FK_FORMAT_PARTHENON);
    if (written_but_alarming(rc)) /* the others were written */
        alarm_loss(w, rep);
    fk_report_free(rep);
    if (rc == FK_OK || written_but_alarming(rc)) {
        for (size_t i = 0; i < n; i++)
            refreshed(w, &w->queue[i]);
    } else {
        kept = refresh_each(w, n, 0); /* find the one at fault, keep the rest going */
    }
    /* what did not fit in this batch waits for the next */
    for (size_t i = n; i < w->nqueue; i++)
        w->queue[kept++] = w->queue[i];
    w->nqueue = kept;
    fflush(stdout);
}

static void maybe_commit(watch *w, int at_exit)
{
    if (!w->commit_every || !w->dirty || w->lost)
        return;
    double now = cli_now_ms();
    if (!at_exit && now - w->last_commit_ms < (double)w->commit_every * 1000)
        return;
    cli_result r = {0};
    char *commit = NULL;
    if (git_commit_dir(w->c, w->top, w->dir, w->message, &commit, &r) == 0) {
        if (commit) {
            w->commits++;
            if (human(w))
                printf("committed %s\n", commit);
        }
        w->dirty = 0;
    } else {
        fprintf(stderr, "fortknox watch: %s\n", r.error ? r.error : "git failed");
    }
    w->last_commit_ms = now;
    free(commit);
    free(r.error);
    fflush(stdout);
}

/* Reconnects the LISTEN connection, with backoff. The caller then exports
 * everything: notifications sent meanwhile are lost. */
static int relisten(watch *w)
{
    long backoff = BACKOFF_MIN;
    fprintf(stderr, "fortknox watch: %s; reconnecting\n", listener_error(w->listener));
    while (listener_connect(w->listener) != 0) {
        fprintf(stderr, "fortknox watch: %s; retrying in %ld ms\n", listener_error(w->listener),
                backoff);
        if (cli_sleep_ms(backoff) != 0)
            return -1;
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
    w->reconnects++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void finish_stats(watch *w, cli_result *r)
{
    double median = 0, min = 0;
    if (w->nlat) {
        qsort(w->lat, w->nlat, sizeof *w->lat, cmp_double);
        median = w->lat[w->nlat / 2];
        min = w->lat[0];
    }
    double mean = w->lat_count ? w->lat_sum / (double)w->lat_count : 0;
    r->data = cli_strdupf(
        "{\"received\": %llu, \"events\": %llu, \"refreshed\": %llu, \"failed\": %llu, "
        "\"unwritten\": %llu, \"current\": %s, \"full_exports\": %llu, "
        "\"reconnects\": %llu, \"commits\": %llu, \"lost\": %llu, \"ignored\": %llu, "
        "\"latency_ms\": "
        "{\"samples\": %llu, "
        "\"min\": %.3f, \"median\": %.3f, \"mean\": %.3f, \"max\": %.3f}}",
        (unsigned long long)w->received, (unsigned long long)w->events,
        (unsigned long long)w->refreshed, (unsigned long long)w->failed,
        (unsigned long long)w->unwritten, w->behind || w->unwritten ? "false" : "true",
        (unsigned long long)w->full_exports, (unsigned long long)w->reconnects,
        (unsigned long long)w->commits, (unsigned long long)w->lost,
        (unsigned long long)w->ignored, (unsigned long long)w->lat_count, min, median, mean,
        w->lat_max);
    cli_summary(r, "watch stopped: %llu notifications received (%llu of changed entities, %llu "
                   "malformed and ignored), %llu files refreshed, %llu failed, %llu not written; "
                   "notification to file: median %.1f ms, max %.1f ms",
                (unsigned long long)w->received, (unsigned long long)w->events,
                (unsigned long long)w->ignored, (unsigned long long)w->refreshed,
                (unsigned long long)w->failed, (unsigned long long)w->unwritten, median,
                w->lat_max);
}

/* Pending entities were announced (so committed) before now: an export
 * starting now covers them all. */
static void export_everything(watch *w)
{
    w->nqueue = 0;
    full_export(w);
}

static void run_loop(watch *w)
{
    while (!cli_stop_requested) {
        if (listener_drain(w->listener, on_notify, w) != 0) {
            if (relisten(w) != 0)
                break;
            export_everything(w);
            continue;
        }
        if (w->nqueue > STORM) {
            if (human(w))
                printf("%zu entities changed at once: one full export instead\n", w->nqueue);
            export_everything(w);
            continue;
        }
        if (w->nqueue) {
            refresh_batch(w);
            continue;
        }
        maybe_commit(w, 0);
        int timeout = 5000;
        if (w->commit_every && w->dirty) {
            double due = w->last_commit_ms + (double)w->commit_every * 1000 - cli_now_ms();
            timeout = due < 0 ? 0 : due > 5000 ? 5000 : (int)due + 1;
        }
        struct pollfd fds[2] = {{listener_fd(w->listener), POLLIN, 0},
                                {cli_signal_fd(), POLLIN, 0}};
        poll(fds, 2, timeout);
    }
    /* Stopping: whatever was committed before the signal is announced by
     * now; read it all and finish the batch (a storm's backlog, whose queue
     * is incomplete, is left to the full export the next start begins with). */
    if (listener_sync(w->listener) != 0 || listener_drain(w->listener, on_notify, w) != 0)
        w->behind = 1; /* notifications may be lost: only a full export is sure */
    if (w->nqueue > STORM) {
        w->unwritten = w->nqueue;
        w->nqueue = 0;
        w->behind = 1;
    }
    for (int round = 0; w->nqueue && round < MAX_ATTEMPTS * (STORM / BATCH + 1); round++)
        refresh_batch(w);
    w->unwritten += w->nqueue;
    maybe_commit(w, 1);
    maybe_commit(w, 1);
}

static int run(cli *c, int argc, char **argv)
{
    watch w;
    memset(&w, 0, sizeof w);
    w.c = c;
    w.message = CLI_DEFAULT_COMMIT_MESSAGE;
    const cli_opt opts[] = {
        {"commit-every", CLI_INT, &w.commit_every, 0},
        {"message", CLI_STRING, &w.message, 0},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    w.dir = c->pos[0];
    cli_signals_install();
    cli_result r = {0};
    if (w.commit_every &&
        (git_toplevel(&w.top, w.dir, &r) != 0 || git_check_identity(w.top, &r) != 0)) {
        free(w.top);
        return cli_finish(c, &r);
    }
    cli_install_info info = {0};
    if (cli_open(c, &w.ctx, 0, &r) != FK_OK || cli_read_install(w.ctx, &info, &r) != FK_OK)
        goto out;
    if (!info.installed || !info.capture) {
        cli_fail_msg(&r, FK_EUNSUPPORTED, "watch needs capture mode, where the database "
                                          "announces every change: run `fortknox install "
                                          "--capture` first");
        goto out;
    }
    w.types = cli_registry_types(w.ctx, &w.ntypes);
    if (listener_new(&w.listener, cli_conninfo(c)) != 0) {
        cli_fail_msg(&r, FK_ENOMEM, "out of memory");
        goto out;
    }
    /* LISTEN before the first export, so that nothing falls between them */
    if (listener_connect(w.listener) != 0) {
        cli_fail_msg(&r, FK_EDB, "%s", listener_error(w.listener));
        goto out;
    }
    if (full_export(&w) != 0) {
        if (!cli_stop_requested)
            cli_fail_msg(&r, FK_EIO, "the initial export of %s failed", w.dir);
        else /* not a clean stop either: DIR is not current */
            cli_fail_msg(&r, FK_ECANCELLED, "stopped during the initial export of %s, which is "
                                            "not current: the next start (or `fortknox export "
                                            "%s`) brings it up to date",
                         w.dir, w.dir);
        goto out;
    }
    w.last_commit_ms = cli_now_ms();
    if (human(&w)) {
        printf("watching for changes; %s is kept current (Ctrl-C stops)\n", w.dir);
        fflush(stdout);
    }
    run_loop(&w);
    finish_stats(&w, &r);
    if (w.lost) {
        r.problem_status = FK_ELOSS;
        cli_fail_msg(&r, FK_ELOSS, "%llu alarm%s for %s (entities that disappeared without a "
                                   "recorded deletion, or an audit log found cut or rewritten: "
                                   "see above); the files were kept and nothing was committed "
                                   "after that",
                     (unsigned long long)w.lost, w.lost == 1 ? "" : "s", w.dir);
    } else if (w.behind || w.unwritten) {
        /* a stop that leaves DIR behind the database is no clean stop */
        cli_fail_msg(&r, FK_EIO, "stopped before every change was written to %s (%llu pending, "
                                 "%llu failed): the next start (or `fortknox export %s`) brings "
                                 "it up to date",
                     w.dir, (unsigned long long)w.unwritten, (unsigned long long)w.failed, w.dir);
    } else if (w.commit_every && w.dirty) {
        /* the files are current, git is not: the last commit failed */
        cli_fail_msg(&r, FK_EIO, "the last changes of %s were written but not committed (git "
                                 "failed: see above)",
                     w.dir);
    }
out:
    cli_install_info_free(&info);
    listener_free(w.listener);
    fk_close(w.ctx);
    free(w.queue);
    free(w.lat);
    cli_registry_types_free(w.types);
    free(w.top);
    return cli_finish(c, &r);
}

const cli_command cli_cmd_watch = {CLI_DOC(watch), run};
