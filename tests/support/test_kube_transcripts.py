#!/usr/bin/env python3
"""Replay recorded real-server transcripts (kube-transcripts/*.json) against kube_api_server.py.

Each transcript holds requests sent to a real kube-apiserver v1.32.6 with its
kube-controller-manager and the answers it gave (kube-transcripts/README.md).  Every
request step is sent to a fresh test server and its answer compared at the paths the
step's `compare` lists:

* placeholders compare by equality class: `<uid:N>`, `<rv:N>` and the revision hashes
  (`controller-revision-hash`, `currentRevision`, `updateRevision`: the real hash is Go's
  DeepHashObject of a ControllerRevision, not reproduced) must map one-to-one onto the
  test server's values; `<time>` and `<clusterIP>` match any string;
* timings are not a spec: an `observe` step is polled until it matches (or a timeout),
  and a `wait` step is a poll of the condition its text names (WAITS below);
* where the test server does not match, the step's paths are listed in KNOWN with a
  reason (docs/kubernetes-tests.md); a listed difference that matches fails the test, so
  the list cannot go stale.

Run: python3 tests/support/test_kube_transcripts.py
"""

import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_kube_api_server as kas  # noqa: E402  (ServerProcess, Client)

TRANSCRIPTS = os.path.join(HERE, "kube-transcripts")
REVISION_KEYS = ("controller-revision-hash", "currentRevision", "updateRevision")
OBSERVE_TIMEOUT = 8.0      # seconds an observe step may take to reach the recorded state
KNOWN_TIMEOUT = 1.0        # ... when a difference is known (it is still checked)

NOT_SERVED = "the test server does not serve this resource (events, controllerrevisions)"
STATUS_LAG = ("the recording caught the controller's status write lagging behind the pods it had "
              "already created; the test server writes status in the same pass as each pod change")
TERMINATING_PODS = ("the real garbage collector's deletes leave pods and claims briefly visible with "
                    "deletionTimestamp; the test server removes unscheduled pods and unused claims at once")
UPDATE_MANAGED = ("managedFields of an Update (a controller's create, a POST) differ in FieldsV1 detail "
                  "(the '.' member of maps set by an Update); every other field matches")

PVC_DIFF = ("the real 422 message (and its cause) goes on with a Go struct diff of the old and new "
            "PersistentVolumeClaimSpec; the test server sends the same text without the diff")

# (transcript number, step index) -> ({compare paths excused}, reason).
KNOWN = {
    ("05", 9): ({"body.metadata.managedFields"}, UPDATE_MANAGED),
    ("06", 6): ({"body.metadata.managedFields"}, UPDATE_MANAGED),
    ("05", 10): ({"body.message", "body.details.causes"}, PVC_DIFF),
    ("05", 11): ({"body.message", "body.details.causes"}, PVC_DIFF),
    ("05", 12): ({"body.message", "body.details.causes"}, PVC_DIFF),
    ("07", 7): ({"status", "body.items[*].reason", "body.items[*].message",
                 "body.items[*].involvedObject"}, NOT_SERVED),
    ("07", 8): ({"body.items[*].metadata.managedFields"}, UPDATE_MANAGED),
    ("09", 21): ({"body.metadata.managedFields"}, UPDATE_MANAGED),
    ("07", 12): ({"status", "body.items[*].metadata.name", "body.items[*].metadata.labels",
                  "body.items[*].metadata.ownerReferences", "body.items[*].revision"}, NOT_SERVED),
    ("07", 19): ({"body.status"}, STATUS_LAG),
    ("07", 23): ({"body.status"}, STATUS_LAG),
    ("08", 16): ({"status", "body.items[*].metadata.name", "body.items[*].revision"}, NOT_SERVED),
    ("09", 26): ({"body.items[*].metadata.deletionTimestamp"}, TERMINATING_PODS),
    ("09", 27): ({"body.items[*].metadata.name", "body.items[*].metadata.labels",
                  "body.items[*].metadata.ownerReferences", "body.items[*].metadata.finalizers",
                  "body.items[*].metadata.deletionTimestamp", "body.items[*].spec",
                  "body.items[*].status"}, TERMINATING_PODS),
}

