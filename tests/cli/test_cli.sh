#!/bin/sh
# End to end: the built valkeyaddon binary, as ../shared/CLI.md specifies name, plans, version.
set -eu
. "$top_srcdir/tests/cli/assert.sh"

# name
run name --tenant acme --app web -o table
expect_status 0 "name (table)"
expect_out "valkey-acme-web" "name (table)"
expect_err_empty "name (table)"

run name --tenant acme --app web
expect_status 0 "name (piped: json by default)"
expect_json "d['name'] == 'valkey-acme-web' and d['auth_secret'] == 'valkey-acme-web-auth' and d['redis_url_secret'] == 'app-web-redis-url' and d['shortened'] is False" "name json"

run -o json name --tenant=1b4e28ba-2fa1-11d2-883f-0016d3cca427 --app=6ba7b810-9dad-11d1-80b4-00c04fd430c8
expect_status 0 "name with UUIDs"
expect_json "d['name'] == 'valkey-1b4e28ba-2fa1-11d2-883f-0016d3--r3qfri7yliuf3' and d['shortened'] is True and len(d['name']) <= 52" "name with UUIDs"

run name --tenant acme --app web -o yaml
expect_status 0 "name yaml"
expect_out_has "name: valkey-acme-web" "name yaml"
expect_out_has "shortened: false" "name yaml"

run name --tenant Acme --app web
expect_status 2 "name with an invalid tenant"
expect_one_error_line "name with an invalid tenant"
expect_err_has "valkeyaddon: name: tenant_id: character 'A' at position 1 is not allowed" "name with an invalid tenant"

run name --tenant acme
expect_status 2 "name without --app"
expect_one_error_line "name without --app"

run name --tenant
expect_status 2 "name --tenant without a value"
expect_err_has "--tenant needs a value" "name --tenant without a value"

run name --tenant acme --app web --bogus
expect_status 2 "name with an unknown option"

run name --help
expect_status 0 "name --help"
expect_out_has "Usage: valkeyaddon name" "name --help"

# plans
run plans -o json
expect_status 0 "plans json"
expect_json "[p['plan'] for p in d] == ['free', 'standard', 'pro']" "plans order"
expect_json "[(p['replicas'], p['memory'], p['persistence']) for p in d] == [(1, '64Mi', 'none'), (1, '256Mi', 'rdb_daily'), (3, '1Gi', 'rdb_aof')]" "plans match the spec"
expect_json "all(p['maxmemory_policy'] == 'noeviction' for p in d) and [p['maxmemory_percent'] for p in d] == [80, 60, 50]" "plans maxmemory"
expect_json "d[0]['volume_size'] is None and d[1]['volume_size'] == '1Gi' and d[2]['appendfsync'] == 'everysec'" "plans volumes"

run plans --plan pro -o json
expect_status 0 "plans --plan pro"
expect_json "d['plan'] == 'pro' and d['requested'] == 'pro' and d['fell_back'] is False" "plans --plan pro"
expect_err_empty "plans --plan pro"

run plans --plan Pro -o json
expect_status 0 "plans --plan Pro (unknown: falls back)"
expect_json "d['plan'] == 'free' and d['requested'] == 'Pro' and d['fell_back'] is True" "plans fall-back"
expect_err_has "unknown plan \"Pro\", using \"free\"" "plans fall-back warning"

run -q plans --plan Pro -o json
expect_err_empty "plans fall-back with -q"

run plans -o table
expect_status 0 "plans table"
expect_out_has "PLAN" "plans table header"
expect_out_has "rdb_daily" "plans table rows"
expect_out_has " 50m/250m " "plans table CPU column reads request/limit"
expect_out_has " 250m/1000m " "plans table CPU column for pro"

run plans -o yaml
expect_status 0 "plans yaml"
expect_out_has "- plan: free" "plans yaml"
expect_out_has "save: \"86400 1\"" "plans yaml quotes strings that look like numbers"

run plans --plan
expect_status 2 "plans --plan without a value"

# version
run version -o json
expect_status 0 "version"
expect_json "d['version'] == d['library_version'] and len(d['version'].split('.')) == 3" "version json"
run version -o table
expect_out_has "valkeyaddon " "version table"

# usage
run
expect_status 2 "no command"
run frobnicate
expect_status 2 "unknown command"
expect_one_error_line "unknown command"
expect_err_has "unknown command \"frobnicate\"" "unknown command"
run -o xml plans
expect_status 2 "unknown output format"
expect_one_error_line "unknown output format"
run --transport carrier-pigeon plans
expect_status 2 "unknown transport"
run --help
expect_status 0 "--help"
expect_out_has "Exit codes:" "--help documents exit codes"

# global options may follow the command
run name --tenant acme --app web --output json
expect_json "d['name'] == 'valkey-acme-web'" "global option after the command"

# The command makes itself non-dumpable (prctl PR_SET_DUMPABLE 0, docs/secret-hygiene.md):
# no core file, and no other process of the same user may ptrace it or read /proc/PID/mem.
# Seen from outside: the kernel then gives its /proc/PID files to root. So the command runs
# as another user (nobody when we are root), kept alive reading a password from a FIFO.
mkfifo "$work/fifo"
exec 3<> "$work/fifo"
if [ "$(id -u)" -eq 0 ]; then as_other="setpriv --reuid=nobody --regid=nogroup --clear-groups --"; else as_other=""; fi
$as_other "$VALKEYADDON" render --tenant acme --app web --password-file /dev/stdin < "$work/fifo" > /dev/null 2>&1 &
parked=$!
owner=""
for _ in $(seq 100); do
    # Once past the libtool wrapper and the first lines of main(), the owner turns to root.
    owner=$(stat -c %u "/proc/$parked/environ" 2> /dev/null || echo gone)
    [ "$owner" = 0 ] && break
    sleep 0.05
done
running_as=$(stat -c %u "/proc/$parked" 2> /dev/null || echo none)
kill "$parked" 2> /dev/null || true
wait "$parked" 2> /dev/null || true
exec 3>&-
if [ "$owner" = 0 ] && { [ "$(id -u)" -ne 0 ] || [ -n "$as_other" ]; }; then ok
else bad "valkeyaddon is dumpable: /proc/PID/environ owned by uid '$owner', not 0 (process uid $running_as)"; fi

finish
