/* fortknox-manifest.json: streaming writer and strict streaming reader.
 * The layout is documented in manifest.h; the reader enforces it line by
 * line because a fixed layout is what lets it hold one line at a time. */
#include "manifest.h"
#include "fsutil.h"
#include "alloc.h"
#include "buf.h"
#include "json_text.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR1 "{"
#define HDR2 "    \"format\": \"fortknox-manifest\","
#define HDR3 "    \"format_version\": 1,"
#define HDR4 "    \"files\": ["
#define FILES_END "    ],"
#define ENTRY_INDENT "        "
#define KEY_COUNTS "    \"counts\": "
#define KEY_EXPORTED "    \"exported_at\": "
#define KEY_HEAD "    \"audit_chain_head\": "
#define WRITE_CHUNK 65536

typedef struct mtype {
    char name[64];
    int64_t count;
    int64_t last_id;
} mtype;

/* ------------------------------------------------- shared value rules */

static int is_lower_hex64(const char *s, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int is_type_name(const char *s, size_t n)
{
    if (n == 0 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Why path is not an acceptable "<dir>/<file>.json" entry, or NULL. The
 * verifier opens these paths under the fixture root, so nothing may climb
 * out of it or hide (no "..", no absolute path, no dot-files). */
static const char *path_problem(const char *p, size_t n)
{
    if (n == 0)
        return "is empty";
    if (n > FK__MANIFEST_PATH_MAX)
        return "is longer than 255 bytes";
    if (memchr(p, '\0', n))
        return "contains a NUL byte";
    if (memchr(p, '\\', n))
        return "contains a backslash";
    if (p[0] == '/')
        return "is absolute";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return "contains a control character";
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '.' && p[i + 1] == '.')
            return "contains \"..\"";
    const char *slash = memchr(p, '/', n);
    if (!slash || memchr(slash + 1, '/', n - (size_t)(slash - p) - 1))
        return "is not of the form <directory>/<file>.json";
    size_t dlen = (size_t)(slash - p), flen = n - dlen - 1;
    if (dlen == 0 || flen <= 5 || memcmp(p + n - 5, ".json", 5) != 0)
        return "is not of the form <directory>/<file>.json";
    if (p[0] == '.' || slash[1] == '.')
        return "has a component starting with '.'";
    return NULL;
}

/* "YYYY-MM-DDTHH:MM:SSZ" with plausible field ranges. */
static int is_timestamp(const char *s, size_t n)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (n != sizeof pat - 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return 0;
    }
#define F2(o) ((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
    return F2(5) >= 1 && F2(5) <= 12 && F2(8) >= 1 && F2(8) <= 31 && F2(11) <= 23 && F2(14) <= 59 &&
           F2(17) <= 60;
#undef F2
}

/* fk__json_put_string, then "\/" back to "/": the escape is legal but
 * makes paths in the manifest ungreppable. A backslash in the output always
 * starts an escape, so pairs can be rewritten safely. */
static int put_plain_string(fk__buf *b, const char *s)
{
    size_t start = b->len;
    if (fk__json_put_string(b, s, strlen(s)) < 0)
        return -1;
    size_t o = start;
    for (size_t i = start; i < b->len; i++) {
        if (b->data[i] == '\\' && b->data[i + 1] == '/') {
            b->data[o++] = '/';
            i++;
        } else if (b->data[i] == '\\') {
            b->data[o++] = b->data[i++];
            b->data[o++] = b->data[i];
        } else {
            b->data[o++] = b->data[i];
        }
    }
    b->len = o;
    b->data[o] = '\0';
    return 0;
}

/* ------------------------------------------------------------- writer */

enum { W_OPEN, W_FINISHED, W_COMMITTED, W_FAILED };

struct fk__mwriter {
    fk_ctx *ctx;
    int root_fd;
    int fd;      /* the temp file while open */
    int created; /* the temp file exists and is ours to remove */
    int state;
    int err;     /* the code W_FAILED keeps returning */
    fk__buf out; /* bytes not yet written */
    size_t nentries;
    mtype *types; /* in order of first appearance */
    size_t ntypes;
};

static int w_fail(fk__mwriter *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int w_fail(fk__mwriter *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fk__vfail(w->ctx, code, fmt, ap);
    va_end(ap);
    if (code != FK_EINVAL) {
        w->state = W_FAILED;
        w->err = code;
    }
    return code;
}

static int w_write_all(fk__mwriter *w)
{
    if (fk__buf_failed(&w->out))
        return w_fail(w, FK_ENOMEM, "out of memory writing %s", FK__MANIFEST_TMP);
    size_t off = 0;
    while (off < w->out.len) {
        ssize_t k = write(w->fd, w->out.data + off, w->out.len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return w_fail(w, FK_EIO, "cannot write %s: %s", FK__MANIFEST_TMP, strerror(errno));
        off += (size_t)k;
    }
    fk__buf_clear(&w->out);
    return FK_OK;
}

static int w_maybe_flush(fk__mwriter *w)
{
    if (fk__buf_failed(&w->out) || w->out.len >= WRITE_CHUNK)
        return w_write_all(w);
    return FK_OK;
}

int fk__mwriter_open(fk_ctx *ctx, fk__mwriter **out, int root_fd)
{
    if (!out)
        return fk__fail(ctx, FK_EINVAL, "fk__mwriter_open: out is NULL");
    *out = NULL;
    if (root_fd < 0)
        return fk__fail(ctx, FK_EINVAL, "fk__mwriter_open: no fixture directory");
    fk__mwriter *w = fk__calloc(1, sizeof *w);
    if (!w)
        return fk__fail(ctx, FK_ENOMEM, "out of memory opening the manifest writer");
    w->ctx = ctx;
    w->root_fd = root_fd;
    w->fd = -1;
    w->state = W_OPEN;
    w->types = fk__malloc(FK__MANIFEST_MAX_TYPES * sizeof *w->types);
    if (!w->types || fk__buf_grow(&w->out, WRITE_CHUNK + 1024) < 0) {
        fk__mwriter_free(w);
        return fk__fail(ctx, FK_ENOMEM, "out of memory opening the manifest writer");
    }
    w->fd = openat(root_fd, FK__MANIFEST_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                   FK__FILE_MODE);
    if (w->fd < 0) {
        int rc = fk__fail(ctx, FK_EIO, "cannot create %s: %s", FK__MANIFEST_TMP, strerror(errno));
        fk__mwriter_free(w);
        return rc;
    }
    w->created = 1;
    fk__buf_puts(&w->out, HDR1 "\n" HDR2 "\n" HDR3 "\n" HDR4 "\n");
    *out = w;
    return FK_OK;
}

/* A "json_null" value: a one-line JSON array of strings. */
static int json_null_ok(const char *s, size_t n)
{
    if (n < 2 || s[0] != '[' || memchr(s, '\n', n) || fk__json_validate(s, n, NULL) != 0)
        return 0;
    for (size_t i = 1; i + 1 < n; i++) { /* outside strings only ", " may appear */
        if (s[i] == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
        } else if (s[i] != ',' && s[i] != ' ') {
            return 0;
        }
    }
    return 1;
}

int fk__mwriter_add(fk__mwriter *w, const char *path, const char *type, int64_t id,
                    const char *sha256_hex, const char *json_null)
{
    if (!w)
        return fk__fail(NULL, FK_EINVAL, "fk__mwriter_add: no writer");
    if (w->state == W_FAILED)
        return w->err;
    if (w->state != W_OPEN)
        return w_fail(w, FK_EINVAL, "manifest entry added after the manifest was finished");
    if (!path || !type || !sha256_hex)
        return w_fail(w, FK_EINVAL, "manifest entry with a NULL path, type or hash");
    const char *why = path_problem(path, strlen(path));
    if (why)
        return w_fail(w, FK_EINVAL, "manifest entry path \"%s\" %s", path, why);
    if (!is_type_name(type, strlen(type)))
        return w_fail(w, FK_EINVAL,
                      "manifest entry %s: type \"%s\" is not [a-z][a-z0-9_]* of at most 63 bytes",
                      path, type);
    if (!is_lower_hex64(sha256_hex, strlen(sha256_hex)))
        return w_fail(w, FK_EINVAL, "manifest entry %s: sha256 is not 64 lowercase hex digits",
                      path);
    if (json_null && !json_null_ok(json_null, strlen(json_null)))
        return w_fail(w, FK_EINVAL, "manifest entry %s: json_null is not a one-line array of "
                                    "strings", path);

    mtype *t = w->ntypes ? &w->types[w->ntypes - 1] : NULL;
    if (t && strcmp(t->name, type) == 0) {
        if (id <= t->last_id)
            return w_fail(w, FK_EINVAL,
                          "manifest entry %s: id %" PRId64 " of type %s does not follow the "
                          "previous id %" PRId64 " (ids must increase within a type)",
                          path, id, type, t->last_id);
    } else {
        for (size_t i = 0; i + 1 < w->ntypes; i++)
            if (strcmp(w->types[i].name, type) == 0)
                return w_fail(w, FK_EINVAL,
                              "manifest entry %s: entries of type %s must be consecutive", path,
                              type);
        if (w->ntypes == FK__MANIFEST_MAX_TYPES)
            return w_fail(w, FK_EINVAL, "manifest: more than %d entity types",
                          FK__MANIFEST_MAX_TYPES);
        t = NULL;
    }

    size_t start = w->out.len;
    fk__buf_puts(&w->out,
                 w->nentries ? ",\n" ENTRY_INDENT "{\"path\": " : ENTRY_INDENT "{\"path\": ");
    if (put_plain_string(&w->out, path) < 0) {
        if (fk__buf_failed(&w->out))
            return w_write_all(w);
        w->out.len = start;
        w->out.data[start] = '\0';
        return w_fail(w, FK_EINVAL, "manifest entry path \"%s\" is not valid UTF-8", path);
    }
    fk__buf_printf(&w->out, ", \"type\": \"%s\", \"id\": %" PRId64 ", \"sha256\": \"%s\"", type,
                   id, sha256_hex);
    if (json_null)
        fk__buf_printf(&w->out, ", \"json_null\": %s", json_null);
    fk__buf_putc(&w->out, '}');
    if (fk__buf_failed(&w->out))
        return w_write_all(w);

    if (!t) {
        t = &w->types[w->ntypes++];
        memcpy(t->name, type, strlen(type) + 1);
        t->count = 0;
    }
    t->count++;
    t->last_id = id;
    w->nentries++;
    return w_maybe_flush(w);
}

int fk__mwriter_finish(fk__mwriter *w, const char *exported_at, int64_t chain_head_id,
                       const char *chain_head_hash)
{
    if (!w)
        return fk__fail(NULL, FK_EINVAL, "fk__mwriter_finish: no writer");
    if (w->state == W_FAILED)
        return w->err;
    if (w->state != W_OPEN)
        return w_fail(w, FK_EINVAL, "manifest finished twice");
    if (exported_at && !is_timestamp(exported_at, strlen(exported_at)))
        return w_fail(w, FK_EINVAL, "manifest exported_at \"%s\" is not YYYY-MM-DDTHH:MM:SSZ",
                      exported_at);
    if (chain_head_hash &&
        (!is_lower_hex64(chain_head_hash, strlen(chain_head_hash)) || chain_head_id < 1))
        return w_fail(w, FK_EINVAL,
                      "manifest audit chain head needs an id >= 1 and 64 lowercase hex digits");

    fk__buf *b = &w->out;
    fk__buf_puts(b,
                 w->nentries ? "\n" FILES_END "\n" KEY_COUNTS "{" : FILES_END "\n" KEY_COUNTS "{");
    for (size_t i = 0; i < w->ntypes; i++)
        fk__buf_printf(b, "%s\"%s\": %" PRId64, i ? ", " : "", w->types[i].name, w->types[i].count);
    fk__buf_puts(b, "},\n" KEY_EXPORTED);
    if (exported_at)
        fk__buf_printf(b, "\"%s\"", exported_at);
    else
        fk__buf_puts(b, "null");
    fk__buf_puts(b, ",\n" KEY_HEAD);
    if (chain_head_hash)
        fk__buf_printf(b, "{\"id\": %" PRId64 ", \"hash\": \"%s\"}", chain_head_id,
                       chain_head_hash);
    else
        fk__buf_puts(b, "null");
    fk__buf_puts(b, "\n}\n");
    int rc = w_write_all(w);
    if (rc < 0)
        return rc;
    if (fsync(w->fd) != 0)
        return w_fail(w, FK_EIO, "cannot sync %s: %s", FK__MANIFEST_TMP, strerror(errno));
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0)
        return w_fail(w, FK_EIO, "cannot close %s: %s", FK__MANIFEST_TMP, strerror(errno));
    w->state = W_FINISHED;
    return FK_OK;
}

int fk__mwriter_commit(fk__mwriter *w)
{
    if (!w)
        return fk__fail(NULL, FK_EINVAL, "fk__mwriter_commit: no writer");
    if (w->state == W_FAILED)
        return w->err;
    if (w->state != W_FINISHED)
        return w_fail(w, FK_EINVAL, "manifest committed before it was finished (or twice)");
    if (renameat(w->root_fd, FK__MANIFEST_TMP, w->root_fd, FK__MANIFEST_NAME) != 0)
        return w_fail(w, FK_EIO, "cannot rename %s to %s: %s", FK__MANIFEST_TMP, FK__MANIFEST_NAME,
                      strerror(errno));
    w->state = W_COMMITTED;
    w->created = 0;
    if (fsync(w->root_fd) != 0)
        return fk__fail(w->ctx, FK_EIO, "%s was replaced but the directory could not be synced: %s",
                        FK__MANIFEST_NAME, strerror(errno));
    return FK_OK;
}

void fk__mwriter_free(fk__mwriter *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->created)
        unlinkat(w->root_fd, FK__MANIFEST_TMP, 0);
    fk__buf_dispose(&w->out);
    fk__xfree(w->types);
    fk__xfree(w);
}

/* ------------------------------------------------------------- reader */

enum { R_HEADER, R_ENTRIES, R_DONE, R_FAILED };

struct fk__mreader {
    fk_ctx *ctx;
    int fd;
    char *name;
    int state;
    int err;

    /* line reader: buf[start, end) is read but not consumed */
    char *buf;
    size_t start, end;
    int eof;
    size_t lineno; /* of the line last returned */

    int have_prev, prev_comma;
    size_t prev_line;

    fk__buf path, scratch, json_null;
    mtype *types;
    size_t ntypes;

    int has_exported, has_head;
    char exported_at[21];
    int64_t head_id;
    char head_hash[65];
};

static int r_fail(fk__mreader *r, int code, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records "<name>:<line>: <what>" (no line when 0) and makes the reader
 * return code from now on. */
static int r_fail(fk__mreader *r, int code, size_t line, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line)
        fk__fail(r->ctx, code, "%s:%zu: %s", r->name, line, what);
    else
        fk__fail(r->ctx, code, "%s: %s", r->name, what);
    r->state = R_FAILED;
    r->err = code;
    return code;
}

static int r_oom(fk__mreader *r) { return r_fail(r, FK_ENOMEM, 0, "out of memory"); }

/* The next line without its '\n': 1, 0 at a clean end of file, or an error.
 * Never holds more than one line, so a huge or hostile file cannot make the
 * reader allocate more (getline would grow to the longest line). */
static int read_line(fk__mreader *r, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start = (size_t)(nl - r->buf) + 1;
            r->lineno++;
            return 1;
        }
        size_t pending = r->end - r->start;
        if (pending > FK__MANIFEST_LINE_MAX)
            return r_fail(r, FK_EPARSE, r->lineno + 1, "line longer than %d bytes",
                          FK__MANIFEST_LINE_MAX);
        if (r->eof) {
            if (pending)
                return r_fail(r, FK_EPARSE, r->lineno + 1,
                              "no newline at the end of the file (truncated?)");
            return 0;
        }
        memmove(r->buf, r->buf + r->start, pending);
        r->start = 0;
        r->end = pending;
        ssize_t k = read(r->fd, r->buf + r->end, FK__MANIFEST_LINE_MAX + 1 - r->end);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return r_fail(r, FK_EIO, 0, "read failed: %s", strerror(errno));
        if (k == 0)
            r->eof = 1;
        r->end += (size_t)k;
    }
}

