<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:install: `fortknox install` (audit log, guards, capture triggers). */
class InstallCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:install
        {--capture : the database writes the audit rows itself (every write, Eloquent or not)}
        {--no-capture : app mode: the observer writes the audit rows}
        {--app-role= : the role the application connects as (its grants are checked)}
        {--parthenon-table : adopt an existing design_audit_log (Parthenon) as the audit table}
        {--add-soft-delete : add the soft-delete column the registry names where it is missing}
        {--json : print one JSON document instead of text}';

    protected $description = 'Install or upgrade the audit log, the guards and (capture mode) the capture triggers';

    public function handle(): int
    {
        $capture = $this->option('capture') ? true : ($this->option('no-capture') ? false : null);
        $role = $this->option('app-role');
        return $this->finish($this->runner()->install($capture, is_string($role) ? $role : null,
            (bool) $this->option('parthenon-table'), (bool) $this->option('add-soft-delete')));
    }
}
