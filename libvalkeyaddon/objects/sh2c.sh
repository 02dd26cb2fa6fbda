#!/bin/sh
# Usage: sh2c.sh NAME SCRIPT.sh > script.c
# Turn a script that runs inside pods into a C string constant
# `const char NAME[]`, so the library embeds exactly the tree file that the
# tests run and check with shellcheck (no copy in C to drift).
#
# Comment lines (first non-blank character '#', shellcheck directives
# included) and blank lines are left out: the shell ignores them, and so
# comments can change without changing the rendered objects or their config
# hash. That is only safe outside here-documents and multi-line strings, which
# such a script must not use: a here-document is refused. Every other line is
# kept byte for byte, with a newline; '\', '"' and '?' (trigraphs) are escaped.
set -eu
[ "$#" -eq 2 ] || { echo "usage: sh2c.sh NAME SCRIPT.sh" >&2; exit 2; }
name=$1
script=$2
[ -r "$script" ] || { echo "sh2c.sh: cannot read $script" >&2; exit 1; }
if grep -n '<<' "$script" >&2; then
    echo "sh2c.sh: $script: here-documents cannot be embedded (see sh2c.sh)" >&2
    exit 1
fi
printf '/* Generated from %s by sh2c.sh: edit the .sh file. */\n' "${script##*/}"
printf 'extern const char %s[];\n' "$name"
printf 'const char %s[] =\n' "$name"
sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' \
    -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/    "/' -e 's/$/\\n"/' "$script"
printf '    "";\n'
