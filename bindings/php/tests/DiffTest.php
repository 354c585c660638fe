<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\Exception\ParseException;
use FortKnox\FortKnox;
use PHPUnit\Framework\TestCase;

/** FortKnox::diff(): fk_json_diff(), the per-field changes between two states. */
final class DiffTest extends TestCase
{
    public function testDiff(): void
    {
        $this->assertSame([
            ['path' => '$.expression.criteria[1].code', 'op' => 'changed', 'old' => 2, 'new' => 3,
             'text' => '~ $.expression.criteria[1].code: 2 → 3'],
            ['path' => '$.name', 'op' => 'removed', 'old' => 'a', 'text' => '- $.name: "a"'],
            ['path' => '$.tags', 'op' => 'added', 'new' => [1], 'text' => '+ $.tags: [1]'],
        ], FortKnox::diff('{"expression":{"criteria":[{"code":1},{"code":2}]},"name":"a"}',
                          '{"expression":{"criteria":[{"code":1},{"code":3}]},"tags":[1]}'));
        $this->assertSame([], FortKnox::diff('{"a":1}', '{"a":1}'));
        $this->assertSame(['+ $.id: 12345678901234567890'],
            array_column(FortKnox::diff(null, '{"id":12345678901234567890}'), 'text'));
    }

    public function testInvalidJsonThrows(): void
    {
        $this->expectException(ParseException::class);
        FortKnox::diff('{"a":', '{}');
    }
}
