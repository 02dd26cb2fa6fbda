#!/usr/bin/env python3
"""The exporter sidecar, run as the pod runs it: it must not hand the password to a server it is pointed at.

redis_exporter's /scrape?target=ADDR connects to any address a caller names.
This test takes the redis-exporter container from the StatefulSet that
dump_objects prints and runs Debian's prometheus-redis-exporter (or
redis_exporter) with that container's args and environment: values as
written, Secret references resolved from the rendered auth Secret, Secret
volumes written to a temporary directory (the items and modes the pod would
get) and their mount paths mapped there. Two things stand in for the pod:
the local server listens on a free loopback port instead of 6379 (every
"127.0.0.1:6379" in the env, args and mounted files is rewritten to it,
consistently), and the exporter listens on a free loopback port.

Then: /metrics reads the local server (redis_up 1, so the configuration
authenticates where it must), and /scrape with targets naming a second server
(a socket that records every byte it receives) never delivers the password
there, while the second server was reached (so the check cannot pass
vacuously). The exporter's log never shows the password either.

The password is generated here and never printed. Exit 77 (skip) when the
exporter or a server is not installed, unless VALKEYADDON_REQUIRE_EXPORTER=1
or VALKEYADDON_REQUIRE_REDIS=1.
"""
import base64
import os
import json
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from checks import Failed, check, finish, free_port, processes, redact, redact_also, require, run_main

TOP_BUILDDIR = os.environ.get("top_builddir", ".")
DUMP = os.path.join(TOP_BUILDDIR, "tests", "objects", "dump_objects")
ALPHABET = string.ascii_letters + string.digits
PASSWORD = "".join(secrets.choice(ALPHABET) for _ in range(32))
redact_also(PASSWORD, "<password>")
NS, TENANT, APP = "tenant-ns", "acme", "web"
NAME = "valkey-acme-web"
POD_LOCAL = "127.0.0.1:6379"
WAIT = 30.0

def find(*names):
    for name in names:
        path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin:/usr/local/bin")
        if path:
            return path
    return None


