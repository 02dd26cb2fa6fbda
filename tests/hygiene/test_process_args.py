#!/usr/bin/env python3
"""No password, REDIS_URL or credential token in any process's arguments, nor in
the environment of the processes we start, while add-ons are provisioned through
the local transport (it starts redis-server processes) and through the Kubernetes
transport with an exec credential plugin (it runs the plugin).

A sampler thread reads /proc/*/cmdline of every process, and /proc/*/environ of
the processes carrying this test's marker variable (ours and our descendants),
every few milliseconds while the command line runs. The samples are kept in
memory. The secrets are learned afterwards (`valkeyaddon url`) and compared with
every sample and with the processes still running (the servers). Nothing secret
is printed: a finding names the process and which secret it was.

DatabasePassword needs a PostgreSQL server: tests/hygiene/test_database_args.sh
starts one (tests/support/pg.sh) and runs this file with its coordinates in
VALKEYADDON_TEST_PG_*. Run alone (as make check does), this file leaves that class to the
wrapper and says so; named on the command line without those variables, it fails.
A missing valkey-server/redis-server skips the local-transport case (exit 77, named),
or fails it under VALKEYADDON_REQUIRE_REDIS=1 (tests/support/skips.py).
"""

import base64
import json
import os
import secrets
import shutil
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
SERVER = shutil.which("valkey-server") or shutil.which("redis-server")
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import skips  # noqa: E402
import test_kube_api_server as support  # noqa: E402

MARK = "VALKEYADDON_HYGIENE_MARK"
TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="hygiene-process-args-")
    support.TMP = TMP


def tearDownModule():
    for s in support.SERVERS:
        s.stop()
    shutil.rmtree(TMP, ignore_errors=True)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


