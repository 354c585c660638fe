<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\FortKnox;
use FortKnox\Tests\Support\LaravelApp;
use PHPUnit\Framework\TestCase;

/**
 * Capture mode in a long-lived process (PHP-FPM with persistent connections,
 * Octane, a queue worker): one database connection serves request after
 * request and job after job. Each write must be recorded with ITS user —
 * never the one a previous request or job left on the connection.
 */
final class LaravelActorTest extends TestCase
{
    private static LaravelApp $app;

    public static function setUpBeforeClass(): void
    {
        self::$app = LaravelApp::booted('actor');
    }

    public static function tearDownAfterClass(): void
    {
        self::$app->remove();
    }

    public function testEachRequestAndJobIsRecordedWithItsOwnActor(): void
    {
        // step => expected actor_id of the audit row it writes (null: nobody)
        $steps = [
            [['method' => 'POST', 'uri' => '/cohorts/1', 'user' => 2, 'body' => ['description' => 'model save by 2']], 2],
            [['method' => 'POST', 'uri' => '/cohorts/1/raw', 'body' => ['description' => 'raw, guest']], null],
            [['method' => 'POST', 'uri' => '/cohorts/1/raw', 'user' => 3, 'body' => ['description' => 'raw by 3']], 3],
            [['job' => [1, 'job for admin', 'admin@example.org']], 1],
            [['method' => 'POST', 'uri' => '/cohorts/1/raw', 'body' => ['description' => 'raw, guest again']], null],
            [['method' => 'POST', 'uri' => '/cohorts/1', 'body' => ['description' => 'model save, guest']], null],
        ];
        [$rc, $out, $err] = self::$app->artisan(['replay', json_encode(array_column($steps, 0))],
                                                ['DB_PERSISTENT' => '1']);
        $this->assertSame(0, $rc, "$out$err");
        $this->assertStringNotContainsString(' 500', $out, $out . $err);

        $fk = new FortKnox(self::$app->conninfo, ['registry_file' => self::$app->dir . '/fortknox-registry.json']);
        $rows = array_reverse($fk->history('cohort_definition', 1, 100));
        $fk->close();
        $this->assertSame(array_map(fn ($s) => $s[1], $steps), array_map(fn ($r) => $r['actor_id'], $rows),
            'actor per write: ' . json_encode(array_map(fn ($r) => [$r['new_json']['description'], $r['actor_id']], $rows)));
    }
}
