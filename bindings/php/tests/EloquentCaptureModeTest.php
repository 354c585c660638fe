<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\ConflictException;
use FortKnox\FortKnox;
use FortKnox\Laravel\FortKnoxObserver;
use FortKnox\Tests\Models\CohortDefinition;
use FortKnox\Tests\Models\ConceptSet;
use FortKnox\Tests\Models\ConceptSetItem;
use FortKnox\Tests\Support\Eloquent;
use FortKnox\Tests\Support\TestDb;
use Illuminate\Database\Capsule\Manager;
use PHPUnit\Framework\TestCase;

/**
 * Capture mode: the database's triggers write the audit rows (mass updates
 * included); the observer writes nothing and only passes the actor with
 * set_config('fortknox.actor_*') on the model's connection.
 */
final class EloquentCaptureModeTest extends TestCase
{
    private static string $dsn;
    private static FortKnox $fk;
    private static Manager $db;
    private static FortKnoxObserver $observer;
    private static ?array $user = null;

    public static function setUpBeforeClass(): void
    {
        self::$dsn = TestDb::fresh('eloquent_capture');
        self::$fk = new FortKnox(self::$dsn);
        $r = self::$fk->install(['mode' => 'capture']);
        self::assertGreaterThan(0, $r['counters']['capture_tables']);
        self::$db = Eloquent::boot(self::$dsn);
        self::$observer = new FortKnoxObserver(fn () => self::$fk, fn () => self::$user, fn () => '198.51.100.4',
                                               self::$db->getContainer()['events']);
        Eloquent::observe(self::$db, self::$observer, CohortDefinition::class, ConceptSet::class,
                          ConceptSetItem::class);
    }

    public static function tearDownAfterClass(): void
    {
        self::$fk->close();
    }

    private static function rows(): int
    {
        return (int) TestDb::one(self::$dsn, 'SELECT count(*) FROM fortknox.audit_log');
    }

    public function testModeIsCapture(): void
    {
        $this->assertSame('capture', self::$observer->mode());
        $this->assertSame('capture', self::$fk->installStatus()['mode']);
    }

    public function testASaveIsCapturedWithTheObserversActor(): void
    {
        self::$user = ['id' => 154, 'email' => 'meilin.chen@example.org'];
        $before = self::rows();
        $c = CohortDefinition::find(1001);
        $c->description = 'captured save';
        $c->save();
        $this->assertSame($before + 1, self::rows(), 'one row, by the trigger; none by the observer');
        $row = self::$fk->history('cohort_definition', 1001)[0];
        $this->assertSame(['updated', 'capture', 154, 'meilin.chen@example.org', '198.51.100.4'],
            [$row['action'], $row['context'], $row['actor_id'], $row['actor_email'], $row['ip_address']]);
        $this->assertSame('captured save', $row['new_json']['description']);
        $this->assertContains('description', $row['changed_fields']);

        $created = CohortDefinition::create(['name' => 'captured create', 'author_id' => 2]);
        $row = self::$fk->history('cohort_definition', (int) $created->id)[0];
        $this->assertSame(['created', 154], [$row['action'], $row['actor_id']]);
    }

    public function testAMassUpdateInATransactionIsAuditedWithTheActor(): void
    {
        self::$user = ['id' => 126, 'email' => 'priya.raman@example.org'];
        $before = self::rows();
        $n = self::$db->getConnection()->transaction(function () {
            return CohortDefinition::query()->whereIn('id', [1002, 1003])->update(['description' => 'mass update']);
        });
        $this->assertSame(2, $n);
        $this->assertSame($before + 2, self::rows());
        foreach ([1002, 1003] as $id) {
            $row = self::$fk->history('cohort_definition', $id)[0];
            $this->assertSame(['updated', 'capture', 126, 'priya.raman@example.org', '198.51.100.4', ['description']],
                [$row['action'], $row['context'], $row['actor_id'], $row['actor_email'], $row['ip_address'],
                 array_values(array_diff($row['changed_fields'], ['updated_at']))]);
        }
    }

