<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Tests\Support\LaravelApp;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/**
 * tests/app/deploy.sh: `php artisan fortknox:snapshot fixtures --git`, then
 * `php artisan migrate`, in the application's git work tree.
 */
final class LaravelDeployTest extends TestCase
{
    private static LaravelApp $app;

    public static function setUpBeforeClass(): void
    {
        self::$app = LaravelApp::booted('deploy');
        self::git('init', '-q');
        self::git('config', 'user.name', 'Deploy Bot');
        self::git('config', 'user.email', 'deploy@example.org');
        self::git('add', '-A');
        self::git('commit', '-q', '-m', 'the application');
    }

    public static function tearDownAfterClass(): void
    {
        self::$app->remove();
    }

    private static function git(string ...$args): string
    {
        [$rc, $out, $err] = LaravelApp::run(array_merge(['git', '-C', self::$app->dir], $args), [], self::$app->dir);
        self::assertSame(0, $rc, 'git ' . implode(' ', $args) . ": $err");
        return $out;
    }

    /** @return array{0: int, 1: string, 2: string} */
    private static function deploy(): array
    {
        return LaravelApp::run(['sh', self::$app->dir . '/deploy.sh'], self::$app->env(['PHP' => PHP_BINARY]),
                               self::$app->dir);
    }

    public function testTheSnapshotCommitsOnlyTheFixturePathsThenTheMigrationRuns(): void
    {
        // someone's work in progress, staged: not the deploy's to commit
        file_put_contents(self::$app->dir . '/config/app.php', "\n// staged, not deployed\n", FILE_APPEND);
        self::git('add', 'config/app.php');
        self::$app->addMigration('2026_02_01', 'notes');
        $head = trim(self::git('rev-parse', 'HEAD'));

        [$rc, $out, $err] = self::deploy();
        $this->assertSame(0, $rc, "$out$err");
        $this->assertMatchesRegularExpression('/^exported 4 entities to fixtures: 4 written.*; committed [0-9a-f]{40}$/m', $out);
        $this->assertStringContainsString('Migrated:  2026_02_01_000000_create_notes_table', $out);

        $files = array_filter(explode("\n", self::git('diff', '--name-only', $head, 'HEAD')));
        $this->assertNotEmpty($files);
        foreach ($files as $f) {
            $this->assertStringStartsWith('fixtures/', $f);
        }
        $this->assertContains('fixtures/cohort_definitions/heart-failure-admissions.json', $files);
        $this->assertSame("config/app.php\n", self::git('diff', '--cached', '--name-only'), 'still staged');

        // nothing changed: nothing committed
        $head = trim(self::git('rev-parse', 'HEAD'));
        [$rc, $out] = self::deploy();
        $this->assertSame(0, $rc);
        $this->assertStringContainsString('; nothing to commit', $out);
        $this->assertSame($head, trim(self::git('rev-parse', 'HEAD')));
    }

    public function testALossStopsTheDeployBeforeTheMigrationAndCommitsNothing(): void
    {
        $this->assertSame('1', (string) self::$app->one('SELECT count(*) FROM concept_sets WHERE id = 2'));
        // a superuser's damage no guard saw (triggers off): the row is gone, no deletion recorded
        TestDb::bypassed(self::$app->conninfo, 'DELETE FROM concept_sets WHERE id = 2');
        $this->assertSame('0', (string) self::$app->one('SELECT count(*) FROM concept_sets WHERE id = 2'));
        self::$app->addMigration('2026_03_01', 'pins');
        $head = trim(self::git('rev-parse', 'HEAD'));

        [$rc, $out, $err] = self::deploy();
        $this->assertSame(1, $rc, "$out$err");
        $this->assertStringContainsString('NOT committed: the loss must be restored or acknowledged first', $out);
        $this->assertStringContainsString('fortknox snapshot:', $err);
        $this->assertStringNotContainsString('create_pins_table', $out . $err, 'the migration did not run');
        $this->assertSame($head, trim(self::git('rev-parse', 'HEAD')));
        $this->assertFileExists(self::$app->dir . '/fixtures/concept_sets/asthma.json', 'the lost entity keeps its file');
    }
}
