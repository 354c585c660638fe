<?php

declare(strict_types=1);

namespace FortKnox\Tests\Support;

use Illuminate\Container\Container;

/**
 * Just enough of a Laravel application for a service provider (Debian ships
 * no illuminate/foundation or illuminate/config): a container with a
 * dot-notation config store and runningInConsole().
 */
final class TestApplication extends Container
{
    public function __construct(array $config, private bool $console = true)
    {
        $this->instance('config', new class ($config) {
            public function __construct(private array $items)
            {
            }

            public function get(string $key, mixed $default = null): mixed
            {
                return \Illuminate\Support\Arr::get($this->items, $key, $default);
            }

            public function set(string $key, mixed $value): void
            {
                \Illuminate\Support\Arr::set($this->items, $key, $value);
            }
        });
    }

    public function runningInConsole(): bool
    {
        return $this->console;
    }
}
