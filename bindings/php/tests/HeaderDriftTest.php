<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use PHPUnit\Framework\TestCase;

/** src/fortknox_ffi.h must declare exactly what include/fortknox/*.h declares. */
final class HeaderDriftTest extends TestCase
{
    private static function include(): string
    {
        return dirname(__DIR__, 3) . '/include';
    }

    private static function header(): string
    {
        return dirname(__DIR__) . '/src/fortknox_ffi.h';
    }

    public function testFfiHeaderMatchesTheCHeaders(): void
    {
        $this->assertSame([], HeaderDrift::diff(self::include(), self::header()));
    }

    public function testFfiHeaderHasOnlyTheTwoFfiDefines(): void
    {
        preg_match_all('~^\s*#.*$~m', (string) file_get_contents(self::header()), $m);
        $this->assertSame(['#define FFI_SCOPE "fortknox"', '#define FFI_LIB "libfortknox.so.0"'], $m[0]);
    }

    /** @return iterable<string, array{0: string, 1: string, 2: string}> */
    public static function drifts(): iterable
    {
        yield 'parameter type' => ['int fk_exec(fk_ctx *ctx, const char *sql);', 'int fk_exec(fk_ctx *ctx, char *sql);', 'fk_exec'];
        yield 'missing function' => ['void fk_audit_forget(fk_ctx *ctx);', '', 'fk_audit_forget'];
        yield 'extra parameter' => ['int fk_errcode(const fk_ctx *ctx);', 'int fk_errcode(const fk_ctx *ctx, int x);', 'fk_errcode'];
        yield 'enum value' => ['FK_ECANCELLED = -12', 'FK_ECANCELLED = -13', 'FK_ECANCELLED'];
        yield 'option version' => ['FK_IMPORT_OPTIONS_VERSION = 3', 'FK_IMPORT_OPTIONS_VERSION = 4', 'FK_IMPORT_OPTIONS_VERSION'];
        yield 'struct field' => ["    double drop_warn_ratio;\n", "    float drop_warn_ratio;\n", 'fk_doctor_options'];
        yield 'struct field order' => ["    const char *schema;\n    const char *fixture_root;\n",
                                       "    const char *fixture_root;\n    const char *schema;\n", 'fk_ctx_options'];
        yield 'a macro' => ['#define FFI_LIB "libfortknox.so.0"', "#define FFI_LIB \"libfortknox.so.0\"\n#define FK_X 1", 'FK_X'];
    }

    /** @dataProvider drifts */
    public function testAnyDriftIsReported(string $from, string $to, string $named): void
    {
        $h = (string) file_get_contents(self::header());
        $this->assertStringContainsString($from, $h);
        $base = (string) tempnam(sys_get_temp_dir(), 'fkffi');
        $tmp = $base . '_ffi.h';
        file_put_contents($tmp, str_replace($from, $to, $h));
        try {
            $problems = HeaderDrift::diff(self::include(), $tmp);
        } finally {
            unlink($tmp);
            unlink($base);
        }
        $this->assertNotEmpty($problems);
        $this->assertStringContainsString($named, implode("\n", $problems));
    }

    public function testTheHeaderLoadsInFfi(): void
    {
        $ffi = \FFI::cdef((string) file_get_contents(self::header()), (string) getenv('FORTKNOX_LIB'));
        $this->assertSame(-8, $ffi->FK_EVERIFY);
        $this->assertSame('FK_EVERIFY', $ffi->fk_status_name(-8));
        $this->assertSame(2, $ffi->FK_DOCTOR_OPTIONS_VERSION); // 2: mass changes and progress (issue 18)
        $o = $ffi->new('fk_doctor_options');
        $this->assertSame(0, $ffi->fk_doctor_options_init(\FFI::addr($o), $ffi->FK_DOCTOR_OPTIONS_VERSION));
        $this->assertSame(2, $o->version);
        $this->assertSame(10, $o->mass_change_min); /* the fields after version 1's line up */
        $this->assertNull($o->progress);
    }
}
