#!/bin/sh
# Usage: sql2c.sh NAME < file.sql > file.c
# Turn an SQL file into a C string constant `const char NAME[]`, so the library
# runs exactly the text that is installed (no copy to drift).
set -eu
name=$1
printf '/* Generated from the SQL file by sql2c.sh: edit the .sql file. */\n'
printf 'extern const char %s[];\n' "$name"
printf 'const char %s[] =\n' "$name"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/'
printf '    "";\n'
