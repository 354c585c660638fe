<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:audit:log: `fortknox audit log` (the rows, newest first). */
class AuditLogCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:audit:log
        {--entity= : TYPE or TYPE:ID, e.g. cohort_definition:42}
        {--diff : with --entity TYPE:ID, how it changed, row by row}
        {--since= : only rows at or after this time (e.g. 2026-03-15)}
        {--limit= : at most N rows (default 100)}
        {--json : print one JSON document instead of text}';

    protected $description = 'Show the tamper-evident audit log, newest first';

    public function handle(): int
    {
        $s = fn (string $o): ?string => is_string($this->option($o)) ? $this->option($o) : null;
        return $this->finish($this->runner()->auditLog($s('entity'), $s('since'), $s('limit'),
                                                       (bool) $this->option('diff')));
    }
}
