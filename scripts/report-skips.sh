#!/usr/bin/env bash
# Name every test that the last `make check` in BUILD_DIR skipped, with its reason,
# and fail when one was skipped that CI can run:
#     bash scripts/report-skips.sh BUILD_DIR [TEST=REASON]...
# TEST=REASON allows TEST to skip in this build, for REASON (scripts/test.sh allows the
# two binding drivers in its sanitizer build, and nothing else). TEST is the test's name
# as make check prints it (tests/bindings/test_go.sh) or its log's base name
# (tests/bindings/test_go). Any other skip fails: exit 1.
#
# It reads BUILD_DIR/test-suite.log, so only the tests of that run count: automake
# copies into it the log of every test that did not pass, under a "SKIP: name" title
# underlined with "=". The reason is what the test printed on lines starting with
# "SKIP:", "SKIP -", "SKIPPED" (pytest -rs) or "--- SKIP:" (go test -v).
set -euo pipefail
dir="${1:?usage: bash scripts/report-skips.sh BUILD_DIR [TEST=REASON]...}"
shift
log="$dir/test-suite.log"
[ -f "$log" ] || { echo "skips: $log is missing (run make check there first)" >&2; exit 1; }

allowance() { # NAME: the reason NAME may skip, or nothing
    local entry key
    for entry in "${allowed[@]}"; do
        key="${entry%%=*}"
        case "$key" in *.sh | *.py) key="${key%.*}" ;; esac
        if [ "$key" = "$1" ]; then
            echo "${entry#*=}"
            return
        fi
    done
}

allowed=("$@")
skipped=0
refused=""
# A title line "SKIP: name" is the one followed by its "=" underline; the logs' own SKIP: lines are not.
while IFS= read -r name; do
    skipped=$((skipped + 1))
    reasons=$(grep -E '^(SKIP(:| -)|SKIPPED|[[:space:]]*--- SKIP:)' "$dir/$name.log" 2> /dev/null | head -n 8 || true)
    why="$(allowance "$name")"
    if [ -n "$why" ]; then
        echo "SKIP: $name: allowed in this build: $why"
    else
        echo "SKIP: $name: NOT allowed: CI can run it, so this skip fails the step"
        refused="$refused $name"
    fi
    if [ -n "$reasons" ]; then
        printf '%s\n' "$reasons" | sed 's/^[[:space:]]*/    /'
    else
        echo "    (its log gives no reason: $dir/$name.log)"
    fi
done < <(awk 'prev ~ /^SKIP: / && /^=+$/ { print substr(prev, 7) } { prev = $0 }' "$log")

if [ -n "$refused" ]; then
    echo "skips: FAIL: skipped although CI can run them:$refused"
    exit 1
fi
if [ "$skipped" -eq 0 ]; then
    echo "skips: none"
else
    echo "skips: $skipped skipped, each allowed in this build"
fi
