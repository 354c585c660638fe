<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\FortKnox;
use Illuminate\Contracts\Events\Dispatcher;
use Illuminate\Database\ConnectionInterface;
use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Events\TransactionBeginning;

/**
 * One observer for every design model (it replaces one hand-written
 * observer per model):
 *
 *     CohortDefinition::observe(FortKnoxObserver::class);
 *
 * It finds the entity type from the model's table through the registry. It
 * may also be registered on a child model (a concept set's items): a change
 * of a child is audited as an "updated" row of its parent entity.
 *
 * App mode (the default install): at "updating"/"deleting" it records the
 * entity's state (fk_audit_before()); at "created", "updated", "deleted"
 * (soft), "restored" and "forceDeleted" it writes the audit row (old, new,
 * actor, IP; the library computes changed_fields) and the library refreshes
 * the entity's fixture file. States are read on the model's own connection
 * (so they are right inside the application's transaction) as the capture
 * triggers would record them. Inside a transaction the write waits for the
 * commit (Laravel's transaction manager; dropped on rollback) — without a
 * transaction manager it is written at once.
 *
 * Capture mode (fk_install_status() says "mode": "capture"): the database
 * writes the audit rows itself, so the observer writes nothing; it passes the
 * actor to the triggers on the model's connection:
 *     SELECT set_config('fortknox.actor_id', ?, true), ... ('fortknox.actor_email', 'fortknox.ip')
 * at the start of every transaction on a PostgreSQL connection and before
 * every model write (transaction-local inside a transaction; for a statement
 * outside one, session-level, since a transaction-local setting would end
 * with the SELECT itself). bindActor() does the same for a connection by
 * hand. In Laravel the service provider also calls actorChanged() when the
 * user changes (login, Auth::setUser() in a command or a job, logout) and
 * forgetActor() when a request, a queued job or a command ends, on every
 * open connection: a session-level actor never outlives its request.
 *
 * Writes that bypass model events (Model::query()->update(), deletes through
 * the query builder) are not seen in app mode: use capture mode for them.
 * A failed audit write is thrown, never dropped.
 */
class FortKnoxObserver
{
    /** @var \Closure(): FortKnox */
    private \Closure $fortknox;
    private ?EntityMap $map = null;
    private ?string $mode = null;
    /** @var (\Closure(): mixed)|null */
    private ?\Closure $actorResolver;
    /** @var (\Closure(): ?string)|null */
    private ?\Closure $ipResolver;
    /** @var \WeakMap<Model, array<string, string>> before-states ("type:id" => JSON) of writes that wait for a commit */
    private \WeakMap $pendingOld;
    /** @var \WeakMap<Model, true> models being restored (restore() saves: skip its "updated") */
    private \WeakMap $restoring;

    /**
     * @param FortKnox|callable(): FortKnox $fortknox the context (or a factory: opened on first use)
     * @param callable|null $actor returns the current user: an object with getAuthIdentifier()
     *        or an "id", and an "email" (an Eloquent user), an array ['id' => .., 'email' => ..],
     *        or null for none
     * @param callable|null $ip returns the request's IP address or null
     * @param Dispatcher|null $events where TransactionBeginning is heard (capture mode actor)
     */
    public function __construct(FortKnox|callable $fortknox, ?callable $actor = null, ?callable $ip = null,
                                ?Dispatcher $events = null)
    {
        $this->fortknox = $fortknox instanceof FortKnox ? fn () => $fortknox : \Closure::fromCallable($fortknox);
        $this->actorResolver = $actor ? \Closure::fromCallable($actor) : null;
        $this->ipResolver = $ip ? \Closure::fromCallable($ip) : null;
        $this->pendingOld = new \WeakMap();
        $this->restoring = new \WeakMap();
        $events?->listen(TransactionBeginning::class, function (TransactionBeginning $e): void {
            $this->transactionBeginning($e->connection);
        });
    }

    // ----------------------------------------------------- Eloquent events

    public function creating(Model $model): void
    {
        $this->beforeWrite($model);
        if (!$this->capture() && $this->isChild($model)) {
            $this->recordOld($model); // the parent before its new child
        }
    }

    public function created(Model $model): void
    {
        if (!$this->capture()) {
            $this->write($model, 'created', false);
        }
    }

    public function updating(Model $model): void
    {
        $this->beforeWrite($model);
        if (!$this->capture()) {
            $this->recordOld($model);
        }
    }

    public function updated(Model $model): void
    {
        if (!$this->capture() && !isset($this->restoring[$model])) {
            $this->write($model, 'updated', false);
        }
    }

    public function deleting(Model $model): void
    {
        $this->beforeWrite($model);
        if (!$this->capture()) {
            $this->recordOld($model);
        }
    }

