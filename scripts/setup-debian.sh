#!/usr/bin/env bash
# Install everything libvalkeyaddon needs to build and test, from Debian 12's
# packages only (plus the npm registry for the schema validator). Idempotent.
set -euo pipefail

packages=(
    build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev
    libcurl4-openssl-dev libyajl-dev libssl-dev libpq-dev libyaml-dev libsqlite3-dev libcmocka-dev
    abigail-tools python3 openssl ca-certificates procps busybox valgrind shellcheck
    redis-server redis-tools postgresql prometheus-redis-exporter
    golang-go python3-pytest python3-venv python3-setuptools python3-pip
    python3-kubernetes python3-h2
)
command -v node > /dev/null && command -v npm > /dev/null || packages+=(nodejs npm)
# kubectl for the benchmark (bench/README.md); Debian's is 1.20, any newer one on PATH is kept.
command -v kubectl > /dev/null || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # policy-rc.d-less containers cannot start services; the packages still install.
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        > /tmp/valkeyaddon-apt.log 2>&1 || { tail -n 30 /tmp/valkeyaddon-apt.log; exit 1; }
fi

# The offline Kubernetes schema validator used by the object tests.
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/tests/objects/schema/package.json" ] && [ ! -d "$here/tests/objects/schema/node_modules" ]; then
    echo "setup: installing the schema validator (npm ci)"
    (cd "$here/tests/objects/schema" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The client-node peer of the benchmark (bench/README.md), pinned by its package-lock.json.
if [ -f "$here/bench/node/package.json" ] && [ ! -d "$here/bench/node/node_modules" ]; then
    echo "setup: installing the benchmark's client-node (npm ci)"
    (cd "$here/bench/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