static int line_is(const char *line, size_t len, const char *want)
{
    size_t n = strlen(want);
    return len == n && memcmp(line, want, n) == 0;
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(line, prefix, n) == 0;
}

/* Reports a JSON error inside a line whose value starts at column col0+1. */
static int r_json_fail(fk__mreader *r, size_t line, size_t col0, const fk__json_error *e,
                       const char *what)
{
    if (strcmp(e->msg, "out of memory") == 0)
        return r_oom(r);
    return r_fail(r, FK_EPARSE, line, "%s: invalid JSON at column %zu: %s", what, col0 + e->column,
                  e->msg);
}

/* Decodes a raw JSON string token (with quotes) into r->scratch. */
static int decode(fk__mreader *r, fk__buf *dst, const char *raw, size_t len)
{
    fk__buf_clear(dst);
    if (fk__json_unescape(dst, raw, len) < 0 || !fk__buf_cstr(dst))
        return r_oom(r); /* the token was validated: only memory can fail */
    return 0;
}

/* Key of a member, decoded only when it has escapes (never, from our
 * writer). */
static int key_is(fk__mreader *r, const fk__jmember *m, const char *want, int *is)
{
    if (!memchr(m->key, '\\', m->key_len)) {
        *is = m->key_len == strlen(want) && memcmp(m->key, want, m->key_len) == 0;
        return 0;
    }
    fk__buf_clear(&r->scratch);
    if (fk__json_unescape(&r->scratch, m->key, m->key_len) < 0 || !fk__buf_cstr(&r->scratch))
        return r_oom(r);
    *is = strcmp(r->scratch.data, want) == 0 && r->scratch.len == strlen(want);
    return 0;
}

