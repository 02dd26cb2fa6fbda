#!/usr/bin/env python3
"""Scan captured log lines, error messages, CLI stderr and test logs for secrets.

    scan_secrets.py --capture DIR [--logs ROOT]... [--exclude FILE]...

The secrets are the values that the capture shim (capture_shim.c) recorded in
DIR/*.secrets, hex-encoded, one per line, plus the fixed passwords that the tests
use. Each secret is searched as is and base64-encoded, because a Secret object
carries its values base64-encoded. The files searched are DIR/*.log and every
*.log under each ROOT.

Exit status: 0 when clean, 1 when a secret was found, 2 on a usage error. A
finding names the file, the line and the secret's number. It never prints the
secret itself.
"""

import argparse
import base64
import glob
import os
import sys

# Fixed passwords in the tests (tests/cli/test_render.sh, tests/objects/test_objects.c):
# they stand for real ones, so they must not leak either.
FIXED = ("GoldenPassword0123456789abcdefXY", "Tst0Passw0rdTst0Passw0rdXyZ12345")
MIN_SECRET = 8


def load_secrets(capture):
    """{secret bytes: where it was recorded}."""
    secrets = {s.encode(): "fixed test password" for s in FIXED}
    for path in sorted(glob.glob(os.path.join(capture, "*.secrets"))):
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                line = line.strip()
                try:
                    value = bytes.fromhex(line)
                except ValueError:
                    continue
                if len(value) >= MIN_SECRET:
                    secrets.setdefault(value, f"recorded by process {os.path.basename(path).split('.')[0]}")
    return secrets


def needles(secrets):
    """(needle bytes, secret number, form, origin), in a stable order."""
    out = []
    for i, (value, origin) in enumerate(sorted(secrets.items())):
        out.append((value, i + 1, "as is", origin))
        encoded = base64.b64encode(value).rstrip(b"=")
        if len(encoded) >= MIN_SECRET:
            out.append((encoded, i + 1, "base64", origin))
    return out


def files_to_scan(capture, roots, exclude):
    seen = set()
    paths = sorted(glob.glob(os.path.join(capture, "*.log")))
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in (".git", ".libs", "node_modules"))
            paths += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".log")]
    excluded = {os.path.realpath(e) for e in exclude}
    for p in paths:
        real = os.path.realpath(p)
        if real in seen or real in excluded:
            continue
        seen.add(real)
        yield p


def scan(capture, roots, exclude, out=sys.stdout):
    """Return (number of files scanned, number of secrets, findings)."""
    secrets = load_secrets(capture)
    targets = needles(secrets)
    findings = []
    count = 0
    for path in files_to_scan(capture, roots, exclude):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        count += 1
        for needle, number, form, origin in targets:
            at = data.find(needle)
            if at >= 0:
                line = data.count(b"\n", 0, at) + 1
                findings.append(f"{path}:{line}: secret #{number} ({origin}) appears {form}")
    for finding in findings:
        print(f"LEAK: {finding}", file=out)
    return count, len(secrets), findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", required=True)
    parser.add_argument("--logs", action="append", default=[])
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args(argv)
    if not os.path.isdir(args.capture):
        print(f"scan_secrets: {args.capture} is not a directory", file=sys.stderr)
        return 2
    files, secrets, findings = scan(args.capture, args.logs, args.exclude)
    print(f"scanned {files} files for {secrets} secrets: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
