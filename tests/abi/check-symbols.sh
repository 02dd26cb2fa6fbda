#!/bin/sh
# The shared library exports exactly the names in the version script, each at
# its node's version, and the five domain functions are among them.
set -eu
sym="$top_srcdir/libvalkeyaddon/libvalkeyaddon.sym"
so="$top_builddir/.libs/libvalkeyaddon.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Expected: NAME@@NODE for every name listed under a node's "global:".
awk '
    /\/\*/ { comment = 1 }
    comment { if (/\*\//) comment = 0; next }
    /^[A-Z0-9_.]+ *\{/ { node = $1; sub(/\{/, "", node); section = ""; next }
    /^}/ { section = ""; next }
    /global:/ { section = "global"; next }
    /local:/ { section = "local"; next }
    section == "global" && /;/ { name = $1; sub(/;/, "", name); print name "@@" node }
' "$sym" | sort > "$tmp/expected"

# Actual: defined dynamic symbols, minus the version-node symbols (type A).
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort > "$tmp/actual"

if ! diff -u "$tmp/expected" "$tmp/actual"; then
    echo "FAIL: exported symbols differ from $sym (- expected, + exported)"
    exit 1
fi
for f in valkey_name valkey_plan_config ensure_valkey ensure_redis_url_secret parse_valkey_status; do
    if ! grep -qx "$f@@VALKEYADDON_1.0" "$tmp/actual"; then
        echo "FAIL: $f is not exported as $f@@VALKEYADDON_1.0"
        exit 1
    fi
done
echo "PASS: $(wc -l < "$tmp/actual") exported symbols match the version script"
