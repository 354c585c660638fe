<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:audit:verify: `fortknox audit verify` (exit 1 when the chain is broken). */
class AuditVerifyCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:audit:verify
        {--anchor= : a fixture directory whose manifest anchors the chain head}
        {--json : print one JSON document instead of text}';

    protected $description = 'Recompute the audit log\'s hash chain; exit 1 when it was altered';

    public function handle(): int
    {
        $anchor = $this->option('anchor');
        return $this->finish($this->runner()->auditVerify(is_string($anchor) ? $anchor : null));
    }
}
