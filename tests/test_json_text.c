/* Unit tests for the JSON text module (lib/json/json_text.h).
 *
 * Data files (tests/data/...) are located through argv[1] or the
 * FK_TEST_DATA_DIR environment variable, else "tests/data". Expected PHP
 * outputs were produced by the real PHP 8.2 with the gen*.php scripts kept
 * next to them. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "alloc.h"
#include "fkt_alloc.h"
#include "buf.h"
#include "json_text.h"

static const char *data_dir = "tests/data";

/* ------------------------------------------------------------- helpers */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (set FK_TEST_DATA_DIR or pass the data dir as argv[1])", path);
    size_t cap = 4096, n = 0;
    char *d = malloc(cap);
    assert_non_null(d);
    size_t k;
    while ((k = fread(d + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            cap *= 2;
            d = realloc(d, cap);
            assert_non_null(d);
        }
    }
    fclose(f);
    d[n] = '\0';
    *len = n;
    return d;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static char *data_path(const char *rel) { return str_printf("%s/%s", data_dir, rel); }

/* Offset of a 1-based line:column, computed independently of the module. */
static size_t offset_of(const char *doc, size_t len, size_t line, size_t col)
{
    size_t off = 0;
    for (size_t l = 1; l < line; l++) {
        while (off < len && doc[off] != '\n')
            off++;
        off++;
    }
    return off + col - 1;
}

/* The same error must come from validate, pretty (which must also leave
 * the output untouched) and scan_object. */
static void expect_err_at(const char *doc, size_t len, size_t line, size_t col, const char *msg,
                          int src_line)
{
    fk__json_error e;
    memset(&e, 0, sizeof e);
    int rc = fk__json_validate(doc, len, &e);
    size_t off = offset_of(doc, len, line, col);
    if (rc != -1 || e.line != line || e.column != col || e.offset != off || strcmp(e.msg, msg) != 0)
        fail_msg("line %d: got rc=%d %zu:%zu (offset %zu) \"%s\"; want %zu:%zu (offset %zu) \"%s\"",
                 src_line, rc, e.line, e.column, e.offset, e.msg, line, col, off, msg);

    fk__buf out = FK__BUF_INIT;
    fk__buf_puts(&out, "keep");
    fk__json_error e2;
    memset(&e2, 0, sizeof e2);
    rc = fk__json_pretty(&out, doc, len, 0, FK__JSON_STYLE_PHP, &e2);
    if (rc != -1 || e2.offset != off || strcmp(e2.msg, msg) != 0 || out.len != 4 ||
        strcmp(fk__buf_cstr(&out), "keep") != 0)
        fail_msg("line %d: pretty gave rc=%d offset %zu \"%s\", out \"%s\"", src_line, rc,
                 e2.offset, e2.msg, fk__buf_cstr(&out));
    fk__buf_dispose(&out);

    memset(&e2, 0, sizeof e2);
    rc = fk__json_scan_object(doc, len, NULL, NULL, &e2);
    if (rc != -1 || e2.offset != off || strcmp(e2.msg, msg) != 0)
        fail_msg("line %d: scan_object gave rc=%d offset %zu \"%s\"", src_line, rc, e2.offset, e2.msg);
}

#define EXPECT_ERR(lit, line, col, msg) expect_err_at(lit, sizeof(lit) - 1, line, col, msg, __LINE__)

static void expect_valid_at(const char *doc, size_t len, int src_line)
{
    fk__json_error e;
    memset(&e, 0, sizeof e);
    if (fk__json_validate(doc, len, &e) != 0)
        fail_msg("line %d: unexpected error %zu:%zu %s", src_line, e.line, e.column, e.msg);
}

#define EXPECT_VALID(lit) expect_valid_at(lit, sizeof(lit) - 1, __LINE__)

/* Pretty-prints and compares with the expected text. */
static void expect_pretty_at(const char *in, size_t len, int indent, fk__json_style style,
                             const char *want, size_t want_len, int src_line)
{
    fk__buf out = FK__BUF_INIT;
    fk__json_error e;
    memset(&e, 0, sizeof e);
    int rc = fk__json_pretty(&out, in, len, indent, style, &e);
    if (rc != 0)
        fail_msg("line %d: pretty failed %zu:%zu %s", src_line, e.line, e.column, e.msg);
    if (out.len != want_len || memcmp(fk__buf_cstr(&out), want, want_len) != 0)
        fail_msg("line %d: pretty output\n%s\n--- want ---\n%.*s", src_line, fk__buf_cstr(&out),
                 (int)want_len, want);
    fk__buf_dispose(&out);
}

#define EXPECT_PRETTY(in, indent, style, want)                                                     \
    expect_pretty_at(in, strlen(in), indent, style, want, strlen(want), __LINE__)

/* --------------------------------------------------------- validation */

static void test_valid_documents(void **state)
{
    (void)state;
    EXPECT_VALID("{}");
    EXPECT_VALID("[]");
    EXPECT_VALID("1");
    EXPECT_VALID("-0");
    EXPECT_VALID("0.5e-05");
    EXPECT_VALID("1E+5");
    EXPECT_VALID("\"x\"");
    EXPECT_VALID(" \t\r\n null \n");
    EXPECT_VALID("true");
    EXPECT_VALID("[false, null, true, -1.25e10, \"\"]");
    EXPECT_VALID("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}"); /* same key in other objects */
    EXPECT_VALID("{\"o\": {\"k\": 1}, \"k\": 2}");
    EXPECT_VALID("{\"a\": 1, \"a \": 2, \"A\": 3, \"\": 4}");
    EXPECT_VALID("{\"a\\u0000b\": 1, \"a\\u0000c\": 2}");
    EXPECT_VALID("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\uFFFF\\ud83d\\ude00\\uDBFF\\uDFFF\"");
    EXPECT_VALID("\"\x7f\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\"");
    EXPECT_VALID("\"\xF0\x90\x80\x80\xF3\xBF\xBF\xBF\xF4\x8F\xBF\xBF\"");
    EXPECT_VALID("\"\xEF\xBB\xBF\""); /* a BOM inside a string is just U+FEFF */
    assert_int_equal(fk__json_validate("{\"a\":}", 6, NULL), -1); /* err may be NULL */
    assert_int_equal(fk__json_validate("[]", 2, NULL), 0);
}

static void test_error_positions(void **state)
{
    (void)state;
    EXPECT_ERR("{\n  \"a\": 1,\n  \"b\" 2\n}", 3, 7, "expected ':' after object key, found '2'");
    EXPECT_ERR("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3,
               "expected ',' or '}' after object member, found '\"'");
    EXPECT_ERR("[1 2]", 1, 4, "expected ',' or ']' after array element, found '2'");
    EXPECT_ERR("{\"a\": }", 1, 7, "expected a value, found '}'");
    EXPECT_ERR("{1: 2}", 1, 2, "expected a string key, found '1'");
    EXPECT_ERR("{\"a\": 1,\n 2}", 2, 2, "expected a string key, found '2'");
    EXPECT_ERR("{,}", 1, 2, "expected a string key, found ','");
    EXPECT_ERR("[,1]", 1, 2, "expected a value, found ','");
    EXPECT_ERR("{} x", 1, 4, "expected end of input after the top-level value, found 'x'");
    EXPECT_ERR("1 2", 1, 3, "expected end of input after the top-level value, found '2'");
    EXPECT_ERR("{}}", 1, 3, "expected end of input after the top-level value, found '}'");
    EXPECT_ERR("{}\0", 1, 3, "expected end of input after the top-level value, found byte 0x00");
    EXPECT_ERR("[\xC3\xA9]", 1, 2, "expected a value, found byte 0xC3");
    EXPECT_ERR("tru", 1, 1, "invalid literal (expected 'true')");
    EXPECT_ERR("[nul]", 1, 2, "invalid literal (expected 'null')");
    EXPECT_ERR("[fals]", 1, 2, "invalid literal (expected 'false')");
    EXPECT_ERR("True", 1, 1, "expected a value, found 'T'");
    EXPECT_ERR("falsey", 1, 6, "expected end of input after the top-level value, found 'y'");
    /* only '\n' starts a line; "\r\n" counts once, columns are bytes */
    EXPECT_ERR("{\r\n\"a\": 1,\r\n\"a\": 2}", 3, 1, "duplicate key \"a\"");
    EXPECT_ERR("[\"\xC3\xA9\xC3\xA9\", x]", 1, 10, "expected a value, found 'x'");
}

static void test_error_truncated(void **state)
{
    (void)state;
    EXPECT_ERR("", 1, 1, "expected a value, found end of input");
    EXPECT_ERR("  \n ", 2, 2, "expected a value, found end of input");
    EXPECT_ERR("{\"a\": [1, 2", 1, 12, "expected ',' or ']' after array element, found end of input");
    EXPECT_ERR("{\n  \"a\": ", 2, 8, "expected a value, found end of input");
    EXPECT_ERR("{\"a\": 1", 1, 8, "expected ',' or '}' after object member, found end of input");
    EXPECT_ERR("{\"a\": 1,", 1, 9, "expected a string key, found end of input");
    EXPECT_ERR("{", 1, 2, "expected a string key, found end of input");
    EXPECT_ERR("{\"a\"", 1, 5, "expected ':' after object key, found end of input");
    EXPECT_ERR("{\"a\": \"abc", 1, 11, "unexpected end of input inside a string");
    EXPECT_ERR("{\"ab", 1, 5, "unexpected end of input inside a string");
    EXPECT_ERR("\"\\", 1, 3, "unexpected end of input inside a string");
    EXPECT_ERR("[-", 1, 3, "expected a digit after '-', found end of input");
    EXPECT_ERR("1.", 1, 3, "expected a digit after '.', found end of input");
    EXPECT_ERR("1e", 1, 3, "expected a digit in the exponent, found end of input");
    EXPECT_ERR("[1E+", 1, 5, "expected a digit in the exponent, found end of input");
    EXPECT_ERR("nul", 1, 1, "invalid literal (expected 'null')");

    fk__json_error e;
    assert_int_equal(fk__json_validate(NULL, 0, &e), -1);
    assert_string_equal(e.msg, "expected a value, found end of input");
}

static void test_error_trailing_comma(void **state)
{
    (void)state;
    EXPECT_ERR("{\"a\": 1,}", 1, 8, "trailing comma before '}'");
    EXPECT_ERR("[1, 2, ]", 1, 6, "trailing comma before ']'");
    EXPECT_ERR("{\"a\": [1,\n]}", 1, 9, "trailing comma before ']'");
    EXPECT_ERR("[[],\n\n   ]", 1, 4, "trailing comma before ']'");
}

static void test_error_duplicate_keys(void **state)
{
    (void)state;
    EXPECT_ERR("{\"id\": 1, \"id\": 2}", 1, 11, "duplicate key \"id\"");
    /* keys compare after decoding escapes, in either order */
    EXPECT_ERR("{\"\\u0069d\": 1, \"id\": 2}", 1, 16, "duplicate key \"id\"");
    EXPECT_ERR("{\"id\": 1, \"\\u0069d\": 2}", 1, 11, "duplicate key \"id\"");
    EXPECT_ERR("{\"a/b\": 1, \"a\\/b\": 2}", 1, 12, "duplicate key \"a/b\"");
    EXPECT_ERR("{\"\xC3\xA9\": 1, \"\\u00e9\": 2}", 1, 11, "duplicate key \"\xC3\xA9\"");
    EXPECT_ERR("{\"\\ud83d\\ude00\": 1, \"\xF0\x9F\x98\x80\": 2}", 1, 21,
               "duplicate key \"\xF0\x9F\x98\x80\"");
    EXPECT_ERR("{\"\": 1, \"\": 2}", 1, 9, "duplicate key \"\"");
    EXPECT_ERR("{\"a\\u0000\": 1, \"a\\u0000\": 2}", 1, 16, "duplicate key \"a?\"");
    /* in any object, at any depth, also after nested objects closed */
    EXPECT_ERR("{\"x\": [{\"k\": 1, \"k\": 2}]}", 1, 17, "duplicate key \"k\"");
    EXPECT_ERR("{\"a\": {\"b\": {}}, \"c\": 1, \"a\": 2}", 1, 26, "duplicate key \"a\"");
    EXPECT_ERR("{\"a\": {\"\\u0062\": 1}, \"\\u0062\": 1, \"b\": 2}", 1, 35, "duplicate key \"b\"");

    /* long keys are cut in the message, not mid-character */
    char doc[1024];
    char key[301];
    for (int i = 0; i < 300; i += 3)
        memcpy(key + i, "\xE2\x9C\x93", 3); /* U+2713 */
    key[300] = '\0';
    int n = snprintf(doc, sizeof doc, "{\"%s\": 1, \"%s\": 2}", key, key);
    fk__json_error e;
    assert_int_equal(fk__json_validate(doc, (size_t)n, &e), -1);
    assert_int_equal(e.offset, 1 + 1 + 300 + 1 + 5);
    char want[160] = "duplicate key \"";
    memcpy(want + strlen(want), key, 96); /* 32 whole characters */
    strcpy(want + 15 + 96, "\"...");
    assert_string_equal(e.msg, want);
}

static void test_error_utf8(void **state)
{
    (void)state;
    EXPECT_ERR("[\"\x80\"]", 1, 3, "invalid UTF-8 (unexpected continuation byte)");
    EXPECT_ERR("\"\xC0\xAF\"", 1, 2, "invalid UTF-8 (overlong encoding)");
    EXPECT_ERR("\"\xC1\xBF\"", 1, 2, "invalid UTF-8 (overlong encoding)");
    EXPECT_ERR("\"\xE0\x80\xAF\"", 1, 2, "invalid UTF-8 (overlong encoding)");
    EXPECT_ERR("\"\xF0\x80\x80\xAF\"", 1, 2, "invalid UTF-8 (overlong encoding)");
    EXPECT_ERR("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8 (encoded surrogate)");
    EXPECT_ERR("\"\xED\xBF\xBF\"", 1, 2, "invalid UTF-8 (encoded surrogate)");
    EXPECT_ERR("\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8 (code point above U+10FFFF)");
    EXPECT_ERR("\"\xF5\x80\x80\x80\"", 1, 2, "invalid UTF-8 (code point above U+10FFFF)");
    EXPECT_ERR("\"\xFF\"", 1, 2, "invalid UTF-8 (invalid byte)");
    EXPECT_ERR("\"\xC3\"", 1, 2, "invalid UTF-8 (incomplete sequence)");
    EXPECT_ERR("\"\xE2\x82\"", 1, 2, "invalid UTF-8 (incomplete sequence)");
    EXPECT_ERR("\"\xF0\x9F\x98", 1, 2, "invalid UTF-8 (incomplete sequence)");
    EXPECT_ERR("{\"ok\": \"\xC3\xA9\",\n \"k\xE9y\": 1}", 2, 4, "invalid UTF-8 (incomplete sequence)");
    EXPECT_ERR("\xEF\xBB\xBF{}", 1, 1, "UTF-8 byte order mark is not allowed");
    EXPECT_ERR("\xEF\xBB", 1, 1, "expected a value, found byte 0xEF");
}

static void test_error_escapes(void **state)
{
    (void)state;
    EXPECT_ERR("\"\\ud800\"", 1, 2, "unpaired surrogate \\ud800");
    EXPECT_ERR("\"\\uDC00\"", 1, 2, "unpaired surrogate \\uDC00");
    EXPECT_ERR("\"\\ud800\\u0041\"", 1, 2, "unpaired surrogate \\ud800");
    EXPECT_ERR("\"ab\\uDBFF\"", 1, 4, "unpaired surrogate \\uDBFF");
    EXPECT_ERR("\"\\ude00\\ud83d\"", 1, 2, "unpaired surrogate \\ude00");
    EXPECT_ERR("{\"\\ud800\": 1}", 1, 3, "unpaired surrogate \\ud800");
    EXPECT_ERR("\"\\x41\"", 1, 2, "invalid escape '\\x'");
    EXPECT_ERR("\"\\U0041\"", 1, 2, "invalid escape '\\U'");
    EXPECT_ERR("\"\\'\"", 1, 2, "invalid escape '\\''");
    EXPECT_ERR("\"\\\x01\"", 1, 2, "invalid escape '\\?'");
    EXPECT_ERR("\"\\u12G4\"", 1, 2, "invalid \\u escape (needs 4 hex digits)");
    EXPECT_ERR("\"\\u12\"", 1, 2, "invalid \\u escape (needs 4 hex digits)");
}

static void test_error_control_chars(void **state)
{
    (void)state;
    EXPECT_ERR("\"a\nb\"", 1, 3, "unescaped control character 0x0A in string");
    EXPECT_ERR("[\"\t\"]", 1, 3, "unescaped control character 0x09 in string");
    EXPECT_ERR("\"a\0\"", 1, 3, "unescaped control character 0x00 in string");
    EXPECT_ERR("{\"k\x1f\": 1}", 1, 4, "unescaped control character 0x1F in string");
    EXPECT_VALID("\"\x7f\"");
}

static void test_error_numbers(void **state)
{
    (void)state;
    EXPECT_ERR("01", 1, 1, "leading zeros are not allowed in numbers");
    EXPECT_ERR("-01", 1, 2, "leading zeros are not allowed in numbers");
    EXPECT_ERR("[1, 00]", 1, 5, "leading zeros are not allowed in numbers");
    EXPECT_ERR(".5", 1, 1, "expected a value, found '.'");
    EXPECT_ERR("+1", 1, 1, "expected a value, found '+'");
    EXPECT_ERR("-Infinity", 1, 2, "expected a digit after '-', found 'I'");
    EXPECT_ERR("NaN", 1, 1, "expected a value, found 'N'");
    EXPECT_ERR("0x1", 1, 2, "expected end of input after the top-level value, found 'x'");
    EXPECT_ERR("1.e5", 1, 3, "expected a digit after '.', found 'e'");
    EXPECT_ERR("1e+x", 1, 4, "expected a digit in the exponent, found 'x'");
    EXPECT_ERR("1.5e3.2", 1, 6, "expected end of input after the top-level value, found '.'");
    EXPECT_ERR("[- 1]", 1, 3, "expected a digit after '-', found byte 0x20");
}

static char *nested(size_t depth, const char *open, const char *inner, const char *close, size_t *len)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *d = malloc(depth * (lo + lc) + li + 1);
    assert_non_null(d);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++, n += lo)
        memcpy(d + n, open, lo);
    memcpy(d + n, inner, li);
    n += li;
    for (size_t i = 0; i < depth; i++, n += lc)
        memcpy(d + n, close, lc);
    d[n] = '\0';
    *len = n;
    return d;
}

