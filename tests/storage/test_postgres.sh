#!/bin/sh
# The PostgreSQL storage against a real, throw-away server (tests/support/pg.sh).
# The cmocka program prints every line the library logged; none of it, nor
# anything else the program wrote, may contain the test role's password.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
. "$top_srcdir/tests/support/pg.sh"
pg_start
export VALKEYADDON_TEST_PG_SH="$top_srcdir/tests/support/pg.sh"

# The installed script works on its own, twice (users run it with their own tools).
for run in 1 2; do
    pg_psql < "$top_srcdir/sql/app_addons.postgres.sql" > /dev/null 2>&1 ||
        { echo "FAIL: psql could not run sql/app_addons.postgres.sql (run $run)"; exit 1; }
done
pg_psql -c "DROP TABLE app_addons" > /dev/null

out="$PG_TEST_DIR/program.out"
status=0
"$top_builddir/tests/storage/test_storage_postgres" > "$out" 2>&1 || status=$?
cat "$out"
if grep -qF -- "$PG_PASSWORD" "$out"; then
    echo "FAIL: the test role's password appears in the program's output"
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "---- server log"
    tail -n 40 "$PG_TEST_DIR/server.log" || true
fi
exit "$status"
