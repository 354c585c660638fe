<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\DatabaseException;
use FortKnox\Exception\FortKnoxException;
use FortKnox\Exception\InvalidArgumentException;
use FortKnox\Exception\NotFoundException;
use FortKnox\Exception\ParseException;
use FortKnox\FortKnox;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/** Opening and closing a context, and every failure as its typed exception. */
final class ConnectionTest extends TestCase
{
    public function testConnects(): void
    {
        $fk = new FortKnox(TestDb::dsn());
        $this->assertTrue($fk->isOpen());
        $this->assertGreaterThanOrEqual(120000, $fk->serverVersion());
        $this->assertNull($fk->fixtureRoot());
        $fk->close();
        $this->assertFalse($fk->isOpen());
        $fk->close(); // idempotent
    }

    public function testTimeoutsAreSetOnItsOwnSession(): void
    {
        $check = fn (FortKnox $fk, string $name, string $want) => $fk->exec(
            "DO \$\$BEGIN IF current_setting('$name') <> '$want' THEN"
            . " RAISE EXCEPTION '$name is %', current_setting('$name'); END IF; END\$\$");
        $fk = new FortKnox(TestDb::dsn());
        $check($fk, 'lock_timeout', '10s');
        $check($fk, 'statement_timeout', '10min');
        $fk = new FortKnox(TestDb::dsn(), ['lock_timeout_ms' => 2500, 'statement_timeout_ms' => 0]);
        $check($fk, 'lock_timeout', '2500ms');
        $check($fk, 'statement_timeout', '0');
        $this->addToAssertionCount(4); // each check throws when the setting differs
    }

    public function testAClosedContextRefusesCalls(): void
    {
        $fk = new FortKnox(TestDb::dsn());
        $fk->close();
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('closed');
        $fk->serialize('cohort_definition', 1001);
    }

    public function testBadConninfo(): void
    {
        try {
            new FortKnox('this is not a conninfo');
            $this->fail('no exception');
        } catch (DatabaseException $e) {
            $this->assertSame(-3, $e->getCode());
            $this->assertSame('FK_EDB', $e->getStatusName());
            $this->assertNotSame('', $e->getMessage());
        }
    }

    public function testDatabaseDown(): void
    {
        // A server that is not there: a socket directory that does not exist.
        try {
            new FortKnox("host=/nonexistent/fortknox-socket-dir port=5432 dbname=x user=u password=s3cr3t-pw");
            $this->fail('no exception');
        } catch (DatabaseException $e) {
            $this->assertSame(-3, $e->getCode());
            $this->assertStringContainsString('/nonexistent/fortknox-socket-dir', $e->getMessage());
            $this->assertStringNotContainsString('s3cr3t-pw', $e->getMessage(), 'a password is never shown');
        }
    }

    public function testUnknownDatabase(): void
    {
        $this->expectException(DatabaseException::class);
        new FortKnox(TestDb::withDb(TestDb::dsn(), 'no_such_database_here'));
    }

    public function testRegistryErrors(): void
    {
        $dir = TestDb::tempDir('registry');
        try {
            file_put_contents("$dir/bad.json", "{\n  \"format\": \"fortknox-registry\",\n  oops\n}\n");
            try {
                new FortKnox(TestDb::dsn(), ['registry_file' => "$dir/bad.json"]);
                $this->fail('no exception');
            } catch (ParseException $e) {
                $this->assertSame(-5, $e->getCode());
                $this->assertStringContainsString('3', $e->getMessage(), 'names the line');
            }
            try {
                new FortKnox(TestDb::dsn(), ['registry_file' => "$dir/missing.json"]);
                $this->fail('no exception');
            } catch (NotFoundException $e) { // "file does not exist"
                $this->assertSame(-6, $e->getCode());
                $this->assertStringContainsString('missing.json', $e->getMessage());
            }
        } finally {
            TestDb::rmrf($dir);
        }
    }

    public function testUnknownOptionIsRefused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('unknown option "fixtures_root"');
        new FortKnox(TestDb::dsn(), ['fixtures_root' => '/tmp']);
    }

    public function testErrorsCarryMessageAndCode(): void
    {
        $fk = new FortKnox(TestDb::dsn());
        try {
            $fk->serialize('no_such_type', 1);
            $this->fail('no exception');
        } catch (NotFoundException $e) {
            $this->assertSame(-6, $e->getCode());
            $this->assertSame('FK_ENOTFOUND', $e->getStatusName());
            $this->assertStringContainsString('no_such_type', $e->getMessage());
            $this->assertNull($e->getReport());
        }
        try {
            $fk->serialize('cohort_definition', 999999);
            $this->fail('no exception');
        } catch (NotFoundException $e) {
            $this->assertStringContainsString('999999', $e->getMessage());
        }
        try {
            $fk->exec('SELECT * FROM no_such_table');
            $this->fail('no exception');
        } catch (DatabaseException $e) {
            $this->assertStringContainsString('42P01', $e->getMessage(), 'SQLSTATE in brackets');
        }
        // the context stays usable after a failure
        $this->assertStringContainsString('"id": 1001', $fk->serialize('cohort_definition', 1001));
    }

    public function testNulBytesAreRefused(): void
    {
        $fk = new FortKnox(TestDb::dsn());
        $this->expectException(InvalidArgumentException::class);
        $fk->serialize("cohort_definition\0x", 1001);
    }

    public function testEveryFailureIsAFortKnoxException(): void
    {
        $this->expectException(FortKnoxException::class);
        (new FortKnox(TestDb::dsn()))->exportEntity('/tmp', 'nope', 1);
    }

    public function testContextsCannotBeCloned(): void
    {
        $fk = new FortKnox(TestDb::dsn());
        $this->expectException(\LogicException::class);
        $copy = clone $fk;
    }
}
