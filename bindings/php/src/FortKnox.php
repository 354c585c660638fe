<?php

declare(strict_types=1);

namespace FortKnox;

use FFI;
use FFI\CData;
use FortKnox\Exception\FortKnoxException;
use FortKnox\Exception\InvalidArgumentException;

/**
 * One libfortknox context: a PostgreSQL connection, the entity registry and
 * the last error. Not shareable between threads (PHP has none in php-fpm);
 * closed by close() or when the object goes away.
 *
 * Every failure is thrown as a subclass of FortKnoxException carrying
 * fk_errmsg() and the status code; reports are returned as arrays decoded
 * from fk_report_json():
 *   ['operation' => 'export', 'ok' => true, 'counters' => [...], 'items' => [...], ...]
 */
final class FortKnox
{
    public const FORMAT_PARTHENON = 0;
    public const FORMAT_CANONICAL = 1;

    public const MODE_APP = 'app';
    public const MODE_CAPTURE = 'capture';

    private const CTX_OPTIONS = ['registry_file', 'schema', 'fixture_root', 'admin_email',
                                 'application_name', 'lazy_registry', 'lock_timeout_ms',
                                 'statement_timeout_ms', 'connect_timeout_ms'];

    private FFI $ffi;
    private ?CData $ctx = null;
    private ?string $fixtureRoot;
    /** The report of the last report operation (fk_report*), kept for formatReport(). */
    private ?CData $lastReport = null;

    /**
     * Opens a context.
     *
     * @param string $conninfo libpq connection string or URI ("" = PG* environment variables)
     * @param array{registry_file?: ?string, schema?: ?string, fixture_root?: ?string,
     *              admin_email?: ?string, application_name?: ?string, lazy_registry?: bool,
     *              lock_timeout_ms?: int, statement_timeout_ms?: int,
     *              connect_timeout_ms?: int} $options
     *        registry_file: JSON registry (default: the built-in Parthenon registry);
     *        schema: schema of libfortknox's own objects (default "fortknox");
     *        fixture_root: fixture directory refreshed after each audit write;
     *        admin_email: fallback author for imports;
     *        lazy_registry: do not check the registry against the database now;
     *        lock_timeout_ms / statement_timeout_ms: bound every wait for a lock and
     *        every statement (defaults 10000 and 600000; 0 = the server's setting). They
     *        are set on this object's own connection only, never on the application's.
     *        connect_timeout_ms: longest wait to connect (default 10000; whole seconds,
     *        at least 2; 0 = libpq's default); a connect_timeout in $conninfo or
     *        PGCONNECT_TIMEOUT wins.
     * @throws FortKnoxException DatabaseException (cannot connect), ParseException /
     *         NotFoundException / IoException (registry), LibraryNotFoundException
     */
    public function __construct(string $conninfo = '', array $options = [])
    {
        foreach (array_keys($options) as $k) {
            if (!in_array($k, self::CTX_OPTIONS, true)) {
                throw self::usage("unknown option \"$k\" (known: " . implode(', ', self::CTX_OPTIONS) . ')');
            }
        }
        $this->ffi = Library::ffi();
        $ffi = $this->ffi;
        $keep = [];
        $o = $ffi->new('fk_ctx_options');
        $ffi->fk_ctx_options_init(FFI::addr($o), $ffi->FK_CTX_OPTIONS_VERSION);
        foreach (['registry_file', 'schema', 'fixture_root', 'admin_email', 'application_name'] as $k) {
            if (isset($options[$k]) && $options[$k] !== '') {
                $o->$k = $this->cstr((string) $options[$k], $keep);
            }
        }
        foreach (['lock_timeout_ms', 'statement_timeout_ms', 'connect_timeout_ms'] as $k) {
            if (isset($options[$k])) {
                $o->$k = (int) $options[$k];
            }
        }
        if (!empty($options['lazy_registry'])) {
            $o->flags = $ffi->FK_OPEN_LAZY_REGISTRY;
        }
        $this->fixtureRoot = isset($options['fixture_root']) && $options['fixture_root'] !== ''
            ? (string) $options['fixture_root'] : null;
        $ctx = $ffi->new('fk_ctx*');
        $rc = $ffi->fk_open(FFI::addr($ctx), self::arg($conninfo), FFI::addr($o));
        if ($rc < 0) {
            throw FortKnoxException::fromStatus($rc, $ffi->fk_errmsg(null) ?: $ffi->fk_strerror($rc),
                                                $ffi->fk_status_name($rc));
        }
        $this->ctx = $ctx;
    }

    public function __destruct()
    {
        $this->close();
        $this->dropReport();
    }

    /** Closes the connection and frees the context (idempotent). */
    public function close(): void
    {
        if ($this->ctx !== null) {
            $this->ffi->fk_close($this->ctx);
            $this->ctx = null;
        }
    }

    public function isOpen(): bool
    {
        return $this->ctx !== null;
    }

    /** A context owns a connection: it cannot be copied. */
    public function __clone()
    {
        $this->ctx = null; // the copy must not close the original's context
        throw new \LogicException('a FortKnox context cannot be cloned');
    }

    /** @return never */
    public function __serialize(): array
    {
        throw new \LogicException('a FortKnox context cannot be serialized');
    }

    // ------------------------------------------------------------ library