/* -------------------------------------------------- reader: header */

static int read_header(fk__mreader *r)
{
    static const char *const want[] = {HDR1, HDR2, HDR3, HDR4};
    for (size_t i = 0; i < 4; i++) {
        const char *line;
        size_t len;
        int rc = read_line(r, &line, &len);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return r_fail(r, FK_EPARSE, r->lineno + 1, "unexpected end of file (expected '%s')",
                          want[i]);
        if (line_is(line, len, want[i]))
            continue;
        if (i == 1 && has_prefix(line, len, "    \"format\": "))
            return r_fail(r, FK_EPARSE, r->lineno,
                          "not a fortknox manifest (\"format\" must be \"fortknox-manifest\")");
        if (i == 2 && has_prefix(line, len, "    \"format_version\": "))
            return r_fail(r, FK_EPARSE, r->lineno,
                          "unsupported format_version (this library reads version 1)");
        return r_fail(r, FK_EPARSE, r->lineno,
                      "expected exactly '%s' (the manifest's line layout is fixed)", want[i]);
    }
    r->state = R_ENTRIES;
    return FK_OK;
}

int fk__mreader_open(fk_ctx *ctx, fk__mreader **out, int root_fd, const char *name)
{
    if (!out)
        return fk__fail(ctx, FK_EINVAL, "fk__mreader_open: out is NULL");
    *out = NULL;
    if (root_fd < 0 || !name)
        return fk__fail(ctx, FK_EINVAL, "fk__mreader_open: no fixture directory or file name");
    /* O_NONBLOCK: a FIFO planted under the manifest's name must not hang us. */
    int fd = openat(root_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return fk__fail(ctx, FK_ENOTFOUND, "%s: not found in the fixture directory", name);
        return fk__fail(ctx, FK_EIO, "%s: cannot open: %s", name, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int rc = fk__fail(ctx, FK_EIO, "%s: not a regular file", name);
        close(fd);
        return rc;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);

    fk__mreader *r = fk__calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        return fk__fail(ctx, FK_ENOMEM, "%s: out of memory", name);
    }
    r->ctx = ctx;
    r->fd = fd;
    r->name = fk__strdup(name);
    r->buf = fk__malloc(FK__MANIFEST_LINE_MAX + 1);
    r->types = fk__malloc(FK__MANIFEST_MAX_TYPES * sizeof *r->types);
    if (!r->name || !r->buf || !r->types) {
        fk__mreader_free(r);
        return fk__fail(ctx, FK_ENOMEM, "%s: out of memory", name);
    }
    int rc = read_header(r);
    if (rc < 0) {
        fk__mreader_free(r);
        return rc;
    }
    *out = r;
    return FK_OK;
}

