<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\LossException;
use FortKnox\Exception\NotFoundException;
use FortKnox\Exception\ParseException;
use FortKnox\Exception\InvalidArgumentException;
use FortKnox\Exception\VerificationFailedException;
use FortKnox\FortKnox;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/** Layer 3 and the proofs: serialize, export, verify, drill, import, doctor. */
final class FixturesTest extends TestCase
{
    private static string $dsn;
    private string $dir;
    private FortKnox $fk;

    public static function setUpBeforeClass(): void
    {
        self::$dsn = TestDb::fresh('fixtures');
    }

    protected function setUp(): void
    {
        $this->dir = TestDb::tempDir('fixtures');
        $this->fk = new FortKnox(self::$dsn);
    }

    protected function tearDown(): void
    {
        $this->fk->close();
        TestDb::rmrf($this->dir);
    }

    public function testSerializeMatchesTheExportedFile(): void
    {
        $doc = $this->fk->serialize('concept_set', 1001);
        $this->assertSame($doc, $this->fk->serialize('concept_set', 1001, 'parthenon'));
        $this->assertStringStartsWith("{\n    \"id\": 1001,", $doc);
        $this->assertStringNotContainsString("\n", substr($doc, -1), 'no trailing newline (Parthenon format)');
        $decoded = json_decode($doc, true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame('Statins (seed)', $decoded['name']);
        $this->assertIsArray($decoded['items']);

        $canonical = $this->fk->serialize('concept_set', 1001, FortKnox::FORMAT_CANONICAL);
        $this->assertStringEndsWith("\n", $canonical);
        $this->assertEquals($decoded['name'], json_decode($canonical, true)['name']);

        $report = $this->fk->export($this->dir, ['report_files' => true]);
        $path = $this->fk->fixturePath('concept_set', 'Statins (seed)', 1001);
        $this->assertSame('concept_sets/statins-seed.json', $path);
        $this->assertSame($doc, file_get_contents("$this->dir/$path"), 'byte-identical');
        $this->assertContains($path, array_column($report['items'], 'path'));
    }

    public function testSecretColumnsAreNeverSerialized(): void
    {
        $share = TestDb::one(self::$dsn, 'SELECT share_token FROM app.cohort_definitions WHERE share_token IS NOT NULL LIMIT 1');
        $id = (int) TestDb::one(self::$dsn, 'SELECT id FROM app.cohort_definitions WHERE share_token IS NOT NULL LIMIT 1');
        $this->assertNotNull($share);
        $this->assertStringNotContainsString((string) $share, $this->fk->serialize('cohort_definition', $id));
    }

    public function testRegistryDescribesTheEntities(): void
    {
        $types = array_column($this->fk->registry()['entities'], 'table', 'type');
        $this->assertSame('cohort_definitions', $types['cohort_definition']);
        $this->assertSame('concept_sets', $types['concept_set']);
        $this->assertCount(10, $types);
    }

    public function testExportVerifyDrillImportRoundTrip(): void
    {
        $r = $this->fk->export($this->dir);
        $this->assertSame('export', $r['operation']);
        $this->assertTrue($r['ok']);
        $this->assertSame(18, $r['counters']['entities']);
        $this->assertSame(18, $r['counters']['written']);
        $this->assertFileExists("$this->dir/fortknox-manifest.json");

        $again = $this->fk->export($this->dir);
        $this->assertSame(0, $again['counters']['written']);
        $this->assertSame(18, $again['counters']['unchanged']);

        $v = $this->fk->verify($this->dir);
        $this->assertTrue($v['ok']);
        $this->assertSame(18, $v['counters']['identical']);

        $d = $this->fk->drill($this->dir);
        $this->assertTrue($d['ok']);
        $this->assertSame(18, $d['counters']['restored']);

        // The database drifts: verify and drill say where, with the report.
        $this->fk->exec("UPDATE app.cohort_definitions SET name = 'Renamed in the database' WHERE id = 1001");
        try {
            $this->fk->verify($this->dir);
            $this->fail('verify passed');
        } catch (VerificationFailedException $e) {
            $this->assertSame(-8, $e->getCode());
            $report = $e->getReport();
            $this->assertIsArray($report);
            $this->assertFalse($report['ok']);
            $this->assertSame(1, $report['counters']['differs']);
            $item = $report['items'][0];
            $this->assertSame(['differs', 'cohort_definition', 1001, ['name']],
                              [$item['code'], $item['entity_type'], $item['entity_id'], $item['fields']]);
        }

        // Import puts the fixture's state back (dry run first: nothing changes).
        $dry = $this->fk->import($this->dir, true);
        $this->assertSame(1, $dry['counters']['updated']);
        $this->assertSame('Renamed in the database', $this->name(1001));
        $real = $this->fk->import($this->dir);
        $this->assertSame(1, $real['counters']['updated']);
        $this->assertSame(17, $real['counters']['unchanged']);
        $this->assertNotSame('Renamed in the database', $this->name(1001));
        $this->assertTrue($this->fk->verify($this->dir)['ok']);
        $this->assertSame(0, $this->fk->import($this->dir)['counters']['updated'], 'idempotent');

        // Doctor with the manifest: no loss, but nothing installed is an error
        // (a wrong schema or database must not pass).
        try {
            $this->fk->doctor(['fixture_dir' => $this->dir]);
            $this->fail('doctor passed on a database without libfortknox');
        } catch (VerificationFailedException $e) {
            $doc = $e->getReport();
            $this->assertSame('doctor', $doc['operation']);
            $this->assertSame(['FK-NOT-INSTALLED'], array_column($doc['items'], 'code'));
        }
    }

    public function testDoctorFindsLossAsAnException(): void
    {
        $dsn = TestDb::fresh('doctor');
        $fk = new FortKnox($dsn);
        $fk->export($this->dir);
        $fk->exec('DELETE FROM app.characterizations WHERE id = 1001');
        try {
            $fk->doctor(['fixture_dir' => $this->dir]);
            $this->fail('doctor passed');
        } catch (VerificationFailedException $e) {
            $loss = array_values(array_filter($e->getReport()['items'], fn ($i) => $i['code'] === 'FK-LOSS'));
            $this->assertCount(1, $loss);
            $this->assertSame(['characterization', 1001, 'error'],
                              [$loss[0]['entity_type'], $loss[0]['entity_id'], $loss[0]['severity']]);
            $this->assertNotEmpty($loss[0]['hint']);
        }
        // drill tells the fixtures still restore it; import brings it back.
        $this->assertSame(1, $fk->import($this->dir)['counters']['created']);
        $this->assertTrue($fk->verify($this->dir)['ok']);
    }

    public function testExportKeepsALostEntityUntilTheLossIsAccepted(): void
    {
        $dsn = TestDb::fresh('loss');
        $fk = new FortKnox($dsn);
        $fk->export($this->dir);
        $file = $this->dir . '/cohort_definitions/t2dm-new-metformin-users.json';
        $fk->exec('SET session_replication_role = replica');
        $fk->exec('DELETE FROM app.cohort_definitions WHERE id = 1001');
        $fk->exec('RESET session_replication_role');
        try {
            $fk->export($this->dir);
            $this->fail('export passed');
        } catch (LossException $e) {
            $this->assertSame('FK_ELOSS', $e->getStatusName());
            $this->assertContains('FK-LOSS', array_column($e->getReport()['items'], 'code'));
        }
        $this->assertFileExists($file);
        $report = $fk->export($this->dir, ['accept_loss' => ['cohort_definition:1001']]);
        $this->assertSame(1, $report['counters']['loss_accepted']);
        $this->assertFileDoesNotExist($file);
    }

    public function testExportEntityWritesOneFile(): void
    {
        $this->fk->export($this->dir);
        $path = "$this->dir/cohort_definitions/" . basename($this->fk->fixturePath('cohort_definition',
            (string) $this->name(1002), 1002));
        unlink($path);
        $this->fk->exportEntity($this->dir, 'cohort_definition', 1002);
        $this->assertSame($this->fk->serialize('cohort_definition', 1002), file_get_contents($path));
        $this->assertTrue($this->fk->verify($this->dir)['ok']);

        $this->expectException(NotFoundException::class);
        $this->fk->exportEntity($this->dir, 'no_such_type', 1);
    }

    public function testUnknownKeyRefusesTheImportUnlessDropped(): void
    {
        $this->fk->export($this->dir);
        $file = "$this->dir/concept_sets/statins-seed.json";
        file_put_contents($file, str_replace('"tags":', '"labels":', (string) file_get_contents($file)));
        try {
            $this->fk->import($this->dir);
            $this->fail('import passed');
        } catch (ParseException $e) {
            $this->assertStringContainsString('statins-seed.json:', $e->getMessage());
            $this->assertStringContainsString('"labels"', $e->getMessage());
        }
        // the tags column then has no key: refused until its default is asked for
        try {
            $this->fk->import($this->dir, false, ['drop_unknown_keys' => true]);
            $this->fail('import passed');
        } catch (ParseException $e) {
            $this->assertStringContainsString('no key for column(s) tags', $e->getMessage());
        }
        $report = $this->fk->import($this->dir, false, ['drop_unknown_keys' => true,
                                                        'defaults' => ['concept_sets.tags']]);
        $this->assertContains('unknown_key', array_column($report['items'], 'code'));
        $this->assertContains('missing_key', array_column($report['items'], 'code'));
    }

    public function testRenamedKeysAreMappedAndTyposRefused(): void
    {
        $this->fk->export($this->dir);
        $file = "$this->dir/concept_sets/statins-seed.json";
        file_put_contents($file, str_replace('"tags":', '"labels":', (string) file_get_contents($file)));
        $tags = "SELECT tags::text FROM app.concept_sets WHERE id = 1001";
        $exported = TestDb::one(self::$dsn, $tags);
        $this->fk->exec("UPDATE app.concept_sets SET tags = '[\"changed\"]' WHERE id = 1001");
        try {
            $this->fk->import($this->dir, false, ['map' => ['labels' => 'tags', 'lables' => 'tags']]);
            $this->fail('an entry nothing uses passed');
        } catch (InvalidArgumentException $e) {
            $this->assertStringContainsString('--map lables=tags matched nothing', $e->getMessage());
        }
        $this->assertSame('["changed"]', TestDb::one(self::$dsn, $tags));
        $this->fk->import($this->dir, false, ['map' => ['concept_sets.labels=tags']]);
        $this->assertSame($exported, TestDb::one(self::$dsn, $tags));
    }

    public function testRestoreReadsARenamedColumnOnlyWhenToldHow(): void
    {
        $dsn = TestDb::fresh('fixtures_drift');
        $fk = new FortKnox($dsn);
        $fk->install(['mode' => 'capture']);
        $fk->exec("UPDATE app.cohort_definitions SET description = 'Then' WHERE id = 1001");
        $row = (int) TestDb::one($dsn, "SELECT max(id) FROM fortknox.audit_log WHERE entity_type ="
                                       . " 'cohort_definition' AND entity_id = 1001");
        $fk->exec("BEGIN; SELECT fortknox.allow('ddl'); ALTER TABLE app.cohort_definitions RENAME"
                  . " COLUMN description TO summary; UPDATE app.cohort_definitions SET summary ="
                  . " 'Now' WHERE id = 1001; COMMIT");
        $fk->close();
        $fk = new FortKnox($dsn); // the registry as the table now is
        try {
            $fk->restore('cohort_definition', 1001, null, $row);
            $this->fail('a state from before the rename was restored');
        } catch (ParseException $e) {
            $this->assertStringContainsString("audit row $row: key \"description\"", $e->getMessage());
        }
        $this->assertSame('Now', TestDb::one($dsn, "SELECT summary FROM app.cohort_definitions WHERE id = 1001"));
        $fk->restore('cohort_definition', 1001, null, $row, ['map' => ['description' => 'summary']]);
        $this->assertSame('Then', TestDb::one($dsn, "SELECT summary FROM app.cohort_definitions WHERE id = 1001"));
        $this->assertStringEndsWith(' --map description=summary',
            TestDb::one($dsn, "SELECT context FROM fortknox.audit_log ORDER BY id DESC LIMIT 1"));
        $fk->close();
    }

    public function testMalformedFixtureRefusesTheWholeImport(): void
    {
        $this->fk->export($this->dir);
        $this->fk->exec("UPDATE app.concept_sets SET name = 'changed before the import' WHERE id = 1002");
        $before = TestDb::one(self::$dsn, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM app.concept_sets t");
        $broken = "$this->dir/cohort_definitions/zz-broken.json";
        file_put_contents($broken, "{\n    \"id\": 77,\n    \"name\": \"broken\",\n    oops\n}");
        try {
            $this->fk->import($this->dir);
            $this->fail('import passed');
        } catch (ParseException $e) {
            $this->assertSame(-5, $e->getCode());
            $this->assertSame('FK_EPARSE', $e->getStatusName());
            $this->assertMatchesRegularExpression('~zz-broken\.json:4:\d+: ~', $e->getMessage());
            $this->assertStringEndsWith('cohort_definitions/zz-broken.json', (string) $e->getSourcePath());
            $this->assertSame(4, $e->getSourceLine());
            $this->assertGreaterThan(0, $e->getSourceColumn());
        }
        // all or nothing: the valid files were not imported either
        $this->assertSame($before, TestDb::one(self::$dsn, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM app.concept_sets t"));
        $this->assertSame('changed before the import', TestDb::one(self::$dsn, 'SELECT name FROM app.concept_sets WHERE id = 1002'));
        $this->assertNull(TestDb::one(self::$dsn, 'SELECT id FROM app.cohort_definitions WHERE id = 77'));

        // verify and drill cannot read it either
        $this->expectException(ParseException::class);
        $this->fk->drill($this->dir);
    }

    private function name(int $id): ?string
    {
        $v = TestDb::one(self::$dsn, 'SELECT name FROM app.cohort_definitions WHERE id = ?', [$id]);
        return $v === null ? null : (string) $v;
    }
}
