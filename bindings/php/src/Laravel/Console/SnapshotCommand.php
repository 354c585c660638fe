<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

use FortKnox\Laravel\CommandRunner;

/**
 * php artisan fortknox:snapshot [DIR] [--git]: `fortknox snapshot` — what a
 * deploy script runs before `php artisan migrate`.
 */
class SnapshotCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:snapshot
        {dir? : fixture directory (default: config fortknox.fixture_root)}
        {--git : then commit ONLY the paths under DIR}
        {--message= : commit message (default "' . CommandRunner::DEFAULT_COMMIT_MESSAGE . '")}
        {--accept-loss=* : TYPE:ID (or "all") whose loss is acknowledged (recorded in the audit log)}
        {--json : print one JSON document instead of text}';

    protected $description = 'Export, then commit only the fixture paths (exit 1 on a loss: nothing committed)';

    public function handle(): int
    {
        $message = $this->option('message');
        return $this->finish($this->runner()->snapshot($this->dir(), (bool) $this->option('git'),
            is_string($message) ? $message : null, array_values((array) $this->option('accept-loss'))));
    }
}
