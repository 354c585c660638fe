/* Fuzz target: fk__json_scan_object (lib/json/json_text.h).
 *
 * Invariants, for any bytes x:
 *  - invalid JSON: -1 with validate's error, and the callback is never
 *    called; valid non-object: -1 "top-level value is not an object";
 *  - a valid object: every member's key is the raw text between its quotes,
 *    its value is exactly one valid JSON value (no surrounding blanks) of
 *    the reported type, inside the input, after the previous member, at the
 *    reported line and column;
 *  - rebuilding the document from the members ("{", key, ": ", value
 *    re-indented one level, ...) gives byte for byte what fk__json_pretty
 *    writes in CANONICAL style: scan and pretty see the same members;
 *  - a callback returning non-zero at member k stops the scan there and
 *    that value is returned;
 *  - the k-th allocation failing gives -1 "out of memory" and no callback.
 */
#include "alloc.h"
#include "buf.h"
#include "fuzz.h"
#include "json_text.h"

typedef struct scan {
    const char *in;
    size_t len;
    size_t n;           /* members seen */
    const char *after;  /* end of the previous member's value */
    size_t stop_at;     /* return 7 at this member (1-based); 0 = never */
    int rebuild;        /* also rebuild the canonical document */
    fk__buf doc;
} scan;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int on_member(void *ud, const fk__jmember *m)
{
    scan *s = ud;
    s->n++;
    if (s->rebuild) {
        const char *in = s->in;
        FUZZ_CHECK(m->key > s->after && m->key - 1 >= in);
        FUZZ_CHECK(m->key[-1] == '"' && m->key + m->key_len < m->val);
        FUZZ_CHECK(m->key[m->key_len] == '"');
        FUZZ_CHECK(m->val >= in && m->val_len > 0 && m->val + m->val_len <= in + s->len);
        FUZZ_CHECK(!is_ws(m->val[0]) && !is_ws(m->val[m->val_len - 1]));
        FUZZ_CHECK(fk__json_validate(m->val, m->val_len, NULL) == 0);
        char c = m->val[0];
        fk__jtype want = c == '{'   ? FK__JT_OBJECT
                         : c == '[' ? FK__JT_ARRAY
                         : c == '"' ? FK__JT_STRING
                         : c == 't' ? FK__JT_TRUE
                         : c == 'f' ? FK__JT_FALSE
                         : c == 'n' ? FK__JT_NULL
                                    : FK__JT_NUMBER;
        FUZZ_CHECK(m->type == want);
        if (want == FK__JT_NUMBER)
            FUZZ_CHECK(c == '-' || (c >= '0' && c <= '9'));
        /* line and column of the value */
        size_t line = 1, line_start = 0, off = (size_t)(m->val - in);
        for (size_t i = 0; i < off; i++)
            if (in[i] == '\n') {
                line++;
                line_start = i + 1;
            }
        FUZZ_CHECK(m->line == line && m->column == off - line_start + 1);
        s->after = m->val + m->val_len;

        /* the key token alone is a valid JSON string */
        fk__buf key = FK__BUF_INIT, tok = FK__BUF_INIT;
        fk__buf_putc(&tok, '"');
        fk__buf_put(&tok, m->key, m->key_len);
        fk__buf_putc(&tok, '"');
        FUZZ_CHECK(fk__json_validate(tok.data, tok.len, NULL) == 0);
        FUZZ_CHECK(fk__json_unescape(&key, m->key, m->key_len) == 0);

        fk__buf_puts(&s->doc, s->n == 1 ? "{\n    " : ",\n    ");
        FUZZ_CHECK(fk__json_put_string(&s->doc, key.data ? key.data : "", key.len) == 0);
        fk__buf_puts(&s->doc, ": ");
        FUZZ_CHECK(fk__json_pretty(&s->doc, m->val, m->val_len, 1, FK__JSON_STYLE_CANONICAL,
                                   NULL) == 0);
        fk__buf_dispose(&key);
        fk__buf_dispose(&tok);
    }
    return s->n == s->stop_at ? 7 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    uint64_t h = fuzz_hash(data, size);
    fk__alloc_fail_at(0);

    fk__json_error verr, serr;
    memset(&verr, 0, sizeof verr);
    memset(&serr, 0, sizeof serr);
    int v = fk__json_validate(in, size, &verr);

    scan s = {.in = in, .len = size, .after = in, .rebuild = 1, .doc = FK__BUF_INIT};
    int r = fk__json_scan_object(in, size, on_member, &s, &serr);
    FUZZ_CHECK(fk__json_scan_object(in, size, NULL, NULL, NULL) == r);

    if (v != 0) {
        FUZZ_CHECK(r == -1 && s.n == 0);
        FUZZ_CHECK(serr.offset == verr.offset && strcmp(serr.msg, verr.msg) == 0);
    } else {
        size_t i = 0;
        while (i < size && is_ws(in[i]))
            i++;
        if (in[i] != '{') {
            FUZZ_CHECK(r == -1 && s.n == 0);
            FUZZ_CHECK(strcmp(serr.msg, "top-level value is not an object") == 0);
            FUZZ_CHECK(serr.offset == i);
        } else {
            FUZZ_CHECK(r == 0);
            fk__buf canon = FK__BUF_INIT;
            FUZZ_CHECK(fk__json_pretty(&canon, in, size, 0, FK__JSON_STYLE_CANONICAL, NULL) == 0);
            fk__buf_puts(&s.doc, s.n ? "\n}" : "{}");
            FUZZ_CHECK(!fk__buf_failed(&s.doc));
            FUZZ_CHECK(fuzz_mem_eq(s.doc.data, s.doc.len, canon.data, canon.len));
            fk__buf_dispose(&canon);

            if (s.n > 0) { /* stop early */
                scan t = {.in = in, .len = size, .stop_at = 1 + (size_t)(h % s.n)};
                FUZZ_CHECK(fk__json_scan_object(in, size, on_member, &t, NULL) == 7);
                FUZZ_CHECK(t.n == t.stop_at);
            }
        }
    }
    fk__buf_dispose(&s.doc);

    /* allocation failure inside the validation */
    fk__alloc_fail_at(0);
    scan c = {.in = in, .len = size};
    fk__json_scan_object(in, size, on_member, &c, NULL);
    long n = fk__alloc_count();
    if (n > 0) {
        scan f = {.in = in, .len = size};
        fk__json_error e;
        fk__alloc_fail_at(1 + (long)((h >> 20) % (uint64_t)n));
        r = fk__json_scan_object(in, size, on_member, &f, &e);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(r == -1 && f.n == 0);
        FUZZ_CHECK(strcmp(e.msg, "out of memory") == 0 || (v != 0 && strcmp(e.msg, verr.msg) == 0));
    }
    return 0;
}
