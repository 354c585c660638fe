<?php

declare(strict_types=1);

namespace FortKnox\Tests\Support;

/**
 * The Laravel application under tests/app, booted with Debian's framework
 * (php-laravel-framework) against a database of its own on the test server.
 *
 * make() copies the application to a temporary directory and installs the
 * package into it as `composer require fortknox/fortknox` would: a
 * vendor/autoload.php (Debian's autoloader, then PSR-4 for the application
 * and the package) and vendor/composer/installed.json carrying the package's
 * composer.json, whose "extra.laravel.providers" Laravel's package discovery
 * reads. Nothing registers the service provider by hand.
 */
final class LaravelApp
{
    private function __construct(public readonly string $dir, public readonly string $conninfo)
    {
    }

    public static function make(string $tag): self
    {
        $dir = TestDb::tempDir("laravel-$tag");
        $src = dirname(__DIR__) . '/app';
        exec('cp -R ' . escapeshellarg($src) . '/. ' . escapeshellarg($dir), $o, $rc);
        if ($rc !== 0) {
            throw new \RuntimeException("cannot copy $src");
        }
        foreach (['storage/framework/views', 'storage/framework/cache', 'storage/logs', 'bootstrap/cache',
                  'resources/views', 'vendor/composer'] as $d) {
            @mkdir("$dir/$d", 0700, true);
        }
        self::installPackage($dir);
        return new self($dir, TestDb::empty("laravel_$tag"));
    }

    /**
     * make(), then what every test application starts from: `migrate`, the
     * seeder (the tables are still unprotected), `fortknox:install --capture`.
     */
    public static function booted(string $tag): self
    {
        $app = self::make($tag);
        foreach ([['migrate', '--no-interaction'], ['db:seed', '--no-interaction'],
                  ['fortknox:install', '--capture']] as $args) {
            [$rc, $out, $err] = $app->artisan($args);
            if ($rc !== 0) {
                throw new \RuntimeException('php artisan ' . implode(' ', $args) . " exited $rc: $out$err");
            }
        }
        return $app;
    }

    /** A new migration creating table $table (a copy of the users table's). */
    public function addMigration(string $date, string $table): void
    {
        $dir = "$this->dir/database/migrations";
        $class = 'Create' . str_replace('_', '', ucwords($table, '_')) . 'Table';
        file_put_contents("$dir/{$date}_000000_create_{$table}_table.php", str_replace(
            ['CreateUsersTable', "'users'"], [$class, "'$table'"],
            (string) file_get_contents("$dir/2014_10_12_000000_create_users_table.php")));
    }

    /** What `composer require fortknox/fortknox` leaves in vendor/. */
    public static function installPackage(string $dir): void
    {
        $pkg = dirname(__DIR__, 2);
        $composer = json_decode((string) file_get_contents("$pkg/composer.json"), true);
        $composer['version'] = 'dev-main';
        $composer['install-path'] = $pkg;
        file_put_contents("$dir/vendor/composer/installed.json",
            json_encode(['packages' => [$composer], 'dev' => true], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
        $map = var_export(['App\\' => "$dir/app/", 'Database\\Seeders\\' => "$dir/database/seeders/",
                           'FortKnox\\' => "$pkg/src/"], true);
        file_put_contents("$dir/vendor/autoload.php", <<<PHP
            <?php
            // Composer's autoloader, made from Debian's packages (tests/Support/LaravelApp.php).
            require_once 'Illuminate/autoload.php';
            spl_autoload_register(function (string \$class): void {
                foreach ($map as \$prefix => \$base) {
                    if (str_starts_with(\$class, \$prefix)) {
                        \$f = \$base . str_replace('\\\\', '/', substr(\$class, strlen(\$prefix))) . '.php';
                        if (is_file(\$f)) {
                            require \$f;
                        }
                        return;
                    }
                }
            });
            PHP);
    }

    /** The environment artisan runs with: the database, the library, APP_ENV. */
    public function env(array $extra = []): array
    {
        $p = TestDb::parse($this->conninfo);
        return $extra + [
            'APP_ENV' => 'local',
            'DB_HOST' => $p['host'] ?? '127.0.0.1',
            'DB_PORT' => $p['port'] ?? '5432',
            'DB_DATABASE' => $p['dbname'],
            'DB_USERNAME' => $p['user'] ?? '',
            'DB_PASSWORD' => $p['password'] ?? '',
            'FORTKNOX_LIB' => (string) getenv('FORTKNOX_LIB'),
            'FORTKNOX_DB' => false,
            'FORTKNOX_DSN' => false,
        ];
    }

    /**
     * php artisan ARGS in the application's directory.
     * @param list<string> $args
     * @param array<string, string|false> $env
     * @return array{0: int, 1: string, 2: string} exit status, stdout, stderr
     */
    public function artisan(array $args, array $env = [], ?string $stdin = null): array
    {
        return self::run(array_merge([PHP_BINARY, '-d', 'ffi.enable=1', "$this->dir/artisan"], $args),
                         $this->env($env), $this->dir, $stdin);
    }

    /**
     * @param list<string> $cmd
     * @param array<string, string|false> $env
     * @return array{0: int, 1: string, 2: string}
     */
    public static function run(array $cmd, array $env, string $cwd, ?string $stdin = null): array
    {
        $e = Php::environment($env);
        $in = $stdin === null ? ['file', '/dev/null', 'r'] : ['pipe', 'r'];
        $p = proc_open($cmd, [0 => $in, 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd, $e);
        if ($stdin !== null) {
            fwrite($pipes[0], $stdin);
            fclose($pipes[0]);
        }
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($p), (string) $out, (string) $err];
    }

    /** First column of the first row, on the application's database. */
    public function one(string $sql, array $params = []): mixed
    {
        return TestDb::one($this->conninfo, $sql, $params);
    }

    public function remove(): void
    {
        TestDb::rmrf($this->dir);
    }
}