PLACEHOLDER = re.compile(r"^<(uid|rv):\d+>$")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill(v):
    """A recorded request body with its `<time>` placeholders made real."""
    if isinstance(v, dict):
        return {k: fill(x) for k, x in v.items()}
    if isinstance(v, list):
        return [fill(x) for x in v]
    return now() if v == "<time>" else v


def remove(doc, path):
    """doc without the member at path (an excused part of a compared body); [*] maps over lists."""
    doc = json.loads(json.dumps(doc))
    parts = path.split(".")

    def walk(v, i):
        p = parts[i]
        star = p.endswith("[*]")
        key = p[:-3] if star else p
        if not isinstance(v, dict) or key not in v:
            return
        if i == len(parts) - 1:
            del v[key]
        elif star:
            for x in v[key] if isinstance(v[key], list) else []:
                walk(x, i + 1)
        else:
            walk(v[key], i + 1)
    walk(doc, 0)
    return doc


def extract(doc, path):
    """The value at a compare path ("body.items[*].metadata.name"); [*] maps over a list."""
    parts = path.split(".")

    def walk(v, i):
        if i == len(parts):
            return v
        p = parts[i]
        star = p.endswith("[*]")
        key = p[:-3] if star else p
        v = v.get(key, None) if isinstance(v, dict) else None
        if star:
            return [walk(x, i + 1) for x in v] if isinstance(v, list) else None
        return walk(v, i + 1)
    return walk(doc, 0)


def canonical(path, value):
    """managedFields in a canonical order. The real server sorts them by operation, then by
    time to the second, then by manager: two applies within one second come out by manager
    name, one second apart by time. The recording's order is that of its own timing, which a
    replay cannot reproduce (an ASan-built run crossed a second where the recorder had not)."""
    if path.endswith("managedFields") and isinstance(value, list):
        return sorted(value, key=lambda e: (str(e.get("operation")), str(e.get("manager")),
                                            str(e.get("subresource", ""))) if isinstance(e, dict) else ("", "", ""))
    return value


class Classes:
    """One-to-one maps from a transcript's placeholders to the test server's values."""

    def __init__(self):
        self.fwd, self.back = {}, {}

    def bind(self, cls, expected, actual, new):
        fwd = {**self.fwd, **new.get("fwd", {})}
        back = {**self.back, **new.get("back", {})}
        k = (cls, expected)
        if k in fwd:
            return fwd[k] == actual
        if (cls, actual) in back:
            return False
        new.setdefault("fwd", {})[k] = actual
        new.setdefault("back", {})[(cls, actual)] = expected
        return True

    def commit(self, new):
        self.fwd.update(new.get("fwd", {}))
        self.back.update(new.get("back", {}))


def match(expected, actual, classes, new, key=None, where="", diffs=None):
    """True when actual matches expected up to placeholders; records the first differences."""
    def miss(why):
        if diffs is not None and len(diffs) < 5:
            diffs.append(f"{where or '.'}: {why}")
        return False
    if isinstance(expected, str) and PLACEHOLDER.match(expected):
        if not isinstance(actual, str):
            return miss(f"expected {expected}, got {actual!r}")
        cls = expected[1:expected.index(":")]
        return classes.bind(cls, expected, actual, new) or miss(f"{expected} is not {actual!r}")
    if expected in ("<time>", "<clusterIP>"):
        return isinstance(actual, str) or miss(f"expected {expected}, got {actual!r}")
    if key in REVISION_KEYS and isinstance(expected, str):
        if not isinstance(actual, str):
            return miss(f"expected a revision, got {actual!r}")
        return classes.bind("rev", expected, actual, new) or miss(f"revision {expected} is not {actual!r}")
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return miss(f"expected an object, got {actual!r}")
        if set(expected) != set(actual):
            return miss(f"keys {sorted(set(expected) ^ set(actual))} differ")
        return all(match(expected[k], actual[k], classes, new, k, f"{where}.{k}", diffs) for k in expected)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return miss(f"expected {len(expected)} items, got {actual!r:.200}")
        return all(match(e, a, classes, new, key, f"{where}[{i}]", diffs)
                   for i, (e, a) in enumerate(zip(expected, actual)))
    return expected == actual or miss(f"expected {expected!r}, got {actual!r:.200}")


