<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

/** php artisan fortknox:restore TYPE:ID --as-of TIME | --audit-id N: `fortknox restore`. */
class RestoreCommand extends FortKnoxCommand
{
    protected $signature = 'fortknox:restore
        {entity : TYPE:ID, e.g. cohort_definition:42}
        {--as-of= : the time whose state to restore (e.g. 2026-03-15T02:00:00Z)}
        {--audit-id= : the audit row whose state to restore}
        {--force : in production, run without asking}
        {--json : print one JSON document instead of text}';

    protected $description = 'Put one entity back into the state the audit log recorded (audited as "restored")';

    public function handle(): int
    {
        $asOf = $this->option('as-of');
        $row = $this->option('audit-id');
        $runner = $this->runner();
        // a usage error is reported before the question
        $usage = $runner->restore((string) $this->argument('entity'), is_string($asOf) ? $asOf : null,
                                  is_string($row) ? $row : null, true);
        if ($usage !== null) {
            return $this->finish($usage);
        }
        if (!$this->confirmed()) {
            return self::EXIT_CANCELLED;
        }
        return $this->finish($runner->restore((string) $this->argument('entity'), is_string($asOf) ? $asOf : null,
                                              is_string($row) ? $row : null));
    }
}
