#!/usr/bin/env bash
# The database password never in argv (tests/hygiene/test_process_args.py, DatabasePassword):
# --database-file, VALKEYADDON_DATABASE, libpq's PGPASSWORD and PGPASSFILE, against a real
# PostgreSQL server started here (tests/support/pg.sh). Those cases skip without a server,
# so a skip here is a failure; and the password must not appear in anything they printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$top_srcdir/tests/support/pg.sh"
pg_start

log="$PG_TEST_DIR/test-output.log"
rc=0
VALKEYADDON_TEST_PG_HOST="$PG_TEST_DIR" VALKEYADDON_TEST_PG_PORT="$PG_PORT" VALKEYADDON_TEST_PG_PASSWORD="$PG_PASSWORD" \
    "${PYTHON3:-python3}" "$top_srcdir/tests/hygiene/test_process_args.py" -v DatabasePassword > "$log" 2>&1 || rc=1

if grep -qF -- "$PG_PASSWORD" "$log"; then
    echo "FAIL: the database password appeared in the test output (not shown)"
    exit 1
fi
cat "$log"
if grep -q "skipped" "$log"; then
    echo "FAIL: DatabasePassword cases were skipped although a server runs"
    exit 1
fi
exit $rc