    public function testBindActorBeforeAMassUpdateOutsideATransaction(): void
    {
        self::$user = ['id' => 117, 'email' => 'elena.marsh@example.org'];
        self::$observer->bindActor(self::$db->getConnection());
        CohortDefinition::query()->where('id', 1004)->update(['description' => 'mass, no transaction']);
        $row = self::$fk->history('cohort_definition', 1004)[0];
        $this->assertSame([117, 'elena.marsh@example.org'], [$row['actor_id'], $row['actor_email']]);
    }

    public function testWithoutAUserTheActorIsCleared(): void
    {
        self::$user = null;
        self::$db->getConnection()->transaction(function () {
            CohortDefinition::query()->where('id', 1002)->update(['description' => 'nobody']);
        });
        $row = self::$fk->history('cohort_definition', 1002)[0];
        $this->assertSame('nobody', $row['new_json']['description']);
        $this->assertNull($row['actor_id']);
        $this->assertNull($row['actor_email']);
    }

    public function testChildRowsAndSoftDeletesAreCaptured(): void
    {
        self::$user = ['id' => 2, 'email' => 'dana.whitfield@example.org'];
        $cs = ConceptSet::create(['name' => 'captured set', 'author_id' => 2]);
        $cs->items()->create(['concept_id' => 1545958]);
        $h = self::$fk->history('concept_set', (int) $cs->id);
        $this->assertSame(['updated', 'created'], array_column($h, 'action'));
        $this->assertSame(['items'], $h[0]['changed_fields']);
        $this->assertSame(2, $h[0]['actor_id']);

        $cs->delete();
        $cs->restore();
        $h = self::$fk->history('concept_set', (int) $cs->id);
        $this->assertSame(['restored', 'deleted'], array_column(array_slice($h, 0, 2), 'action'));
        $this->assertCount(4, $h);
    }

    public function testTheAppCannotWriteAuditRowsInCaptureMode(): void
    {
        try {
            self::$fk->auditWrite(['entity_type' => 'cohort_definition', 'entity_id' => 1001, 'action' => 'updated']);
            $this->fail('no exception');
        } catch (ConflictException $e) {
            $this->assertSame(-7, $e->getCode());
            $this->assertStringContainsString('capture mode', $e->getMessage());
        }
        $v = self::$fk->auditVerify();
        $this->assertTrue($v['ok']);
    }

    public function testCapturedRowsAreSealedByAuditSeal(): void
    {
        $c = CohortDefinition::find(1001);
        $c->description = 'sealed later';
        $c->save();
        $unsealed = "SELECT count(*) FROM fortknox.audit_log WHERE row_hash = ''";
        $this->assertGreaterThan(0, (int) TestDb::one(self::$dsn, $unsealed));
        $this->assertGreaterThan(0, self::$fk->auditSeal());
        $this->assertSame(0, (int) TestDb::one(self::$dsn, $unsealed));
        $this->assertSame(0, self::$fk->auditSeal());
    }

    public function testRestoreAllDryRunShowsTheChangeAndChangesNothing(): void
    {
        $cs = ConceptSet::create(['name' => 'before restoreAll', 'author_id' => 2]);
        $t = (string) TestDb::one(self::$dsn, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',"
                                               . " 'YYYY-MM-DD HH24:MI:SS.US')");
        // until a row written now is stored as later than $t, at any precision
        while (!TestDb::one(self::$dsn, "SELECT date_trunc('second', clock_timestamp() AT TIME ZONE"
                                         . " 'UTC') > ?::timestamp", [$t])) {
        }
        $cs->name = 'after restoreAll';
        $cs->save();
        $rows = self::rows();
        $r = self::$fk->restoreAll($t, 'concept_set', true);
        $mine = array_values(array_filter($r['items'], fn ($i) => $i['entity_id'] === (int) $cs->id));
        $this->assertSame('restored', $mine[0]['code']);
        $this->assertContains('~ $.name: "after restoreAll" → "before restoreAll"',
                              array_column($mine[0]['fields'], 'text'));
        $this->assertSame('after restoreAll', ConceptSet::find($cs->id)->name);
        $this->assertSame($rows, self::rows());
    }
}