static void test_nesting_limit(void **state)
{
    (void)state;
    size_t len;
    char *d = nested(512, "[", "", "]", &len);
    expect_valid_at(d, len, __LINE__);
    free(d);
    d = nested(513, "[", "", "]", &len);
    expect_err_at(d, len, 1, 513, "nesting deeper than 512", __LINE__);
    free(d);
    d = nested(512, "{\"a\": ", "1", "}", &len);
    expect_valid_at(d, len, __LINE__);
    free(d);
    d = nested(513, "{\"a\":", "1", "}", &len);
    expect_err_at(d, len, 1, 512 * 5 + 1, "nesting deeper than 512", __LINE__);
    free(d);

    /* Far deeper than any C stack would survive recursively. */
    clock_t t0 = clock();
    d = nested(100000, "[", "", "", &len);
    expect_err_at(d, len, 1, 513, "nesting deeper than 512", __LINE__);
    free(d);
    d = nested(100000, "{\"a\":[", "", "", &len);
    fk__json_error e;
    assert_int_equal(fk__json_validate(d, len, &e), -1);
    assert_string_equal(e.msg, "nesting deeper than 512");
    assert_int_equal(e.offset, 256 * 6);
    free(d);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
}

static char *many_keys(size_t n, const char *last_key, size_t *len, size_t *last_off)
{
    size_t cap = n * 24 + 64, k = 0;
    char *d = malloc(cap);
    assert_non_null(d);
    d[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(d + k, cap - k, "%s\"key%zu\": %zu", i ? ", " : "", i, i);
    if (last_key) {
        k += (size_t)snprintf(d + k, cap - k, ", ");
        *last_off = k;
        k += (size_t)snprintf(d + k, cap - k, "\"%s\": 0", last_key);
    }
    d[k++] = '}';
    d[k] = '\0';
    *len = k;
    return d;
}

static void test_many_keys_fast(void **state)
{
    (void)state;
    size_t len, off = 0;
    char *d = many_keys(100000, NULL, &len, &off);
    clock_t t0 = clock();
    fk__json_error e;
    int rc = fk__json_validate(d, len, &e);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(rc, 0);
    /* A quadratic check would need ~5e9 key comparisons: minutes, even
     * natively. Valgrind slows the linear one ~30x. */
    double limit = getenv("FORTKNOX_UNDER_VALGRIND") ? 10.0 : 1.0;
    if (secs >= limit)
        fail_msg("validating 100k keys took %.3f s", secs);
    free(d);

    /* The duplicate of the very first key, written with an escape. */
    d = many_keys(100000, "\\u006bey0", &len, &off);
    assert_int_equal(fk__json_validate(d, len, &e), -1);
    assert_string_equal(e.msg, "duplicate key \"key0\"");
    assert_int_equal(e.offset, off);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, off + 1);
    free(d);

    /* Many objects with the same keys: each object's keys are forgotten
     * when it closes. */
    fk__buf b = FK__BUF_INIT;
    fk__buf_putc(&b, '[');
    for (int i = 0; i < 20000; i++)
        fk__buf_printf(&b, "%s{\"id\": %d, \"name\": \"n\", \"\\u0069\\u0064x\": {\"id\": 1}}", i ? ", " : "", i);
    fk__buf_putc(&b, ']');
    assert_int_equal(fk__json_validate(b.data, b.len, &e), 0);
    fk__buf_dispose(&b);
}

