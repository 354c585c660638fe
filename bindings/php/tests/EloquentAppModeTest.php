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
use Illuminate\Database\QueryException;
use PHPUnit\Framework\TestCase;

/**
 * The generic observer on real Eloquent models, app mode: every change made
 * through Eloquent gives the right audit row (action, old/new, changed_fields,
 * actor, IP) and fixture file. The Eloquent connection and the library's are
 * two sessions.
 */
final class EloquentAppModeTest extends TestCase
{
    private static string $dsn;
    private static string $dir;
    private static FortKnox $fk;
    private static Manager $db;
    private static FortKnoxObserver $observer;
    /** @var array{id: int, email: string}|null */
    private static ?array $user = ['id' => 2, 'email' => 'dana.whitfield@example.org'];

    public static function setUpBeforeClass(): void
    {
        self::$dsn = TestDb::fresh('eloquent_app');
        self::$dir = TestDb::tempDir('eloquent-fixtures');
        $admin = new FortKnox(self::$dsn);
        $admin->export(self::$dir);
        $report = $admin->install(['mode' => 'app']);
        self::assertSame('install', $report['operation']);
        $admin->close();

        self::$fk = new FortKnox(self::$dsn, ['fixture_root' => self::$dir]);
        self::$db = Eloquent::boot(self::$dsn);
        // The actor as Laravel's auth would give it: an object with getAuthIdentifier() and email.
        $user = fn () => self::$user === null ? null : new class (self::$user) {
            public string $email;
            public function __construct(private array $u)
            {
                $this->email = $u['email'];
            }
            public function getAuthIdentifier(): int
            {
                return $this->u['id'];
            }
        };
        self::$observer = new FortKnoxObserver(self::$fk, $user, fn () => '192.0.2.10',
                                               self::$db->getContainer()['events']);
        Eloquent::observe(self::$db, self::$observer, CohortDefinition::class, ConceptSet::class,
                          ConceptSetItem::class);
    }

    public static function tearDownAfterClass(): void
    {
        self::$fk->close();
        TestDb::rmrf(self::$dir);
    }

    protected function setUp(): void
    {
        self::$user = ['id' => 2, 'email' => 'dana.whitfield@example.org'];
    }

    /** @return list<array<string, mixed>> newest first */
    private static function history(string $type, int $id): array
    {
        return self::$fk->history($type, $id);
    }

    private static function fixture(string $type, int $id, string $name): string
    {
        return self::$dir . '/' . self::$fk->fixturePath($type, $name, $id);
    }

    public function testObserverKnowsTheModeAndTypes(): void
    {
        $this->assertSame('app', self::$observer->mode());
        $this->assertSame('cohort_definition', self::$observer->entityType(new CohortDefinition()));
        $this->assertSame('concept_set', self::$observer->entityType(new ConceptSet()));
    }