class Sampler(threading.Thread):
    """Collects (pid, comm, 'cmdline'|'environ', bytes) until stopped."""

    def __init__(self, mark):
        super().__init__(daemon=True)
        self.mark = f"{MARK}={mark}".encode()
        self.samples = {}
        self.stopping = threading.Event()
        self.rounds = 0

    def snapshot(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            cmdline = read(f"/proc/{pid}/cmdline")
            comm = read(f"/proc/{pid}/comm").strip().decode(errors="replace")
            if cmdline:
                self.samples.setdefault((pid, comm, "cmdline", cmdline), None)
            environ = read(f"/proc/{pid}/environ")
            if self.mark in environ.split(b"\0"):
                self.samples.setdefault((pid, comm, "environ", environ), None)
        self.rounds += 1

    def run(self):
        while not self.stopping.is_set():
            self.snapshot()
            time.sleep(0.005)

    def stop(self):
        self.stopping.set()
        self.join()
        self.snapshot()  # what still runs (the servers)


class ProcessArguments(unittest.TestCase):
    def setUp(self):
        self.mark = secrets.token_hex(8)
        self.env = dict(os.environ, XDG_STATE_HOME=TMP)
        self.env[MARK] = self.mark

    def run_sampled(self, argv_list):
        sampler = Sampler(self.mark)
        sampler.start()
        try:
            results = [subprocess.run(argv, capture_output=True, text=True, timeout=120, env=self.env)
                       for argv in argv_list]
        finally:
            sampler.stop()
        self.assertGreater(sampler.rounds, 1)
        return results, sampler

    def assert_absent(self, sampler, named, environ_too=True):
        """named: {label: secret string}. Fails naming the process and the label only."""
        findings = []
        for (pid, comm, kind, data) in sampler.samples:
            if kind == "environ" and not environ_too:
                continue
            for label, value in named.items():
                for form in (value.encode(), base64.b64encode(value.encode()).rstrip(b"=")):
                    if form in data:
                        findings.append(f"{label} in the {kind} of process {pid} ({comm})")
        self.assertEqual(sorted(set(findings)), [])

    def assert_recorded_by_shim(self, value):
        """With the capture shim preloaded, the secret reached the suite's capture directory."""
        capture = os.environ.get("VALKEYADDON_CAPTURE_DIR")
        if "capture_shim" not in os.environ.get("LD_PRELOAD", "") or not capture:
            return
        wanted = value.encode().hex()
        for name in os.listdir(capture):
            if name.endswith(".secrets") and wanted in read(os.path.join(capture, name)).decode():
                return
        self.fail("the capture shim did not record the password (is it preloaded?)")

    def secrets_of(self, url):
        password = url.split("://", 1)[1].rsplit("@", 1)[0].split(":", 1)[1]
        self.assertGreaterEqual(len(password), 16)
        return {"the password": password, "REDIS_URL": url}

    @skips.requires(SERVER, "VALKEYADDON_REQUIRE_REDIS", "no valkey-server/redis-server on PATH")
    def test_local_transport_servers_never_get_the_password_as_an_argument(self):
        state = os.path.join(TMP, "local-state")
        base = [CLI, "--state-dir", state, "--database", f"sqlite:{TMP}/local.db", "-o", "json"]
        app = ["--tenant", "acme", "--app", "hygiene"]
        try:
            (prov, url), sampler = self.run_sampled([base + ["provision", *app, "--plan", "standard"],
                                                     base + ["url", *app]])
            self.assertEqual(prov.returncode, 0, prov.stderr)
            self.assertEqual(url.returncode, 0, url.stderr)
            redis_url = json.loads(url.stdout)["REDIS_URL"]
            named = self.secrets_of(redis_url)
            # The server retitles itself ("redis-server 127.0.0.1:PORT"): seen by its name.
            servers = [k for k in sampler.samples if k[2] == "cmdline" and k[1] in ("redis-server", "valkey-server")]
            self.assertTrue(servers, "no server process was seen")
            self.assert_absent(sampler, named)
            self.assertNotIn(named["the password"], prov.stderr)
            self.assert_recorded_by_shim(named["the password"])
        finally:
            subprocess.run(base + ["deprovision", *app], capture_output=True, timeout=120, env=self.env)

    def test_kubernetes_exec_plugin_never_gets_a_secret_as_an_argument(self):
        server = support.ServerProcess("kube", "--auto-ready", "0.05")
        token = server.info["token"]
        plugin = os.path.join(TMP, "plugin.sh")
        with open(plugin, "w", encoding="utf-8") as f:
            # Slow enough for the sampler to see it; the token comes from the kubeconfig's env.
            f.write('#!/bin/sh\nsleep 0.2\nprintf \'{"apiVersion":"client.authentication.k8s.io/v1",'
                    '"kind":"ExecCredential","status":{"token":"%s"}}\' "$TOKEN_FROM_ENV"\n')
        os.chmod(plugin, 0o700)
        kubeconfig = os.path.join(TMP, "kubeconfig-exec")
        with open(kubeconfig, "w", encoding="utf-8") as f:
            f.write(f"""apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster: {{server: "{server.info['url']}", certificate-authority: "{server.info['ca']}"}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {plugin}
      args: ["--cluster", "c"]
      env: [{{name: TOKEN_FROM_ENV, value: "{token}"}}]
      interactiveMode: Never
contexts:
- name: x
  context: {{cluster: c, user: u, namespace: hygiene}}
""")
        base = [CLI, "--transport", "kubernetes", "--kubeconfig", kubeconfig, "--database",
                f"sqlite:{TMP}/kube.db", "-o", "json"]
        app = ["--tenant", "acme", "--app", "kube"]
        (prov, url), sampler = self.run_sampled([base + ["provision", *app], base + ["url", *app]])
        self.assertEqual(prov.returncode, 0, prov.stderr)
        self.assertEqual(url.returncode, 0, url.stderr)
        redis_url = json.loads(url.stdout)["REDIS_URL"]
        named = self.secrets_of(redis_url)
        plugins = [k for k in sampler.samples if k[2] == "cmdline" and plugin.encode() in k[3]]
        self.assertTrue(plugins, "the exec plugin was not seen running")
        self.assert_absent(sampler, named)
        # The token is the plugin's output: in no argument list (the kubeconfig puts it in the plugin's env).
        self.assert_absent(sampler, {"the bearer token": token}, environ_too=False)
        self.assertNotIn(token, prov.stderr)
        self.assert_recorded_by_shim(named["the password"])


PG = {k: os.environ.get(f"VALKEYADDON_TEST_PG_{k.upper()}") for k in ("host", "port", "password")}


class DatabasePassword(unittest.TestCase):
    """The database password reaches libpq from a file or the environment, never through argv.

    `status` of an add-on that does not exist opens the database (which creates the table)
    and reads no further: exit 3 (not found) and the table back in PostgreSQL mean it
    connected and authenticated there, exit 1 that it could not."""

    USER = "valkeyaddon_test"
    # The sampling helpers, without inheriting ProcessArguments' tests.
    run_sampled = ProcessArguments.run_sampled
    assert_absent = ProcessArguments.assert_absent

    @classmethod
    def setUpClass(cls):
        if not all(PG.values()):
            raise AssertionError("no PostgreSQL coordinates in VALKEYADDON_TEST_PG_*: "
                                 "run this class through tests/hygiene/test_database_args.sh")

    def setUp(self):
        ProcessArguments.setUp(self)
        # No ~/.pgpass or PG* of the caller's: each case names its own source.
        for name in list(self.env):
            if name.startswith("PG"):
                del self.env[name]
        self.env["PGPASSFILE"] = os.path.join(TMP, "no-such-pgpass")
        self.password = PG["password"]
        self.psql("DROP TABLE IF EXISTS app_addons")

    def psql(self, sql):
        """As the superuser, by trust over the socket (tests/support/pg.sh psql)."""
        result = subprocess.run(["bash", os.path.join(SRC, "tests", "support", "pg.sh"), "psql", "-Atc", sql],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def assert_table_created(self):
        self.assertEqual(self.psql("SELECT to_regclass('app_addons') IS NOT NULL"), "t",
                         "the command did not use the PostgreSQL database")

    def url(self, with_password):
        secret = f":{self.password}" if with_password else ""
        return f"postgresql://{self.USER}{secret}@/valkeyaddon?host={PG['host']}&port={PG['port']}"

    def status(self, *global_options):
        return [CLI, *global_options, "-o", "json", "status", "--tenant", "acme", "--app", "db"]

    def private_file(self, name, text):
        path = os.path.join(TMP, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def assert_connected_without_argv(self, argv):
        (result,), sampler = self.run_sampled([argv])
        self.assertEqual(result.returncode, 3, result.stderr.replace(self.password, "<password>"))
        self.assertNotIn(self.password, result.stderr)
        self.assertNotIn("warning", result.stderr)
        self.assert_table_created()
        # The environment may hold it (that is the point of PGPASSWORD); argv never.
        self.assert_absent(sampler, {"the database password": self.password}, environ_too=False)

    def test_no_password_anywhere_is_refused(self):
        result = subprocess.run(self.status("--database", self.url(False)), capture_output=True, text=True,
                                timeout=60, env=self.env)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("password", result.stderr)

    def test_database_file(self):
        path = self.private_file("database-url", self.url(True) + "\n")
        self.assert_connected_without_argv(self.status("--database-file", path))

    def test_environment_variable(self):
        self.env["VALKEYADDON_DATABASE"] = self.url(True)
        self.assert_connected_without_argv(self.status())

    def test_libpq_pgpassword(self):
        self.env["PGPASSWORD"] = self.password
        self.assert_connected_without_argv(self.status("--database", self.url(False)))

    def test_libpq_pgpassfile(self):
        self.env["PGPASSFILE"] = self.private_file("pgpass", f"*:*:*:{self.USER}:{self.password}\n")
        self.assert_connected_without_argv(self.status("--database", self.url(False)))

    def test_database_and_database_file_together_are_a_usage_error(self):
        path = self.private_file("database-url-2", self.url(True) + "\n")
        result = subprocess.run(self.status("--database", "sqlite::memory:", "--database-file", path),
                                capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(result.returncode, 2, result.stderr)

    def test_password_in_argv_works_with_one_warning_line(self):
        result = subprocess.run(self.status("--database", self.url(True)), capture_output=True, text=True,
                                timeout=60, env=self.env)
        self.assertEqual(result.returncode, 3, result.stderr.replace(self.password, "<password>"))
        self.assertNotIn(self.password, result.stderr)
        warnings = [line for line in result.stderr.splitlines() if "warning" in line]
        self.assertEqual(len(warnings), 1, result.stderr)
        self.assertIn("--database-file", warnings[0])
        self.assert_table_created()


def load_tests(loader, tests, pattern):
    """The whole module, less DatabasePassword when no server was started for it: that class is
    run by tests/hygiene/test_database_args.sh, which fails when it cannot run it."""
    if all(PG.values()):
        return tests
    print("DatabasePassword: left to tests/hygiene/test_database_args.sh (it starts PostgreSQL)")
    return unittest.TestSuite(t for t in tests if not any(isinstance(c, DatabasePassword) for c in t))


if __name__ == "__main__":
    skips.main()
