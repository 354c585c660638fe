#!/bin/sh
# deploy-snapshot.sh: the fixture snapshot a deploy takes before it migrates,
# and the checks after. Replaces the hand-written "export fixtures, git add,
# git commit" block of Parthenon's deploy.sh with `fortknox snapshot --git`,
# which commits ONLY the fixture paths (never whatever else happens to be
# staged) and does nothing when nothing changed.
#
#   FORTKNOX_DB="host=/run/postgresql dbname=parthenon" sh deploy-snapshot.sh
#
# Exit status: 0 deployed; otherwise the deploy stopped before harm was done.
set -eu

FIXTURES=${FIXTURES:-storage/fixtures}   # inside the application's git work tree
FORTKNOX=${FORTKNOX:-fortknox}

# 1. Before touching the schema: every design entity into git. If this fails
#    (database down, not a work tree, disk full) the migration does not run.
"$FORTKNOX" snapshot "$FIXTURES" --git --message "chore: fortknox snapshot before deploy [skip ci]"

# 2. The application's own steps.
php artisan migrate --force
php artisan db:seed --force   # a seeder's TRUNCATE ... CASCADE is refused by the guards

# 3. After: the install is current, nothing was lost, the fixtures still restore.
"$FORTKNOX" install --quiet
status=0
"$FORTKNOX" doctor --fixtures "$FIXTURES" || status=$?
if [ "$status" -ne 0 ]; then
    # 1 = loss or a disabled guard found (3 = doctor could not run): the
    # snapshot from step 1 holds every design
    echo "deploy: doctor reported a problem; restore with: $FORTKNOX import $FIXTURES" >&2
    exit "$status"
fi
"$FORTKNOX" --quiet drill "$FIXTURES"
