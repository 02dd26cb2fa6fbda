#!/bin/sh
# Compare the built library's ABI with the committed baseline (abi/). Any
# incompatible change fails; a compatible one (an addition) passes with a
# reminder to add a version node and refresh the baseline (make abi-baseline).
set -u
baseline="$top_srcdir/abi/libvalkeyaddon.abi"
so="$top_builddir/.libs/libvalkeyaddon.so"
if [ -z "${ABIDIFF:-}" ]; then
    if [ -n "${VALKEYADDON_REQUIRE_ABI_CHECK:-}" ]; then
        echo "FAIL: abidiff not found (install the Debian package abigail-tools)"
        exit 1
    fi
    echo "SKIP: abidiff not found (install the Debian package abigail-tools)"
    exit 77
fi
"$ABIDIFF" --drop-private-types --headers-dir2 "$top_srcdir/include" "$baseline" "$so"
status=$?
if [ $((status & 8)) -ne 0 ] || [ $((status & 1)) -ne 0 ] || [ $((status & 2)) -ne 0 ]; then
    echo "FAIL: abidiff status $status: the ABI changed incompatibly against $baseline"
    exit 1
fi
if [ $((status & 4)) -ne 0 ]; then
    echo "NOTE: compatible ABI additions; add a version node and run 'make abi-baseline'"
fi
echo "PASS: ABI compatible with the baseline"
