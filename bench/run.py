#!/usr/bin/env python3
"""The side-by-side benchmark: libvalkeyaddon against a raw libcurl loop and the
usual Kubernetes clients, on the Kubernetes API test server. bench/README.md
explains what is measured and why; `make bench` and `make bench-smoke` run it.

    python3 bench/run.py --srcdir SRC --builddir BUILD [--apps N] [--repeat R] [--smoke]
                         [--clients ours,raw,python,node,kubectl] [--json FILE]

Standard library only. Exit status: 0 when every available client ran both rounds
correctly, ours sent no write in its no-change round and ours sent the raw loop's
requests; 1 otherwise. Missed targets print FAIL but do not change the exit status.
"""
import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

NAMESPACE = "bench"
TENANT = "bench"
PLAN = "standard"
FIELD_MANAGER = "paas-control-plane"
ROUNDS = ("create", "nochange")
ALL_CLIENTS = ("ours", "raw", "python", "node", "kubectl")
LABELS = {"ours": "ours (C API)", "raw": "raw libcurl", "python": "python3-kubernetes",
          "node": "client-node", "kubectl": "kubectl"}

# Goals from issue #8. A FAIL is reported, never an error.
TARGET_CREATE_WALL = 1.15     # ours / raw, create round
TARGET_CREATE_CPU = 1.2       # ours / raw, create round
TARGET_NOCHANGE_WALL = 0.7    # ours / raw re-applying everything, no-change round
TARGET_VS_PYTHON = 1.3        # python / ours, create round wall
TARGET_VS_NODE = 2.0          # client-node / ours, create round wall


class ClientFailed(Exception):
    pass


# --------------------------------------------------------------------------
# The API test server and its control API
# --------------------------------------------------------------------------

class Server:
    def __init__(self, srcdir, tmp, auto_ready, http2=False):
        self.dir = os.path.join(tmp, "server")
        self.stderr = open(os.path.join(tmp, "server.stderr"), "wb")
        # HTTP/1.1 by default: python3-kubernetes cannot speak HTTP/2, and side by side means one
        # protocol for every client (the Python server's h2 path costs more per request than its
        # HTTP/1.1 one, which would be measured instead of the clients).
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(srcdir, "tests", "support", "kube_api_server.py"),
             "--state-dir", self.dir, "--auto-ready", str(auto_ready)] + ([] if http2 else ["--no-http2"]),
            stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline()
        if not line.startswith(b"READY "):
            self.stop()
            raise SystemExit("bench: the API test server did not start (see its stderr above)")
        with open(os.path.join(self.dir, "server.json"), encoding="utf-8") as f:
            self.info = json.load(f)
        self.json_path = os.path.join(self.dir, "server.json")
        self.kubeconfig = self.info["kubeconfig"]
        self.ssl = ssl.create_default_context(cafile=self.info["ca"])

    def call(self, method, path):
        conn = http.client.HTTPSConnection("127.0.0.1", self.info["port"], context=self.ssl, timeout=60)
        try:
            conn.request(method, path, headers={"Authorization": "Bearer " + self.info["token"]})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status >= 300:
                raise SystemExit(f"bench: {method} {path}: HTTP {resp.status}")
            return json.loads(body) if body else None
        finally:
            conn.close()

    def reset(self):
        self.call("POST", "/_test/reset")

    def clear_log(self):
        self.call("DELETE", "/_test/requests")

    def log(self):
        return self.call("GET", "/_test/requests")["items"]

    def objects(self):
        return self.call("GET", "/_test/objects")["items"]

    def settle(self, timeout=60.0):
        """Wait until the simulated controller has written every StatefulSet's status,
        so that the no-change round meets objects that look like a cluster's."""
        deadline = time.monotonic() + timeout
        while True:
            pending = [o for o in self.objects() if o.get("kind") == "StatefulSet" and
                       (o.get("status") or {}).get("observedGeneration") != o["metadata"].get("generation")]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: {len(pending)} StatefulSets still without a status after {timeout} s")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