    /** Sets the library path (instead of FORTKNOX_LIB); null = back to the default lookup. */
    public static function setLibraryPath(?string $path): void
    {
        Library::setPath($path);
    }

    /** Run-time library version, "0.1.0". */
    public static function version(): string
    {
        return Library::ffi()->fk_version_string();
    }

    /** "FK_EDB" for -3. */
    public static function statusName(int $code): string
    {
        return Library::ffi()->fk_status_name($code);
    }

    /** English description of a status code. */
    public static function strerror(int $code): string
    {
        return Library::ffi()->fk_strerror($code);
    }

    /**
     * What the fortknox command-line tool prints on standard output for the
     * outcome of this object's last report operation (export(), import(),
     * verify(), drill(), doctor(), ...: the report it returned, or the one its
     * exception carries), through fk_report_format(). The caller writes
     * "fortknox COMMAND: error" to standard error itself.
     *
     * @param array{command?: ?string, status?: int, exit_status?: int, error?: ?string,
     *              summary?: ?string, subject?: ?string, data?: ?string, verbose?: bool,
     *              quiet?: bool, json?: bool} $options
     *        command: the command's name; status: the operation's status (0 or the
     *        exception's code); exit_status: 0 ok, 1 a problem found, 2 usage, 3 could
     *        not run; error: the exception's message; summary: the first line, or
     *        subject: the directory worked on, for the tool's own sentence
     *        (fk_report_summary(); doctor's is null); data: JSON for "data";
     *        verbose/quiet/json: the tool's --verbose, --quiet and --json.
     */
    public function formatReport(array $options): string
    {
        return self::formatWith($this->ffi, $this->lastReport, $options);
    }

    /**
     * The sentence the fortknox tool prints first for the last report
     * (fk_report_summary()): $status is the operation's outcome, $subject the
     * directory worked on. '' when the operation has no sentence.
     */
    public function reportSummary(int $status = 0, ?string $subject = null): string
    {
        if ($this->lastReport === null) {
            return '';
        }
        return self::summaryWith($this->ffi, $this->lastReport, $status, $subject);
    }

    private static function summaryWith(FFI $ffi, CData $report, int $status, ?string $subject): string
    {
        $keep = [];
        $out = $ffi->new('char*');
        self::formatted($ffi, $ffi->fk_report_summary(FFI::addr($out), $report, $status,
            $subject === null ? null : self::cstrWith($ffi, $subject, $keep)));
        return (string) self::take($ffi, $out);
    }

    /** formatReport() for an outcome without a report (a failure to connect, a usage error). */
    public static function formatOutcome(array $options): string
    {
        return self::formatWith(Library::ffi(), null, $options);
    }

    /**
     * The per-field changes from one JSON state to another (fk_json_diff()):
     * a list of ['path' => '$.expression.criteria[2].code', 'op' => 'added' |
     * 'removed' | 'changed', 'old' => ..., 'new' => ..., 'text' => the line
     * `fortknox audit log --diff` prints]; arrays compare by index, numbers
     * by their text. null is no state: an object's members are all added (or
     * removed). Invalid JSON throws (FK_EPARSE).
     * @return list<array<string, mixed>>
     */
    public static function diff(?string $oldJson, ?string $newJson): array
    {
        $ffi = Library::ffi();
        $out = $ffi->new('char*');
        self::formatted($ffi, $ffi->fk_json_diff(FFI::addr($out),
            $oldJson === null ? null : self::arg($oldJson), $newJson === null ? null : self::arg($newJson)));
        return self::decode(self::take($ffi, $out));
    }

    /** Server version as PostgreSQL's integer (150018 for 15.18). */
    public function serverVersion(): int
    {
        return $this->ffi->fk_server_version($this->ctx());
    }

    /** The fixture root given at open, or null. */
    public function fixtureRoot(): ?string
    {
        return $this->fixtureRoot;
    }

    /** Runs SQL on the context's connection (scripts and tests; library calls never need it). */
    public function exec(string $sql): void
    {
        $this->check($this->ffi->fk_exec($this->ctx(), self::arg($sql)));
    }

    // --------------------------------------------------------- layer 3

    /**
     * One entity as its fixture document (bytes exactly as the file holds them).
     * @param int|string $format FORMAT_PARTHENON / FORMAT_CANONICAL or "parthenon" / "canonical"
     */
    public function serialize(string $type, int $id, int|string $format = self::FORMAT_PARTHENON): string
    {
        $ffi = $this->ffi;
        $out = $ffi->new('char*');
        $len = $ffi->new('size_t');
        $this->check($ffi->fk_entity_serialize(FFI::addr($out), FFI::addr($len), $this->ctx(),
                                               self::arg($type), $id, self::format($format)));
        return $this->takeString($out, (int) $len->cdata);
    }

    /** The registry in use, resolved against the database (fk_registry_describe()). */
    public function registry(): array
    {
        $out = $this->ffi->new('char*');
        $this->check($this->ffi->fk_registry_describe(FFI::addr($out), $this->ctx()));
        return self::decode($this->takeString($out));
    }

