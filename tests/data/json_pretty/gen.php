<?php
// Writes NAME.json (input, mostly in PostgreSQL jsonb's compact ", " / ": "
// style) and NAME.out = json_encode(json_decode(input, true),
// JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE), byte for byte, no newline.
// Cases avoid what libfortknox deliberately does differently from PHP:
// objects with keys "0".."n-1" (PHP makes them lists) and numbers PHP would
// round (see php_numbers.tsv for those).
// Run from this directory: php gen.php
$ascii = '';
for ($i = 0; $i < 128; $i++) $ascii .= sprintf('\u%04x', $i);
$deep = str_repeat('[', 40) . '{"k": 1}' . str_repeat(']', 40);
$cases = [
    'nested' => '{"a": 1, "b": [1, 2, {"c": null, "d": [true, false]}], "e": {"f": {"g": "h"}}}',
    'empty_containers' => '{"a": {}, "b": [], "c": [{}], "d": [[]], "e": [{}, []], "f": {"g": {}}}',
    'empty_object_top' => '{}',
    'empty_array_top' => '[]',
    'array_top' => '[1, "two", null, {"x": []}]',
    'scalar_string' => '"just a string"',
    'scalar_number' => '1.50',
    'scalar_true' => 'true',
    'scalar_null' => ' null ',
    'unicode' => '{"name": "Ünïcødé ✓ 中文 😀", "escaped": "\u00e9\u4e2d\ud83d\ude00\uD83D\uDE00", "ключ": "значение"}',
    'slashes' => '{"url": "https://example.org/a/b", "escaped": "a\/b", "backslash": "c:\\\\dir\\\\", "key/with/slash": 1}',
    'line_separators' => "{\"raw\": \"a\u{2028}b\u{2029}c\", \"esc\": \"\\u2028\\u2029\", \"near\": \"\u{2027}\u{202A}\"}",
    'control_chars' => '{"c": "\u0000\u0001\b\f\n\r\t\u001f\u007f\u0080\u00a0", "tab": "a\tb", "nul_key\u0000": 0}',
    'all_ascii' => '"' . $ascii . '"',
    'quotes' => '{"say \"hi\"": "\"quoted\" and \\\\ backslash"}',
    'numbers' => '[0, -0, 1, -1, 1.5, 0.1, 0.10, 1e2, 1E-7, 1.5e-7, 100000.5, 0.0300, -12.50, 1e21, 1e17, 1e16, 0.0001, 0.00001, 9223372036854775807, -9223372036854775808, 1.0, 10.0, -0.0, 0.0, 123456789012345678, 2.5e+300, 12345678901234567000, 3.14159, -2.718281828459045]',
    'key_escapes' => '{"\u0069d": 1, "a\/b": 2, "": 3, "\u00e9": 4, "tab\tkey": 5}',
    'numeric_keys_not_list' => '{"1": "a", "0": "b", "2": "c"}',
    'numeric_keys_offset' => '{"1": "a", "2": "b"}',
    'whitespace' => " \n\t{ \"a\" :\r\n [ 1 ,2\n,\t3 ] ,\n\"b\"\t:\t{ } }\n ",
    'deep' => $deep,
    'mixed_records' => '[{"id": 1, "name": "Alice", "tags": ["x", "y"], "meta": {"score": 0.75, "ok": true}}, {"id": 2, "name": "Bob", "tags": [], "meta": {}}]',
    'already_pretty' => "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": []\n}",
];
foreach ($cases as $name => $in) {
    $v = json_decode($in, true);
    if (json_last_error() !== JSON_ERROR_NONE) { fwrite(STDERR, "$name: " . json_last_error_msg() . "\n"); exit(1); }
    $out = json_encode($v, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE);
    if ($out === false) { fwrite(STDERR, "$name: " . json_last_error_msg() . "\n"); exit(1); }
    file_put_contents("$name.json", $in);
    file_put_contents("$name.out", $out);
}