/* ------------------------------------------------------------ scan_object */

struct seen {
    int n, stop_at;
    fk__jmember m[16];
};

static int collect(void *ud, const fk__jmember *m)
{
    struct seen *s = ud;
    s->m[s->n++] = *m;
    return s->n == s->stop_at ? 7 : 0;
}

static void expect_member(const fk__jmember *m, const char *key, fk__jtype type, const char *val,
                          size_t line, size_t col)
{
    assert_int_equal(m->key_len, strlen(key));
    assert_memory_equal(m->key, key, m->key_len);
    assert_int_equal(m->type, type);
    assert_int_equal(m->val_len, strlen(val));
    assert_memory_equal(m->val, val, m->val_len);
    assert_int_equal(m->line, line);
    assert_int_equal(m->column, col);
}

typedef struct elems {
    fk__jmember m[4];
    int n;
} elems;

static int collect_elem(void *ud, const fk__jmember *m)
{
    elems *e = ud;
    e->m[e->n++] = *m;
    return e->n == 3 ? 7 : 0; /* stop after three */
}

static void test_scan_array(void **state)
{
    (void)state;
    static const char arr[] = "[\n    {\"a\": 1},\n    \"x\", [1, 2], null]";
    elems e = {0};
    assert_int_equal(fk__json_scan_array(arr, strlen(arr), collect_elem, &e), 7);
    assert_int_equal(e.n, 3);
    assert_int_equal(e.m[0].type, FK__JT_OBJECT);
    assert_int_equal(e.m[0].val_len, 8);
    assert_int_equal(e.m[0].line, 2);
    assert_int_equal(e.m[0].column, 5);
    assert_null(e.m[0].key);
    assert_int_equal(e.m[1].type, FK__JT_STRING);
    assert_int_equal(e.m[1].line, 3);
    assert_int_equal(e.m[2].type, FK__JT_ARRAY);
    assert_int_equal(e.m[2].column, 10);
    e.n = 0;
    assert_int_equal(fk__json_scan_array("[]", 2, collect_elem, &e), 0);
    assert_int_equal(fk__json_scan_array("{}", 2, collect_elem, &e), 0);
    assert_int_equal(e.n, 0);
}

