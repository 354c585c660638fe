/* Fuzz target: fk__json_put_number, fk__json_put_string and
 * fk__json_unescape (lib/json/json_text.h), each given the whole input.
 *
 * put_number:
 *  - succeeds exactly for JSON-grammar number text (checked against
 *    fk__json_validate of the same bytes), appending nothing otherwise;
 *  - CANONICAL writes the text unchanged; PHP writes a valid number that
 *    denotes exactly the same decimal value (zero's sign aside) -- a value is
 *    never rounded -- and PHP of PHP is stable (but for "-0" -> "0").
 * put_string:
 *  - succeeds exactly for valid UTF-8 (a reference decoder decides), and
 *    then writes byte for byte what a reference PHP json_encode escaper
 *    writes; the result is a valid JSON string that unescapes to the input;
 *    on failure the buffer is as before.
 * unescape:
 *  - never crashes on arbitrary text; for a valid string token it succeeds,
 *    and put_string of the result equals fk__json_pretty of the token (two
 *    independent escaping paths) in both styles.
 * Any allocation failing makes the call return -1.
 */
#include "alloc.h"
#include "buf.h"
#include "fuzz.h"
#include "json_text.h"

/* ------------------------------------------------------------ numbers */

/* A number as sign, significant digits (no leading/trailing zeros) and
 * decimal exponent of the last digit. 0 when it does not fit here. */
typedef struct decimal {
    int zero, neg;
    char sig[64];
    size_t nsig;
    long long exp;
} decimal;

static int to_decimal(const char *s, size_t n, decimal *d)
{
    memset(d, 0, sizeof *d);
    size_t i = 0;
    if (i < n && s[i] == '-')
        d->neg = 1, i++;
    long long frac_digits = 0;
    int in_frac = 0, started = 0;
    size_t pending_zeros = 0;
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            in_frac = 1;
            continue;
        }
        if (in_frac)
            frac_digits++;
        if (s[i] == '0') {
            if (started)
                pending_zeros++;
            continue;
        }
        if (d->nsig + pending_zeros + 1 > sizeof d->sig)
            return 0;
        while (pending_zeros) {
            d->sig[d->nsig++] = '0';
            pending_zeros--;
        }
        d->sig[d->nsig++] = s[i];
        started = 1;
    }
    if (!started) { /* zero, whatever the exponent */
        d->zero = 1;
        return 1;
    }
    long long e = 0;
    int eneg = 0;
    if (i < n) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (; i < n; i++) {
            e = e * 10 + (s[i] - '0');
            if (e > 1000000000000LL)
                return 0;
        }
    }
    /* value = sig * 10^(exp) where the trailing zeros dropped count too */
    d->exp = (eneg ? -e : e) - frac_digits + (long long)pending_zeros;
    return 1;
}

static int same_decimal(const decimal *a, const decimal *b)
{
    if (a->zero || b->zero)
        return a->zero && b->zero;
    return a->neg == b->neg && a->exp == b->exp && fuzz_mem_eq(a->sig, a->nsig, b->sig, b->nsig);
}

static void check_number(const char *in, size_t size)
{
    /* the grammar, by the validator: one number, nothing around it */
    int grammar = size > 0 && (in[0] == '-' || (in[0] >= '0' && in[0] <= '9')) &&
                  in[size - 1] >= '0' && in[size - 1] <= '9' &&
                  fk__json_validate(in, size, NULL) == 0;
    for (int i = 0; grammar && i < (int)size; i++)
        if (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t')
            grammar = 0;

    fk__buf out[2] = {FK__BUF_INIT, FK__BUF_INIT};
    for (int s = 0; s < 2; s++) {
        fk__buf_puts(&out[s], "<");
        int r = fk__json_put_number(&out[s], in, size, (fk__json_style)s);
        FUZZ_CHECK(r == (grammar ? 0 : -1));
        if (r)
            FUZZ_CHECK(out[s].len == 1);
    }
    if (grammar) {
        const char *canon = out[FK__JSON_STYLE_CANONICAL].data + 1;
        size_t clen = out[FK__JSON_STYLE_CANONICAL].len - 1;
        FUZZ_CHECK(fuzz_mem_eq(canon, clen, in, size));

        const char *php = out[FK__JSON_STYLE_PHP].data + 1;
        size_t plen = out[FK__JSON_STYLE_PHP].len - 1;
        FUZZ_CHECK(plen > 0 && fk__json_validate(php, plen, NULL) == 0);
        FUZZ_CHECK(php[0] != ' ' && php[plen - 1] != ' ');
        if (!fuzz_mem_eq(php, plen, in, size)) {
            decimal a, b;
            FUZZ_CHECK(to_decimal(in, size, &a)); /* only short inputs are rewritten */
            FUZZ_CHECK(to_decimal(php, plen, &b));
            FUZZ_CHECK(same_decimal(&a, &b));
        }
        fk__buf again = FK__BUF_INIT;
        FUZZ_CHECK(fk__json_put_number(&again, php, plen, FK__JSON_STYLE_PHP) == 0);
        FUZZ_CHECK(fuzz_mem_eq(again.data, again.len, php, plen) ||
                   (plen == 2 && memcmp(php, "-0", 2) == 0 && fuzz_mem_eq(again.data, again.len, "0", 1)));
        fk__buf_dispose(&again);
    }
    fk__buf_dispose(&out[0]);
    fk__buf_dispose(&out[1]);
}

/* ------------------------------------------------------------ strings */

/* PHP's json_encode(JSON_UNESCAPED_UNICODE) of valid UTF-8, written here as
 * a plain per-code-point loop. */
static void ref_escape(fk__buf *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    fk__buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            fk__buf_puts(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
            i += 3;
            continue;
        }
        switch (c) {
        case '"': fk__buf_puts(b, "\\\""); break;
        case '\\': fk__buf_puts(b, "\\\\"); break;
        case '/': fk__buf_puts(b, "\\/"); break;
        case '\b': fk__buf_puts(b, "\\b"); break;
        case '\f': fk__buf_puts(b, "\\f"); break;
        case '\n': fk__buf_puts(b, "\\n"); break;
        case '\r': fk__buf_puts(b, "\\r"); break;
        case '\t': fk__buf_puts(b, "\\t"); break;
        default:
            if (c < 0x20) {
                char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                fk__buf_puts(b, e);
            } else {
                fk__buf_putc(b, (char)c);
            }
        }
        i++;
    }
    fk__buf_putc(b, '"');
}

