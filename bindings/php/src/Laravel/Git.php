<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\Exception\IoException;
use FortKnox\Exception\NotFoundException;

/**
 * The git steps of `fortknox snapshot --git` (cli/git.c), for
 * fortknox:snapshot: find the work tree, check that git can name the
 * committer (before anything is exported), then stage everything under the
 * fixture directory and commit exactly those paths. git runs with an
 * argument vector, never through a shell. Failures throw with the tool's
 * messages (FK_ENOTFOUND, FK_EIO).
 */
final class Git
{
    private function __construct(private string $top)
    {
    }

    /** The work tree holding $dir (which may not exist before the first export). */
    public static function workTree(string $dir): self
    {
        $probe = $dir;
        while (!file_exists($probe) && $probe !== dirname($probe)) {
            $probe = dirname($probe);
        }
        [$status, $out, $err] = self::run(['-C', $probe, 'rev-parse', '--show-toplevel']);
        $top = trim($out);
        if ($status === 127) {
            self::failed('git rev-parse', $status, $err);
        }
        if ($status !== 0 || $top === '') {
            throw new NotFoundException("$dir is not inside a git work tree: --git needs one (run `git init`, or drop --git)",
                                        -6, 'FK_ENOTFOUND');
        }
        return new self($top);
    }

    /** Fails when git cannot tell who commits (checked as strictly as `git commit` does). */
    public function checkIdentity(): void
    {
        foreach (['GIT_AUTHOR_IDENT', 'GIT_COMMITTER_IDENT'] as $who) {
            [$status, , $err] = self::run(['-C', $this->top, 'var', $who]);
            if ($status === 127) {
                self::failed('git var', $status, $err);
            }
            if ($status !== 0) {
                $t = $this->top;
                throw new IoException("git cannot tell who commits in $t (no user.name/user.email): set them first, e.g."
                    . " `git -C $t config user.name \"Fixture Bot\"` and `git -C $t config user.email fixtures@example.org`;"
                    . ' nothing was exported', -4, 'FK_EIO');
            }
        }
    }

    /** Stages everything under $dir and commits only those paths; the new commit, or null when nothing changed. */
    public function commitDir(string $dir, string $message): ?string
    {
        $abs = realpath($dir);
        if ($abs === false) {
            throw new IoException("$dir: No such file or directory", -4, 'FK_EIO');
        }
        $this->must('git add', ['add', '-A', '--', $abs]);
        // only paths under dir count: anything else staged is none of our business
        [$status, , $err] = self::run(['-C', $this->top, 'diff', '--cached', '--quiet', '--', $abs]);
        if ($status === 0) {
            return null;
        }
        if ($status !== 1) {
            self::failed('git diff', $status, $err);
        }
        $this->must('git commit', ['commit', '-q', '-m', $message, '--', $abs]);
        return trim($this->must('git rev-parse HEAD', ['rev-parse', 'HEAD']));
    }

    /** @param list<string> $args */
    private function must(string $what, array $args): string
    {
        [$status, $out, $err] = self::run(array_merge(['-C', $this->top], $args));
        if ($status !== 0) {
            self::failed($what, $status, $err);
        }
        return $out;
    }

    private static function failed(string $what, int $status, string $err): never
    {
        $line = trim((string) strtok($err, "\n"));
        throw new IoException($status === 127 ? "$what: cannot run git (is it installed?)"
            : "$what failed: " . ($line !== '' ? $line : 'git failed'), -4, 'FK_EIO');
    }

    /**
     * @param list<string> $args
     * @return array{0: int, 1: string, 2: string}
     */
    private static function run(array $args): array
    {
        $p = @proc_open(array_merge(['git'], $args), [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'],
                                                      2 => ['pipe', 'w']], $pipes);
        if (!is_resource($p)) {
            return [127, '', ''];
        }
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($p), $out, $err];
    }
}