class Replay:
    """One transcript against one fresh server."""

    def __init__(self, test, number, path):
        with open(path, encoding="utf-8") as f:
            self.t = json.load(f)
        self.test, self.number = test, number
        self.ns = self.t["namespace"]
        self.srv = kas.ServerProcess(f"replay-{number}", "--require-namespaces")
        self.c = self.srv.client()
        # Each controller action is followed by a pause, so that the states between
        # two actions last long enough for a poll to see them (timings are not a spec).
        self.control("/_test/controller", {"sync_delay": 0.4})
        self.classes = Classes()
        self.report = []          # (step, path, reason) of known differences seen
        self.history = []         # (recorded body, answer body) of every step so far

    def close(self):
        self.c.close()
        self.srv.stop()

    def control(self, path, body):
        code, _, out = self.c.request("POST", path, body)
        self.test.assertLess(code, 300, out)

    def bound(self, v):
        """A recorded request with the placeholders already seen replaced by the test server's
        values (a PUT carrying the resourceVersion it read, a watch from a LIST's)."""
        if isinstance(v, dict):
            return {k: self.bound(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.bound(x) for x in v]
        if isinstance(v, str) and PLACEHOLDER.match(v):
            return self.classes.fwd.get((v[1:v.index(":")], v)) or self.recall(v)
        return v

    def send(self, req):
        path = req["path"]
        if req.get("query"):
            path += "?" + "&".join(f"{k}={self.bound(v)}" for k, v in req["query"].items())
        body = fill(self.bound(req["body"])) if req.get("body") is not None else None
        # The recorder's client was urllib: its User-Agent names the manager of a write
        # without fieldManager (transcript 06).
        code, resp, out = self.c.request(req["method"], path, body,
                                         req.get("content_type") or "application/json",
                                         headers={"User-Agent": "Python-urllib/3"})
        warnings = resp.getheader("Warning")
        return {"status": code, "body": out, "warnings": [warnings] if warnings else None}

    def compare(self, i, step, answer, excused):
        new, diffs = {}, []
        recorded = {"status": step["response"]["status"], "body": step["response"]["body"],
                    "warnings": step["response"].get("warnings")}
        ok_paths = True
        for p in step["compare"]:
            if p in excused:
                continue
            rec, ans = recorded, answer
            for e in excused:
                if e.startswith(p + "."):     # an excused part inside a compared body
                    rec, ans = remove(rec, e), remove(ans, e)
            d = []
            if not match(canonical(p, extract(rec, p)), canonical(p, extract(ans, p)), self.classes, new, None, p, d):
                ok_paths = False
                diffs += d
        return ok_paths, new, diffs

    def run_step(self, i, step):
        known = KNOWN.get((self.number, i))
        excused = known[0] if known else set()
        polled = step.get("observe") and step["request"]["method"] == "GET"
        deadline = time.monotonic() + (KNOWN_TIMEOUT if known else OBSERVE_TIMEOUT)
        while True:
            answer = self.send(step["request"])
            ok, new, diffs = self.compare(i, step, answer, excused)
            if ok or not polled or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.test.assertTrue(ok, f"{self.number} step {i} ({step['note']}): {diffs}")
        self.classes.commit(new)
        self.history.append((step["response"]["body"], answer["body"]))
        if known:
            # The excused paths must really differ: a fixed difference leaves the list.
            recorded = {"status": step["response"]["status"], "body": step["response"]["body"],
                        "warnings": step["response"].get("warnings")}
            d = []
            still = [p for p in sorted(excused)
                     if not match(extract(recorded, p), extract(answer, p), self.classes, {}, None, p, d)]
            if os.environ.get("VERBOSE"):
                print(f"  {self.number} step {i}: {d}", file=sys.stderr)
            self.test.assertTrue(still, f"{self.number} step {i}: known difference no longer differs; "
                                        f"remove it from KNOWN")
            self.report.append((i, still, known[1]))

    def recall(self, placeholder):
        """A placeholder no compared path bound yet: its value in the latest answer whose
        recording holds it at the same place (a PUT carrying the resourceVersion its POST
        returned, transcript 06)."""
        def find(v, path):
            if v == placeholder:
                return path
            items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
            for k, x in items:
                if (found := find(x, path + [k])) is not None:
                    return found
            return None
        for rec, ans in reversed(self.history):
            path = find(rec, [])
            if path is None:
                continue
            for k in path:
                try:
                    ans = ans[k]
                except (KeyError, IndexError, TypeError):
                    ans = None
                    break
            if isinstance(ans, str):
                return ans
        return placeholder

    # ---- wait steps: polls of what each names ----------------------------

    def get(self, path):
        return self.c.request("GET", path)[2]

    def pods(self):
        return self.get(f"/api/v1/namespaces/{self.ns}/pods").get("items", [])

    def pvcs(self):
        return self.get(f"/api/v1/namespaces/{self.ns}/persistentvolumeclaims").get("items", [])

    def sts(self, name):
        return self.get(f"/apis/apps/v1/namespaces/{self.ns}/statefulsets/{name}")

    def poll(self, what, cond, timeout=20):
        deadline = time.monotonic() + timeout
        while not cond():
            self.test.assertLess(time.monotonic(), deadline, f"{self.number}: never {what}")
            time.sleep(0.02)

    def kubelet(self, name, mode, delay=None):
        body = {"namespace": self.ns, "name": name, "mode": mode}
        if delay is not None:
            body["delay"] = delay
        self.control("/_test/statefulset-status", body)

    def wait(self, text):
        names = lambda: {p["metadata"]["name"] for p in self.pods()}  # noqa: E731
        status = lambda n: self.sts(n).get("status") or {}  # noqa: E731
        api, web = "valkey-acme-api", "valkey-acme-web"
        if text.startswith("until the StatefulSet controller has written status.observedGeneration=1"):
            return self.poll(text, lambda: status(web).get("observedGeneration") == 1 and web + "-0" in names())
        if text.startswith("let the controller settle"):
            return time.sleep(0.5)
        if text.startswith("until the StatefulSet is gone"):
            return self.poll(text, lambda: self.sts(web).get("code") == 404)
        if m := re.match(r"until the controller created PVC (\S+)", text):
            return self.poll(text, lambda: m.group(1) in {p["metadata"]["name"] for p in self.pvcs()})
        if "ServiceAccount default" in text:
            return  # the test server needs no ServiceAccount before pods
        if "stand-in kubelet running" in text:
            self.kubelet(api, "auto", 0.1)
            self.poll(text, lambda: status(api).get("readyReplicas") == 3
                      and status(api).get("currentRevision") == status(api).get("updateRevision"))
        elif "stand-in kubelet stopped" in text:
            self.kubelet(api, "stall")
        elif "stand-in kubelet started" in text:
            self.kubelet(api, "auto", 0.8)
        elif text.startswith("until pods valkey-acme-web-0 and valkey-acme-api-0 exist"):
            self.poll(text, lambda: {web + "-0", api + "-0"} <= names())
        elif m := re.match(r"until pod (\S+) exists", text):
            self.poll(text, lambda: m.group(1) in names())
        elif text.startswith("until both StatefulSets report status.replicas=1"):
            self.poll(text, lambda: status(web).get("replicas") == 1 and status(api).get("replicas") == 1)
        elif text.startswith("give the controller time"):
            time.sleep(1.0)
        elif m := re.match(r"until (\S+) reports readyReplicas=(\d)", text):
            self.poll(text, lambda: status(m.group(1)).get("readyReplicas") == int(m.group(2)))
        elif text.startswith("until currentRevision == updateRevision"):
            self.poll(text, lambda: status(api).get("currentRevision") == status(api).get("updateRevision")
                      and status(api).get("updatedReplicas") == 3 and status(api).get("readyReplicas") == 3)
        elif text.startswith("until the re-created StatefulSet reports readyReplicas=3"):
            self.poll(text, lambda: status(api).get("readyReplicas") == 3)
        elif text.startswith("let the garbage collector orphan"):
            self.poll(text, lambda: self.sts(api).get("code") == 404, timeout=5)
        elif text.startswith("until no pod has an ownerReference"):
            self.poll(text, lambda: not any(p["metadata"].get("ownerReferences") for p in self.pods()))
        elif text.startswith("until every pod has an ownerReference"):
            self.poll(text, lambda: all(p["metadata"].get("ownerReferences") for p in self.pods()))
        elif text.startswith("until every PVC has an ownerReference"):
            self.poll(text, lambda: all(p["metadata"].get("ownerReferences") for p in self.pvcs()))
        elif text.startswith("let the pvc-protection controller"):
            self.poll(text, lambda: "data-valkey-acme-api-2" not in {p["metadata"]["name"] for p in self.pvcs()},
                      timeout=5)
        elif text.startswith("until pods and PVCs are gone"):
            self.poll(text, lambda: not self.pods() and not self.pvcs())
        else:
            self.test.fail(f"{self.number}: no poll for the wait step {text!r}: add one to WAITS")

    def run(self):
        for i, step in enumerate(self.t["steps"]):
            if "wait" in step:
                self.test.assertTrue(step["satisfied"], step)
                self.wait(step["wait"])
            else:
                self.run_step(i, step)


class TestTranscripts(unittest.TestCase):
    def replay(self, number):
        files = [f for f in os.listdir(TRANSCRIPTS) if f.startswith(number + "-") and f.endswith(".json")]
        self.assertEqual(len(files), 1, f"transcript {number} is missing from {TRANSCRIPTS}")
        r = Replay(self, number, os.path.join(TRANSCRIPTS, files[0]))
        try:
            r.run()
        finally:
            r.close()
        for step, paths, reason in r.report:
            print(f"  {number} step {step}: known difference at {', '.join(paths)}: {reason}",
                  file=sys.stderr)

    def test_01_ssa_create(self):
        self.replay("01")

    def test_02_ssa_ownership(self):
        self.replay("02")

    def test_03_list_map_keys(self):
        self.replay("03")

    def test_04_strict_validation(self):
        self.replay("04")

    def test_05_immutability(self):
        self.replay("05")

    def test_06_errors(self):
        self.replay("06")

    def test_07_sts_controller(self):
        self.replay("07")

    def test_08_rollout(self):
        self.replay("08")

    def test_09_deletion(self):
        self.replay("09")

    # Transcripts checked elsewhere, step by step rather than replayed whole.
    ELSEWHERE = {"10": "test_kube_api_server.py TestWatchPolicy (watch semantics)"}

    def test_every_transcript_is_replayed(self):
        numbers = sorted(f[:2] for f in os.listdir(TRANSCRIPTS) if re.match(r"\d\d-.*\.json$", f))
        replayed = sorted(n[5:7] for n in dir(self) if re.match(r"test_\d\d_", n))
        self.assertEqual(numbers, sorted(replayed + list(self.ELSEWHERE)))


def setUpModule():
    kas.TMP = tempfile.mkdtemp(prefix="kube-transcripts-test-")


def tearDownModule():
    for s in kas.SERVERS:
        s.stop()
    shutil.rmtree(kas.TMP, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