static void test_scan_object(void **state)
{
    (void)state;
    static const char doc[] = "{\n"
                              "    \"id\": 110,\n"
                              "    \"name\": \"GI \\\"Bleed\\\" }\",\n"
                              "    \"expr\": {\"a\": [1, {\"b\": \"}]\"}], \"c\": {}},\n"
                              "    \"list\" :\n [1, [2]],\n"
                              "    \"t\": true, \"f\": false,\"n\":null,\n"
                              "    \"k\\u00e9y\": -1.5e3\n"
                              "}";
    struct seen s = {0, 0, {{0}}};
    assert_int_equal(fk__json_scan_object(doc, sizeof doc - 1, collect, &s, NULL), 0);
    assert_int_equal(s.n, 8);
    expect_member(&s.m[0], "id", FK__JT_NUMBER, "110", 2, 11);
    expect_member(&s.m[1], "name", FK__JT_STRING, "\"GI \\\"Bleed\\\" }\"", 3, 13);
    expect_member(&s.m[2], "expr", FK__JT_OBJECT, "{\"a\": [1, {\"b\": \"}]\"}], \"c\": {}}", 4, 13);
    expect_member(&s.m[3], "list", FK__JT_ARRAY, "[1, [2]]", 6, 2);
    expect_member(&s.m[4], "t", FK__JT_TRUE, "true", 7, 10);
    expect_member(&s.m[5], "f", FK__JT_FALSE, "false", 7, 21);
    expect_member(&s.m[6], "n", FK__JT_NULL, "null", 7, 31);
    expect_member(&s.m[7], "k\\u00e9y", FK__JT_NUMBER, "-1.5e3", 8, 17);

    s.n = 0;
    s.stop_at = 3;
    assert_int_equal(fk__json_scan_object(doc, sizeof doc - 1, collect, &s, NULL), 7);
    assert_int_equal(s.n, 3);

    s.n = 0;
    assert_int_equal(fk__json_scan_object(" { } ", 5, collect, &s, NULL), 0);
    assert_int_equal(s.n, 0);

    /* Invalid anywhere: the callback never runs. */
    s.n = 0;
    s.stop_at = 0;
    fk__json_error e;
    assert_int_equal(fk__json_scan_object("{\"a\": 1, \"b\": 2, \"a\": 3}", 24, collect, &s, &e), -1);
    assert_int_equal(s.n, 0);
    assert_string_equal(e.msg, "duplicate key \"a\"");
    assert_int_equal(fk__json_scan_object("{\"a\": 1} x", 10, collect, &s, &e), -1);
    assert_int_equal(s.n, 0);

    assert_int_equal(fk__json_scan_object("[1]", 3, collect, &s, &e), -1);
    assert_string_equal(e.msg, "top-level value is not an object");
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 1);
    assert_int_equal(fk__json_scan_object("  \n \"x\"", 7, collect, &s, &e), -1);
    assert_string_equal(e.msg, "top-level value is not an object");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 2);
    assert_int_equal(e.offset, 4);
    assert_int_equal(s.n, 0);
}

