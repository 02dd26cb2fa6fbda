#!/usr/bin/env bash
# Set up, build and pass every test: the README's test command, and what CI runs.
#   1. install the Debian packages (scripts/setup-debian.sh)
#   2. build with warnings as errors and run `make check`
#   3. rebuild with AddressSanitizer + UndefinedBehaviorSanitizer and run it again
#   4. ThreadSanitizer build of the concurrency tests (scripts/tsan.sh)
#   5. the C test programs under valgrind memcheck (scripts/valgrind.sh)
#   6. bench smoke: `make bench-smoke` (bench/ci-smoke.sh)
#   7. fuzz smoke: every libFuzzer target briefly on its corpus (fuzz/run-smoke.sh)
#   8. `make distcheck` (the release tarball builds and passes its tests)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
cd "$src"
bash scripts/setup-debian.sh

# CI has every checker installed: a missing one is a failure, not a skip.
export VALKEYADDON_REQUIRE_ABI_CHECK=1 VALKEYADDON_REQUIRE_SCHEMA=1 VALKEYADDON_REQUIRE_REDIS=1 VALKEYADDON_REQUIRE_EXPORTER=1
# The PostgreSQL server package (postgresql) comes from setup-debian.sh; tests/support/pg.sh runs it.
export VALKEYADDON_REQUIRE_POSTGRES=1
# The Python binding: pytest and python3-venv come from setup-debian.sh.
export VALKEYADDON_REQUIRE_PYTHON_BINDING=1
# The Go binding (tests/bindings/test_go.sh) needs golang-go from setup-debian.sh.
export VALKEYADDON_REQUIRE_GO_BINDING=1
# shellcheck (setup-debian.sh) over the scripts that run inside pods: tests/objects/test_shellcheck.py.
export VALKEYADDON_REQUIRE_SHELLCHECK=1
export VALKEYADDON_SCHEMA_DIR="$src/tests/objects/schema"
jobs="$(nproc)"
total_pass=0
total_fail=0

summarise() { # DIR LABEL
    local log="$1/test-suite.log" pass fail
    pass=$(sed -n 's/^# PASS: *//p' "$log" | head -n 1)
    fail=$(( $(sed -n 's/^# FAIL: *//p' "$log" | head -n 1) + $(sed -n 's/^# ERROR: *//p' "$log" | head -n 1) ))
    echo "$2: $(sed -n 's/^# TOTAL: *//p' "$log" | head -n 1) tests, ${pass} passed, ${fail} failed," \
         "$(sed -n 's/^# SKIP: *//p' "$log" | head -n 1) skipped"
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
}

run_check() { # DIR LABEL [TEST=REASON]...: the skips allowed in this build (scripts/report-skips.sh)
    local dir="$1" label="$2" status=0 skips=0
    shift 2
    (cd "$dir" && make -j"$jobs" check > check.out 2>&1) || status=$?
    grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$dir/check.out" || true
    summarise "$dir" "$label"
    # Each skipped test by name and reason; one that CI can run fails the step.
    bash "$src/scripts/report-skips.sh" "$dir" "$@" || skips=$?
    if [ "$status" -ne 0 ]; then
        for log in $(grep -lE '^(FAIL|ERROR)' "$dir"/tests/*/*.trs "$dir"/tests/*.trs 2>/dev/null); do
            echo "----- ${log%.trs}.log"
            tail -n 60 "${log%.trs}.log"
        done
        return "$status"
    fi
    return "$skips"
}

one_step() { # LABEL COMMAND...: a whole step counted as one test in the summary
    local label="$1"
    shift
    if "$@"; then
        echo "$label: 1 tests, 1 passed, 0 failed, 0 skipped"
        total_pass=$((total_pass + 1))
    else
        echo "$label: 1 tests, 0 passed, 1 failed, 0 skipped"
        total_fail=$((total_fail + 1))
    fi
}

echo "== build and test"
BUILD_DIR="$src/_build" bash scripts/build.sh
run_check "$src/_build" "tests"
# The fault soak's report (tests/soak, docs/fault-soak.md): attempted, ready, rotated, lost, duplicated.
sed -n '/^fault soak: .* passes/,/^PASS: every/p' "$src/_build/tests/soak/test_soak.log" 2>/dev/null || true

echo "== sanitizers (address, undefined)"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
BUILD_DIR="$src/_build-asan" bash scripts/build.sh CFLAGS="-g -O1 $san" LDFLAGS="$san"
# The binding drivers skip here, deliberately, and are the only tests allowed to skip
# anywhere in CI (the normal build above runs them; their REQUIRE variables stay set
# and still fail a missing toolchain there).
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_check "$src/_build-asan" "sanitizer tests" \
    "tests/bindings/test_python.sh=ctypes cannot load an ASan-built library into an uninstrumented python" \
    "tests/bindings/test_go.sh=ASan's runtime and the Go race detector's (TSan) cannot share a process"

echo "== thread sanitizer"
# The concurrency tests rebuilt with -fsanitize=thread (scripts/tsan.sh, docs/threads.md).
one_step "tsan" bash scripts/tsan.sh "$src/_build-tsan"

echo "== valgrind"
# The C test programs under memcheck (scripts/valgrind.sh, docs/valgrind.md).
one_step "valgrind" bash scripts/valgrind.sh "$src/_build"

echo "== bench smoke"
# `make bench-smoke`: every peer for a few apps and the micro benchmarks, so the bench
# never rots (bench/README.md). Missed targets print FAIL without failing the step.
one_step "bench smoke" env VALKEYADDON_REQUIRE_BENCH_PEERS=1 bash bench/ci-smoke.sh "$src/_build"

echo "== fuzz smoke"
# Every fuzz target for a few seconds on its corpus (fuzz/run-smoke.sh, clang).
one_step "fuzz smoke" env BUILD_DIR="$src/_build" bash fuzz/run-smoke.sh

echo "== distcheck"
# The tarball's own check runs the fault soak again: the full 500 ran in step 2, 100 show it works from the tarball.
(cd "$src/_build" && VALKEYADDON_SOAK_COUNT=100 make -j"$jobs" distcheck > distcheck.out 2>&1) || { tail -n 80 "$src/_build/distcheck.out"; exit 1; }
grep -E '^=+$|archives ready|libvalkeyaddon-.*\.tar\.gz' "$src/_build/distcheck.out" | tail -n 3

echo "all: ${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
