<?php

declare(strict_types=1);

namespace FortKnox\Laravel\Console;

use FortKnox\FortKnox;
use FortKnox\Laravel\CommandRunner;
use Illuminate\Console\Command;
use Symfony\Component\Console\Output\ConsoleOutputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * Base of the fortknox:* artisan commands: the work and the output are
 * CommandRunner's (identical to the fortknox tool's); this class only maps
 * artisan's options and prints. Exit statuses: 0 ok, 1 a check found a
 * problem, 2 usage, 3 runtime failure.
 */
abstract class FortKnoxCommand extends Command
{
    protected function runner(): CommandRunner
    {
        $out = $this->getOutput();
        return new CommandRunner(
            fn () => $this->laravel->make(FortKnox::class),
            $out->isVerbose(),
            $out->isQuiet(),
            (bool) $this->option('json'),
        );
    }

    /**
     * Before a command that writes the design records: in production
     * (APP_ENV=production) ask, as migrate does; --force skips the question,
     * and with --no-interaction the answer is no. False: the caller returns
     * EXIT_CANCELLED.
     */
    protected function confirmed(): bool
    {
        if (!$this->laravel->environment('production') || $this->option('force')) {
            return true;
        }
        $this->getOutput()->getErrorStyle()->warning('Application in production: this changes the design records.');
        if ($this->confirm('Do you really wish to run this command?')) {
            return true;
        }
        $this->getOutput()->getErrorStyle()->writeln('Command cancelled: nothing was changed (--force runs it without asking).');
        return false;
    }

    /** Exit status of a command not confirmed: nothing was done (like a usage error). */
    protected const EXIT_CANCELLED = 2;

    /** The DIR argument, else config fortknox.fixture_root. */
    protected function dir(): ?string
    {
        $dir = $this->argument('dir');
        if ($dir === null || $dir === '') {
            $dir = $this->laravel['config']->get('fortknox.fixture_root');
        }
        return $dir === null || $dir === '' ? null : (string) $dir;
    }

    /** @param array{0: int, 1: string, 2: string} $result */
    protected function finish(array $result): int
    {
        [$code, $stdout, $stderr] = $result;
        $out = $this->getOutput()->getOutput();
        if ($stdout !== '') {
            $out->write($stdout, false, OutputInterface::OUTPUT_RAW | OutputInterface::VERBOSITY_QUIET);
        }
        if ($stderr !== '') {
            $err = $out instanceof ConsoleOutputInterface ? $out->getErrorOutput() : $out;
            $err->write($stderr, false, OutputInterface::OUTPUT_RAW | OutputInterface::VERBOSITY_QUIET);
        }
        return $code;
    }
}
