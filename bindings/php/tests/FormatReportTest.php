<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\InvalidArgumentException;
use FortKnox\Exception\NotFoundException;
use FortKnox\Exception\VerificationFailedException;
use FortKnox\FortKnox;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/**
 * FortKnox::formatReport() and formatOutcome(): the tool's output
 * (fk_report_format()) of the last report operation, never of an older one.
 */
final class FormatReportTest extends TestCase
{
    private static string $dsn;
    private string $dir;

    public static function setUpBeforeClass(): void
    {
        self::$dsn = TestDb::fresh('format');
    }

    protected function setUp(): void
    {
        $this->dir = TestDb::tempDir('format');
    }

    protected function tearDown(): void
    {
        TestDb::rmrf($this->dir);
    }

    private function options(int $status, int $exit, bool $json = false): array
    {
        return ['command' => 'verify', 'status' => $status, 'exit_status' => $exit,
                'subject' => $this->dir, 'json' => $json];
    }

    public function testTheLastOperationsReportIsFormatted(): void
    {
        $fk = new FortKnox(self::$dsn);
        $fk->export($this->dir);
        $report = $fk->verify($this->dir);
        $text = $fk->formatReport($this->options(0, 0));
        $this->assertStringStartsWith("identical: $this->dir is a faithful copy of the database ("
                                      . $report['counters']['entities'] . " entities)\n  entities ", $text);

        // a finding: the report the exception carries
        $files = glob("$this->dir/cohort_definitions/*.json");
        unlink($files[0]);
        try {
            $fk->verify($this->dir);
            $this->fail('verify passed without a file');
        } catch (VerificationFailedException $e) {
            $text = $fk->formatReport($this->options($e->getCode(), 1));
        }
        $this->assertStringStartsWith("$this->dir differs from the database: ", $text);
        $this->assertStringContainsString('file_missing', $text);

        // a failure without a report: the previous report is not shown again
        try {
            $fk->verify("$this->dir/nonexistent");
            $this->fail('verify of a missing directory passed');
        } catch (NotFoundException $e) {
            $doc = json_decode($fk->formatReport($this->options($e->getCode(), 3, true)), true,
                               512, JSON_THROW_ON_ERROR);
        }
        $this->assertSame(['verify', 3, 'FK_ENOTFOUND', null],
                          [$doc['command'], $doc['exit_status'], $doc['status'], $doc['report']]);
        $this->assertSame('', $fk->formatReport($this->options(-6, 3)));
    }

    public function testOutcomeWithoutAReport(): void
    {
        $this->assertSame("{\"format\": \"fortknox-cli\", \"format_version\": 1, \"command\": \"export\", "
                          . "\"exit_status\": 2, \"status\": \"FK_EINVAL\", \"error\": \"missing a/DIR\", "
                          . "\"report\": null, \"data\": null}\n",
                          FortKnox::formatOutcome(['command' => 'export', 'status' => -1, 'exit_status' => 2,
                                                   'error' => 'missing a/DIR', 'json' => true]));
        $this->assertSame("a sentence\n", FortKnox::formatOutcome(['summary' => 'a sentence']));
        $this->expectException(InvalidArgumentException::class);
        FortKnox::formatOutcome(['verbosity' => 2]);
    }
}
