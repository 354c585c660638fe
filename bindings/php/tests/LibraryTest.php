<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\FortKnoxException;
use FortKnox\Exception\LibraryNotFoundException;
use FortKnox\FortKnox;
use FortKnox\Library;
use FortKnox\Tests\Support\Php;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/**
 * Finding the library: explicit path (FORTKNOX_LIB / setLibraryPath()) →
 * preloaded scope → soname → an exception listing every attempt. Each case
 * runs in its own PHP process, since a process loads the library once.
 */
final class LibraryTest extends TestCase
{
    private const PROBE = <<<'PHP'
        try {
            echo FortKnox\FortKnox::version(), ' from ', FortKnox\Library::loadedFrom(), "\n";
        } catch (FortKnox\Exception\FortKnoxException $e) {
            echo get_class($e), '|', $e->getCode(), '|', $e->getStatusName(), "\n", $e->getMessage(), "\n";
            exit(5);
        }
        PHP;

    private static function lib(): string
    {
        return (string) getenv('FORTKNOX_LIB');
    }

    public function testLoadsFromFortknoxLib(): void
    {
        [$rc, $out, $err] = Php::run(self::PROBE, ['FORTKNOX_LIB' => self::lib()]);
        $this->assertSame(0, $rc, $out . $err);
        $this->assertSame('0.1.0 from path ' . self::lib() . "\n", $out);
    }

    public function testMissingLibraryListsWhatWasTried(): void
    {
        [$rc, $out, $err] = Php::run(self::PROBE, ['FORTKNOX_LIB' => '/nonexistent/libfortknox.so.0']);
        $this->assertSame(5, $rc, $out . $err);
        $this->assertStringStartsWith(LibraryNotFoundException::class . '|-6|FK_ENOTFOUND', $out);
        $this->assertStringContainsString('/nonexistent/libfortknox.so.0 (from FORTKNOX_LIB): no such file', $out);
        $this->assertStringContainsString('no fallback is tried', $out);
    }

    public function testAFileThatIsNotTheLibraryIsReported(): void
    {
        $bogus = tempnam(sys_get_temp_dir(), 'fklib');
        file_put_contents($bogus, "not an ELF file\n");
        try {
            [$rc, $out] = Php::run(self::PROBE, ['FORTKNOX_LIB' => $bogus]);
        } finally {
            unlink($bogus);
        }
        $this->assertSame(5, $rc);
        $this->assertStringContainsString("$bogus (from FORTKNOX_LIB): Failed loading", $out);
    }

    public function testSetterWinsOverTheEnvironment(): void
    {
        [$rc, $out, $err] = Php::run('FortKnox\FortKnox::setLibraryPath(' . var_export(self::lib(), true) . ');'
            . self::PROBE, ['FORTKNOX_LIB' => '/nonexistent/x.so']);
        $this->assertSame(0, $rc, $out . $err);
        $this->assertStringEndsWith('from path ' . self::lib() . "\n", $out);
    }

    public function testWithoutAPathTheSonameIsSearched(): void
    {
        [$rc, $out, $err] = Php::run(self::PROBE, ['FORTKNOX_LIB' => false,
            'LD_LIBRARY_PATH' => dirname(self::lib())]);
        $this->assertSame(0, $rc, $out . $err);
        $this->assertSame("0.1.0 from soname libfortknox.so.0\n", $out);
    }

    public function testNothingFoundListsScopeAndSoname(): void
    {
        [$rc, $out] = Php::run(self::PROBE, ['FORTKNOX_LIB' => false, 'LD_LIBRARY_PATH' => '/nonexistent']);
        if ($rc === 0) {
            $this->markTestSkipped('libfortknox.so.0 is installed system-wide: ' . trim($out));
        }
        $this->assertSame(5, $rc);
        $this->assertStringContainsString('libfortknox was not found; set FORTKNOX_LIB', $out);
        $this->assertStringContainsString('FFI::scope("fortknox") (preload.php)', $out);
        $this->assertStringContainsString('libfortknox.so.0 via the dynamic linker search path', $out);
    }

