#!/bin/sh
# A Laravel deploy: snapshot the design records into git, then migrate.
# fortknox:snapshot --git commits ONLY the fixture paths (whatever else is
# staged stays staged), commits nothing when nothing changed, and exits
# non-zero on a loss, which stops the deploy before the migration runs.
set -eu
cd "$(dirname "$0")"
PHP=${PHP:-php}
"$PHP" artisan fortknox:snapshot fixtures --git --message "chore: fortknox snapshot before deploy [skip ci]"
"$PHP" artisan migrate --force
