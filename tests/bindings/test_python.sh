#!/bin/sh
# The Python binding's tests (bindings/python/tests, pytest) against the library just
# built, then the README's offline install (venv + pip --no-index) once.
# Skips (77) under the sanitizer build: ctypes cannot load an ASan-instrumented
# library into an uninstrumented python without LD_PRELOAD of libasan (a deliberate
# skip: scripts/test.sh allows it by name in its sanitizer step, and only there).
# VALKEYADDON_REQUIRE_PYTHON_BINDING=1 turns a missing pytest or venv, or a test that
# pytest skipped (bindings/python/tests/conftest.py), into a failure; without it, a
# skipped test makes the whole run a SKIP (77) after the install check.
set -eu
src="${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}"
build="${top_builddir:-$src}"
lib="$build/.libs/libvalkeyaddon.so.0"

skip() {
    if [ "${VALKEYADDON_REQUIRE_PYTHON_BINDING:-0}" = 1 ]; then
        echo "FAIL: $1 (VALKEYADDON_REQUIRE_PYTHON_BINDING=1)" >&2
        exit 1
    fi
    echo "SKIP: $1"
    exit 77
}

case "${CFLAGS:-}" in
*-fsanitize*)
    echo "SKIP: sanitizer build: ctypes cannot load an ASan library without LD_PRELOAD (the C tests cover it)"
    exit 77 ;;
esac
[ -f "$lib" ] || { echo "FAIL: $lib is missing (build the library first)" >&2; exit 1; }

# configure's $PYTHON3 may lack pytest (a pyenv); Debian's /usr/bin/python3 has it.
py=""
for candidate in "${PYTHON3:-}" /usr/bin/python3 python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import pytest' > /dev/null 2>&1; then
        py="$candidate"
        break
    fi
done
[ -n "$py" ] || skip "no python3 with pytest (Debian: apt-get install python3-pytest)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/valkeyaddon-python.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT INT TERM

# Nothing is written into the source tree (distcheck's is read-only): no caches, no bytecode.
status=0
VALKEYADDON_LIBRARY="$lib" PYTHONPATH="$src/bindings/python" PYTHONDONTWRITEBYTECODE=1 \
    "$py" -m pytest -q -p no:cacheprovider -rs --rootdir="$tmp" "$src/bindings/python/tests" || status=$?
case "$status" in
0) ;;
77) echo "SKIP: pytest skipped the tests named SKIPPED above" ;;
*) exit "$status" ;;
esac

# The README's offline install, from a copy (pip builds in the source directory).
if ! "$py" -c 'import venv, ensurepip' > /dev/null 2>&1; then
    skip "python venv/ensurepip missing (Debian: apt-get install python3-venv)"
fi
cp -R "$src/bindings/python" "$tmp/pkg"
chmod -R u+w "$tmp/pkg"
"$py" -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-index --no-build-isolation --no-cache-dir --disable-pip-version-check \
    "$tmp/pkg"
(cd "$tmp" && env -u PYTHONPATH VALKEYADDON_LIBRARY="$lib" "$tmp/venv/bin/python" -c '
import valkeyaddon
assert valkeyaddon.__file__.startswith("'"$tmp/venv"'"), valkeyaddon.__file__
assert valkeyaddon.valkey_name("acme", "web") == "valkey-acme-web"
print("installed valkeyaddon", valkeyaddon.version()[0])
')
exit "$status"
