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
        // Another user may not be able to read the clone (below /root, mode
        // 700 on Debian): it loads the package from a copy it can read.
        $autoload = var_export(($user === null ? dirname(__DIR__, 2) : self::readableCopy()['dir']) . '/src', true);
        file_put_contents($file, "<?php\nspl_autoload_register(function (\$c) { if (str_starts_with(\$c, 'FortKnox\\\\')) {"
            . " \$f = $autoload . '/' . str_replace('\\\\', '/', substr(\$c, 9)) . '.php'; if (is_file(\$f)) require \$f; } });\n"
            . $code);
        $e = self::environment($env);
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
     * This process's environment with $env applied.
     * @param array<string, string|false> $env variables to set (false: unset)
     * @return array<string, string>
     */
    public static function environment(array $env): array
    {
        $e = getenv();
        foreach ($env as $k => $v) {
            if ($v === false) {
                unset($e[$k]);
            } else {
                $e[$k] = $v;
            }
        }
        return $e;
    }

    /** @var ?array{dir: string, lib: string} */
    private static ?array $copy = null;

    /**
     * A copy of the package (src/, preload.php) and of the library under
     * test ($FORTKNOX_LIB) in a new directory below the system's temporary
     * directory that every user can read, for code run as another user.
     * Made once per process, removed when the process ends.
     * @return array{dir: string, lib: string}
     */
    public static function readableCopy(): array
    {
        if (self::$copy !== null) {
            return self::$copy;
        }
        $dir = sys_get_temp_dir() . '/fkphp-pkg-' . bin2hex(random_bytes(8));
        if (!mkdir($dir, 0700) || !chmod($dir, 0755)) {
            throw new \RuntimeException("cannot create $dir");
        }
        $src = dirname(__DIR__, 2);
        $copy = function (string $from, string $to) use (&$copy): void {
            if (is_dir($from)) {
                mkdir($to, 0755);
                foreach (scandir($from) ?: [] as $e) {
                    if ($e !== '.' && $e !== '..') {
                        $copy("$from/$e", "$to/$e");
                    }
                }
            } elseif (!copy($from, $to) || !chmod($to, 0644)) {
                throw new \RuntimeException("cannot copy $from to $to");
            }
        };
        $copy("$src/src", "$dir/src");
        $copy("$src/preload.php", "$dir/preload.php");
        $lib = "$dir/" . basename((string) getenv('FORTKNOX_LIB'));
        $copy((string) getenv('FORTKNOX_LIB'), $lib);
        register_shutdown_function(static function () use ($dir): void {
            exec('rm -rf ' . escapeshellarg($dir));
        });
        return self::$copy = ['dir' => $dir, 'lib' => $lib];
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
