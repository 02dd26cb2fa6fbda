#!/bin/sh
# bench/micro/run.sh [--smoke]: libvalkeyaddon's micro benchmarks (bench/micro/README.md).
#
#   1. instructions per app (callgrind): valkeyaddon_render, and ensure over the render transport
#   2. peak RSS of the command (wait4 ru_maxrss): render, provision (kubernetes, local)
#   3. readiness detection latency: the library's watch, against a 1 s poll loop
#   4. provision throughput: one context sequentially, one context per thread (2, 4)
#
# Environment: BENCH_SRCDIR (source tree; default: two levels up from here),
# BENCH_BUILDDIR (built tree with libvalkeyaddon.la, tools/ and bench/micro/;
# default: BENCH_SRCDIR), PYTHON3 (default python3).
# Starts its own Kubernetes API test server (tests/support/kube_api_server.py)
# and stops it on exit. Prints a "micro benchmarks" section: a table, then one
# PASS or FAIL line per target. Targets are goals, not gates: the exit status
# is 0 whatever they say, and 1 only when a measurement could not be taken.
# --smoke: fewer apps and samples (under a minute); the numbers are rougher.
set -u

usage() {
    echo "usage: $0 [--smoke]   (environment: BENCH_SRCDIR, BENCH_BUILDDIR, PYTHON3)"
}

smoke=0
case "${1:-}" in
    --smoke) smoke=1 ;;
    "") ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