    public function deleted(Model $model): void
    {
        if ($this->capture()) {
            return;
        }
        $soft = method_exists($model, 'isForceDeleting');
        if ($soft && $model->isForceDeleting()) {
            return; // "forceDeleted" follows
        }
        // (a child row deleted: write() records it as its parent "updated")
        $this->write($model, $soft ? 'deleted' : 'force_deleted', !$soft);
    }

    public function restoring(Model $model): void
    {
        $this->beforeWrite($model);
        $this->restoring[$model] = true;
    }

    public function restored(Model $model): void
    {
        unset($this->restoring[$model]);
        if (!$this->capture()) {
            $this->write($model, 'restored', false);
        }
    }

    public function forceDeleted(Model $model): void
    {
        if (!$this->capture()) {
            $this->write($model, 'force_deleted', true);
        }
    }

    // ------------------------------------------------------------- public

    /** The audit mode installed in the database: "app", "capture", or null (not installed). */
    public function mode(): ?string
    {
        if ($this->mode === null) {
            $status = $this->fk()->installStatus();
            $this->mode = !empty($status['installed']) ? (string) ($status['mode'] ?? 'app') : '';
        }
        return $this->mode === '' ? null : $this->mode;
    }

    /** Forgets the cached mode and registry (after an install or a migration). */
    public function refresh(): void
    {
        $this->mode = null;
        $this->map = null;
    }

    /** The table => entity map from the registry. */
    public function entities(): EntityMap
    {
        return $this->map ??= EntityMap::fromFortKnox($this->fk());
    }

    /** The entity type of a model (NotFoundException when its table is not registered). */
    public function entityType(Model $model): string
    {
        return $this->entity($model)['type'];
    }

    /**
     * Passes the current actor to the capture triggers on $connection:
     * transaction-local inside a transaction, else for the session.
     */
    public function bindActor(ConnectionInterface $connection): void
    {
        [$id, $email] = $this->actor();
        $ip = $this->ipResolver ? ($this->ipResolver)() : null;
        $local = $connection->transactionLevel() > 0 ? 'true' : 'false';
        $connection->select(
            "SELECT set_config('fortknox.actor_id', ?, $local), set_config('fortknox.actor_email', ?, $local),"
            . " set_config('fortknox.ip', ?, $local)",
            [$id === null ? '' : (string) $id, (string) ($email ?? ''), (string) ($ip ?? '')]);
    }

    /**
     * Clears an actor left on $connection for the session (capture mode): at
     * the end of a request, a job or a command, so that a connection that
     * outlives them (persistent connections, Octane, a queue worker) never
     * passes the last user to the next one's writes.
     */
    public function forgetActor(ConnectionInterface $connection): void
    {
        // inside a transaction left open (a failed request): a SELECT may fail
        // there, and the transaction-local actor ends with it anyway
        if (!$this->pgsql($connection) || $connection->transactionLevel() > 0 || !$this->capture()) {
            return;
        }
        $connection->select("SELECT set_config('fortknox.actor_id', '', false),"
            . " set_config('fortknox.actor_email', '', false), set_config('fortknox.ip', '', false)");
    }

    /**
     * The user changed (a login, Auth::setUser() in a command or a job, a
     * logout): passes the new one to the capture triggers on $connection
     * now, so that writes outside a transaction and without a model event
     * (the query builder, DB::update()) are recorded with it.
     */
    public function actorChanged(ConnectionInterface $connection): void
    {
        if ($this->pgsql($connection) && $this->capture()) {
            $this->bindActor($connection);
        }
    }

    /**
     * The entity document of a model as its connection sees it now (JSON
     * object text), or null when the row does not exist.
     */
    public function document(Model $model): ?string
    {
        $key = $model->getKey();
        return $key === null ? null : $this->documentOf($model, $this->entity($model), (int) $key);
    }

    // ---------------------------------------------------------- internals

    private function fk(): FortKnox
    {
        return ($this->fortknox)();
    }

    private function capture(): bool
    {
        return $this->mode() === FortKnox::MODE_CAPTURE;
    }

    /** @return array<string, mixed> */
    private function entity(Model $model): array
    {
        return $this->entities()->forTable($this->table($model));
    }

    private function table(Model $model): string
    {
        return $model->getConnection()->getTablePrefix() . $model->getTable();
    }

    /**
     * The entities a model's write changes: the entity itself, or for a child
     * row its parent(s) (the old and the new one when it moves).
     * @return list<array{0: array<string, mixed>, 1: int}> [entity, id]
     */
    private function targets(Model $model): array
    {
        $parents = $this->entities()->parentsOf($this->table($model));
        if (!$parents) {
            $key = $model->getKey();
            return $key === null ? [] : [[$this->entity($model), (int) $key]];
        }
        $out = [];
        foreach ($parents as $p) {
            $ids = [$model->getOriginal($p['foreign_key']), $model->getAttribute($p['foreign_key'])];
            foreach (array_unique(array_filter($ids, fn ($v) => $v !== null)) as $id) {
                $out[] = [$p['entity'], (int) $id];
            }
        }
        return $out;
    }

