#!/bin/sh
# Every object of every plan, with and without the extras and the exporter,
# validated against the official Kubernetes (and Prometheus Operator) schemas
# by tests/objects/schema/validate.mjs.
#
# The validator's packages are installed with
#     npm ci --prefix tests/objects/schema
# and looked for in $VALKEYADDON_SCHEMA_DIR/node_modules, then in
# $top_srcdir/tests/objects/schema/node_modules. Without them (or without
# node) the test is skipped (77), unless VALKEYADDON_REQUIRE_SCHEMA=1: then it fails.
set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
dump=$builddir/tests/objects/dump_objects

unavailable() {
    echo "$1"
    if [ "${VALKEYADDON_REQUIRE_SCHEMA:-0}" = 1 ]; then
        echo "VALKEYADDON_REQUIRE_SCHEMA=1: failing instead of skipping"
        exit 1
    fi
    exit 77
}

schema_dir=
for dir in "${VALKEYADDON_SCHEMA_DIR:-}" "$srcdir/tests/objects/schema"; do
    if [ -n "$dir" ] && [ -f "$dir/node_modules/kubernetes-models/package.json" ] &&
        [ -f "$dir/node_modules/@kubernetes-models/prometheus-operator/package.json" ] &&
        [ -f "$dir/node_modules/typescript/bin/tsc" ]; then
        schema_dir=$dir
        break
    fi
done
[ -n "$schema_dir" ] || unavailable "schema packages not installed: run npm ci --prefix tests/objects/schema"
command -v node > /dev/null 2>&1 || unavailable "node not found"
[ -x "$dump" ] || { echo "not built: $dump"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# A throwaway password, never printed.
DUMP_PASSWORD=$(LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 32)
export DUMP_PASSWORD

for plan in free standard pro; do
    for variant in "" "--extras" "--extras --no-exporter" "--extras --storage-class fast-ssd"; do
        # shellcheck disable=SC2086 # variant is a word list
        if ! "$dump" --namespace tenant-ns --tenant acme --app web --plan "$plan" $variant >> "$tmp/objects.jsonl"; then
            echo "FAIL - dump_objects --plan $plan $variant"
            exit 1
        fi
    done
done
echo "# $(wc -l < "$tmp/objects.jsonl") objects, validated with the packages in $schema_dir"
node "$srcdir/tests/objects/schema/validate.mjs" "$schema_dir" < "$tmp/objects.jsonl"