# --------------------------------------------------------------------------
# Running one client as a child process
# --------------------------------------------------------------------------

def cpu_ms(ru):
    return (ru.ru_utime + ru.ru_stime) * 1e3


def spawn_measured(argv, tmp, spawn, env=None):
    """Run argv through bench/spawn; return (returncode, stdout, stderr, wall_ms, cpu_ms, maxrss_kib)
    of that process alone."""
    out_path = os.path.join(tmp, "child.out")
    err_path = os.path.join(tmp, "child.err")
    result_path = os.path.join(tmp, "child.result")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        rc = subprocess.call([spawn, result_path, *argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             env=env)
    with open(out_path, encoding="utf-8", errors="replace") as f:
        stdout = f.read()
    with open(err_path, encoding="utf-8", errors="replace") as f:
        stderr = f.read()
    if rc != 0:
        raise ClientFailed(f"bench/spawn could not run {argv[0]}: {stderr.strip()[-400:]}")
    with open(result_path, encoding="utf-8") as f:
        r = json.load(f)
    return r["status"], stdout, stderr, r["wall_ms"], r["cpu_ms"], r["maxrss_kib"]


def run_program(argv, tmp, spawn, env=None):
    """A client that times its own loop and prints one JSON line."""
    rc, stdout, stderr, wall, cpu, rss = spawn_measured(argv, tmp, spawn, env)
    if rc != 0:
        raise ClientFailed(f"exit status {rc}: {stderr.strip()[-400:]}")
    try:
        loop = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ClientFailed(f"no result line: {stdout[-200:]!r}")
    return {"wall_ms": loop["wall_ms"], "cpu_ms": loop["cpu_ms"], "proc_wall_ms": wall, "proc_cpu_ms": cpu,
            "rss_kib": rss, "objects_written": loop.get("objects_written")}


def run_kubectl(kubectl, extra, files, kubeconfig, cache_dir, tmp, spawn):
    """One kubectl process per app, as a script or an operator would run it."""
    wall0 = time.monotonic()
    cpu = 0.0
    rss = 0
    for path in files:
        rc, _, stderr, _, c, r = spawn_measured(
            [kubectl, "--kubeconfig", kubeconfig, "--cache-dir", cache_dir, "apply", "--server-side",
             "--force-conflicts", "--field-manager=" + FIELD_MANAGER, *extra, "-f", path, "-o", "name"],
            tmp, spawn)
        if rc != 0:
            raise ClientFailed(f"kubectl exit status {rc}: {stderr.strip()[-400:]}")
        cpu += c
        rss = max(rss, r)
    wall = (time.monotonic() - wall0) * 1e3
    return {"wall_ms": wall, "cpu_ms": cpu, "proc_wall_ms": wall, "proc_cpu_ms": cpu, "rss_kib": rss,
            "objects_written": None}


# --------------------------------------------------------------------------
# The clients
# --------------------------------------------------------------------------

def version_of(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def find_clients(args, plan_path, server, tmp):
    """{name: (label, run(round) -> measurement)} for the available clients, and
    {name: reason} for the others."""
    b = args.builddir
    apps = args.apps
    spawn = os.path.join(b, "bench", "spawn")
    avail, missing = {}, {}

    def ours(rnd):
        return run_program([os.path.join(b, "bench", "ours"), "--kubeconfig", server.kubeconfig,
                            "--namespace", NAMESPACE, "--tenant", TENANT, "--apps", str(apps), "--plan", PLAN],
                           tmp, spawn)

    def raw(rnd):
        return run_program([os.path.join(b, "bench", "raw"), "--server-json", server.json_path,
                            "--plan-file", plan_path, "--round", rnd], tmp, spawn)

    avail["ours"] = (LABELS["ours"], ours)
    avail["raw"] = (LABELS["raw"], raw)

    # python3-kubernetes: Debian's package, for Debian's interpreter.
    py = os.environ.get("BENCH_PYTHON") or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3")
                                              else shutil.which("python3"))
    ver = version_of([py, "-c", "import kubernetes; print(kubernetes.__version__)"]) if py else ""
    if not ver:
        missing["python"] = f"{py or 'python3'} cannot import kubernetes (apt-get install python3-kubernetes)"
    else:
        py_script = os.path.join(args.srcdir, "bench", "peer_python.py")
        avail["python"] = (f"{LABELS['python']} {ver}", lambda rnd: run_program(
            [py, py_script, "--kubeconfig", server.kubeconfig, "--plan-file", plan_path, "--round", rnd],
            tmp, spawn))

    # @kubernetes/client-node, installed by npm ci --prefix bench/node.
    node = shutil.which("node")
    node_dirs = [d for d in (os.environ.get("BENCH_NODE_DIR"), os.path.join(args.srcdir, "bench", "node"),
                             os.path.join(b, "bench", "node")) if d]
    node_dir = next((d for d in node_dirs if os.path.isfile(
        os.path.join(d, "node_modules", "@kubernetes", "client-node", "package.json"))), None)
    if not node:
        missing["node"] = "node not found (apt-get install nodejs npm)"
    elif not node_dir:
        missing["node"] = "@kubernetes/client-node not installed (npm ci --prefix bench/node)"
    else:
        with open(os.path.join(node_dir, "node_modules", "@kubernetes", "client-node", "package.json")) as f:
            cn_ver = json.load(f)["version"]
        node_script = os.path.join(args.srcdir, "bench", "node", "peer.mjs")
        avail["node"] = (f"{LABELS['node']} {cn_ver} (node {version_of([node, '--version']).lstrip('v')})",
                         lambda rnd: run_program([node, node_script, node_dir, "--kubeconfig", server.kubeconfig,
                                                  "--plan-file", plan_path, "--round", rnd], tmp, spawn))

    # kubectl: one process per app applying that app's objects (the auth Secret too).
    kubectl = os.environ.get("BENCH_KUBECTL") or shutil.which("kubectl")
    kver = ""
    if kubectl:
        try:
            kver = json.loads(version_of([kubectl, "version", "--client", "-o", "json"]))["clientVersion"]
        except (ValueError, KeyError):
            kver = ""
    if not kubectl:
        missing["kubectl"] = "kubectl not found (apt-get install kubernetes-client)"
    elif not kver:
        missing["kubectl"] = f"{kubectl} does not report its version"
    else:
        extra = []
        minor = int("".join(ch for ch in kver.get("minor", "0") if ch.isdigit()) or 0)
        note = ""
        if int(kver.get("major", "1")) == 1 and minor < 25:
            # Before 1.25 kubectl validates on the client with /openapi/v2, which the test
            # server does not serve; the server validates (and ignores fieldValidation) anyway.
            extra = ["--validate=false"]
            note = ", --validate=false"
        files = write_kubectl_files(plan_path, tmp)
        cache = os.path.join(tmp, "kubectl-cache")
        avail["kubectl"] = (f"{LABELS['kubectl']} {kver.get('gitVersion', '?')}{note}",
                            lambda rnd: run_kubectl(kubectl, extra, files, server.kubeconfig, cache, tmp, spawn))
    return avail, missing


def write_kubectl_files(plan_path, tmp):
    """One file per app: the objects ours creates or applies, as a JSON stream."""
    d = os.path.join(tmp, "kubectl")
    os.makedirs(d, mode=0o700, exist_ok=True)
    files, bodies = [], {}
    with open(plan_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["round"] == "create" and r["body"] is not None:
                bodies.setdefault(r["app"], []).append(r["body"])
    for app, objs in bodies.items():
        path = os.path.join(d, app + ".json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(objs) + "\n")
        files.append(path)
    return files


# --------------------------------------------------------------------------
# What the server saw
# --------------------------------------------------------------------------

def summarise_log(entries, apps):
    reads = sum(1 for e in entries if e["method"] == "GET")
    writes = len(entries) - reads
    bad = [e for e in entries if e["status"] is None or e["status"] >= 500 or
           (e["status"] >= 400 and not (e["method"] == "GET" and e["status"] == 404))]
    return {"reads": reads / apps, "writes": writes / apps, "requests": len(entries), "bad": bad,
            "sequence": [(e["method"], e["path"], e["query"], e["content_type"]) for e in entries]}


VOLATILE_META = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation")
CONTROLLER_MADE = ("Pod", "PersistentVolumeClaim", "ControllerRevision")
# Random per auth Secret (a new one in every client's run), and the stamps that cover it.
VOLATILE_ANNOTATIONS = ("valkeyaddon.io/credential-id", "valkeyaddon.io/applied-hash")


def normalise(objects):
    """The objects as a comparable dict: server-set fields and Secret values left out
    (every client creates its own password)."""
    out = {}
    for o in objects:
        # What the clients wrote, not what the test server's controller made from it.
        if o.get("kind") in CONTROLLER_MADE:
            continue
        o = json.loads(json.dumps(o))
        meta = o.get("metadata", {})
        for k in VOLATILE_META:
            meta.pop(k, None)
        template = ((o.get("spec") or {}).get("template") or {}).get("metadata") or {}
        for annotations in (meta.get("annotations") or {}, template.get("annotations") or {}):
            for k in VOLATILE_ANNOTATIONS:
                annotations.pop(k, None)
        o.pop("status", None)
        if o.get("kind") == "Service":
            for k in ("clusterIP", "clusterIPs"):  # allocated by the server
                (o.get("spec") or {}).pop(k, None)
        if o.get("kind") == "Secret":
            o["data"] = sorted((o.get("data") or {}).keys())
            o.pop("stringData", None)
        out[(o.get("kind"), meta.get("namespace"), meta.get("name"))] = o
    return out


def describe_difference(mine, ref):
    if set(mine) != set(ref):
        only = sorted(set(mine) ^ set(ref))[:3]
        return f"different object sets (e.g. {only})"
    for k in sorted(ref):
        if mine[k] != ref[k]:
            return f"{k[0]} {k[2]} differs"
    return None


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------

def machine():
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model or platform.processor() or '?'}), {platform.system()} "
            f"{platform.release()}, {time.strftime('%Y-%m-%d %H:%M %Z')}")