    private function isChild(Model $model): bool
    {
        return $this->entities()->parentsOf($this->table($model)) !== [];
    }

    /** The document of entity $e with id $id as $model's connection sees it now, or null. */
    private function documentOf(Model $model, array $e, int $id): ?string
    {
        $row = $model->getConnection()->selectOne($this->entities()->documentSql($e), [$id]);
        return $row === null ? null : (string) (is_array($row) ? $row['doc'] : $row->doc);
    }

    private function recordOld(Model $model): void
    {
        $wait = $this->waitsForCommit($model);
        foreach ($this->targets($model) as [$e, $id]) {
            $old = $this->documentOf($model, $e, $id);
            if ($old === null) {
                continue;
            }
            if ($wait) {
                $pending = $this->pendingOld[$model] ?? [];
                $pending[$e['type'] . ':' . $id] = $old;
                $this->pendingOld[$model] = $pending;
            } else {
                $this->fk()->auditBefore($e['type'], $id, $old);
            }
        }
    }

    private function write(Model $model, string $action, bool $gone): void
    {
        $child = $this->isChild($model);
        if ($child) {
            $action = 'updated'; // a child row changed: its parent was updated
            $gone = false;
        }
        [$actorId, $email] = $this->actor();
        $ip = $this->ipResolver ? ($this->ipResolver)() : null;
        $wait = $this->waitsForCommit($model);
        $pending = $wait ? ($this->pendingOld[$model] ?? []) : [];
        unset($this->pendingOld[$model]);
        $events = [];
        foreach ($this->targets($model) as [$e, $id]) {
            $new = $gone ? null : $this->documentOf($model, $e, $id);
            if ($child && $new === null) {
                continue; // the parent itself is gone: its own row says so
            }
            $event = [
                'entity_type' => $e['type'],
                'entity_id' => $id,
                'action' => $action,
                'actor_id' => $actorId,
                'actor_email' => $email,
                'ip_address' => $ip,
            ];
            $name = self::name($e, $child ? null : $model, $new);
            if ($name !== null) {
                $event['entity_name'] = $name;
            }
            if ($new !== null) {
                $event['new'] = $new;
            }
            if (isset($pending[$e['type'] . ':' . $id])) {
                $event['old'] = $pending[$e['type'] . ':' . $id];
            }
            $events[] = $event;
        }
        if (!$events) {
            return;
        }
        $fk = $this->fk();
        if ($wait) {
            $model->getConnection()->afterCommit(function () use ($fk, $events): void {
                foreach ($events as $event) {
                    $fk->auditWrite($event);
                }
            });
            return;
        }
        foreach ($events as $event) {
            $fk->auditWrite($event);
        }
    }

    /** The entity's name: the model's attribute, else from its document. */
    private static function name(array $e, ?Model $model, ?string $doc): ?string
    {
        $col = $e['name_column'] ?? null;
        if ($col === null) {
            return null;
        }
        $v = $model?->getAttribute($col);
        if ($v === null && $doc !== null) {
            $v = json_decode($doc, true)[$col] ?? null;
        }
        return is_scalar($v) ? (string) $v : null;
    }

    private function transactionBeginning(ConnectionInterface $connection): void
    {
        $this->actorChanged($connection);
    }

    private function pgsql(ConnectionInterface $connection): bool
    {
        return !method_exists($connection, 'getDriverName') || $connection->getDriverName() === 'pgsql';
    }

    /** Capture mode: the actor for the statement the model is about to run. */
    private function beforeWrite(Model $model): void
    {
        if ($this->capture()) {
            $this->bindActor($model->getConnection());
        }
    }

    /** Inside a transaction with a transaction manager: writes wait for the commit. */
    private function waitsForCommit(Model $model): bool
    {
        $c = $model->getConnection();
        if ($c->transactionLevel() === 0 || !method_exists($c, 'afterCommit')) {
            return false;
        }
        $manager = (fn () => $this->transactionsManager ?? null)->call($c);
        return $manager !== null;
    }

    /** @return array{0: ?int, 1: ?string} actor id and email */
    private function actor(): array
    {
        $user = $this->actorResolver ? ($this->actorResolver)() : null;
        if ($user === null) {
            return [null, null];
        }
        if (is_array($user)) {
            $id = $user['id'] ?? null;
            return [$id === null ? null : (int) $id, isset($user['email']) ? (string) $user['email'] : null];
        }
        if (is_object($user)) {
            $id = method_exists($user, 'getAuthIdentifier') ? $user->getAuthIdentifier() : ($user->id ?? null);
            $email = $user->email ?? null;
            return [is_numeric($id) ? (int) $id : null, $email === null ? null : (string) $email];
        }
        return [is_numeric($user) ? (int) $user : null, null];
    }
}