    /**
     * A registry proposal for this database, made from its catalog
     * (fk_registry_propose(); docs/registry.md): tables with a soft-delete
     * column and their ON DELETE CASCADE children, name/author/secret columns
     * by convention, every guess explained in "notes". Open the object with
     * ['lazy_registry' => true] on a database the registry in use does not fit.
     * @param array{schemas?: list<string>, tables?: list<string>} $options
     *        schemas: where to look (default: all but the system ones);
     *        tables: "schema.table" to propose too, soft-delete column or not
     * @return string the registry file's text (JSON)
     * @throws \FortKnox\Exception\NotFoundException no table qualifies, or a table does not exist
     */
    public function proposeRegistry(array $options = []): string
    {
        self::known($options, ['schemas', 'tables']);
        $ffi = $this->ffi;
        $o = $ffi->new('fk_registry_propose_options');
        $ffi->fk_registry_propose_options_init(FFI::addr($o), $ffi->FK_REGISTRY_PROPOSE_OPTIONS_VERSION);
        $keep = [];
        [$o->schemas, $o->nschemas] = $this->cstrList($options['schemas'] ?? [], $keep);
        [$o->tables, $o->ntables] = $this->cstrList($options['tables'] ?? [], $keep);
        $out = $ffi->new('char*');
        $this->check($ffi->fk_registry_propose(FFI::addr($out), $this->ctx(), FFI::addr($o)));
        return $this->takeString($out);
    }

    /**
     * Checks the registry in use against the database, every problem named
     * (fk_registry_check()). Open with ['lazy_registry' => true] so that a
     * malformed file is a finding here.
     * @return array<string, mixed> the report (fits; warnings possible)
     * @throws \FortKnox\Exception\VerificationFailedException it has problems; getReport() lists them
     */
    public function checkRegistry(): array
    {
        $ffi = $this->ffi;
        return $this->reportCall(fn ($r) => $ffi->fk_registry_check($r, $this->ctx()));
    }

    /** The file (relative to the fixture root) Parthenon's exporter gives an entity. */
    public function fixturePath(string $type, string $name, int $id): string
    {
        $out = $this->ffi->new('char*');
        $this->check($this->ffi->fk_fixture_path(FFI::addr($out), $this->ctx(), self::arg($type),
                                                 self::arg($name), $id));
        return $this->takeString($out);
    }

    /**
     * Exports every entity to $dir. An entity gone without a recorded
     * deletion keeps its file and makes this throw LossException (with the
     * report) once everything else is written; accept_loss acknowledges such
     * losses ("TYPE:ID" each, or "all"), each recorded in the audit log.
     * Only entities that may have changed since the manifest's export are
     * read (a type whose tables did not change is not read at all); the
     * report's counters "read" and "full_pass" say how much was read;
     * full => true reads everything.
     * @param array{format?: int|string, report_files?: bool, full?: bool,
     *              accept_loss?: list<string>, drop_ratio?: float} $options
     * @return array<string, mixed> the report
     */
    public function export(string $dir, array $options = []): array
    {
        self::known($options, ['format', 'report_files', 'full', 'accept_loss', 'drop_ratio']);
        $ffi = $this->ffi;
        $o = $ffi->new('fk_export_options');
        $ffi->fk_export_options_init(FFI::addr($o), $ffi->FK_EXPORT_OPTIONS_VERSION);
        $o->format = self::format($options['format'] ?? self::FORMAT_PARTHENON);
        if (!empty($options['report_files'])) {
            $o->flags |= $ffi->FK_EXPORT_REPORT_FILES;
        }
        if (!empty($options['full'])) {
            $o->flags |= $ffi->FK_EXPORT_FULL;
        }
        if (isset($options['drop_ratio'])) {
            $o->drop_ratio = (float)$options['drop_ratio'];
        }
        $keep = []; // the C strings and the array must outlive the call
        [$o->accept_loss, $o->naccept_loss] = $this->cstrList($options['accept_loss'] ?? [], $keep);
        return $this->reportCall(fn ($r) => $ffi->fk_export($r, $this->ctx(), self::arg($dir), FFI::addr($o)));
    }

    /**
     * Refreshes one entity's fixture file under $dir (removes it when the
     * entity no longer exists and its deletion is recorded; otherwise the file
     * stays and LossException is thrown).
     * @param array<string, mixed>|string|null $json null = read the entity from the database
     */
    public function exportEntity(string $dir, string $type, int $id, array|string|null $json = null,
                                 int|string $format = self::FORMAT_PARTHENON): void
    {
        $doc = is_array($json) ? self::encode($json) : $json;
        $this->check($this->ffi->fk_export_entity($this->ctx(), self::arg($dir), self::arg($type), $id,
                                                  $doc === null ? null : self::arg($doc),
                                                  self::format($format)));
    }

