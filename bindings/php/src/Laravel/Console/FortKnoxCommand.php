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
