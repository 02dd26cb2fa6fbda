#!/usr/bin/env python3
"""The secret scanner catches what it must: a secret planted in a capture log, in a
test log, base64-encoded, and a fixed test password; it stays quiet on clean files,
and never prints the secret it found."""

import io
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scan_secrets  # noqa: E402

PLANTED = "Planted-Secret-k3J9x0Qw7Zp2Lm5V"


class Scanner(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hygiene-scanner-")
        self.capture = os.path.join(self.dir, "capture")
        self.logs = os.path.join(self.dir, "tests")
        os.makedirs(self.capture)
        os.makedirs(os.path.join(self.logs, "area"))
        with open(os.path.join(self.capture, "123.secrets"), "w") as f:
            f.write(PLANTED.encode().hex() + "\n")
        self.write(os.path.join(self.capture, "123.log"), "L4\tget Secret ns/x\nE\tsomething failed\n")
        self.write(os.path.join(self.logs, "area", "test_a.log"), "PASS test_a\n")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, path, text):
        with open(path, "w") as f:
            f.write(text)

    def run_scan(self):
        out = io.StringIO()
        files, secrets, findings = scan_secrets.scan(self.capture, [self.logs], [], out=out)
        self.assertNotIn(PLANTED, out.getvalue())
        self.assertNotIn(scan_secrets.FIXED[0], out.getvalue())
        return files, secrets, findings, out.getvalue()

    def test_clean_files_pass(self):
        files, secrets, findings, _ = self.run_scan()
        self.assertEqual(files, 2)
        self.assertEqual(secrets, 1 + len(scan_secrets.FIXED))
        self.assertEqual(findings, [])
        self.assertEqual(scan_secrets.main(["--capture", self.capture, "--logs", self.logs]), 0)

    def test_secret_in_a_captured_log_line_is_caught(self):
        self.write(os.path.join(self.capture, "123.log"), f"L4\tok\nL3\tconnecting with {PLANTED}\n")
        _, _, findings, out = self.run_scan()
        self.assertEqual(len(findings), 1)
        self.assertIn("123.log:2: secret #", out)
        with open(os.devnull, "w") as null:
            stdout, sys.stdout = sys.stdout, null
            try:
                self.assertEqual(scan_secrets.main(["--capture", self.capture, "--logs", self.logs]), 1)
            finally:
                sys.stdout = stdout

    def test_secret_in_a_test_log_is_caught(self):
        self.write(os.path.join(self.logs, "area", "test_a.log"), f"FAIL: expected {PLANTED}\n")
        _, _, findings, _ = self.run_scan()
        self.assertEqual(len(findings), 1)
        self.assertIn("test_a.log:1:", findings[0])

    def test_base64_form_is_caught(self):
        import base64
        self.write(os.path.join(self.capture, "9.log"),
                   'L4\t{"data":{"password":"%s"}}\n' % base64.b64encode(PLANTED.encode()).decode())
        _, _, findings, _ = self.run_scan()
        self.assertEqual(len(findings), 1)
        self.assertIn("base64", findings[0])

    def test_fixed_test_password_is_caught(self):
        self.write(os.path.join(self.logs, "area", "test_a.log"), f"x {scan_secrets.FIXED[1]} y\n")
        _, _, findings, _ = self.run_scan()
        self.assertEqual(len(findings), 1)
        self.assertIn("fixed test password", findings[0])

    def test_excluded_file_is_not_scanned(self):
        path = os.path.join(self.logs, "area", "test_a.log")
        self.write(path, f"{PLANTED}\n")
        out = io.StringIO()
        _, _, findings = scan_secrets.scan(self.capture, [self.logs], [path], out=out)
        self.assertEqual(findings, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