    public function testCohortLifecycle(): void
    {
        // created
        $c = CohortDefinition::create(['name' => 'Eloquent cohort α', 'author_id' => 2,
            'description' => 'first', 'expression_json' => ['ConceptSets' => [], 'limit' => 0.5]]);
        $id = (int) $c->id;
        $h = self::history('cohort_definition', $id);
        $this->assertCount(1, $h);
        $row = $h[0];
        $this->assertSame(['created', 2, 'dana.whitfield@example.org', '192.0.2.10', 'app', 'Eloquent cohort α'],
            [$row['action'], $row['actor_id'], $row['actor_email'], $row['ip_address'], $row['context'],
             $row['entity_name']]);
        $this->assertNull($row['old_json']);
        $this->assertSame('Eloquent cohort α', $row['new_json']['name']);
        $this->assertSame(0.5, $row['new_json']['expression_json']['limit']);
        $file = self::fixture('cohort_definition', $id, 'Eloquent cohort α');
        $this->assertFileExists($file);
        $this->assertSame(self::$fk->serialize('cohort_definition', $id), file_get_contents($file));

        // updated: old state captured at "updating", changed_fields by the library
        self::$user = ['id' => 117, 'email' => 'elena.marsh@example.org'];
        $c->description = 'second';
        $c->save();
        $h = self::history('cohort_definition', $id);
        $this->assertCount(2, $h);
        $this->assertSame('updated', $h[0]['action']);
        $this->assertSame(117, $h[0]['actor_id']);
        $this->assertSame('first', $h[0]['old_json']['description']);
        $this->assertSame('second', $h[0]['new_json']['description']);
        $this->assertContains('description', $h[0]['changed_fields']);
        $this->assertNotContains('name', $h[0]['changed_fields']);
        $this->assertSame(0, self::$fk->auditPending(), 'the before-state was used');
        $this->assertStringContainsString('"description": "second"', (string) file_get_contents($file));

        // soft delete
        $c->delete();
        $h = self::history('cohort_definition', $id);
        $this->assertSame('deleted', $h[0]['action']);
        $this->assertNull($h[0]['old_json']['deleted_at']);
        $this->assertNotNull($h[0]['new_json']['deleted_at']);
        $this->assertContains('deleted_at', $h[0]['changed_fields']);
        $this->assertMatchesRegularExpression('~"deleted_at": "\d{4}-~', (string) file_get_contents($file),
            'the fixture keeps the soft-deleted entity');

        // restore: one "restored" row (restore() saves, but no extra "updated")
        $c->restore();
        $h = self::history('cohort_definition', $id);
        $this->assertCount(4, $h);
        $this->assertSame('restored', $h[0]['action']);
        $this->assertNotNull($h[0]['old_json']['deleted_at']);
        $this->assertNull($h[0]['new_json']['deleted_at']);
        $this->assertSame(['deleted_at'], array_values(array_diff($h[0]['changed_fields'], ['updated_at'])));

        // a hard delete is blocked by the guard (layer 1): nothing is audited
        try {
            $c->forceDelete();
            $this->fail('the guard did not block the hard delete');
        } catch (QueryException $e) {
            $this->assertStringContainsString('FK001', $e->getMessage());
            $this->assertStringContainsString('blocked by fortknox', $e->getMessage());
        }
        $this->assertCount(4, self::history('cohort_definition', $id));
        $this->assertNotNull(CohortDefinition::find($id));

        // ... unless overridden for the transaction; written after the commit
        $conn = self::$db->getConnection();
        $conn->transaction(function () use ($conn, $c, $id) {
            $conn->statement("SELECT fortknox.allow('hard_delete')");
            $c->forceDelete();
            $this->assertCount(4, self::history('cohort_definition', $id), 'waits for the commit');
        });
        $h = self::history('cohort_definition', $id);
        $this->assertCount(5, $h);
        $this->assertSame('force_deleted', $h[0]['action']);
        $this->assertSame('second', $h[0]['old_json']['description']);
        $this->assertNull($h[0]['new_json']);
        $this->assertSame(117, $h[0]['actor_id']);
        $this->assertFileDoesNotExist($file);
        $this->assertNull(CohortDefinition::withTrashed()->find($id));
        $this->assertSame(['force_deleted', 'restored', 'deleted', 'updated', 'created'], array_column($h, 'action'));

        // the audit log remembers it: restore from the row before the force delete
        $state = self::$fk->asOf('cohort_definition', $id, null, (int) $h[1]['id']);
        $this->assertSame('second', $state['description']);
        $report = self::$fk->restore('cohort_definition', $id, null, (int) $h[1]['id']);
        $this->assertSame('restore', $report['operation']);
        $back = CohortDefinition::find($id);
        $this->assertNotNull($back);
        $this->assertSame('second', $back->description);
        $this->assertSame(0.5, $back->expression_json['limit']);
        $this->assertSame('restored', self::history('cohort_definition', $id)[0]['action']);
        $this->assertFileExists($file);
    }

    public function testConceptSetWithItems(): void
    {
        $cs = ConceptSet::create(['name' => 'Eloquent set', 'author_id' => 2, 'description' => 'empty']);
        $id = (int) $cs->id;
        $h = self::history('concept_set', $id);
        $this->assertSame('created', $h[0]['action']);
        $this->assertSame([], $h[0]['new_json']['items']);

        // The observer is on ConceptSetItem too: each item written through its
        // model is an "updated" row of the set, with the items before and after.
        $cs->items()->createMany([
            ['concept_id' => 1545958, 'include_descendants' => true],
            ['concept_id' => 1539403, 'is_excluded' => true],
        ]);
        $h = self::history('concept_set', $id);
        $this->assertCount(3, $h);
        $this->assertSame(['updated', 'updated', 'created'], array_column($h, 'action'));
        $this->assertSame(['items'], $h[1]['changed_fields']);
        $this->assertSame([], $h[1]['old_json']['items']);
        $this->assertCount(1, $h[1]['new_json']['items']);
        $this->assertSame([1545958, 1539403], array_column($h[0]['new_json']['items'], 'concept_id'));
        $this->assertSame('Eloquent set', $h[0]['entity_name']);
        $doc = json_decode((string) file_get_contents(self::fixture('concept_set', $id, 'Eloquent set')), true);
        $this->assertCount(2, $doc['items']);
        $this->assertTrue($doc['items'][1]['is_excluded']);

        // the set itself saved
        $cs->description = 'two items';
        $cs->save();
        $h = self::history('concept_set', $id);
        $this->assertSame(['description'], array_values(array_diff($h[0]['changed_fields'], ['updated_at'])));

        // an item changed and one removed through their models
        $item = $cs->items()->where('concept_id', 1545958)->first();
        $item->include_mapped = true;
        $item->save();
        $cs->items()->where('concept_id', 1539403)->first()->delete();
        $h = self::history('concept_set', $id);
        $this->assertSame(['items'], $h[1]['changed_fields']);
        $this->assertTrue($h[1]['new_json']['items'][0]['include_mapped']);
        $this->assertCount(2, $h[0]['old_json']['items']);
        $this->assertCount(1, $h[0]['new_json']['items']);
        $this->assertCount(1, json_decode((string) file_get_contents(self::fixture('concept_set', $id, 'Eloquent set')), true)['items']);
    }