    /** php-fpm started as root: ffi.preload loads the scope, opcache.preload the classes. */
    public function testPreloadedScopeIsUsed(): void
    {
        $preload = dirname(__DIR__) . '/preload.php';
        $header = tempnam(sys_get_temp_dir(), 'fkffi');
        [$rc, $text] = Php::exec([PHP_BINARY, $preload, '--header', self::lib()]);
        $this->assertSame(0, $rc);
        $this->assertStringContainsString('#define FFI_LIB "' . self::lib() . '"', $text);
        file_put_contents($header, $text);
        $code = '$fk = new FortKnox\FortKnox(' . var_export(TestDb::dsn(), true) . ');'
            . ' echo FortKnox\Library::loadedFrom(), " ", $fk->serverVersion() > 120000 ? "ok" : "old", "\n";'
            . ' echo class_exists("FortKnox\\FortKnox", false) ? "class preloaded" : "", "\n";';
        try {
            [$rc, $out, $err] = Php::run($code, ['FORTKNOX_LIB' => '/nonexistent/not-used.so'], [
                'opcache.enable_cli=1', 'opcache.preload=' . $preload, 'opcache.preload_user=' . self::user(),
                'ffi.enable=preload', 'ffi.preload=' . $header]);
        } finally {
            unlink($header);
        }
        $this->assertSame(0, $rc, $out . $err);
        $this->assertSame("preloaded scope fortknox ok\nclass preloaded\n", $out);
    }

    /**
     * Without opcache.preload_user (a server not started as root), preload.php
     * loads the scope itself with FFI::load(), honouring FORTKNOX_LIB. As root
     * (PHP then insists on opcache.preload_user) this runs as "nobody".
     */
    public function testPreloadScriptLoadsTheScope(): void
    {
        $user = null;
        $package = dirname(__DIR__);
        $lib = self::lib();
        if (function_exists('posix_geteuid') ? posix_geteuid() === 0 : getenv('USER') === 'root') {
            $this->assertNotFalse(shell_exec('command -v runuser'), 'runuser (util-linux) is needed as root');
            $user = 'nobody';
            ['dir' => $package, 'lib' => $lib] = Php::readableCopy(); // nobody may not read the clone
        }
        [$rc, $out, $err] = Php::run('echo FortKnox\Library::loadedFrom() ?? "-", " ", FortKnox\FortKnox::version(),'
            . ' " ", FortKnox\Library::loadedFrom(), "\n";', ['FORTKNOX_LIB' => $lib],
            ['opcache.enable_cli=1', 'opcache.preload=' . $package . '/preload.php', 'ffi.enable=preload'],
            $user);
        $this->assertSame(0, $rc, $out . $err);
        $this->assertSame("- 0.1.0 preloaded scope fortknox\n", $out);
    }

    private static function user(): string
    {
        return function_exists('posix_getpwuid') ? (string) (posix_getpwuid(posix_geteuid())['name'] ?? 'root')
            : (string) (getenv('USER') ?: 'root');
    }

    public function testVersionAndStatusHelpers(): void
    {
        $this->assertSame('0.1.0', FortKnox::version());
        $this->assertSame('FK_EGUARD', FortKnox::statusName(-10));
        $this->assertNotSame('', FortKnox::strerror(-3));
        $this->assertGreaterThanOrEqual(1, FortKnox::installSchemaVersion());
        $this->assertStringStartsWith('path ', (string) Library::loadedFrom());
    }

    public function testStatusCodesMapToExceptionClasses(): void
    {
        $names = ['InvalidArgument', 'OutOfMemory', 'Database', 'Io', 'Parse', 'NotFound', 'Conflict',
                  'VerificationFailed', 'TamperDetected', 'Guard', 'Unsupported', 'Cancelled', 'Loss'];
        foreach ($names as $i => $name) {
            $code = -($i + 1);
            $e = FortKnoxException::fromStatus($code, 'm', FortKnox::statusName($code));
            $this->assertSame("FortKnox\\Exception\\{$name}Exception", get_class($e));
            $this->assertSame($code, $e->getCode());
        }
        $this->assertSame(FortKnoxException::class, get_class(FortKnoxException::fromStatus(-99, 'm', 'X')));
    }
}
