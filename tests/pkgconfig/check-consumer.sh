#!/bin/sh
# Install into a temporary root, then build and run a tiny consumer using
# nothing but `pkg-config --cflags --libs libvalkeyaddon`.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"

if ! (cd "$top_builddir" && $MAKE install DESTDIR="$root") > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    echo "FAIL: make install DESTDIR=$root"
    exit 1
fi
pc=$(find "$root" -name libvalkeyaddon.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: libvalkeyaddon.pc was not installed"; exit 1; }
prefix=$(pkg-config --variable=prefix "$pc")
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags="--define-variable=prefix=$root$prefix"

cat > "$tmp/consumer.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <valkeyaddon.h>

int main(void)
{
    char name[VALKEYADDON_NAME_BUFSIZE];
    valkeyaddon_plan_config plan = VALKEYADDON_PLAN_CONFIG_INIT;

    if (valkey_name(name, sizeof(name), NULL, "acme", "web") != 0 || strcmp(name, "valkey-acme-web") != 0)
        return 1;
    if (valkey_plan_config(&plan, NULL, "pro") != 0 || plan.replicas != 3)
        return 2;
    printf("%s %s %s\n", valkeyaddon_version(NULL, NULL, NULL), name, plan.memory_limit);
    return 0;
}
C
cflags=$(pkg-config $flags --cflags libvalkeyaddon)
libs=$(pkg-config $flags --libs libvalkeyaddon)
# CFLAGS/LDFLAGS carry sanitizer flags in a sanitizer build.
${CC:-cc} ${CFLAGS:-} $cflags -o "$tmp/consumer" "$tmp/consumer.c" ${LDFLAGS:-} $libs
libdir=$(pkg-config $flags --variable=libdir libvalkeyaddon)
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer")
expected="$(pkg-config --modversion libvalkeyaddon) valkey-acme-web 1Gi"
if [ "$out" != "$expected" ]; then
    echo "FAIL: consumer printed '$out', expected '$expected'"
    exit 1
fi
# The consumer really used the installed copy, not the build tree's.
if ! LD_LIBRARY_PATH="$libdir" ldd "$tmp/consumer" | grep -q "$root"; then
    echo "FAIL: the consumer did not resolve libvalkeyaddon from $root"
    exit 1
fi
echo "PASS: installed headers, library and pkg-config file build a working consumer"
