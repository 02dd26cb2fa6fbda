#!/bin/sh
# The library's writable process-wide state is exactly what docs/threads.md
# lists: the allocator hooks and libcurl's once-only initialisation. Any other
# variable in .data, .bss or thread-local storage of libvalkeyaddon.so is new
# global state: make it const, move it onto the context or the object that
# uses it, or (if it must exist) make it thread-safe, document it in
# docs/threads.md and add it here.
set -eu
lib="${top_builddir:-.}/.libs/libvalkeyaddon.so"
allowed="allocator curl_once curl_result"

command -v objdump > /dev/null || { echo "SKIP: objdump not found (binutils)"; exit 77; }
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }
# Symbol table lines: the section is the field starting with '.', the name is last.
# Names starting with "__" and "completed.N" belong to the C runtime and the sanitizers.
found=$(objdump -t "$lib" | awk '{ sec = ""; for (i = 1; i <= NF; i++) if ($i ~ /^\./) sec = $i;
          if (sec ~ /^\.(data|bss|tdata|tbss)$/ && $NF !~ /^__/ && $NF !~ /^completed\./) print $NF }' | sort -u)
[ -n "$found" ] || { echo "SKIP: $lib has no symbol table (stripped?)"; exit 77; }
status=0
for name in $found; do
    case " $allowed " in
    *" $name "*) ;;
    *) echo "FAIL: new writable global '$name' in libvalkeyaddon.so (see docs/threads.md)"; status=1 ;;
    esac
done
[ "$status" -ne 0 ] || echo "writable globals, as documented:" $found
exit "$status"
