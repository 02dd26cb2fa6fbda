#!/usr/bin/env python3
"""Self-tests for kube_api_server.py: real HTTP/1.1 and HTTP/2 over TLS against a spawned server.

Run: python3 tests/support/test_kube_api_server.py
Writes only under a temporary directory and always stops the servers it started.
"""

import http.client
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "kube_api_server.py")
TMP = None
SERVERS = []

STS_PATH = "/apis/apps/v1/namespaces/{ns}/statefulsets"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


class ServerProcess:
    """One kube_api_server.py child process, started and stopped by the tests."""

    def __init__(self, name, *args):
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir)
        self.proc = subprocess.Popen([sys.executable, SERVER, "--state-dir", self.dir, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        SERVERS.append(self)
        deadline = time.monotonic() + 30
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        if not line.startswith(b"READY https://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stderr.read()!r}")
        with open(os.path.join(self.dir, "server.json"), encoding="utf-8") as f:
            self.info = json.load(f)
        assert line.decode().split()[1] == self.info["url"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return self.proc.returncode

    def context(self, ca=None, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=ca or self.info["ca"])
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def client(self, token="default", **kw):
        return Client(self, self.info["token"] if token == "default" else token, **kw)


class Client:
    """A keep-alive HTTPS client speaking JSON."""

    def __init__(self, server, token, cert=None, key=None, ca=None):
        self.server, self.token = server, token
        self.ctx = server.context(ca, cert, key)
        self.conn = None

    def connect(self):
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.server.info["port"],
                                                context=self.ctx, timeout=15)
        return self.conn

    def request(self, method, path, body=None, ctype="application/json", headers=None):
        hdrs = dict(headers or {})
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs["Content-Type"] = ctype
        if self.conn is None:
            self.connect()
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError):
            self.conn.close()
            self.conn = None
            raise
        raw = resp.read()
        parsed = json.loads(raw) if resp.getheader("Content-Type", "").startswith("application/json") else raw
        return resp.status, resp, parsed

    def close(self):
        if self.conn:
            self.conn.close()


def sts(name, replicas=1, labels=None, extra_spec=None, image="redis:7"):
    spec = {"replicas": replicas, "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "redis", "image": image}]}}}
    spec.update(extra_spec or {})
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec}


def secret(name, data=None, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": data or {"k": "dmFsdWU="}}


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def setUpModule():
    global TMP, MAIN
    TMP = tempfile.mkdtemp(prefix="kube-api-test-")
    token_file = os.path.join(TMP, "tokens")
    with open(token_file, "w", encoding="utf-8") as f:
        f.write("rotating-token-1,rotator\n")
    MAIN = ServerProcess("main", "--history", "50", "--bookmark-interval", "0.3",
                         "--token-file", token_file)
    MAIN.token_file = token_file


def tearDownModule():
    codes = [s.stop() for s in SERVERS]
    shutil.rmtree(TMP, ignore_errors=True)
    if any(c != 0 for c in codes):
        raise RuntimeError(f"a server did not exit cleanly on SIGTERM: {codes}")


class Base(unittest.TestCase):
    ns = "default"

    def setUp(self):
        self.c = MAIN.client()
        self.addCleanup(self.c.close)

    def client(self, server=None, **kw):
        c = (server or MAIN).client(**kw)
        self.addCleanup(c.close)
        return c

    def req(self, *a, **kw):
        return self.c.request(*a, **kw)

    def apply(self, obj, manager="mgr", force=None, ns=None, status=None, dry=False):
        path = STS_PATH.format(ns=ns or self.ns) + "/" + obj["metadata"]["name"]
        path += f"?fieldManager={manager}"
        if force is not None:
            path += "&force=" + ("true" if force else "false")
        if dry:
            path += "&dryRun=All"
        code, _, body = self.req("PATCH", path, obj, APPLY)
        if status is not None:
            self.assertEqual(code, status, body)
        return code, body

    def control(self, method, path, body=None):
        code, _, out = self.req(method, "/_test/" + path, body)
        self.assertLess(code, 300, out)
        return out

    def settled(self, name, ns=None):
        """The StatefulSet once the simulated controller has written its status for this generation.

        A real controller-manager writes status right after every spec change (transcript 01),
        so a test of no-op writes must start from the object as the controller left it.
        """
        path = STS_PATH.format(ns=ns or self.ns) + "/" + name
        deadline = time.monotonic() + 10
        last = None
        while time.monotonic() < deadline:
            obj = self.req("GET", path)[2]
            done = (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]
            if done and last == obj["metadata"]["resourceVersion"]:
                return obj
            last = obj["metadata"]["resourceVersion"] if done else None
            time.sleep(0.1)
        self.fail(f"StatefulSet {name}: the controller never settled")


class TestAuth(Base):
    def test_no_credentials_is_401_status(self):
        code, resp, body = self.client(token=None).request("GET", "/api/v1/namespaces/default/secrets")
        self.assertEqual(code, 401)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": "Unauthorized",
                                "reason": "Unauthorized", "code": 401})
        self.assertIn("Audit-Id", resp.headers)

    def test_bad_token_is_401(self):
        code, _, body = self.client(token="nope").request("GET", "/api/v1/namespaces/default/secrets")
        self.assertEqual((code, body["reason"]), (401, "Unauthorized"))

    def test_token_ok(self):
        code, _, body = self.req("GET", "/api/v1/namespaces/default/secrets")
        self.assertEqual(code, 200)
        self.assertEqual(body["kind"], "SecretList")

    def test_client_certificate_ok(self):
        c = self.client(token=None, cert=MAIN.info["client_cert"], key=MAIN.info["client_key"])
        self.req("DELETE", "/_test/requests")
        code, _, _ = c.request("GET", "/api/v1/namespaces/default/configmaps")
        self.assertEqual(code, 200)
        log = self.control("GET", "requests")["items"]
        self.assertEqual(log[-1]["user"], "test-admin")

    def test_expired_client_certificate_fails_handshake(self):
        c = self.client(token=None, cert=MAIN.info["client_expired_cert"],
                        key=MAIN.info["client_expired_key"])
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            c.request("GET", "/api/v1/namespaces/default/configmaps")

    def test_untrusted_server_ca_fails_verification(self):
        c = self.client(ca=MAIN.info["other_ca"])
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.request("GET", "/version")

    def test_forbidden_token_403(self):
        c = self.client(token="forbidden-token")
        code, _, body = c.request("GET", "/api/v1/namespaces/ns/secrets/x")
        self.assertEqual(code, 403)
        self.assertEqual(body, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'secrets "x" is forbidden: User "test-forbidden" cannot get resource '
                       '"secrets" in API group "" in the namespace "ns"',
            "reason": "Forbidden", "details": {"name": "x", "kind": "secrets"}, "code": 403})
        code, _, body = c.request("PATCH", "/apis/apps/v1/namespaces/ns/statefulsets/s/status",
                                  {}, MERGE)
        self.assertEqual(body["message"], 'statefulsets.apps "s" is forbidden: User "test-forbidden" '
                         'cannot patch resource "statefulsets/status" in API group "apps" in the '
                         'namespace "ns"')
        code, _, body = c.request("GET", "/apis/apps/v1/namespaces/ns/statefulsets?watch=1")
        self.assertEqual(code, 403)
        self.assertIn("cannot watch resource", body["message"])
        self.assertEqual(c.request("GET", "/version")[0], 200)

    def test_token_file_rotation(self):
        c1 = self.client(token="rotating-token-1")
        self.assertEqual(c1.request("GET", "/api/v1/namespaces/default/secrets")[0], 200)
        with open(MAIN.token_file, "w", encoding="utf-8") as f:
            f.write("rotating-token-2\n")
        self.addCleanup(write_file, MAIN.token_file, "rotating-token-1,rotator\n")
        self.assertEqual(c1.request("GET", "/api/v1/namespaces/default/secrets")[0], 401)
        c2 = self.client(token="rotating-token-2")
        self.assertEqual(c2.request("GET", "/api/v1/namespaces/default/secrets")[0], 200)

    def test_health_needs_no_auth(self):
        c = self.client(token=None)
        code, _, body = c.request("GET", "/healthz")
        self.assertEqual((code, body), (200, b"ok"))


class TestWrongCA(unittest.TestCase):
    def test_wrong_ca_mode(self):
        srv = ServerProcess("wrongca", "--wrong-ca")
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                srv.client().request("GET", "/version")
            c = srv.client(ca=srv.info["other_ca"])
            self.addCleanup(c.close)
            code, _, body = c.request("GET", "/version")
            self.assertEqual((code, body["major"]), (200, "1"))
        finally:
            self.assertEqual(srv.stop(), 0)


