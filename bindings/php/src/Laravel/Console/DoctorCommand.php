<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:doctor: `fortknox doctor` (exit 1 when a finding is an error). */
class DoctorCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:doctor
        {--fixtures= : the fixture directory (default: config fortknox.fixture_root)}
        {--backups= : a directory of backup files to check}
        {--json : print one JSON document instead of text}';

    protected $description = 'Look for silent loss and what makes loss possible; exit 1 on an error finding';

    public function handle(): int
    {
        $fixtures = $this->option('fixtures');
        if (!is_string($fixtures) || $fixtures === '') {
            $fixtures = $this->laravel['config']->get('fortknox.fixture_root');
            if (!is_string($fixtures) || !is_dir($fixtures)) {
                $fixtures = null; // not exported yet
            }
        }
        $backups = $this->option('backups');
        return $this->finish($this->runner()->doctor(is_string($fixtures) ? $fixtures : null,
                                                     is_string($backups) ? $backups : null));
    }
}
