/* Fuzz target: fk__slug and fk__fixture_filename
 * (lib/fixtures/slug.h); the input is the entity name.
 *
 * Invariants, for any name bytes (NUL, "../", "/", controls, 10 KB, any
 * encoding):
 *  - the slug equals a reference written step by step as Parthenon's
 *    exporter does it (trim, strtolower, delete [^a-z0-9\s-], collapse
 *    [\s-]+ to "-", trim "-", substr 0..100);
 *  - it only holds [a-z0-9-], at most 100 bytes, never starts with '-',
 *    never holds "--", and ends with '-' only when cut at 100 bytes;
 *  - the file name is "<slug>.json", "<slug>-<id>.json" (collision form) or
 *    "<type>-<id>.json" (empty slug): never empty, no '/', no "..", no NUL,
 *    not starting with '.', at most 100 + 21 + 5 bytes;
 *  - text already in the buffer is kept; any allocation failing gives -1.
 */
#include <inttypes.h>

#include "alloc.h"
#include "buf.h"
#include "fuzz.h"
#include "slug.h"

static int php_trim(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == 0x0B;
}
static int pcre_s(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r'; }
static int alnum(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* Parthenon's slug, one pass per PHP call. out needs n + 1 bytes. */
static size_t ref_slug(const uint8_t *s, size_t n, char *out)
{
    size_t b = 0, e = n;
    while (b < e && php_trim(s[b])) /* trim() */
        b++;
    while (e > b && php_trim(s[e - 1]))
        e--;
    char *t = malloc(e - b + 1);
    FUZZ_CHECK(t);
    size_t k = 0;
    for (size_t i = b; i < e; i++) { /* strtolower + preg_replace('/[^a-z0-9\s-]/', '') */
        uint8_t c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (alnum(c) || pcre_s(c) || c == '-')
            t[k++] = (char)c;
    }
    size_t m = 0;
    for (size_t i = 0; i < k;) { /* preg_replace('/[\s-]+/', '-') */
        if (pcre_s((uint8_t)t[i]) || t[i] == '-') {
            while (i < k && (pcre_s((uint8_t)t[i]) || t[i] == '-'))
                i++;
            out[m++] = '-';
        } else {
            out[m++] = t[i++];
        }
    }
    free(t);
    size_t lo = 0, hi = m; /* trim($s, '-') */
    while (lo < hi && out[lo] == '-')
        lo++;
    while (hi > lo && out[hi - 1] == '-')
        hi--;
    memmove(out, out + lo, hi - lo);
    m = hi - lo;
    return m > FK__SLUG_MAX ? FK__SLUG_MAX : m; /* substr($s, 0, 100) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"cohort_definition", "concept_set", "x", "a_b_9"};
    const char *name = (const char *)data;
    uint64_t h = fuzz_hash(data, size);
    const char *type = types[h % 4];
    int64_t id = (int64_t)(h * 0x9E3779B97F4A7C15u);
    if (h >> 60 == 0)
        id = INT64_MIN;
    else if (h >> 60 == 1)
        id = (int64_t)(h >> 40 & 0xFFFF);
    int with_id = (int)(h >> 59 & 1);
    fk__alloc_fail_at(0);

    char *want = malloc(size + 1);
    FUZZ_CHECK(want);
    size_t wlen = ref_slug(data, size, want);

    fk__buf b = FK__BUF_INIT;
    fk__buf_puts(&b, "dir/");
    FUZZ_CHECK(fk__slug(&b, name, size) == 0);
    FUZZ_CHECK(b.len >= 4 && memcmp(b.data, "dir/", 4) == 0);
    const char *slug = b.data + 4;
    size_t slen = b.len - 4;
    FUZZ_CHECK(fuzz_mem_eq(slug, slen, want, wlen));
    FUZZ_CHECK(slen <= FK__SLUG_MAX);
    for (size_t i = 0; i < slen; i++) {
        FUZZ_CHECK(alnum((uint8_t)slug[i]) || slug[i] == '-');
        if (slug[i] == '-')
            FUZZ_CHECK(i > 0 && slug[i - 1] != '-');
    }
    if (slen > 0 && slug[slen - 1] == '-')
        FUZZ_CHECK(slen == FK__SLUG_MAX);

    fk__buf f = FK__BUF_INIT;
    FUZZ_CHECK(fk__fixture_filename(&f, type, size ? name : NULL, size, id, with_id) == 0);
    FUZZ_CHECK(f.len > 5 && strlen(f.data) == f.len);
    FUZZ_CHECK(f.len <= FK__SLUG_MAX + 21 + 5);
    FUZZ_CHECK(!memchr(f.data, '/', f.len) && !strstr(f.data, "..") && f.data[0] != '.');
    FUZZ_CHECK(memcmp(f.data + f.len - 5, ".json", 5) == 0);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%" PRId64, id);
    fk__buf exp = FK__BUF_INIT;
    if (wlen == 0)
        fk__buf_printf(&exp, "%s-%s.json", type, idtext);
    else
        fk__buf_printf(&exp, "%.*s%s%s.json", (int)wlen, want, with_id ? "-" : "",
                       with_id ? idtext : "");
    FUZZ_CHECK(fuzz_mem_eq(f.data, f.len, exp.data, exp.len));
    fk__buf_dispose(&exp);
    fk__buf_dispose(&f);
    fk__buf_dispose(&b);
    free(want);

    /* allocation failure */
    for (int op = 0; op < 2; op++) {
        fk__buf o = FK__BUF_INIT;
        fk__alloc_fail_at(0);
        if (op == 0)
            fk__slug(&o, name, size);
        else
            fk__fixture_filename(&o, type, name, size, id, with_id);
        fk__buf_dispose(&o);
        long n = fk__alloc_count();
        if (n <= 0)
            continue;
        fk__alloc_fail_at(1 + (long)((h >> 12) % (uint64_t)n));
        int r = op == 0 ? fk__slug(&o, name, size)
                        : fk__fixture_filename(&o, type, name, size, id, with_id);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(r == -1);
        fk__buf_dispose(&o);
    }
    return 0;
}
