/* One audit row as chain verification streams it (a binary COPY tuple of
 * exactly the columns the hash needs), hashing it, and checking its link.
 * Hashing a row and checking a link are separate steps: a row can be
 * checked against its own content without knowing the row before it (the
 * first row of a range verified on another connection). */
#ifndef FK_AUDIT_VERIFY_ROW_H
#define FK_AUDIT_VERIFY_ROW_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The hashed content, in row_hash()'s order (lib/sql/core--1.sql,
 * docs/audit.md), then the stored row_hash and the id as int8. */
enum {
    FK__AV_CONTENT = 15, /* prev_hash .. transaction_id */
    FK__AV_ROW_HASH = 15,
    FK__AV_ID = 16,
    FK__AV_COLUMNS = 17
};

/* The SELECT list producing those columns (`a` is the audit table). */
extern const char fk__av_columns_sql[];

typedef struct fk__av_row {
    const char *v[FK__AV_COLUMNS]; /* into the COPY buffer; NULL for SQL NULL */
    int32_t len[FK__AV_COLUMNS];
    int64_t id;
} fk__av_row;

/* A stored hash (prev_hash or row_hash as text): 64 hex digits when
 * intact; anything else is kept so that it compares unequal. */
typedef struct fk__av_hash {
    int len; /* -1: NULL or longer than 64 bytes (never equal) */
    char h[65];
} fk__av_hash;

/* Reads one tuple from a binary COPY message at p (n bytes): 1 and *used
 * when it is a row, 0 at the trailer, -1 when malformed. */
int fk__av_row_parse(fk__av_row *row, const char *p, size_t n, size_t *used);

/* The digest state rows are hashed with, reused from row to row. */
typedef struct fk__av_hasher {
    EVP_MD_CTX *base; /* SHA-256 with the content's tag absorbed */
    EVP_MD_CTX *md;
} fk__av_hasher;

/* 0, or -1 when OpenSSL fails (out of memory). */
int fk__av_hasher_init(fk__av_hasher *h);
void fk__av_hasher_free(fk__av_hasher *h);

/* Hash one row: SHA-256 of its content v2 in lowercase hex. 0, or -1 when
 * OpenSSL fails. */
int fk__av_row_hash(fk__av_hasher *h, const fk__av_row *row, char out[65]);

/* The row's stored row_hash is its computed hash (the row is unaltered). */
int fk__av_row_intact(const fk__av_row *row, const char computed[65]);

/* Check one link: the row's prev_hash is prev, the row_hash of the row
 * before it (64 zeros before the first row). */
int fk__av_link_ok(const fk__av_hash *prev, const fk__av_row *row);

/* Column col of the row as a stored hash (FK__AV_ROW_HASH or 0, prev_hash). */
void fk__av_hash_of(fk__av_hash *out, const fk__av_row *row, int col);

/* 64 zeros: what the first row continues from. */
void fk__av_hash_genesis(fk__av_hash *out);

int fk__av_hash_equal(const fk__av_hash *a, const fk__av_hash *b);

#endif