static void check_string(const uint8_t *data, size_t size)
{
    int valid = fuzz_utf8_valid(data, size);
    fk__buf out = FK__BUF_INIT;
    fk__buf_puts(&out, "<");
    int r = fk__json_put_string(&out, (const char *)data, size);
    FUZZ_CHECK(r == (valid ? 0 : -1));
    if (!valid) {
        FUZZ_CHECK(out.len == 1 && out.data[1] == '\0');
    } else {
        fk__buf ref = FK__BUF_INIT;
        ref_escape(&ref, data, size);
        FUZZ_CHECK(fuzz_mem_eq(out.data + 1, out.len - 1, ref.data, ref.len));
        FUZZ_CHECK(fk__json_validate(out.data + 1, out.len - 1, NULL) == 0);
        fk__buf back = FK__BUF_INIT;
        FUZZ_CHECK(fk__json_unescape(&back, out.data + 1, out.len - 1) == 0);
        FUZZ_CHECK(fuzz_mem_eq(back.data, back.len, data, size));
        fk__buf_dispose(&back);
        fk__buf_dispose(&ref);
    }
    fk__buf_dispose(&out);
}

static void check_unescape(const uint8_t *data, size_t size)
{
    /* arbitrary text: no crash, whatever the result */
    fk__buf raw = FK__BUF_INIT;
    int r = fk__json_unescape(&raw, (const char *)data, size);
    FUZZ_CHECK(r == 0 || r == -1);
    fk__buf_dispose(&raw);

    /* the input as the content of a string token */
    fk__buf tok = FK__BUF_INIT;
    fk__buf_putc(&tok, '"');
    fk__buf_put(&tok, data, size);
    fk__buf_putc(&tok, '"');
    if (fk__json_validate(tok.data, tok.len, NULL) == 0) {
        fk__buf dec = FK__BUF_INIT, enc = FK__BUF_INIT;
        FUZZ_CHECK(fk__json_unescape(&dec, tok.data, tok.len) == 0);
        FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)dec.data, dec.len));
        FUZZ_CHECK(fk__json_put_string(&enc, dec.data ? dec.data : "", dec.len) == 0);
        for (int s = 0; s < 2; s++) {
            fk__buf pretty = FK__BUF_INIT;
            FUZZ_CHECK(fk__json_pretty(&pretty, tok.data, tok.len, 0, (fk__json_style)s, NULL) == 0);
            FUZZ_CHECK(fuzz_mem_eq(pretty.data, pretty.len, enc.data, enc.len));
            fk__buf_dispose(&pretty);
        }
        /* without the quotes: the same bytes */
        fk__buf bare = FK__BUF_INIT;
        if (size == 0 || data[0] != '"') {
            FUZZ_CHECK(fk__json_unescape(&bare, (const char *)data, size) == 0);
            FUZZ_CHECK(fuzz_mem_eq(bare.data, bare.len, dec.data, dec.len));
        }
        fk__buf_dispose(&bare);
        fk__buf_dispose(&dec);
        fk__buf_dispose(&enc);
    }
    fk__buf_dispose(&tok);
}

/* -------------------------------------------------- allocation failure */

static int run_op(int op, const char *in, size_t size, uint64_t h)
{
    fk__buf b = FK__BUF_INIT;
    int r;
    switch (op) {
    case 0: r = fk__json_put_number(&b, in, size, (fk__json_style)(h & 1)); break;
    case 1: r = fk__json_put_string(&b, in, size); break;
    default: r = fk__json_unescape(&b, in, size); break;
    }
    fk__buf_dispose(&b);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    uint64_t h = fuzz_hash(data, size);
    fk__alloc_fail_at(0);
    check_number(in, size);
    check_string(data, size);
    check_unescape(data, size);

    for (int op = 0; op < 3; op++) {
        fk__alloc_fail_at(0);
        run_op(op, in, size, h);
        long n = fk__alloc_count();
        if (n <= 0)
            continue;
        fk__alloc_fail_at(1 + (long)((h >> 24) % (uint64_t)n));
        int r = run_op(op, in, size, h);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(r == -1);
    }
    return 0;
}
