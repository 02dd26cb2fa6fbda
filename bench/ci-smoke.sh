#!/usr/bin/env bash
# The benchmark's smoke run for CI, so that it never rots:
#     bash bench/ci-smoke.sh BUILD_DIR
# BUILD_DIR is a configured and built tree (make). Runs `make bench-smoke` there:
# every client for 5 apps, then bench/micro/run.sh --smoke when it exists.
# Fails when a client fails, when ours writes in its no-change round, or when
# the raw loop does not send ours' requests; a missed target (FAIL) does not.
# With VALKEYADDON_REQUIRE_BENCH_PEERS=1 a peer that is not installed fails it too.
set -euo pipefail
build="$(cd "${1:?usage: bash bench/ci-smoke.sh BUILD_DIR}" && pwd)"
args=""
if [ "${VALKEYADDON_REQUIRE_BENCH_PEERS:-0}" = 1 ]; then
    args="--require-all"
fi
make -C "$build" -s bench-smoke BENCH_ARGS="$args"