src=${BENCH_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${BENCH_BUILDDIR:-$src}
python=${PYTHON3:-python3}
micro=$build/bench/micro
cli=$build/tools/valkeyaddon
# In a build tree, programs are libtool wrapper scripts; `libtool --mode=execute`
# runs the real binaries (valgrind and wait4 must see them, not a shell).
run() {
    if [ -x "$build/libtool" ]; then
        "$build/libtool" --mode=execute "$@"
    else
        "$@"
    fi
}

if [ "$smoke" = 1 ]; then
    mode=smoke render_apps=3 watch_samples=3 poll_samples=2 conc_apps=8 conc_repeat=1
else
    mode=full render_apps=20 watch_samples=20 poll_samples=10 conc_apps=${BENCH_MICRO_APPS:-200} conc_repeat=3
fi

for p in render_insns maxrss ready_latency concurrent; do
    if [ ! -x "$micro/$p" ]; then
        echo "bench/micro: $micro/$p is not built (run make in BENCH_BUILDDIR=$build)" >&2
        exit 1
    fi
done
if [ ! -x "$cli" ]; then
    echo "bench/micro: $cli is not built (run make in BENCH_BUILDDIR=$build)" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-micro.XXXXXX") || exit 1
server_pid=
local_started=0
cleanup() {
    if [ "$local_started" = 1 ]; then
        # The local transport's redis-server runs detached: deprovision stops it.
        run "$cli" --state-dir "$tmp/local" --database "sqlite:$tmp/local.db" \
            deprovision --tenant bench --app rss > /dev/null 2>&1
    fi
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2> /dev/null
        wait "$server_pid" 2> /dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# No CLI call may touch the user's own state directory.
XDG_STATE_HOME=$tmp/xdg
export XDG_STATE_HOME

table=$tmp/table verdicts=$tmp/verdicts notes=$tmp/notes
: > "$table"
: > "$verdicts"
: > "$notes"
missing=0

row() { printf '%-50s %-24s %s\n' "$1" "$2" "$3" >> "$table"; }
verdict() { echo "$1 $2" >> "$verdicts"; }
note() { echo "$*" >> "$notes"; }
# A measurement that could not be taken: say why, and remember it for the exit status.
lost() {
    row "$1" "not measured" "$2"
    verdict FAIL "$1: could not be measured (see below)"
    note "$1: could not be measured: $3"
    if [ -n "${4:-}" ] && [ -s "$4" ]; then
        tail -n 5 "$4" | sed 's/^/    /' >> "$notes"
    fi
    missing=$((missing + 1))
}
# key=value from a line of a program's output.
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
thousands() { echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }

# ---- the test server ----
start_server() {
    "$python" "$src/tests/support/kube_api_server.py" --state-dir "$tmp/server" --auto-ready 0 \
        > "$tmp/server.out" 2> "$tmp/server.log" &
    server_pid=$!
    i=0
    while [ $i -lt 300 ]; do
        grep -q '^READY ' "$tmp/server.out" 2> /dev/null && return 0
        kill -0 "$server_pid" 2> /dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
server_ok=1
if ! start_server; then
    server_ok=0
    note "the Kubernetes API test server did not start:"
    tail -n 5 "$tmp/server.log" | sed 's/^/    /' >> "$notes"
fi

# ---- 1. instructions per app ----
insn_target=200000
measure_insns() { # what label
    what=$1 label=$2 out=$tmp/callgrind.$1.out log=$tmp/callgrind.$1.log
    if ! command -v valgrind > /dev/null; then
        lost "$label" "<= $(thousands $insn_target)" "valgrind is not installed (scripts/setup-debian.sh)"
        return
    fi
    flags=--collect-atstart=no
    if [ "$(run "$micro/render_insns" --collect-method)" != client-requests ]; then
        flags="$flags --toggle-collect=bench_micro_measured"
    fi
    # shellcheck disable=SC2086  # flags are two words on purpose
    if ! run valgrind --tool=callgrind $flags --callgrind-out-file="$out" \
        "$micro/render_insns" --apps "$render_apps" --what "$what" > "$log" 2>&1; then
        lost "$label" "<= $(thousands $insn_target)" "render_insns failed under valgrind" "$log"
        return
    fi
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$out" | head -n 1)
    if [ -z "$total" ] || [ "$total" -eq 0 ]; then
        lost "$label" "<= $(thousands $insn_target)" "callgrind counted nothing" "$log"
        return
    fi
    per_app=$((total / render_apps))
    shape=$(grep '^what=' "$log" | head -n 1)
    row "$label" "$(thousands $per_app)" "<= $(thousands $insn_target)"
    if [ "$per_app" -le "$insn_target" ]; then
        verdict PASS "$label: $(thousands $per_app) instructions per app (target <= $(thousands $insn_target))"
    else
        verdict FAIL "$label: $(thousands $per_app) instructions per app (target <= $(thousands $insn_target))"
        # Where they go: the library's functions by inclusive cost, per app.
        note "$label: $(thousands $per_app) instructions per app ($render_apps apps; $shape). Inclusive, per app:"
        if command -v callgrind_annotate > /dev/null; then
            # Inclusive cost of the library's own functions, skipping the entry points
            # (they hold everything) and recursive copies (name'2).
            callgrind_annotate --inclusive=yes "$out" 2> /dev/null |
                awk -v apps="$render_apps" -v per_app="$per_app" '
                    /^ *[0-9,]+ +\(/ && /libvalkeyaddon\// && index($0, "\047") == 0 {
                        n = $1; gsub(",", "", n); n = n / apps
                        if (n >= 0.9 * per_app) next
                        fn = $0; sub(/.*libvalkeyaddon\//, "", fn); sub(/ \[.*/, "", fn)
                        if (seen[fn]++) next
                        printf "    %10d  %s\n", n, fn
                        if (++shown == 8) exit
                    }' >> "$notes"
            echo "  self cost, per app, top 6:" >> "$notes"
            callgrind_annotate --inclusive=no "$out" 2> /dev/null |
                awk -v apps="$render_apps" '
                    /^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ {
                        n = $1; gsub(",", "", n)
                        s = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", s)
                        obj = s; sub(/.*\[/, "", obj); sub(/\]$/, "", obj); sub(/.*\//, "", obj)
                        fn = s; sub(/ \[.*$/, "", fn); sub(/^.*:/, "", fn)
                        printf "    %10d  %s (%s)\n", n / apps, fn, obj
                        if (++shown == 6) exit
                    }' >> "$notes"
        fi
    fi
}
measure_insns render "instructions/app: valkeyaddon_render (YAML)"
measure_insns ensure "instructions/app: ensure over the render transport"

# ---- 2. peak RSS of the command ----
rss_target_kb=16384
measure_rss() { # name label command...
    name=$1 label=$2
    shift 2
    if ! run "$micro/maxrss" -o "$tmp/rss.$name" -- "$@" > "$tmp/rss.$name.stdout" 2> "$tmp/rss.$name.log"; then
        lost "$label" "<= 16 MB" "maxrss could not run the command" "$tmp/rss.$name.log"
        return
    fi
    kb=$(field maxrss_kb < "$tmp/rss.$name")
    code=$(field exit < "$tmp/rss.$name")
    if [ "$code" != 0 ]; then
        lost "$label" "<= 16 MB" "the command exited $code" "$tmp/rss.$name.log"
        return
    fi
    mb=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
    row "$label" "$mb MB" "<= 16 MB"
    if [ "$kb" -le "$rss_target_kb" ]; then
        verdict PASS "$label: $mb MB (target <= 16 MB)"
    else
        verdict FAIL "$label: $mb MB (target <= 16 MB)"
    fi
}
measure_rss render "peak RSS: valkeyaddon render" \
    "$cli" render --tenant bench --app rss
if [ "$server_ok" = 1 ]; then
    measure_rss kube "peak RSS: valkeyaddon provision (kubernetes)" \
        "$cli" --transport kubernetes --kubeconfig "$tmp/server/kubeconfig" --database "sqlite:$tmp/kube.db" \
        -n bench-rss provision --tenant bench --app rss --timeout 60s
else
    lost "peak RSS: valkeyaddon provision (kubernetes)" "<= 16 MB" "no test server"
fi
if command -v valkey-server > /dev/null || command -v redis-server > /dev/null; then
    local_started=1
    measure_rss local "peak RSS: valkeyaddon provision (local)" \
        "$cli" --state-dir "$tmp/local" --database "sqlite:$tmp/local.db" \
        provision --tenant bench --app rss --timeout 60s
else
    lost "peak RSS: valkeyaddon provision (local)" "<= 16 MB" "neither valkey-server nor redis-server is installed"
fi

# ---- 3. readiness detection latency ----
latency_target_ms=50
if [ "$server_ok" = 1 ]; then
    label="ready latency: watch, median / max"
    if run "$micro/ready_latency" --server-dir "$tmp/server" --mode watch --samples "$watch_samples" \
        > "$tmp/latency.watch" 2>&1; then
        summary=$(grep '^mode=' "$tmp/latency.watch")
        median=$(echo "$summary" | field median_ms)
        max=$(echo "$summary" | field max_ms)
        row "$label ($watch_samples)" "$median / $max ms" "<= $latency_target_ms ms"
        if awk -v m="$max" -v t="$latency_target_ms" 'BEGIN { exit !(m <= t) }'; then
            verdict PASS "ready latency (watch): median $median ms, max $max ms over $watch_samples flips (target: every one <= $latency_target_ms ms)"
        else
            verdict FAIL "ready latency (watch): median $median ms, max $max ms over $watch_samples flips (target: every one <= $latency_target_ms ms)"
        fi
    else
        lost "$label" "<= $latency_target_ms ms" "ready_latency (watch) failed" "$tmp/latency.watch"
    fi
    label="ready latency: 1 s poll, median / max"
    if run "$micro/ready_latency" --server-dir "$tmp/server" --mode poll --samples "$poll_samples" \
        > "$tmp/latency.poll" 2>&1; then
        summary=$(grep '^mode=' "$tmp/latency.poll")
        row "$label ($poll_samples)" "$(echo "$summary" | field median_ms) / $(echo "$summary" | field max_ms) ms" \
            "(comparison)"
    else
        lost "$label" "(comparison)" "ready_latency (poll) failed" "$tmp/latency.poll"
    fi
else
    lost "ready latency: watch" "<= $latency_target_ms ms" "no test server"
fi

# ---- 4. provision throughput, one context per thread ----
# Rounds of 1, 2 and 4 threads, interleaved and repeated; each count's median is kept.
median_of() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
if [ "$server_ok" = 1 ]; then
    rounds=1,2,4
    i=1
    while [ $i -lt "$conc_repeat" ]; do rounds=$rounds,1,2,4; i=$((i + 1)); done
    if run "$micro/concurrent" --server-dir "$tmp/server" --apps "$conc_apps" --threads "$rounds" \
        > "$tmp/concurrent" 2>&1; then
        per_count() { grep "^threads=$1 " "$tmp/concurrent" | while read -r l; do echo "$l" | field "$2"; done | median_of; }
        base=$(per_count 1 apps_per_s)
        best_ratio=0 best_threads=0
        for t in 1 2 4; do
            rate=$(per_count $t apps_per_s)
            seconds=$(per_count $t seconds)
            server_cpu=$(per_count $t server_cpu_s)
            client_cpu=$(per_count $t client_cpu_s)
            ratio=$(awk -v r="$rate" -v b="$base" 'BEGIN { printf "%.2f", r / b }')
            if [ "$t" = 1 ]; then
                row "provision: 1 context, sequential ($conc_apps apps)" "$rate apps/s" "(baseline)"
            else
                row "provision: $t threads, a context each" "$rate apps/s = ${ratio}x" ">= 1.50x"
                if awk -v r="$ratio" -v b="$best_ratio" 'BEGIN { exit !(r > b) }'; then
                    best_ratio=$ratio best_threads=$t
                fi
            fi
            rates=$(grep "^threads=$t " "$tmp/concurrent" | while read -r l; do echo "$l" | field apps_per_s; done | tr '\n' ' ')
            note "$(awk -v t="$t" -v n="$conc_apps" -v s="$seconds" -v sc="$server_cpu" -v cc="$client_cpu" -v k="$conc_repeat" -v r="$rates" 'BEGIN {
                sub(/ $/, "", r); gsub(/ /, ", ", r)
                printf "provision, %d thread(s), median of %d round(s) of %d apps (apps/s: %s): %.2f s; CPU per app: test server %.1f ms, client %.1f ms; the server was busy %.0f%% of one core", t, k, n, r, s, 1000 * sc / n, 1000 * cc / n, 100 * sc / s }')"
        done
        cap=$(per_count 1 server_cpu_s | awk -v n="$conc_apps" -v b="$base" '$1 > 0 { printf "%.2f", n / $1 / b }')
        own=$(per_count 1 client_cpu_s | awk -v n="$conc_apps" '$1 > 0 { printf "%.0f", n / $1 }')
        if [ -n "$cap" ]; then
            note "the test server is one Python process (ThreadingHTTPServer: a thread per connection, one GIL, one store lock): its CPU per app alone caps any client at ${cap}x the sequential throughput${own:+; at its CPU per app the client alone would manage about $own apps/s per core}"
        fi
        if awk -v r="$best_ratio" 'BEGIN { exit !(r >= 1.5) }'; then
            verdict PASS "concurrent provision: ${best_ratio}x the sequential throughput with $best_threads threads (target >= 1.5x)"
        else
            verdict FAIL "concurrent provision: ${best_ratio}x the sequential throughput at best ($best_threads threads; target >= 1.5x)"
        fi
    else
        lost "provision: threads, a context each" ">= 1.50x" "concurrent failed" "$tmp/concurrent"
    fi
else
    lost "provision: threads, a context each" ">= 1.50x" "no test server"
fi

# ---- the report ----
cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2> /dev/null | head -n 1)
echo
echo "== micro benchmarks ($mode) =="
load=$(cut -d ' ' -f 1-3 /proc/loadavg 2> /dev/null)
echo "machine: $(nproc 2> /dev/null || echo '?') CPUs, ${cpu:-unknown CPU}, $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC'); load average at the end: ${load:-?}"
printf '%-50s %-24s %s\n' "measurement" "result" "target"
cat "$table"
echo
cat "$verdicts"
if [ -s "$notes" ]; then
    echo
    echo "notes:"
    cat "$notes"
fi
[ "$missing" -eq 0 ]
