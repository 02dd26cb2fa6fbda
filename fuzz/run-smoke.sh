#!/usr/bin/env bash
# Build every fuzz target (fuzz/build.sh) and fuzz each for a short time on
# its committed corpus: a crash, a leak, an invariant broken or a timeout fails.
#   SECONDS_PER_TARGET  default 6 (9 targets: about a minute)
#   BUILD_DIR, OUT      as for fuzz/build.sh
# New inputs found go to a temp dir, not into the committed corpus; a crashing
# input is kept as $OUT/crashes/<target>/crash-* (see docs/fuzzing.md).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
per="${SECONDS_PER_TARGET:-6}"
bash "$src/fuzz/build.sh" > /dev/null
if [ -z "${BUILD_DIR:-}" ]; then
    if [ -f "$src/config.h" ]; then BUILD_DIR="$src"; else BUILD_DIR="$src/_build"; fi
fi
out="${OUT:-$(cd "$BUILD_DIR" && pwd)/fuzz}"
work="$(mktemp -d /tmp/valkeyaddon-fuzz-smoke.XXXXXX)"
trap 'rm -rf "$work" /tmp/valkeyaddon-fuzz-kubeconfig-*' EXIT
failed=0
for bin in "$out"/bin/fuzz_*; do
    name="$(basename "$bin")"; name="${name#fuzz_}"
    corpus="$src/fuzz/corpus/$name"
    [ -d "$corpus" ] || { echo "fuzz smoke: $name has no corpus ($corpus)"; failed=1; continue; }
    mkdir -p "$work/$name" "$out/crashes/$name"
    status=0
    ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
        "$bin" -max_total_time="$per" -rss_limit_mb=2048 -timeout=10 -max_len=8192 \
        -artifact_prefix="$out/crashes/$name/" "$work/$name" "$corpus" > "$work/$name.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "fuzz smoke: $name FAILED (exit $status); inputs in $out/crashes/$name/"
        grep -E 'ERROR|SUMMARY|invariant|#[0-9]+ 0x' "$work/$name.log" | head -n 30
        failed=1
    else
        echo "fuzz smoke: $name ok ($(grep -Eo '^#[0-9]+' "$work/$name.log" | tail -n 1 | tr -d '#') runs)"
    fi
done
[ "$failed" -eq 0 ] || exit 1
echo "fuzz smoke: all targets ok"
