<?php

declare(strict_types=1);

namespace FortKnox\Tests\Support;

use PDO;

/**
 * Databases for the tests, on the server tests/php_launcher started (or
 * FORTKNOX_TEST_DSN's): FORTKNOX_PHP_DSN is one with the Parthenon schema and
 * seed; fresh() creates another one (dropped and recreated per name) from
 * tests/sql/, so that a test class that installs or changes things starts
 * from a known state.
 */
final class TestDb
{
    /** @var array<string, string> */
    private static array $created = [];

    /** The launcher's database (schema + seed). */
    public static function dsn(): string
    {
        return (string) getenv('FORTKNOX_PHP_DSN');
    }

    /** A new database with the schema and seed; returns its conninfo. */
    public static function fresh(string $name): string
    {
        $conninfo = self::empty($name);
        $pdo = self::pdo($conninfo);
        $sql = dirname(__DIR__, 4) . '/tests/sql';
        foreach (['parthenon_schema.sql', 'parthenon_seed.sql'] as $f) {
            $pdo->exec((string) file_get_contents("$sql/$f"));
        }
        return $conninfo;
    }

    /** A new empty database (dropped and recreated per name); returns its conninfo. */
    public static function empty(string $name): string
    {
        $admin = getenv('FORTKNOX_PHP_ADMIN') ?: self::dsn();
        $db = 'fkphp_' . getmypid() . '_' . $name;
        $pdo = self::pdo($admin);
        $pdo->exec("DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)");
        $pdo->exec("CREATE DATABASE \"$db\" TEMPLATE template0 ENCODING 'UTF8'");
        self::$created[$db] = $admin;
        return self::withDb($admin, $db);
    }

    /** Drops the databases fresh() made (the launcher removes the whole cluster anyway). */
    public static function dropAll(): void
    {
        foreach (self::$created as $db => $admin) {
            try {
                self::pdo($admin)->exec("DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)");
            } catch (\PDOException) {
            }
        }
        self::$created = [];
    }

    /** @return array<string, string> libpq conninfo parsed: keyword => value */
    public static function parse(string $conninfo): array
    {
        preg_match_all("~(\w+)\s*=\s*(?:'((?:[^'\\\\]|\\\\.)*)'|(\S+))~", $conninfo, $m, PREG_SET_ORDER);
        $out = [];
        foreach ($m as $kv) {
            $out[$kv[1]] = isset($kv[3]) && $kv[3] !== '' ? $kv[3] : stripcslashes($kv[2]);
        }
        return $out;
    }

    public static function withDb(string $conninfo, string $db): string
    {
        $p = self::parse($conninfo);
        $p['dbname'] = $db;
        $parts = [];
        foreach ($p as $k => $v) {
            $parts[] = $k . "='" . addcslashes($v, "'\\") . "'";
        }
        return implode(' ', $parts);
    }

    /** PDO for a libpq conninfo. */
    public static function pdo(string $conninfo): PDO
    {
        $p = self::parse($conninfo);
        $dsn = 'pgsql:' . implode(';', array_map(fn ($k) => "$k={$p[$k]}",
            array_values(array_intersect(['host', 'port', 'dbname'], array_keys($p)))));
        return new PDO($dsn, $p['user'] ?? null, $p['password'] ?? null,
                       [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    }

    /** Eloquent (Capsule) connection settings for a libpq conninfo. */
    public static function eloquentConfig(string $conninfo): array
    {
        $p = self::parse($conninfo);
        return [
            'driver' => 'pgsql',
            'host' => $p['host'] ?? 'localhost',
            'port' => $p['port'] ?? '5432',
            'database' => $p['dbname'],
            'username' => $p['user'] ?? '',
            'password' => $p['password'] ?? '',
            'charset' => 'utf8',
            'prefix' => '',
            'schema' => 'public',
            'sslmode' => 'disable',
        ];
    }

    /**
     * Runs $sql as a superuser who switched every fortknox trigger and event
     * trigger off first and back on after, in one transaction (the C tests'
     * FKT_BYPASSED): damage no guard sees.
     */
    public static function bypassed(string $conninfo, string $sql): void
    {
        $loop = fn (string $select, string $alter) => "DO \$fkt\$ DECLARE r record; BEGIN FOR r IN $select LOOP"
            . " EXECUTE format('$alter', r.a, r.b); END LOOP; END \$fkt\$; ";
        $events = fn (string $how) => $loop("SELECT evtname AS a, NULL AS b FROM pg_event_trigger"
            . " WHERE evtname LIKE 'fortknox\\_%'", "ALTER EVENT TRIGGER %I $how");
        $tables = fn (string $how) => $loop("SELECT tgrelid::regclass::text AS a, tgname AS b FROM pg_trigger"
            . " WHERE NOT tgisinternal AND tgname ~ '^(FK_|fortknox_)'", "ALTER TABLE %s $how TRIGGER %I");
        // on again in the reverse order: the DDL guard last
        self::pdo($conninfo)->exec('BEGIN; ' . $events('DISABLE') . $tables('DISABLE') . "$sql; "
            . $tables('ENABLE ALWAYS') . $events('ENABLE ALWAYS') . 'COMMIT');
    }

    /** First column of the first row (null when no row). */
    public static function one(string $conninfo, string $sql, array $params = []): mixed
    {
        $st = self::pdo($conninfo)->prepare($sql);
        $st->execute($params);
        $v = $st->fetchColumn();
        return $v === false ? null : $v;
    }

    /** A temporary directory, removed by rmrf(). */
    public static function tempDir(string $tag): string
    {
        $d = sys_get_temp_dir() . "/fkphp-$tag-" . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir($d, 0700, true);
        return $d;
    }

    public static function rmrf(string $dir): void
    {
        if (!is_dir($dir) || is_link($dir)) {
            @unlink($dir);
            return;
        }
        foreach (scandir($dir) ?: [] as $f) {
            if ($f !== '.' && $f !== '..') {
                self::rmrf("$dir/$f");
            }
        }
        @rmdir($dir);
    }
}
