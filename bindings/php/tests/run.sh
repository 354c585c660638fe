#!/bin/sh
# The PHP binding's test suite, as meson runs it (through tests/php_launcher,
# which provides FORTKNOX_PHP_DSN and FORTKNOX_LIB), or by hand:
#
#   FORTKNOX_PHP_DSN='host=... dbname=...' FORTKNOX_LIB=build/lib/libfortknox.so.0 \
#     sh bindings/php/tests/run.sh [phpunit arguments]
#
# 1. checks that src/fortknox_ffi.h matches include/fortknox/*.h (no database);
# 2. runs PHPUnit (tests/phpunit.xml).
# Without php (with FFI) or phpunit: exit 77 (skip), or 1 when
# FORTKNOX_REQUIRE_PG=1 (CI: the suite must run). PHP=... and PHPUNIT=...
# choose other binaries.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PHP=${PHP:-php}
PHPUNIT=${PHPUNIT:-phpunit}

missing() {
  if [ "${FORTKNOX_REQUIRE_PG:-}" = 1 ]; then
    echo "php tests: $1, and FORTKNOX_REQUIRE_PG=1: failing (install php8.2-cli, phpunit, php-laravel-framework)" >&2
    exit 1
  fi
  echo "php tests: $1: skipped (FORTKNOX_REQUIRE_PG=1 makes this a failure)" >&2
  exit 77
}

command -v "$PHP" >/dev/null 2>&1 || missing "no '$PHP' on PATH"
command -v "$PHPUNIT" >/dev/null 2>&1 || missing "no '$PHPUNIT' on PATH"
"$PHP" -r 'exit(extension_loaded("FFI") ? 0 : 1);' || missing "PHP has no FFI extension"
"$PHP" -r 'exit(extension_loaded("pdo_pgsql") ? 0 : 1);' || missing "PHP has no pdo_pgsql (php8.2-pgsql)"
# tests/app is a Laravel application booted with Debian's framework.
"$PHP" -r 'exit(stream_resolve_include_path("Illuminate/Foundation/Application.php") ? 0 : 1);' ||
  missing "no Laravel framework (php-laravel-framework)"

"$PHP" "$here/check_header.php" || exit 1
# ffi.enable=true: the tests load the library with FFI::cdef() (no preload).
exec "$PHP" -d ffi.enable=1 -d zend.assertions=1 "$(command -v "$PHPUNIT")" \
  --configuration "$here/phpunit.xml" "$@"
