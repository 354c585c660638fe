<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\NotFoundException;
use FortKnox\Exception\VerificationFailedException;
use FortKnox\FortKnox;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/** FortKnox::proposeRegistry() and checkRegistry() (fk_registry_propose(), fk_registry_check()). */
final class RegistryTest extends TestCase
{
    private string $dir;

    protected function setUp(): void
    {
        $this->dir = TestDb::tempDir('registry');
    }

    protected function tearDown(): void
    {
        TestDb::rmrf($this->dir);
    }

    public function testProposeThenCheck(): void
    {
        $fk = new FortKnox(TestDb::dsn(), ['lazy_registry' => true]);
        $text = $fk->proposeRegistry(['schemas' => ['app'], 'tables' => ['app.users']]);
        $reg = json_decode($text, true, 512, JSON_THROW_ON_ERROR);
        $types = array_column($reg['entities'], null, 'type');
        $this->assertSame(['share_token'], $types['cohort_definition']['secret_columns']);
        $this->assertSame('items', $types['concept_set']['children'][0]['key']);
        $this->assertArrayHasKey('user', $types, 'asked for with tables');
        $this->assertNotEmpty($types['concept_set']['notes']);

        file_put_contents("$this->dir/registry.json", $text);
        $ok = new FortKnox(TestDb::dsn(), ['lazy_registry' => true, 'registry_file' => "$this->dir/registry.json"]);
        $report = $ok->checkRegistry();
        $this->assertSame(0, $report['counters']['problems']);

        file_put_contents("$this->dir/bad.json", str_replace('"app.concept_set_items"', '"app.gone"', $text));
        $bad = new FortKnox(TestDb::dsn(), ['lazy_registry' => true, 'registry_file' => "$this->dir/bad.json"]);
        try {
            $bad->checkRegistry();
            $this->fail('a missing table must fail the check');
        } catch (VerificationFailedException $e) {
            $this->assertSame(1, $e->getReport()['counters']['problems']);
            $this->assertStringContainsString('app.gone', json_encode($e->getReport()));
        }

        $this->expectException(NotFoundException::class);
        $fk->proposeRegistry(['tables' => ['app.nope']]);
    }
}
