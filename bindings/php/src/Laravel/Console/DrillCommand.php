<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:drill [DIR]: `fortknox drill DIR` (exit 1 when it would not restore exactly). */
class DrillCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:drill
        {dir? : fixture directory (default: config fortknox.fixture_root)}
        {--json : print one JSON document instead of text}';

    protected $description = 'Prove DIR restores exactly, in a scratch schema; live data untouched';

    public function handle(): int
    {
        return $this->finish($this->runner()->drill($this->dir()));
    }
}
