#!/usr/bin/env python3
"""End to end over HTTPS: the real valkeyaddon binary and libcurl transport against
the Kubernetes API test server (tests/support/kube_api_server.py).

Counts come from the server's request log; passwords are compared, never printed.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("top_srcdir", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("top_builddir", SRC)
CLI = os.path.join(BUILD, "tools", "valkeyaddon")
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import test_kube_api_server as support  # noqa: E402  (the server harness)

NS = "tenant-ns"


def setUpModule():
    support.TMP = tempfile.mkdtemp(prefix="kube-transport-test-")


def tearDownModule():
    for s in support.SERVERS:
        s.stop()
    shutil.rmtree(support.TMP, ignore_errors=True)


class Base(unittest.TestCase):
    server_args = ("--auto-ready", "0.05")
    counter = 0

    @classmethod
    def setUpClass(cls):
        Base.counter += 1
        cls.server = support.ServerProcess(f"{cls.__name__}-{Base.counter}", *cls.server_args)
        cls.api = cls.server.client()
        cls.kubeconfig = cls.server.info["kubeconfig"]

    def setUp(self):
        self.control("POST", "/_test/reset")
        self.control("DELETE", "/_test/faults")
        self.control("DELETE", "/_test/requests")

    def control(self, method, path, body=None):
        try:
            status, _, parsed = self.api.request(method, path, body)
        except ConnectionError:
            # The server closes idle keep-alive connections; one fresh attempt.
            status, _, parsed = self.api.request(method, path, body)
        self.assertLess(status, 300, f"{method} {path}: {parsed}")
        return parsed

    def cli(self, *args, kubeconfig=None, env=None, timeout=120, context=None):
        cmd = [CLI, "--transport", "kubernetes", "--kubeconfig", kubeconfig or self.kubeconfig, "-n", NS]
        if context:
            cmd += ["--context", context]
        # The default --database lives in the state dir: keep it in the test's temp dir.
        full_env = dict(os.environ, XDG_STATE_HOME=support.TMP)
        full_env.update(env or {})
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, env=full_env)

    def control_raw(self, method, path):
        try:
            return self.api.request(method, path)
        except ConnectionError:
            return self.api.request(method, path)

    def requests(self):
        return self.control("GET", "/_test/requests")["items"]

    def objects(self):
        return self.control("GET", "/_test/objects")["items"]

    def secret(self, name):
        """A Secret's decoded data, read through the control API (never faulted, never logged)."""
        for obj in self.objects():
            if obj["kind"] == "Secret" and obj["metadata"]["name"] == name and obj["metadata"]["namespace"] == NS:
                return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}
        self.fail(f"Secret {name} does not exist")

    def assert_no_secret_in(self, text, secrets):
        for s in secrets:
            self.assertNotIn(s, text)


