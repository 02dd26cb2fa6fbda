# Sourced by the CLI tests: run the real binary, capture, assert.
# Results are counted; finish() prints "N passed, N failed" and sets the exit status.
passed=0
failed=0
VALKEYADDON="$top_builddir/tools/valkeyaddon"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run ARGS...: sets $status, and $work/out and $work/err.
run() {
    set +e
    "$VALKEYADDON" "$@" > "$work/out" 2> "$work/err" < /dev/null
    status=$?
    set -e
}

ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
    echo "  stdout: $(head -c 400 "$work/out")"
    echo "  stderr: $(head -c 400 "$work/err")"
}

expect_status() { if [ "$status" -eq "$1" ]; then ok; else bad "$2: exit $status, expected $1"; fi; }
expect_out() { if [ "$(cat "$work/out")" = "$1" ]; then ok; else bad "$2: stdout differs from '$1'"; fi; }
expect_out_has() { if grep -qF -- "$1" "$work/out"; then ok; else bad "$2: stdout lacks '$1'"; fi; }
expect_err_has() { if grep -qF -- "$1" "$work/err"; then ok; else bad "$2: stderr lacks '$1'"; fi; }
expect_err_empty() { if [ ! -s "$work/err" ]; then ok; else bad "$2: stderr not empty"; fi; }
expect_one_error_line() {
    if [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q '^valkeyaddon: ' "$work/err"; then ok
    else bad "$1: stderr is not one 'valkeyaddon: ...' line"; fi
}
# expect_json PYTHON-EXPRESSION DESCRIPTION: the expression over `d` (stdout parsed) must be true.
expect_json() {
    if "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$work/out" 2>/dev/null
    then ok; else bad "$2: JSON check failed: $1"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