class TestCrud(Base):
    ns = "crud"

    def test_create_get_list(self):
        path = f"/api/v1/namespaces/{self.ns}/secrets"
        code, resp, body = self.req("POST", path, secret("s1", labels={"app": "a", "tier": "x"}))
        self.assertEqual(code, 201, body)
        self.assertEqual(resp.getheader("Content-Type"), "application/json")
        self.assertEqual((body["kind"], body["apiVersion"], body["type"]), ("Secret", "v1", "Opaque"))
        meta = body["metadata"]
        for k in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
            self.assertIn(k, meta)
        self.assertEqual(meta["namespace"], self.ns)
        self.assertNotIn("generation", meta)
        mf = meta["managedFields"][0]
        self.assertEqual((mf["operation"], mf["fieldsType"], mf["apiVersion"]), ("Update", "FieldsV1", "v1"))
        self.assertEqual(mf["fieldsV1"]["f:data"], {"f:k": {}})
        self.req("POST", path, secret("s2", labels={"app": "b"}))
        code, _, got = self.req("GET", path + "/s1")
        self.assertEqual((code, got), (200, body))
        code, _, lst = self.req("GET", path + "?labelSelector=app%3Da,tier%3Dx")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["s1"])
        self.assertEqual((lst["kind"], lst["apiVersion"]), ("SecretList", "v1"))
        self.assertNotIn("kind", lst["items"][0])  # typed lists carry no per-item kind
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]), int(meta["resourceVersion"]))
        code, _, lst = self.req("GET", path + "?fieldSelector=metadata.name%3Ds2")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["s2"])
        code, _, lst = self.req("GET", path + "?limit=1")
        self.assertEqual(len(lst["items"]), 1)
        self.assertIn("continue", lst["metadata"])
        code, _, lst2 = self.req("GET", path + "?limit=1&continue=" + lst["metadata"]["continue"])
        self.assertEqual(lst2["items"][0]["metadata"]["name"], "s2")

    def test_not_found_body(self):
        code, _, body = self.req("GET", f"/apis/apps/v1/namespaces/{self.ns}/statefulsets/nope")
        self.assertEqual(code, 404)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": 'statefulsets.apps "nope" not found',
                                "reason": "NotFound",
                                "details": {"name": "nope", "group": "apps", "kind": "statefulsets"},
                                "code": 404})

    def test_unknown_resource(self):
        code, _, body = self.req("GET", f"/api/v1/namespaces/{self.ns}/widgets")
        self.assertEqual(code, 404)
        self.assertEqual(body["message"], "the server could not find the requested resource")
        self.assertEqual(body["reason"], "NotFound")

    def test_already_exists_body(self):
        path = f"/api/v1/namespaces/{self.ns}/configmaps"
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}, "data": {"a": "b"}}
        self.assertEqual(self.req("POST", path, cm)[0], 201)
        code, _, body = self.req("POST", path, cm)
        self.assertEqual(code, 409)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": 'configmaps "dup" already exists',
                                "reason": "AlreadyExists",
                                "details": {"name": "dup", "kind": "configmaps"}, "code": 409})

    def test_generate_name_and_dry_run(self):
        path = f"/api/v1/namespaces/{self.ns}/configmaps"
        code, _, body = self.req("POST", path, {"metadata": {"generateName": "gen-"}})
        self.assertEqual(code, 201)
        self.assertRegex(body["metadata"]["name"], r"^gen-[a-z0-9]{5}$")
        code, _, body = self.req("POST", path + "?dryRun=All", {"metadata": {"name": "dry"}})
        self.assertEqual(code, 201)
        self.assertEqual(self.req("GET", path + "/dry")[0], 404)

    def test_delete_bodies(self):
        base = STS_PATH.format(ns=self.ns)
        self.apply(sts("del"), ns=self.ns, status=201)
        uid = self.req("GET", base + "/del")[2]["metadata"]["uid"]
        code, _, body = self.req("DELETE", base + "/del")
        self.assertEqual(code, 200)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Success",
                                "details": {"name": "del", "group": "apps", "kind": "statefulsets",
                                            "uid": uid}})
        self.assertEqual(self.req("DELETE", base + "/del")[0], 404)
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
               "spec": {"clusterIP": "None", "selector": {"app": "x"}, "ports": [{"port": 6379}]}}
        spath = f"/api/v1/namespaces/{self.ns}/services"
        self.assertEqual(self.req("POST", spath, svc)[0], 201)
        code, _, body = self.req("DELETE", spath + "/svc")
        self.assertEqual((code, body["kind"]), (200, "Service"))

    def test_finalizers_and_propagation(self):
        pvcs = f"/api/v1/namespaces/{self.ns}/persistentvolumeclaims"
        pvc = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                       "resources": {"requests": {"storage": "1Gi"}}}}
        code, _, body = self.req("POST", pvcs, pvc)
        self.assertEqual(code, 201, body)
        self.assertEqual(body["metadata"]["finalizers"], ["kubernetes.io/pvc-protection"])
        self.assertEqual(body["status"], {"phase": "Pending"})
        code, _, body = self.req("DELETE", pvcs + "/data")
        self.assertEqual((code, body["kind"]), (200, "PersistentVolumeClaim"))
        self.assertIn("deletionTimestamp", body["metadata"])
        self.assertEqual(self.req("GET", pvcs + "/data")[0], 404)
        base = STS_PATH.format(ns=self.ns)
        self.apply(sts("fg"), ns=self.ns, status=201)
        code, _, body = self.req("DELETE", base + "/fg", {"propagationPolicy": "Foreground"})
        self.assertEqual((code, body["metadata"]["finalizers"]), (200, ["foregroundDeletion"]))
        # Foreground: the garbage collector deletes the pods first, then the StatefulSet goes.
        deadline = time.monotonic() + 10
        while self.req("GET", base + "/fg")[0] != 404 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.req("GET", base + "/fg")[0], 404)
        pods = self.req("GET", f"/api/v1/namespaces/{self.ns}/pods")[2]["items"]
        self.assertEqual([p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("fg-")], [])
        cms = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.req("POST", cms, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
        code, _, body = self.req("DELETE", cms + "/held")
        self.assertEqual((code, body["metadata"]["finalizers"]), (200, ["example.com/hold"]))
        self.assertEqual(self.req("GET", cms + "/held")[0], 200)
        self.req("PATCH", cms + "/held", {"metadata": {"finalizers": None}}, MERGE)
        self.assertEqual(self.req("GET", cms + "/held")[0], 404)

    def test_secret_bad_base64_is_400(self):
        code, _, body = self.req("POST", f"/api/v1/namespaces/{self.ns}/secrets",
                                 secret("b64", {"DB_Host": "sql01"}))
        self.assertEqual(code, 400)
        self.assertEqual(body["message"], 'Secret in version "v1" cannot be handled as a Secret: '
                                          'illegal base64 data at input byte 4')
        self.assertEqual(body["reason"], "BadRequest")

    def test_string_data_folds_into_data(self):
        obj = {"metadata": {"name": "sd"}, "stringData": {"pw": "hunter2"}}
        code, _, body = self.req("POST", f"/api/v1/namespaces/{self.ns}/secrets", obj)
        self.assertEqual(code, 201)
        self.assertEqual(body["data"], {"pw": "aHVudGVyMg=="})
        self.assertNotIn("stringData", body)

    def test_discovery(self):
        code, _, v = self.req("GET", "/version")
        self.assertEqual((code, v["gitVersion"]), (200, "v1.30.0"))
        self.assertEqual(self.req("GET", "/api")[2]["versions"], ["v1"])
        groups = {g["name"] for g in self.req("GET", "/apis")[2]["groups"]}
        self.assertLessEqual({"apps", "policy", "networking.k8s.io", "monitoring.coreos.com"}, groups)
        res = self.req("GET", "/apis/apps/v1")[2]
        self.assertIn("statefulsets/status", [r["name"] for r in res["resources"]])


class TestApply(Base):
    ns = "apply"

    def test_create_then_noop(self):
        code, created = self.apply(sts("noop", 3))
        self.assertEqual(code, 201)
        self.assertEqual(created["metadata"]["generation"], 1)
        mf = created["metadata"]["managedFields"]
        first = self.settled("noop")
        code, second = self.apply(sts("noop", 3))
        self.assertEqual(code, 200)
        self.assertEqual(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"])
        self.assertEqual(second["metadata"]["generation"], 1)
        self.assertEqual(second, first)
        self.assertEqual([(m["manager"], m["operation"]) for m in mf], [("mgr", "Apply")])
        self.assertEqual(mf[0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"],
                         {'k:{"name":"redis"}': {".": {}, "f:image": {}, "f:name": {}}})

    def test_spec_change_bumps_generation_metadata_change_does_not(self):
        _, a = self.apply(sts("gen", 1), status=201)
        _, b = self.apply(sts("gen", 2), status=200)
        self.assertEqual(b["metadata"]["generation"], 2)
        self.assertGreater(int(b["metadata"]["resourceVersion"]), int(a["metadata"]["resourceVersion"]))
        _, c = self.apply(sts("gen", 2, labels={"x": "y"}), status=200)
        self.assertEqual(c["metadata"]["generation"], 2)
        self.assertGreater(int(c["metadata"]["resourceVersion"]), int(b["metadata"]["resourceVersion"]))

    def test_conflict_with_update_manager_then_force(self):
        self.apply(sts("conf", 1), status=201)
        path = STS_PATH.format(ns=self.ns) + "/conf?fieldManager=other-manager"
        code, _, _ = self.req("PATCH", path, {"spec": {"replicas": 4}}, MERGE)
        self.assertEqual(code, 200)
        code, body = self.apply(sts("conf", 2))
        self.assertEqual(code, 409)
        self.assertEqual(body, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'Apply failed with 1 conflict: conflict with "other-manager" using apps/v1: '
                       '.spec.replicas',
            "reason": "Conflict",
            "details": {"causes": [{"reason": "FieldManagerConflict",
                                    "message": 'conflict with "other-manager" using apps/v1',
                                    "field": ".spec.replicas"}]},
            "code": 409})
        code, body = self.apply(sts("conf", 2), force=False)
        self.assertEqual(code, 409)
        code, body = self.apply(sts("conf", 2), force=True)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["spec"]["replicas"], 2)
        owners = {m["manager"]: m["fieldsV1"] for m in body["metadata"]["managedFields"]}
        self.assertIn("f:replicas", owners["mgr"]["f:spec"])
        self.assertNotIn("f:replicas", owners.get("other-manager", {}).get("f:spec", {}))

    def test_conflict_between_appliers_and_same_value_is_shared(self):
        self.apply(sts("two", 1), manager="a", status=201)
        code, body = self.apply(sts("two", 5), manager="b")
        self.assertEqual(code, 409)
        self.assertEqual(body["message"], 'Apply failed with 1 conflict: conflict with "a": .spec.replicas')
        code, body = self.apply(sts("two", 1), manager="b")
        self.assertEqual(code, 200, body)
        managers = sorted(m["manager"] for m in body["metadata"]["managedFields"]
                          if m["operation"] == "Apply")
        self.assertEqual(managers, ["a", "b"])

    def test_several_conflicts(self):
        self.apply(sts("many", 1, labels={"team": "a"}), manager="first", status=201)
        path = STS_PATH.format(ns=self.ns) + "/many?fieldManager=second"
        self.req("PATCH", path, {"spec": {"replicas": 2}}, MERGE)
        code, body = self.apply(sts("many", 3, labels={"team": "b"}), manager="third")
        self.assertEqual(code, 409)
        self.assertEqual(body["message"], 'Apply failed with 2 conflicts: conflicts with "first":\n'
                                          '- .metadata.labels.team\n'
                                          'conflicts with "second" using apps/v1:\n- .spec.replicas')
        self.assertEqual([c["field"] for c in body["details"]["causes"]],
                         [".metadata.labels.team", ".spec.replicas"])

    def test_omitted_fields_are_removed_unless_owned_elsewhere(self):
        self.apply(sts("omit", labels={"a": "1", "b": "2"}), status=201)
        path = STS_PATH.format(ns=self.ns) + "/omit?fieldManager=editor"
        self.req("PATCH", path, {"metadata": {"labels": {"c": "3"}}}, MERGE)
        _, body = self.apply(sts("omit", labels={"a": "1"}), status=200)
        self.assertEqual(body["metadata"]["labels"], {"a": "1", "c": "3"})
        extra = sts("omit", labels={"a": "1"})
        extra["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
        _, body = self.apply(extra, status=200)
        self.assertEqual(len(body["spec"]["template"]["spec"]["containers"]), 2)
        _, body = self.apply(sts("omit", labels={"a": "1"}), status=200)
        self.assertEqual([c["name"] for c in body["spec"]["template"]["spec"]["containers"]], ["redis"])

    def test_apply_requires_field_manager(self):
        code, _, body = self.req("PATCH", STS_PATH.format(ns=self.ns) + "/x", sts("x"), APPLY)
        self.assertEqual(code, 422)
        self.assertEqual(body["message"], 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                                          'Required value: is required for apply patch')
        self.assertEqual(body["details"]["causes"], [{"reason": "FieldValueRequired",
                                                      "message": "Required value: is required for apply patch",
                                                      "field": "fieldManager"}])

    def test_apply_non_json_yaml_is_400(self):
        code, _, body = self.req("PATCH", STS_PATH.format(ns=self.ns) + "/x?fieldManager=m",
                                 "apiVersion: apps/v1\nkind: StatefulSet\n", APPLY)
        self.assertEqual((code, body["reason"]), (400, "BadRequest"))

    def test_apply_dry_run_stores_nothing(self):
        code, body = self.apply(sts("dry"), dry=True)
        self.assertEqual(code, 201)
        self.assertEqual(self.req("GET", STS_PATH.format(ns=self.ns) + "/dry")[0], 404)

    def test_main_resource_ignores_status(self):
        obj = sts("ign")
        obj["status"] = {"replicas": 9, "readyReplicas": 9}
        _, body = self.apply(obj, status=201)
        self.assertEqual(body["status"], {"replicas": 0, "availableReplicas": 0})


class TestUpdateAndPatch(Base):
    ns = "update"

    def test_merge_patch(self):
        self.apply(sts("mp", 1, labels={"keep": "1", "drop": "1"}), status=201)
        path = STS_PATH.format(ns=self.ns) + "/mp"
        code, _, body = self.req("PATCH", path, {"metadata": {"labels": {"drop": None}},
                                                 "spec": {"replicas": 3}}, MERGE)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["metadata"]["labels"], {"keep": "1"})
        self.assertEqual((body["spec"]["replicas"], body["metadata"]["generation"]), (3, 2))
        rv = self.settled("mp")["metadata"]["resourceVersion"]
        code, _, again = self.req("PATCH", path, {"spec": {"replicas": 3}}, MERGE)
        self.assertEqual(again["metadata"]["resourceVersion"], rv)
        code, _, body = self.req("PATCH", path, [{"op": "replace", "path": "/spec/replicas", "value": 4}],
                                 "application/json-patch+json")
        self.assertEqual((code, body["spec"]["replicas"]), (200, 4))

    def test_strategic_merge_patch(self):
        obj = sts("smp")
        obj["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
        self.apply(obj, status=201)
        path = STS_PATH.format(ns=self.ns) + "/smp"
        patch = {"spec": {"template": {"spec": {"containers": [
            {"name": "redis", "image": "redis:7.2"}, {"name": "side", "$patch": "delete"}]}}}}
        code, _, body = self.req("PATCH", path, patch, "application/strategic-merge-patch+json")
        self.assertEqual(code, 200, body)
        self.assertEqual([(c["name"], c["image"]) for c in body["spec"]["template"]["spec"]["containers"]],
                         [("redis", "redis:7.2")])
        sm = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
              "metadata": {"name": "sm"}, "spec": {"endpoints": [{"port": "metrics"}]}}
        smpath = f"/apis/monitoring.coreos.com/v1/namespaces/{self.ns}/servicemonitors"
        code, _, created = self.req("POST", smpath, sm)
        self.assertEqual(code, 201, created)
        self.assertEqual(list(created), sorted(created))  # unstructured objects serialise sorted
        code, _, body = self.req("PATCH", smpath + "/sm", {"spec": {}}, "application/strategic-merge-patch+json")
        self.assertEqual((code, body["reason"]), (415, "UnsupportedMediaType"))

    def test_scale_subresource(self):
        self.apply(sts("sc", 2), status=201)
        path = STS_PATH.format(ns=self.ns) + "/sc/scale"
        code, _, scale = self.req("GET", path)
        self.assertEqual(code, 200)
        self.assertEqual((scale["kind"], scale["apiVersion"], scale["spec"], scale["status"]["selector"]),
                         ("Scale", "autoscaling/v1", {"replicas": 2}, "app=sc"))
        code, _, scale = self.req("PATCH", path + "?fieldManager=kubectl", {"spec": {"replicas": 4}}, MERGE)
        self.assertEqual((code, scale["spec"]["replicas"]), (200, 4))
        code, body = self.apply(sts("sc", 2))
        self.assertEqual(code, 409)
        self.assertEqual(body["message"], 'Apply failed with 1 conflict: conflict with "kubectl" with '
                                          'subresource "scale" using apps/v1: .spec.replicas')

    def test_put_stale_resource_version_conflicts(self):
        self.apply(sts("put", 1), status=201)
        obj = self.settled("put")  # the controller's status write moves the resourceVersion
        path = STS_PATH.format(ns=self.ns) + "/put"
        obj["spec"]["replicas"] = 2
        code, _, fresh = self.req("PUT", path, obj)
        self.assertEqual(code, 200, fresh)
        obj["spec"]["replicas"] = 3  # still carries the old resourceVersion
        code, _, body = self.req("PUT", path, obj)
        self.assertEqual(code, 409)
        self.assertEqual(body, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'Operation cannot be fulfilled on statefulsets.apps "put": the object has been '
                       'modified; please apply your changes to the latest version and try again',
            "reason": "Conflict",
            "details": {"name": "put", "group": "apps", "kind": "statefulsets"}, "code": 409})

    def test_put_name_and_type_mismatch_are_400(self):
        _, obj = self.apply(sts("nm"), status=201)
        path = STS_PATH.format(ns=self.ns)
        code, _, body = self.req("PUT", path + "/other", obj)
        self.assertEqual(code, 400)
        self.assertEqual(body["message"], "the name of the object (nm) does not match the name on the URL (other)")
        obj["apiVersion"] = "v1"
        code, _, body = self.req("PUT", path + "/nm", obj)
        self.assertEqual((code, body["message"]), (400, "the API version in the data (v1) does not "
                                                        "match the expected API version (apps/v1)"))


