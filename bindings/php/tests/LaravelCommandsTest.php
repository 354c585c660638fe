<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Tests\Support\LaravelApp;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/**
 * The fortknox:* artisan commands in the booted application: the tool's
 * exit statuses and output (through the library's report formatting), and
 * Laravel's conventions — in production a command that writes the design
 * records asks first (--force: no question; --no-interaction: the answer is
 * no, nothing is done).
 */
final class LaravelCommandsTest extends TestCase
{
    private static LaravelApp $app;
    private static int $v1Row;

    public static function setUpBeforeClass(): void
    {
        self::$app = LaravelApp::booted('commands');
        self::describe('v1');
        self::$v1Row = (int) self::$app->one('SELECT max(id) FROM fortknox.audit_log');
    }

    public static function tearDownAfterClass(): void
    {
        self::$app->remove();
    }

    private static function describe(string $d): void
    {
        TestDb::pdo(self::$app->conninfo)->exec("UPDATE cohort_definitions SET description = '$d' WHERE id = 1");
    }

    private static function description(): string
    {
        return (string) self::$app->one('SELECT description FROM cohort_definitions WHERE id = 1');
    }

    /**
     * @return array<string, array{0: string, 1: list<string>, 2: int, 3: string, 4: string}>
     *         APP_ENV, arguments (ROW: the audit row of "v1"), exit status, text expected
     *         on stdout+stderr, cohort 1's description after
     */
    public static function cases(): array
    {
        $restore = ['fortknox:restore', 'cohort_definition:1', '--audit-id=ROW'];
        return [
            'restore: not TYPE:ID' => ['local', ['fortknox:restore', 'cohort_definition:x', '--audit-id=1'], 2,
                'fortknox restore: expected TYPE:ID (ID a positive integer), not "cohort_definition:x"', 'v2'],
            'restore: both --as-of and --audit-id' => ['production', array_merge($restore, ['--as-of=2026-01-01']), 2,
                'fortknox restore: give exactly one of --as-of TIME and --audit-id N (N > 0)', 'v2'],
            'restore, local: no question' => ['local', $restore, 0, '', 'v1'],
            'restore, production, --no-interaction: cancelled' => ['production', array_merge($restore, ['--no-interaction']), 2,
                'Command cancelled: nothing was changed', 'v2'],
            'restore, production, answered no' => ['production', $restore, 2, 'Do you really wish to run this command?', 'v2'],
            'restore, production, --force' => ['production', array_merge($restore, ['--force', '--no-interaction']), 0, '', 'v1'],
            'restore: an audit row of another entity (FK_EINVAL)' => ['local', ['fortknox:restore', 'cohort_definition:2', '--audit-id=ROW'], 2,
                'fortknox restore: ', 'v2'],
            'import, production, --no-interaction: cancelled' => ['production', ['fortknox:import', 'fixtures', '--no-interaction'], 2,
                'Command cancelled: nothing was changed', 'v2'],
            'import --dry-run, production: no question (nothing is changed)' => ['production',
                ['fortknox:import', 'fixtures', '--dry-run', '--no-interaction'], 0, 'dry run of importing fixtures', 'v2'],
        ];
    }

    /**
     * @dataProvider cases
     * @param list<string> $args
     */
    public function testExitStatusAndConfirmation(string $env, array $args, int $exit, string $text, string $after): void
    {
        self::describe('v2');
        if (!is_dir(self::$app->dir . '/fixtures')) {
            [$rc, $out, $err] = self::$app->artisan(['fortknox:export', 'fixtures']);
            $this->assertSame(0, $rc, "$out$err");
        }
        $args = array_map(fn ($a) => str_replace('ROW', (string) self::$v1Row, $a), $args);
        [$rc, $out, $err] = self::$app->artisan($args, ['APP_ENV' => $env], "no\n");
        $this->assertSame($exit, $rc, "$out$err");
        $this->assertStringContainsString($text, $out . $err);
        $this->assertSame($after, self::description());
    }

    public function testRestoreJsonIsTheToolsDocument(): void
    {
        self::describe('v2');
        [$rc, $out, $err] = self::$app->artisan(['fortknox:restore', 'cohort_definition:1',
                                                 '--audit-id=' . self::$v1Row, '--json']);
        $this->assertSame([0, ''], [$rc, $err]);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame(['fortknox-cli', 'restore', 0, 'FK_OK'],
                          [$doc['format'], $doc['command'], $doc['exit_status'], $doc['status']]);
        $this->assertSame('v1', self::description());
    }

    public function testExportAfterALossExitsOneAndKeepsTheFile(): void
    {
        $dir = self::$app->dir . '/fixtures-loss';
        [$rc] = self::$app->artisan(['fortknox:export', $dir]);
        $this->assertSame(0, $rc);
        TestDb::bypassed(self::$app->conninfo, 'DELETE FROM concept_sets WHERE id = 1');
        [$rc, $out, $err] = self::$app->artisan(['fortknox:export', $dir]);
        $this->assertSame(1, $rc, "$out$err");
        $this->assertStringContainsString('LOST entities kept', $out);
        $this->assertFileExists("$dir/concept_sets/metformin.json");
        [$rc, $out, $err] = self::$app->artisan(['fortknox:export', $dir, '--accept-loss=concept_set:1']);
        $this->assertSame(0, $rc, "$out$err");
    }
}
