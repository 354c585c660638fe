/* Fuzz target: fk__json_validate and fk__json_pretty (lib/json/json_text.h).
 *
 * Invariants, for any bytes x:
 *  - validate(x) and pretty(x) (both styles, any indent) agree, and fail with
 *    the same error, whose line/column match its offset and whose message is
 *    printable UTF-8; a failed pretty leaves the buffer as it was;
 *  - pretty output is valid JSON laid out in 4-space steps, no tabs, CRs or
 *    trailing blanks;
 *  - CANONICAL is a fixed point: canon(canon(x)) == canon(x), and
 *    canon(php(x)) == php(x); php(canon(x)) == php(x);
 *  - PHP style is idempotent except for what PHP itself does: a float
 *    negative zero prints as "-0", which PHP reads back as the integer 0
 *    (so php(php(x)) may turn "-0" into "0", and then it is stable);
 *  - an indented pretty, re-prettied at indent 0, gives the indent-0 result,
 *    and text already in the buffer is kept;
 *  - the k-th allocation failing (k chosen from the input) makes validate
 *    and pretty of a valid document return -1 "out of memory", without leaks.
 */
#include "alloc.h"
#include "buf.h"
#include "fuzz.h"
#include "json_text.h"

static void check_error(const char *in, size_t len, const fk__json_error *e)
{
    FUZZ_CHECK(e->offset <= len);
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < e->offset; i++)
        if (in[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    FUZZ_CHECK(e->line == line);
    FUZZ_CHECK(e->column == e->offset - line_start + 1);
    size_t n = strnlen(e->msg, sizeof e->msg);
    FUZZ_CHECK(n > 0 && n < sizeof e->msg);
    FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)e->msg, n));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)e->msg[i] >= 0x20 && e->msg[i] != 0x7f);
}

static int same_error(const fk__json_error *a, const fk__json_error *b)
{
    return a->offset == b->offset && a->line == b->line && a->column == b->column &&
           strcmp(a->msg, b->msg) == 0;
}

/* Layout of an indent-0 pretty document. */
static void check_layout(const fk__buf *b)
{
    const char *s = b->data;
    size_t n = b->len;
    FUZZ_CHECK(n > 0 && s);
    FUZZ_CHECK(strlen(s) == n); /* NUL only ever appears escaped */
    FUZZ_CHECK(s[0] != ' ' && s[0] != '\n' && s[n - 1] != '\n' && s[n - 1] != ' ');
    size_t col = 0, lead = 0;
    int leading = 1;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(s[i] != '\t' && s[i] != '\r');
        if (s[i] == '\n') {
            FUZZ_CHECK(i > 0 && s[i - 1] != ' ');
            col = lead = 0;
            leading = 1;
            continue;
        }
        if (leading && s[i] == ' ') {
            lead++;
        } else if (leading) {
            FUZZ_CHECK(lead % 4 == 0);
            leading = 0;
        }
        col++;
    }
    (void)col;
}

static int is_num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* a == b except that some number tokens "-0" of a are "0" in b. */
static int equal_but_neg_zero(const fk__buf *a, const fk__buf *b)
{
    size_t i = 0, j = 0;
    while (i < a->len && j < b->len) {
        if (a->data[i] == b->data[j]) {
            i++, j++;
            continue;
        }
        if (a->data[i] == '-' && i + 1 < a->len && a->data[i + 1] == '0' && b->data[j] == '0' &&
            (i + 2 == a->len || !is_num_char(a->data[i + 2])) &&
            (i == 0 || !is_num_char(a->data[i - 1]))) {
            i++;
            continue;
        }
        return 0;
    }
    return i == a->len && j == b->len;
}

static int pretty(fk__buf *out, const char *in, size_t len, int indent, int style,
                  fk__json_error *err)
{
    return fk__json_pretty(out, in, len, indent, (fk__json_style)style, err);
}