class TestValidation(Base):
    ns = "valid"

    def test_bad_name(self):
        code, _, body = self.req("POST", STS_PATH.format(ns=self.ns), sts("Bad_Name"))
        self.assertEqual(code, 422)
        # A StatefulSet's name is an RFC 1123 label, not a subdomain (transcript 06).
        detail = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                  "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
                  "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        self.assertEqual(body["message"], f'StatefulSet.apps "Bad_Name" is invalid: metadata.name: '
                                          f'Invalid value: "Bad_Name": {detail}')
        self.assertEqual(body["reason"], "Invalid")
        self.assertEqual(body["details"], {"name": "Bad_Name", "group": "apps", "kind": "StatefulSet",
                                           "causes": [{"reason": "FieldValueInvalid",
                                                       "message": f'Invalid value: "Bad_Name": {detail}',
                                                       "field": "metadata.name"}]})

    def test_service_name_is_dns1035(self):
        svc = {"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}
        code, _, body = self.req("POST", f"/api/v1/namespaces/{self.ns}/services", svc)
        self.assertEqual(code, 422)
        self.assertIn("a DNS-1035 label must consist of", body["message"])
        self.assertTrue(body["message"].startswith('Service "1svc" is invalid: metadata.name'))

    def test_label_value_and_selector(self):
        code, _, body = self.req("POST", STS_PATH.format(ns=self.ns), sts("lv", labels={"a": "x" * 64}))
        self.assertEqual(code, 422)
        self.assertEqual(body["details"]["causes"][0]["field"], "metadata.labels")
        self.assertIn("must be no more than 63 characters", body["message"])
        bad = sts("sel")
        bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
        code, _, body = self.req("POST", STS_PATH.format(ns=self.ns), bad)
        self.assertEqual(code, 422)
        self.assertEqual(body["message"], 'StatefulSet.apps "sel" is invalid: spec.template.metadata.labels: '
                                          'Invalid value: map[string]string{"app":"sel"}: `selector` does '
                                          'not match template `labels`')

    def test_immutable_statefulset_fields(self):
        self.apply(sts("imm"), status=201)
        changed = sts("imm")
        changed["spec"]["serviceName"] = "elsewhere"
        code, body = self.apply(changed)
        self.assertEqual(code, 422)
        self.assertEqual(body["message"], 'StatefulSet.apps "imm" is invalid: spec: Forbidden: updates to '
                                          "statefulset spec for fields other than 'replicas', 'ordinals', "
                                          "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                                          "and 'minReadySeconds' are forbidden")
        self.assertEqual(body["details"]["causes"][0]["reason"], "FieldValueForbidden")


class TestStatus(Base):
    ns = "status"

    def test_status_subresource(self):
        # Mode "off": no controller overwrites the status this test writes.
        self.control("POST", "statefulset-status", {"namespace": self.ns, "name": "st", "mode": "off"})
        _, obj = self.apply(sts("st", 3), status=201)
        path = STS_PATH.format(ns=self.ns) + "/st/status"
        code, _, body = self.req("PATCH", path, {"status": {"replicas": 3, "readyReplicas": 5}}, MERGE)
        self.assertEqual(code, 422)
        self.assertEqual(body["message"], 'StatefulSet.apps "st" is invalid: status.readyReplicas: '
                                          'Invalid value: 5: cannot be greater than status.replicas')
        code, _, body = self.req("PATCH", path, {"status": {"replicas": 3, "readyReplicas": 2,
                                                            "availableReplicas": 2},
                                                 "spec": {"replicas": 7}}, MERGE)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["status"]["readyReplicas"], 2)
        self.assertEqual(body["spec"]["replicas"], 3)  # spec does not move through /status
        self.assertEqual(body["metadata"]["generation"], obj["metadata"]["generation"])
        code, _, got = self.req("GET", path)
        self.assertEqual((code, got["status"]), (200, body["status"]))
        got["status"]["readyReplicas"] = -1
        code, _, bad = self.req("PUT", path, got)
        self.assertEqual(code, 422)
        self.assertIn("status.readyReplicas: Invalid value: -1: must be greater than or equal to 0",
                      bad["message"])


class Watch:
    """Reads a chunked watch stream on its own connection."""

    def __init__(self, server, path):
        self.conn = http.client.HTTPSConnection("127.0.0.1", server.info["port"],
                                                context=server.context(), timeout=10)
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + server.info["token"]})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.read()
        assert self.resp.getheader("Transfer-Encoding") == "chunked"

    def next(self):
        line = self.resp.readline()
        return json.loads(line) if line else None

    def close(self):
        self.conn.close()


