#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Run from anywhere: python3 tests/fuzz/make-corpus.py. It rewrites the
generated files and copies the real inputs (the 31 Parthenon fixtures, the
Parthenon registry); files it does not generate are left alone:
corpus/manifest/real-export-31.json (written by fk_export() for the 31
Parthenon fixtures) and any crash-* / regression-* inputs.

corpus/json         documents for json_pretty, json_scan, json_scalar
corpus/json_scalar  numbers and string bodies for json_scalar
corpus/registry     registry files
corpus/slug         entity names
corpus/manifest     manifests
"""
import glob
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- json
def json_corpus():
    fx = os.path.join(ROOT, "tests/data/parthenon-fixtures")
    for p in sorted(glob.glob(os.path.join(fx, "**/*.json"), recursive=True)):
        rel = os.path.relpath(p, fx).replace("/", "__")
        shutil.copyfile(p, os.path.join(CORPUS, "json", "parthenon__" + rel))
    # two compact (jsonb text) forms of the same data, as PostgreSQL prints them
    cp = os.path.join(ROOT, "tests/data/parthenon-compact")
    for rel in ["cohort_definitions/hypertension-cohort.json",
                "concept_sets/asthma.json"]:
        p = os.path.join(cp, rel)
        if os.path.exists(p):
            shutil.copyfile(p, os.path.join(CORPUS, "json", "compact__" + rel.replace("/", "__")))

    j = lambda name, data: put("json", name, data)
    j("deep-100k-arrays.json", "[" * 100000)
    j("deep-512-ok.json", "[" * 512 + "]" * 512)
    j("deep-513.json", "[" * 513 + "]" * 513)
    j("deep-objects-511.json", '{"a":' * 511 + "1" + "}" * 511)
    j("deep-mixed.json", '[{"a":[{"b":' * 100 + "null" + "}]}]" * 100)
    j("numbers-huge.json",
      "[1e999999, -1e999999, 1e-999999, 123456789012345678901234567890, "
      "9223372036854775807, 9223372036854775808, -9223372036854775808, "
      "-9223372036854775809, 0.1000000000000000000001, 12345678901234567890, "
      "1.7976931348623157e308, 1.7976931348623159e308, 4.9406564584124654e-324, "
      "2.4703282292062328e-324, 0.30000000000000004, 1e22, 1e21, 1e16, 1e17, "
      "-0, -0.0, 0.0, 1.50, 1E+2, 0.0300, 1500.0000, 1e300, 0.00001, 0.0001]")
    j("numbers-exp-zeros.json", "[1e00000000000000000000000000000005, 1E-0000000000000000000000000007]")
    j("number-long.json", "1" + "0" * 5000)
    j("number-long-frac.json", "0." + "0" * 4000 + "1")
    j("number-bad.json", "[01, 1., .5, -, 1e, +1, NaN, Infinity]")
    j("dup-keys.json", '{"a": 1, "a": 2}')
    j("dup-keys-escaped.json", '{"a": 1, "\\u0061": 2}')
    j("dup-keys-nested-ok.json", '{"a": {"a": 1}, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}]}')
    j("dup-keys-deep.json", '{"x": {"y": {"z": 1, "z": 2}}}')
    j("keys-many.json", "{" + ", ".join('"k%d": %d' % (i, i) for i in range(3000)) + "}")
    j("keys-escaped-many.json", "{" + ", ".join('"\\u00%02x%d": %d' % (0x41 + i % 26, i, i) for i in range(500)) + "}")
    j("key-10k.json", '{"' + "k" * 10240 + '": 1}')
    # duplicate key longer than the message shows, cut inside a UTF-8 sequence
    j("dup-key-long-utf8.json", '{"%s": 1, "%s": 2}' % ("a" * 95 + "é" * 4, "a" * 95 + "é" * 4))
    j("utf8-invalid-ff.json", b'["\xff"]')
    j("utf8-truncated.json", b'["\xc3"]')
    j("utf8-overlong-slash.json", b'["\xc0\xaf"]')
    j("utf8-overlong-3.json", b'["\xe0\x80\xaf"]')
    j("utf8-overlong-4.json", b'["\xf0\x80\x80\xaf"]')
    j("utf8-surrogate-encoded.json", b'["\xed\xa0\x80"]')
    j("utf8-above-max.json", b'["\xf4\x90\x80\x80"]')
    j("utf8-f5.json", b'["\xf5\x80\x80\x80"]')
    j("utf8-continuation.json", b'["\x80"]')
    j("utf8-valid-mix.json", '{"é": "ü€😀", "\u2028": "\u2029", "z": "\\u00e9\\ud83d\\ude00"}')
    j("lone-high-surrogate.json", '["\\ud800"]')
    j("lone-low-surrogate.json", '["\\udc00"]')
    j("high-then-letter.json", '["\\ud800\\u0041"]')
    j("surrogate-pair.json", '["\\ud83d\\ude00"]')
    j("bom.json", b"\xef\xbb\xbf{}")
    j("nul-raw-in-string.json", b'["a\x00b"]')
    j("nul-escaped-key.json", '{"a\\u0000b": 1, "a": 2}')
    j("nul-after-doc.json", b"{}\x00")
    j("control-raw.json", b'["\x01\x1f"]')
    j("escapes-all.json", '["\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\\u007f\\u2028\\u2029"]')
    j("escape-bad.json", '["\\x41", "\\u12", "\\u12G4"]')
    j("trailing-comma-array.json", "[1, 2,]")
    j("trailing-comma-object.json", '{"a": 1,}')
    j("empty.json", "")
    j("whitespace-only.json", " \n\t\r ")
    j("scalars.json", 'true')
    j("empty-containers.json", '{"a": {}, "b": [], "c": [{}, []], "d": {"e": {}}}')
    j("numeric-keys.json", '{"0": "a", "1": "b", "2": "c"}')
    j("crlf-layout.json", '{\r\n  "a": [\r\n    1,\r\n    2\r\n  ]\r\n}\r\n')
    j("two-values.json", "{} {}")
    j("literal-truncated.json", "[tru")
    j("string-unterminated.json", '["abc')
    # the small documents of the json_pretty unit tests
    jp = os.path.join(ROOT, "tests/data/json_pretty")
    for p in sorted(glob.glob(os.path.join(jp, "*.json"))):
        shutil.copyfile(p, os.path.join(CORPUS, "json", "unit__" + os.path.basename(p)))


def json_scalar_corpus():
    s = lambda name, data: put("json_scalar", name, data)
    nums = ["0", "-0", "-0.0", "0.0", "1", "-1", "1.50", "1E+2", "1e-7", "0.0300", "1500.0000",
            "1e300", "1e400", "-1e400", "1e-400", "12345678901234567890", "0.1000000000000000000001",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808",
            "-9223372036854775809", "1.7976931348623157e308", "4.9406564584124654e-324",
            "7.120236347223045e-307", "1e22", "1e21", "1e16", "100000000000000000000",
            "0.30000000000000004", "2.5e-5", "NaN", "Infinity", "01", "1.", ".5", "1e", "+1", " 1",
            "1 ", "1e00000000000000000000000000000005", "0e999999999999999999999",
            "1" + "0" * 400, "0." + "0" * 400 + "5"]
    for i, n in enumerate(nums):
        s("num-%02d" % i, n)
    strs = {
        "str-plain": "hello, world", "str-slash": "a/b\\c\"d", "str-controls": "\x00\x01\x1f\x7f\n\t",
        "str-unicode": "é€😀\u2028\u2029", "str-escapes": "\\u00e9\\ud83d\\ude00\\n\\/",
        "str-lone-high": "\\ud800", "str-lone-low": "\\udc00x", "str-bad-escape": "\\q",
        "str-trailing-backslash": "abc\\", "str-quoted": '"quoted \\"inner\\""',
    }
    for k, v in strs.items():
        s(k, v)
    s("str-invalid-utf8", b"ab\xff\xfe")
    s("str-overlong", b"\xc0\x80")
    s("str-surrogate-utf8", b"\xed\xb0\x80")
    s("str-truncated-4", b"\xf0\x9f\x98")


# ------------------------------------------------------------ registry
def registry_corpus():
    r = lambda name, data: put("registry", name, data)
    shutil.copyfile(os.path.join(ROOT, "docs/parthenon-registry.json"),
                    os.path.join(CORPUS, "registry", "parthenon-registry.json"))

    def reg(entities, users=None, extra=""):
        u = "" if users is None else ', "users": ' + users
        return ('{"format": "fortknox-registry", "format_version": 1%s, "entities": [%s]%s}'
                % (u, ", ".join(entities), extra))

    minimal = '{"type": "widget", "table": "app.widgets"}'
    r("minimal.json", reg([minimal]))
    r("full.json", reg([
        '{"type": "cohort_definition", "table": "app.cohort_definitions", "directory": "cohort_definitions", '
        '"primary_key": "id", "name_column": "name", "soft_delete_column": "deleted_at", '
        '"author_column": "author_id", "secret_columns": ["share_token"], "self_references": ["superseded_by"], '
        '"children": [{"key": "items", "table": "app.items", "foreign_key": "parent_id", "primary_key": "id", '
        '"secret_columns": ["x"], "omit_when_empty": true}]}'],
        users='{"table": "app.users", "id_column": "id", "email_column": "email"}',
        extra=', "application": "demo"'))
    r("drop-table-name.json", reg(['{"type": "evil", "table": "app.x; DROP TABLE y"}']))
    r("drop-table-schema.json", reg(['{"type": "evil", "table": "x; DROP TABLE y.t"}']))
    r("quotes-in-names.json", reg(['{"type": "q", "table": "a\\"b.c\\"\\"d", "primary_key": "i\\"d"}']))
    r("dir-dotdot.json", reg(['{"type": "t", "table": "app.t", "directory": "../etc"}']))
    r("dir-dotdot-only.json", reg(['{"type": "t", "table": "app.t", "directory": ".."}']))
    r("dir-slash.json", reg(['{"type": "t", "table": "app.t", "directory": "a/b"}']))
    r("dir-absolute.json", reg(['{"type": "t", "table": "app.t", "directory": "/tmp"}']))
    r("dir-nul.json", reg(['{"type": "t", "table": "app.t", "directory": "a\\u0000/../b"}']))
    r("type-uppercase.json", reg(['{"type": "Widget", "table": "app.widgets"}']))
    r("type-nul.json", reg(['{"type": "w\\u0000../x", "table": "app.widgets"}']))
    r("table-nul.json", reg(['{"type": "w", "table": "app.wid\\u0000; DROP TABLE y"}']))
    r("table-unqualified.json", reg(['{"type": "w", "table": "widgets"}']))
    r("table-three-parts.json", reg(['{"type": "w", "table": "a.b.c"}']))
    r("table-64.json", reg(['{"type": "w", "table": "app.%s"}' % ("t" * 64)]))
    r("name-10k.json", reg(['{"type": "w", "table": "app.t", "name_column": "%s"}' % ("n" * 10240)]))
    r("dup-type.json", reg([minimal, '{"type": "widget", "table": "app.other"}']))
    r("dup-table.json", reg([minimal, '{"type": "other", "table": "app.widgets", "directory": "o"}']))
    r("dup-key.json", '{"format": "fortknox-registry", "format": "fortknox-registry", "format_version": 1, "entities": []}')
    r("unknown-key.json", reg(['{"type": "w", "table": "app.t", "tabel": "x"}']))
    r("wrong-version.json", '{"format": "fortknox-registry", "format_version": 2, "entities": [%s]}' % minimal)
    r("version-float.json", '{"format": "fortknox-registry", "format_version": 1.0, "entities": [%s]}' % minimal)
    r("entities-empty.json", reg([]))
    r("children-bad.json", reg(['{"type": "w", "table": "app.t", "children": [{"key": "Items", "table": "app.i", "foreign_key": "p"}]}']))
    r("children-not-array.json", reg(['{"type": "w", "table": "app.t", "children": {}}']))
    r("secret-not-string.json", reg(['{"type": "w", "table": "app.t", "secret_columns": [1, null]}']))
    r("users-null.json", reg([minimal], users="null"))
    r("deep.json", '{"format": "fortknox-registry", "x": ' + "[" * 600 + "]" * 600 + "}")
    r("not-object.json", "[]")
    r("bom.json", b"\xef\xbb\xbf" + reg([minimal]).encode())


# ---------------------------------------------------------------- slug
def slug_corpus():
    s = lambda name, data: put("slug", name, data)
    names = {
        "plain": "Hypertension Cohort", "parthenon-long": "Cardiometabolic Triad: T2DM/Prediabetes + Hypertension + Hyperlipidemia",
        "dotdot": "../../etc/passwd", "slashes": "/a//b/", "dots": "...", "dash-runs": " -- a -_- b -- ",
        "unicode": "Café Ünïcødé – naïve 😀", "empty-slug": "!!!???", "whitespace": " \t\n\r\v\f ",
        "formfeed-edge": "\fabc\f", "vt-edge": "\vabc\v", "nul-edge": "\x00abc\x00",
        "nul-inside": "ab\x00cd", "controls": "a\x01b\x1fc\x7fd", "sql": "x; DROP TABLE y",
        "exactly-100": "a" * 100, "cut-at-dash": "a" * 99 + " b", "cut-101": "b" * 101,
        "dash-at-100": "a" * 99 + "-" + "b" * 10, "upper": "ABC xyz 0123",
    }
    for k, v in names.items():
        s(k, v)
    s("10k", ("Name with ../ and / " * 600)[:10240])
    s("invalid-utf8", b"caf\xe9 \xff\xfe \xc0\xaf")


# ------------------------------------------------------------ manifest
def manifest_corpus():
    HEX = "0123456789abcdef" * 4
    HEAD = '{\n    "format": "fortknox-manifest",\n    "format_version": 1,\n    "files": [\n'

    def entry(path, typ, id_, sha=HEX):
        return '        {"path": "%s", "type": "%s", "id": %s, "sha256": "%s"}' % (path, typ, id_, sha)

    def man(entries, counts, exported='"2026-11-27T12:00:00Z"', head="null", tail="\n"):
        body = ",\n".join(entries) + ("\n" if entries else "")
        return (HEAD + body + "    ],\n" + '    "counts": {%s},\n' % counts +
                '    "exported_at": %s,\n' % exported + '    "audit_chain_head": %s\n' % head + "}" + tail)

    m = lambda name, data: put("manifest", name, data)
    two = [entry("cohort_definitions/a.json", "cohort_definition", 1),
           entry("cohort_definitions/b.json", "cohort_definition", 5),
           entry("concept_sets/c.json", "concept_set", 2)]
    cnt = '"cohort_definition": 2, "concept_set": 1'
    m("ok-three.json", man(two, cnt))
    m("ok-empty.json", man([], "", exported="null"))
    m("ok-head.json", man(two, cnt, head='{"id": 42, "hash": "%s"}' % ("f" * 64)))
    m("ok-escapes.json", man([entry("a/\\u00e9\\/x.json", "t", -9223372036854775808),
                              entry("a/\\u2028.json", "t", 9223372036854775807)], '"t": 2'))
    m("ok-key-order.json", man(['        {"sha256": "%s", "id": 3, "type": "t", "path": "d/f.json"}' % HEX], '"t": 1'))
    m("path-dotdot.json", man([entry("../x.json", "t", 1)], '"t": 1'))
    m("path-dotdot-escaped.json", man([entry("\\u002e\\u002e/x.json", "t", 1)], '"t": 1'))
    m("path-dotdot-inner.json", man([entry("a/..json", "t", 1)], '"t": 1'))
    m("path-absolute.json", man([entry("/etc/x.json", "t", 1)], '"t": 1'))
    m("path-backslash.json", man([entry("a\\\\..\\\\b.json", "t", 1)], '"t": 1'))
    m("path-nul.json", man([entry("a/b\\u0000.json", "t", 1)], '"t": 1'))
    m("path-control.json", man([entry("a/b\\n.json", "t", 1)], '"t": 1'))
    m("path-dotfile.json", man([entry("a/.x.json", "t", 1)], '"t": 1'))
    m("path-three-parts.json", man([entry("a/b/c.json", "t", 1)], '"t": 1'))
    m("path-256.json", man([entry("a/" + "p" * 249 + ".json", "t", 1)], '"t": 1'))
    m("id-overflow.json", man([entry("a/b.json", "t", "9223372036854775808")], '"t": 1'))
    m("id-float.json", man([entry("a/b.json", "t", "1e3")], '"t": 1'))
    m("id-order.json", man([entry("a/b.json", "t", 5), entry("a/c.json", "t", 5)], '"t": 2'))
    m("type-repeat.json", man([entry("a/b.json", "t", 1), entry("b/b.json", "u", 1),
                               entry("a/c.json", "t", 2)], '"t": 2, "u": 1'))
    m("type-upper.json", man([entry("a/b.json", "T", 1)], '"T": 1'))
    m("sha-upper.json", man([entry("a/b.json", "t", 1, HEX.upper())], '"t": 1'))
    m("dup-key.json", man(['        {"path": "a/b.json", "path": "a/c.json", "type": "t", "id": 1, "sha256": "%s"}' % HEX], '"t": 1'))
    m("counts-wrong.json", man(two, '"cohort_definition": 3, "concept_set": 1'))
    m("counts-neg.json", man([], '"t": -1'))
    m("counts-escaped.json", man([entry("a/b.json", "t", 1)], '"\\u0074": 1'))
    m("trailing-comma.json", man([entry("a/b.json", "t", 1) + ","], '"t": 1'))
    m("no-final-newline.json", man(two, cnt, tail=""))
    m("data-after.json", man(two, cnt, tail="\n\n"))
    m("crlf.json", man(two, cnt).replace("\n", "\r\n"))
    m("exported-bad.json", man(two, cnt, exported='"2026-13-27T12:00:00Z"'))
    m("head-id-zero.json", man(two, cnt, head='{"id": 0, "hash": "%s"}' % HEX))
    m("head-unknown-key.json", man(two, cnt, head='{"id": 1, "hash": "%s", "x": 1}' % HEX))
    m("long-line.json", man([entry("a/" + "x" * 70000 + ".json", "t", 1)], '"t": 1'))
    m("bom.json", b"\xef\xbb\xbf" + man(two, cnt).encode())
    m("format-other.json", man(two, cnt).replace("fortknox-manifest", "fortknox-registry"))
    m("version-2.json", man(two, cnt).replace('"format_version": 1', '"format_version": 2'))
    m("eof-in-trailer.json", (HEAD + ",\n".join(two) + "\n    ],\n" + '    "counts": {%s},\n' % cnt))
    m("eof-before-brace.json", man(two, cnt, tail="\n").rsplit("}", 1)[0])
    m("head-not-object.json", man(two, cnt, head="1"))
    m("head-id-only.json", man(two, cnt, head='{"id": 3}'))
    many = [entry("d%d/x.json" % i, "t%d" % i, 1) for i in range(257)]
    m("types-257.json", man(many, ", ".join('"t%d": 1' % i for i in range(257))))
    m("types-256.json", man(many[:256], ", ".join('"t%d": 1' % i for i in range(256))))


# --------------------------------------------------------- audit event
def audit_event_corpus():
    a = lambda name, data: put("audit_event", name, data)
    a("updated.json", '{"entity_type": "cohort_definition", "entity_id": 65, "entity_name": "Hypertension", '
      '"action": "updated", "actor_id": 3, "actor_email": "a@b.c", "ip_address": "10.0.0.1", '
      '"old": {"name": "Hypertension", "n": 1.50}, "new": {"name": "Hypertension cohort", "n": 1.5}}')
    a("created-minimal.json", '{"entity_type": "concept_set", "entity_id": 1, "action": "created", "new": {"id": 1}}')
    a("force-deleted.json", '{"entity_type": "concept_set", "entity_id": 9, "action": "force_deleted", "old": {"id": 9}, "new": null}')
    a("bad-action.json", '{"entity_type": "concept_set", "entity_id": 1, "action": "truncated"}')
    a("bad-type.json", '{"entity_type": "../x", "entity_id": 1, "action": "created"}')
    a("old-not-object.json", '{"entity_type": "t", "entity_id": 1, "action": "updated", "old": [1], "new": "x"}')
    a("id-huge.json", '{"entity_type": "t", "entity_id": 9223372036854775808, "action": "created"}')
    a("dup-key.json", '{"entity_type": "t", "entity_type": "u", "entity_id": 1, "action": "created"}')
    a("name-nul.json", '{"entity_type": "t", "entity_id": 1, "action": "created", "entity_name": "a\\u0000b"}')
    a("deep.json", '{"entity_type": "t", "entity_id": 1, "action": "created", "new": ' + '{"a":' * 600 + "1" + "}" * 600 + "}")


if __name__ == "__main__":
    audit_event_corpus()
    for d in ["json", "json_scalar", "registry", "slug", "manifest"]:
        os.makedirs(os.path.join(CORPUS, d), exist_ok=True)
    json_corpus()
    json_scalar_corpus()
    registry_corpus()
    slug_corpus()
    manifest_corpus()
