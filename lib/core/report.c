/* The report every long operation returns.
 *
 * A big export adds one item per file, so item strings live in an arena (one
 * allocation per item at most, none freed individually) and items live in
 * fixed-size chunks that never move: fk_report_item_at() pointers handed out
 * early stay valid while the operation keeps adding. Counters are few but
 * bumped constantly, hence a hash index beside the insertion-ordered array
 * the JSON output needs. */
#include "report_internal.h"
#include "alloc.h"
#include "buf.h"
#include "json_text.h"
#include "entry.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ITEMS_PER_CHUNK 256
#define ARENA_BLOCK 16384

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

typedef struct counter {
    const char *name; /* in the arena */
    size_t len;
    uint32_t hash;
    int64_t value;
} counter;

struct fk_report {
    const char *operation; /* in the arena; may be NULL */
    int ok, ok_set;
    int64_t elapsed_ms;
    arena_block *arena; /* head is the block being filled */

    fk_report_item **chunks;
    size_t nchunks, chunks_cap;
    size_t nitems, nerrors;

    counter *counters;
    size_t ncounters, counters_cap;
    uint32_t *slots; /* open addressing: 0 = empty, else counter index + 1 */
    size_t nslots;   /* power of two, at least twice ncounters */
    int oom;         /* an add or count ran out of memory */
};

/* ------------------------------------------------------------------ arena */

/* Memory for n bytes that lives until the report is freed. A request too big
 * to share a block gets its own block behind the head, so the head's free
 * space is not wasted on it. */
static char *arena_alloc(fk_report *r, size_t n)
{
    arena_block *h = r->arena;
    if (h && h->cap - h->used >= n) {
        char *p = h->data + h->used;
        h->used += n;
        return p;
    }
    size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
    if (cap > SIZE_MAX - sizeof(arena_block))
        return NULL;
    arena_block *b = fk__malloc(sizeof(arena_block) + cap);
    if (!b)
        return NULL;
    b->cap = cap;
    b->used = n;
    if (h && cap != ARENA_BLOCK) {
        b->next = h->next;
        h->next = b;
    } else {
        b->next = h;
        r->arena = b;
    }
    return b->data;
}

static void arena_free(arena_block *b)
{
    while (b) {
        arena_block *next = b->next;
        fk__xfree(b);
        b = next;
    }
}

/* ----------------------------------------------------------------- report */

int fk__report_new(fk_report **out, const char *operation)
{
    if (!out)
        return FK_EINVAL;
    *out = NULL;
    fk_report *r = fk__calloc(1, sizeof *r);
    if (!r)
        return FK_ENOMEM;
    r->ok = 1;
    if (operation) {
        size_t n = strlen(operation) + 1;
        char *p = arena_alloc(r, n);
        if (!p) {
            fk__xfree(r);
            return FK_ENOMEM;
        }
        memcpy(p, operation, n);
        r->operation = p;
    }
    *out = r;
    return FK_OK;
}

void fk_report_free(fk_report *report)
{
    if (!report)
        return;
    for (size_t i = 0; i < report->nchunks; i++)
        fk__xfree(report->chunks[i]);
    fk__xfree(report->chunks);
    fk__xfree(report->counters);
    fk__xfree(report->slots);
    arena_free(report->arena);
    fk__xfree(report);
}

const char *fk_report_operation(const fk_report *report)
{
    return report ? report->operation : NULL;
}

void fk__report_set_elapsed_ms(fk_report *r, int64_t ms)
{
    if (r)
        r->elapsed_ms = ms;
}

int64_t fk__report_elapsed_ms(const fk_report *r) { return r ? r->elapsed_ms : 0; }

void fk__report_set_ok(fk_report *r, int ok)
{
    if (r) {
        r->ok = ok != 0;
        r->ok_set = 1;
    }
}

/* ------------------------------------------------------------------ items */

size_t fk_report_item_count(const fk_report *report) { return report ? report->nitems : 0; }

size_t fk_report_error_count(const fk_report *report) { return report ? report->nerrors : 0; }

const fk_report_item *fk_report_item_at(const fk_report *report, size_t index)
{
    if (!report || index >= report->nitems)
        return NULL;
    return &report->chunks[index / ITEMS_PER_CHUNK][index % ITEMS_PER_CHUNK];
}

/* Makes room for item number r->nitems. Any chunk allocated here is kept
 * even if the caller then fails: it is simply used by the next add. */