/* -------------------------------------------------------------- strings */

static void test_unescape(void **state)
{
    (void)state;
    static const char raw[] = "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u4E2D\\ud83d\\ude00\\u0000z\"";
    static const char want[] = "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\0z";
    fk__buf b = FK__BUF_INIT;
    fk__buf_puts(&b, ">");
    assert_int_equal(fk__json_unescape(&b, raw, sizeof raw - 1), 0);
    assert_int_equal(b.len, sizeof want); /* ">" + want without its NUL */
    assert_memory_equal(b.data, ">", 1);
    assert_memory_equal(b.data + 1, want, sizeof want - 1);

    /* Without quotes, and raw UTF-8 passes through. */
    fk__buf_clear(&b);
    assert_int_equal(fk__json_unescape(&b, "x\xC3\xA9\\/", 5), 0);
    assert_string_equal(fk__buf_cstr(&b), "x\xC3\xA9/");
    fk__buf_clear(&b);
    assert_int_equal(fk__json_unescape(&b, "\"\"", 2), 0);
    assert_int_equal(b.len, 0);

    assert_int_equal(fk__json_unescape(&b, "a\\q", 3), -1);
    assert_int_equal(fk__json_unescape(&b, "\\ud800", 6), -1);
    assert_int_equal(fk__json_unescape(&b, "\\u12", 4), -1);
    assert_int_equal(fk__json_unescape(&b, "\\", 1), -1);
    fk__buf_dispose(&b);
}

static void expect_put_string(const char *s, size_t n, const char *want)
{
    fk__buf b = FK__BUF_INIT;
    assert_int_equal(fk__json_put_string(&b, s, n), 0);
    assert_string_equal(fk__buf_cstr(&b), want);
    fk__buf_dispose(&b);
}

static void test_put_string(void **state)
{
    (void)state;
    /* Verified against php -r 'echo json_encode($s, JSON_UNESCAPED_UNICODE);' */
    expect_put_string("", 0, "\"\"");
    expect_put_string("a/b", 3, "\"a\\/b\"");
    expect_put_string("q\"b\\", 4, "\"q\\\"b\\\\\"");
    expect_put_string("\0\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\x7f\"");
    expect_put_string("\b\f\n\r\t\x0b", 6, "\"\\b\\f\\n\\r\\t\\u000b\"");
    expect_put_string("\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80", 9, "\"\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\"");
    expect_put_string("\xE2\x80\xA8x\xE2\x80\xA9\xE2\x80\xA7\xE2\x80\xAA", 13,
                      "\"\\u2028x\\u2029\xE2\x80\xA7\xE2\x80\xAA\"");

    /* Invalid UTF-8: -1 and nothing appended. */
    static const char *const bad[] = {"\xC3", "\xED\xA0\x80", "\xC0\x80", "\xF4\x90\x80\x80",
                                      "ok\xFF", "\x80", "\xE2\x80"};
    fk__buf b = FK__BUF_INIT;
    fk__buf_puts(&b, "[");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(fk__json_put_string(&b, bad[i], strlen(bad[i])), -1);
        assert_int_equal(b.len, 1);
        assert_string_equal(fk__buf_cstr(&b), "[");
    }
    fk__buf_dispose(&b);
}

/* put_string on every ASCII byte must equal PHP's encoding of that string
 * (all_ascii.out was written by PHP itself). */
static void test_put_string_matches_php(void **state)
{
    (void)state;
    size_t in_len, out_len;
    char *p = data_path("json_pretty/all_ascii.json");
    char *in = read_file(p, &in_len);
    free(p);
    p = data_path("json_pretty/all_ascii.out");
    char *want = read_file(p, &out_len);
    free(p);

    fk__buf raw = FK__BUF_INIT, enc = FK__BUF_INIT;
    assert_int_equal(fk__json_unescape(&raw, in, in_len), 0);
    assert_int_equal(raw.len, 128);
    for (int i = 0; i < 128; i++)
        assert_int_equal((unsigned char)raw.data[i], i);
    assert_int_equal(fk__json_put_string(&enc, raw.data, raw.len), 0);
    assert_int_equal(enc.len, out_len);
    assert_memory_equal(enc.data, want, out_len);
    fk__buf_dispose(&raw);
    fk__buf_dispose(&enc);
    free(in);
    free(want);
}

/* -------------------------------------------------------------- numbers */

static void expect_number(const char *in, fk__json_style style, const char *want)
{
    fk__buf b = FK__BUF_INIT;
    assert_int_equal(fk__json_put_number(&b, in, strlen(in), style), 0);
    if (strcmp(fk__buf_cstr(&b), want) != 0)
        fail_msg("put_number(%s) = %s, want %s", in, fk__buf_cstr(&b), want);
    fk__buf_dispose(&b);
}

