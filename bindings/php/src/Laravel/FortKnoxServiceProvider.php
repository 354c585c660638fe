<?php

declare(strict_types=1);

namespace FortKnox\Laravel;

use FortKnox\FortKnox;
use Illuminate\Support\ServiceProvider;

/**
 * Registered by Laravel's package auto-discovery (composer.json
 * "extra.laravel.providers"):
 *  - FortKnox as a singleton, opened on first use from config/fortknox.php;
 *  - FortKnoxObserver as a singleton (actor = the authenticated user, IP =
 *    the request's), registered at boot on every model in fortknox.models;
 *  - the artisan commands fortknox:install, :export, :import, :verify, :drill,
 *    :doctor, :audit:verify, :audit:log, :restore, :snapshot.
 */
class FortKnoxServiceProvider extends ServiceProvider
{
    public const COMMANDS = [
        Console\InstallCommand::class,
        Console\ExportCommand::class,
        Console\ImportCommand::class,
        Console\VerifyCommand::class,
        Console\DrillCommand::class,
        Console\DoctorCommand::class,
        Console\AuditVerifyCommand::class,
        Console\AuditLogCommand::class,
        Console\RestoreCommand::class,
        Console\SnapshotCommand::class,
    ];

    public function register(): void
    {
        $this->mergeConfigFrom(self::configFile(), 'fortknox');

        $this->app->singleton(FortKnox::class, function ($app) {
            $config = $app['config'];
            return self::open((array) $config->get('fortknox', []), (array) $config->get('database', []));
        });

        $this->app->singleton(FortKnoxObserver::class, function ($app) {
            return new FortKnoxObserver(
                fn () => $app->make(FortKnox::class),
                fn () => $app->bound('auth') ? $app['auth']->user() : null,
                fn () => $app->bound('request') && !$app->runningInConsole() ? $app['request']->ip() : null,
                $app->bound('events') ? $app['events'] : null,
            );
        });
    }

    public function boot(): void
    {
        if (function_exists('config_path')) {
            $this->publishes([self::configFile() => config_path('fortknox.php')], 'fortknox-config');
        }
        if ($this->app->runningInConsole() && class_exists(\Illuminate\Console\Command::class)) {
            $this->commands(self::COMMANDS);
        }
        $models = (array) $this->app['config']->get('fortknox.models', []);
        if ($models) {
            // Resolving it now lets it hear transactions begin (capture mode actor)
            // before the first model event.
            $this->app->make(FortKnoxObserver::class);
            foreach ($models as $model) {
                $model::observe(FortKnoxObserver::class);
            }
            $this->actorLifetime();
        }
    }

    /**
     * Capture mode: the actor follows Laravel's user (login, Auth::setUser(),
     * logout) and ends with the request, job or command that set it, on
     * every open connection (a persistent one outlives them all).
     */
    private function actorLifetime(): void
    {
        if (!$this->app->bound('events')) {
            return;
        }
        $each = function (string $method): \Closure {
            return function () use ($method): void {
                if (!$this->app->resolved('db')) {
                    return; // no connection opened yet: nothing to set or clear
                }
                $observer = $this->app->make(FortKnoxObserver::class);
                foreach ($this->app['db']->getConnections() as $connection) {
                    $observer->$method($connection);
                }
            };
        };
        $events = $this->app['events'];
        $events->listen(['Illuminate\Auth\Events\Authenticated', 'Illuminate\Auth\Events\Logout'],
                        $each('actorChanged'));
        $events->listen(['Illuminate\Foundation\Http\Events\RequestHandled',
                         'Illuminate\Queue\Events\JobProcessed', 'Illuminate\Queue\Events\JobFailed',
                         'Illuminate\Queue\Events\JobExceptionOccurred',
                         'Illuminate\Console\Events\CommandFinished'], $each('forgetActor'));
    }

    public static function configFile(): string
    {
        return dirname(__DIR__, 2) . '/config/fortknox.php';
    }

    /**
     * Opens the context described by the fortknox config.
     * @param array<string, mixed> $config   config('fortknox')
     * @param array<string, mixed> $database config('database'), for a dsn built from a connection
     */
    public static function open(array $config, array $database = []): FortKnox
    {
        if (!empty($config['library'])) {
            FortKnox::setLibraryPath((string) $config['library']);
        }
        $options = [];
        foreach (['registry_file', 'schema', 'fixture_root', 'admin_email'] as $k) {
            if (isset($config[$k]) && $config[$k] !== '') {
                $options[$k] = (string) $config[$k];
            }
        }
        return new FortKnox(self::conninfo($config, $database), $options);
    }

    /**
     * The libpq conninfo: fortknox.dsn, else built from a Laravel pgsql
     * connection (fortknox.connection, else database.default).
     * @param array<string, mixed> $config
     * @param array<string, mixed> $database
     */
    public static function conninfo(array $config, array $database): string
    {
        if (!empty($config['dsn'])) {
            return (string) $config['dsn'];
        }
        $name = ($config['connection'] ?? null) ?: ($database['default'] ?? null);
        $c = $name !== null ? ($database['connections'][$name] ?? null) : null;
        if (!is_array($c)) {
            return '';
        }
        if (($c['driver'] ?? 'pgsql') !== 'pgsql') {
            throw new \FortKnox\Exception\InvalidArgumentException(
                "fortknox: database connection \"$name\" is not PostgreSQL; set fortknox.dsn", -1, 'FK_EINVAL');
        }
        if (!empty($c['url'])) {
            return (string) $c['url'];
        }
        $map = ['host' => 'host', 'port' => 'port', 'database' => 'dbname', 'username' => 'user',
                'password' => 'password', 'sslmode' => 'sslmode'];
        $parts = [];
        foreach ($map as $from => $to) {
            $v = $c[$from] ?? null;
            if (is_array($v)) {
                $v = implode(',', $v); // several hosts
            }
            if ($v !== null && $v !== '') {
                $parts[] = $to . "='" . addcslashes((string) $v, "'\\") . "'";
            }
        }
        return implode(' ', $parts);
    }
}