class Provisioning(Base):
    def budget(self, label, log):
        """Writes and reads per object path, printed for the record (docs/request-economy.md)."""
        writes = [x for x in log if x["method"] in ("POST", "PATCH", "PUT", "DELETE")]
        gets = [x for x in log if x["method"] == "GET" and "watch=1" not in (x.get("query") or "")]
        per_object = {}
        for x in gets:
            per_object[x["path"]] = per_object.get(x["path"], 0) + 1
        print(f"\n{label}: {len(log)} requests, {len(writes)} writes, {len(gets)} GETs "
              f"({len(per_object)} objects read, at most {max(per_object.values(), default=0)} GET each)",
              file=sys.stderr)
        return writes, gets, per_object

    def test_first_and_repeat_provision_keep_the_password(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        log = self.requests()
        first = self.secret("valkey-acme-web-auth")
        # Every object is read once before the first write (so nothing someone else made is overwritten,
        # and a conflict leaves everything as it was), auth Secret first; then one write per object
        # (auth create, 2 Services, StatefulSet, NetworkPolicy, app Secret): nothing is read back.
        writes, gets, per_object = self.budget("first provision --no-wait", log)
        self.assertEqual(len([x for x in writes if x["method"] == "POST"]), 1)
        self.assertEqual(len(writes), 6, [(x["method"], x["path"]) for x in log])
        self.assertEqual([x["path"] for x in gets][:1], [f"/api/v1/namespaces/{NS}/secrets/valkey-acme-web-auth"])
        first_write = log.index(writes[0])
        self.assertEqual(len([x for x in log[:first_write] if x["method"] == "GET"]), 7, log)
        self.assertLessEqual(max(per_object.values()), 1, per_object)

        self.control("DELETE", "/_test/requests")
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        log = self.requests()
        second = self.secret("valkey-acme-web-auth")
        self.assertEqual(first["password"], second["password"])
        # Nothing changed: no write at all, and at most one read per object.
        writes, gets, per_object = self.budget("repeat provision --no-wait", log)
        self.assertEqual(writes, [], [(x["method"], x["path"]) for x in log])
        self.assertLessEqual(max(per_object.values()), 1, per_object)
        self.assertEqual(len(per_object), 6, per_object)
        self.assert_no_secret_in(r.stdout + r.stderr, [first["password"]])

        url = self.secret("app-web-redis-url")["REDIS_URL"]
        self.assertEqual(url, first["uri"])
        self.assertEqual(url, f"redis://default:{first['password']}@valkey-acme-web.{NS}.svc.cluster.local:6379")
        r = self.cli("url", "--tenant", "acme", "--app", "web", "-o", "table")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), url)

    def test_drift_rewrites_exactly_the_drifted_object(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        service = f"/api/v1/namespaces/{NS}/services/valkey-acme-web"
        sts = f"/apis/apps/v1/namespaces/{NS}/statefulsets/valkey-acme-web"

        # Someone deletes the ClusterIP Service.
        status, _, _ = self.control_raw("DELETE", service)
        self.assertLess(status, 300)
        self.control("DELETE", "/_test/requests")
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        writes, _, _ = self.budget("provision after a deleted Service", self.requests())
        self.assertEqual([(x["method"], x["path"]) for x in writes], [("PATCH", service)])

        # Another field manager scales the StatefulSet (a field we own).
        patch = {"apiVersion": "apps/v1", "kind": "StatefulSet",
                 "metadata": {"name": "valkey-acme-web", "namespace": NS}, "spec": {"replicas": 2}}
        status, _, body = self.api.request("PATCH", sts + "?fieldManager=intruder&force=true", patch,
                                           ctype="application/apply-patch+yaml")
        self.assertLess(status, 300, body)
        self.assertEqual(body["spec"]["replicas"], 2)
        self.control("DELETE", "/_test/requests")
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        writes, _, _ = self.budget("provision after a foreign scale", self.requests())
        self.assertEqual([(x["method"], x["path"]) for x in writes], [("PATCH", sts)])
        status, _, body = self.control_raw("GET", sts)
        self.assertEqual(body["spec"]["replicas"], 1)

        # And then it is quiet again.
        self.control("DELETE", "/_test/requests")
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        writes, _, _ = self.budget("provision after the repairs", self.requests())
        self.assertEqual(writes, [])

    def test_provision_waits_until_ready_then_status_and_deprovision(self):
        r = self.cli("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["status"], out["plan"], out["password_created"]), ("Ready", "pro", True))
        r = self.cli("-o", "json", "status", "--tenant", "acme", "--app", "web")
        self.assertEqual(json.loads(r.stdout)["ready"], 3)
        # The wait used a watch, not a polling loop.
        self.assertTrue(any("watch=1" in (x.get("query") or "") for x in self.requests()))
        r = self.cli("-o", "json", "deprovision", "--tenant", "acme", "--app", "web")
        self.assertEqual(r.returncode, 0, r.stderr)
        # App Secret, NetworkPolicy, StatefulSet, both Services, auth Secret, and the three
        # pods the StatefulSet controller created (orphaned with it, then deleted one by one).
        self.assertEqual(json.loads(r.stdout)["deleted"], 9)
        r = self.cli("-o", "json", "deprovision", "--tenant", "acme", "--app", "web")
        self.assertEqual((r.returncode, json.loads(r.stdout)["deleted"]), (0, 0))
        r = self.cli("status", "--tenant", "acme", "--app", "web")
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stderr.count("\n"), 1)

    def test_plan_change_converges_and_keeps_the_password(self):
        # pro -> standard shrinks the volume and standard -> free drops it: refused (nothing changes)
        # unless data loss is allowed explicitly.
        for plan, replicas, allow in (("free", 1, False), ("pro", 3, False), ("standard", 3, False),
                                      ("standard", 1, True), ("free", 1, False), ("free", 1, True)):
            before = self.control_raw("GET", f"/apis/apps/v1/namespaces/{NS}/statefulsets/valkey-acme-web")[2]
            r = self.cli("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", plan,
                         "--timeout", "30s", *(["--allow-data-loss"] if allow else []))
            refused = plan != "pro" and not allow and "volumeClaimTemplates" in (before.get("spec") or {})
            if refused:
                self.assertEqual(r.returncode, 1, f"{plan}: {r.stderr}")
                self.assertIn("--allow-data-loss", r.stderr)
                after = self.control_raw("GET", f"/apis/apps/v1/namespaces/{NS}/statefulsets/valkey-acme-web")[2]
                self.assertEqual(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"])
                continue
            self.assertEqual(r.returncode, 0, f"{plan}: {r.stderr}")
            status, _, sts = self.control_raw("GET", f"/apis/apps/v1/namespaces/{NS}/statefulsets/valkey-acme-web")
            self.assertEqual(sts["spec"]["replicas"], replicas)
            self.assertEqual(bool(sts["spec"].get("volumeClaimTemplates")), plan != "free")
            if plan == "free":
                password = password if "password" in dir() else self.secret("valkey-acme-web-auth")["password"]
            self.assertEqual(self.secret("valkey-acme-web-auth")["password"], password)

    def test_unknown_plan_falls_back_with_a_warning(self):
        r = self.cli("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "Pro", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((json.loads(r.stdout)["plan"], json.loads(r.stdout)["fell_back"]), ("free", True))
        self.assertIn('unknown plan "Pro"', r.stderr)


class Waiting(Base):
    server_args = ()  # no simulated controller: the tests drive status

    def test_wait_follows_status_changes(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        result = {}
        waiter = threading.Thread(target=lambda: result.update(
            r=self.cli("-o", "json", "wait", "--tenant", "acme", "--app", "web", "--timeout", "20s")))
        waiter.start()
        time.sleep(0.5)
        self.control("POST", "/_test/statefulset-status",
                     {"namespace": NS, "name": "valkey-acme-web", "mode": "ready"})
        waiter.join(30)
        self.assertEqual(result["r"].returncode, 0, result["r"].stderr)
        self.assertEqual(json.loads(result["r"].stdout)["status"], "Ready")

    def test_partial_readiness_times_out_as_failed(self):
        self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--no-wait")
        self.control("POST", "/_test/statefulset-status",
                     {"namespace": NS, "name": "valkey-acme-web", "mode": "partial", "ready_replicas": 1})
        r = self.cli("wait", "--tenant", "acme", "--app", "web", "--timeout", "1s")
        self.assertEqual(r.returncode, 5, r.stderr)
        r = self.cli("-o", "json", "status", "--tenant", "acme", "--app", "web")
        self.assertEqual(json.loads(r.stdout)["status"], "Failed")

    def test_nothing_ready_times_out_as_creating(self):
        self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "free", "--no-wait")
        r = self.cli("wait", "--tenant", "acme", "--app", "web", "--timeout", "1s")
        self.assertEqual(r.returncode, 4, r.stderr)


class Errors(Base):
    def test_forbidden_and_unauthorized(self):
        with open(self.kubeconfig, encoding="utf-8") as f:
            text = f.read()
        for token, code, word in (("forbidden-token", 1, "Forbidden"), ("not-a-token", 1, "Unauthorized")):
            path = os.path.join(support.TMP, f"kubeconfig-{word}")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(self.server.info["token"], token))
            r = self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait", kubeconfig=path)
            self.assertEqual(r.returncode, code, r.stderr)
            self.assertIn(word, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1)
            self.assertNotIn(token, r.stderr)

    def test_client_certificate_context(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait", context="test-cert")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual({x["user"] for x in self.requests()}, {"test-admin"})

    def test_exec_credential_plugin(self):
        plugin = os.path.join(support.TMP, "plugin.sh")
        with open(plugin, "w", encoding="utf-8") as f:
            f.write('#!/bin/sh\nprintf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
                    f'"status":{{"token":"%s"}}}}\' "$TOKEN_FROM_ENV"\n')
        os.chmod(plugin, 0o700)
        path = os.path.join(support.TMP, "kubeconfig-exec")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"""apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster: {{server: "{self.server.info['url']}", certificate-authority: "{self.server.info['ca']}"}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {plugin}
      env: [{{name: TOKEN_FROM_ENV, value: "{self.server.info['token']}"}}]
      interactiveMode: Never
contexts:
- name: x
  context: {{cluster: c, user: u, namespace: other}}
""")
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait", kubeconfig=path)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_wrong_ca_is_refused(self):
        path = os.path.join(support.TMP, "kubeconfig-wrong-ca")
        with open(self.kubeconfig, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(self.server.info["ca"], self.server.info["other_ca"]))
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--no-wait", kubeconfig=path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("TLS", r.stderr)

    def test_unreachable_server(self):
        path = os.path.join(support.TMP, "kubeconfig-closed")
        with open(self.kubeconfig, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(self.server.info["url"], "https://127.0.0.1:1"))
        started = time.monotonic()
        r = self.cli("--retry-deadline", "2s", "provision", "--tenant", "acme", "--app", "web", "--no-wait",
                     kubeconfig=path, timeout=120)
        self.assertEqual(r.returncode, 1)
        self.assertLess(time.monotonic() - started, 30)
        self.assertIn("attempts", r.stderr)
        self.assertIn("valkeyaddon: provision:", r.stderr)

    def test_plain_http_is_refused_unless_allowed_and_never_with_credentials(self):
        path = os.path.join(support.TMP, "kubeconfig-http")
        with open(self.kubeconfig, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(self.server.info["url"], "http://127.0.0.1:1"))
        r = self.cli("status", "--tenant", "acme", "--app", "web", kubeconfig=path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("plain http", r.stderr)
        self.assertIn("--allow-insecure-http", r.stderr)
        # Allowed, but this user has a token: still refused, nothing sent.
        r = self.cli("--allow-insecure-http", "status", "--tenant", "acme", "--app", "web", kubeconfig=path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("never sent over plain http", r.stderr)
        self.assert_no_secret_in(r.stdout + r.stderr, [self.server.info["token"]])
        # Allowed and without credentials (a proxy adds its own): it gets as far as connecting.
        bare = os.path.join(support.TMP, "kubeconfig-http-bare")
        with open(bare, "w", encoding="utf-8") as f:
            f.write("apiVersion: v1\nkind: Config\ncurrent-context: p\n"
                    "clusters:\n- name: p\n  cluster: {server: \"http://127.0.0.1:1\"}\n"
                    "users:\n- name: p\n  user: {}\n"
                    "contexts:\n- name: p\n  context: {cluster: p, user: p}\n")
        r = self.cli("--allow-insecure-http", "--retry-deadline", "1s", "status", "--tenant", "acme", "--app", "web",
                     kubeconfig=bare)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("plain http", r.stderr)
        self.assertIn("attempts", r.stderr)


class Faults(Base):
    def test_provisions_converge_under_injected_faults(self):
        # 20% of requests fail with 429 (Retry-After: 0), 500, 503 or a dropped connection.
        for status, drop in ((429, False), (500, False), (503, False), (200, True)):
            self.control("POST", "/_test/faults", {"probability": 0.05, "seed": status, "status": status,
                                                   "retry_after": 0, "drop": drop,
                                                   "path_regex": "^/api"})
        passwords = {}
        for i in range(100):
            r = self.cli("provision", "--tenant", "acme", "--app", f"app{i % 25}", "--plan", "standard",
                         "--no-wait")
            self.assertEqual(r.returncode, 0, f"provision {i}: {r.stderr}")
            app = f"app{i % 25}"
            pw = self.secret(f"valkey-acme-{app}-auth")["password"]
            self.assertEqual(passwords.setdefault(app, pw), pw, f"{app}: password rotated")
        faults = [x for x in self.requests() if x.get("was_fault")]
        self.assertGreater(len(faults), 10)
        kinds = {}
        for obj in self.objects():
            key = (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])
            kinds[key] = kinds.get(key, 0) + 1
        self.assertTrue(all(n == 1 for n in kinds.values()))
        self.assertEqual(len([k for k in kinds if k[0] == "StatefulSet"]), 25)
        self.assertEqual(len([k for k in kinds if k[0] == "Secret"]), 50)


class DayTwo(Base):
    """Issue 14 against the test server's StatefulSet controller (pods, claims, garbage collector)."""

    def setUp(self):
        super().setUp()
        # A database of its own: rows of other tests must not look like another tenant's.
        self.state = tempfile.mkdtemp(dir=support.TMP)

    def day2(self, *args):
        return self.cli(*args, env={"XDG_STATE_HOME": self.state})

    def get(self, path):
        status, _, body = self.control_raw("GET", path)
        return body if status == 200 else None

    def sts(self):
        return self.get(f"/apis/apps/v1/namespaces/{NS}/statefulsets/valkey-acme-web")

    def pod(self, i):
        return self.get(f"/api/v1/namespaces/{NS}/pods/valkey-acme-web-{i}")

    def claim(self, i, name="valkey-acme-web"):
        return self.get(f"/api/v1/namespaces/{NS}/persistentvolumeclaims/data-{name}-{i}")

    def until(self, what, predicate, seconds=20):
        deadline = time.time() + seconds
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    def test_plan_change_orphans_and_readopts_pods_and_claims(self):
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "standard",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        old_sts, pod0, claim0 = self.sts(), self.pod(0), self.claim(0)
        self.assertIsNotNone(claim0)
        self.assertNotIn("ownerReferences", claim0["metadata"], "whenDeleted: Retain gives claims no owner")
        # New pods never become ready: the roll stops before it reaches pod 0.
        self.control("POST", "/_test/statefulset-status", {"namespace": NS, "name": "valkey-acme-web", "mode": "stall"})
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        new_sts = self.sts()
        self.assertNotEqual(new_sts["metadata"]["uid"], old_sts["metadata"]["uid"], "the StatefulSet was re-created")
        deletes = [x for x in self.requests() if x["method"] == "DELETE" and "/statefulsets/" in x["path"]]
        self.assertEqual(len(deletes), 1, deletes)
        # Orphaned, not cascaded: pod 0 and its claim are the same objects, now owned by the new set.
        adopted = self.until("pod 0 adopted by the new StatefulSet", lambda: (
            lambda p: p if p and [o["uid"] for o in p["metadata"].get("ownerReferences", [])] ==
            [new_sts["metadata"]["uid"]] else None)(self.pod(0)))
        self.assertEqual(adopted["metadata"]["uid"], pod0["metadata"]["uid"], "pod 0 was deleted (not orphaned)")
        self.assertEqual(self.claim(0)["metadata"]["uid"], claim0["metadata"]["uid"], "the data claim was replaced")

    def test_recreated_auth_secret_rolls_the_pods_and_status_waits_for_them(self):
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "pro",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        old_password = self.secret("valkey-acme-web-auth")["password"]
        before = self.sts()["spec"]["template"]["metadata"]["annotations"]["valkeyaddon.io/credential-id"]
        self.control_raw("DELETE", f"/api/v1/namespaces/{NS}/secrets/valkey-acme-web-auth")
        self.control("POST", "/_test/statefulset-status", {"namespace": NS, "name": "valkey-acme-web", "mode": "stall"})
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(json.loads(r.stdout)["password_created"])
        self.assertNotEqual(self.secret("valkey-acme-web-auth")["password"], old_password)
        after = self.sts()["spec"]["template"]["metadata"]["annotations"]["valkeyaddon.io/credential-id"]
        self.assertNotEqual(after, before, "the pod template must change with the credential")
        # The controller replaces pod 2 first; its new pod never becomes ready (stall). Two old pods still
        # serve, which parse_valkey_status alone calls Failed: the rollout-aware status says Creating.
        self.until("pod 2 replaced", lambda: (lambda p: p and p["metadata"]["labels"].get(
            "controller-revision-hash") == self.sts()["status"].get("updateRevision"))(self.pod(2)))
        r = self.day2("-o", "json", "status", "--tenant", "acme", "--app", "web")
        status = json.loads(r.stdout)
        self.assertEqual(status["status"], "Creating", status)
        self.assertIn("rollout in progress", status["message"])
        # Once every pod runs the new template (the new password), it is Ready.
        self.control("POST", "/_test/statefulset-status", {"namespace": NS, "name": "valkey-acme-web", "mode": "ready"})
        r = self.day2("-o", "json", "wait", "--tenant", "acme", "--app", "web", "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        sts = self.sts()
        self.assertEqual(sts["status"].get("currentRevision"), sts["status"].get("updateRevision"))
        for i in range(3):
            self.assertEqual(self.pod(i)["metadata"]["annotations"]["valkeyaddon.io/credential-id"], after)
        self.assertEqual(self.ping_as_the_app(self.pod(0)), "PONG")

    def ping_as_the_app(self, pod):
        """Run the pod's valkey container as a kubelet would (its command, its env with the Secret
        references resolved now) on a loopback port, and PING it with the app's REDIS_URL."""
        server = shutil.which("valkey-server") or shutil.which("redis-server")
        cli = shutil.which("valkey-cli") or shutil.which("redis-cli")
        if not server or not cli:
            if os.environ.get("VALKEYADDON_REQUIRE_REDIS") == "1":
                self.fail("no valkey-server/redis-server and cli (VALKEYADDON_REQUIRE_REDIS=1)")
            self.skipTest("no valkey-server/redis-server and cli")
        container = next(c for c in pod["spec"]["containers"] if c["name"] == "valkey")
        env = {"PATH": os.environ["PATH"], "HOSTNAME": pod["metadata"]["name"]}
        for e in container["env"]:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            env[e["name"]] = self.secret(ref["name"])[ref["key"]] if ref else e["value"]
        work = tempfile.mkdtemp(dir=self.state)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env.update(VALKEY_PORT=str(port), VALKEY_BIND="127.0.0.1", VALKEY_RUN_DIR=work + "/run",
                   VALKEY_DATA_DIR=work + "/data", VALKEY_CGROUP_ROOT=work, VALKEY_SERVER=server, VALKEY_CLI=cli)
        os.makedirs(work + "/data")
        proc = subprocess.Popen(container["command"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            url = self.secret("app-web-redis-url")["REDIS_URL"]
            password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
            deadline, reply = time.time() + 15, ""
            while time.time() < deadline and reply != "PONG":
                r = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(port), "ping"], capture_output=True, text=True,
                                   env=dict(os.environ, REDISCLI_AUTH=password), timeout=10)
                reply = r.stdout.strip()
                time.sleep(0.1)
            return reply
        finally:
            os.killpg(proc.pid, 9)
            proc.wait()

    def test_deprovision_keeps_claims_unless_asked_and_only_its_own(self):
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "standard",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        claim0 = self.claim(0)
        r = self.day2("-o", "json", "deprovision", "--tenant", "acme", "--app", "web")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["kept_claims"], ["data-valkey-acme-web-0"])
        kept = self.claim(0)
        self.assertEqual(kept["metadata"]["uid"], claim0["metadata"]["uid"])
        self.assertEqual((kept["metadata"]["labels"]["valkeyaddon.io/tenant-id"],
                          kept["metadata"]["labels"]["valkeyaddon.io/app-id"]), ("acme", "web"))
        self.assertIsNone(self.sts())
        self.until("the pods to go", lambda: self.pod(0) is None)
        # A colliding tenant may not take the kept data over; the owner may.
        r = self.day2("-o", "json", "provision", "--tenant", "acme-web", "--app", "x", "--plan", "standard",
                      "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)  # another name: valkey-acme-web-x
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "standard",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.claim(0)["metadata"]["uid"], claim0["metadata"]["uid"], "the kept data came back")
        r = self.day2("-o", "json", "deprovision", "--tenant", "acme", "--app", "web", "--delete-data")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["claims_deleted"], 1)
        self.until("the claim to go", lambda: self.claim(0) is None)
        self.assertIsNotNone(self.claim(0, "valkey-acme-web-x"), "another add-on's claim was touched")

    def test_colliding_tenants_share_nothing(self):
        r = self.day2("-o", "json", "provision", "--tenant", "acme-prod", "--app", "web", "--plan", "standard",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        secrets = {o["metadata"]["name"]: o for o in self.objects() if o["kind"] == "Secret"}
        self.control("DELETE", "/_test/requests")
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "prod-web", "--plan", "standard",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("belongs to tenant acme-prod app web", r.stderr)
        self.assertEqual([x for x in self.requests() if x["method"] != "GET"], [])
        r = self.day2("-o", "json", "deprovision", "--tenant", "acme", "--app", "prod-web")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual([x for x in self.requests() if x["method"] != "GET"], [])
        self.assertEqual(secrets, {o["metadata"]["name"]: o for o in self.objects() if o["kind"] == "Secret"})

    def test_unknown_plan_keeps_the_existing_plan(self):
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "standard",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        rv = self.sts()["metadata"]["resourceVersion"]
        self.control("DELETE", "/_test/requests")
        r = self.day2("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "standrad",
                      "--timeout", "30s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('unknown plan "standrad": the add-on keeps plan "standard"', r.stderr)
        self.assertEqual(json.loads(r.stdout)["plan"], "standard")
        self.assertEqual(self.sts()["metadata"]["resourceVersion"], rv)
        self.assertEqual([x for x in self.requests() if x["method"] != "GET"], [])


class ForeignManager(Base):
    """Another field manager's additions to our objects (issue 15; transcript 02): a sidecar
    injector's env var, a mesh's Service port, a cost label.  Server-side apply keeps them
    through our forced apply, so they are on every object we read back: the next ensure must
    see its own fields there and write nothing, and nothing of theirs may be deleted."""

    STS = f"/apis/apps/v1/namespaces/{NS}/statefulsets/valkey-acme-web"
    SVC = f"/api/v1/namespaces/{NS}/services/valkey-acme-web"

    def foreign_apply(self, path, body):
        status, _, out = self.api.request("PATCH", path + "?fieldManager=someone-else", body,
                                          ctype="application/apply-patch+yaml")
        self.assertLess(status, 300, out)
        return out

    def get(self, path):
        status, _, out = self.control_raw("GET", path)
        self.assertEqual(status, 200, out)
        return out

    def provision(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "standard", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_foreign_env_port_and_label_cause_no_write_and_stay(self):
        self.provision()
        meta = {"name": "valkey-acme-web", "namespace": NS}
        self.foreign_apply(self.STS, {
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": dict(meta, labels={"example.com/cost-centre": "42"}),
            "spec": {"template": {"spec": {"containers": [
                {"name": "valkey", "env": [{"name": "FOREIGN", "value": "1"}],
                 "ports": [{"name": "admin", "containerPort": 16379, "protocol": "TCP"}]}]}}}})
        self.foreign_apply(self.SVC, {
            "apiVersion": "v1", "kind": "Service", "metadata": dict(meta, labels={"example.com/mesh": "on"}),
            "spec": {"ports": [{"name": "mesh", "port": 15090, "protocol": "TCP", "targetPort": 15090}]}})
        sts_generation = self.get(self.STS)["metadata"]["generation"]
        svc_rv = self.get(self.SVC)["metadata"]["resourceVersion"]

        self.control("DELETE", "/_test/requests")
        self.provision()
        writes = [(x["method"], x["path"]) for x in self.requests() if x["method"] != "GET"]
        self.assertEqual(writes, [], "a foreign manager's fields made the ensure write")

        sts, svc = self.get(self.STS), self.get(self.SVC)
        # (The StatefulSet's resourceVersion moves with the controller's status writes.)
        self.assertEqual((sts["metadata"]["generation"], svc["metadata"]["resourceVersion"]), (sts_generation, svc_rv))
        valkey = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "valkey")
        self.assertIn({"name": "FOREIGN", "value": "1"}, valkey["env"])
        self.assertIn(16379, [p["containerPort"] for p in valkey["ports"]])
        self.assertEqual(sts["metadata"]["labels"].get("example.com/cost-centre"), "42")
        self.assertIn(15090, [p["port"] for p in svc["spec"]["ports"]])
        self.assertEqual(svc["metadata"]["labels"].get("example.com/mesh"), "on")
        # Our own fields are all still there.
        self.assertIn(6379, [p["port"] for p in svc["spec"]["ports"]])
        self.assertIn(6379, [p["containerPort"] for p in valkey["ports"]])


class HTTP2(Base):
    """The server offers ALPN h2 first, as a kube-apiserver does: the transport's
    CURL_HTTP_VERSION_2TLS path is the one that runs, watches included."""

    server_args = ()  # no simulated controller: the test makes the StatefulSet Ready

    def test_provision_and_a_wait_over_a_watch_speak_http2(self):
        r = self.cli("provision", "--tenant", "acme", "--app", "web", "--plan", "pro", "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        result = {}
        waiter = threading.Thread(target=lambda: result.update(
            r=self.cli("-o", "json", "wait", "--tenant", "acme", "--app", "web", "--timeout", "20s")))
        waiter.start()
        deadline = time.monotonic() + 10
        while not any("watch=1" in (x.get("query") or "") for x in self.requests()):
            self.assertLess(time.monotonic(), deadline, "the wait never opened a watch")
            time.sleep(0.05)
        self.control("POST", "/_test/statefulset-status",
                     {"namespace": NS, "name": "valkey-acme-web", "mode": "ready"})
        waiter.join(30)
        self.assertEqual(result["r"].returncode, 0, result["r"].stderr)
        self.assertEqual(json.loads(result["r"].stdout)["status"], "Ready")
        log = self.requests()
        self.assertGreater(len([x for x in log if x["method"] in ("POST", "PATCH")]), 0)
        self.assertEqual({x["http_version"] for x in log}, {"2"},
                         [(x["method"], x["path"], x["http_version"]) for x in log])


class HTTP1Fallback(Base):
    """A server (or proxy) that offers only http/1.1 in ALPN: the same CLI falls back to it."""

    server_args = ("--auto-ready", "0.05", "--no-http2")

    def test_provision_and_wait_over_http_1_1(self):
        r = self.cli("-o", "json", "provision", "--tenant", "acme", "--app", "web", "--plan", "pro",
                     "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "Ready")
        log = self.requests()
        self.assertTrue(any("watch=1" in (x.get("query") or "") for x in log))
        self.assertEqual({x["http_version"] for x in log}, {"1.1"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
