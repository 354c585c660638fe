/* Parsing, hashing and linking one audit row (audit_verify_row.h). */
#include "audit_verify_row.h"
#include "sha256.h"

#include <string.h>

/* Must match row_hash() in lib/sql/core--1.sql, column for column (the
 * casts to text are the hashed forms); docs/audit.md describes it. */
const char fk__av_columns_sql[] =
    "a.prev_hash::text, a.id::text, a.entity_type::text, a.entity_id::text,"
    " a.entity_name::text, a.action::text, a.actor_id::text, a.actor_email::text,"
    " a.old_json::text, a.new_json::text, a.changed_fields::text, a.ip_address::text,"
    " to_char(a.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), a.context::text,"
    " a.transaction_id::text, a.row_hash::text, a.id";

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int fk__av_row_parse(fk__av_row *row, const char *p, size_t n, size_t *used)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n < 2)
        return -1;
    int16_t cols = (int16_t)((uint16_t)u[0] << 8 | u[1]);
    if (cols == -1) {
        *used = 2;
        return 0;
    }
    if (cols != FK__AV_COLUMNS)
        return -1;
    size_t off = 2;
    for (int c = 0; c < FK__AV_COLUMNS; c++) {
        if (n - off < 4)
            return -1;
        int32_t len = (int32_t)be32(u + off);
        off += 4;
        if (len < -1 || (len > 0 && (size_t)len > n - off))
            return -1;
        row->v[c] = len < 0 ? NULL : p + off;
        row->len[c] = len;
        if (len > 0)
            off += (size_t)len;
    }
    if (!row->v[FK__AV_ID] || row->len[FK__AV_ID] != 8)
        return -1;
    const unsigned char *id = u + (row->v[FK__AV_ID] - p);
    row->id = (int64_t)((uint64_t)be32(id) << 32 | be32(id + 4));
    *used = off;
    return 1;
}

/* Small fields are gathered and hashed in one update; long ones (the
 * documents) are hashed where they lie. */
typedef struct gather {
    EVP_MD_CTX *md;
    size_t n;
    int ok;
    char buf[2048];
} gather;

static void flush(gather *g)
{
    if (g->n && g->ok)
        g->ok = EVP_DigestUpdate(g->md, g->buf, g->n);
    g->n = 0;
}

static void put(gather *g, const char *p, size_t n)
{
    if (n > sizeof g->buf - g->n) {
        flush(g);
        if (n > sizeof g->buf) {
            g->ok = g->ok && EVP_DigestUpdate(g->md, p, n);
            return;
        }
    }
    memcpy(g->buf + g->n, p, n);
    g->n += n;
}

/* "<n>:" into out (at least 12 bytes); its length. snprintf showed in the
 * profile: 15 fields a row. */
static size_t decimal_colon(char *out, uint32_t n)
{
    char tmp[12];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    out[k] = ':';
    return k + 1;
}

int fk__av_hasher_init(fk__av_hasher *h)
{
    static const char tag[] = "fortknox-audit-v2|";
    h->base = EVP_MD_CTX_new();
    h->md = EVP_MD_CTX_new();
    if (!h->base || !h->md || !EVP_DigestInit_ex(h->base, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(h->base, tag, sizeof tag - 1)) {
        fk__av_hasher_free(h);
        return -1;
    }
    return 0;
}

void fk__av_hasher_free(fk__av_hasher *h)
{
    EVP_MD_CTX_free(h->base);
    EVP_MD_CTX_free(h->md);
    h->base = h->md = NULL;
}

int fk__av_row_hash(fk__av_hasher *h, const fk__av_row *row, char out[65])
{
    /* every row starts from the tag already absorbed: a copy, not a new
     * digest (OpenSSL 3 looks the algorithm up, under a lock, on init) */
    EVP_MD_CTX *md = h->md;
    gather g = {.md = md, .ok = EVP_MD_CTX_copy_ex(md, h->base)};
    for (int c = 0; c < FK__AV_CONTENT; c++) {
        if (!row->v[c]) { /* each field is `~` when NULL, else <byte length>:<text> */
            put(&g, "~", 1);
            continue;
        }
        char len[16];
        put(&g, len, decimal_colon(len, (uint32_t)row->len[c]));
        put(&g, row->v[c], (size_t)row->len[c]);
    }
    flush(&g);
    unsigned char d[32];
    unsigned int dn = 0;
    if (!g.ok || !EVP_DigestFinal_ex(md, d, &dn) || dn != 32)
        return -1;
    fk__hex(d, 32, out);
    return 0;
}

void fk__av_hash_of(fk__av_hash *out, const fk__av_row *row, int col)
{
    if (!row->v[col] || row->len[col] > 64) {
        out->len = -1;
        out->h[0] = '\0';
        return;
    }
    out->len = row->len[col];
    memcpy(out->h, row->v[col], (size_t)out->len);
    out->h[out->len] = '\0';
}

void fk__av_hash_genesis(fk__av_hash *out)
{
    memset(out->h, '0', 64);
    out->h[64] = '\0';
    out->len = 64;
}

int fk__av_hash_equal(const fk__av_hash *a, const fk__av_hash *b)
{
    return a->len >= 0 && a->len == b->len && memcmp(a->h, b->h, (size_t)a->len) == 0;
}

int fk__av_row_intact(const fk__av_row *row, const char computed[65])
{
    return row->v[FK__AV_ROW_HASH] && row->len[FK__AV_ROW_HASH] == 64 &&
           memcmp(row->v[FK__AV_ROW_HASH], computed, 64) == 0;
}

int fk__av_link_ok(const fk__av_hash *prev, const fk__av_row *row)
{
    fk__av_hash stored;
    fk__av_hash_of(&stored, row, 0);
    return fk__av_hash_equal(&stored, prev);
}
