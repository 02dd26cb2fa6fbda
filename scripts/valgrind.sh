#!/usr/bin/env bash
# Valgrind memcheck over the fast C test programs of a configured build:
# any invalid access, use of uninitialised memory, bad free, or a definite or
# indirect leak fails the run.
#   scripts/valgrind.sh [BUILD_DIR]      (default _build; built first if needed)
# The programs (docs/valgrind.md explains the choice):
#   tests/unit/test_*          every unit test
#   tests/storage/test_storage_memory, test_storage_sqlite
#   tests/flow/test_provision, tests/objects/test_objects, tests/vectors/test_vectors
#   tests/threads/test_threads, test_curl_once
#   tests/kube/test_kube_client (libcurl and OpenSSL against the API test server)
#   tests/fuzz/replay_*        every committed fuzz input
# Not here: test_storage_postgres and flow_restart (they need the PostgreSQL
# server their scripts start), and the script tests (Python, shell, the CLI).
# Suppressions: scripts/valgrind.supp, for third-party noise only.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$src/_build}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
command -v valgrind > /dev/null || { echo "valgrind: not installed (scripts/setup-debian.sh installs it)" >&2; exit 1; }

vg=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1
    --suppressions="$src/scripts/valgrind.supp" --num-callers=30 --gen-suppressions=all)

work="$(mktemp -d /tmp/valkeyaddon-valgrind.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# First prove that memcheck fails a program that leaks, with exactly these
# options, so that a broken setup cannot pass for a clean library.
printf '#include <stdlib.h>\nint main(void) { void *p = malloc(64); p = 0; return p != 0; }\n' > "$work/leak.c"
"${CC:-cc}" -g -O0 "$work/leak.c" -o "$work/leak"
if "${vg[@]}" "$work/leak" > "$work/leak.log" 2>&1 || ! grep -q 'definitely lost' "$work/leak.log"; then
    echo "valgrind: memcheck did not fail a program that leaks; check the valgrind installation" >&2
    cat "$work/leak.log" >&2
    exit 1
fi

BUILD_DIR="$dir" bash "$src/scripts/build.sh"
(cd "$dir" && make -j"$(nproc)" check TESTS= > valgrind-build.out 2>&1) || { tail -n 40 "$dir/valgrind-build.out"; exit 1; }

programs=()
for p in "$dir"/tests/unit/test_* "$dir"/tests/fuzz/replay_*; do
    case "$(basename "$p")" in *.*) continue ;; esac
    [ -x "$p" ] && programs+=("${p#"$dir"/}")
done
programs+=(tests/storage/test_storage_memory tests/storage/test_storage_sqlite tests/flow/test_provision
           tests/objects/test_objects tests/vectors/test_vectors tests/threads/test_threads
           tests/threads/test_curl_once tests/kube/test_kube_client)

# The environment make check gives the tests (Makefile.am AM_TESTS_ENVIRONMENT).
export top_srcdir="$src" top_builddir="$dir" PYTHON3="${PYTHON3:-python3}"
mkdir -p "$dir/valgrind"
rm -f "$dir"/valgrind/*.log "$dir"/valgrind/*.status

# One program under valgrind; its log and exit status go to files named after it.
run_one() { # PROGRAM
    local name log start status=0
    name="$(echo "$1" | tr / _)"
    log="$dir/valgrind/$name.log"
    start=$SECONDS
    # The test programs are libtool wrapper scripts: --mode=execute runs
    # valgrind on the real binary, with the uninstalled library on its path.
    (cd "$dir" && ./libtool --mode=execute "${vg[@]}" "./$1") > "$log" 2>&1 || status=$?
    echo "$status $((SECONDS - start))" > "$dir/valgrind/$name.status"
}

# As many at once as there are processors (memcheck itself is single-threaded).
jobs="$(nproc)"
for p in "${programs[@]}"; do
    if [ ! -x "$dir/$p" ]; then
        echo "127 0" > "$dir/valgrind/$(echo "$p" | tr / _).status"
        continue
    fi
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_one "$p" &
done
wait

failed=()
for p in "${programs[@]}"; do
    name="$(echo "$p" | tr / _)"
    read -r status secs < "$dir/valgrind/$name.status"
    if [ "$status" -eq 0 ]; then
        echo "ok    $p (${secs} s)"
    elif [ "$status" -eq 127 ] && [ ! -x "$dir/$p" ]; then
        echo "FAIL  $p: not built"
        failed+=("$p")
    else
        echo "FAIL  $p (exit $status, ${secs} s): $dir/valgrind/$name.log"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|.*definitely lost in|.*indirectly lost in|ERROR SUMMARY: [1-9])' \
            "$dir/valgrind/$name.log" | head -n 20 || tail -n 20 "$dir/valgrind/$name.log"
        failed+=("$p")
    fi
done
if [ "${#failed[@]}" -ne 0 ]; then
    echo "valgrind: ${#failed[@]} of ${#programs[@]} programs failed: ${failed[*]}"
    exit 1
fi
echo "valgrind: ${#programs[@]} programs, no memcheck error"