def median_of(runs):
    keys = ("wall_ms", "cpu_ms", "proc_cpu_ms", "rss_kib", "reads", "writes")
    return {k: statistics.median(r[k] for r in runs) for k in keys} | {"runs": len(runs)}


def fmt_ratio(x):
    return f"{x:.2f}x" if x is not None else "-"


def print_table(results, order, labels, missing, failed, apps):
    print()
    print(f"{'client':<46} {'round':<8} {'wall ms/app':>11} {'x raw':>7} {'reads/app':>9} {'writes/app':>10}"
          f" {'CPU ms/app':>10} {'x raw':>7} {'proc CPU ms/app':>15} {'peak RSS MiB':>12}")
    for name in order:
        if name in missing:
            print(f"{LABELS[name]:<46} not available: {missing[name]}")
            continue
        if name in failed:
            print(f"{labels[name]:<46} FAILED: {failed[name]}")
            continue
        for rnd in ROUNDS:
            m = results[name].get(rnd)
            if not m:
                continue
            raw = results.get("raw", {}).get(rnd)
            wr = m["wall_ms"] / raw["wall_ms"] if raw and name != "raw" else None
            cr = m["cpu_ms"] / raw["cpu_ms"] if raw and name != "raw" and raw["cpu_ms"] > 0 else None
            label = labels[name] if rnd == "create" else ""
            print(f"{label:<46} {rnd:<8} {m['wall_ms'] / apps:11.3f} {fmt_ratio(wr):>7} {m['reads']:9.2f}"
                  f" {m['writes']:10.2f} {m['cpu_ms'] / apps:10.3f} {fmt_ratio(cr):>7}"
                  f" {m['proc_cpu_ms'] / apps:15.3f} {m['rss_kib'] / 1024:12.1f}")


