<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\FortKnox;
use FortKnox\Tests\Support\LaravelApp;
use PHPUnit\Framework\TestCase;

/**
 * The Laravel application under tests/app, booted with Debian's framework,
 * the package found by Laravel's package discovery, on its own database:
 * Parthenon's incidents replayed through artisan.
 */
final class LaravelAppTest extends TestCase
{
    private static LaravelApp $app;

    public static function setUpBeforeClass(): void
    {
        self::$app = LaravelApp::booted('artisan');
    }

    public static function tearDownAfterClass(): void
    {
        self::$app->remove();
    }

    /** @return array<string, int> rows per design table */
    private static function counts(): array
    {
        $n = [];
        foreach (['users', 'cohort_definitions', 'concept_sets', 'concept_set_items'] as $t) {
            $n[$t] = (int) self::$app->one("SELECT count(*) FROM $t");
        }
        return $n;
    }

    public function testThePackageIsDiscoveredAndItsCommandsListed(): void
    {
        [$rc, $out] = self::$app->artisan(['list', 'fortknox', '--raw']);
        $this->assertSame(0, $rc);
        foreach (['install', 'export', 'import', 'verify', 'drill', 'doctor', 'audit:verify', 'audit:log',
                  'restore', 'snapshot'] as $c) {
            $this->assertMatchesRegularExpression("/^fortknox:$c\\s/m", $out);
        }
        $this->assertStringNotContainsString('FortKnox', (string) file_get_contents(self::$app->dir . '/config/app.php'),
            'config/app.php does not name the provider: discovery finds it');
    }

    public function testInstallAgainSaysUpToDateInTheLibrarysJson(): void
    {
        [$rc, $out, $err] = self::$app->artisan(['fortknox:install', '--json']);
        $this->assertSame([0, ''], [$rc, $err]);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame(['fortknox-cli', 'install', 0], [$doc['format'], $doc['command'], $doc['exit_status']]);
        $this->assertSame(0, $doc['report']['counters']['changed']);
        $this->assertSame(3, $doc['report']['counters']['capture_tables']);
    }

    /**
     * @return array<string, array{0: list<string>, 1: string}>
     */
    public static function incidents(): array
    {
        return [
            // Parthenon's seeder: TRUNCATE users, ... CASCADE, then insert.
            'db:seed with the truncating seeder' => [['db:seed', '--no-interaction'],
                "TRUNCATE of public.cohort_definitions blocked by fortknox"],
            'migrate:fresh' => [['migrate:fresh', '--no-interaction'],
                "DROP TABLE refused by fortknox"],
            'db:wipe' => [['db:wipe', '--no-interaction', '--force'],
                "DROP TABLE refused by fortknox"],
        ];
    }

    /**
     * @dataProvider incidents
     * @param list<string> $args
     */
    public function testTheIncidentIsRefusedAndNothingIsLost(array $args, string $message): void
    {
        $before = self::counts();
        $this->assertGreaterThan(0, $before['cohort_definitions']);
        [$rc, $out, $err] = self::$app->artisan($args);
        $this->assertNotSame(0, $rc, "$out$err");
        $all = $out . $err;
        // What a Laravel developer reads: the refusal, the way through, and fortknox's hint.
        // (artisan's box wraps the message; the log line on stderr has it whole)
        $this->assertStringContainsString($message, $err);
        $this->assertStringContainsString('HINT:', $all);
        $this->assertStringContainsString('libfortknox', $all);
        $this->assertSame($before, self::counts(), 'nothing lost');
    }

    public function testTheDdlRefusalNamesLaravelsCommandsAndWhatWouldBeLost(): void
    {
        [, , $err] = self::$app->artisan(['migrate:fresh', '--no-interaction']);
        $flat = preg_replace('/\s+/', ' ', $err);
        $this->assertStringContainsString("as Laravel's migrate:fresh and db:wipe do", $flat);
        $this->assertStringContainsString('public.cohort_definitions (2 cohort_definition)', $flat);
    }

