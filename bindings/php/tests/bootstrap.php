<?php
// PHPUnit bootstrap: Composer's autoloader when the package was installed with
// `composer install`, else a PSR-4 autoloader for FortKnox\ (src/) and
// FortKnox\Tests\ (tests/) plus Debian's Laravel components
// (php-illuminate-database, php-illuminate-events).
declare(strict_types=1);

$root = dirname(__DIR__);
if (is_file("$root/vendor/autoload.php")) {
    require "$root/vendor/autoload.php";
} else {
    spl_autoload_register(function (string $class) use ($root): void {
        foreach (['FortKnox\\Tests\\' => "$root/tests/", 'FortKnox\\' => "$root/src/"] as $prefix => $dir) {
            if (str_starts_with($class, $prefix)) {
                $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }
                return;
            }
        }
    });
    foreach (['Illuminate/Database/autoload.php', 'Illuminate/Events/autoload.php',
              'Illuminate/Support/autoload.php'] as $al) {
        if (stream_resolve_include_path($al)) {
            require_once $al;
        }
    }
}

if (!getenv('FORTKNOX_PHP_DSN')) {
    fwrite(STDERR, "FORTKNOX_PHP_DSN is not set: run the suite through meson (meson test -C build php)\n"
        . "or tests/run.sh with a database (see the README)\n");
    exit(1);
}
