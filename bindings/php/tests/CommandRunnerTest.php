<?php

declare(strict_types=1);

namespace FortKnox\Tests;

use FortKnox\FortKnox;
use FortKnox\Laravel\CommandRunner;
use FortKnox\Tests\Support\Php;
use FortKnox\Tests\Support\TestDb;
use PHPUnit\Framework\TestCase;

/**
 * The artisan commands' core: same output and exit codes as the fortknox
 * tool (compared with the real binary built next to the library).
 */
final class CommandRunnerTest extends TestCase
{
    private static string $dsn;
    private string $dir;

    public static function setUpBeforeClass(): void
    {
        self::$dsn = TestDb::fresh('commands');
    }

    protected function setUp(): void
    {
        $this->dir = TestDb::tempDir('commands');
    }

    protected function tearDown(): void
    {
        TestDb::rmrf($this->dir);
    }

    private function runner(bool $verbose = false, bool $json = false): CommandRunner
    {
        return new CommandRunner(fn () => new FortKnox(self::$dsn), $verbose, false, $json);
    }

    /** The fortknox tool of this build (cli/fortknox beside lib/). */
    private static function cli(): string
    {
        $cli = getenv('FORTKNOX_CLI') ?: dirname((string) getenv('FORTKNOX_LIB'), 2) . '/cli/fortknox';
        self::assertFileExists($cli, 'the fortknox tool is built with the library (set FORTKNOX_CLI)');
        return $cli;
    }

    /** @return array{0: int, 1: string, 2: string} */
    private static function tool(string ...$args): array
    {
        return Php::exec(array_merge([self::cli(), '--db', self::$dsn], $args));
    }

    /**
     * Durations differ between two runs: "(12 ms)" / "(1.2 s)" and "elapsed_ms": N;
     * so does how many kept files an export had to hash ("hashed": it depends on
     * the files' times against the last export's start, docs/fixture-format.md).
     */
    private static function norm(array $r): array
    {
        $r[1] = preg_replace(['~\(\d+ ms\)|\(\d+\.\d s\)~', '~"elapsed_ms":\s*\d+~', '~"hashed":\s*\d+~'],
                             ['(T)', '"elapsed_ms":T', '"hashed":N'], $r[1]);
        return $r;
    }

    public function testExportVerifyDrillImportLikeTheTool(): void
    {
        [$rc, $out, $err] = $this->runner()->export($this->dir);
        $this->assertSame(0, $rc, $err);
        $this->assertStringStartsWith("exported 18 entities to $this->dir: 18 written, 0 unchanged, 0 removed\n", $out);
        $this->assertStringContainsString("  type                         entities\n", $out);
        $this->assertSame('', $err);

        foreach ([['export', $this->dir], ['verify', $this->dir], ['drill', $this->dir],
                  ['import', $this->dir, '--dry-run'], ['import', $this->dir], ['doctor'],
                  ['doctor', '--fixtures', $this->dir]] as $args) {
            $mine = match ($args[0]) {
                'export' => $this->runner()->export($args[1]),
                'verify' => $this->runner()->verify($args[1]),
                'drill' => $this->runner()->drill($args[1]),
                'import' => $this->runner()->import($args[1], isset($args[2])),
                'doctor' => $this->runner()->doctor($args[2] ?? null),
            };
            $this->assertSame(self::norm(self::tool(...$args)), self::norm($mine), implode(' ', $args));
        }
    }

    public function testProblemsExitWithOneLikeTheTool(): void
    {
        $this->runner()->export($this->dir);
        $fk = new FortKnox(self::$dsn);
        $fk->exec("UPDATE app.concept_sets SET name = 'drifted' WHERE id = 1002");
        $fk->exec("UPDATE app.concept_sets SET description = 'drifted too' WHERE id = 1003");
        $fk->exec('DELETE FROM app.concept_set_items WHERE concept_set_id = 1001');
        try {
            foreach ([[false, false], [true, false], [false, true]] as [$verbose, $json]) {
                $flags = array_merge($verbose ? ['--verbose'] : [], $json ? ['--json'] : []);
                $mine = $this->runner($verbose, $json)->verify($this->dir);
                $this->assertSame(1, $mine[0]);
                $this->assertSame(self::norm(self::tool(...array_merge($flags, ['verify', $this->dir]))), self::norm($mine));
                $mine = $this->runner($verbose, $json)->drill($this->dir);
                $this->assertSame(self::norm(self::tool(...array_merge($flags, ['drill', $this->dir]))), self::norm($mine));
            }
            [$rc, $out, $err] = $this->runner()->verify($this->dir);
            $this->assertStringStartsWith("$this->dir differs from the database: 3 differ", $out);
            $this->assertStringStartsWith('fortknox verify: ', $err);
        } finally {
            $this->assertSame(0, $this->runner()->import($this->dir)[0]);
        }
        // doctor: an entity lost since the export is an error finding (exit 1)
        $fk->exec('DELETE FROM app.characterizations WHERE id = 1001');
        try {
            $mine = $this->runner()->doctor($this->dir);
            $this->assertSame(1, $mine[0]);
            $this->assertStringContainsString("lost entities per type:\n", $mine[1]);
            $this->assertSame(self::norm(self::tool('doctor', '--fixtures', $this->dir)), self::norm($mine));
            $this->assertSame(self::norm(self::tool('--json', 'doctor', '--fixtures', $this->dir)),
                              self::norm($this->runner(false, true)->doctor($this->dir)));
        } finally {
            $this->runner()->import($this->dir);
        }
    }

