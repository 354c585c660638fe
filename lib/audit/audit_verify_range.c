/* Streaming one range of the chain (audit_verify_range.h).
 *
 * Binary COPY of only the hashed columns: no row description or text
 * escaping to parse, lengths up front, and the server keeps producing into
 * the socket while this thread hashes (the stream is the pipeline). The
 * range is read in chunks of about CHUNK_BYTES (keyset: id > the last one
 * seen, LIMIT n), so stopping early -- a finding, a cancel -- drains at most
 * one chunk and leaves the connection usable, and memory stays bounded by
 * one row. The documents are turned into text only after the LIMIT (the
 * subquery): a plan sorting the chunk's candidates would otherwise run
 * jsonb_out on every row past the last id, to throw most of them away. */
#include "audit_verify_range.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CHUNK_BYTES (8L << 20)
#define CHUNK_ROWS_MIN 64L
#define CHUNK_ROWS_MAX 65536L

static void fail(fk__av_range *r, const char *what, const char *detail)
{
    if (r->failed)
        return;
    r->failed = 1;
    size_t n = strlen(detail);
    while (n && (detail[n - 1] == '\n' || detail[n - 1] == ' '))
        n--;
    snprintf(r->err, sizeof r->err, "%s%s%.*s", what, n ? ": " : "", (int)n, detail);
}

/* The server's own words (without libpq's "ERROR:  "), else libpq's. */
static const char *server_message(PGconn *conn, const PGresult *res)
{
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return m ? m : PQerrorMessage(conn);
}

/* One row: 1 when the range stops here (a finding or a failure). */
/* Written and not sealed yet: both hashes '' (not NULL). */
static int unsealed(const fk__av_row *row)
{
    return row->v[0] && row->len[0] == 0 && row->v[FK__AV_ROW_HASH] &&
           row->len[FK__AV_ROW_HASH] == 0;
}

static int check_row(fk__av_range *r, fk__av_hasher *md, const fk__av_row *row, fk__av_hash *prev,
                     int *linked)
{
    if (r->rows++ == 0) {
        r->first_id = row->id;
        fk__av_hash_of(&r->first_prev, row, 0);
    }
    r->last_id = row->id;
    if (unsealed(row)) { /* nothing to hash yet; what follows must be unsealed too */
        if (!r->unsealed++)
            r->first_unsealed = row->id;
        atomic_store_explicit(&r->done, r->rows, memory_order_relaxed);
        return 0;
    }
    if (!r->first_sealed)
        r->first_sealed = row->id;
    char computed[65];
    if (fk__av_row_hash(md, row, computed) != 0) {
        fail(r, "SHA-256 failed", "");
        return 1;
    }
    if (r->unsealed)
        r->finding = FK__AV_SEALED_AFTER;
    else if (*linked && !fk__av_link_ok(prev, row))
        r->finding = FK__AV_LINK;
    else if (!fk__av_row_intact(row, computed))
        r->finding = FK__AV_ALTERED;
    else if (r->anchor_id && row->id == r->anchor_id) {
        r->anchor_seen = 1;
        if (strcmp(computed, r->anchor) != 0)
            r->finding = FK__AV_ANCHOR;
    }
    if (r->finding) {
        int lowest = atomic_load(r->found_in);
        while (r->index < lowest && !atomic_compare_exchange_weak(r->found_in, &lowest, r->index))
            ;
        return 1;
    }
    fk__av_hash_of(prev, row, FK__AV_ROW_HASH);
    *linked = 1;
    r->last_hash = *prev;
    r->last_sealed = row->id;
    atomic_store_explicit(&r->done, r->rows, memory_order_relaxed);
    return 0;
}

/* The binary COPY header (signature, flags, extension): its length, or 0
 * when it is not one. */
static size_t header_length(const char *p, size_t n)
{
    static const char sig[11] = "PGCOPY\n\377\r\n";
    if (n < 19 || memcmp(p, sig, 11) != 0)
        return 0;
    const unsigned char *u = (const unsigned char *)p + 15;
    uint32_t ext = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
    return ext > n - 19 ? 0 : 19 + ext;
}

