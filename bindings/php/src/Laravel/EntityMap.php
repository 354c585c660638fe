<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\Exception\NotFoundException;
use FortKnox\FortKnox;

/**
 * Table name => entity type, built from the registry the library uses
 * (fk_registry_describe(): "schema", "table", "type", key columns, children,
 * secret columns), and the SQL that reads an entity's document — the row as
 * to_jsonb() gives it, secret columns removed, children appended under their
 * key and ordered by primary key: the same document the capture triggers
 * record, so both audit modes store the same shape.
 */
final class EntityMap
{
    /** @var array<string, array<string, mixed>> "schema.table" => entity */
    private array $byQualified = [];
    /** @var array<string, list<string>> "table" => ["schema.table", ...] */
    private array $byTable = [];
    /** @var array<string, list<array{entity: array<string, mixed>, foreign_key: string}>> child table => parents */
    private array $children = [];
    /** @var array<string, string> entity type => document SQL */
    private array $sql = [];

    /** @param array<string, mixed> $registry fk_registry_describe() decoded */
    public function __construct(array $registry)
    {
        foreach ($registry['entities'] ?? [] as $e) {
            $q = $e['schema'] . '.' . $e['table'];
            $this->byQualified[$q] = $e;
            $this->byTable[$e['table']][] = $q;
            foreach ($e['children'] ?? [] as $ch) {
                $this->children[$ch['schema'] . '.' . $ch['table']][] = ['entity' => $e,
                                                                       'foreign_key' => $ch['foreign_key']];
            }
        }
    }

    public static function fromFortKnox(FortKnox $fk): self
    {
        return new self($fk->registry());
    }

    /**
     * The entity a table holds. $table as Eloquent names it: "app.cohort_definitions",
     * or "cohort_definitions" (then the table name must be unique in the registry).
     * @return array<string, mixed>
     * @throws NotFoundException the table is not in the registry
     */
    public function forTable(string $table): array
    {
        $table = str_replace('"', '', $table);
        if (isset($this->byQualified[$table])) {
            return $this->byQualified[$table];
        }
        $bare = str_contains($table, '.') ? substr($table, strrpos($table, '.') + 1) : $table;
        $candidates = str_contains($table, '.') ? [] : ($this->byTable[$bare] ?? []);
        if (count($candidates) === 1) {
            return $this->byQualified[$candidates[0]];
        }
        $why = count($candidates) > 1
            ? 'it is ambiguous (' . implode(', ', $candidates) . '): name the schema in the model\'s $table'
            : 'the registry has: ' . implode(', ', array_keys($this->byQualified));
        throw new NotFoundException("table \"$table\" is not a registered entity table; $why", -6,
                                    'FK_ENOTFOUND');
    }

    /**
     * The entities whose children a table holds (e.g. app.concept_set_items:
     * concept_set by concept_set_id); empty for other tables.
     * @return list<array{entity: array<string, mixed>, foreign_key: string}>
     */
    public function parentsOf(string $table): array
    {
        $table = str_replace('"', '', $table);
        if (isset($this->children[$table])) {
            return $this->children[$table];
        }
        if (!str_contains($table, '.')) {
            $found = [];
            foreach ($this->children as $q => $parents) {
                if (substr($q, strrpos($q, '.') + 1) === $table) {
                    $found[] = $parents;
                }
            }
            if (count($found) === 1) {
                return $found[0];
            }
        }
        return [];
    }

    /** Whether the table holds a registered entity. */
    public function has(string $table): bool
    {
        try {
            $this->forTable($table);
            return true;
        } catch (NotFoundException) {
            return false;
        }
    }

    /** @return list<string> every registered entity table, "schema.table" */
    public function tables(): array
    {
        return array_keys($this->byQualified);
    }

    /**
     * One SQL statement with one placeholder (the id) returning one row whose
     * "doc" column is the entity document as JSON text, or no row.
     * @param array<string, mixed> $e an entity from forTable()
     */
    public function documentSql(array $e): string
    {
        return $this->sql[$e['type']] ??= self::buildSql($e);
    }

    /** @param array<string, mixed> $e */
    private static function buildSql(array $e): string
    {
        $secret = [];
        foreach ($e['columns'] ?? [] as $c) {
            if (!empty($c['secret'])) {
                $secret[] = self::lit($c['name']);
            }
        }
        $doc = 'to_jsonb(t)';
        if ($secret) {
            $doc = "($doc - ARRAY[" . implode(', ', $secret) . ']::text[])';
        }
        foreach ($e['children'] ?? [] as $ch) {
            $agg = sprintf('(SELECT jsonb_agg(to_jsonb(c) ORDER BY c.%s) FROM %s.%s c WHERE c.%s = t.%s)',
                self::id($ch['primary_key']), self::id($ch['schema']), self::id($ch['table']),
                self::id($ch['foreign_key']), self::id($e['primary_key']));
            $doc = !empty($ch['omit_when_empty'])
                ? "$doc || CASE WHEN $agg IS NULL THEN '{}'::jsonb ELSE jsonb_build_object("
                  . self::lit($ch['key']) . ", $agg) END"
                : "$doc || jsonb_build_object(" . self::lit($ch['key']) . ", coalesce($agg, '[]'::jsonb))";
        }
        return sprintf('SELECT (%s)::text AS doc FROM %s.%s t WHERE t.%s = ?', $doc, self::id($e['schema']),
                       self::id($e['table']), self::id($e['primary_key']));
    }

    private static function id(string $name): string
    {
        return '"' . str_replace('"', '""', $name) . '"';
    }

    private static function lit(string $s): string
    {
        return "'" . str_replace("'", "''", $s) . "'";
    }
}
