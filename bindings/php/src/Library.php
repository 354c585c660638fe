<?php

declare(strict_types=1);

namespace FortKnox;

use FFI;
use FortKnox\Exception\LibraryNotFoundException;

/**
 * Finds and loads libfortknox through FFI, once per process.
 *
 * Lookup order:
 *  0. the scope "fortknox" when preload.php preloaded it (opcache.preload with
 *     ffi.enable=preload: the production setup under php-fpm, where FFI::cdef()
 *     is not allowed at run time; preload.php itself honours FORTKNOX_LIB);
 *  1. an explicit path: FortKnox::setLibraryPath() / Library::setPath(), else
 *     the environment variable FORTKNOX_LIB. An explicit path that cannot be
 *     loaded is an error: the binding never silently falls back to another
 *     copy of the library than the one you named;
 *  2. the soname libfortknox.so.0 through the dynamic linker's search path
 *     (LD_LIBRARY_PATH, /etc/ld.so.cache, /usr/lib, ...).
 * When nothing loads, LibraryNotFoundException lists every attempt and why it
 * failed.
 */
final class Library
{
    public const SONAME = 'libfortknox.so.0';
    public const SCOPE = 'fortknox';
    /** The oldest library this binding works with (fk_version_number()). */
    public const MIN_VERSION = 100;

    private static ?FFI $ffi = null;
    private static ?string $path = null;
    private static ?string $loadedFrom = null;

    /** Sets (or with null clears) the explicit library path; effective for the next load. */
    public static function setPath(?string $path): void
    {
        $path = $path === '' ? null : $path;
        if ($path === self::$path) {
            return;
        }
        self::$path = $path;
        self::$ffi = null;
        self::$loadedFrom = null;
    }

    /** The FFI header shipped with the binding. */
    public static function headerFile(): string
    {
        return __DIR__ . '/fortknox_ffi.h';
    }

    /** Where the loaded library came from ("path ...", "preloaded scope", "soname ..."), or null. */
    public static function loadedFrom(): ?string
    {
        return self::$loadedFrom;
    }

    /** The FFI instance, loading the library on first use. */
    public static function ffi(): FFI
    {
        return self::$ffi ??= self::load();
    }

    private static function load(): FFI
    {
        if (!extension_loaded('FFI')) {
            throw new LibraryNotFoundException('the PHP FFI extension is not loaded', []);
        }
        $tried = [];
        // A scope preloaded by preload.php (opcache.preload) comes first: the
        // server's configuration loaded it (honouring FORTKNOX_LIB), and under
        // ffi.enable=preload it is the only way outside the CLI.
        try {
            return self::checked(FFI::scope(self::SCOPE), 'preloaded scope ' . self::SCOPE);
        } catch (FFI\Exception $e) {
            $tried[] = 'FFI::scope("' . self::SCOPE . '") (preload.php): ' . $e->getMessage();
        }
        $explicit = self::$path;
        $source = 'FortKnox::setLibraryPath()';
        if ($explicit === null) {
            $env = getenv('FORTKNOX_LIB');
            if (is_string($env) && $env !== '') {
                $explicit = $env;
                $source = 'FORTKNOX_LIB';
            }
        }
        if ($explicit !== null) {
            if (!file_exists($explicit)) {
                $tried[] = "$explicit (from $source): no such file";
            } else {
                try {
                    return self::checked(FFI::cdef(self::header(), $explicit), "path $explicit");
                } catch (FFI\Exception $e) {
                    $tried[] = "$explicit (from $source): " . $e->getMessage();
                }
            }
            throw new LibraryNotFoundException(
                'cannot load libfortknox from the explicit path (no fallback is tried when a '
                . 'path is given)', $tried);
        }
        try {
            return self::checked(FFI::cdef(self::header(), self::SONAME), 'soname ' . self::SONAME);
        } catch (FFI\Exception $e) {
            $tried[] = self::SONAME . ' via the dynamic linker search path: ' . $e->getMessage();
        }
        throw new LibraryNotFoundException(
            'libfortknox was not found; set FORTKNOX_LIB or call FortKnox::setLibraryPath(), '
            . 'or install the library (meson install) so that ' . self::SONAME . ' is on the '
            . 'linker path', $tried);
    }

    private static function header(): string
    {
        $h = @file_get_contents(self::headerFile());
        if ($h === false) {
            throw new LibraryNotFoundException('cannot read the FFI header', [self::headerFile()]);
        }
        return $h;
    }

    private static function checked(FFI $ffi, string $from): FFI
    {
        $v = $ffi->fk_version_number();
        if ($v < self::MIN_VERSION) {
            throw new LibraryNotFoundException(sprintf(
                'the libfortknox found (%s, version %s) is older than this binding needs (%d.%d.%d)',
                $from, $ffi->fk_version_string(), intdiv(self::MIN_VERSION, 10000),
                intdiv(self::MIN_VERSION, 100) % 100, self::MIN_VERSION % 100), [$from]);
        }
        self::$loadedFrom = $from;
        return $ffi;
    }
}