    /**
     * Restores the entities in $dir, all or nothing.
     * Schema drift is never silent: a key that names no column (renamed or
     * dropped since the export) and a column a file has no key for (added or
     * renamed) refuse the import (ParseException naming file, type and key)
     * unless the options say how to read them (see keyMap(): map, drop_keys,
     * defaults; an entry no file uses is an InvalidArgumentException), or, for keys,
     * drop_unknown_keys leaves every such key out (reported, "unknown_key").
     * @param array{strict?: bool, soft_delete_missing?: bool, report_all?: bool,
     *              admin_email?: ?string, drop_unknown_keys?: bool,
     *              map?: array<string, string>|list<string>, drop_keys?: list<string>,
     *              defaults?: list<string>} $options
     * @return array<string, mixed> the report
     */
    public function import(string $dir, bool $dryRun = false, array $options = []): array
    {
        self::known($options, ['strict', 'soft_delete_missing', 'report_all', 'admin_email',
                               'drop_unknown_keys', 'map', 'drop_keys', 'defaults']);
        $ffi = $this->ffi;
        $keep = [];
        $o = $ffi->new('fk_import_options');
        $ffi->fk_import_options_init(FFI::addr($o), $ffi->FK_IMPORT_OPTIONS_VERSION);
        $flags = $dryRun ? $ffi->FK_IMPORT_DRY_RUN : 0;
        $flags |= !empty($options['strict']) ? $ffi->FK_IMPORT_STRICT : 0;
        $flags |= !empty($options['soft_delete_missing']) ? $ffi->FK_IMPORT_SOFT_DELETE_MISSING : 0;
        $flags |= !empty($options['report_all']) ? $ffi->FK_IMPORT_REPORT_ALL : 0;
        $o->flags = $flags;
        $o->unknown_keys = !empty($options['drop_unknown_keys']) ? $ffi->FK_UNKNOWN_KEYS_DROP
                                                                 : $ffi->FK_UNKNOWN_KEYS_REFUSE;
        if (isset($options['admin_email']) && $options['admin_email'] !== '') {
            $o->admin_email = $this->cstr((string) $options['admin_email'], $keep);
        }
        $o->key_map = $this->keyMap($options, $keep);
        return $this->reportCall(fn ($r) => $ffi->fk_import($r, $this->ctx(), self::arg($dir), FFI::addr($o)));
    }

    // ------------------------------------------------------------ proof

    /**
     * Compares the database with $dir.
     * @return array<string, mixed> the report (identical)
     * @throws \FortKnox\Exception\VerificationFailedException differences; getReport() lists them
     */
    public function verify(string $dir): array
    {
        $ffi = $this->ffi;
        $o = $ffi->new('fk_verify_options');
        $ffi->fk_verify_options_init(FFI::addr($o), $ffi->FK_VERIFY_OPTIONS_VERSION);
        return $this->reportCall(fn ($r) => $ffi->fk_verify($r, $this->ctx(), self::arg($dir), FFI::addr($o)));
    }

    /**
     * Rehearses a restore of $dir in a scratch schema (live rows untouched).
     * @return array<string, mixed> the report (restores exactly)
     * @throws \FortKnox\Exception\VerificationFailedException it does not; getReport() says why
     */
    public function drill(string $dir): array
    {
        $ffi = $this->ffi;
        $o = $ffi->new('fk_verify_options');
        $ffi->fk_verify_options_init(FFI::addr($o), $ffi->FK_VERIFY_OPTIONS_VERSION);
        return $this->reportCall(fn ($r) => $ffi->fk_drill($r, $this->ctx(), self::arg($dir), FFI::addr($o)));
    }

    /**
     * Looks for silent loss and what makes loss possible.
     * @param array{fixture_dir?: ?string, backup_dir?: ?string, drop_warn_ratio?: float,
     *              max_export_age_s?: int, max_backup_age_s?: int, backup_shrink_ratio?: float,
     *              mass_change_ratio?: float, mass_change_min?: int, mass_change_window_s?: int,
     *              accept_mass_change?: list<int>} $options accept_mass_change: transaction ids
     *              of FK-MASS-CHANGE findings that were meant
     * @return array<string, mixed> the report (no error finding; warnings possible)
     * @throws \FortKnox\Exception\VerificationFailedException an error finding; getReport() has all
     */
    public function doctor(array $options = []): array
    {
        self::known($options, ['fixture_dir', 'backup_dir', 'drop_warn_ratio', 'max_export_age_s',
                               'max_backup_age_s', 'backup_shrink_ratio', 'mass_change_ratio',
                               'mass_change_min', 'mass_change_window_s', 'accept_mass_change']);
        $ffi = $this->ffi;
        $keep = [];
        $o = $ffi->new('fk_doctor_options');
        $ffi->fk_doctor_options_init(FFI::addr($o), $ffi->FK_DOCTOR_OPTIONS_VERSION);
        foreach (['fixture_dir', 'backup_dir'] as $k) {
            if (isset($options[$k]) && $options[$k] !== '') {
                $o->$k = $this->cstr((string) $options[$k], $keep);
            }
        }
        foreach (['drop_warn_ratio', 'backup_shrink_ratio', 'mass_change_ratio'] as $k) {
            if (isset($options[$k])) {
                $o->$k = (float) $options[$k];
            }
        }
        foreach (['max_export_age_s', 'max_backup_age_s', 'mass_change_min', 'mass_change_window_s'] as $k) {
            if (isset($options[$k])) {
                $o->$k = (int) $options[$k];
            }
        }
        $accept = array_values($options['accept_mass_change'] ?? []);
        if ($accept) {
            $ids = $ffi->new('int64_t[' . count($accept) . ']');
            foreach ($accept as $i => $x) {
                $ids[$i] = (int) $x;
            }
            $keep[] = $ids;
            $o->accept_mass_change = $ffi->cast('const int64_t *', FFI::addr($ids[0]));
            $o->naccept_mass_change = count($accept);
        }
        return $this->reportCall(fn ($r) => $ffi->fk_doctor($r, $this->ctx(), FFI::addr($o)));
    }

    // --------------------------------------------------------- layer 2

