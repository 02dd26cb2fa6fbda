#!/usr/bin/env bash
# Build every fuzz target (fuzz/fuzz_*.c) with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (clang; Debian: clang, libclang-rt-14-dev).
#   BUILD_DIR  a configured build tree (default: the source tree when it is
#              configured, else _build, configured by scripts/build.sh); it gives
#              config.h, the generated schema sources and the library's source
#              list (make fuzz-print-sources), nothing else
#   OUT        where objects and binaries go (default: $BUILD_DIR/fuzz); the
#              targets are $OUT/bin/fuzz_<name>
#   CC         default clang;  FUZZ_CFLAGS  extra compiler flags
# Objects are rebuilt when their source or any header is newer.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${BUILD_DIR:-}" ]; then
    if [ -f "$src/config.h" ]; then BUILD_DIR="$src"; else BUILD_DIR="$src/_build"; fi
fi
[ -f "$BUILD_DIR/config.h" ] || BUILD_DIR="$BUILD_DIR" bash "$src/scripts/build.sh"
build="$(cd "$BUILD_DIR" && pwd)"
out="${OUT:-$build/fuzz}"
cc="${CC:-clang}"
command -v "$cc" > /dev/null || { echo "fuzz/build.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p "$out/obj" "$out/bin"

sources=()
for f in $(make -s -C "$build" fuzz-print-sources); do
    case "$f" in *.c) sources+=("$f") ;; esac
done
[ "${#sources[@]}" -gt 0 ] || { echo "fuzz/build.sh: no library sources from make fuzz-print-sources" >&2; exit 1; }
# Generated sources (the schemas) live in the build tree: let make produce them.
for f in "${sources[@]}"; do
    [ -f "$src/$f" ] || make -s -C "$build" "$f" > /dev/null
done

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-g -O1 $san ${FUZZ_CFLAGS:-}"
cppflags="-I$build -I$src/include -I$build/include -I$src/libvalkeyaddon -I$src/fuzz $(make -s -C "$build" fuzz-print-cflags)"
newest_header="$(find "$src/include" "$src/libvalkeyaddon" "$src/fuzz" "$build/config.h" -name '*.h' -newer "$out/obj" 2>/dev/null | head -n 1)"

compile() { # SOURCE OBJECT EXTRA_FLAGS
    if [ -n "$newest_header" ] || [ ! -f "$2" ] || [ "$1" -nt "$2" ]; then
        # shellcheck disable=SC2086
        "$cc" $cflags $3 $cppflags -c "$1" -o "$2"
    fi
}
export -f compile
export cc cflags cppflags newest_header

# The library: instrumented for coverage (fuzzer-no-link), linked into every target.
objs=()
jobs=()
for f in "${sources[@]}"; do
    path="$src/$f"; [ -f "$path" ] || path="$build/$f"
    obj="$out/obj/$(echo "$f" | tr '/' '_' | sed 's/\.c$/.o/')"
    objs+=("$obj")
    jobs+=("$path" "$obj")
done
printf '%s\0%s\0' "${jobs[@]}" | xargs -0 -n 2 -P "$(nproc)" bash -c 'compile "$0" "$1" -fsanitize=fuzzer-no-link'
rm -f "$out/obj/libvalkeyaddon-fuzz.a"
ar rcs "$out/obj/libvalkeyaddon-fuzz.a" "${objs[@]}"
touch "$out/obj"

libs="$(make -s -C "$build" fuzz-print-libs)"
for t in "$src"/fuzz/fuzz_*.c; do
    name="$(basename "$t" .c)"
    compile "$t" "$out/obj/$name.o" -fsanitize=fuzzer-no-link
    # shellcheck disable=SC2086
    "$cc" $cflags -fsanitize=fuzzer "$out/obj/$name.o" "$out/obj/libvalkeyaddon-fuzz.a" $libs -o "$out/bin/$name"
done
echo "fuzz targets in $out/bin:" $(cd "$out/bin" && ls)