def wait_for_watches(client, n, timeout=5, fewer=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = client.request("GET", "/_test/state")[2]["active_watches"]
        if (active <= n) if fewer else (active >= n):
            return
        time.sleep(0.02)
    raise AssertionError(f"active watches never reached {n}")


class TestWatch(Base):
    ns = "watch"

    def test_events_after_resource_version(self):
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.req("POST", base, {"metadata": {"name": "before"}})
        rv = self.req("GET", base)[2]["metadata"]["resourceVersion"]
        w = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv}&timeoutSeconds=5")
        self.addCleanup(w.close)
        self.req("POST", base, {"metadata": {"name": "w1", "labels": {"a": "b"}}})
        self.req("PATCH", base + "/w1", {"data": {"k": "v"}}, MERGE)
        self.req("DELETE", base + "/w1")
        events = [w.next() for _ in range(3)]
        self.assertEqual([e["type"] for e in events], ["ADDED", "MODIFIED", "DELETED"])
        self.assertEqual(events[0]["object"]["kind"], "ConfigMap")
        self.assertEqual({e["object"]["metadata"]["name"] for e in events}, {"w1"})
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        self.assertEqual(rvs, sorted(rvs))

    def test_initial_added_field_selector_and_timeout(self):
        base = f"/api/v1/namespaces/{self.ns}/secrets"
        self.req("POST", base, secret("init-a"))
        self.req("POST", base, secret("init-b"))
        w = Watch(MAIN, f"{base}?watch=true&fieldSelector=metadata.name%3Dinit-b&timeoutSeconds=1")
        self.addCleanup(w.close)
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "init-b"))
        started = time.monotonic()
        self.assertIsNone(w.next())  # stream ends cleanly after timeoutSeconds
        self.assertLess(time.monotonic() - started, 3)

    def test_bookmarks(self):
        base = f"/api/v1/namespaces/{self.ns}/pods"
        rv = self.req("GET", base)[2]["metadata"]["resourceVersion"]
        w = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3")
        self.addCleanup(w.close)
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["kind"], "Pod")
        self.assertIn("resourceVersion", ev["object"]["metadata"])

    def test_too_old_resource_version_is_410(self):
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.req("POST", base, {"metadata": {"name": "old"}})
        rv = int(self.req("GET", base)[2]["metadata"]["resourceVersion"])
        state = self.control("POST", "expire-history")
        w = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv - 1}")
        self.addCleanup(w.close)
        ev = w.next()
        self.assertEqual(ev, {"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"too old resource version: {rv - 1} ({state['history_floor']})",
            "reason": "Expired", "code": 410}})
        self.assertIsNone(w.next())

    def test_history_bound_expires_old_versions(self):
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.req("POST", base, {"metadata": {"name": "churn"}})
        rv = int(self.req("GET", base)[2]["metadata"]["resourceVersion"])
        for i in range(60):  # --history 50
            self.req("PATCH", base + "/churn", {"data": {"i": str(i)}}, MERGE)
        w = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv}")
        self.addCleanup(w.close)
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))


TRANSCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kube-transcripts")


def transcript_watch(note_start):
    """The events of one watch step of the recorded 10-watch.json (a real 1.32 apiserver)."""
    with open(os.path.join(TRANSCRIPTS, "10-watch.json"), encoding="utf-8") as f:
        steps = json.load(f)["steps"]
    return next(s for s in steps if s.get("note", "").startswith(note_start))


class TestWatchPolicy(Base):
    """Watches as real servers answer them (10-watch.json), and servers that cannot watch."""
    ns = "watch-policy"

    def policy(self, **body):
        out = self.control("POST", "watch-policy", body)
        self.addCleanup(self.control, "POST", "watch-policy",
                        {"refuse": False, "refuse_without_resource_version": False, "bookmark_interval": 0.3})
        return out

    def test_refuse_without_resource_version_is_500_and_a_resource_version_is_served(self):
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.req("POST", base, {"metadata": {"name": "rv"}})
        rv = self.req("GET", base)[2]["metadata"]["resourceVersion"]
        self.assertTrue(self.policy(refuse_without_resource_version=True)["refuse_without_resource_version"])
        code, _, body = self.req("GET", base + "?watch=1&timeoutSeconds=1")
        self.assertEqual(code, 500)
        self.assertEqual((body["kind"], body["reason"], body["code"]), ("Status", "InternalError", 500))
        w = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv}&timeoutSeconds=1")
        self.addCleanup(w.close)
        self.assertIsNone(w.next())  # served: nothing changed, the stream ends at its timeout

    def test_refuse_is_405_for_every_watch_not_for_reads(self):
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.policy(refuse=True)
        rv = self.req("GET", base)[2]["metadata"]["resourceVersion"]
        for query in ("?watch=1", f"?watch=true&resourceVersion={rv}"):
            code, _, body = self.req("GET", base + query)
            self.assertEqual((code, body["reason"]), (405, "MethodNotAllowed"))

    def test_policy_rejects_unknown_keys_and_bad_values(self):
        for body in ({"refuse": 1}, {"bookmark_interval": 0}, {"nope": True}):
            code, _, _ = self.req("POST", "/_test/watch-policy", body)
            self.assertEqual(code, 400, body)

    def test_bookmark_interval_and_shape_match_the_transcript(self):
        recorded = transcript_watch("watch from the LIST resourceVersion")["response"]["body"][-1]["object"]
        base = f"/api/v1/namespaces/{self.ns}/services"
        rv = self.req("GET", base)[2]["metadata"]["resourceVersion"]
        self.policy(bookmark_interval=0.1)
        started = time.monotonic()
        w = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=2")
        self.addCleanup(w.close)
        events = [w.next(), w.next()]
        self.assertLess(time.monotonic() - started, 1.5)
        for ev in events:
            self.assertEqual(ev["type"], "BOOKMARK")
            ev["object"]["metadata"]["resourceVersion"] = recorded["metadata"]["resourceVersion"]
            self.assertEqual(ev["object"], recorded)
        # Without allowWatchBookmarks there are none.
        w2 = Watch(MAIN, f"{base}?watch=1&resourceVersion={rv}&timeoutSeconds=1")
        self.addCleanup(w2.close)
        self.assertIsNone(w2.next())

    def test_watch_without_resource_version_ends_its_initial_events_with_a_bookmark(self):
        step = transcript_watch("watch, allowWatchBookmarks=true, no resourceVersion")
        recorded = step["response"]["body"][2]["object"]["metadata"]["annotations"]
        base = f"/api/v1/namespaces/{self.ns}/services"
        w = Watch(MAIN, f"{base}?watch=true&allowWatchBookmarks=true&timeoutSeconds=1")
        self.addCleanup(w.close)
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["metadata"]["annotations"], recorded)

    def test_compacted_resource_version_is_200_with_one_error_event(self):
        recorded = transcript_watch("watch from resourceVersion=1 (long compacted)")["response"]
        base = f"/api/v1/namespaces/{self.ns}/services"
        for name in ("compact-a", "compact-b"):  # the history then starts past resourceVersion 1
            self.req("POST", f"/api/v1/namespaces/{self.ns}/configmaps", {"metadata": {"name": name}})
        self.control("POST", "expire-history")
        w = Watch(MAIN, f"{base}?watch=true&resourceVersion=1&timeoutSeconds=3")  # asserts HTTP 200
        self.addCleanup(w.close)
        ev = w.next()
        self.assertEqual(ev["type"], recorded["body"][0]["type"])
        for key in ("kind", "apiVersion", "metadata", "status", "reason", "code"):
            self.assertEqual(ev["object"][key], recorded["body"][0]["object"][key])
        self.assertIsNone(w.next())


