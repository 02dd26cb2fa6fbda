#!/usr/bin/env bash
# Configure and build in DIR (default: _build), out of the source tree.
# Extra arguments go to configure.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir="${BUILD_DIR:-$src/_build}"
[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi > /dev/null)
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$src/configure" -nt config.status ]; then
    "$src/configure" --enable-werror "$@" > configure.out || { tail -n 30 configure.out; exit 1; }
fi
make -j"$(nproc)" > make.out 2>&1 || { tail -n 60 make.out; exit 1; }
