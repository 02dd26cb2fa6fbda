#!/usr/bin/env bash
# The provision flow against a real PostgreSQL server started here (tests/support/pg.sh):
# the end-to-end CLI tests of test_flow_e2e.py with --database pointing at it, then one
# context surviving a server restart (flow_restart). The database password must not appear
# in anything the tests printed.
set -u
. "$top_srcdir/tests/support/pg.sh"
pg_start

log="$PG_TEST_DIR/test-output.log"
rc=0

VALKEYADDON_TEST_DATABASE="$PG_CONNINFO" VALKEYADDON_TEST_DATABASE_PASSWORD="$PG_PASSWORD" \
    "${PYTHON3:-python3}" "$top_srcdir/tests/flow/test_flow_e2e.py" > "$log" 2>&1 || rc=1

request="$PG_TEST_DIR/restart-request" done_file="$PG_TEST_DIR/restart-done"
PG_CONNINFO="$PG_CONNINFO" "$top_builddir/tests/flow/flow_restart" "$request" "$done_file" >> "$log" 2>&1 &
child=$!
for _ in $(seq 600); do
    [ -e "$request" ] || ! kill -0 "$child" 2> /dev/null && break
    sleep 0.1
done
if [ -e "$request" ]; then
    pg_restart >> "$log" 2>&1
    touch "$done_file"
fi
wait "$child" || rc=1

# Checked before printing, so that a leak is reported, not repeated.
if grep -qF -- "$PG_PASSWORD" "$log"; then
    echo "FAIL: the database password appeared in the test output (not shown)"
    exit 1
fi
cat "$log"
exit $rc