def targets(results):
    """[(ok, text)] for every target whose clients ran."""
    out = []
    ours, raw = results.get("ours", {}), results.get("raw", {})

    def ratio(a, b, key):
        return a[key] / b[key] if b.get(key) else float("inf")

    if ours.get("create") and raw.get("create"):
        r = ratio(ours["create"], raw["create"], "wall_ms")
        out.append((r <= TARGET_CREATE_WALL, f"create: our wall {r:.2f}x the raw libcurl bound (target <= "
                                             f"{TARGET_CREATE_WALL}x)"))
        r = ratio(ours["create"], raw["create"], "cpu_ms")
        out.append((r <= TARGET_CREATE_CPU, f"create: our client CPU {r:.2f}x the raw libcurl bound (target <= "
                                            f"{TARGET_CREATE_CPU}x)"))
    if ours.get("nochange"):
        w = ours["nochange"]["writes"]
        out.append((w == 0, f"no-change: our writes per app {w:g} (target 0)"))
    if ours.get("nochange") and raw.get("nochange"):
        r = ratio(ours["nochange"], raw["nochange"], "wall_ms")
        out.append((r <= TARGET_NOCHANGE_WALL, f"no-change: our wall {r:.2f}x the raw loop re-applying everything "
                                               f"(target <= {TARGET_NOCHANGE_WALL}x)"))
    for name, goal in (("python", TARGET_VS_PYTHON), ("node", TARGET_VS_NODE)):
        peer = results.get(name, {})
        if ours.get("create") and peer.get("create"):
            r = ratio(peer["create"], ours["create"], "wall_ms")
            out.append((r >= goal, f"create: ours {r:.2f}x faster per app than {LABELS[name]} (target >= {goal}x)"))
    return out


