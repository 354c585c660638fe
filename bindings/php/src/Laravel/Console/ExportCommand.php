<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:export [DIR]: `fortknox export DIR`. */
class ExportCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:export
        {dir? : fixture directory (default: config fortknox.fixture_root)}
        {--accept-loss=* : TYPE:ID (or "all") whose loss is acknowledged (recorded in the audit log)}
        {--json : print one JSON document instead of text}';

    protected $description = 'Write every entity to its own JSON file under DIR (crash-safe; unchanged files untouched)';

    public function handle(): int
    {
        return $this->finish($this->runner()->export($this->dir(), array_values((array) $this->option('accept-loss'))));
    }
}