    public function testRuntimeFailuresExitWithThree(): void
    {
        $down = new CommandRunner(fn () => new FortKnox('host=/nonexistent/fortknox-socket-dir dbname=x'));
        [$rc, $out, $err] = $down->verify($this->dir);
        $this->assertSame(3, $rc);
        $this->assertSame('', $out);
        $this->assertStringStartsWith('fortknox verify: ', $err);
        $this->assertStringContainsString('/nonexistent/fortknox-socket-dir', $err);

        // a malformed fixture: exit 3 with path:line:column, like the tool
        $this->runner()->export($this->dir);
        file_put_contents("$this->dir/cohort_definitions/broken.json", "{\n  \"id\": 5,\n  x\n}");
        $mine = $this->runner()->import($this->dir);
        $this->assertSame(3, $mine[0]);
        $this->assertMatchesRegularExpression('~^fortknox import: .*broken\.json:3:\d+: ~', $mine[2]);
        $this->assertSame(self::tool('import', $this->dir), $mine);
        $this->assertSame(self::norm(self::tool('--json', 'import', $this->dir)),
                          self::norm($this->runner(false, true)->import($this->dir)));
    }

    public function testUsageErrorsExitWithTwo(): void
    {
        foreach (['export', 'import', 'verify', 'drill'] as $cmd) {
            [$rc, $out, $err] = $this->runner()->$cmd(null);
            $this->assertSame(2, $rc);
            $this->assertSame('', $out);
            $this->assertStringStartsWith("fortknox $cmd: missing argument DIR", $err);
        }
        $json = json_decode($this->runner(false, true)->export('')[1], true);
        $this->assertSame(['export', 2, 'FK_EINVAL'], [$json['command'], $json['exit_status'], $json['status']]);
    }

    public function testAuditVerifyAndLogLikeTheTool(): void
    {
        $dsn = TestDb::fresh('commands_audit');
        (new FortKnox($dsn))->install(['mode' => 'capture']);
        (new FortKnox($dsn))->exec("UPDATE app.concept_sets SET description = 'audited' WHERE id = 1002");
        $runner = fn (bool $json) => new CommandRunner(fn () => new FortKnox($dsn), false, false, $json);
        foreach ([false, true] as $json) {
            $mine = $runner($json)->auditVerify();
            $this->assertSame(0, $mine[0]);
            $tool = Php::exec(array_merge([self::cli(), '--db', $dsn], $json ? ['--json'] : [], ['audit', 'verify']));
            $this->assertSame(self::norm($tool), self::norm($mine));
        }
        $this->assertStringStartsWith('audit chain intact: 1 rows verified (not anchored', $runner(false)->auditVerify()[1]);

        // audit log: [entity, since, limit, diff], as the tool's arguments
        foreach ([[null, null, null, false], ['concept_set:1002', null, null, false],
                  ['concept_set:1002', null, null, true], ['concept_set', null, '1', false],
                  [null, '2999-01-01', null, false], ['nosuch:1', null, null, false],
                  [null, 'not a time', null, false]] as [$entity, $since, $limit, $diff]) {
            $args = array_merge(['audit', 'log'], $entity !== null ? ['--entity', $entity] : [],
                                $since !== null ? ['--since', $since] : [], $limit !== null ? ['--limit', $limit] : [],
                                $diff ? ['--diff'] : []);
            foreach ([false, true] as $json) {
                $mine = $runner($json)->auditLog($entity, $since, $limit, $diff);
                $tool = Php::exec(array_merge([self::cli(), '--db', $dsn], $json ? ['--json'] : [], $args));
                $this->assertSame($tool, $mine, implode(' ', $args) . ($json ? ' --json' : ''));
            }
        }
        $this->assertMatchesRegularExpression('/^id +time \(UTC\) +action +entity +name +actor +changed +context\n'
            . ' *1 +\S+ +updated +concept_set:1002 +.* +- +description +capture\n$/', $runner(false)->auditLog(null, null, null, false)[1]);
        // usage errors: exit 2, the tool's message (the tool adds its help)
        foreach ([['--diff'], ['--entity', ':5'], ['--limit', 'many']] as $args) {
            $o = ['entity' => null, 'limit' => null, 'diff' => false];
            for ($i = 0; $i < count($args); $i++) {
                $args[$i] === '--diff' ? $o['diff'] = true : $o[substr($args[$i], 2)] = $args[++$i];
            }
            $mine = $runner(false)->auditLog($o['entity'], null, $o['limit'], $o['diff']);
            $tool = Php::exec(array_merge([self::cli(), '--db', $dsn, 'audit', 'log'], $args));
            $this->assertSame([2, ''], [$mine[0], $mine[1]]);
            $this->assertSame($tool[0], $mine[0]);
            $this->assertStringStartsWith($mine[2], $tool[2]);
        }
    }