    public function testRolledBackTransactionWritesNothing(): void
    {
        $before = count(self::history('cohort_definition', 1003));
        $conn = self::$db->getConnection();
        try {
            $conn->transaction(function () {
                $c = CohortDefinition::find(1003);
                $c->name = 'never committed';
                $c->save();
                throw new \RuntimeException('rollback');
            });
        } catch (\RuntimeException $e) {
            $this->assertSame('rollback', $e->getMessage());
        }
        $this->assertCount($before, self::history('cohort_definition', 1003));
        $this->assertNotSame('never committed', CohortDefinition::find(1003)->name);
        $this->assertSame(0, self::$fk->auditPending());
    }

    public function testTwoUpdatesInOneTransaction(): void
    {
        $orig = CohortDefinition::find(1004)->description;
        self::$db->getConnection()->transaction(function () {
            $c = CohortDefinition::find(1004);
            $c->description = 'step one';
            $c->save();
            $c->description = 'step two';
            $c->save();
        });
        $h = self::history('cohort_definition', 1004);
        $this->assertSame(['updated', 'updated'], array_column(array_slice($h, 0, 2), 'action'));
        $this->assertSame([$orig, 'step one'], [$h[1]['old_json']['description'], $h[1]['new_json']['description']]);
        $this->assertSame(['step one', 'step two'], [$h[0]['old_json']['description'], $h[0]['new_json']['description']]);
        $this->assertStringContainsString('"description": "step two"', (string) file_get_contents(
            self::fixture('cohort_definition', 1004, (string) CohortDefinition::find(1004)->name)));
    }

    public function testWithoutAnActorTheRowHasNone(): void
    {
        self::$user = null;
        $c = CohortDefinition::find(1001);
        $c->description = 'system change';
        $c->save();
        $row = self::history('cohort_definition', 1001)[0];
        $this->assertNull($row['actor_id']);
        $this->assertNull($row['actor_email']);
    }

    public function testAuditWriteByHand(): void
    {
        $id = self::$fk->auditWrite(['entity_type' => 'cohort_definition', 'entity_id' => 1002,
            'action' => 'updated', 'actor_id' => 1, 'old' => ['name' => 'a'], 'new' => '{"name": "b"}']);
        $this->assertGreaterThan(0, $id);
        $row = self::history('cohort_definition', 1002)[0];
        $this->assertSame($id, $row['id']);
        $this->assertSame(['name'], $row['changed_fields']);

        self::$fk->auditBefore('cohort_definition', 1002, ['name' => 'c']);
        $this->assertSame(1, self::$fk->auditPending());
        self::$fk->auditWrite('{"entity_type": "cohort_definition", "entity_id": 1002, "action": "updated", "new": {"name": "d"}}');
        $row = self::history('cohort_definition', 1002)[0];
        $this->assertSame(['c', 'd'], [$row['old_json']['name'], $row['new_json']['name']]);
        $this->assertSame(0, self::$fk->auditPending());

        self::$fk->auditBefore('cohort_definition', 1002, '{"name": "e"}');
        self::$fk->auditForget();
        $this->assertSame(0, self::$fk->auditPending());

        $this->expectException(\FortKnox\Exception\ParseException::class);
        self::$fk->auditWrite(['entity_type' => 'cohort_definition', 'entity_id' => 1002, 'action' => 'updated',
                               'typo_field' => 1]);
    }

    public function testHistoryFilters(): void
    {
        $all = self::$fk->history();
        $this->assertNotEmpty($all);
        $this->assertSame(array_column($all, 'id'), array_reverse(array_column(array_reverse($all), 'id')));
        $this->assertCount(1, self::$fk->history(null, 0, 1));
        $this->assertSame([], self::$fk->history(null, 0, 10, '2999-01-01'));
        $this->assertSame(['concept_set'], array_values(array_unique(array_column(self::$fk->history('concept_set'), 'entity_type'))));
    }

    /** @depends testCohortLifecycle */
    public function testChainFixturesAndDoctorAfterwards(): void
    {
        $v = self::$fk->auditVerify(self::$dir);
        $this->assertTrue($v['ok']);
        $this->assertGreaterThan(5, $v['counters']['rows']);
        // the refreshed fixtures are a faithful copy of the database
        $this->assertTrue(self::$fk->verify(self::$dir)['ok']);
        $this->assertTrue(self::$fk->drill(self::$dir)['ok']);
        // doctor finds nothing wrong (a finding throws, with the report)
        $doctor = self::$fk->doctor(['fixture_dir' => self::$dir]);
        $this->assertSame(0, $doctor['errors'] ?? 0);
    }

    public function testCaptureOnlyCallsAreRefusedInAppMode(): void
    {
        // (and the reverse is tested in capture mode) — setActor works in both
        self::$fk->setActor(5, 'x@example.org', '192.0.2.1');
        self::$fk->setActor(null);
        $this->expectNotToPerformAssertions();
    }
}
