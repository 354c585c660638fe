<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:verify [DIR]: `fortknox verify DIR` (exit 1 when anything differs). */
class VerifyCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:verify
        {dir? : fixture directory (default: config fortknox.fixture_root)}
        {--json : print one JSON document instead of text}';

    protected $description = 'Compare the database with DIR entity by entity; exit 1 when anything differs';

    public function handle(): int
    {
        return $this->finish($this->runner()->verify($this->dir()));
    }
}