    /**
     * Installs (or upgrades) the audit log, guards and, in capture mode, the
     * capture triggers, in one transaction.
     * @param array{mode?: string, parthenon_table?: bool, no_guards?: bool,
     *              add_soft_delete?: bool, app_role?: ?string} $options mode: "app" or "capture"
     * @return array<string, mixed> the report
     */
    public function install(array $options = []): array
    {
        self::known($options, ['mode', 'parthenon_table', 'no_guards', 'add_soft_delete', 'app_role']);
        $ffi = $this->ffi;
        $keep = [];
        $o = $ffi->new('fk_install_options');
        $ffi->fk_install_options_init(FFI::addr($o), $ffi->FK_INSTALL_OPTIONS_VERSION);
        $mode = $options['mode'] ?? self::MODE_APP;
        if ($mode !== self::MODE_APP && $mode !== self::MODE_CAPTURE) {
            throw self::usage("install: mode must be \"app\" or \"capture\", not \"$mode\"");
        }
        $o->mode = $mode === self::MODE_CAPTURE ? $ffi->FK_AUDIT_CAPTURE : $ffi->FK_AUDIT_APP;
        $flags = !empty($options['parthenon_table']) ? $ffi->FK_INSTALL_PARTHENON_TABLE : 0;
        $flags |= !empty($options['no_guards']) ? $ffi->FK_INSTALL_NO_GUARDS : 0;
        $flags |= !empty($options['add_soft_delete']) ? $ffi->FK_INSTALL_ADD_SOFT_DELETE : 0;
        $o->flags = $flags;
        if (isset($options['app_role']) && $options['app_role'] !== '') {
            $o->app_role = $this->cstr((string) $options['app_role'], $keep);
        }
        return $this->reportCall(fn ($r) => $ffi->fk_install($r, $this->ctx(), FFI::addr($o)));
    }

    /** What is installed: ['installed' => true, 'mode' => 'capture', ...] or ['installed' => false]. */
    public function installStatus(): array
    {
        return self::decode($this->installStatusJson());
    }

    /** installStatus() as the library returns it (fk_install_status(): JSON text). */
    public function installStatusJson(): string
    {
        $out = $this->ffi->new('char*');
        $this->check($this->ffi->fk_install_status(FFI::addr($out), $this->ctx()));
        return $this->takeString($out);
    }

    /** Schema version this library installs. */
    public static function installSchemaVersion(): int
    {
        return Library::ffi()->fk_install_schema_version();
    }

    /**
     * Writes one audit row (app mode), then refreshes the entity's fixture when
     * the context has a fixture root.
     *
     * @param array<string, mixed>|string $event the event as an array or JSON object:
     *        entity_type, entity_id, action ("created", "updated", "deleted", "restored",
     *        "force_deleted"), and optionally entity_name, actor_id, actor_email,
     *        ip_address, old, new (arrays, JSON strings, or null). Without "old" the
     *        state recorded by auditBefore() is used.
     * @return int the audit row's id
     */
    public function auditWrite(array|string $event): int
    {
        if (is_array($event)) {
            $event = self::eventJson($event);
        }
        $id = $this->ffi->new('int64_t');
        $this->check($this->ffi->fk_audit_write_json(FFI::addr($id), $this->ctx(), self::arg($event)));
        return (int) $id->cdata;
    }

    /**
     * Records an entity's state before a change (an ORM's "updating" or
     * "deleting" hook), for the next auditWrite() of the same entity.
     * @param array<string, mixed>|string $old the state (array, or a JSON object)
     */
    public function auditBefore(string $type, int $id, array|string $old): void
    {
        $json = is_array($old) ? self::encode($old, true) : $old;
        $this->check($this->ffi->fk_audit_before($this->ctx(), self::arg($type), $id, self::arg($json)));
    }

    /** States recorded by auditBefore() and not used yet. */
    public function auditPending(): int
    {
        return (int) $this->ffi->fk_audit_pending($this->ctx());
    }

    /** Drops every pending before-state. */
    public function auditForget(): void
    {
        $this->ffi->fk_audit_forget($this->ctx());
    }

    /**
     * Sets the actor for what this context does next (imports, restores;
     * capture triggers see it on this connection). Null/0 clears.
     */
    public function setActor(?int $actorId, ?string $actorEmail = null, ?string $ipAddress = null): void
    {
        $this->check($this->ffi->fk_set_actor($this->ctx(), $actorId ?? 0,
            $actorEmail === null ? null : self::arg($actorEmail),
            $ipAddress === null ? null : self::arg($ipAddress)));
    }

    /**
     * Seals the audit log: every committed row not yet in the hash chain is
     * hashed into it, in id order (fk_audit_seal(); docs/audit.md,
     * "Sealing"). Rows are written unsealed; run this from the scheduler
     * where nothing else (watch, export, audit verify) seals often.
     * @return int rows sealed
     * @throws \FortKnox\Exception\TamperDetectedException a row past the head is sealed already
     */
    public function auditSeal(): int
    {
        $n = $this->ffi->new('uint64_t');
        $this->check($this->ffi->fk_audit_seal(FFI::addr($n), $this->ctx()));
        return (int) $n->cdata;
    }

