<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Tests\Support\LaravelApp;
use PHPUnit\Framework\TestCase;

/**
 * bindings/php/README.md, "Into an existing Laravel application", steps 2 to 5,
 * on the test application without its fortknox configuration.
 */
final class LaravelReadmeTest extends TestCase
{
    public function testTheReadmeStepsFromScratch(): void
    {
        $app = LaravelApp::make('readme');
        try {
            $config = $app->dir . '/config/fortknox.php';
            unlink($config);
            $registry = ['FORTKNOX_REGISTRY' => $app->dir . '/fortknox-registry.json'];

            // 2. discovered
            [$rc, $out] = $app->artisan(['list', 'fortknox', '--raw']);
            $this->assertSame(0, $rc);
            $this->assertStringContainsString('fortknox:install', $out);

            // 3. publish, then list the models
            [$rc, $out, $err] = $app->artisan(['vendor:publish', '--provider=FortKnox\Laravel\FortKnoxServiceProvider']);
            $this->assertSame(0, $rc, "$out$err");
            $this->assertFileEquals(dirname(__DIR__) . '/config/fortknox.php', $config);
            $readme = (string) file_get_contents(dirname(__DIR__) . '/README.md');
            $this->assertSame(1, preg_match("/^'models' => \\[App.*\\],$/m", $readme, $m));
            file_put_contents($config, str_replace("    'models' => [],", '    ' . $m[0], (string) file_get_contents($config), $n));
            $this->assertSame(1, $n);

            // 4. install after the migrations; again: up to date
            foreach ([['migrate', '--no-interaction'], ['db:seed', '--no-interaction'], ['fortknox:install', '--capture']] as $args) {
                [$rc, $out, $err] = $app->artisan($args, $registry);
                $this->assertSame(0, $rc, implode(' ', $args) . ": $out$err");
            }
            [$rc, $out] = $app->artisan(['fortknox:install', '--json'], $registry);
            $this->assertSame(0, $rc);
            $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
            $this->assertSame([0, 3], [$doc['report']['counters']['changed'], $doc['report']['counters']['capture_tables']]);

            // the models are observed: a soft delete from a command is audited with its user
            [$rc, $out, $err] = $app->artisan(['design', 'delete', 'cohort', '1', '--as=admin@example.org'], $registry);
            $this->assertSame(0, $rc, "$out$err");
            $this->assertSame('admin@example.org', $app->one("SELECT actor_email FROM fortknox.audit_log"
                . " WHERE entity_type = 'cohort_definition' AND entity_id = 1 AND action = 'deleted'"));

            // 5. scheduled
            [$rc, $out, $err] = $app->artisan(['schedule:list'], $registry);
            $this->assertSame(0, $rc, "$out$err");
            $this->assertStringContainsString('fortknox:doctor', $out);
            $this->assertStringContainsString('fortknox:audit:verify', $out);
        } finally {
            $app->remove();
        }
    }
}
