<?php
// For every fixture in parthenon-fixtures/ writes parthenon-compact/<same
// path>: the decoded fixture re-encoded the way PostgreSQL prints jsonb
// (compact, ", " and ": " separators, raw UTF-8, unescaped '/'), which is
// what the exporter feeds to fk__json_pretty. Also checks that each fixture
// is exactly PHP's pretty output of its own decoding.
// Run from tests/data: php gen_parthenon_compact.php
function pg(mixed $v): string {
    if (!is_array($v))
        return json_encode($v, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
    if ($v === []) return '[]';
    $parts = [];
    if (array_is_list($v)) {
        foreach ($v as $x) $parts[] = pg($x);
        return '[' . implode(', ', $parts) . ']';
    }
    foreach ($v as $k => $x) $parts[] = pg((string)$k) . ': ' . pg($x);
    return '{' . implode(', ', $parts) . '}';
}
$it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator('parthenon-fixtures', FilesystemIterator::SKIP_DOTS));
$n = 0;
foreach ($it as $f) {
    if (!str_ends_with($f->getPathname(), '.json')) continue;
    $text = file_get_contents($f->getPathname());
    $v = json_decode($text, true, 512, JSON_THROW_ON_ERROR);
    if (json_encode($v, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE) !== $text) {
        fwrite(STDERR, "{$f->getPathname()} is not PHP pretty output\n");
        exit(1);
    }
    $dst = 'parthenon-compact/' . substr($f->getPathname(), strlen('parthenon-fixtures/'));
    @mkdir(dirname($dst), 0777, true);
    file_put_contents($dst, pg($v));
    $n++;
}
echo "$n fixtures\n";