class TestFaults(Base):
    ns = "faults"

    def setUp(self):
        super().setUp()
        self.addCleanup(self.c.request, "DELETE", "/_test/faults")

    def test_429_with_retry_after(self):
        self.control("POST", "faults", {"count": 1, "status": 429, "retry_after": 2, "method": "GET",
                                        "path_regex": "/configmaps$"})
        path = f"/api/v1/namespaces/{self.ns}/configmaps"
        code, resp, body = self.req("GET", path)
        self.assertEqual(code, 429)
        self.assertEqual(resp.getheader("Retry-After"), "2")
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure",
                                "message": "Too many requests, please try again later.",
                                "reason": "TooManyRequests", "details": {"retryAfterSeconds": 2},
                                "code": 429})
        self.assertEqual(self.req("GET", path)[0], 200)  # count exhausted

    def test_503_and_504_and_500(self):
        path = f"/api/v1/namespaces/{self.ns}/secrets"
        for status, reason in ((503, "ServiceUnavailable"), (504, "Timeout"), (500, "InternalError")):
            self.control("POST", "faults", {"status": status, "path_regex": "/secrets$"})
            code, _, body = self.req("GET", path)
            self.assertEqual((code, body["code"], body["reason"]), (status, status, reason))

    def test_drop_connection(self):
        self.control("POST", "faults", {"drop": True, "count": 1, "path_regex": "/drop-me"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.req("GET", f"/api/v1/namespaces/{self.ns}/configmaps/drop-me")
        self.assertEqual(self.req("GET", f"/api/v1/namespaces/{self.ns}/configmaps/drop-me")[0], 404)
        log = self.control("GET", "requests")["items"]
        dropped = [e for e in log if e["path"].endswith("/drop-me")]
        self.assertEqual([(e["status"], e["was_fault"]) for e in dropped[-2:]], [(None, True), (404, False)])

    def test_drop_response_after_the_write(self):
        # The server does the work, then the answer is lost: a retried create finds the object.
        self.control("POST", "faults", {"drop_response": True, "count": 1, "method": "POST",
                                        "path_regex": "/configmaps$"})
        path = f"/api/v1/namespaces/{self.ns}/configmaps"
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.req("POST", path, {"metadata": {"name": "lost-answer"}})
        self.assertEqual(self.req("GET", path + "/lost-answer")[0], 200)
        self.assertEqual(self.req("POST", path, {"metadata": {"name": "lost-answer"}})[0], 409)
        log = self.control("GET", "requests")["items"]
        posts = [e for e in log if e["method"] == "POST" and e["path"] == path]
        self.assertEqual([(e["status"], e["was_fault"]) for e in posts[-2:]], [(None, True), (409, False)])
        rules = self.control("GET", "faults")["items"]
        self.assertEqual([(r["drop_response"], r["status"], r["injected"]) for r in rules], [(True, None, 1)])

    def test_probability_with_seed_is_reproducible(self):
        def run():
            self.control("DELETE", "faults")
            self.control("POST", "faults", {"probability": 0.5, "seed": 42, "status": 503,
                                            "path_regex": "/prob$"})
            return [self.req("GET", f"/api/v1/namespaces/{self.ns}/prob")[0] for _ in range(20)]
        first, second = run(), run()
        self.assertEqual(first, second)
        self.assertIn(503, first)
        self.assertIn(404, first)

    def test_latency(self):
        self.control("POST", "faults", {"latency_ms": 300, "count": 1, "path_regex": "/slow$"})
        started = time.monotonic()
        code, _, _ = self.req("GET", f"/api/v1/namespaces/{self.ns}/configmaps/slow")
        self.assertEqual(code, 404)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)


class TestObservability(Base):
    ns = "obs"

    def test_request_log(self):
        self.control("DELETE", "requests")
        self.req("POST", f"/api/v1/namespaces/{self.ns}/secrets?fieldManager=x", secret("logged"))
        self.req("GET", f"/api/v1/namespaces/{self.ns}/secrets/logged")
        log = self.control("GET", "requests")["items"]
        self.assertEqual([(e["method"], e["status"]) for e in log], [("POST", 201), ("GET", 200)])
        e = log[0]
        self.assertEqual((e["path"], e["query"], e["content_type"], e["user"], e["was_fault"]),
                         (f"/api/v1/namespaces/{self.ns}/secrets", "fieldManager=x",
                          "application/json", "test-admin", False))
        self.assertIn("time", e)
        self.assertNotIn("dmFsdWU", json.dumps(log))  # bodies are never logged
        self.control("DELETE", "requests")
        self.assertEqual(self.control("GET", "requests")["items"], [])

    def test_objects_dump_reset_and_anonymous(self):
        srv = ServerProcess("extra", "--anonymous")
        try:
            c = srv.client()
            self.addCleanup(c.close)
            anon = srv.client(token=None)
            self.addCleanup(anon.close)
            code, _, body = anon.request("GET", "/api/v1/namespaces/default/secrets")
            self.assertEqual((code, body["message"]), (403, 'secrets is forbidden: User "system:anonymous" '
                             'cannot list resource "secrets" in API group "" in the namespace "default"'))
            code, _, body = anon.request("GET", "/apis")
            self.assertEqual((code, body["message"]), (403, 'forbidden: User "system:anonymous" cannot '
                                                            'get path "/apis"'))
            self.assertEqual(anon.request("POST", "/_test/reset")[0], 403)
            self.assertEqual(anon.request("GET", "/version")[0], 200)
            # A watch whose client goes away is noticed and ended.
            gone = Watch(srv, "/api/v1/namespaces/a/configmaps?watch=1")
            wait_for_watches(c, 1)
            gone.close()
            wait_for_watches(c, 0, fewer=True)
            w = Watch(srv, "/api/v1/namespaces/a/configmaps?watch=1")
            self.addCleanup(w.close)
            wait_for_watches(c, 1)
            c.request("POST", "/api/v1/namespaces/a/configmaps", {"metadata": {"name": "x"}})
            items = c.request("GET", "/_test/objects")[2]["items"]
            self.assertEqual([(i["kind"], i["metadata"]["name"]) for i in items], [("ConfigMap", "x")])
            self.assertEqual(w.next()["type"], "ADDED")
            c.request("POST", "/_test/reset")
            self.assertEqual(c.request("GET", "/_test/objects")[2]["items"], [])
            self.assertIsNone(w.next())  # reset ends open watches
            c.close()
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_keep_alive(self):
        c = self.client()
        c.request("GET", "/api/v1/namespaces/default/secrets")
        sock = c.conn.sock
        c.request("GET", "/api/v1/namespaces/default/nope")  # an error response keeps the connection too
        c.request("GET", "/api/v1/namespaces/default/configmaps")
        self.assertIs(c.conn.sock, sock)


def until(c, path, pred, timeout=10):
    """GET path until pred(body) holds; the last body (fails the caller's assertion if never)."""
    deadline = time.monotonic() + timeout
    while True:
        body = c.request("GET", path)[2]
        if pred(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def ready_pods(c, ns, prefix):
    items = c.request("GET", f"/api/v1/namespaces/{ns}/pods")[2]["items"]
    return sorted(p["metadata"]["name"] for p in items if p["metadata"]["name"].startswith(prefix)
                  and any(x["type"] == "Ready" and x["status"] == "True"
                          for x in p["status"].get("conditions", [])))


class TestStatefulSetController(Base):
    """Pods, claims, garbage collection and PVC protection (no --auto-ready: tests play kubelet)."""
    ns = "ctl"

    def with_claims(self, name, replicas, when_deleted):
        return sts(name, replicas, extra_spec={
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": when_deleted, "whenScaled": "Retain"},
            "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": {"tier": "db"}},
                                      "spec": {"accessModes": ["ReadWriteOnce"],
                                               "resources": {"requests": {"storage": "1Gi"}}}}]})

    def names(self, plural, prefix):
        items = self.req("GET", f"/api/v1/namespaces/{self.ns}/{plural}")[2]["items"]
        return {o["metadata"]["name"]: o for o in items if o["metadata"]["name"].startswith(prefix)}

    def wait(self, what, cond, timeout=10):
        deadline = time.monotonic() + timeout
        while not cond():
            self.assertLess(time.monotonic(), deadline, what)
            time.sleep(0.02)

    def test_pods_claims_and_ready_through_pod_status(self):
        pvcs = f"/api/v1/namespaces/{self.ns}/persistentvolumeclaims"
        # A claim that exists before the StatefulSet is reused (adopted), never replaced.
        code, _, pre = self.req("POST", pvcs, {"metadata": {"name": "data-own-1"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}})
        self.assertEqual(code, 201, pre)
        self.apply(self.with_claims("own", 2, "Delete"), status=201)
        self.wait("pod own-0", lambda: "own-0" in self.names("pods", "own-"))
        time.sleep(0.3)
        self.assertEqual(sorted(self.names("pods", "own-")), ["own-0"])  # OrderedReady waits
        pod = self.names("pods", "own-")["own-0"]
        uid = self.settled("own")["metadata"]["uid"]
        labels = pod["metadata"]["labels"]
        self.assertEqual((labels["app"], labels["statefulset.kubernetes.io/pod-name"],
                          labels["apps.kubernetes.io/pod-index"]), ("own", "own-0", "0"))
        self.assertTrue(labels["controller-revision-hash"].startswith("own-"))
        self.assertEqual(pod["metadata"]["ownerReferences"], [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "own", "uid": uid,
             "controller": True, "blockOwnerDeletion": True}])
        self.assertEqual(pod["spec"]["volumes"], [{"name": "data", "persistentVolumeClaim":
                                                   {"claimName": "data-own-0"}}])
        self.assertEqual(pod["status"]["phase"], "Pending")
        claim = self.names("persistentvolumeclaims", "data-own-")["data-own-0"]
        self.assertEqual(claim["metadata"]["labels"], {"tier": "db", "app": "own"})
        self.assertEqual(claim["metadata"]["ownerReferences"][0]["uid"], uid)
        st = self.req("GET", STS_PATH.format(ns=self.ns) + "/own")[2]["status"]
        self.assertNotIn("readyReplicas", st)
        self.assertEqual((st["replicas"], st["updatedReplicas"]), (1, 1))
        # The kubelet's write: pod 0 Ready, then pod 1 appears, then readyReplicas follows.
        code, _, body = self.req("PATCH", f"/api/v1/namespaces/{self.ns}/pods/own-0/status",
                                 {"status": {"phase": "Running", "conditions": [
                                     {"type": "Ready", "status": "True"}]}}, MERGE)
        self.assertEqual(code, 200, body)
        self.wait("pod own-1", lambda: "own-1" in self.names("pods", "own-"))
        self.control("POST", "pod-ready", {"namespace": self.ns, "name": "own-1"})
        path = STS_PATH.format(ns=self.ns) + "/own"
        st = until(self.c, path, lambda b: b["status"].get("readyReplicas") == 2)["status"]
        self.assertEqual((st["readyReplicas"], st["availableReplicas"], st["currentReplicas"]), (2, 2, 2))
        reused = self.names("persistentvolumeclaims", "data-own-")["data-own-1"]
        self.assertEqual(reused["metadata"]["uid"], pre["metadata"]["uid"])
        self.assertEqual(reused["spec"]["resources"]["requests"]["storage"], "5Gi")
        self.assertEqual(reused["metadata"]["ownerReferences"][0]["uid"], uid)
        # A pod that fails readiness lowers readyReplicas.
        self.control("POST", "pod-ready", {"namespace": self.ns, "name": "own-1", "ready": False})
        st = until(self.c, path, lambda b: b["status"].get("readyReplicas") == 1)["status"]
        self.assertEqual(st["readyReplicas"], 1)

    def test_retain_claims_survive_a_default_delete_and_pods_do_not(self):
        self.apply(self.with_claims("keep", 1, "Retain"), status=201)
        self.wait("claim", lambda: "data-keep-0" in self.names("persistentvolumeclaims", "data-keep-"))
        self.wait("pod", lambda: "keep-0" in self.names("pods", "keep-"))
        claim = self.names("persistentvolumeclaims", "data-keep-")["data-keep-0"]
        self.assertNotIn("ownerReferences", claim["metadata"])
        code, _, body = self.req("DELETE", STS_PATH.format(ns=self.ns) + "/keep")  # no policy
        self.assertEqual((code, body["kind"], body["status"]), (200, "Status", "Success"))
        self.wait("pods collected (Background)", lambda: not self.names("pods", "keep-"))
        self.assertIn("data-keep-0", self.names("persistentvolumeclaims", "data-keep-"))

    def test_orphan_keeps_pods_and_claims_and_a_re_create_adopts_them(self):
        self.apply(self.with_claims("orph", 1, "Delete"), status=201)
        self.wait("pod", lambda: "orph-0" in self.names("pods", "orph-"))
        old_uid = self.settled("orph")["metadata"]["uid"]
        code, _, body = self.req("DELETE", STS_PATH.format(ns=self.ns) + "/orph?propagationPolicy=Orphan")
        self.assertEqual((code, body["metadata"]["finalizers"]), (200, ["orphan"]))
        self.assertEqual(body["metadata"]["generation"], 2)
        self.wait("StatefulSet gone", lambda: self.req("GET", STS_PATH.format(ns=self.ns) + "/orph")[0] == 404)
        pod = self.names("pods", "orph-")["orph-0"]
        claim = self.names("persistentvolumeclaims", "data-orph-")["data-orph-0"]
        self.assertNotIn("ownerReferences", pod["metadata"])
        self.assertNotIn("ownerReferences", claim["metadata"])
        _, again = self.apply(self.with_claims("orph", 1, "Delete"), status=201)
        new_uid = again["metadata"]["uid"]
        self.assertNotEqual(new_uid, old_uid)
        self.wait("adopted", lambda: [r["uid"] for r in self.names("pods", "orph-")["orph-0"]["metadata"]
                                      .get("ownerReferences", [])] == [new_uid])
        self.wait("claim adopted", lambda: [r["uid"] for r in self.names("persistentvolumeclaims", "data-orph-")
                                            ["data-orph-0"]["metadata"].get("ownerReferences", [])] == [new_uid])
        self.assertEqual(self.names("pods", "orph-")["orph-0"]["metadata"]["uid"], pod["metadata"]["uid"])

    def test_claim_used_by_a_scheduled_pod_is_held(self):
        pvcs = f"/api/v1/namespaces/{self.ns}/persistentvolumeclaims"
        pods = f"/api/v1/namespaces/{self.ns}/pods"
        self.req("POST", pvcs, {"metadata": {"name": "held"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
        code, _, body = self.req("POST", pods, {"metadata": {"name": "user"}, "spec": {
            "nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "held"}}]}})
        self.assertEqual(code, 201, body)
        code, _, body = self.req("DELETE", pvcs + "/held")
        self.assertEqual((code, body["metadata"]["finalizers"]), (200, ["kubernetes.io/pvc-protection"]))
        time.sleep(0.3)
        self.assertEqual(self.req("GET", pvcs + "/held")[0], 200)
        self.assertEqual(self.req("DELETE", pods + "/user")[0], 200)
        self.wait("claim released", lambda: self.req("GET", pvcs + "/held")[0] == 404)

    def test_parallel_creates_every_pod_and_scale_down_goes_highest_first(self):
        self.apply(sts("par", 3, extra_spec={"podManagementPolicy": "Parallel"}), status=201)
        self.wait("all pods without readiness", lambda: len(self.names("pods", "par-")) == 3)
        # The same name with OrderedReady (another namespace): one pod at a time, each
        # made Ready by the test; then scale-down removes the highest ordinals.
        self.apply(sts("par", 3), status=201, ns="ctl-ordered")
        self.wait("pod 0", lambda: self.req("GET", "/api/v1/namespaces/ctl-ordered/pods/par-0")[0] == 200)
        self.control("POST", "pod-ready", {"namespace": "ctl-ordered", "name": "par-0"})
        path = STS_PATH.format(ns="ctl-ordered") + "/par"
        st = until(self.c, path, lambda b: b["status"].get("readyReplicas") == 1
                   and b["status"].get("replicas") == 2)["status"]
        self.assertEqual((st["replicas"], st["readyReplicas"]), (2, 1))
        self.control("POST", "pod-ready", {"namespace": "ctl-ordered", "name": "par-1"})
        until(self.c, path, lambda b: b["status"].get("replicas") == 3)
        self.control("POST", "pod-ready", {"namespace": "ctl-ordered", "name": "par-2"})
        until(self.c, path, lambda b: b["status"].get("readyReplicas") == 3)
        self.apply(sts("par", 1), ns="ctl-ordered", status=200)
        st = until(self.c, path, lambda b: b["status"].get("replicas") == 1
                   and b["status"].get("observedGeneration") == 2)["status"]
        self.assertEqual((st["replicas"], st["readyReplicas"]), (1, 1))
        pods = self.req("GET", "/api/v1/namespaces/ctl-ordered/pods")[2]["items"]
        self.assertEqual([p["metadata"]["name"] for p in pods], ["par-0"])

    def test_required_namespaces(self):
        srv = ServerProcess("nsreq", "--require-namespaces")
        c = srv.client()
        self.addCleanup(c.close)
        code, _, body = c.request("POST", "/api/v1/namespaces/nowhere/configmaps", {"metadata": {"name": "x"}})
        self.assertEqual((code, body["message"], body["details"]),
                         (404, 'namespaces "nowhere" not found', {"name": "nowhere", "kind": "namespaces"}))
        code, _, body = c.request("POST", "/api/v1/namespaces", {"metadata": {"name": "nowhere"}})
        self.assertEqual((code, body["status"]["phase"]), (201, "Active"))
        self.assertEqual(c.request("POST", "/api/v1/namespaces/nowhere/configmaps",
                                   {"metadata": {"name": "x"}})[0], 201)
        self.assertEqual(c.request("DELETE", "/api/v1/namespaces/nowhere")[0], 200)
        self.assertEqual(c.request("GET", "/api/v1/namespaces/nowhere/configmaps/x")[0], 404)


class TestAutoReady(unittest.TestCase):
    def test_auto_ready_and_modes(self):
        srv = ServerProcess("autoready", "--auto-ready", "0.2")
        try:
            c = srv.client()
            self.addCleanup(c.close)
            path = STS_PATH.format(ns="default")
            code, _, body = c.request("PATCH", path + "/auto?fieldManager=m", sts("auto", 3), APPLY)
            self.assertEqual(code, 201, body)
            # The stand-in kubelet makes each pod Ready 0.2 s after creation; OrderedReady
            # creates pod N+1 only then, so the status reaches 3 Ready pod by pod.
            st = until(c, path + "/auto", lambda b: b["status"].get("readyReplicas") == 3)["status"]
            self.assertEqual((st["observedGeneration"], st["replicas"], st["readyReplicas"],
                              st["availableReplicas"], st["updatedReplicas"], st["currentReplicas"]),
                             (1, 3, 3, 3, 3, 3))
            self.assertEqual(st["currentRevision"], st["updateRevision"])
            self.assertTrue(st["currentRevision"].startswith("auto-"))
            self.assertEqual(ready_pods(c, "default", "auto-"), ["auto-0", "auto-1", "auto-2"])

            # partial: pods at ordinals >= 1 fail readiness.
            c.request("POST", "/_test/statefulset-status", {"name": "auto", "mode": "partial",
                                                            "ready_replicas": 1})
            st = until(c, path + "/auto", lambda b: b["status"].get("readyReplicas") == 1)["status"]
            self.assertEqual((st["readyReplicas"], st["replicas"]), (1, 3))
            self.assertEqual(ready_pods(c, "default", "auto-"), ["auto-0"])

            # stall: the pod is created, never Ready; readyReplicas stays omitted (zero).
            c.request("POST", "/_test/statefulset-status", {"name": "stalled", "mode": "stall"})
            c.request("PATCH", path + "/stalled?fieldManager=m", sts("stalled", 2), APPLY)
            time.sleep(0.6)
            st = c.request("GET", path + "/stalled")[2]["status"]
            self.assertEqual((st["replicas"], st["availableReplicas"], st["observedGeneration"]), (1, 0, 1))
            self.assertNotIn("readyReplicas", st)
            c.request("POST", "/_test/statefulset-status", {"name": "stalled", "mode": "ready"})
            st = until(c, path + "/stalled", lambda b: b["status"].get("readyReplicas") == 2)["status"]
            self.assertEqual(st["readyReplicas"], 2)
            c.close()
        finally:
            self.assertEqual(srv.stop(), 0)


class H2Client:
    """A minimal HTTP/2 client (hyper-h2 over ssl, ALPN h2): many streams on one connection."""

    def __init__(self, server, window=None):
        import kube_h2  # noqa: F401  (finds Debian's python3-h2 for a pyenv python)
        import h2.config
        import h2.connection
        import h2.settings
        self.h2mod = __import__("h2.events").events
        ctx = server.context()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        raw = socket.create_connection(("127.0.0.1", server.info["port"]), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.alpn = self.sock.selected_alpn_protocol()
        self.token = server.info["token"]
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                         header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            # A tiny window: the server may only send as much as we acknowledge.
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.sock.sendall(self.conn.data_to_send())
        self.streams = {}

    def request(self, method, path, body=None, ctype="application/json"):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":scheme", "https"),
                (":authority", "127.0.0.1"), ("authorization", "Bearer " + self.token)]
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        if data is not None:
            hdrs += [("content-type", ctype), ("content-length", str(len(data)))]
        self.conn.send_headers(sid, hdrs, end_stream=data is None)
        if data is not None:  # bodies here fit the 64 KiB initial window
            step = self.conn.max_outbound_frame_size
            for at in range(0, len(data), step):
                self.conn.send_data(sid, data[at:at + step], end_stream=at + step >= len(data))
        self.sock.sendall(self.conn.data_to_send())
        self.streams[sid] = {"headers": None, "data": b"", "ended": False, "reset": None, "frames": 0}
        return sid

    def pump(self, until, timeout=10):
        """Read frames until until() is true; acknowledges DATA as it arrives."""
        ev_mod = self.h2mod
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("HTTP/2: timed out waiting")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("HTTP/2: the server closed the connection")
            for ev in self.conn.receive_data(data):
                st = self.streams.get(getattr(ev, "stream_id", None))
                if isinstance(ev, ev_mod.ResponseReceived):
                    st["headers"] = dict(ev.headers)
                elif isinstance(ev, ev_mod.DataReceived):
                    st["data"] += ev.data
                    st["frames"] += 1
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, ev_mod.StreamEnded):
                    st["ended"] = True
                elif isinstance(ev, ev_mod.StreamReset):
                    st["reset"] = ev.error_code
            self.sock.sendall(self.conn.data_to_send())

    def response(self, sid, timeout=10):
        st = self.streams[sid]
        self.pump(lambda: st["ended"] or st["reset"] is not None, timeout)
        return st

    def close(self):
        self.sock.close()


class TestHTTP2(Base):
    """ALPN h2: the protocol a kube-apiserver offers first, and libcurl's CURL_HTTP_VERSION_2TLS takes."""
    ns = "h2"

    def h2(self, server=None, **kw):
        c = H2Client(server or MAIN, **kw)
        self.addCleanup(c.close)
        self.assertEqual(c.alpn, "h2")
        return c

    def test_requests_answered_over_h2_and_logged_with_their_protocol(self):
        self.control("DELETE", "requests")
        c = self.h2()
        path = f"/api/v1/namespaces/{self.ns}/secrets"
        st = c.response(c.request("POST", path, secret("over-h2")))
        self.assertEqual(st["headers"][":status"], "201", st["data"])
        self.assertEqual(json.loads(st["data"])["metadata"]["name"], "over-h2")
        st = c.response(c.request("GET", path + "/over-h2"))
        self.assertEqual((st["headers"][":status"], st["headers"]["content-type"]), ("200", "application/json"))
        self.assertNotIn("transfer-encoding", st["headers"])  # connection-specific: not in HTTP/2
        st = c.response(c.request("GET", path + "/missing"))
        self.assertEqual((st["headers"][":status"], json.loads(st["data"])["reason"]), ("404", "NotFound"))
        self.req("GET", path + "/over-h2")  # and one over HTTP/1.1 (http.client offers no ALPN h2)
        log = self.control("GET", "requests")["items"]
        self.assertEqual([(e["method"], e["status"], e["http_version"]) for e in log],
                         [("POST", 201, "2"), ("GET", 200, "2"), ("GET", 404, "2"), ("GET", 200, "1.1")])

    def test_watch_streams_events_while_other_streams_are_answered(self):
        c = self.h2()
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        rv = json.loads(c.response(c.request("GET", base))["data"])["metadata"]["resourceVersion"]
        watch = c.request("GET", f"{base}?watch=true&resourceVersion={rv}&timeoutSeconds=3")
        w = c.streams[watch]
        c.pump(lambda: w["headers"] is not None)
        self.assertEqual(w["headers"][":status"], "200")
        for name in ("one", "two"):
            # Each create is answered on its own stream while the watch stays open.
            st = c.response(c.request("POST", base, {"metadata": {"name": name}}))
            self.assertEqual(st["headers"][":status"], "201")
            self.assertFalse(w["ended"])
            c.pump(lambda n=name: f'"name":"{n}"'.encode() in w["data"])
        events = [json.loads(line) for line in w["data"].splitlines()]
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "one"), ("ADDED", "two")])
        # timeoutSeconds elapses: the server ends the stream (END_STREAM), not the connection.
        c.pump(lambda: w["ended"], timeout=10)
        self.assertIsNone(w["reset"])
        st = c.response(c.request("GET", base + "/one"))
        self.assertEqual(st["headers"][":status"], "200")

    def test_flow_control_holds_the_answer_to_the_window(self):
        c = self.h2(window=256)
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        big = {"metadata": {"name": "big"}, "data": {"k": "x" * 20000}}
        st = c.response(c.request("POST", base, big))
        self.assertEqual(st["headers"][":status"], "201")
        st = c.response(c.request("GET", base + "/big"))
        self.assertEqual(json.loads(st["data"])["data"]["k"], "x" * 20000)
        self.assertGreaterEqual(st["frames"], 20000 // 256)  # never more than the window at once

    def test_drop_fault_refuses_the_stream_and_drop_response_loses_the_connection(self):
        self.control("POST", "faults", {"drop": True, "count": 1, "path_regex": "/h2-drop$"})
        c = self.h2()
        import h2.errors  # after H2Client found it
        base = f"/api/v1/namespaces/{self.ns}/configmaps"
        st = c.response(c.request("GET", base + "/h2-drop"))
        # Not carried out: REFUSED_STREAM, which a client may retry; the connection lives on.
        self.assertEqual(st["reset"], h2.errors.ErrorCodes.REFUSED_STREAM)
        self.assertEqual(c.response(c.request("GET", base + "/h2-drop"))["headers"][":status"], "404")
        self.control("POST", "faults", {"drop_response": True, "count": 1, "method": "POST",
                                        "path_regex": "/configmaps$"})
        sid = c.request("POST", base, {"metadata": {"name": "h2-lost"}})
        with self.assertRaisesRegex(AssertionError, "closed the connection"):
            c.response(sid)
        self.assertEqual(self.req("GET", base + "/h2-lost")[0], 200)  # the write happened

    def test_no_http2_flag_offers_only_http_1_1(self):
        srv = ServerProcess("no-h2", "--no-http2")
        try:
            c = H2Client(srv)
            self.assertEqual(c.alpn, "http/1.1")
            c.close()
        finally:
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