    /**
     * A plain install keeps what is installed (capture mode, the application
     * role), as the tool's does: the same --json document, "data" included.
     */
    public function testInstallAgainKeepsWhatIsInstalledLikeTheTool(): void
    {
        $dsn = TestDb::fresh('commands_install');
        TestDb::pdo($dsn)->exec("DO \$\$ BEGIN CREATE ROLE fkphp_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$");
        $runner = fn (bool $json) => new CommandRunner(fn () => new FortKnox($dsn), false, false, $json);
        [$rc, , $err] = $runner(false)->install(true, 'fkphp_app');
        $this->assertSame(0, $rc, $err);
        $tool = self::norm(Php::exec([self::cli(), '--db', $dsn, '--json', 'install']));
        $mine = $runner(true)->install();
        $this->assertSame($tool, self::norm($mine));
        $doc = json_decode($mine[1], true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame([0, 'capture', 'fkphp_app'],
                          [$doc['report']['counters']['changed'], $doc['data']['mode'] ?? null, $doc['data']['app_role'] ?? null]);
    }

    /** Two snapshots, the tool's and the command's, into two repositories: the same but for DIR and the commit. */
    public function testSnapshotLikeTheTool(): void
    {
        $outside = [$this->runner()->snapshot("$this->dir/x/fixtures", true, null),
                    self::tool('snapshot', "$this->dir/x/fixtures", '--git')];
        $this->assertSame(3, $outside[0][0]);
        $this->assertStringContainsString('is not inside a git work tree', $outside[0][2]);
        $this->assertSame($outside[1], $outside[0]);
        $this->assertDirectoryDoesNotExist("$this->dir/x/fixtures", 'nothing exported');

        $runs = [];
        foreach (['mine', 'tool'] as $who) {
            $repo = "$this->dir/$who";
            mkdir($repo);
            foreach ([['init', '-q'], ['config', 'user.name', 'T'], ['config', 'user.email', 't@example.org']] as $g) {
                Php::exec(array_merge(['git', '-C', $repo], $g));
            }
            foreach ([0, 1] as $i) { // the second: nothing to commit
                $r = $who === 'mine' ? $this->runner()->snapshot("$repo/fx", true, 'fixtures')
                                     : self::tool('snapshot', "$repo/fx", '--git', '--message', 'fixtures');
                $r[1] = str_replace($repo, 'REPO', preg_replace('/committed [0-9a-f]{40}/', 'committed SHA', $r[1]));
                $runs[$who][$i] = self::norm($r);
            }
        }
        $this->assertSame($runs['tool'], $runs['mine']);
        $this->assertStringStartsWith('exported 18 entities to REPO/fx: 18 written, 0 unchanged, 0 removed; committed SHA',
                                      $runs['mine'][0][1]);
        $this->assertStringContainsString('; nothing to commit', $runs['mine'][1][1]);
    }

    public function testJsonDocumentIsTheTools(): void
    {
        $mine = $this->runner(false, true)->export($this->dir);
        $this->assertSame(0, $mine[0]);
        $doc = json_decode($mine[1], true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame(['fortknox-cli', 1, 'export', 0, 'FK_OK', null],
            [$doc['format'], $doc['format_version'], $doc['command'], $doc['exit_status'], $doc['status'], $doc['error']]);
        $this->assertSame(self::norm(self::tool('--json', 'export', $this->dir)),
                          self::norm($this->runner(false, true)->export($this->dir)));
    }
}
