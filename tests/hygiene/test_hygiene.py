#!/usr/bin/env python3
"""The secret-hygiene scan (docs/secret-hygiene.md). make runs it after every other
test (tests/hygiene/hygiene.am). It scans what the capture shim collected from
every test process, and every test log, for the secrets that passed through the
library and for the fixed test passwords.

In sanitizer builds the shim is not preloaded. Only the test logs and the fixed
passwords are checked then, and the output says so.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scan_secrets  # noqa: E402

BUILD = os.environ.get("top_builddir", os.path.dirname(os.path.dirname(HERE)))


def main():
    capture = os.environ.get("VALKEYADDON_CAPTURE_DIR", "")
    shim = "capture_shim" in os.environ.get("LD_PRELOAD", "")
    if not capture or not os.path.isdir(capture):
        print("SKIP: VALKEYADDON_CAPTURE_DIR is not set or missing (run through make check)")
        return 77
    captured = [n for n in os.listdir(capture) if n.endswith(".log")]
    recorded = [n for n in os.listdir(capture) if n.endswith(".secrets")]
    if shim:
        print(f"capture shim preloaded: {len(captured)} processes logged, {len(recorded)} recorded secrets")
    else:
        print("capture shim NOT preloaded (sanitizer build: the ASan runtime must come first); "
              "checking the test logs for the fixed test passwords only")
    roots = [os.path.join(BUILD, d) for d in ("tests", "bindings", "fuzz") if os.path.isdir(os.path.join(BUILD, d))]
    own = [os.path.join(BUILD, "tests", "hygiene", "test_hygiene.log")]
    files, secrets, findings = scan_secrets.scan(capture, roots, own)
    print(f"scanned {files} files for {secrets} secrets: {len(findings)} finding(s)")
    if shim and not captured:
        print("SKIP: nothing was captured: run it with the other tests (make check)")
        return 77
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