static int reserve_item(fk_report *r)
{
    size_t chunk = r->nitems / ITEMS_PER_CHUNK;
    if (chunk < r->nchunks)
        return FK_OK;
    if (r->nchunks == r->chunks_cap) {
        fk_report_item **c = fk__grow(r->chunks, &r->chunks_cap, sizeof *c, 8);
        if (!c)
            return FK_ENOMEM;
        r->chunks = c;
    }
    fk_report_item *items = fk__malloc(ITEMS_PER_CHUNK * sizeof *items);
    if (!items)
        return FK_ENOMEM;
    r->chunks[r->nchunks++] = items;
    return FK_OK;
}

/* Length of json without whitespace outside strings; copies it to dst when
 * dst is not NULL. The input is valid JSON. */
static size_t compact_json(char *dst, const char *json)
{
    size_t n = 0;
    int in_str = 0;
    for (const char *s = json; *s; s++) {
        char c = *s;
        if (in_str) {
            if (c == '\\') {
                if (dst) {
                    dst[n] = c;
                    dst[n + 1] = s[1];
                }
                n += 2;
                s++;
                continue;
            }
            if (c == '"')
                in_str = 0;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_str = 1;
        }
        if (dst)
            dst[n] = c;
        n++;
    }
    return n;
}

/* Copies s to *p (advancing it) and returns the copy; NULL stays NULL. */
static const char *put_copy(char **p, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = *p;
    memcpy(d, s, n);
    d[n] = '\0';
    *p += n + 1;
    return d;
}

static int report_add(fk_report *r, fk_severity sev, const char *code, const char *entity_type,
                      int64_t entity_id, const char *path, const char *fields_json,
                      const char *hint, const char *fmt, va_list args)
{
    if (!r || (sev != FK_SEV_INFO && sev != FK_SEV_WARNING && sev != FK_SEV_ERROR))
        return FK_EINVAL;

    size_t fields_len = 0;
    if (fields_json) {
        fk__json_error e;
        size_t raw_len = strlen(fields_json);
        if (fk__json_validate(fields_json, raw_len, &e) < 0)
            return strcmp(e.msg, "out of memory") == 0 ? FK_ENOMEM : FK_EINVAL;
        size_t i = strspn(fields_json, " \t\n\r");
        if (fields_json[i] != '[')
            return FK_EINVAL;
        fields_len = compact_json(NULL, fields_json);
    }

    /* One arena reservation for all strings, so a failure leaves nothing
     * half-added. */
    size_t lens[4] = {code ? strlen(code) : 0, entity_type ? strlen(entity_type) : 0,
                      path ? strlen(path) : 0, hint ? strlen(hint) : 0};
    size_t msg_len = 0;
    va_list ap;
    if (fmt) {
        va_copy(ap, args);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return FK_EINVAL;
        msg_len = (size_t)n;
    }
    size_t total = lens[0] + lens[1] + lens[2] + lens[3] + fields_len + msg_len + 6;

    if (reserve_item(r) < 0)
        return FK_ENOMEM;
    char *p = arena_alloc(r, total);
    if (!p)
        return FK_ENOMEM;

    fk_report_item *it = &r->chunks[r->nitems / ITEMS_PER_CHUNK][r->nitems % ITEMS_PER_CHUNK];
    memset(it, 0, sizeof *it);
    it->severity = sev;
    it->entity_id = entity_id;
    it->code = put_copy(&p, code, lens[0]);
    it->entity_type = put_copy(&p, entity_type, lens[1]);
    it->path = put_copy(&p, path, lens[2]);
    it->hint = put_copy(&p, hint, lens[3]);
    if (fields_json) {
        compact_json(p, fields_json);
        p[fields_len] = '\0';
        it->fields = p;
        p += fields_len + 1;
    }
    if (fmt) {
        va_copy(ap, args);
        vsnprintf(p, msg_len + 1, fmt, ap);
        va_end(ap);
        it->message = p;
    }
    r->nitems++;
    if (sev == FK_SEV_ERROR)
        r->nerrors++;
    return FK_OK;
}

int fk__report_add(fk_report *r, fk_severity sev, const char *code, const char *entity_type,
                   int64_t entity_id, const char *path, const char *fields_json, const char *hint,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = report_add(r, sev, code, entity_type, entity_id, path, fields_json, hint, fmt, ap);
    va_end(ap);
    if (rc == FK_ENOMEM)
        r->oom = 1; /* remembered: callers check once, at the end */
    return rc;
}