    /**
     * Recomputes the audit hash chain; with $anchorDir also checks the chain
     * head anchored in that fixture directory's manifest and every head in
     * its witness (fortknox-witness), then records the verified head there
     * (docs/fixture-format.md, "The witness").
     * @return array<string, mixed> the report (intact)
     * @throws \FortKnox\Exception\TamperDetectedException broken; getReport() names the row
     */
    public function auditVerify(?string $anchorDir = null): array
    {
        $ffi = $this->ffi;
        return $this->reportCall(fn ($r) => $ffi->fk_audit_verify($r, $this->ctx(),
            $anchorDir === null ? null : self::arg($anchorDir)));
    }

    /**
     * Audit rows, newest first (every column; old_json, new_json and
     * changed_fields decoded).
     * @param ?string $type entity type to filter on (null = all)
     * @param int $id entity id (with $type; 0 = all)
     * @param int $limit at most this many rows (0 = the library's default, 100)
     * @param ?string $since only rows at or after this time ("2026-03-15", "2026-03-15T02:00:00Z");
     *        one PostgreSQL cannot read throws InvalidArgumentException (FK_EINVAL) listing the accepted forms
     * @param bool $diff add to each row "diff": its per-field changes, as diff() gives them
     * @return list<array<string, mixed>>
     */
    public function history(?string $type = null, int $id = 0, int $limit = 100, ?string $since = null,
                            bool $diff = false): array
    {
        $rows = self::decode($this->historyJson($type, $id, $limit, $since, $diff));
        foreach ($rows as &$row) {
            foreach (['old_json', 'new_json', 'changed_fields'] as $k) {
                if (isset($row[$k]) && is_string($row[$k])) {
                    $row[$k] = self::decode($row[$k]);
                }
            }
        }
        return $rows;
    }

    /**
     * history()'s rows as the library returns them (fk_audit_log(), with
     * $diff fk_audit_diff()): JSON text, for formatAuditLog() and --json.
     */
    public function historyJson(?string $type = null, int $id = 0, int $limit = 100, ?string $since = null,
                                bool $diff = false): string
    {
        $ffi = $this->ffi;
        $keep = [];
        $q = $ffi->new('fk_audit_query');
        $ffi->fk_audit_query_init(FFI::addr($q), $ffi->FK_AUDIT_QUERY_VERSION);
        if ($type !== null) {
            $q->entity_type = $this->cstr($type, $keep);
        }
        $q->entity_id = $id;
        $q->limit = $limit;
        if ($since !== null) {
            $q->since = $this->cstr($since, $keep);
        }
        $out = $ffi->new('char*');
        $this->check($ffi->fk_audit_log(FFI::addr($out), $this->ctx(), FFI::addr($q)));
        $text = $this->takeString($out);
        if ($diff) {
            $out = $ffi->new('char*');
            self::formatted($ffi, $ffi->fk_audit_diff(FFI::addr($out), $text));
            $text = $this->takeString($out);
        }
        return $text;
    }

    /**
     * historyJson()'s rows as `fortknox audit log` prints them
     * (fk_audit_log_format()): a table, or with $diff (rows from
     * historyJson(..., diff: true)) a block of diff lines per row.
     */
    public static function formatAuditLog(string $rowsJson, bool $diff = false): string
    {
        $ffi = Library::ffi();
        $out = $ffi->new('char*');
        self::formatted($ffi, $ffi->fk_audit_log_format(FFI::addr($out), $rowsJson,
            $diff ? $ffi->FK_AUDIT_LOG_FORMAT_DIFF : 0));
        return self::take($ffi, $out);
    }

    /**
     * An entity's state as the audit log knows it at a time ($asOf) or an
     * audit row ($auditId): give one. A time PostgreSQL cannot read, or a
     * row that is not this entity's, is FK_EINVAL.
     * @return array<string, mixed>
     */
    public function asOf(string $type, int $id, ?string $asOf = null, int $auditId = 0): array
    {
        $out = $this->ffi->new('char*');
        $this->check($this->ffi->fk_entity_as_of(FFI::addr($out), $this->ctx(), self::arg($type), $id,
                                                 $asOf === null ? null : self::arg($asOf), $auditId));
        return self::decode($this->takeString($out));
    }

    /**
     * Puts an entity back into its state at $asOf / audit row $auditId, in one
     * transaction, audited as "restored"; with neither, a force-deleted entity
     * comes back from its deletion row. A time PostgreSQL cannot read, or a
     * row that is not this entity's, is FK_EINVAL. A recorded state whose keys
     * no longer match the table (a column renamed, dropped or added since) is
     * a ParseException naming the audit row and the key, unless $options say
     * how to read it (map, drop_keys, defaults: see keyMap()).
     * @param array{map?: array<string, string>|list<string>, drop_keys?: list<string>,
     *              defaults?: list<string>} $options
     * @return array<string, mixed> the report
     */
    public function restore(string $type, int $id, ?string $asOf = null, int $auditId = 0,
                            array $options = []): array
    {
        self::known($options, ['map', 'drop_keys', 'defaults']);
        $ffi = $this->ffi;
        $keep = [];
        $map = $this->keyMap($options, $keep);
        return $this->reportCall(fn ($r) => $ffi->fk_entity_restore_mapped($r, $this->ctx(),
            self::arg($type), $id, $asOf === null ? null : self::arg($asOf), $auditId, $map));
    }

