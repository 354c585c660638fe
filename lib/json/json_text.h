/* Strict JSON text handling for fixture files.
 *
 * Fixture files must be byte-identical to what the PHP app writes with
 * json_encode($v, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE) after
 * json_decode($pg_jsonb_text, true). A DOM library cannot do that: it turns
 * numbers into doubles and forgets where errors are. This module therefore
 * works on the text itself: a validator that reports line:column, and a
 * re-emitter that keeps number text and reproduces PHP's layout and escaping.
 *
 * One job per file: utf8.c (UTF-8 and \u escapes), json_escape.c (PHP's
 * string escaping), json_number.c (PHP's number forms), json_pretty.c (the
 * single-pass validator and pretty-printer), json_scan.c (walking members);
 * json_internal.h holds what they share.
 */
#ifndef FK_CORE_JSON_TEXT_H
#define FK_CORE_JSON_TEXT_H
#include "buf.h"
#include <stddef.h>
#include <stdint.h>

/* PHP: PHP's layout and number forms, as long as they keep the value and
 * the number's scale (jsonb keeps 0.10 as 0.10, PHP would write 0.1).
 * CANONICAL: numbers as given. PHP_VALUE: for numbers only, PHP's form as
 * long as it keeps the value -- for columns whose type fixes the scale
 * (numeric(p,s), float), where 0.03 restores 0.0300 exactly. */
typedef enum {
    FK__JSON_STYLE_PHP = 0,
    FK__JSON_STYLE_CANONICAL = 1,
    FK__JSON_STYLE_PHP_VALUE = 2
} fk__json_style;

typedef struct fk__json_error {
    size_t line;   /* 1-based; only '\n' starts a new line */
    size_t column; /* 1-based, in bytes */
    size_t offset; /* byte offset; == len for errors at end of input */
    char msg[160];
} fk__json_error;

typedef enum {
    FK__JT_NULL,
    FK__JT_FALSE,
    FK__JT_TRUE,
    FK__JT_NUMBER,
    FK__JT_STRING,
    FK__JT_ARRAY,
    FK__JT_OBJECT
} fk__jtype;

typedef struct fk__jmember {
    const char *key; /* raw key bytes between the quotes, escapes NOT decoded */
    size_t key_len;
    fk__jtype type;
    const char *val; /* raw value text in the input; strings keep their quotes */
    size_t val_len;
    size_t line, column; /* position of the value */
} fk__jmember;

/* Containers nested deeper than this are rejected. Note PHP's json_decode
 * with its default depth of 512 accepts only 511 nested containers (it
 * counts the scalar level too), while json_encode accepts 512. */
#define FK__JSON_MAX_DEPTH 512

/* Strict RFC 8259 validation of a whole document: UTF-8 (no overlongs,
 * encoded surrogates or > U+10FFFF; no BOM), no raw control characters in
 * strings, \u escapes with paired surrogates, the JSON number grammar, only
 * whitespace after the value, nesting <= FK__JSON_MAX_DEPTH, and no
 * duplicate keys within an object (compared after decoding escapes).
 * Errors point at the first offending byte (end of input for truncation; the
 * comma for a trailing comma; the key's opening quote for a duplicate).
 * Returns 0, or -1 with *err filled (err may be NULL); running out of memory
 * is reported as -1 with msg "out of memory". */
int fk__json_validate(const char *in, size_t len, fk__json_error *err);

/* 1 when a failure reported in err was running out of memory, not bad
 * input: callers map it to FK_ENOMEM rather than FK_EPARSE. */
int fk__json_error_is_oom(const fk__json_error *err);

/* Validates the whole document, requires a top-level object, then calls cb
 * for each top-level member in input order. cb is never called for an
 * invalid document. cb returns 0 to continue; a non-zero value stops the
 * scan and is returned as is (so callers should not use -1 if they need to
 * tell it apart from a validation error). cb may be NULL. */
int fk__json_scan_object(const char *in, size_t len,
                         int (*cb)(void *ud, const fk__jmember *m), void *ud,
                         fk__json_error *err);

/* Calls cb for each element of the array in[0..len), which must already be
 * valid JSON (a value fk__json_scan_object passed on): key is NULL, line and
 * column are relative to in. Not an array: no calls. cb's non-zero return
 * stops the scan and is returned; 0 otherwise. */
int fk__json_scan_array(const char *in, size_t len,
                        int (*cb)(void *ud, const fk__jmember *m), void *ud);