    /**
     * Eloquent delete(), restore() and forceDelete() from a console command
     * that declares its user: audited by the capture triggers with that actor.
     * @return array<string, array{0: list<string>, 1: string, 2: string}>
     */
    public static function eloquentWrites(): array
    {
        return [
            'delete (soft)' => [['design', 'delete', 'concept-set', '1', '--as=meilin.chen@example.org'],
                                'deleted', 'meilin.chen@example.org'],
            'restore' => [['design', 'restore', 'concept-set', '1', '--as=priya.raman@example.org'],
                          'restored', 'priya.raman@example.org'],
            'forceDelete with the override' => [['design', 'force-delete', 'concept-set', '2',
                                                 '--as=admin@example.org', '--allow=hard_delete'],
                                                'force_deleted', 'admin@example.org'],
        ];
    }

    /**
     * @dataProvider eloquentWrites
     * @param list<string> $args
     */
    public function testEloquentWritesAreAuditedWithTheCommandsUser(array $args, string $action, string $email): void
    {
        [$rc, $out, $err] = self::$app->artisan($args);
        $this->assertSame(0, $rc, "$out$err");
        $row = self::lastAudit('concept_set', (int) $args[3]);
        $id = (int) self::$app->one('SELECT id FROM users WHERE email = ?', [$email]);
        $this->assertSame([$action, $id, $email], [$row['action'], $row['actor_id'], $row['actor_email']]);
    }

    public function testForceDeleteWithoutTheOverrideIsRefused(): void
    {
        [$rc, , $err] = self::$app->artisan(['design', 'force-delete', 'cohort', '2', '--as=priya.raman@example.org']);
        $this->assertSame(1, $rc);
        $this->assertStringContainsString('hard delete of cohort_definitions id 2 blocked by fortknox', $err);
        $this->assertSame(1, (int) self::$app->one('SELECT count(*) FROM cohort_definitions WHERE id = 2'));
    }

    public function testTheAuditLogThroughArtisanShowsWhoDidWhat(): void
    {
        [$rc, $out, $err] = self::$app->artisan(['fortknox:audit:log', '--entity=concept_set:1']);
        $this->assertSame([0, ''], [$rc, $err]);
        $this->assertMatchesRegularExpression('/ restored +concept_set:1 +Metformin +priya\.raman@example\.org /', $out);
        $this->assertMatchesRegularExpression('/ deleted +concept_set:1 +Metformin +meilin\.chen@example\.org /', $out);
        [$rc, $out] = self::$app->artisan(['fortknox:audit:log', '--entity=concept_set:1', '--diff']);
        $this->assertSame(0, $rc);
        $this->assertMatchesRegularExpression('/^#\d+ \S+ restored by priya\.raman@example\.org \(capture\)\n  ~ \$\.deleted_at: /m', $out);
        [$rc, , $err] = self::$app->artisan(['fortknox:audit:log', '--diff']);
        $this->assertSame(2, $rc);
        $this->assertStringContainsString('fortknox audit log: --diff needs --entity TYPE:ID', $err);
    }

    public function testTheAuditChainVerifiesThroughArtisan(): void
    {
        [$rc, $out, $err] = self::$app->artisan(['fortknox:audit:verify', '--json']);
        $this->assertSame([0, ''], [$rc, $err]);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        $this->assertTrue($doc['report']['ok']);
        $this->assertGreaterThan(0, $doc['report']['counters']['rows']);
    }

    /** @return array<string, mixed> the newest audit row of an entity */
    private static function lastAudit(string $type, int $id): array
    {
        $fk = new FortKnox(self::$app->conninfo, ['registry_file' => self::$app->dir . '/fortknox-registry.json']);
        try {
            return $fk->history($type, $id, 1)[0];
        } finally {
            $fk->close();
        }
    }
}
