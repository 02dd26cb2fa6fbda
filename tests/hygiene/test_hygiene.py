#!/usr/bin/env python3
"""The secret-hygiene scan (docs/secret-hygiene.md). make runs it after every other
test (tests/hygiene/hygiene.am). It scans what the capture shim collected from
every test process, and every test log, for the secrets that passed through the
library and for the fixed test passwords.

In sanitizer builds the shim is not preloaded (hygiene.am). Only the test logs and
the fixed passwords are checked then, and the output says so.

A scan that looked at nothing is a failure, never a skip or a pass: no capture
directory, the shim missing from a build that preloads it, no process captured
or no secret recorded (the scan run without the other tests), or no file read.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scan_secrets  # noqa: E402

BUILD = os.environ.get("top_builddir", os.path.dirname(os.path.dirname(HERE)))


def sanitizer_build():
    """hygiene.am leaves the shim out exactly when CFLAGS or LDFLAGS has -fsanitize=."""
    return "-fsanitize=" in " ".join((os.environ.get("CFLAGS", ""), os.environ.get("LDFLAGS", "")))


def main():
    capture = os.environ.get("VALKEYADDON_CAPTURE_DIR", "")
    shim = "capture_shim" in os.environ.get("LD_PRELOAD", "")
    if not capture or not os.path.isdir(capture):
        print("FAIL: VALKEYADDON_CAPTURE_DIR is not set or missing: nothing was captured (run through make check)")
        return 1
    captured = [n for n in os.listdir(capture) if n.endswith(".log")]
    recorded = [n for n in os.listdir(capture) if n.endswith(".secrets")]
    if shim:
        print(f"capture shim preloaded: {len(captured)} processes logged, {len(recorded)} recorded secrets")
    elif sanitizer_build():
        print("capture shim NOT preloaded (sanitizer build: the ASan runtime must come first); "
              "checking the test logs for the fixed test passwords only")
    else:
        print("FAIL: the capture shim is not preloaded although this is no sanitizer build (see hygiene.am)")
        return 1
    roots = [os.path.join(BUILD, d) for d in ("tests", "bindings", "fuzz") if os.path.isdir(os.path.join(BUILD, d))]
    own = [os.path.join(BUILD, "tests", "hygiene", "test_hygiene.log")]
    files, secrets, findings = scan_secrets.scan(capture, roots, own)
    print(f"scanned {files} files for {secrets} secrets: {len(findings)} finding(s)")
    if shim and not (captured and recorded):
        print("FAIL: nothing was captured (no process logged or no secret recorded): "
              "the scan runs after the other tests (make check), alone it checks nothing")
        return 1
    if not files:
        print("FAIL: no file was scanned")
        return 1
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
