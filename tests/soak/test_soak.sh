#!/usr/bin/env bash
# The fault soak (docs/fault-soak.md): VALKEYADDON_SOAK_COUNT provisions (default 500;
# 60 in a sanitizer build) through one context against the Kubernetes API test server
# with about 10% of requests faulted (5xx, 429 with Retry-After, dropped connections,
# latency; seeded: VALKEYADDON_SOAK_SEED), PostgreSQL restarted half-way through the
# first pass, then every app provisioned again. Checks: every add-on Ready, no password
# rotated, no app_addons row lost or duplicated, exactly one of each object per app.
# Bounded in time too: VALKEYADDON_SOAK_TIMEOUT seconds (default 60 + 1 per app).
# Skips (77) without PostgreSQL unless VALKEYADDON_REQUIRE_POSTGRES=1 (tests/support/pg.sh).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
python=${PYTHON3:-python3}

case "${CFLAGS:-}" in
*-fsanitize*) default_count=60 ;; # instrumented: a smaller soak keeps the sanitizer build cheap
*) default_count=500 ;;
esac
count=${VALKEYADDON_SOAK_COUNT:-$default_count}
seed=${VALKEYADDON_SOAK_SEED:-20240611}
case "$count$seed" in *[!0-9]*)
    echo "FAIL: VALKEYADDON_SOAK_COUNT and VALKEYADDON_SOAK_SEED must be numbers"
    exit 1
    ;;
esac
limit=${VALKEYADDON_SOAK_TIMEOUT:-$((60 + count))}

. "$top_srcdir/tests/support/pg.sh"
pg_start

dir=$(mktemp -d /tmp/vka-soak.XXXXXX) || exit 1
server_pid="" driver_pid=""
cleanup() {
    [ -n "$driver_pid" ] && kill "$driver_pid" 2> /dev/null && wait "$driver_pid" 2> /dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null && wait "$server_pid" 2> /dev/null
    rm -rf "$dir"
    pg_stop
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$dir/driver.err" "$dir/server.log"; do
        [ -s "$f" ] || continue
        if grep -qF -- "$PG_PASSWORD" "$f"; then
            echo "FAIL: the database password appeared in $(basename "$f") (not shown)"
        else
            echo "--- last lines of $(basename "$f")"
            tail -n 20 "$f"
        fi
    done
    exit 1
}

# The API test server; its controller makes a StatefulSet ready 20 ms after each change.
"$python" "$top_srcdir/tests/support/kube_api_server.py" --state-dir "$dir/kube" --auto-ready 0.02 \
    > "$dir/server.out" 2> "$dir/server.log" &
server_pid=$!
for _ in $(seq 300); do
    grep -q '^READY ' "$dir/server.out" 2> /dev/null && break
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
done
grep -q '^READY ' "$dir/server.out" || fail "the API test server did not start"
"$python" "$top_srcdir/tests/soak/soak_check.py" faults "$dir/kube/server.json" "$seed" || fail "installing the faults"

echo "fault soak: $count apps, seed $seed, time limit $limit s"
start=$(date +%s)
PG_CONNINFO="$PG_CONNINFO" "$top_builddir/tests/soak/soak_driver" "$dir/kube/kubeconfig" "$count" \
    "$dir/restart-request" "$dir/restart-done" "$dir/pass1-done" "$dir/snapshot-done" "$dir/stats" \
    > "$dir/driver.out" 2> "$dir/driver.err" &
driver_pid=$!
restarted=0 snapshotted=0
while kill -0 "$driver_pid" 2> /dev/null; do
    if [ $restarted = 0 ] && [ -e "$dir/restart-request" ]; then
        # -m fast: the server drops every connection, as a failover does; provisions go on meanwhile.
        pg_restart || fail "pg_ctl restart failed"
        restarted=1
        touch "$dir/restart-done"
    fi
    if [ $snapshotted = 0 ] && [ -e "$dir/pass1-done" ]; then
        "$python" "$top_srcdir/tests/soak/soak_check.py" snapshot "$dir/kube/server.json" "$dir/snapshot.json" ||
            fail "snapshot of the passwords"
        snapshotted=1
        touch "$dir/snapshot-done"
    fi
    if [ $(($(date +%s) - start)) -gt "$limit" ]; then
        fail "the soak ran over its time limit of $limit s (VALKEYADDON_SOAK_TIMEOUT)"
    fi
    sleep 0.1
done
wait "$driver_pid"
driver_rc=$?
driver_pid=""
cat "$dir/driver.out"
[ $driver_rc = 0 ] || fail "the driver failed (exit $driver_rc)"

sql_counts=$(pg_psql -At -F ' ' -c "SELECT count(*), count(DISTINCT (app_id, addon_type)),
        count(*) FILTER (WHERE status = 'ready'),
        (SELECT count(*) FROM generate_series(0, $count - 1) g
          WHERE NOT EXISTS (SELECT 1 FROM app_addons a WHERE a.app_id = 'soak-' || g AND a.addon_type = 'valkey'))
        FROM app_addons") || fail "reading app_addons with psql"
"$python" "$top_srcdir/tests/soak/soak_check.py" check "$dir/kube/server.json" "$count" "$dir/snapshot.json" \
    "$dir/stats" "$sql_counts" > "$dir/summary" 2>&1
check_rc=$?
# The database password must not appear in anything printed (checked before printing).
if grep -qF -- "$PG_PASSWORD" "$dir/summary" "$dir/driver.out" "$dir/driver.err"; then
    echo "FAIL: the database password appeared in the soak's output (not shown)"
    exit 1
fi
[ -s "$dir/driver.err" ] && { echo "--- driver messages"; cat "$dir/driver.err"; }
cat "$dir/summary"
echo "fault soak: $(($(date +%s) - start)) s in all"
exit $check_rc