static void expect_same(const fk__buf *want, const char *in, size_t len, int style)
{
    fk__buf b = FK__BUF_INIT;
    FUZZ_CHECK(pretty(&b, in, len, 0, style, NULL) == 0);
    FUZZ_CHECK(fuzz_mem_eq(b.data, b.len, want->data, want->len));
    fk__buf_dispose(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    uint64_t h = fuzz_hash(data, size);
    fk__alloc_fail_at(0);

    fk__json_error verr;
    memset(&verr, 0, sizeof verr);
    int v = fk__json_validate(in, size, &verr);
    FUZZ_CHECK(v == 0 || v == -1);
    FUZZ_CHECK(fk__json_validate(in, size, NULL) == v);
    if (v) {
        check_error(in, size, &verr);
        FUZZ_CHECK(strcmp(verr.msg, "out of memory") != 0);
    }

    fk__buf out[2] = {FK__BUF_INIT, FK__BUF_INIT}; /* [FK__JSON_STYLE_PHP], [..._CANONICAL] */
    for (int s = 0; s < 2; s++) {
        fk__json_error perr;
        memset(&perr, 0, sizeof perr);
        int r = pretty(&out[s], in, size, 0, s, &perr);
        FUZZ_CHECK(r == v);
        if (r) {
            FUZZ_CHECK(out[s].len == 0);
            FUZZ_CHECK(same_error(&perr, &verr));
            continue;
        }
        check_layout(&out[s]);
        FUZZ_CHECK(fk__json_validate(out[s].data, out[s].len, NULL) == 0);
    }

    /* indent and text already in the buffer */
    int indent = (int)(h % 7) - 1, style = (int)(h >> 8 & 1);
    fk__buf pre = FK__BUF_INIT;
    fk__buf_puts(&pre, "PFX:");
    int r = pretty(&pre, in, size, indent, style, NULL);
    FUZZ_CHECK(r == v);
    FUZZ_CHECK(pre.len >= 4 && memcmp(pre.data, "PFX:", 4) == 0);
    if (r)
        FUZZ_CHECK(pre.len == 4);

    if (v == 0) {
        const fk__buf *php = &out[FK__JSON_STYLE_PHP], *canon = &out[FK__JSON_STYLE_CANONICAL];
        expect_same(canon, canon->data, canon->len, FK__JSON_STYLE_CANONICAL);
        expect_same(php, php->data, php->len, FK__JSON_STYLE_CANONICAL);
        expect_same(php, canon->data, canon->len, FK__JSON_STYLE_PHP);

        fk__buf php2 = FK__BUF_INIT;
        FUZZ_CHECK(pretty(&php2, php->data, php->len, 0, FK__JSON_STYLE_PHP, NULL) == 0);
        FUZZ_CHECK(fuzz_mem_eq(php2.data, php2.len, php->data, php->len) ||
                   equal_but_neg_zero(php, &php2));
        expect_same(&php2, php2.data, php2.len, FK__JSON_STYLE_PHP);

        /* every line after the first is indented at least `indent` levels */
        size_t min_lead = indent > 0 ? (size_t)indent * 4 : 0;
        for (size_t i = 4; i < pre.len; i++)
            if (pre.data[i] == '\n')
                for (size_t j = 1; j <= min_lead; j++)
                    FUZZ_CHECK(i + j < pre.len && pre.data[i + j] == ' ');
        expect_same(style == FK__JSON_STYLE_PHP ? &php2 : canon, pre.data + 4, pre.len - 4, style);
        fk__buf_dispose(&php2);
    }
    fk__buf_dispose(&pre);

    /* allocation failure: count the allocations of one call, fail one */
    for (int op = 0; op < 2; op++) {
        fk__buf b = FK__BUF_INIT;
        fk__json_error e;
        fk__alloc_fail_at(0);
        if (op == 0)
            fk__json_validate(in, size, &e);
        else
            pretty(&b, in, size, indent, style, &e);
        fk__buf_dispose(&b);
        long n = fk__alloc_count();
        if (n <= 0)
            continue;
        fk__alloc_fail_at(1 + (long)((h >> 16) % (uint64_t)n));
        memset(&e, 0, sizeof e);
        r = op == 0 ? fk__json_validate(in, size, &e) : pretty(&b, in, size, indent, style, &e);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(r == -1);
        if (v == 0)
            FUZZ_CHECK(strcmp(e.msg, "out of memory") == 0);
        else /* the syntax error may be found after the allocation failed */
            FUZZ_CHECK(strcmp(e.msg, "out of memory") == 0 || same_error(&e, &verr));
        fk__buf_dispose(&b);
    }

    fk__buf_dispose(&out[0]);
    fk__buf_dispose(&out[1]);
    return 0;
}