int fk__report_failed(const fk_report *r) { return r && r->oom; }

/* --------------------------------------------------------------- counters */

/* A counter key is either "name" or "prefix.name"; hashing and comparing the
 * parts avoids building the joined string just to look it up. */
typedef struct ckey {
    const char *a, *b; /* a may be NULL */
    size_t alen, blen, len;
    uint32_t hash;
} ckey;

static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void ckey_init(ckey *k, const char *prefix, const char *name)
{
    k->a = prefix;
    k->alen = prefix ? strlen(prefix) : 0;
    k->b = name;
    k->blen = strlen(name);
    k->len = prefix ? k->alen + 1 + k->blen : k->blen;
    uint32_t h = 2166136261u;
    if (prefix) {
        h = fnv1a(h, prefix, k->alen);
        h = fnv1a(h, ".", 1);
    }
    k->hash = fnv1a(h, name, k->blen);
}

static int ckey_eq(const ckey *k, const counter *c)
{
    if (c->hash != k->hash || c->len != k->len)
        return 0;
    if (k->a)
        return memcmp(c->name, k->a, k->alen) == 0 && c->name[k->alen] == '.' &&
               memcmp(c->name + k->alen + 1, k->b, k->blen) == 0;
    return memcmp(c->name, k->b, k->blen) == 0;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t find_slot(const fk_report *r, const ckey *k)
{
    size_t mask = r->nslots - 1;
    for (size_t i = k->hash & mask;; i = (i + 1) & mask) {
        uint32_t s = r->slots[i];
        if (s == 0 || ckey_eq(k, &r->counters[s - 1]))
            return i;
    }
}

static int rehash(fk_report *r, size_t nslots)
{
    uint32_t *slots = fk__calloc(nslots, sizeof *slots);
    if (!slots)
        return FK_ENOMEM;
    for (size_t c = 0; c < r->ncounters; c++) {
        size_t i = r->counters[c].hash & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = (uint32_t)(c + 1);
    }
    fk__xfree(r->slots);
    r->slots = slots;
    r->nslots = nslots;
    return FK_OK;
}

static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

static int count_key(fk_report *r, const ckey *k, int64_t delta)
{
    if (r->nslots) {
        size_t i = find_slot(r, k);
        if (r->slots[i]) {
            counter *c = &r->counters[r->slots[i] - 1];
            c->value = wrap_add(c->value, delta);
            return FK_OK;
        }
    }
    if (r->ncounters >= UINT32_MAX - 1)
        return FK_ENOMEM;
    /* Grow everything first: a failure after that leaves spare room only. */
    if (r->ncounters == r->counters_cap) {
        void *g = fk__grow(r->counters, &r->counters_cap, sizeof *r->counters, 16);
        if (!g)
            return FK_ENOMEM;
        r->counters = g;
    }
    if ((r->ncounters + 1) * 2 > r->nslots && rehash(r, r->nslots ? r->nslots * 2 : 32) < 0)
        return FK_ENOMEM;
    char *name = arena_alloc(r, k->len + 1);
    if (!name)
        return FK_ENOMEM;
    if (k->a) {
        memcpy(name, k->a, k->alen);
        name[k->alen] = '.';
        memcpy(name + k->alen + 1, k->b, k->blen);
    } else {
        memcpy(name, k->b, k->blen);
    }
    name[k->len] = '\0';
    counter *c = &r->counters[r->ncounters];
    c->name = name;
    c->len = k->len;
    c->hash = k->hash;
    c->value = delta;
    r->slots[find_slot(r, k)] = (uint32_t)(++r->ncounters);
    return FK_OK;
}

int fk__report_count(fk_report *r, const char *name, int64_t delta)
{
    if (!r || !name)
        return FK_EINVAL;
    ckey k;
    ckey_init(&k, NULL, name);
    int rc = count_key(r, &k, delta);
    if (rc == FK_ENOMEM)
        r->oom = 1;
    return rc;
}

int fk__report_count2(fk_report *r, const char *prefix, const char *name, int64_t delta)
{
    if (!r || !prefix || !name)
        return FK_EINVAL;
    ckey k;
    ckey_init(&k, prefix, name);
    int rc = count_key(r, &k, delta);
    if (rc == FK_ENOMEM)
        r->oom = 1;
    return rc;
}

int64_t fk_report_counter(const fk_report *report, const char *name)
{
    if (!report || !name || !report->nslots)
        return 0;
    ckey k;
    ckey_init(&k, NULL, name);
    uint32_t s = report->slots[find_slot(report, &k)];
    return s ? report->counters[s - 1].value : 0;
}

size_t fk_report_counter_count(const fk_report *report)
{
    return report ? report->ncounters : 0;
}

const char *fk_report_counter_at(const fk_report *report, size_t index, int64_t *value)
{
    if (!report || index >= report->ncounters)
        return NULL;
    if (value)
        *value = report->counters[index].value;
    return report->counters[index].name;
}

/* ------------------------------------------------------------------- JSON */

/* Appends s with every ill-formed UTF-8 sequence replaced by U+FFFD, one
 * replacement per maximal ill-formed subpart (Unicode's recommended
 * practice), following the well-formed table of Unicode 3.9 (Table 3-7) --
 * the same rules fk__json_put_string enforces. */
static void put_utf8_repaired(fk__buf *out, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            fk__buf_putc(out, (char)c);
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            need = 0; /* never a lead byte */
        }
        size_t k = 1;
        if (need) {
            while (k <= need && i + k < n) {
                unsigned char d = s[i + k];
                if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf))
                    break;
                k++;
            }
        }
        if (need && k == need + 1)
            fk__buf_put(out, s + i, k);
        else
            fk__buf_put(out, "\xef\xbf\xbd", 3);
        i += k;
    }
}

