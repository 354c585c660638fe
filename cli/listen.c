/* The LISTEN connection of `watch`.
 *
 * The public API has no LISTEN call, so this one feature opens its own libpq
 * connection (the tool is an example program; the library stays the only
 * thing that touches the design tables). The capture triggers send
 * pg_notify('fortknox', '{"type": ..., "id": ..., "action": ...}') for each
 * captured change; notifications arrive when the change commits. */
#include "cli.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct cli_listener {
    PGconn *conn;
    char *conninfo;
    char error[256];
};

static void ignore_notice(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

/* libpq's message, first line only (it never holds the password). */
static void keep_error(cli_listener *l, const char *what)
{
    const char *msg = l->conn ? PQerrorMessage(l->conn) : "out of memory";
    snprintf(l->error, sizeof l->error, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

static int on_standby(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT pg_is_in_recovery()");
    int yes = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
              strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

int listener_connect(cli_listener *l)
{
    if (l->conn)
        PQfinish(l->conn);
    /* the conninfo expands into dbname; "" means libpq's PG* variables */
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {l->conninfo, "fortknox-watch", NULL};
    l->conn = PQconnectdbParams(keys, vals, 1);
    if (!l->conn || PQstatus(l->conn) != CONNECTION_OK) {
        keep_error(l, "cannot connect");
        return -1;
    }
    PQsetNoticeReceiver(l->conn, ignore_notice, NULL);
    PGresult *res = PQexec(l->conn, "LISTEN fortknox");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok && on_standby(l->conn)) {
        /* notifications are sent on the primary and never replicated */
        snprintf(l->error, sizeof l->error,
                 "the server is a hot standby (pg_is_in_recovery() is true), where LISTEN "
                 "cannot run and no change is announced: run watch against the primary "
                 "server instead (export, verify, doctor and audit verify work on a standby)");
        return -1;
    }
    if (!ok || PQsetnonblocking(l->conn, 1) != 0) {
        keep_error(l, "LISTEN failed");
        return -1;
    }
    return 0;
}

int listener_new(cli_listener **out, const char *conninfo)
{
    *out = calloc(1, sizeof **out);
    if (!*out || !((*out)->conninfo = strdup(conninfo))) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int listener_fd(const cli_listener *l)
{
    return l->conn && PQstatus(l->conn) == CONNECTION_OK ? PQsocket(l->conn) : -1;
}

int listener_drain(cli_listener *l, void (*fn)(const char *payload, void *userdata),
                   void *userdata)
{
    /* A big transaction announces thousands of changes at once: read until
     * the socket is empty, so the caller sees the whole burst and can choose
     * one full export over thousands of single ones. */
    for (;;) {
        if (listener_fd(l) < 0 || !PQconsumeInput(l->conn) ||
            PQstatus(l->conn) != CONNECTION_OK) {
            keep_error(l, "connection lost");
            return -1;
        }
        int got = 0;
        PGnotify *n;
        while ((n = PQnotifies(l->conn)) != NULL) {
            fn(n->extra, userdata);
            PQfreemem(n);
            got = 1;
        }
        struct pollfd pfd = {PQsocket(l->conn), POLLIN, 0};
        if (!got || poll(&pfd, 1, 0) <= 0)
            return 0;
    }
}

int listener_sync(cli_listener *l)
{
    /* The server sends a notification when the listening backend is idle
     * after the notifying transaction committed; a query's round trip makes
     * that happen for every transaction that committed before it was sent
     * (they queued before our query and are delivered when it is done). */
    if (listener_fd(l) < 0 || PQsetnonblocking(l->conn, 0) != 0) {
        keep_error(l, "connection lost");
        return -1;
    }
    PGresult *res = PQexec(l->conn, "SELECT 1");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok || PQsetnonblocking(l->conn, 1) != 0) {
        keep_error(l, "connection lost");
        return -1;
    }
    return 0;
}

const char *listener_error(const cli_listener *l) { return l->error; }

void listener_free(cli_listener *l)
{
    if (!l)
        return;
    if (l->conn)
        PQfinish(l->conn);
    free(l->conninfo);
    free(l);
}