/* The caller cancelled, or a range before this one has a finding. */
static int told_to_stop(fk__av_range *r)
{
    return atomic_load_explicit(r->stop, memory_order_relaxed) ||
           atomic_load_explicit(r->found_in, memory_order_relaxed) < r->index;
}

/* Streams one chunk; *got: rows in it, *bytes: their size. 1 when the
 * range stops (finding, failure, cancel), else 0. Always reads the COPY to
 * its end. */
static int chunk(fk__av_range *r, fk__av_hasher *md, const char *sql, fk__av_hash *prev,
                 int *linked, long *got, long *bytes)
{
    PGresult *res = PQexec(r->conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        fail(r, "reading the audit log", server_message(r->conn, res));
        PQclear(res);
        return 1;
    }
    PQclear(res);
    int stop = 0, first = 1;
    char *buf;
    int n;
    while ((n = PQgetCopyData(r->conn, &buf, 0)) >= 0) {
        size_t off = 0;
        if (first) {
            first = 0;
            if (!(off = header_length(buf, (size_t)n))) {
                fail(r, "reading the audit log", "not a binary COPY stream");
                stop = 1;
            }
        }
        if (!stop && told_to_stop(r))
            stop = 1;
        while (!stop && off < (size_t)n) {
            fk__av_row row;
            size_t used = 0;
            int k = fk__av_row_parse(&row, buf + off, (size_t)n - off, &used);
            if (k < 0) {
                fail(r, "reading the audit log", "a malformed row in the COPY stream");
                stop = 1;
            }
            if (k <= 0)
                break;
            off += used;
            ++*got;
            *bytes += (long)used;
            stop = check_row(r, md, &row, prev, linked);
        }
        PQfreemem(buf);
    }
    if (n == -2)
        fail(r, "reading the audit log", PQerrorMessage(r->conn));
    while ((res = PQgetResult(r->conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            fail(r, "reading the audit log", server_message(r->conn, res));
        PQclear(res);
    }
    return stop || r->failed || told_to_stop(r);
}

void fk__av_range_run(fk__av_range *r)
{
    fk__av_hasher hasher, *md = &hasher;
    if (fk__av_hasher_init(md) != 0) {
        fail(r, "out of memory", "");
        return;
    }
    fk__av_hash prev;
    fk__av_hash_genesis(&prev);
    int linked = !r->has_after; /* the chain's first row continues from 64 zeros */
    fk__av_hash_genesis(&r->last_hash);
    int has_after = r->has_after;
    int64_t after = r->after;
    long limit = 1000;
    for (;;) {
        char sql[1024], lo[48] = "", hi[48] = "";
        if (has_after)
            snprintf(lo, sizeof lo, " AND a.id > %" PRId64, after);
        if (r->has_upto)
            snprintf(hi, sizeof hi, " AND a.id <= %" PRId64, r->upto);
        int k = snprintf(sql, sizeof sql,
                         "COPY (SELECT %s FROM (SELECT a.* FROM %s a WHERE true%s%s ORDER BY "
                         "a.id LIMIT %ld) a ORDER BY a.id) TO STDOUT (FORMAT binary)",
                         fk__av_columns_sql, r->audit_q, lo, hi, limit);
        if (k < 0 || (size_t)k >= sizeof sql) {
            fail(r, "the audit table's name is too long", "");
            break;
        }
        long got = 0, bytes = 0;
        if (chunk(r, md, sql, &prev, &linked, &got, &bytes) || got < limit)
            break;
        has_after = 1;
        after = r->last_id;
        /* next chunk of about CHUNK_BYTES at this chunk's row size */
        limit = CHUNK_BYTES / (bytes / got + 1);
        limit = limit < CHUNK_ROWS_MIN ? CHUNK_ROWS_MIN : limit > CHUNK_ROWS_MAX ? CHUNK_ROWS_MAX : limit;
    }
    fk__av_hasher_free(md);
}
