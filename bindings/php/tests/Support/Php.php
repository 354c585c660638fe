<?php

declare(strict_types=1);

namespace FortKnox\Tests\Support;

/**
 * Runs PHP code in a separate process (the library is loaded once per
 * process, so lookup failures and preloading are tested out of process).
 */
final class Php
{
    /**
     * @param string $code PHP code without "<?php"; the test autoloader is loaded first
     * @param array<string, string|false> $env variables to set (false: unset)
     * @param list<string> $ini extra -d settings
     * @param ?string $user run as this user (through runuser; the caller is root)
     * @return array{0: int, 1: string, 2: string} exit status, stdout, stderr
     */
    public static function run(string $code, array $env = [], array $ini = [], ?string $user = null): array
    {
        $base = tempnam(sys_get_temp_dir(), 'fkphp');
        $file = $base . '.php';
        $autoload = var_export(dirname(__DIR__, 2) . '/src', true);
        file_put_contents($file, "<?php\nspl_autoload_register(function (\$c) { if (str_starts_with(\$c, 'FortKnox\\\\')) {"
            . " \$f = $autoload . '/' . str_replace('\\\\', '/', substr(\$c, 9)) . '.php'; if (is_file(\$f)) require \$f; } });\n"
            . $code);
        $e = getenv();
        foreach ($env as $k => $v) {
            if ($v === false) {
                unset($e[$k]);
            } else {
                $e[$k] = $v;
            }
        }
        $cmd = [PHP_BINARY, '-d', 'ffi.enable=1'];
        if ($user !== null) {
            chmod($file, 0644);
            $cmd = array_merge(['runuser', '-u', $user, '--'], $cmd);
        }
        foreach ($ini as $i) {
            $cmd[] = '-d';
            $cmd[] = $i;
        }
        $cmd[] = $file;
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $e);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $rc = proc_close($p);
        @unlink($file);
        @unlink($base);
        return [$rc, (string) $out, (string) $err];
    }

    /**
     * Runs a program (no shell).
     * @param list<string> $cmd
     * @return array{0: int, 1: string, 2: string}
     */
    public static function exec(array $cmd, array $env = []): array
    {
        $e = getenv();
        foreach ($env as $k => $v) {
            $e[$k] = $v;
        }
        $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $e);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($p), (string) $out, (string) $err];
    }
}
