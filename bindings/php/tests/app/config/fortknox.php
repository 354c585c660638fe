<?php

// libfortknox for Laravel. Publish with
//   php artisan vendor:publish --provider="FortKnox\Laravel\FortKnoxServiceProvider"
// and adjust; every value can also come from the environment.

// Laravel's env() (the getenv() fallback serves setups without phpdotenv).
$env = function_exists('env') && class_exists(\PhpOption\Option::class) ? 'env'
    : fn (string $key, mixed $default = null): mixed => getenv($key) === false ? $default : getenv($key);

// The variable names are the fortknox tool's (FORTKNOX_DB, FORTKNOX_REGISTRY, ...),
// so one .env serves both. FORTKNOX_DSN is the old name of FORTKNOX_DB: still read,
// with a deprecation notice (Laravel logs E_USER_DEPRECATED to its deprecations channel).
$dsn = $env('FORTKNOX_DB');
if ($dsn === null && $env('FORTKNOX_DSN') !== null) {
    $dsn = $env('FORTKNOX_DSN');
    @trigger_error('fortknox: FORTKNOX_DSN is deprecated, use FORTKNOX_DB (same value)', E_USER_DEPRECATED);
}

return [
    // libpq connection string or URI of the database holding the design
    // tables ("host=/run/postgresql dbname=parthenon", "postgresql://..."):
    // FORTKNOX_DB (formerly FORTKNOX_DSN). Empty: built from the application's
    // database connection below.
    'dsn' => $dsn ?? '',

    // Laravel database connection used when 'dsn' is empty (null = the default one).
    'connection' => $env('FORTKNOX_CONNECTION'),

    // Path of libfortknox.so.0 when it is not on the linker's search path
    // (e.g. /opt/fortknox/lib/libfortknox.so.0). Null: FORTKNOX_LIB, then the soname.
    'library' => $env('FORTKNOX_LIB'),

    // JSON registry of the entity tables (docs/registry.md; `fortknox registry init`
    // proposes one); null = the built-in Parthenon registry.
    'registry_file' => $env('FORTKNOX_REGISTRY', base_path('fortknox-registry.json')),

    // Schema for libfortknox's own objects (audit log, functions); null = "fortknox".
    'schema' => $env('FORTKNOX_SCHEMA'),

    // Fixture directory (kept in git): the default DIR of the artisan commands,
    // and refreshed after every audit write. Null: no refresh; the commands then
    // need their DIR argument.
    'fixture_root' => $env('FORTKNOX_FIXTURE_ROOT',
        function_exists('base_path') ? base_path('fixtures') : null),

    // Author for imported entities whose author no longer exists.
    'admin_email' => $env('FORTKNOX_ADMIN_EMAIL'),

    // Models the observer is registered on at boot (instead of one
    // Model::observe(FortKnoxObserver::class) line per model), e.g.
    //   [App\Models\CohortDefinition::class, App\Models\ConceptSet::class]
    'models' => [App\Models\CohortDefinition::class, App\Models\ConceptSet::class, App\Models\ConceptSetItem::class],
];
