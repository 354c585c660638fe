<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\Exception\FortKnoxException;
use FortKnox\FortKnox;

/**
 * What the artisan commands fortknox:install, :export, :import, :verify,
 * :drill, :doctor, :audit:verify, :audit:log, :restore and :snapshot do, without the console: each method returns
 * [exit status, standard output, standard error], identical to the fortknox
 * command-line tool's, because both print through the library's
 * fk_report_format() (FortKnox::formatReport()):
 *
 *   0  success, nothing found
 *   1  a check found a problem (verify/drill: FK_EVERIFY; doctor: an error finding;
 *      export/snapshot: a loss; audit verify: a broken chain)
 *   2  usage error (also an argument the library refuses: FK_EINVAL)
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
    private const FK_EINVAL = -1;
    private const FK_EVERIFY = -8;
    private const FK_ETAMPER = -9;
    private const FK_ELOSS = -13;

    /** The tool's default commit message (cli/doc/fortknox.md, DEFAULT_COMMIT_MESSAGE). */
    public const DEFAULT_COMMIT_MESSAGE = 'chore: fortknox snapshot [skip ci]';

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

    /**
     * fortknox export DIR [--accept-loss TYPE:ID]... (exit 1 on a loss: entities
     * gone without a recorded deletion keep their files).
     * @param list<string> $acceptLoss
     * @return array{0: int, 1: string, 2: string}
     */
    public function export(?string $dir, array $acceptLoss = []): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('export', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        return $this->run('export', fn (FortKnox $fk) => $fk->export($dir, ['accept_loss' => $acceptLoss]),
                          self::FK_ELOSS, $dir);
    }

    /**
     * fortknox snapshot DIR [--git] [--message MSG] [--accept-loss TYPE:ID]...:
     * export, then (git) commit only the paths under DIR — never anything
     * else staged; nothing when nothing changed, nor after a loss or a
     * tampered audit log (exit 1). Outside a work tree, or when git cannot
     * name the committer, it fails before exporting.
     * @param list<string> $acceptLoss
     * @return array{0: int, 1: string, 2: string}
     */
    public function snapshot(?string $dir, bool $git, ?string $message, array $acceptLoss = []): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('snapshot', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        $message ??= self::DEFAULT_COMMIT_MESSAGE;
        if ($message === '') {
            return $this->usage('snapshot', '--message must not be empty');
        }
        $after = null;
        $op = function (FortKnox $fk) use ($dir, $git, $message, $acceptLoss, &$after): void {
            $repo = null;
            if ($git) {
                $repo = Git::workTree($dir);
                $repo->checkIdentity();
            }
            try {
                $fk->export($dir, ['accept_loss' => $acceptLoss]);
            } catch (FortKnoxException $e) {
                if ($git && in_array($e->getCode(), [self::FK_ELOSS, self::FK_ETAMPER], true)) {
                    // committing now would put the loss into git as if it were a change
                    $loss = $e->getCode() === self::FK_ELOSS;
                    $after = ['summary' => $fk->reportSummary($e->getCode(), $dir) . '; NOT committed: '
                        . ($loss ? 'the loss must be restored or acknowledged first'
                                 : 'the audit log the fixtures anchor is gone or was rewritten'),
                        'data' => json_encode(['git' => true, 'committed' => false, 'commit' => null,
                                               $loss ? 'loss' : 'tamper' => true])];
                }
                throw $e;
            }
            if ($repo !== null) {
                $commit = $repo->commitDir($dir, $message);
                $after = ['summary' => $fk->reportSummary(0, $dir) . '; '
                    . ($commit !== null ? "committed $commit" : 'nothing to commit'),
                    'data' => json_encode(['git' => true, 'committed' => $commit !== null, 'commit' => $commit])];
            }
        };
        return $this->run('snapshot', $op, self::FK_ELOSS, $dir, function () use (&$after): array {
            return $after ?? [];
        });
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function import(?string $dir, bool $dryRun = false, ?string $adminEmail = null): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('import', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        $opts = $adminEmail !== null && $adminEmail !== '' ? ['admin_email' => $adminEmail] : [];
        return $this->run('import', fn (FortKnox $fk) => $fk->import($dir, $dryRun, $opts), null, $dir);
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function verify(?string $dir): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('verify', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        return $this->run('verify', fn (FortKnox $fk) => $fk->verify($dir), self::FK_EVERIFY, $dir);
    }

    /** @return array{0: int, 1: string, 2: string} */
    public function drill(?string $dir): array
    {
        if ($dir === null || $dir === '') {
            return $this->usage('drill', 'missing argument DIR (or set fortknox.fixture_root)');
        }
        return $this->run('drill', fn (FortKnox $fk) => $fk->drill($dir), self::FK_EVERIFY, $dir);
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
        return $this->run('doctor', fn (FortKnox $fk) => $fk->doctor($opts), self::FK_EVERIFY, null);
    }

    /**
     * fortknox install [--capture|--no-capture] [--app-role ROLE] [--parthenon-table]
     * [--add-soft-delete]: what is not given keeps what is installed (so that a
     * plain install after an upgrade never switches capture mode off or drops
     * the application role), as the tool does; a new install takes the
     * library's defaults. --json "data": the install status after.
     * @return array{0: int, 1: string, 2: string}
     */
    public function install(?bool $capture = null, ?string $appRole = null, bool $parthenonTable = false,
                            bool $addSoftDelete = false): array
    {
        $after = null;
        $op = function (FortKnox $fk) use ($capture, $appRole, $parthenonTable, $addSoftDelete, &$after): void {
            $before = $fk->installStatus();
            $installed = !empty($before['installed']);
            $capture ??= $installed && ($before['mode'] ?? '') === FortKnox::MODE_CAPTURE;
            $appRole = $appRole !== null && $appRole !== '' ? $appRole
                : (is_string($before['app_role'] ?? null) && $before['app_role'] !== '' ? $before['app_role'] : null);
            $fk->install(['mode' => $capture ? FortKnox::MODE_CAPTURE : FortKnox::MODE_APP,
                          'app_role' => $appRole, 'add_soft_delete' => $addSoftDelete,
                          'parthenon_table' => $parthenonTable || ($installed
                              && str_contains((string) ($before['audit_table'] ?? ''), 'design_audit_log'))]);
            $after = ['data' => $fk->installStatusJson()];
        };
        return $this->run('install', $op, null, null, function () use (&$after): array {
            return $after ?? [];
        });
    }

    /**
     * fortknox audit verify [--anchor DIR] (exit 1 when the chain is broken).
     * @return array{0: int, 1: string, 2: string}
     */
    public function auditVerify(?string $anchor = null): array
    {
        return $this->run('audit verify', fn (FortKnox $fk) => $fk->auditVerify($anchor === '' ? null : $anchor),
                          self::FK_ETAMPER, null);
    }

    /**
     * fortknox restore TYPE:ID --as-of TIME | --audit-id N: one entity back to
     * the state the audit log recorded. $checkOnly: only the usage check
     * (its result, or null when the arguments are right).
     * @return ?array{0: int, 1: string, 2: string}
     */
    public function restore(string $entity, ?string $asOf, ?string $auditId, bool $checkOnly = false): ?array
    {
        if (!preg_match('/^([a-z0-9_]+):([1-9][0-9]*)$/D', $entity, $m)) {
            return $this->usage('restore', "expected TYPE:ID (ID a positive integer), not \"$entity\"");
        }
        $row = $auditId === null || $auditId === '' ? 0
            : (preg_match('/^[1-9][0-9]*$/D', $auditId) ? (int) $auditId : -1);
        if ($row < 0 || ($asOf !== null && $asOf !== '') === ($row !== 0)) {
            return $this->usage('restore', 'give exactly one of --as-of TIME and --audit-id N (N > 0)');
        }
        if ($checkOnly) {
            return null;
        }
        return $this->run('restore', fn (FortKnox $fk) => $fk->restore($m[1], (int) $m[2],
            $row === 0 ? $asOf : null, $row), null, null);
    }

    /**
     * fortknox audit log [--entity TYPE[:ID]] [--diff] [--since TIME] [--limit N]:
     * the rows newest first, laid out by the library (fk_audit_log_format());
     * --json: the rows as the document's "data".
     * @return array{0: int, 1: string, 2: string}
     */
    public function auditLog(?string $entity, ?string $since, ?string $limit, bool $diff): array
    {
        $type = null;
        $id = 0;
        if ($entity !== null) {
            if (!preg_match('/^([a-z0-9_]+)(?::([1-9][0-9]*))?$/D', $entity, $m)) {
                return $this->usage('audit log', "--entity needs TYPE or TYPE:ID (ID a positive integer), not \"$entity\"");
            }
            [$type, $id] = [$m[1], (int) ($m[2] ?? 0)];
        }
        if ($limit !== null && !preg_match('/^[0-9]+$/D', $limit)) {
            return $this->usage('audit log', "option --limit needs a non-negative integer, not \"$limit\"");
        }
        // a diff reads as one entity's story; across all entities it is a flood
        if ($diff && $id === 0) {
            return $this->usage('audit log', '--diff needs --entity TYPE:ID, e.g. --entity cohort_definition:65 --diff:'
                . ' it shows how one entity changed, row by row (without --diff, --entity TYPE lists a type\'s rows)');
        }
        $rows = null;
        $status = 0;
        $error = null;
        try {
            $fk = ($this->open)();
            $rows = $fk->historyJson($type, $id, (int) ($limit ?? 0), $since, $diff);
            // no rows for a type: a typo, unless the type is in the registry
            $types = $type !== null && $rows === '[]' ? array_column($fk->registry()['entities'] ?? [], 'type') : [];
            if ($type !== null && $rows === '[]' && !in_array($type, $types, true)) {
                [$rows, $status] = [null, -1];
                $error = "unknown entity type \"$type\"; the types of this registry: " . implode(', ', $types);
            }
        } catch (FortKnoxException $e) {
            $status = $e->getCode();
            $error = $e->getMessage() !== '' ? $e->getMessage() : FortKnox::strerror($status);
        }
        $exit = self::exitStatus($status, null);
        $out = FortKnox::formatOutcome($this->options('audit log', $status, $exit, $error) + ['data' => $rows]);
        if (!$this->json && $rows !== null && !$this->quiet) {
            $out .= FortKnox::formatAuditLog($rows, $diff);
        }
        return [$exit, $out, $this->stderr('audit log', $exit, $status, $error)];
    }

    /**
     * One library operation: open, call, and turn the outcome into output
     * and an exit status, as cli_run_op() + cli_finish() do.
     * @param ?string $subject the directory worked on, named by the summary sentence
     * @return array{0: int, 1: string, 2: string}
     */
    private function run(string $command, callable $op, ?int $problemStatus, ?string $subject,
                         ?\Closure $after = null): array
    {
        $status = 0;
        $error = null;
        $fk = null;
        $reported = true;
        try {
            $fk = ($this->open)();
            $op($fk);
        } catch (FortKnoxException $e) {
            $status = $e->getCode();
            $error = $e->getMessage() !== '' ? $e->getMessage() : FortKnox::strerror($status);
            $reported = $e->getReport() !== null;
        }
        $exit = self::exitStatus($status, $problemStatus);
        // $after: what the command adds after the operation (snapshot's commit)
        $options = ($after ? $after() : []) + $this->options($command, $status, $exit, $error)
            + ['subject' => $subject];
        $out = $fk !== null && $reported ? $fk->formatReport($options) : FortKnox::formatOutcome($options);
        return [$exit, $out, $this->stderr($command, $exit, $status, $error)];
    }

    /**
     * The tool's exit status for a library status (cli_exit_status()): every
     * argument comes from the user, so FK_EINVAL is a usage error; a
     * verification, a loss or tampering found is a problem found.
     */
    private static function exitStatus(int $status, ?int $problemStatus): int
    {
        if ($status === 0) {
            return self::EXIT_OK;
        }
        if ($status === self::FK_EINVAL) {
            return self::EXIT_USAGE;
        }
        $found = $status === $problemStatus
            || in_array($status, [self::FK_EVERIFY, self::FK_ETAMPER, self::FK_ELOSS], true);
        return $found ? self::EXIT_PROBLEM : self::EXIT_FAILURE;
    }

    /** @return array{0: int, 1: string, 2: string} */
    private function usage(string $command, string $msg): array
    {
        $out = $this->json ? FortKnox::formatOutcome($this->options($command, -1, self::EXIT_USAGE, $msg)) : '';
        return [self::EXIT_USAGE, $out, "fortknox $command: $msg\n"];
    }

    /** FortKnox::formatReport()'s options: the outcome and the tool's global options. */
    private function options(string $command, int $status, int $exit, ?string $error): array
    {
        return ['command' => $command, 'status' => $status, 'exit_status' => $exit, 'error' => $error,
                'verbose' => $this->verbose, 'quiet' => $this->quiet, 'json' => $this->json];
    }

    /** What the tool writes to standard error: the failure, unless in --json mode. */
    private function stderr(string $command, int $exit, int $status, ?string $error): string
    {
        if ($this->json || $exit === self::EXIT_OK) {
            return '';
        }
        return "fortknox $command: " . ($error ?? FortKnox::strerror($status)) . "\n";
    }
}