static void test_put_number_php(void **state)
{
    (void)state;
    expect_number("-0", FK__JSON_STYLE_PHP_VALUE, "0");
    expect_number("-0.0", FK__JSON_STYLE_PHP_VALUE, "-0");
    expect_number("0.10", FK__JSON_STYLE_PHP_VALUE, "0.1");
    expect_number("0.0300", FK__JSON_STYLE_PHP_VALUE, "0.03");
    expect_number("10.0", FK__JSON_STYLE_PHP_VALUE, "10");
    expect_number("1E+2", FK__JSON_STYLE_PHP_VALUE, "100");
    expect_number("1e-5", FK__JSON_STYLE_PHP_VALUE, "1.0e-5");
    expect_number("0.0001", FK__JSON_STYLE_PHP_VALUE, "0.0001");
    expect_number("1e17", FK__JSON_STYLE_PHP_VALUE, "1.0e+17");
    expect_number("1e16", FK__JSON_STYLE_PHP_VALUE, "10000000000000000");
    expect_number("1000000000000000000000", FK__JSON_STYLE_PHP_VALUE, "1.0e+21");
    expect_number("9223372036854775807", FK__JSON_STYLE_PHP_VALUE, "9223372036854775807");
    expect_number("-9223372036854775808", FK__JSON_STYLE_PHP_VALUE, "-9223372036854775808");
    /* Our deliberate deviation: never write a value PHP would round. */
    expect_number("9223372036854775808", FK__JSON_STYLE_PHP_VALUE, "9223372036854775808");
    expect_number("12345678901234567890", FK__JSON_STYLE_PHP_VALUE, "12345678901234567890");
    expect_number("0.1000000000000000000001", FK__JSON_STYLE_PHP_VALUE, "0.1000000000000000000001");
    expect_number("1e400", FK__JSON_STYLE_PHP_VALUE, "1e400");
    expect_number("1e-400", FK__JSON_STYLE_PHP_VALUE, "1e-400");
    expect_number("4.9e-324", FK__JSON_STYLE_PHP_VALUE, "4.9e-324");
    expect_number("1e99999999999999999999999", FK__JSON_STYLE_PHP_VALUE, "1e99999999999999999999999");
    /* Power of two where the nearest shorter decimal is just out of range
     * (plain "%.*e" search would give 17 digits; PHP's dtoa gives 16). */
    expect_number("7.120236347223045e-307", FK__JSON_STYLE_PHP_VALUE, "7.120236347223045e-307");
    expect_number("0.0000000001e10", FK__JSON_STYLE_PHP_VALUE, "1");

    /* Appends. */
    fk__buf b = FK__BUF_INIT;
    fk__buf_puts(&b, "x=");
    assert_int_equal(fk__json_put_number(&b, "2.50", 4, FK__JSON_STYLE_PHP_VALUE), 0);
    assert_string_equal(fk__buf_cstr(&b), "x=2.5");
    /* Not JSON numbers (PostgreSQL numeric can print NaN/Infinity). */
    static const char *const bad[] = {"NaN", "", "-", "01", "1.", ".5", "+1", "1e", "Infinity",
                                      "1 ", " 1", "0x10", "1e+", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(fk__json_put_number(&b, bad[i], strlen(bad[i]), FK__JSON_STYLE_PHP), -1);
        assert_int_equal(fk__json_put_number(&b, bad[i], strlen(bad[i]), FK__JSON_STYLE_CANONICAL), -1);
    }
    assert_string_equal(fk__buf_cstr(&b), "x=2.5");
    fk__buf_dispose(&b);
}

/* The jsonb style: PHP's form only when jsonb would read it back with the
 * same scale; PHP's own output always qualifies. */
static void test_put_number_php_keeps_scale(void **state)
{
    (void)state;
    static const char *const kept[] = {"0.10", "0.0300", "10.0", "-0.0", "1e-5", "100.00", "0.0"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        expect_number(kept[i], FK__JSON_STYLE_PHP, kept[i]);
    expect_number("-0", FK__JSON_STYLE_PHP, "0");
    expect_number("1E+2", FK__JSON_STYLE_PHP, "100");
    expect_number("1000000000000000000000", FK__JSON_STYLE_PHP, "1.0e+21");
    expect_number("0.00000015", FK__JSON_STYLE_PHP, "1.5e-7");
    static const char *const php[] = {"0.1", "0.03", "1.0", "1.0e+300", "1.5e-7", "-2.5", "100.0"};
    for (size_t i = 0; i < sizeof php / sizeof *php; i++)
        expect_number(php[i], FK__JSON_STYLE_PHP, php[i]);
}

/* Display scale as PostgreSQL's numeric keeps it (test oracle). */
static long scale_of(const char *n)
{
    const char *dot = strchr(n, '.'), *e = strpbrk(n, "eE");
    long fl = dot ? (long)((e ? e : n + strlen(n)) - dot - 1) : 0;
    long x = e ? strtol(e + 1, NULL, 10) : 0;
    /* exponents beyond any numeric's scale (strtol clamps to LONG_MIN/MAX) */
    if (x < -100000 || x > 100000)
        return x < 0 ? 100000 : 0;
    return fl - x < 0 ? 0 : fl - x;
}

static void test_put_number_canonical(void **state)
{
    (void)state;
    static const char *const same[] = {"1.50", "-0", "-0.0", "1E+2", "0.0300", "12345678901234567890",
                                       "1e400", "0", "7", "-1.5e-7"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        expect_number(same[i], FK__JSON_STYLE_CANONICAL, same[i]);
}

/* tests/data/php_numbers.tsv: input, expected, what PHP writes. */
static void test_put_number_php_vectors(void **state)
{
    (void)state;
    size_t len;
    char *p = data_path("php_numbers.tsv");
    char *d = read_file(p, &len);
    free(p);
    size_t lines = 0, same_as_php = 0, kept = 0;
    fk__buf b = FK__BUF_INIT;
    for (char *line = d, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char *t1 = strchr(line, '\t');
        assert_non_null(t1);
        char *t2 = strchr(t1 + 1, '\t');
        assert_non_null(t2);
        *t1 = *t2 = '\0';
        const char *in = line, *want = t1 + 1, *php = t2 + 1;
        fk__buf_clear(&b);
        assert_int_equal(fk__json_put_number(&b, in, strlen(in), FK__JSON_STYLE_PHP_VALUE), 0);
        if (strcmp(fk__buf_cstr(&b), want) != 0)
            fail_msg("tsv line %zu: put_number(%s) = %s, want %s (php %s)", lines + 1, in,
                     fk__buf_cstr(&b), want, php);
        /* the jsonb style keeps the input where PHP's form changes the scale */
        const char *want_scaled = scale_of(want) == scale_of(in) ? want : in;
        fk__buf_clear(&b);
        assert_int_equal(fk__json_put_number(&b, in, strlen(in), FK__JSON_STYLE_PHP), 0);
        if (strcmp(fk__buf_cstr(&b), want_scaled) != 0)
            fail_msg("tsv line %zu: put_number(%s) = %s, want %s (jsonb style)", lines + 1, in,
                     fk__buf_cstr(&b), want_scaled);
        same_as_php += strcmp(want, php) == 0;
        kept += strcmp(want, in) == 0 && strcmp(want, php) != 0;
        lines++;
    }
    /* The file must exercise both outcomes, in bulk. */
    assert_true(lines >= 4000);
    assert_true(same_as_php >= 3000);
    assert_true(kept >= 500);
    fk__buf_dispose(&b);
    free(d);
}

/* --------------------------------------------------------------- pretty */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_pretty_php_vectors(void **state)
{
    (void)state;
    char *dir = data_path("json_pretty");
    DIR *dp = opendir(dir);
    if (!dp)
        fail_msg("cannot open %s", dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp)) != NULL) {
        if (!ends_with(de->d_name, ".json"))
            continue;
        size_t base = strlen(de->d_name) - 5, in_len, out_len;
        char *path = str_printf("%s/%s", dir, de->d_name);
        char *in = read_file(path, &in_len);
        free(path);
        /* <name>.out is what PHP writes; <name>.fk.out, where present, is
         * our deliberate difference from it: an empty object stays {}, a
         * number keeps its scale (0.10 stays 0.10, as jsonb holds it) */
        path = str_printf("%s/%.*s.fk.out", dir, (int)base, de->d_name);
        char *want = access(path, R_OK) == 0 ? read_file(path, &out_len) : NULL;
        free(path);
        path = str_printf("%s/%.*s.out", dir, (int)base, de->d_name);
        if (!want)
            want = read_file(path, &out_len);
        free(path);
        expect_pretty_at(in, in_len, 0, FK__JSON_STYLE_PHP, want, out_len, __LINE__);
        free(in);
        free(want);
        n++;
    }
    closedir(dp);
    free(dir);
    assert_true(n >= 23);
}

