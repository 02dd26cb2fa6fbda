#!/usr/bin/env python3
"""The provision flow end to end: the real valkeyaddon binary, the Kubernetes API test
server over HTTPS, and a real database (SQLite by default; the URL in
VALKEYADDON_TEST_DATABASE when set, as tests/flow/test_flow_postgres.sh does for PostgreSQL).

Rows are read back through `status -o json` (its "record"), so the same assertions hold
for every backend. Passwords are compared, never printed.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("top_srcdir", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("top_builddir", SRC)
CLI = os.path.join(BUILD, "tools", "valkeyaddon")
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import test_kube_api_server as support  # noqa: E402  (the server harness)

NS = "tenant-ns"
DATABASE = os.environ.get("VALKEYADDON_TEST_DATABASE")
# Passwords that must never show up in output (the database's, when the harness gives one).
DB_PASSWORD = os.environ.get("VALKEYADDON_TEST_DATABASE_PASSWORD", "")
SERVER = None


def setUpModule():
    global SERVER
    support.TMP = tempfile.mkdtemp(prefix="flow-e2e-")
    SERVER = support.ServerProcess("api", "--auto-ready", "0.05")


def tearDownModule():
    for s in support.SERVERS:
        s.stop()
    shutil.rmtree(support.TMP, ignore_errors=True)


def error_lines(stderr):
    """The error lines (progress lines of a wait are on stderr too, one per change)."""
    return [line for line in stderr.splitlines() if line.startswith("valkeyaddon:")]


class Flow(unittest.TestCase):
    def setUp(self):
        self.api = SERVER.client()
        self.control("POST", "/_test/reset")
        self.control("DELETE", "/_test/faults")
        self.state = tempfile.mkdtemp(dir=support.TMP)
        self.database = DATABASE or "sqlite:" + os.path.join(self.state, "addons.db")
        self.outputs = []

    def tearDown(self):
        if DATABASE:  # a shared server: leave no rows behind for the next test
            for app in ("web", "api", "race"):
                self.cli("deprovision", "--tenant", "acme", "--app", app)
        for text in self.outputs:
            for secret in self.secrets_to_hide():
                self.assertNotIn(secret, text)

    def control(self, method, path, body=None):
        try:
            status, _, parsed = self.api.request(method, path, body)
        except ConnectionError:
            status, _, parsed = self.api.request(method, path, body)
        self.assertLess(status, 300, f"{method} {path}: {parsed}")
        return parsed

    def secrets_to_hide(self):
        found = [DB_PASSWORD] if DB_PASSWORD else []
        for obj in self.control("GET", "/_test/objects")["items"]:
            if obj["kind"] == "Secret" and "data" in obj:
                found += [base64.b64decode(v).decode() for k, v in obj["data"].items() if k in ("password", "uri")]
        return found

    def cli(self, *args, database=None, timeout=120):
        # The URL may hold the database password: through the environment, never argv (docs/cli.md).
        cmd = [CLI, "--transport", "kubernetes", "--kubeconfig", SERVER.info["kubeconfig"], "-n", NS, "-o", "json"]
        env = dict(os.environ, XDG_STATE_HOME=self.state, VALKEYADDON_DATABASE=database or self.database)
        r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, env=env)
        self.outputs.append(r.stdout + r.stderr)
        return r

    def record(self, app="web"):
        r = self.cli("status", "--tenant", "acme", "--app", app)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["record"]

    def auth_password(self, name="valkey-acme-web-auth"):
        for obj in self.control("GET", "/_test/objects")["items"]:
            if obj["kind"] == "Secret" and obj["metadata"]["name"] == name:
                return base64.b64decode(obj["data"]["password"]).decode()
        self.fail(f"no Secret {name}")

    def test_provision_records_ready_with_the_plan_used(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["status"], out["plan"]), ("Ready", "standard"))
        rec = self.record()
        self.assertEqual((rec["status"], rec["plan"], rec["addon_type"]), ("ready", "standard", "valkey"))
        self.assertEqual(rec["resource_name"], "valkey-acme-web")
        self.assertGreater(rec["created_at_ms"], 0)

    def test_unknown_plan_records_free(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "platinum", "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('unknown plan "platinum"', r.stderr)
        # The recorded outcome says which plan was asked for; a later status refresh
        # replaces the message with the live one, the plan stays.
        self.assertIn('"platinum" is unknown', json.loads(r.stdout)["message"])
        rec = self.record()
        self.assertEqual((rec["plan"], rec["status"]), ("free", "ready"))

    def test_repeat_provision_converges_on_one_row_and_one_password(self):
        self.assertEqual(self.cli("provision", "--tenant", "acme", "--app", "web", "--timeout", "30s").returncode, 0)
        first, password = self.record(), self.auth_password()
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        second = self.record()
        self.assertEqual(second["created_at_ms"], first["created_at_ms"])
        self.assertGreaterEqual(second["updated_at_ms"], first["updated_at_ms"])
        self.assertEqual((second["plan"], second["status"]), ("pro", "ready"))
        self.assertEqual(self.auth_password(), password)

    def test_stalled_rollout_is_recorded_failed_and_a_retry_recovers(self):
        self.control("POST", "/_test/statefulset-status",
                     {"namespace": NS, "name": "valkey-acme-web", "mode": "stall"})
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--timeout", "2s")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        rec = self.record()
        # status refreshed the row from the cluster: still nothing ready, so Creating again.
        self.assertIn(rec["status"], ("creating", "failed"))
        self.control("POST", "/_test/statefulset-status",
                     {"namespace": NS, "name": "valkey-acme-web", "mode": "auto"})
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.record()["status"], "ready")

    def test_partial_readiness_exits_5_and_records_failed(self):
        self.control("POST", "/_test/statefulset-status",
                     {"namespace": NS, "name": "valkey-acme-web", "mode": "partial", "ready_replicas": 1})
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--timeout", "2s")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("partial readiness", r.stderr)

    def test_two_processes_provisioning_the_same_app_leave_one_consistent_row(self):
        cmd = [CLI, "--transport", "kubernetes", "--kubeconfig", SERVER.info["kubeconfig"], "-n", NS,
               "-o", "json", "provision", "--tenant", "acme", "--app", "race", "--plan", "standard", "--no-wait"]
        env = dict(os.environ, XDG_STATE_HOME=self.state, VALKEYADDON_DATABASE=self.database)
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(4)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.outputs.append(out + err)
            self.assertEqual(p.returncode, 0, err)
        rec = self.record("race")
        self.assertEqual(rec["plan"], "standard")
        auth = [o for o in self.control("GET", "/_test/objects")["items"]
                if o["kind"] == "Secret" and o["metadata"]["name"] == "valkey-acme-race-auth"]
        self.assertEqual(len(auth), 1)

    def test_deprovision_removes_the_row_and_is_idempotent(self):
        self.assertEqual(self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait").returncode, 0)
        for _ in range(2):
            r = self.cli("deprovision", "--tenant", "acme", "--app", "web")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.cli("status", "--tenant", "acme", "--app", "web")
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_unreachable_database_writes_nothing_to_the_cluster(self):
        bad = "postgresql://valkeyaddon:s3cret-db-pass@127.0.0.1:1/none?connect_timeout=2"
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait", database=bad)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertNotIn("s3cret-db-pass", r.stderr + r.stdout)
        self.assertIn("--database", r.stderr)
        self.assertEqual([o for o in self.control("GET", "/_test/objects")["items"]
                          if o["metadata"].get("namespace") == NS], [])

    def test_ids_that_look_like_sql_are_refused_before_anything_is_written(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "x'); DROP TABLE app_addons; --", "--no-wait")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait").returncode, 0)
        # --auto-ready may have made it ready by the time status refreshes the row.
        self.assertIn(self.record()["status"], ("creating", "ready"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
