#!/usr/bin/env bash
# ThreadSanitizer: configure and build BUILD_DIR (default _build-tsan) with
# -fsanitize=thread, then run the concurrency tests there. Any report fails
# (halt_on_error=1, and the logs are searched for a report as well).
#   scripts/tsan.sh [BUILD_DIR]
#   CC=clang scripts/tsan.sh ...    (default gcc: Debian 12's libtsan2 works)
# See docs/threads.md.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$src/_build-tsan}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
cc="${CC:-gcc}"
san="-fsanitize=thread -fno-omit-frame-pointer"

# The tests that run threads, plus those that fork, spawn, lock files or hold
# connections next to other connections (watch streams, SQLite's locks).
tests="tests/threads/test_threads tests/threads/test_curl_once tests/storage/test_storage_sqlite
       tests/kube/test_kube_client tests/unit/test_local"

# TSAN_OPTIONS: stop at the first report with a non-zero exit; keep the caller's extras.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"

# First prove that this compiler's ThreadSanitizer reports a race here at all,
# so that a broken toolchain cannot pass for a clean library.
canary="$(mktemp -d /tmp/valkeyaddon-tsan.XXXXXX)"
trap 'rm -rf "$canary"' EXIT
cat > "$canary/race.c" <<'EOF'
#include <pthread.h>
static int counter;
static void *bump(void *arg) { (void)arg; counter++; return 0; }
int main(void)
{
    pthread_t a, b;
    pthread_create(&a, 0, bump, 0);
    pthread_create(&b, 0, bump, 0);
    pthread_join(a, 0);
    pthread_join(b, 0);
    return 0;
}
EOF
"$cc" -g $san -pthread "$canary/race.c" -o "$canary/race"
if "$canary/race" > "$canary/race.log" 2>&1 || ! grep -q 'WARNING: ThreadSanitizer: data race' "$canary/race.log"; then
    echo "tsan: $cc's ThreadSanitizer did not report a known race; fix the toolchain first" >&2
    cat "$canary/race.log" >&2
    exit 1
fi

BUILD_DIR="$dir" bash "$src/scripts/build.sh" CC="$cc" CFLAGS="-g -O1 $san" LDFLAGS="$san"
status=0
(cd "$dir" && make -j"$(nproc)" check TESTS="$(echo $tests)" > tsan-check.out 2>&1) || status=$?
grep -E '^(PASS|FAIL|ERROR|SKIP):' "$dir/tsan-check.out" || true
reported=""
for t in $tests; do
    if grep -q 'WARNING: ThreadSanitizer' "$dir/$t.log" 2>/dev/null; then
        reported="$reported $t"
    fi
done
if [ "$status" -ne 0 ] || [ -n "$reported" ]; then
    for t in $tests; do
        if grep -qE '^:test-result: (FAIL|ERROR)' "$dir/$t.trs" 2>/dev/null || [[ " $reported " == *" $t "* ]]; then
            echo "----- $dir/$t.log"
            tail -n 80 "$dir/$t.log"
        fi
    done
    echo "tsan: FAILED${reported:+ (ThreadSanitizer reported in:$reported)}"
    exit 1
fi
# None of these tests may skip here (scripts/report-skips.sh names any that did).
bash "$src/scripts/report-skips.sh" "$dir"
echo "tsan: $(echo $tests | wc -w) tests, no data race reported"