static void put_str(fk__buf *out, fk__buf *tmp, const char *s)
{
    if (!s) {
        fk__buf_puts(out, "null");
        return;
    }
    size_t n = strlen(s);
    if (fk__json_put_string(out, s, n) == 0 || fk__buf_failed(out))
        return;
    fk__buf_clear(tmp);
    put_utf8_repaired(tmp, (const unsigned char *)s, n);
    if (fk__buf_failed(tmp) || fk__json_put_string(out, tmp->data, tmp->len) < 0)
        out->failed = 1; /* only memory can make the repaired text fail */
}

static const char *sev_name(fk_severity s)
{
    return s == FK_SEV_ERROR ? "error" : s == FK_SEV_WARNING ? "warning" : "info";
}

int fk_report_json(char **out, const fk_report *report)
{
    FK__ARG(NULL, "fk_report_json", out);
    *out = NULL;
    FK__ARG(NULL, "fk_report_json", report);
    fk__buf b = FK__BUF_INIT, tmp = FK__BUF_INIT;
    int ok = report->ok_set ? report->ok : report->nerrors == 0;
    fk__buf_puts(&b, "{\"operation\":");
    put_str(&b, &tmp, report->operation);
    fk__buf_printf(&b, ",\"ok\":%s,\"elapsed_ms\":%" PRId64 ",\"counters\":{",
                   ok ? "true" : "false", report->elapsed_ms);
    for (size_t i = 0; i < report->ncounters && !b.failed; i++) {
        if (i)
            fk__buf_putc(&b, ',');
        put_str(&b, &tmp, report->counters[i].name);
        fk__buf_printf(&b, ":%" PRId64, report->counters[i].value);
    }
    fk__buf_printf(&b, "},\"errors\":%zu,\"items\":[", report->nerrors);
    for (size_t i = 0; i < report->nitems && !b.failed; i++) {
        const fk_report_item *it = &report->chunks[i / ITEMS_PER_CHUNK][i % ITEMS_PER_CHUNK];
        fk__buf_printf(&b, "%s{\"severity\":\"%s\",\"code\":", i ? "," : "",
                       sev_name(it->severity));
        put_str(&b, &tmp, it->code);
        fk__buf_puts(&b, ",\"entity_type\":");
        put_str(&b, &tmp, it->entity_type);
        fk__buf_printf(&b, ",\"entity_id\":%" PRId64 ",\"path\":", it->entity_id);
        put_str(&b, &tmp, it->path);
        fk__buf_puts(&b, ",\"message\":");
        put_str(&b, &tmp, it->message);
        fk__buf_puts(&b, ",\"fields\":");
        fk__buf_puts(&b, it->fields ? it->fields : "null");
        fk__buf_puts(&b, ",\"hint\":");
        put_str(&b, &tmp, it->hint);
        fk__buf_putc(&b, '}');
    }
    fk__buf_puts(&b, "]}");
    fk__buf_dispose(&tmp);
    *out = fk__buf_detach(&b); /* NULL (and disposed) when the buffer failed */
    return *out ? FK_OK : fk__oom(NULL);
}