/* -------------------------------------------------- reader: entries */

enum { K_PATH = 1, K_TYPE = 2, K_ID = 4, K_SHA = 8, K_JSON_NULL = 16 };

/* The entry keys in their order; all but json_null are required. */
static const char *const entry_keys[] = {"path", "type", "id", "sha256", "json_null"};
#define REQUIRED_KEYS 4

typedef struct entry_scan {
    fk__mreader *r;
    size_t line;
    unsigned seen;
    int64_t id;
    char type[64];
    char sha[65];
} entry_scan;

static int entry_member(void *ud, const fk__jmember *m)
{
    entry_scan *s = ud;
    fk__mreader *r = s->r;
    const char *const *names = entry_keys;
    int which = -1;
    for (int i = 0; i <= REQUIRED_KEYS && which < 0; i++) {
        int is;
        if (key_is(r, m, names[i], &is) < 0)
            return r->err;
        if (is)
            which = i;
    }
    if (which < 0)
        return r_fail(r, FK_EPARSE, s->line, "unknown key \"%.*s\" in a file entry",
                      (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
    s->seen |= 1u << which;
    if (which == 2) {
        if (m->type != FK__JT_NUMBER)
            return r_fail(r, FK_EPARSE, s->line, "\"id\" must be an integer");
        int rc = fk__json_int64(m->val, m->val_len, &s->id);
        if (rc == -1)
            return r_fail(r, FK_EPARSE, s->line,
                          "\"id\" must be an integer (no fraction or exponent)");
        if (rc == -2)
            return r_fail(r, FK_EPARSE, s->line, "\"id\" does not fit in a 64-bit integer");
        return 0;
    }
    if (which == REQUIRED_KEYS) {
        if (m->type != FK__JT_ARRAY || !json_null_ok(m->val, m->val_len))
            return r_fail(r, FK_EPARSE, s->line, "\"json_null\" must be an array of strings");
        fk__buf_clear(&r->json_null);
        fk__buf_put(&r->json_null, m->val, m->val_len);
        return fk__buf_cstr(&r->json_null) ? 0 : r_oom(r);
    }
    if (m->type != FK__JT_STRING)
        return r_fail(r, FK_EPARSE, s->line, "\"%s\" must be a string", names[which]);
    fk__buf *dst = which == 0 ? &r->path : &r->scratch;
    if (decode(r, dst, m->val, m->val_len) < 0)
        return r->err;
    if (which == 0) {
        const char *why = path_problem(dst->data, dst->len);
        if (why)
            return r_fail(r, FK_EPARSE, s->line, "\"path\" %s", why);
    } else if (which == 1) {
        if (!is_type_name(dst->data, dst->len))
            return r_fail(r, FK_EPARSE, s->line,
                          "\"type\" must match [a-z][a-z0-9_]* (at most 63 bytes)");
        memcpy(s->type, dst->data, dst->len + 1);
    } else {
        if (!is_lower_hex64(dst->data, dst->len))
            return r_fail(r, FK_EPARSE, s->line, "\"sha256\" must be 64 lowercase hex digits");
        memcpy(s->sha, dst->data, 65);
    }
    return 0;
}

static int read_trailer(fk__mreader *r);

static int read_entry(fk__mreader *r, const char *line, size_t len, fk__mentry *e)
{
    size_t ln = r->lineno;
    if (r->have_prev && !r->prev_comma)
        return r_fail(r, FK_EPARSE, r->prev_line,
                      "missing ',' at the end of the line (another entry follows)");
    int comma = line[len - 1] == ',';
    const char *obj = line + 8;
    size_t olen = len - 8 - (size_t)comma;
    if (olen == 0 || obj[olen - 1] != '}')
        return r_fail(r, FK_EPARSE, ln, "a file entry must end with '}' or '},'");

    entry_scan s = {.r = r, .line = ln};
    fk__json_error je;
    int rc = fk__json_scan_object(obj, olen, entry_member, &s, &je);
    if (rc == -1)
        return r_json_fail(r, ln, 8, &je, "file entry");
    if (rc != 0)
        return rc;
    for (int i = 0; i < REQUIRED_KEYS; i++)
        if (!(s.seen & (1u << i)))
            return r_fail(r, FK_EPARSE, ln, "file entry without \"%s\"", entry_keys[i]);

    mtype *t = r->ntypes ? &r->types[r->ntypes - 1] : NULL;
    if (t && strcmp(t->name, s.type) == 0) {
        if (s.id <= t->last_id)
            return r_fail(r, FK_EPARSE, ln,
                          "id %" PRId64 " of type %s does not follow the previous id %" PRId64
                          " (ids must increase within a type)",
                          s.id, s.type, t->last_id);
    } else {
        for (size_t i = 0; i + 1 < r->ntypes; i++)
            if (strcmp(r->types[i].name, s.type) == 0)
                return r_fail(r, FK_EPARSE, ln, "entries of type %s are not consecutive", s.type);
        if (r->ntypes == FK__MANIFEST_MAX_TYPES)
            return r_fail(r, FK_EPARSE, ln, "more than %d entity types", FK__MANIFEST_MAX_TYPES);
        t = &r->types[r->ntypes++];
        memcpy(t->name, s.type, sizeof t->name);
        t->count = 0;
    }
    t->count++;
    t->last_id = s.id;

    r->have_prev = 1;
    r->prev_comma = comma;
    r->prev_line = ln;
    e->path = r->path.data;
    e->type = t->name;
    e->id = s.id;
    memcpy(e->sha256, s.sha, sizeof e->sha256);
    e->json_null = s.seen & K_JSON_NULL ? r->json_null.data : NULL;
    return 1;
}

int fk__mreader_next(fk__mreader *r, fk__mentry *e)
{
    if (!r || !e)
        return fk__fail(r ? r->ctx : NULL, FK_EINVAL, "fk__mreader_next: NULL argument");
    if (r->state == R_FAILED)
        return r->err;
    if (r->state == R_DONE)
        return 0;
    const char *line = NULL;
    size_t len = 0;
    int rc = read_line(r, &line, &len);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return r_fail(r, FK_EPARSE, r->lineno + 1,
                      "unexpected end of file inside \"files\" (truncated?)");
    if (line_is(line, len, FILES_END)) {
        if (r->have_prev && r->prev_comma)
            return r_fail(r, FK_EPARSE, r->prev_line, "',' after the last entry");
        rc = read_trailer(r);
        if (rc < 0)
            return rc;
        r->state = R_DONE;
        return 0;
    }
    if (len > 8 && memcmp(line, ENTRY_INDENT "{", 9) == 0)
        return read_entry(r, line, len, e);
    return r_fail(r, FK_EPARSE, r->lineno,
                  "expected a file entry ('        {...}') or the end of \"files\" ('" FILES_END
                  "')");
}

/* -------------------------------------------------- reader: trailer */

typedef struct counts_scan {
    fk__mreader *r;
    size_t line;
    size_t i;
    int mismatch;
} counts_scan;

static int counts_member(void *ud, const fk__jmember *m)
{
    counts_scan *s = ud;
    fk__mreader *r = s->r;
    int64_t v = 0;
    if (m->type != FK__JT_NUMBER || fk__json_int64(m->val, m->val_len, &v) != 0 || v < 0)
        return r_fail(r, FK_EPARSE, s->line, "\"counts\" values must be non-negative integers");
    fk__buf_clear(&r->scratch);
    if (fk__json_unescape(&r->scratch, m->key, m->key_len) < 0 || !fk__buf_cstr(&r->scratch))
        return r_oom(r);
    if (s->i >= r->ntypes || strlen(r->scratch.data) != r->scratch.len ||
        strcmp(r->scratch.data, r->types[s->i].name) != 0 || v != r->types[s->i].count)
        s->mismatch = 1;
    s->i++;
    return 0;
}

typedef struct head_scan {
    fk__mreader *r;
    size_t line;
    unsigned seen;
} head_scan;

static int head_member(void *ud, const fk__jmember *m)
{
    head_scan *s = ud;
    fk__mreader *r = s->r;
    int is_id, is_hash;
    if (key_is(r, m, "id", &is_id) < 0 || key_is(r, m, "hash", &is_hash) < 0)
        return r->err;
    if (is_id) {
        if (m->type != FK__JT_NUMBER || fk__json_int64(m->val, m->val_len, &r->head_id) != 0 ||
            r->head_id < 1)
            return r_fail(r, FK_EPARSE, s->line,
                          "\"audit_chain_head\": \"id\" must be an integer >= 1");
        s->seen |= 1;
        return 0;
    }
    if (is_hash) {
        if (m->type != FK__JT_STRING || decode(r, &r->scratch, m->val, m->val_len) < 0 ||
            !is_lower_hex64(r->scratch.data, r->scratch.len))
            return r->state == R_FAILED
                       ? r->err
                       : r_fail(r, FK_EPARSE, s->line,
                                "\"audit_chain_head\": \"hash\" must be 64 lowercase hex digits");
        memcpy(r->head_hash, r->scratch.data, 65);
        s->seen |= 2;
        return 0;
    }
    return r_fail(r, FK_EPARSE, s->line, "unknown key \"%.*s\" in \"audit_chain_head\"",
                  (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
}

/* One "    "key": value[,]" trailer line; the value goes to val and vlen, checked
 * to be one JSON value. */
static int trailer_line(fk__mreader *r, const char *key_prefix, const char *what, int comma,
                        const char **val, size_t *vlen)
{
    const char *line = NULL;
    size_t len = 0;
    int rc = read_line(r, &line, &len);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return r_fail(r, FK_EPARSE, r->lineno + 1,
                      "unexpected end of file: the trailer (counts, exported_at, "
                      "audit_chain_head) is incomplete");
    size_t plen = strlen(key_prefix);
    if (!has_prefix(line, len, key_prefix))
        return r_fail(r, FK_EPARSE, r->lineno, "expected a line starting with '%s'", key_prefix);
    int has_comma = len > plen && line[len - 1] == ',';
    if (comma && !has_comma)
        return r_fail(r, FK_EPARSE, r->lineno, "missing ',' at the end of the line");
    if (!comma && has_comma)
        return r_fail(r, FK_EPARSE, r->lineno, "',' after the last member");
    *val = line + plen;
    *vlen = len - plen - (size_t)has_comma;
    fk__json_error je;
    if (fk__json_validate(*val, *vlen, &je) < 0)
        return r_json_fail(r, r->lineno, plen, &je, what);
    char first = (*val)[0], last = (*val)[*vlen - 1];
    if (first == ' ' || first == '\t' || first == '\r' || last == ' ' || last == '\t' ||
        last == '\r')
        return r_fail(r, FK_EPARSE, r->lineno, "unexpected whitespace around the value");
    return FK_OK;
}

static int read_trailer(fk__mreader *r)
{
    const char *val;
    size_t vlen;
    fk__json_error je;

    int rc = trailer_line(r, KEY_COUNTS, "\"counts\"", 1, &val, &vlen);
    if (rc < 0)
        return rc;
    size_t ln = r->lineno;
    if (val[0] != '{')
        return r_fail(r, FK_EPARSE, ln, "\"counts\" must be an object");
    counts_scan cs = {.r = r, .line = ln};
    rc = fk__json_scan_object(val, vlen, counts_member, &cs, &je);
    if (rc == -1)
        return r_json_fail(r, ln, strlen(KEY_COUNTS), &je, "\"counts\"");
    if (rc != 0)
        return rc;
    if (cs.mismatch || cs.i != r->ntypes)
        return r_fail(r, FK_EPARSE, ln, "counts do not match the files listed");

    if ((rc = trailer_line(r, KEY_EXPORTED, "\"exported_at\"", 1, &val, &vlen)) < 0)
        return rc;
    if (!line_is(val, vlen, "null")) {
        if (val[0] != '"' || decode(r, &r->scratch, val, vlen) < 0 ||
            !is_timestamp(r->scratch.data, r->scratch.len))
            return r->state == R_FAILED
                       ? r->err
                       : r_fail(r, FK_EPARSE, r->lineno,
                                "\"exported_at\" must be \"YYYY-MM-DDTHH:MM:SSZ\" or null");
        memcpy(r->exported_at, r->scratch.data, sizeof r->exported_at);
        r->has_exported = 1;
    }

    if ((rc = trailer_line(r, KEY_HEAD, "\"audit_chain_head\"", 0, &val, &vlen)) < 0)
        return rc;
    ln = r->lineno;
    if (!line_is(val, vlen, "null")) {
        if (val[0] != '{')
            return r_fail(r, FK_EPARSE, ln, "\"audit_chain_head\" must be an object or null");
        head_scan hs = {.r = r, .line = ln};
        rc = fk__json_scan_object(val, vlen, head_member, &hs, &je);
        if (rc == -1)
            return r_json_fail(r, ln, strlen(KEY_HEAD), &je, "\"audit_chain_head\"");
        if (rc != 0)
            return rc;
        if (hs.seen != 3)
            return r_fail(r, FK_EPARSE, ln, "\"audit_chain_head\" needs both \"id\" and \"hash\"");
        r->has_head = 1;
    }

    const char *line = NULL;
    size_t len = 0;
    if ((rc = read_line(r, &line, &len)) < 0)
        return rc;
    if (rc == 0)
        return r_fail(r, FK_EPARSE, r->lineno + 1, "unexpected end of file (expected '}')");
    if (!line_is(line, len, "}"))
        return r_fail(r, FK_EPARSE, r->lineno, "expected exactly '}'");
    if ((rc = read_line(r, &line, &len)) < 0)
        return rc;
    if (rc == 1)
        return r_fail(r, FK_EPARSE, r->lineno, "unexpected data after the closing '}'");
    return FK_OK;
}

/* -------------------------------------------------- reader: accessors */

const char *fk__mreader_exported_at(const fk__mreader *r)
{
    return r && r->state == R_DONE && r->has_exported ? r->exported_at : NULL;
}

int64_t fk__mreader_chain_head_id(const fk__mreader *r)
{
    return r && r->state == R_DONE && r->has_head ? r->head_id : 0;
}

const char *fk__mreader_chain_head_hash(const fk__mreader *r)
{
    return r && r->state == R_DONE && r->has_head ? r->head_hash : NULL;
}

size_t fk__mreader_count_types(const fk__mreader *r)
{
    return r && r->state == R_DONE ? r->ntypes : 0;
}

const char *fk__mreader_count_type(const fk__mreader *r, size_t i, int64_t *count)
{
    if (count)
        *count = 0;
    if (i >= fk__mreader_count_types(r))
        return NULL;
    if (count)
        *count = r->types[i].count;
    return r->types[i].name;
}

size_t fk__mreader_mem_bytes(const fk__mreader *r)
{
    if (!r)
        return 0;
    return sizeof *r + FK__MANIFEST_LINE_MAX + 1 + FK__MANIFEST_MAX_TYPES * sizeof *r->types +
           r->path.cap + r->scratch.cap + r->json_null.cap + (r->name ? strlen(r->name) + 1 : 0);
}

void fk__mreader_free(fk__mreader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    fk__xfree(r->name);
    fk__xfree(r->buf);
    fk__xfree(r->types);
    fk__buf_dispose(&r->path);
    fk__buf_dispose(&r->scratch);
    fk__buf_dispose(&r->json_null);
    fk__xfree(r);
}
