<?php

declare(strict_types=1);

namespace FortKnox\Tests\Support;

use FortKnox\Laravel\FortKnoxObserver;
use Illuminate\Container\Container;
use Illuminate\Database\Capsule\Manager;
use Illuminate\Database\DatabaseTransactionsManager;
use Illuminate\Database\Eloquent\Model;
use Illuminate\Events\Dispatcher;

/**
 * Real Eloquent (Capsule) on a test database, wired as a Laravel application
 * wires it: one event dispatcher for models and connections, a transaction
 * manager (DatabaseServiceProvider sets one), observers resolved from the
 * container.
 */
final class Eloquent
{
    public static function boot(string $conninfo): Manager
    {
        $container = new Container();
        $capsule = new Manager($container);
        $capsule->addConnection(TestDb::eloquentConfig($conninfo));
        $events = new Dispatcher($container);
        $capsule->setEventDispatcher($events);
        $capsule->setAsGlobal();
        Model::clearBootedModels();
        $capsule->bootEloquent();
        $capsule->getConnection()->setTransactionManager(new DatabaseTransactionsManager());
        return $capsule;
    }

    /** Binds the observer in the container and registers it on the models. */
    public static function observe(Manager $capsule, FortKnoxObserver $observer, string ...$models): void
    {
        $capsule->getContainer()->instance(FortKnoxObserver::class, $observer);
        foreach ($models as $m) {
            $m::observe(FortKnoxObserver::class);
        }
    }
}