static void test_pretty_layout(void **state)
{
    (void)state;
    EXPECT_PRETTY("{\"a\": [1, {}], \"b\": {\"c\": []}}", 1, FK__JSON_STYLE_PHP,
                  "{\n"
                  "        \"a\": [\n"
                  "            1,\n"
                  "            {}\n"
                  "        ],\n"
                  "        \"b\": {\n"
                  "            \"c\": []\n"
                  "        }\n"
                  "    }");
    EXPECT_PRETTY("[[1]]", 2, FK__JSON_STYLE_PHP,
                  "[\n"
                  "            [\n"
                  "                1\n"
                  "            ]\n"
                  "        ]");
    EXPECT_PRETTY("[1]", -3, FK__JSON_STYLE_PHP, "[\n    1\n]");
    /* an empty object stays one: the file holds what the database holds */
    EXPECT_PRETTY(" {} ", 5, FK__JSON_STYLE_PHP, "{}");
    EXPECT_PRETTY(" \"a/b\" ", 5, FK__JSON_STYLE_PHP, "\"a\\/b\"");
    EXPECT_PRETTY("-0", 5, FK__JSON_STYLE_PHP, "0");

    /* We keep objects as objects even when PHP would turn them into lists. */
    EXPECT_PRETTY("{\"0\": \"a\", \"1\": \"b\"}", 0, FK__JSON_STYLE_PHP,
                  "{\n    \"0\": \"a\",\n    \"1\": \"b\"\n}");
    /* Numbers PHP would round, or write with another scale, are kept
     * verbatim; PHP's form is taken when jsonb reads it back the same. */
    EXPECT_PRETTY("[12345678901234567890, 0.1000000000000000000001, 1e400, 1.50, 1.5, 1E+2]", 0,
                  FK__JSON_STYLE_PHP,
                  "[\n    12345678901234567890,\n    0.1000000000000000000001,\n    1e400,\n    "
                  "1.50,\n    1.5,\n    100\n]");
}

static void test_pretty_canonical(void **state)
{
    (void)state;
    EXPECT_PRETTY("{\"a\": {}, \"n\": [1.50, -0, 1E+2, 12345678901234567890, 0.10], \"s\": \"\\u00e9/\\u2028\"}",
                  0, FK__JSON_STYLE_CANONICAL,
                  "{\n"
                  "    \"a\": {},\n"
                  "    \"n\": [\n"
                  "        1.50,\n"
                  "        -0,\n"
                  "        1E+2,\n"
                  "        12345678901234567890,\n"
                  "        0.10\n"
                  "    ],\n"
                  "    \"s\": \"\xC3\xA9\\/\\u2028\"\n"
                  "}");
    EXPECT_PRETTY("{}", 0, FK__JSON_STYLE_CANONICAL, "{}");
    EXPECT_PRETTY("[{}, []]", 0, FK__JSON_STYLE_CANONICAL, "[\n    {},\n    []\n]");
}

static void test_pretty_errors(void **state)
{
    (void)state;
    fk__buf b = FK__BUF_INIT;
    fk__buf_puts(&b, "prefix");
    fk__json_error e;
    assert_int_equal(fk__json_pretty(&b, "{\"a\": [1, 2,]}", 14, 0, FK__JSON_STYLE_PHP, &e), -1);
    assert_string_equal(e.msg, "trailing comma before ']'");
    assert_int_equal(e.column, 12);
    assert_int_equal(b.len, 6);
    assert_string_equal(fk__buf_cstr(&b), "prefix");
    assert_int_equal(fk__json_pretty(&b, "{\"k\": [{\"x\": 1, \"x\": 2}]}", 25, 0, FK__JSON_STYLE_CANONICAL, NULL), -1);
    assert_string_equal(fk__buf_cstr(&b), "prefix");
    /* Appends after existing content on success. */
    assert_int_equal(fk__json_pretty(&b, "[]", 2, 0, FK__JSON_STYLE_PHP, &e), 0);
    assert_string_equal(fk__buf_cstr(&b), "prefix[]");
    fk__buf_dispose(&b);
}

static void test_pretty_deep(void **state)
{
    (void)state;
    size_t len;
    char *in = nested(512, "[", "1", "]", &len);
    fk__buf want = FK__BUF_INIT;
    for (int i = 0; i < 512; i++)
        fk__buf_printf(&want, "[\n%*s", (i + 1) * 4, "");
    fk__buf_putc(&want, '1');
    for (int i = 511; i >= 0; i--)
        fk__buf_printf(&want, "\n%*s]", i * 4, "");
    expect_pretty_at(in, len, 0, FK__JSON_STYLE_PHP, want.data, want.len, __LINE__);
    fk__buf_dispose(&want);
    free(in);
}

struct members {
    size_t n;
    fk__jmember m[64];
};

static int keep_member(void *ud, const fk__jmember *m)
{
    struct members *s = ud;
    if (s->n == 64)
        return 1;
    s->m[s->n++] = *m;
    return 0;
}

/* Every fixture is PHP pretty output: re-emitting it, or the compact
 * PostgreSQL-style text of the same value, must give the file back, and
 * each member's value pretty-printed at indent 1 must give the bytes the
 * fixture holds for it. */
