<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\FortKnox;
use FortKnox\Laravel\FortKnoxObserver;
use FortKnox\Laravel\FortKnoxServiceProvider;
use FortKnox\Tests\Models\CohortDefinition;
use FortKnox\Tests\Support\Eloquent;
use FortKnox\Tests\Support\TestApplication;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/** The service provider, its config, and the Composer package metadata. */
final class ServiceProviderTest extends TestCase
{
    public function testConninfoFromConfig(): void
    {
        $this->assertSame('host=/x dbname=y', FortKnoxServiceProvider::conninfo(['dsn' => 'host=/x dbname=y'], []));
        $db = ['default' => 'pgsql', 'connections' => [
            'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => '5432', 'database' => 'parthenon',
                        'username' => 'app', 'password' => "it's\\secret", 'sslmode' => 'prefer'],
            'other' => ['driver' => 'pgsql', 'url' => 'postgresql://u@h/d'],
            'mysql' => ['driver' => 'mysql'],
        ]];
        $this->assertSame("host='127.0.0.1' port='5432' dbname='parthenon' user='app' password='it\\'s\\\\secret' sslmode='prefer'",
                          FortKnoxServiceProvider::conninfo(['dsn' => ''], $db));
        $this->assertSame('postgresql://u@h/d', FortKnoxServiceProvider::conninfo(['connection' => 'other'], $db));
        $this->assertSame('', FortKnoxServiceProvider::conninfo([], []));
        $this->expectException(\FortKnox\Exception\InvalidArgumentException::class);
        FortKnoxServiceProvider::conninfo(['connection' => 'mysql'], $db);
    }

    /**
     * One set of names with the fortknox tool: FORTKNOX_DB and FORTKNOX_REGISTRY;
     * the old FORTKNOX_DSN is still read, with a deprecation notice.
     */
    public function testConfigReadsTheToolsVariableNames(): void
    {
        $cases = [
            // [FORTKNOX_DB, FORTKNOX_DSN, FORTKNOX_REGISTRY] => [dsn, registry_file, deprecated]
            [['host=/a', null, '/r.json'], ['host=/a', '/r.json', false]],
            [[null, 'host=/old', null], ['host=/old', null, true]],
            [['host=/new', 'host=/old', null], ['host=/new', null, false]],
            [[null, null, null], ['', null, false]],
        ];
        $names = ['FORTKNOX_DB', 'FORTKNOX_DSN', 'FORTKNOX_REGISTRY'];
        $saved = array_map(fn ($n) => getenv($n), $names);
        try {
            foreach ($cases as $i => [$env, $want]) {
                foreach ($names as $k => $n) {
                    putenv($env[$k] === null ? $n : "$n={$env[$k]}");
                }
                $deprecated = false;
                set_error_handler(function (int $no, string $msg) use (&$deprecated): bool {
                    $deprecated = $deprecated || ($no === E_USER_DEPRECATED && str_contains($msg, 'FORTKNOX_DB'));
                    return true;
                });
                try {
                    $config = require dirname(__DIR__) . '/config/fortknox.php';
                } finally {
                    restore_error_handler();
                }
                $this->assertSame($want, [$config['dsn'], $config['registry_file'], $deprecated], "case $i");
            }
        } finally {
            foreach ($names as $k => $n) {
                putenv($saved[$k] === false ? $n : "$n={$saved[$k]}");
            }
        }
    }

    public function testTheBuiltConninfoConnects(): void
    {
        $p = TestDb::parse(TestDb::dsn());
        $db = ['default' => 'pgsql', 'connections' => ['pgsql' => ['driver' => 'pgsql', 'host' => $p['host'],
            'port' => $p['port'] ?? '5432', 'database' => $p['dbname'], 'username' => $p['user'] ?? '']]];
        $fk = FortKnoxServiceProvider::open(['dsn' => null, 'fixture_root' => '/tmp/fk-config-root'], $db);
        $this->assertSame('/tmp/fk-config-root', $fk->fixtureRoot());
        $this->assertGreaterThan(0, $fk->serverVersion());
    }

    public function testRegisterAndBoot(): void
    {
        $dsn = TestDb::dsn();
        $capsule = Eloquent::boot($dsn);
        $app = new TestApplication(['fortknox' => ['dsn' => $dsn, 'models' => [CohortDefinition::class]]]);
        $app->instance('events', $capsule->getContainer()['events']);
        // observers registered by the provider are resolved from the events' container
        $capsule->getContainer()->bind(FortKnoxObserver::class, fn () => $app->make(FortKnoxObserver::class));

        $provider = new FortKnoxServiceProvider($app);
        $provider->register();
        // defaults merged from config/fortknox.php
        $this->assertSame([], array_diff(['dsn', 'connection', 'library', 'registry_file', 'schema', 'fixture_root',
            'admin_email', 'models'], array_keys($app['config']->get('fortknox'))));
        $provider->boot();

        $fk = $app->make(FortKnox::class);
        $this->assertInstanceOf(FortKnox::class, $fk);
        $this->assertSame($fk, $app->make(FortKnox::class), 'a singleton');
        $observer = $app->make(FortKnoxObserver::class);
        $this->assertSame($observer, $app->make(FortKnoxObserver::class));
        $this->assertSame('cohort_definition', $observer->entityType(new CohortDefinition()));
        $this->assertTrue($capsule->getContainer()['events']->hasListeners('eloquent.updated: ' . CohortDefinition::class));
        $this->assertNull($observer->mode(), 'nothing installed in this database');
    }

    public function testComposerPackage(): void
    {
        $root = dirname(__DIR__);
        $c = json_decode((string) file_get_contents("$root/composer.json"), true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame('>=8.2', $c['require']['php']);
        $this->assertArrayHasKey('ext-ffi', $c['require']);
        $this->assertSame('src/', $c['autoload']['psr-4']['FortKnox\\']);
        $this->assertSame([FortKnoxServiceProvider::class], $c['extra']['laravel']['providers']);
        foreach ($c['extra']['laravel']['providers'] as $p) {
            $this->assertTrue(class_exists($p));
        }
        // every class file is where PSR-4 says, and parses
        foreach (new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator("$root/src")) as $f) {
            if ($f->getExtension() !== 'php') {
                continue;
            }
            $rel = substr($f->getPathname(), strlen("$root/src/"), -4);
            $src = (string) file_get_contents($f->getPathname());
            $ns = 'FortKnox' . (dirname($rel) === '.' ? '' : '\\' . str_replace('/', '\\', dirname($rel)));
            $this->assertStringContainsString("namespace $ns;", $src, $rel);
            $this->assertMatchesRegularExpression('~(class|interface|trait) ' . preg_quote(basename($rel)) . '\b~', $src);
        }
        $this->assertStringContainsString('## [Unreleased]', (string) file_get_contents("$root/CHANGELOG.md"));
    }

    public function testCommandClassesDeclareTheArtisanSignatures(): void
    {
        // illuminate/console is not installed here: check the declarations as text.
        $dir = dirname(__DIR__) . '/src/Laravel/Console';
        $expect = ['Export' => 'fortknox:export', 'Import' => 'fortknox:import', 'Verify' => 'fortknox:verify',
                   'Drill' => 'fortknox:drill', 'Doctor' => 'fortknox:doctor'];
        foreach ($expect as $class => $name) {
            $src = (string) file_get_contents("$dir/{$class}Command.php");
            $this->assertStringContainsString("'$name", $src);
            $this->assertStringContainsString('{--json', $src);
            $this->assertContains("FortKnox\\Laravel\\Console\\{$class}Command", FortKnoxServiceProvider::COMMANDS);
        }
        $this->assertStringContainsString('{--dry-run', (string) file_get_contents("$dir/ImportCommand.php"));
    }
}