# --------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--srcdir", default=os.environ.get("BENCH_SRCDIR", "."))
    p.add_argument("--builddir", default=os.environ.get("BENCH_BUILDDIR", "."))
    p.add_argument("--apps", type=int, default=None, help="apps per round (default 200; 5 with --smoke)")
    p.add_argument("--repeat", type=int, default=None,
                   help="runs of every client but kubectl, taking turns; the table shows medians "
                        "(default 5; 1 with --smoke)")
    p.add_argument("--smoke", action="store_true", help="a quick run that checks every client works")
    p.add_argument("--clients", default=",".join(ALL_CLIENTS))
    p.add_argument("--auto-ready", type=float, default=0.05, help="the test server's --auto-ready delay")
    p.add_argument("--http2", action="store_true",
                   help="let the test server offer HTTP/2 (python3-kubernetes stays on HTTP/1.1)")
    p.add_argument("--json", default=None, help="also write the measurements here")
    p.add_argument("--require-all", action="store_true",
                   help="a client that is not available is an error (CI, where setup-debian.sh installed them)")
    args = p.parse_args()
    args.srcdir = os.path.abspath(args.srcdir)
    args.builddir = os.path.abspath(args.builddir)
    if args.apps is None:
        args.apps = 5 if args.smoke else 200
    if args.repeat is None:
        args.repeat = 1 if args.smoke else 5
    wanted = [c.strip() for c in args.clients.split(",") if c.strip()]
    if any(c not in ALL_CLIENTS for c in wanted) or args.apps < 1 or args.repeat < 1:
        p.error(f"--clients takes {','.join(ALL_CLIENTS)}; --apps and --repeat at least 1")
    for prog in ("plan", "ours", "raw", "spawn"):
        if not os.access(os.path.join(args.builddir, "bench", prog), os.X_OK):
            raise SystemExit(f"bench: {args.builddir}/bench/{prog} is not built (run make first)")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="valkeyaddon-bench-")
    server = None
    try:
        server = Server(args.srcdir, tmp, args.auto_ready, args.http2)
        plan_path = os.path.join(tmp, "plan.jsonl")
        subprocess.run([os.path.join(args.builddir, "bench", "plan"), "--namespace", NAMESPACE, "--tenant", TENANT,
                        "--apps", str(args.apps), "--plan", PLAN, "--out", plan_path], check=True)
        avail, missing = find_clients(args, plan_path, server, tmp)
        order = [c for c in ALL_CLIENTS if c in wanted]
        missing = {c: r for c, r in missing.items() if c in wanted}
        return run_all(args, server, avail, missing, order, tmp)
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args, server, avail, missing, order, tmp):
    apps = args.apps
    print(f"bench: {apps} apps per round, plan {PLAN}, namespace {NAMESPACE}; Kubernetes API test server "
          f"(--auto-ready {args.auto_ready}, {'HTTP/2 offered' if args.http2 else 'HTTP/1.1'}); {machine()}",
          flush=True)
    runs = {c: {r: [] for r in ROUNDS} for c in order}
    failed, errors, notes = {}, [], []
    reference = {}  # ours' objects after its create round, and its request sequence

    # The clients take turns, so that a slow moment of a shared machine hits them all; kubectl
    # (N processes, the slowest by far) runs once.
    cycled = [c for c in order if c in avail and c != "kubectl"]
    schedule = [c for _ in range(args.repeat) for c in cycled]
    schedule += [c for c in order if c == "kubectl" and c in avail]
    for name in schedule:
        if name in failed:
            continue
        label, run = avail[name]
        print(f"bench: {label} ...", flush=True)
        server.reset()
        try:
            for rnd in ROUNDS:
                server.settle()
                server.clear_log()
                m = run(rnd)
                s = summarise_log(server.log(), apps)
                if s["bad"]:
                    e = s["bad"][0]
                    raise ClientFailed(f"{rnd}: {len(s['bad'])} failed requests, e.g. {e['method']} {e['path']} "
                                       f"-> {e['status']}")
                m.update(reads=s["reads"], writes=s["writes"])
                runs[name][rnd].append(m)
                if rnd == "create":
                    objs = normalise(server.objects())
                    if name == "ours":
                        reference.setdefault("objects", objs)
                    elif "objects" in reference:
                        diff = describe_difference(objs, reference["objects"])
                        if diff:
                            notes.append(f"{label}: objects after the create round differ from ours: {diff}")
                            if name == "raw":
                                errors.append(notes[-1])
                if name in ("ours", "raw"):
                    key = (name, rnd)
                    seq = s["sequence"]
                    if key in reference and reference[key] != seq:
                        errors.append(f"{label}: {rnd} round sent other requests than its previous run")
                    reference.setdefault(key, seq)
                if name == "ours" and rnd == "nochange" and m["writes"] != 0:
                    errors.append(f"ours wrote {m['writes']:g} objects per app in the no-change round")
        except ClientFailed as e:
            failed[name] = str(e)
            errors.append(f"{label} failed: {e}")

    if ("ours", "create") in reference and ("raw", "create") in reference:
        if reference[("ours", "create")] != reference[("raw", "create")]:
            errors.append("raw libcurl's create round did not send ours' requests (method, path, query, content "
                          "type): the bound is not comparable")
        else:
            notes.append("raw libcurl sent ours' create-round requests exactly (method, path, query, "
                         "content type, order)")

    results = {c: {r: median_of(v) for r, v in runs[c].items() if v} for c in order if c not in failed}
    labels = {c: avail[c][0] if c in avail else LABELS[c] for c in order}
    print_table(results, order, labels, missing, failed, apps)
    print()
    counts = sorted({m["runs"] for c in results.values() for m in c.values()})
    print("each row: the median of " + " or ".join(map(str, counts)) + " run(s) (kubectl: 1)")
    print("wall and CPU: the client's own loop (setup, imports, config, parsing the plan are outside); proc CPU:")
    print("the whole process (wait4), startup included; kubectl: the N processes, everything included.")
    for n in notes:
        print("note: " + n)
    print()
    for ok, text in targets(results):
        print(("PASS " if ok else "FAIL ") + text)
    if args.require_all:
        errors += [f"{LABELS[c]} not available: {r}" for c, r in missing.items()]
    for e in errors:
        print("ERROR " + e)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"apps": apps, "machine": machine(), "results": results, "runs": runs, "labels": labels,
                       "missing": missing, "failed": failed, "errors": errors}, f, indent=2)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