static void check_fixture(const char *rel)
{
    size_t flen, clen;
    char *path = str_printf("%s/parthenon-fixtures/%s", data_dir, rel);
    char *fix = read_file(path, &flen);
    free(path);
    path = str_printf("%s/parthenon-compact/%s", data_dir, rel);
    char *compact = read_file(path, &clen);
    free(path);

    fk__json_error e;
    if (fk__json_validate(fix, flen, &e) != 0)
        fail_msg("%s: %zu:%zu %s", rel, e.line, e.column, e.msg);
    expect_pretty_at(fix, flen, 0, FK__JSON_STYLE_PHP, fix, flen, __LINE__);
    expect_pretty_at(compact, clen, 0, FK__JSON_STYLE_PHP, fix, flen, __LINE__);

    struct members fm = {0, {{0}}}, cm = {0, {{0}}};
    assert_int_equal(fk__json_scan_object(fix, flen, keep_member, &fm, NULL), 0);
    assert_int_equal(fk__json_scan_object(compact, clen, keep_member, &cm, NULL), 0);
    assert_int_equal(fm.n, cm.n);
    assert_true(fm.n > 0);
    for (size_t i = 0; i < fm.n; i++) {
        assert_int_equal(fm.m[i].key_len, cm.m[i].key_len);
        assert_memory_equal(fm.m[i].key, cm.m[i].key, fm.m[i].key_len);
        assert_int_equal(fm.m[i].line > 1, 1);
        assert_int_equal(fm.m[i].column, 4 + 1 + fm.m[i].key_len + 2 + 1 + 1);
        expect_pretty_at(cm.m[i].val, cm.m[i].val_len, 1, FK__JSON_STYLE_PHP, fm.m[i].val,
                         fm.m[i].val_len, __LINE__);
    }
    free(fix);
    free(compact);
}

static int walk_fixtures(const char *rel_dir)
{
    char *path = str_printf("%s/parthenon-fixtures%s%s", data_dir, *rel_dir ? "/" : "", rel_dir);
    DIR *dp = opendir(path);
    if (!dp)
        fail_msg("cannot open %s", path);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *rel = str_printf("%s%s%s", rel_dir, *rel_dir ? "/" : "", de->d_name);
        char *full = str_printf("%s/%s", path, de->d_name);
        struct stat st;
        assert_int_equal(stat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            n += walk_fixtures(rel);
        } else if (ends_with(rel, ".json")) {
            check_fixture(rel);
            n++;
        }
        free(rel);
        free(full);
    }
    closedir(dp);
    free(path);
    return n;
}

static void test_parthenon_fixtures(void **state)
{
    (void)state;
    assert_int_equal(walk_fixtures(""), 31);
}

/* Every allocation failure is reported, leaks nothing and leaves the
 * output buffer failed (it is sticky by design). Needs -DFK_ALLOC_FAULTS. */
static void test_alloc_failures(void **state)
{
    (void)state;
    if (!fkt_alloc_faults_available())
        skip(); /* alloc.c built without FK_ALLOC_FAULTS */
    static const char doc[] = "{\"\\u0061\": [1, {\"\\u0062\": \"x\", \"c\": 2}], \"d\": {}}";
    static const char want[] = "{\n    \"a\": [\n        1,\n        {\n            \"b\": \"x\",\n"
                               "            \"c\": 2\n        }\n    ],\n    \"d\": {}\n}";
    int ok = 0;
    for (long k = 1; k < 100 && !ok; k++) {
        fk__json_error e;
        memset(&e, 0, sizeof e);
        fk__alloc_fail_at(k);
        int rc = fk__json_validate(doc, sizeof doc - 1, &e);
        fk__alloc_fail_at(0);
        if (rc != 0)
            assert_string_equal(e.msg, "out of memory");

        fk__buf b = FK__BUF_INIT;
        fk__alloc_fail_at(k);
        rc = fk__json_pretty(&b, doc, sizeof doc - 1, 0, FK__JSON_STYLE_PHP, &e);
        long used = fk__alloc_count();
        fk__alloc_fail_at(0);
        if (rc == 0) {
            assert_true(used < k);
            assert_string_equal(fk__buf_cstr(&b), want);
            ok = 1;
        } else {
            assert_string_equal(e.msg, "out of memory");
        }
        fk__buf_dispose(&b);
    }
    assert_true(ok);
}

/* fk__json_int64 is the one reader of JSON integer tokens (manifest ids,
 * fixture primary keys, audit events): its three answers at the edges. */
static int int64_of(const char *tok, int64_t *v) { return fk__json_int64(tok, strlen(tok), v); }

static void test_int64(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(int64_of("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(int64_of("-0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(int64_of("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(int64_of("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    v = 7;
    assert_int_equal(int64_of("9223372036854775808", &v), -2);
    assert_int_equal(int64_of("-9223372036854775809", &v), -2);
    assert_int_equal(int64_of("123456789012345678901234567890123", &v), -2);
    assert_int_equal(int64_of("1.0", &v), -1);
    assert_int_equal(int64_of("1e3", &v), -1);
    assert_int_equal(int64_of("1E3", &v), -1);
    assert_int_equal(int64_of("-", &v), -1);
    assert_int_equal(int64_of("", &v), -1);
    assert_true(v == 7); /* untouched on failure */
}

int main(int argc, char **argv)
{
    const char *env = getenv("FK_TEST_DATA_DIR");
    if (argc > 1)
        data_dir = argv[1];
    else if (env && *env)
        data_dir = env;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_error_truncated),
        cmocka_unit_test(test_error_trailing_comma),
        cmocka_unit_test(test_error_duplicate_keys),
        cmocka_unit_test(test_error_utf8),
        cmocka_unit_test(test_error_escapes),
        cmocka_unit_test(test_error_control_chars),
        cmocka_unit_test(test_error_numbers),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_many_keys_fast),
        cmocka_unit_test(test_scan_object),
        cmocka_unit_test(test_scan_array),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_put_string),
        cmocka_unit_test(test_put_string_matches_php),
        cmocka_unit_test(test_put_number_php),
        cmocka_unit_test(test_put_number_php_keeps_scale),
        cmocka_unit_test(test_put_number_canonical),
        cmocka_unit_test(test_put_number_php_vectors),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_pretty_php_vectors),
        cmocka_unit_test(test_pretty_layout),
        cmocka_unit_test(test_pretty_canonical),
        cmocka_unit_test(test_pretty_errors),
        cmocka_unit_test(test_pretty_deep),
        cmocka_unit_test(test_parthenon_fixtures),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
