#!/bin/sh
# The Go binding (bindings/go): `go vet` and `go test -race` against this
# build's library, through its own pkg-config file pointed at the build tree.
# The sanitizer build skips it (77), deliberately: scripts/test.sh allows that skip by
# name in its sanitizer step, and only there. Without go it skips, or fails under
# VALKEYADDON_REQUIRE_GO_BINDING=1; so does a test that calls t.Skip.
set -eu

case " ${CFLAGS:-} ${LDFLAGS:-} " in
*-fsanitize*)
    # ASan's runtime and the Go race detector's (TSan) cannot share a process.
    echo "SKIP: sanitizer build (AddressSanitizer and the Go race detector do not mix); the normal build runs it"
    exit 77
    ;;
esac
if ! command -v go > /dev/null 2>&1; then
    if [ "${VALKEYADDON_REQUIRE_GO_BINDING:-0}" = 1 ]; then
        echo "FAIL: go is not installed and VALKEYADDON_REQUIRE_GO_BINDING=1 (apt-get install golang-go)"
        exit 1
    fi
    echo "SKIP: go is not installed (apt-get install golang-go)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2> /dev/null; rm -rf "$tmp"' EXIT INT TERM

# A copy of the module: go may write next to it, and distcheck's srcdir is read-only.
cp -R "$top_srcdir/bindings/go" "$tmp/module"
chmod -R u+w "$tmp/module"

# The generated libvalkeyaddon.pc (its Cflags, Libs and Requires.private), with
# its directories moved from the install prefix to the build tree.
mkdir "$tmp/pkgconfig"
sed -e "s|^libdir=.*|libdir=$top_builddir/.libs|" \
    -e "s|^includedir=.*|includedir=$top_srcdir/include|" \
    "$top_builddir/pkgconfig/libvalkeyaddon.pc" > "$tmp/pkgconfig/libvalkeyaddon.pc"

# Hermetic: no network, no user caches or workspaces, no GOFLAGS from outside.
PKG_CONFIG_PATH="$tmp/pkgconfig"
LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GOPATH="$tmp/gopath" GOCACHE="$tmp/gocache" GOPROXY=off GOFLAGS= GOWORK=off GO111MODULE=on CGO_ENABLED=1
export PKG_CONFIG_PATH LD_LIBRARY_PATH GOPATH GOCACHE GOPROXY GOFLAGS GOWORK GO111MODULE CGO_ENABLED
unset CFLAGS LDFLAGS # the C build's flags; cgo takes CGO_CFLAGS and the .pc file

cd "$tmp/module"
go version
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
    echo "FAIL: not gofmt-formatted: $unformatted"
    exit 1
fi
go vet ./...
echo "PASS: gofmt, go vet"
status=0
go test -race -count=1 -timeout 150s -v ./... > "$tmp/go-test.out" 2>&1 || status=$?
cat "$tmp/go-test.out"
[ "$status" -eq 0 ] || exit "$status"
# A t.Skip passes `go test`: name it, and fail or skip the whole run.
if grep -q -- '--- SKIP:' "$tmp/go-test.out"; then
    # go test -v streams a test's t.Skip message (indented) before its "--- SKIP: Name" line.
    awk '/^=== RUN/ { why = "" }
         /^ +[^ -]/ { why = $0; sub(/^ +/, "", why) }
         /^ *--- SKIP: / { sub(/^ *--- SKIP: /, ""); print "SKIP: go test " $0 (why != "" ? ": " why : ""); why = "" }' \
        "$tmp/go-test.out"
    if [ "${VALKEYADDON_REQUIRE_GO_BINDING:-0}" = 1 ]; then
        echo "FAIL: go tests were skipped and VALKEYADDON_REQUIRE_GO_BINDING=1"
        exit 1
    fi
    exit 77
fi
