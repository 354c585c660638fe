<?php

declare(strict_types=1);

namespace FortKnox\Tests;

/**
 * Compares the FFI header (src/fortknox_ffi.h) with the C headers
 * (include/fortknox/*.h): every fk_* prototype (return type, name, parameter
 * types), every public structure (field types and names, in order), every
 * enum member and value, the function-pointer typedefs, and the integer
 * #defines of the C headers (FK_*_VERSION, ...), which the FFI header carries
 * as enum members. Parameter names are not compared (not part of the ABI).
 *
 * Used by tests/check_header.php (run by tests/run.sh) and HeaderDriftTest.
 */
final class HeaderDrift
{
    /** @return list<string> one line per difference; empty when in sync */
    public static function diff(string $includeDir, string $ffiHeader): array
    {
        $files = glob(rtrim($includeDir, '/') . '/fortknox/*.h') ?: [];
        if (!$files) {
            return ["no C headers under $includeDir/fortknox"];
        }
        $c = self::emptyModel();
        foreach ($files as $f) {
            self::parse((string) file_get_contents($f), $c, basename($f));
        }
        $ffiText = @file_get_contents($ffiHeader);
        if ($ffiText === false) {
            return ["cannot read $ffiHeader"];
        }
        $ffi = self::emptyModel();
        self::parse($ffiText, $ffi, basename($ffiHeader));

        $problems = [];
        foreach (['functions' => 'function', 'structs' => 'struct', 'fnptrs' => 'callback typedef',
                  'opaque' => 'opaque type'] as $kind => $label) {
            foreach ($c[$kind] as $name => $decl) {
                if (!isset($ffi[$kind][$name])) {
                    $problems[] = "$label $name: in the C headers, missing from the FFI header";
                } elseif ($ffi[$kind][$name] !== $decl) {
                    $problems[] = "$label $name differs:\n    C:   $decl\n    FFI: {$ffi[$kind][$name]}";
                }
            }
            foreach ($ffi[$kind] as $name => $decl) {
                if (!isset($c[$kind][$name])) {
                    $problems[] = "$label $name: in the FFI header, not in the C headers";
                }
            }
        }
        // Enum members by name (C enums, plus the integer macros the FFI
        // header turns into enum members).
        $cConsts = $c['consts'] + $c['defines'];
        foreach ($cConsts as $name => $value) {
            if (!array_key_exists($name, $ffi['consts'])) {
                $problems[] = "constant $name = $value: missing from the FFI header";
            } elseif ($ffi['consts'][$name] !== $value) {
                $problems[] = "constant $name: C says $value, FFI says {$ffi['consts'][$name]}";
            }
        }
        foreach ($ffi['consts'] as $name => $value) {
            if (!array_key_exists($name, $cConsts)) {
                $problems[] = "constant $name: in the FFI header, not in the C headers";
            }
        }
        foreach ($ffi['defines'] as $name => $value) {
            $problems[] = "#define $name in the FFI header: PHP's FFI ignores it (use an enum member)";
        }
        foreach ($ffi['other'] as $what) {
            $problems[] = "FFI header: $what";
        }
        return $problems;
    }

    /** @return array<string, array<string, mixed>> */
    private static function emptyModel(): array
    {
        return ['functions' => [], 'structs' => [], 'fnptrs' => [], 'opaque' => [],
                'consts' => [], 'defines' => [], 'other' => []];
    }

    /** @param array<string, array<string, mixed>> $m */
    private static function parse(string $src, array &$m, string $file): void
    {
        $src = preg_replace('~/\*.*?\*/~s', ' ', $src);
        $src = preg_replace('~//[^\n]*~', ' ', $src);
        // Preprocessor lines: keep integer-valued FK_ macros, drop the rest.
        $src = preg_replace_callback('~^[ \t]*#[^\n]*(?:\\\\\n[^\n]*)*~m', function ($mm) use (&$m, $file) {
            if (preg_match('~^\s*#\s*define\s+(FK_[A-Z0-9_]+)\s+(-?\d+)\s*$~', $mm[0], $d)) {
                $m['defines'][$d[1]] = (int) $d[2];
            } elseif (preg_match('~^\s*#\s*define\s+(\w+)~', $mm[0], $d)
                && !in_array($d[1], ['FFI_SCOPE', 'FFI_LIB'], true)
                && str_ends_with($file, '_ffi.h')) {
                $m['other'][] = "preprocessor line other than FFI_SCOPE/FFI_LIB: " . trim($mm[0]);
            }
            return ' ';
        }, $src);
        $src = preg_replace('~extern\s+"C"\s*\{~', ' ', $src);
        $src = preg_replace('~\b(FK_EXTERN|FK_WARN_UNUSED)\b~', ' ', $src);
        if (str_ends_with($file, '_ffi.h') && preg_match('~__attribute__|\bFK_EXTERN\b~', $src)) {
            $m['other'][] = 'attributes are not understood by PHP FFI';
        }

        // Top-level declarations: split at ';' outside braces; a stray '}'
        // (the end of extern "C") at depth 0 is dropped.
        $decls = [];
        $depth = 0;
        $cur = '';
        $len = strlen($src);
        for ($i = 0; $i < $len; $i++) {
            $ch = $src[$i];
            if ($ch === '{') {
                $depth++;
            } elseif ($ch === '}') {
                if ($depth === 0) {
                    continue;
                }
                $depth--;
            } elseif ($ch === ';' && $depth === 0) {
                $decls[] = trim(preg_replace('~\s+~', ' ', $cur));
                $cur = '';
                continue;
            }
            $cur .= $ch;
        }
        foreach ($decls as $d) {
            if ($d !== '') {
                self::decl($d, $m);
            }
        }
    }

