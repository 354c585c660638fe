/* The fixture directory's manifest, fortknox-manifest.json: every file the
 * exporter wrote with its entity and SHA-256, per-type counts, the export
 * time and the audit chain head at that moment.
 *
 * A fixture directory can hold 100k files, so the manifest is streamed both
 * ways. That is why its line layout is fixed (it is still valid JSON): the
 * reader takes it line by line, one entry per line, and rejects anything
 * else, hand-edited or reformatted manifests included:
 *
 *   {
 *       "format": "fortknox-manifest",
 *       "format_version": 1,
 *       "files": [
 *           {"path": "cohort_definitions/foo.json", "type": "cohort_definition", "id": 5, "sha256": "<64 hex>"},
 *           {"path": "concept_sets/bar.json", "type": "concept_set", "id": 7, "sha256": "<64 hex>"}
 *       ],
 *       "counts": {"cohort_definition": 1, "concept_set": 1},
 *       "exported_at": "2026-11-27T12:00:00Z",
 *       "audit_chain_head": {"id": 42, "hash": "<64 hex>"}
 *   }
 *
 * An entry whose entity holds JSON null (not SQL NULL) in a json/jsonb
 * column ends with , "json_null": ["col", "<child key>/<child id>/col"]: a
 * fixture writes both as null, so the manifest carries the rare one (see
 * docs/fixture-format.md). Entries without it are the common case.
 *
 * with a final newline; no files is "files": [ and ], on consecutive lines;
 * exported_at and audit_chain_head may be null. Entries are grouped by type,
 * ids strictly increasing within a type; counts list the types in the order
 * they first appear. Strings use fk__json_put_string's escaping except that
 * '/' is written as is (paths stay greppable). */
#ifndef FK_L3_MANIFEST_H
#define FK_L3_MANIFEST_H

#include "ctx_internal.h"
#include <stddef.h>
#include <stdint.h>

#define FK__MANIFEST_NAME "fortknox-manifest.json"
#define FK__MANIFEST_TMP ".fortknox-manifest.json.fk-tmp"

/* Longest line the reader accepts, without its newline. */
#define FK__MANIFEST_LINE_MAX 65536
/* Most distinct entity types in one manifest; keeps the counts line short
 * and the reader's memory bounded whatever the file says. */
#define FK__MANIFEST_MAX_TYPES 256
/* Longest path of an entry, in bytes. */
#define FK__MANIFEST_PATH_MAX 255

typedef struct fk__mentry {
    const char *path; /* "<dir>/<file>.json", relative to the fixture root */
    const char *type; /* [a-z][a-z0-9_]*, at most 63 bytes */
    int64_t id;
    char sha256[65];  /* 64 lowercase hex digits */
    const char *json_null; /* JSON array of the paths holding JSON null, or NULL */
} fk__mentry;

/* ------------------------------------------------------------- writing */

typedef struct fk__mwriter fk__mwriter;

/* Creates or truncates FK__MANIFEST_TMP in root_fd (an O_DIRECTORY fd),
 * mode FK__FILE_MODE & ~umask, never through a symlink, and writes the header.
 * FK_OK, FK_EINVAL, FK_ENOMEM or FK_EIO; *out is NULL on failure. */
int fk__mwriter_open(fk_ctx *ctx, fk__mwriter **out, int root_fd);

/* Appends an entry. Entries of one type must be consecutive and their ids
 * strictly increasing; json_null is NULL or a one-line JSON array of
 * strings (the paths holding JSON null). A path (see the reader's rules), type,
 * hash or json_null the
 * reader would reject, or an out-of-order entry, is FK_EINVAL and writes
 * nothing (the writer stays usable). FK_ENOMEM / FK_EIO make the writer
 * unusable. */
int fk__mwriter_add(fk__mwriter *w, const char *path, const char *type, int64_t id,
                    const char *sha256_hex, const char *json_null);

/* exported_at: "YYYY-MM-DDTHH:MM:SSZ" or NULL (null). chain_head_hash NULL
 * writes null; otherwise it is 64 lowercase hex and chain_head_id >= 1.
 * Writes the trailer, fsyncs and closes the temp file. */
int fk__mwriter_finish(fk__mwriter *w, const char *exported_at, int64_t chain_head_id,
                       const char *chain_head_hash);

/* After finish: renames the temp file over FK__MANIFEST_NAME (readers see
 * the old or the new manifest, never a mix) and fsyncs the directory. */
int fk__mwriter_commit(fk__mwriter *w);

/* Removes the temp file unless committed, and frees. NULL is harmless.
 * Always call it, also after a commit. */
void fk__mwriter_free(fk__mwriter *w);

/* ------------------------------------------------------------- reading */

typedef struct fk__mreader fk__mreader;

/* Opens name (FK__MANIFEST_NAME or FK__MANIFEST_TMP) in root_fd and checks
 * the header lines. FK_ENOTFOUND when absent; FK_EPARSE with
 * "<name>:<line>: <what>" for anything not in the layout above; FK_EIO when
 * reading fails or it is not a regular file; FK_ENOMEM. */
int fk__mreader_open(fk_ctx *ctx, fk__mreader **out, int root_fd, const char *name);

/* The next entry: 1 and *e filled (its pointers valid until the next call),
 * 0 after the last one -- by then the trailer has been read and checked,
 * including that its counts equal the entries listed -- or a negative
 * FK_E* code, which later calls return again. Memory use does not depend on
 * the number of entries. */
int fk__mreader_next(fk__mreader *r, fk__mentry *e);

/* Trailer values; meaningful once fk__mreader_next() returned 0. */
const char *fk__mreader_exported_at(const fk__mreader *r);     /* NULL if null */
int64_t fk__mreader_chain_head_id(const fk__mreader *r);       /* 0 if null */
const char *fk__mreader_chain_head_hash(const fk__mreader *r); /* NULL if null */

/* The trailer's per-type counts, in manifest order. Out-of-range i gives
 * NULL and *count 0; count may be NULL. */
size_t fk__mreader_count_types(const fk__mreader *r);
const char *fk__mreader_count_type(const fk__mreader *r, size_t i, int64_t *count);

/* Bytes the reader currently holds in buffers (for tests proving that
 * memory does not grow with the number of entries). */
size_t fk__mreader_mem_bytes(const fk__mreader *r);

void fk__mreader_free(fk__mreader *r);

#endif