/* 1 when member m's key, decoded, is want; 0 when not; -1 out of memory.
 * Keys may be written with escapes ("\u0069d" is "id"): every reader of a
 * document's keys compares them this way, as PHP's json_decode would. */
int fk__json_key_is(const fk__jmember *m, const char *want);

/* Appends the decoded UTF-8 bytes of a raw JSON string token. The token may
 * include its surrounding quotes (a leading '"' means both are stripped).
 * Meant for validated input; returns -1 on a malformed escape or when the
 * buffer has failed. */
int fk__json_unescape(fk__buf *out, const char *raw, size_t len);

/* Appends s[0..n) as a JSON string literal escaped exactly as PHP's
 * json_encode(JSON_UNESCAPED_UNICODE) does: \" \\ \/ \b \f \n \r \t,
 * other bytes < 0x20 and U+2028/U+2029 as lowercase \u00xx / \u2028, all
 * other UTF-8 (and 0x7f) raw. Both styles use this one scheme. Returns -1,
 * appending nothing, on invalid UTF-8; -1 when the buffer has failed. */
int fk__json_put_string(fk__buf *out, const char *s, size_t n);

/* Appends a number given as JSON-grammar text (PostgreSQL numeric output
 * qualifies). CANONICAL: the text unchanged. PHP_VALUE: what json_encode
 * writes after json_decode -- integers that fit int64 as is ("-0" -> "0"),
 * anything else as PHP 8 prints the double (serialize_precision = -1), e.g.
 * "0.1", "1.0e+21", "1.5e-7", "-0" -- except that when the double's
 * shortest decimal form is not exactly the input's decimal value (more than
 * 17 significant digits, overflow, underflow, ...) the input text is written
 * unchanged, so a fixture never loses a value where PHP would. PHP: as
 * PHP_VALUE, and the input text is also kept when PHP's form would have
 * another scale (digits after the point less the exponent: "0.10" stays,
 * "1.0e+300" for 1000...0 is taken), so jsonb reads back exactly what it
 * held -- which PHP's own output always satisfies. Returns -1 if
 * the text is not a JSON number (e.g. PostgreSQL's "NaN") or the buffer has
 * failed. */
int fk__json_put_number(fk__buf *out, const char *num, size_t n, fk__json_style style);

/* The JSON number token num[0..n) as an int64, the one integer reader for
 * fixture and manifest values: 0 with *out set; -1 when it is not an integer
 * literal (a fraction or exponent, or not a number); -2 when it is one but
 * does not fit in int64. */
int fk__json_int64(const char *num, size_t n, int64_t *out);

/* Validates in[0..len) and appends it in PHP's JSON_PRETTY_PRINT layout:
 * 4 spaces per level, "key": value, one member/element per line, closing
 * bracket on its own line; empty array "[]", empty object "{}" in both
 * styles (PHP, decoding to arrays, would write "[]": a restore would then
 * store a different value than the database held).
 * Strings and keys are decoded and re-escaped with fk__json_put_string's
 * rules, numbers go through fk__json_put_number, key order is kept.
 * The value starts at the cursor; nested lines are indented by
 * (indent + 1) * 4 spaces and the closing bracket by indent * 4, so a value
 * can be embedded after "key": at that level (negative indent counts as 0).
 * Deliberate difference from PHP: PHP turns an object whose keys are
 * exactly "0", "1", ... in order into a list ("[...]"); we keep it an object.
 * Returns 0, or -1 with *err filled (invalid input or out of memory); on
 * error the buffer is restored to its previous length unless it has failed. */
int fk__json_pretty(fk__buf *out, const char *in, size_t len, int indent, fk__json_style style,
                    fk__json_error *err);

/* Appends the per-field differences from old[0..old_len) to new[0..new_len)
 * as a JSON array of {"path", "op", "old", "new", "text"}: op "added" (no
 * "old"), "removed" (no "new") or "changed"; old/new are the values' text as
 * given; text the line a person reads ("~ $.a: 1 → 2", "+ ...", "- ...").
 * Objects recurse by key (path $.a.b, or $["a key"] for a key that is not an
 * identifier), arrays by index ($.items[2]); a value whose type changes is
 * one "changed" entry. Strings compare decoded, numbers as their text (never
 * as doubles). A NULL document is "no state": against an object each member
 * is added (or removed), else one entry at "$". Returns 0, or -1 with *err
 * filled (invalid JSON, out of memory); on error out is restored. */
int fk__json_diff(fk__buf *out, const char *old, size_t old_len, const char *new, size_t new_len,
                  fk__json_error *err);

#endif