    /** @param array<string, array<string, mixed>> $m */
    private static function decl(string $d, array &$m): void
    {
        if (preg_match('~^(?:typedef\s+)?enum\s*(\w*)\s*\{(.*)\}\s*(\w*)$~s', $d, $e)) {
            $next = 0;
            foreach (explode(',', $e[2]) as $member) {
                $member = trim($member);
                if ($member === '') {
                    continue;
                }
                if (preg_match('~^(\w+)\s*=\s*(.+)$~', $member, $kv)) {
                    $next = self::intExpr($kv[2], $m['consts']);
                    $m['consts'][$kv[1]] = $next;
                } else {
                    $m['consts'][$member] = $next;
                }
                $next++;
            }
            return;
        }
        if (preg_match('~^typedef\s+struct\s+(\w+)\s*\{(.*)\}\s*(\w+)$~s', $d, $s)) {
            $fields = [];
            foreach (explode(';', $s[2]) as $f) {
                $f = trim($f);
                if ($f !== '') {
                    $fields[] = self::normParam($f, true);
                }
            }
            $m['structs'][$s[3]] = 'struct ' . $s[1] . ' { ' . implode('; ', $fields) . '; }';
            return;
        }
        if (preg_match('~^typedef\s+struct\s+(\w+)\s+(\w+)$~', $d, $s)) {
            $m['opaque'][$s[2]] = "struct {$s[1]}";
            return;
        }
        if (preg_match('~^typedef\s+(.+?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)$~s', $d, $t)) {
            $m['fnptrs'][$t[2]] = self::norm($t[1]) . ' (*)(' . self::params($t[3]) . ')';
            return;
        }
        if (preg_match('~^(.+?)\b(fk_\w+)\s*\((.*)\)$~s', $d, $p)) {
            $m['functions'][$p[2]] = self::norm($p[1]) . ' ' . $p[2] . '(' . self::params($p[3]) . ')';
            return;
        }
        $m['other'][] = "unrecognised declaration: $d";
    }

    /** @param array<string, int> $known */
    private static function intExpr(string $expr, array $known): int
    {
        $expr = trim($expr);
        if (preg_match('~^\(?\s*(-?)\s*(\d+)\s*\)?$~', $expr, $n)) {
            return (int) ($n[1] . $n[2]);
        }
        if (isset($known[$expr])) {
            return $known[$expr];
        }
        throw new \RuntimeException("cannot evaluate enum value '$expr'");
    }

    private static function params(string $list): string
    {
        $list = trim($list);
        if ($list === '' || $list === 'void') {
            return 'void';
        }
        return implode(', ', array_map(fn ($p) => self::normParam($p, false), explode(',', $list)));
    }

    /** A parameter or field, without its name (parameters) or with it (fields). */
    private static function normParam(string $p, bool $keepName): string
    {
        $tokens = self::tokens($p);
        $n = count($tokens);
        if ($n >= 2 && preg_match('~^\w+$~', $tokens[$n - 1])) {
            $name = array_pop($tokens);
            return implode(' ', $tokens) . ($keepName ? " $name" : '');
        }
        return implode(' ', $tokens);
    }

    private static function norm(string $type): string
    {
        return implode(' ', self::tokens($type));
    }

    /** @return list<string> */
    private static function tokens(string $s): array
    {
        preg_match_all('~\w+|\*|\S~', $s, $t);
        return $t[0];
    }
}