    /**
     * The fk_key_map of $options, or null when they give none: 'map' as
     * ['[TABLE.]OLD' => 'NEW', ...] or ['[TABLE.]OLD=NEW', ...] (the key OLD
     * fills column NEW), 'drop_keys' ['[TABLE.]KEY', ...] (left out, values
     * and all), 'defaults' ['[TABLE.]COLUMN', ...] (a document without the
     * column gives it its DEFAULT; '*' for every such column).
     * @param array<string, mixed> $options
     * @param list<CData> $keep
     */
    private function keyMap(array $options, array &$keep): ?CData
    {
        $map = [];
        foreach ((array) ($options['map'] ?? []) as $old => $new) {
            $map[] = is_int($old) ? (string) $new : "$old=$new";
        }
        if (!$map && empty($options['drop_keys']) && empty($options['defaults'])) {
            return null;
        }
        $ffi = $this->ffi;
        $km = $ffi->new('fk_key_map');
        $ffi->fk_key_map_init(FFI::addr($km), $ffi->FK_KEY_MAP_VERSION);
        [$km->map, $km->nmap] = $this->cstrList($map, $keep);
        [$km->drop_key, $km->ndrop_key] = $this->cstrList((array) ($options['drop_keys'] ?? []), $keep);
        [$km->default_col, $km->ndefault_col] = $this->cstrList((array) ($options['defaults'] ?? []), $keep);
        $keep[] = $km;
        return FFI::addr($km);
    }

    /**
     * Every entity (or every entity of $type) back to its state at $asOf, in
     * one transaction (docs/recovery.md, "Undo an incident"); $dryRun
     * reports each change with its per-field diff and changes nothing.
     * @return array<string, mixed> the report
     */
    public function restoreAll(string $asOf, ?string $type = null, bool $dryRun = false): array
    {
        $ffi = $this->ffi;
        $keep = [];
        $o = $ffi->new('fk_restore_all_options');
        $ffi->fk_restore_all_options_init(FFI::addr($o), $ffi->FK_RESTORE_ALL_OPTIONS_VERSION);
        $o->as_of = $this->cstr($asOf, $keep);
        if ($type !== null) {
            $o->entity_type = $this->cstr($type, $keep);
        }
        $o->flags = $dryRun ? $ffi->FK_RESTORE_ALL_DRY_RUN : 0;
        return $this->reportCall(fn ($r) => $ffi->fk_restore_all($r, $this->ctx(), FFI::addr($o)));
    }

    // ------------------------------------------------------- internals

    private function ctx(): CData
    {
        if ($this->ctx === null) {
            throw self::usage('the FortKnox context is closed');
        }
        return $this->ctx;
    }

    /** Throws the exception for a negative status. */
    private function check(int $rc, ?array $report = null): void
    {
        if ($rc < 0) {
            $ffi = $this->ffi;
            $msg = $this->ctx !== null ? $ffi->fk_errmsg($this->ctx) : $ffi->fk_errmsg(null);
            throw FortKnoxException::fromStatus($rc, $msg !== '' ? $msg : $ffi->fk_strerror($rc),
                                                $ffi->fk_status_name($rc), $report);
        }
    }

    /**
     * Calls $call with an fk_report** and returns the report decoded; on a
     * negative status throws, with the report attached when there is one.
     */
    private function reportCall(callable $call): array
    {
        $ffi = $this->ffi;
        $this->dropReport();
        $r = $ffi->new('fk_report*');
        $rc = $call(FFI::addr($r));
        // Read the message before anything else can replace it.
        $msg = $rc < 0 ? $ffi->fk_errmsg($this->ctx) : '';
        $report = null;
        if (!FFI::isNull($r)) {
            $this->lastReport = $r;
            $json = $ffi->new('char*');
            $jrc = $ffi->fk_report_json(FFI::addr($json), $r);
            if ($jrc === 0) {
                $report = self::decode($this->takeString($json));
            }
            if ($report === null && $rc >= 0) {
                $rc = $jrc;
                $msg = $ffi->fk_strerror($jrc);
            }
        }
        if ($rc < 0) {
            throw FortKnoxException::fromStatus($rc, $msg !== '' ? $msg : $ffi->fk_strerror($rc),
                                                $ffi->fk_status_name($rc), $report);
        }
        return $report ?? [];
    }

    private function dropReport(): void
    {
        if ($this->lastReport !== null) {
            $this->ffi->fk_report_free($this->lastReport);
            $this->lastReport = null;
        }
    }

    /** fk_report_format() with the options of formatReport(). */
    private static function formatWith(FFI $ffi, ?CData $report, array $options): string
    {
        self::known($options, ['command', 'status', 'exit_status', 'error', 'summary', 'subject',
                               'data', 'verbose', 'quiet', 'json']);
        $keep = [];
        $str = function (?string $s) use ($ffi, &$keep): ?CData {
            return $s === null ? null : self::cstrWith($ffi, $s, $keep);
        };
        $status = (int) ($options['status'] ?? 0);
        $summary = $options['summary'] ?? null;
        if ($summary === null && $report !== null && array_key_exists('subject', $options)) {
            $summary = self::summaryWith($ffi, $report, $status, $options['subject']);
        }
        $o = $ffi->new('fk_report_format_options');
        $ffi->fk_report_format_options_init(FFI::addr($o), $ffi->FK_REPORT_FORMAT_OPTIONS_VERSION);
        $o->flags = (!empty($options['json']) ? $ffi->FK_REPORT_FORMAT_JSON : 0)
            | (!empty($options['verbose']) ? $ffi->FK_REPORT_FORMAT_VERBOSE : 0)
            | (!empty($options['quiet']) ? $ffi->FK_REPORT_FORMAT_QUIET : 0);
        $o->status = $status;
        $o->exit_status = (int) ($options['exit_status'] ?? 0);
        foreach (['command' => $options['command'] ?? null, 'error' => $options['error'] ?? null,
                  'summary' => $summary, 'data' => $options['data'] ?? null] as $field => $value) {
            $o->$field = $str($value === null ? null : (string) $value);
        }
        $out = $ffi->new('char*');
        self::formatted($ffi, $ffi->fk_report_format(FFI::addr($out), $report, FFI::addr($o)));
        return self::take($ffi, $out);
    }

