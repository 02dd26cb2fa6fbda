#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and provision a Valkey add-on
# on this machine (the local transport, the embedded default: a real server on
# loopback, its record in SQLite), then print its REDIS_URL and PING it.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
bash "$src/scripts/setup-debian.sh"
BUILD_DIR="$src/_build" bash "$src/scripts/build.sh"
cli="$src/_build/tools/valkeyaddon"
export XDG_STATE_HOME="${XDG_STATE_HOME:-$HOME/.local/state}"

echo "\$ valkeyaddon name --tenant acme --app web"
"$cli" -o table name --tenant acme --app web
echo "\$ valkeyaddon provision --tenant acme --app web --plan standard"
"$cli" -o table provision --tenant acme --app web --plan standard --timeout 60s
echo "\$ valkeyaddon status --tenant acme --app web"
"$cli" -o table status --tenant acme --app web
REDIS_URL="$("$cli" -o table url --tenant acme --app web)"
echo "REDIS_URL=$REDIS_URL"
# Checked without putting the password in any process's arguments; by hand,
# `redis-cli -u "$REDIS_URL" ping` does the same.
hostport="${REDIS_URL##*@}"
echo "\$ redis-cli -u \"\$REDIS_URL\" ping"
REDISCLI_AUTH="$(printf '%s' "$REDIS_URL" | sed -e 's|^redis://[^:]*:||' -e 's|@.*$||')" \
    redis-cli --no-auth-warning -h "${hostport%:*}" -p "${hostport##*:}" ping
echo "(stop it with: $cli deprovision --tenant acme --app web)"
