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

# objdump comes with binutils, which every build here has (the linker): never a skip.
command -v objdump > /dev/null || { echo "FAIL: objdump not found (apt-get install binutils)"; exit 1; }
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }
# Symbol table lines: the section is the field starting with '.', the name is last.
# Names starting with "__" and "completed.N" belong to the C runtime and the sanitizers.
found=$(objdump -t "$lib" | awk '{ sec = ""; for (i = 1; i <= NF; i++) if ($i ~ /^\./) sec = $i;
          if (sec ~ /^\.(data|bss|tdata|tbss)$/ && $NF !~ /^__/ && $NF !~ /^completed\./) print $NF }' | sort -u)
# The build tree's library is never stripped: no symbol at all means this check saw nothing.
[ -n "$found" ] || { echo "FAIL: $lib has no writable symbol in its table (stripped?)"; exit 1; }
status=0
for name in $found; do
    case " $allowed " in
    *" $name "*) ;;
    *) echo "FAIL: new writable global '$name' in libvalkeyaddon.so (see docs/threads.md)"; status=1 ;;
    esac
done
[ "$status" -ne 0 ] || echo "writable globals, as documented:" $found
exit "$status"
