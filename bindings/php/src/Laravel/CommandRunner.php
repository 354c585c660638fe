<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\Exception\FortKnoxException;
use FortKnox\FortKnox;

/**
 * What the artisan commands fortknox:export, :import, :verify, :drill and
 * :doctor do, without the console: each method returns
 * [exit status, standard output, standard error], identical to the fortknox
 * command-line tool's (examples/fortknox: result.c, output.c, table.c):
 *
 *   0  success, nothing found
 *   1  a check found a problem (verify/drill: FK_EVERIFY; doctor: an error finding)
 *   2  usage error
 *   3  runtime failure (database, I/O, a bad fixture, ...)
 *
 * Human output: a summary sentence, the counters, a table per entity type and
 * the problems (every item with verbose); errors go to standard error as
 * "fortknox COMMAND: message". With json: exactly one JSON document on
 * standard output ({"format": "fortknox-cli", ...}), whatever happened.
 */
final class CommandRunner
{
    private const EXIT_OK = 0;
    private const EXIT_PROBLEM = 1;
    private const EXIT_USAGE = 2;
    private const EXIT_FAILURE = 3;

    /** @var \Closure(): FortKnox */
    private \Closure $open;

    /**
     * @param FortKnox|callable(): FortKnox $fortknox the context, or a factory (so that a
     *        failure to connect becomes exit status 3 like any other failure)
     */
    public function __construct(FortKnox|callable $fortknox, private bool $verbose = false,
                                private bool $quiet = false, private bool $json = false)
    {
        $this->open = $fortknox instanceof FortKnox
            ? fn () => $fortknox
            : \Closure::fromCallable($fortknox);
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function export(?string $dir): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('export', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        return $this->run('export', fn (FortKnox $fk) => $fk->export($dir), null,
            fn (int $rc, array $r) => $rc === 0 ? sprintf(
                'exported %d entities to %s: %d written, %d unchanged, %d removed',
                self::c($r, 'entities'), $dir, self::c($r, 'written'), self::c($r, 'unchanged'),
                self::c($r, 'removed')) : null);
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function import(?string $dir, bool $dryRun = false, ?string $adminEmail = null): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('import', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        $opts = $adminEmail !== null && $adminEmail !== '' ? ['admin_email' => $adminEmail] : [];
        return $this->run('import', fn (FortKnox $fk) => $fk->import($dir, $dryRun, $opts), null,
            fn (int $rc, array $r) => $rc === 0 ? sprintf(
                '%s %s: %d created, %d updated, %d unchanged, %d only in the database%s',
                $dryRun ? 'dry run of importing' : 'imported', $dir, self::c($r, 'created'),
                self::c($r, 'updated'), self::c($r, 'unchanged'), self::c($r, 'db_only'),
                $dryRun ? ' (nothing was changed)' : '') : null);
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function verify(?string $dir): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('verify', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        return $this->run('verify', fn (FortKnox $fk) => $fk->verify($dir), -8,
            fn (int $rc, array $r) => match ($rc) {
                0 => sprintf('identical: %s is a faithful copy of the database (%d entities)', $dir,
                             self::c($r, 'entities')),
                -8 => sprintf('%s differs from the database: %d differ, %d only in the database, '
                              . '%d only in %s, %d files edited, %d files missing', $dir,
                              self::c($r, 'differs'), self::c($r, 'db_only'), self::c($r, 'fixture_only'),
                              $dir, self::c($r, 'file_edited'), self::c($r, 'file_missing')),
                default => null,
            });
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function drill(?string $dir): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('drill', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        return $this->run('drill', fn (FortKnox $fk) => $fk->drill($dir), -8,
            fn (int $rc, array $r) => match ($rc) {
                0 => sprintf('drill passed: %d entities from %s restored into a scratch schema '
                             . 'exactly; live data untouched', self::c($r, 'restored'), $dir),
                -8 => sprintf('drill FAILED: %d of %d entities from %s did not restore exactly',
                              self::c($r, 'differs'), self::c($r, 'entities'), $dir),
                default => null,
            });
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function doctor(?string $fixtures = null, ?string $backups = null): array
    {
        $opts = [];
        if ($fixtures !== null && $fixtures !== '') {
            $opts['fixture_dir'] = $fixtures;
        }
        if ($backups !== null && $backups !== '') {
            $opts['backup_dir'] = $backups;
        }
        return $this->run('doctor', fn (FortKnox $fk) => $fk->doctor($opts), -8,
            function (int $rc, array $r) {
                if ($rc !== 0 && $rc !== -8) {
                    return null;
                }
                $warnings = 0;
                $errors = 0;
                foreach ($r['items'] ?? [] as $it) {
                    $warnings += ($it['severity'] ?? '') === 'warning' ? 1 : 0;
                    $errors += ($it['severity'] ?? '') === 'error' ? 1 : 0;
                }
                return $errors
                    ? sprintf('doctor found %d problem%s and %d warning%s', $errors, $errors === 1 ? '' : 's',
                              $warnings, $warnings === 1 ? '' : 's')
                    : sprintf('doctor found no loss and no error (%d warning%s)', $warnings,
                              $warnings === 1 ? '' : 's');
            }, fn (array $r) => $this->doctorHuman($r));
    }

    // ------------------------------------------------------------ core

    /**
     * One library operation: open, call, and turn the outcome into output
     * and an exit status, as cli_run_op() + cli_finish() do.
     * @return array{0: int, 1: string, 2: string}
     */
    private function run(string $command, callable $op, ?int $problemStatus, callable $summary,
                         ?callable $human = null): array
    {
        $status = 0;
        $error = null;
        $report = null;
        try {
            $fk = ($this->open)();
            $report = $op($fk);
        } catch (FortKnoxException $e) {
            $status = $e->getCode();
            $error = $e->getMessage() !== '' ? $e->getMessage() : FortKnox::strerror($status);
            $report = $e->getReport();
        }
        $exit = $status === 0 ? self::EXIT_OK
            : ($problemStatus !== null && $status === $problemStatus ? self::EXIT_PROBLEM : self::EXIT_FAILURE);

        if ($this->json) {
            return [$exit, self::document($command, $exit, $status, $error, $report), ''];
        }
        $out = '';
        $err = '';
        if ($exit !== self::EXIT_FAILURE && !($this->quiet && $exit === self::EXIT_OK)) {
            $line = $report !== null ? $summary($status, $report) : null;
            if ($line !== null) {
                $out .= $line . "\n";
            }
            if ($human !== null) {
                $out .= $report !== null ? $human($report) : '';
            } elseif ($report !== null) {
                $out .= $this->report($report);
            }
        }
        if ($exit !== self::EXIT_OK) {
            $err .= "fortknox $command: " . ($error ?? FortKnox::strerror($status)) . "\n";
        }
        return [$exit, $out, $err];
    }

    /** @return array{0: int, 1: string, 2: string} */
    private function usage(string $command, string $msg): array
    {
        $err = "fortknox $command: $msg\n";
        $out = $this->json ? self::document($command, self::EXIT_USAGE, -1, $msg, null) : '';
        return [self::EXIT_USAGE, $out, $err];
    }

    /** The --json document of result.c's print_document(). */
    private static function document(string $command, int $exit, int $status, ?string $error, ?array $report): string
    {
        $name = $status === 0 ? 'FK_OK' : FortKnox::statusName($status);
        $doc = '{"format": "fortknox-cli", "format_version": 1, "command": ' . self::js($command)
            . ', "exit_status": ' . $exit . ', "status": ' . self::js($name)
            . ', "error": ' . ($status === 0 || $error === null ? 'null' : self::js($error))
            . ', "report": ' . ($report === null ? 'null' : self::reportJs($report)) . ', "data": null}';
        return $doc . "\n";
    }

    private static function js(mixed $v): string
    {
        return json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
                               | JSON_THROW_ON_ERROR);
    }

    /** The report as fk_report_json() writes it (compact, "/" escaped, UTF-8 raw). */
    private static function reportJs(array $report): string
    {
        if (($report['counters'] ?? null) === []) {
            $report['counters'] = new \stdClass(); // {} decoded to [] by json_decode()
        }
        return json_encode($report, JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR);
    }

    /** A counter of a report (0 when absent), like fk_report_counter(). */
    private static function c(array $report, string $name): int
    {
        return (int) ($report['counters'][$name] ?? 0);
    }

    // ---------------------------------------------------------- output.c

    /** out_report(): totals, a table per entity type, then the problems. */
    private function report(array $report): string
    {
        $out = '';
        $counters = $report['counters'] ?? null;
        if (!$this->quiet && is_array($counters)) {
            $parts = [];
            foreach ($counters as $name => $value) {
                $name = (string) $name;
                if (str_contains($name, '.') || $name === 'elapsed_ms') {
                    continue;
                }
                $parts[] = $name . ' ' . (int) $value;
            }
            $line = $parts ? '  ' . implode(', ', $parts) : '';
            $ms = $report['elapsed_ms'] ?? null;
            if (is_int($ms) || is_float($ms)) {
                if ($ms > 0) {
                    $line .= '  (' . self::duration((float) $ms) . ')';
                }
            }
            $out .= $line . "\n";
            $out .= $this->perTypeTable($report);
        }
        $shown = 0;
        foreach ($report['items'] ?? [] as $it) {
            $shown += $this->shown($it) ? 1 : 0;
        }
        if ($shown) {
            $out .= "\n" . $this->items($report, null, $this->verbose ? 0 : 25, '  ');
        }
        return $out;
    }

    private static function duration(float $ms): string
    {
        return $ms < 1000 ? sprintf('%.0f ms', $ms) : sprintf('%.1f s', $ms / 1000);
    }

    private function shown(array $it): bool
    {
        return $this->verbose || ($it['severity'] ?? 'info') !== 'info';
    }

    private static function label(?string $sev): string
    {
        return $sev === 'error' ? 'error' : ($sev === 'warning' ? 'warning' : 'info');
    }

    /** out_items(): one line per item (with its file, fields and hint), at most $limit. */
    private function items(array $report, ?string $code, int $limit, string $indent): string
    {
        $out = '';
        $matched = 0;
        foreach ($report['items'] ?? [] as $it) {
            if ($code !== null ? ($it['code'] ?? null) !== $code : !$this->shown($it)) {
                continue;
            }
            if ($limit && $matched >= $limit) {
                $matched++;
                continue;
            }
            $matched++;
            $type = $it['entity_type'] ?? null;
            $id = (int) ($it['entity_id'] ?? 0);
            $msg = (string) ($it['message'] ?? '');
            $entity = '';
            if ($type !== null && $id) {
                $entity = "$type $id: ";
            } elseif ($type !== null) {
                $entity = "$type: ";
            }
            if ($type !== null && str_starts_with($msg, $type)) {
                $entity = '';
            }
            $out .= sprintf("%s%-7s %-18s %s%s\n", $indent, self::label($it['severity'] ?? null),
                            $it['code'] ?? '', $entity, $msg);
            if (isset($it['path'])) {
                $out .= sprintf("%s%-7s %-18s file: %s\n", $indent, '', '', $it['path']);
            }
            if (isset($it['fields'])) {
                $fields = is_string($it['fields']) ? $it['fields'] : self::js($it['fields']);
                $out .= sprintf("%s%-7s %-18s fields: %s\n", $indent, '', '', $fields);
            }
            if (isset($it['hint'])) {
                $out .= sprintf("%s%-7s %-18s hint: %s\n", $indent, '', '', $it['hint']);
            }
        }
        if ($limit && $matched > $limit) {
            $out .= sprintf("%s... and %d more (--verbose or --json shows all)\n", $indent, $matched - $limit);
        }
        return $out;
    }

    /** per_type_table(): counters named "<type>.<counter>" as one row per type. */
    private function perTypeTable(array $report): string
    {
        $types = [];
        $cols = [];
        foreach ($report['counters'] ?? [] as $name => $v) {
            $name = (string) $name;
            $dot = strpos($name, '.');
            if ($dot === false) {
                continue;
            }
            $t = substr($name, 0, $dot);
            $c = substr($name, $dot + 1);
            if (!in_array($t, $types, true) && count($types) < 64) {
                $types[] = $t;
            }
            if (!in_array($c, $cols, true) && count($cols) < 12) {
                $cols[] = $c;
            }
        }
        if (!$types) {
            return '';
        }
        $rows = [array_merge(['type'], $cols)];
        foreach ($types as $t) {
            $row = [$t];
            foreach ($cols as $c) {
                $row[] = (string) self::c($report, "$t.$c");
            }
            $rows[] = $row;
        }
        return "\n" . self::table($rows, '  ');
    }

    /** out_item_counts(): problems per code, or items with $code per entity type. */
    private static function itemCounts(array $report, ?string $code, string $indent): string
    {
        $keys = [];
        foreach ($report['items'] ?? [] as $it) {
            if ($code !== null ? ($it['code'] ?? null) !== $code : ($it['severity'] ?? 'info') === 'info') {
                continue;
            }
            $key = $code !== null ? ($it['entity_type'] ?? null) : ($it['code'] ?? null);
            $key ??= '-';
            if (!isset($keys[$key])) {
                if (count($keys) === 64) {
                    continue;
                }
                $keys[$key] = [self::label($it['severity'] ?? null), 0];
            }
            $keys[$key][1]++;
        }
        if (!$keys) {
            return '';
        }
        $rows = [$code !== null ? ['type', 'count'] : ['severity', 'code', 'count']];
        foreach ($keys as $k => [$sev, $n]) {
            $rows[] = $code !== null ? [(string) $k, (string) $n] : [$sev, (string) $k, (string) $n];
        }
        return self::table($rows, $indent);
    }

    /** cmd_doctor.c's human(): findings per code, lost entities per type, the findings. */
    private function doctorHuman(array $report): string
    {
        $out = '';
        $items = $report['items'] ?? [];
        if (!$this->quiet) {
            $out .= self::itemCounts($report, null, '  ');
            $lost = 0;
            foreach ($items as $it) {
                $lost += ($it['code'] ?? null) === 'FK-LOSS' ? 1 : 0;
            }
            if ($lost) {
                $out .= "\nlost entities per type:\n" . self::itemCounts($report, 'FK-LOSS', '  ');
            }
        }
        if ($items) {
            $out .= "\n" . $this->items($report, null, $this->verbose ? 0 : 25, '  ');
        }
        return $out;
    }

    /**
     * table.c: columns separated by two spaces, widths in code points,
     * columns whose cells (below the header) are all numbers right-aligned,
     * the last column not padded.
     * @param list<list<string>> $rows the first row is the header
     */
    private static function table(array $rows, string $indent): string
    {
        $nc = min(count($rows[0]), 16);
        $w = array_fill(0, $nc, 0);
        $right = array_fill(0, $nc, count($rows) > 1);
        foreach ($rows as $i => $row) {
            for ($j = 0; $j < $nc; $j++) {
                $s = $row[$j] ?? '';
                $w[$j] = max($w[$j], self::width($s));
                if ($i > 0 && !self::numeric($s)) {
                    $right[$j] = false;
                }
            }
        }
        $out = '';
        foreach ($rows as $row) {
            $out .= $indent;
            for ($j = 0; $j < $nc; $j++) {
                $s = $row[$j] ?? '';
                $pad = $w[$j] - self::width($s);
                $last = $j + 1 === $nc;
                $out .= $right[$j] ? str_repeat(' ', $pad) . $s : $s . ($last ? '' : str_repeat(' ', $pad));
                if (!$last) {
                    $out .= '  ';
                }
            }
            $out .= "\n";
        }
        return $out;
    }

    private static function width(string $s): int
    {
        // code points: every byte that is not a UTF-8 continuation byte
        return strlen($s) - preg_match_all('/[\x80-\xBF]/', $s);
    }

    private static function numeric(string $s): bool
    {
        return preg_match('/^[-.0-9]*[0-9][-.0-9]*$/', $s) === 1;
    }
}
