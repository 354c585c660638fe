<?php
// Fails (exit 1) when src/fortknox_ffi.h has drifted from include/fortknox/*.h.
// usage: php tests/check_header.php [INCLUDE_DIR [FFI_HEADER]]
declare(strict_types=1);

require __DIR__ . '/HeaderDrift.php';

$include = $argv[1] ?? dirname(__DIR__, 3) . '/include';
$header = $argv[2] ?? dirname(__DIR__) . '/src/fortknox_ffi.h';
$problems = FortKnox\Tests\HeaderDrift::diff($include, $header);
if ($problems) {
    fwrite(STDERR, "fortknox_ffi.h has drifted from $include/fortknox/*.h:\n  "
        . implode("\n  ", $problems) . "\n");
    exit(1);
}
echo "fortknox_ffi.h matches $include/fortknox/*.h\n";
