<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:import [DIR] [--dry-run]: `fortknox import DIR`. */
class ImportCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:import
        {dir? : fixture directory (default: config fortknox.fixture_root)}
        {--dry-run : do all the work, report it, roll back}
        {--admin-email= : author for entities whose author no longer exists}
        {--force : in production, run without asking}
        {--json : print one JSON document instead of text}';

    protected $description = 'Restore every entity in DIR into the database, all or nothing';

    public function handle(): int
    {
        if (!$this->option('dry-run') && !$this->confirmed()) {
            return self::EXIT_CANCELLED;
        }
        $email = $this->option('admin-email');
        return $this->finish($this->runner()->import($this->dir(), (bool) $this->option('dry-run'),
                                                     is_string($email) ? $email : null));
    }
}
