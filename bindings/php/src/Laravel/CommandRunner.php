<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\Exception\FortKnoxException;
use FortKnox\FortKnox;

/**
 * What the artisan commands fortknox:install, :export, :import, :verify,
 * :drill, :doctor and :audit:verify do, without the console: each method returns
 * [exit status, standard output, standard error], identical to the fortknox
 * command-line tool's, because both print through the library's
 * fk_report_format() (FortKnox::formatReport()):
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
    private const FK_EVERIFY = -8;
    private const FK_ETAMPER = -9;

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
        return $this->run('export', fn (FortKnox $fk) => $fk->export($dir), null, $dir);
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
     * fortknox install [--capture|--no-capture] [--app-role ROLE]: $capture null keeps
     * the installed mode (a new install: app mode), as the tool does.
     * @return array{0: int, 1: string, 2: string}
     */
    public function install(?bool $capture = null, ?string $appRole = null): array
    {
        return $this->run('install', function (FortKnox $fk) use ($capture, $appRole) {
            $status = $fk->installStatus();
            $keep = !empty($status['installed']) && ($status['mode'] ?? 'app') === FortKnox::MODE_CAPTURE;
            $opts = ['mode' => ($capture ?? $keep) ? FortKnox::MODE_CAPTURE : FortKnox::MODE_APP];
            if ($appRole !== null && $appRole !== '') {
                $opts['app_role'] = $appRole;
            }
            $fk->install($opts);
        }, null, null);
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
     * One library operation: open, call, and turn the outcome into output
     * and an exit status, as cli_run_op() + cli_finish() do.
     * @param ?string $subject the directory worked on, named by the summary sentence
     * @return array{0: int, 1: string, 2: string}
     */
    private function run(string $command, callable $op, ?int $problemStatus, ?string $subject): array
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
        $exit = $status === 0 ? self::EXIT_OK
            : ($problemStatus !== null && $status === $problemStatus ? self::EXIT_PROBLEM : self::EXIT_FAILURE);
        $options = $this->options($command, $status, $exit, $error) + ['subject' => $subject];
        $out = $fk !== null && $reported ? $fk->formatReport($options) : FortKnox::formatOutcome($options);
        return [$exit, $out, $this->stderr($command, $exit, $status, $error)];
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