def objects():
    env = dict(os.environ, DUMP_PASSWORD=PASSWORD)
    out = subprocess.run([DUMP, "--namespace", NS, "--tenant", TENANT, "--app", APP, "--plan", "standard"],
                         env=env, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise Failed("dump_objects failed: " + redact(out.stderr))
    return [json.loads(line) for line in out.stdout.splitlines()]


def secret_value(secrets_by_name, ref):
    """A key of a rendered Secret, decoded: what the kubelet would hand the container."""
    require(ref.get("name") in secrets_by_name, "the Secret %s is one of the add-on's objects" % ref.get("name"))
    data = secrets_by_name[ref["name"]].get("data", {})
    require(ref.get("key") in data, "the Secret %s has the key %s" % (ref["name"], ref.get("key")))
    return base64.b64decode(data[ref["key"]]).decode()


def materialise(tmp, spec, container, secrets_by_name, local):
    """The container's mounts as directories under tmp: {mountPath: directory}."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {}
    for m in container.get("volumeMounts", []):
        require(m["name"] in volumes, "the mount %s names a volume of the pod" % m["name"])
        v = volumes[m["name"]]
        directory = os.path.join(tmp, "mount-" + m["name"])
        os.mkdir(directory, 0o700)
        if "secret" in v:
            s = v["secret"]
            require(s.get("secretName") == NAME + "-auth", "the exporter's Secret volume is the auth Secret")
            data = secrets_by_name[s["secretName"]].get("data", {})
            items = s.get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                mode = item.get("mode", s.get("defaultMode", 0o644))
                check(mode & 0o007 == 0, "%s/%s is not world-readable (mode %o)" % (m["mountPath"], item["path"], mode))
                value = secret_value(secrets_by_name, {"name": s["secretName"], "key": item["key"]})
                path = os.path.join(directory, item["path"])
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(value.replace(POD_LOCAL, local))
        else:
            require("emptyDir" in v, "the mount %s is a Secret volume or an emptyDir" % m["name"])
        mounts[m["mountPath"]] = directory
    return mounts


def in_pod(value, mounts, local):
    """A value as the pod would see it, with the stand-ins: mount paths and the local server's address."""
    for mount_path, directory in mounts.items():
        if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
            value = directory + value[len(mount_path.rstrip("/")):]
    return value.replace(POD_LOCAL, local)


def exporter_command(tmp, binary, sts, secrets_by_name, local, listen):
    spec = sts["spec"]["template"]["spec"]
    found = [c for c in spec["containers"] if c["name"] == "redis-exporter"]
    require(len(found) == 1, "the StatefulSet has a redis-exporter container")
    c = found[0]
    require("command" not in c, "the exporter runs the image's own entrypoint")
    mounts = materialise(tmp, spec, c, secrets_by_name, local)
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LC_ALL": "C"}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = in_pod(e["value"], mounts, local)
        else:
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            require(ref is not None, "%s is a value or a Secret reference" % e["name"])
            env[e["name"]] = secret_value(secrets_by_name, ref)
    check("REDIS_EXPORTER_WEB_LISTEN_ADDRESS" not in env, "the container does not move the exporter off :9121")
    env["REDIS_EXPORTER_WEB_LISTEN_ADDRESS"] = listen
    args = [in_pod(a, mounts, local) for a in c.get("args", [])]
    return [binary] + args, env


class Recorder:
    """A second server on loopback: records every byte, answers every read with an error reply."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.connections = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            conn.settimeout(10)
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                with self.lock:
                    self.received += chunk
                try:
                    conn.sendall(b"-NOAUTH Authentication required.\r\n")
                except OSError:
                    return

    def close(self):
        self.sock.close()


def start_local_server(tmp, server):
    port = free_port()
    conf = os.path.join(tmp, "local.conf")
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write('bind 127.0.0.1\nport %d\ndir "%s"\nsave ""\nappendonly no\nrequirepass "%s"\n' % (port, tmp, PASSWORD))
    log = open(os.path.join(tmp, "local.log"), "w")
    p = subprocess.Popen([server, conf], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(p)
    wait_listening(port, "the local server")
    return port


def wait_listening(port, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise Failed("%s did not listen on 127.0.0.1:%d" % (what, port))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return line.rsplit(" ", 1)[1]
    return None


def run(tmp, binary, server):
    objs = objects()
    sts = [o for o in objs if o["kind"] == "StatefulSet"][0]
    secrets_by_name = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Secret"}
    local_port = start_local_server(tmp, server)
    local = "127.0.0.1:%d" % local_port
    listen_port = free_port()
    argv, env = exporter_command(tmp, binary, sts, secrets_by_name, local, "127.0.0.1:%d" % listen_port)
    check(all(PASSWORD not in a for a in argv), "the password is not on the exporter's command line")
    log_path = os.path.join(tmp, "exporter.log")
    log = open(log_path, "w")
    p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(p)
    recorder = Recorder()
    try:
        wait_listening(listen_port, "the exporter")
        base = "http://127.0.0.1:%d" % listen_port
        status, body = get(base + "/metrics")
        require(status == 200, "/metrics answers 200")
        check(metric(body, "redis_up") == "1", "/metrics: redis_up 1 (it authenticates to the local server)")

        second = "127.0.0.1:%d" % recorder.port
        targets = ["redis://" + second, second, "redis://localhost:%d" % recorder.port,
                   "redis://default@" + second, "redis://" + second + "/0"]
        for target in targets:
            before = recorder.connections
            status, body = get(base + "/scrape?target=" + urllib.parse.quote(target, safe=""))
            check(recorder.connections > before, "/scrape?target=%s reaches the second server (HTTP %d)"
                  % (target, status))
        with recorder.lock:
            received = recorder.received
        check(len(received) > 0, "the second server received commands (%d bytes)" % len(received))
        check(PASSWORD.encode() not in received, "the second server never received the password")
        check(b"AUTH" not in received.upper(), "the second server never received an AUTH command")

        status, body = get(base + "/scrape?target=" + urllib.parse.quote("redis://" + local, safe=""))
        check(metric(body, "redis_up") == "1", "/scrape of the local server still authenticates (redis_up 1)")
    finally:
        recorder.close()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()
    with open(log_path, errors="replace") as f:
        text = f.read()
    check(PASSWORD not in text, "the exporter's log never shows the password")


def main():
    required = (os.environ.get("VALKEYADDON_REQUIRE_EXPORTER") == "1"
                or os.environ.get("VALKEYADDON_REQUIRE_REDIS") == "1")
    binary = os.environ.get("VALKEYADDON_EXPORTER") or find("redis_exporter", "prometheus-redis-exporter")
    server = find("valkey-server", "redis-server")
    if not binary or not server:
        missing = "redis_exporter (Debian: prometheus-redis-exporter)" if not binary else "valkey-server or redis-server"
        if required:
            print("FAIL - %s is not installed (VALKEYADDON_REQUIRE_EXPORTER/REDIS=1)" % missing)
            return 1
        print("SKIP - %s is not installed" % missing)
        return 77
    print("# exporter: %s, server: %s" % (binary, server))
    tmp = tempfile.mkdtemp(prefix="valkeyaddon-exporter-")
    try:
        run(tmp, binary, server)
    except Failed:
        pass
    finally:
        code = finish(tmp)
    return code


if __name__ == "__main__":
    run_main(main, 300)