    /** Throws for a failed formatting call (context-free: fk_errmsg(NULL)). */
    private static function formatted(FFI $ffi, int $rc): void
    {
        if ($rc < 0) {
            throw FortKnoxException::fromStatus($rc, $ffi->fk_errmsg(null) ?: $ffi->fk_strerror($rc),
                                                $ffi->fk_status_name($rc));
        }
    }

    /** Copies a library-owned string and releases it with fk_free(). */
    private function takeString(CData $p, ?int $len = null): string
    {
        return self::take($this->ffi, $p, $len);
    }

    private static function take(FFI $ffi, CData $p, ?int $len = null): string
    {
        if (FFI::isNull($p)) {
            return '';
        }
        try {
            return $len === null ? FFI::string($p) : FFI::string($p, $len);
        } finally {
            $ffi->fk_free($p);
        }
    }

    /**
     * A NUL-terminated copy of $s in memory PHP owns, as a char* for a
     * structure field; the buffer stays alive as long as $keep does.
     * @param list<CData> $keep
     */
    private function cstr(string $s, array &$keep): CData
    {
        return self::cstrWith($this->ffi, $s, $keep);
    }

    /**
     * A `const char *const *` option and its count from a list of strings
     * ([NULL, 0] when empty); $keep holds what must outlive the call.
     * @param list<string> $list
     * @param list<CData> $keep
     * @return array{0: ?CData, 1: int}
     */
    private function cstrList(array $list, array &$keep): array
    {
        $list = array_values($list);
        if (!$list) {
            return [null, 0];
        }
        $arr = $this->ffi->new('char*[' . count($list) . ']');
        foreach ($list as $i => $v) {
            $arr[$i] = $this->cstr((string) $v, $keep);
        }
        $keep[] = $arr;
        return [FFI::cast('const char *const *', FFI::addr($arr[0])), count($list)];
    }

    /** @param list<CData> $keep */
    private static function cstrWith(FFI $ffi, string $s, array &$keep): CData
    {
        self::arg($s);
        $n = strlen($s);
        $buf = $ffi->new('char[' . ($n + 1) . ']');
        if ($n > 0) {
            FFI::memcpy($buf, $s, $n);
        }
        $buf[$n] = "\0";
        $keep[] = $buf;
        return FFI::cast('char*', $buf);
    }

    /** A string argument: C strings end at the first NUL, so one inside is refused. */
    private static function arg(string $s): string
    {
        if (str_contains($s, "\0")) {
            throw self::usage('a string argument contains a NUL byte');
        }
        return $s;
    }

    private static function format(int|string $f): int
    {
        return match ($f) {
            self::FORMAT_PARTHENON, 'parthenon' => self::FORMAT_PARTHENON,
            self::FORMAT_CANONICAL, 'canonical' => self::FORMAT_CANONICAL,
            default => throw self::usage("unknown format \"$f\" (parthenon or canonical)"),
        };
    }

    /** @param array<string, mixed> $options @param list<string> $known */
    private static function known(array $options, array $known): void
    {
        foreach (array_keys($options) as $k) {
            if (!in_array($k, $known, true)) {
                throw self::usage("unknown option \"$k\" (known: " . implode(', ', $known) . ')');
            }
        }
    }

    /** An FK_EINVAL raised by the binding itself. */
    private static function usage(string $msg): InvalidArgumentException
    {
        return new InvalidArgumentException($msg, -1, 'FK_EINVAL');
    }

    /** @param array<string, mixed> $event */
    private static function eventJson(array $event): string
    {
        // old/new given as JSON text go in verbatim (key order and numbers as they are).
        $raw = [];
        foreach (['old', 'new'] as $k) {
            if (isset($event[$k]) && is_string($event[$k])) {
                $raw[$k] = $event[$k];
                unset($event[$k]);
            } elseif (array_key_exists($k, $event) && is_array($event[$k])) {
                $event[$k] = (object) $event[$k];
            }
        }
        $json = self::encode($event, true);
        foreach ($raw as $k => $text) {
            $json = substr($json, 0, -1) . ($json === '{}' ? '' : ',') . json_encode($k) . ':' . $text . '}';
        }
        return $json;
    }

    private static function encode(mixed $v, bool $object = false): string
    {
        if ($object && is_array($v)) {
            $v = (object) $v;
        }
        return json_encode($v, JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES
                               | JSON_PRESERVE_ZERO_FRACTION);
    }

    private static function decode(string $json): mixed
    {
        return json_decode($json, true, 512, JSON_THROW_ON_ERROR);
    }
}
