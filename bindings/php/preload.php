<?php
/*
 * opcache.preload script for php-fpm (see README.md, "Production"):
 *
 *   ffi.enable=preload
 *   ffi.preload=/path/to/vendor/fortknox/fortknox/src/fortknox_ffi.h
 *   opcache.enable=1
 *   opcache.preload=/path/to/vendor/fortknox/fortknox/preload.php
 *   opcache.preload_user=www-data
 *
 * The FFI scope "fortknox" (src/fortknox_ffi.h: FFI_SCOPE/FFI_LIB) is loaded
 * once per server start — by ffi.preload, or, when that is not set, here with
 * FFI::load() (PHP refuses FFI::load() together with opcache.preload_user, so
 * a server started as root needs ffi.preload). At run time the binding finds
 * it with FFI::scope("fortknox"), without parsing the header per request.
 * The library is the soname libfortknox.so.0 through the linker's search path;
 * for another path, give ffi.preload a header made with
 * `php preload.php --header /path/to/libfortknox.so.0`, or (FFI::load() case)
 * set FORTKNOX_LIB in the server's environment.
 * Also compiles the binding's core classes into opcache.
 */
declare(strict_types=1);

// `php preload.php --header [LIBRARY]` prints the FFI header with FFI_LIB set
// to LIBRARY (default: $FORTKNOX_LIB, else the soname), for ffi.preload.
if (PHP_SAPI === 'cli' && realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    if (($argv[1] ?? '') !== '--header') {
        fwrite(STDERR, "usage: php preload.php --header [/path/to/libfortknox.so.0] > fortknox_ffi.h\n");
        exit(2);
    }
    $lib = $argv[2] ?? (getenv('FORTKNOX_LIB') ?: 'libfortknox.so.0');
    echo preg_replace('/^#define FFI_LIB .*$/m', '#define FFI_LIB ' . json_encode($lib, JSON_UNESCAPED_SLASHES),
        (string) file_get_contents(__DIR__ . '/src/fortknox_ffi.h'));
    exit(0);
}

// The scope: loaded by ffi.preload already (required when opcache.preload_user
// is set, i.e. when the server starts as root), else loaded here.
$fortknoxLoaded = true;
try {
    FFI::scope('fortknox');
} catch (FFI\Exception) {
    $fortknoxLoaded = false;
}
if (!$fortknoxLoaded) {
    $fortknoxHeader = __DIR__ . '/src/fortknox_ffi.h';
    $fortknoxLib = getenv('FORTKNOX_LIB');
    if (is_string($fortknoxLib) && $fortknoxLib !== '') {
        // Same header, FFI_LIB pointing at the explicit path.
        $text = preg_replace('/^#define FFI_LIB .*$/m', '#define FFI_LIB ' . json_encode($fortknoxLib,
            JSON_UNESCAPED_SLASHES), (string) file_get_contents($fortknoxHeader));
        $fortknoxHeader = sys_get_temp_dir() . '/fortknox_ffi_' . md5($text) . '.h';
        if (@file_get_contents($fortknoxHeader) !== $text) { // named by its content: reused as it is
            file_put_contents($fortknoxHeader, $text);
        }
    }
    if (FFI::load($fortknoxHeader) === null) {
        throw new RuntimeException("fortknox preload: FFI::load($fortknoxHeader) failed");
    }
}

foreach (['Exception/FortKnoxException.php', 'Exception/LibraryNotFoundException.php', 'Library.php',
          'FortKnox.php'] as $f) {
    opcache_compile_file(__DIR__ . '/src/' . $f);
}
foreach (glob(__DIR__ . '/src/Exception/*.php') ?: [] as $f) {
    opcache_compile_file($f);
}
