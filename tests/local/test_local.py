#!/usr/bin/env python3
"""End to end: the real valkeyaddon binary, its local transport (the default) and
real servers (valkey-server or redis-server) on loopback, under a temporary state
directory. Every server started here is stopped at the end, whatever happens.

Passwords are compared, never printed; redis-cli gets them through REDISCLI_AUTH.
Without a server and its cli the module skips (exit 77, named), or fails under
VALKEYADDON_REQUIRE_REDIS=1 (tests/support/skips.py).
"""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("top_srcdir", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("top_builddir", SRC)
CLI = os.path.join(BUILD, "tools", "valkeyaddon")
SERVER = shutil.which("valkey-server") or shutil.which("redis-server")
REDIS_CLI = shutil.which("valkey-cli") or shutil.which("redis-cli")
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import skips  # noqa: E402

NS = "default"
TMP = None


def setUpModule():
    global TMP
    skips.require(SERVER and REDIS_CLI, "VALKEYADDON_REQUIRE_REDIS", "no valkey-server/redis-server and cli on PATH")
    TMP = tempfile.mkdtemp(prefix="local-transport-test-")


def our_server_pids():
    """Server processes started under TMP (their working directory is there)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if TMP and cwd.startswith(TMP + "/"):
            pids.append(int(entry))
    return pids


def tearDownModule():
    if TMP is None:
        return
    for pid in our_server_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(TMP, ignore_errors=True)


def alive(pid):
    """Alive and not a zombie (this container's init may not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_dead(pid, seconds=15):
    deadline = time.time() + seconds
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    return not alive(pid)


class Resp:
    """A minimal client over a socket (the password never reaches argv)."""

    def __init__(self, port, password):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        if password is not None:
            self.call("AUTH", password)

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise ValueError(line)

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        reply = self._reply()
        if isinstance(reply, RuntimeError):
            raise reply
        return reply


class Local(unittest.TestCase):
    counter = 0

    def setUp(self):
        Local.counter += 1
        self.state = os.path.join(TMP, f"state-{Local.counter}")
        self.app = f"app{Local.counter}"

    def tearDown(self):
        self.cli("deprovision", "--tenant", "acme", "--app", self.app, "--delete-data")

    def cli(self, *args, state=None, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([CLI, "--state-dir", state or self.state, "-o", "json", *args],
                              capture_output=True, text=True, timeout=60, env=full_env)

    def provision(self, plan, app=None, expect=0):
        r = self.cli("provision", "--tenant", "acme", "--app", app or self.app, "--plan", plan, "--timeout", "30s")
        self.assertEqual(r.returncode, expect, r.stderr)
        return json.loads(r.stdout) if expect == 0 else r

    def name(self):
        return f"valkey-acme-{self.app}"

    def url(self):
        r = self.cli("url", "--tenant", "acme", "--app", self.app)
        self.assertEqual(r.returncode, 0, r.stderr)
        u = urlparse(json.loads(r.stdout)["REDIS_URL"])
        self.assertEqual((u.scheme, u.hostname), ("redis", "127.0.0.1"))
        return u.port, u.password

    def server_dir(self, ordinal=0):
        return os.path.join(self.state, "servers", NS, self.name(), str(ordinal))

    def pid(self, ordinal=0):
        with open(os.path.join(self.server_dir(ordinal), "server.pid")) as f:
            return int(f.read().split()[0])

    def replica_port(self, ordinal):
        with open(os.path.join(self.server_dir(ordinal), "port")) as f:
            return int(f.read())

    def stop_server(self, ordinal=0):
        pid = self.pid(ordinal)
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_dead(pid), "the server did not stop on SIGTERM")

    def redis_cli_ping(self, port, password):
        env = dict(os.environ, REDISCLI_AUTH=password)
        r = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), "ping"], capture_output=True,
                           text=True, env=env, timeout=10)
        return r.stdout.strip()

    def no_password_in_cmdlines(self, password):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        self.assertNotIn(password.encode(), f.read(), f"the password is in process {entry}'s argv")
                except OSError:
                    pass


class TestFree(Local):
    def test_local__free_plan_end_to_end(self):
        out = self.provision("free")
        self.assertEqual((out["status"], out["plan"], out["password_created"]), ("Ready", "free", True))
        port, password = self.url()
        self.assertEqual(self.redis_cli_ping(port, password), "PONG")
        self.assertNotEqual(self.redis_cli_ping(port, "wrong-password-0123456789"), "PONG")
        self.no_password_in_cmdlines(password)

        # Secret-holding files are the owner's only.
        for path in (os.path.join(self.server_dir(), "valkey.conf"),
                     os.path.join(self.state, "objects", NS, "secrets", f"{self.name()}-auth.json"),
                     os.path.join(self.state, "objects", NS, "secrets", f"app-{self.app}-redis-url.json")):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
        self.assertEqual(stat.S_IMODE(os.stat(self.state).st_mode), 0o700)

        c = Resp(port, password)
        c.call("SET", "kept", "no")
        self.assertEqual(c.call("CONFIG", "GET", "maxmemory-policy")[1], "noeviction")
        self.assertEqual(c.call("CONFIG", "GET", "save")[1], "")
        self.assertEqual(c.call("CONFIG", "GET", "appendonly")[1], "no")
        # 80% of 64Mi, as on the cluster; writes past it are refused, nothing evicted.
        self.assertEqual(int(c.call("CONFIG", "GET", "maxmemory")[1]), 64 * 1024 * 1024 * 80 // 100)
        value = "x" * (1024 * 1024)
        with self.assertRaises(RuntimeError) as refused:
            for i in range(80):
                c.call("SET", f"big{i}", value)
        self.assertIn("OOM", str(refused.exception))
        self.assertEqual(c.call("GET", "kept"), "no")
        c.close()

        # A repeat provision keeps the password and the running server.
        pid = self.pid()
        again = self.provision("free")
        self.assertFalse(again["password_created"])
        self.assertEqual(self.url(), (port, password))
        self.assertEqual(self.pid(), pid)

        # Stopped and provisioned again: the same port, and no data (free has no persistence).
        self.stop_server()
        r = self.cli("status", "--tenant", "acme", "--app", self.app)
        self.assertEqual(json.loads(r.stdout)["status"], "Creating")
        self.provision("free")
        self.assertNotEqual(self.pid(), pid)
        c = Resp(port, password)
        self.assertIsNone(c.call("GET", "kept"))
        c.close()


class TestStandard(Local):
    def test_local__standard_keeps_data_across_restart(self):
        self.provision("standard")
        port, password = self.url()
        c = Resp(port, password)
        self.assertEqual(c.call("CONFIG", "GET", "appendonly")[1], "no")
        self.assertNotEqual(c.call("CONFIG", "GET", "save")[1], "")
        c.call("SET", "kept", "yes")
        c.close()
        self.assertTrue(os.path.isdir(os.path.join(self.state, "data", NS, f"data-{self.name()}-0")))
        self.stop_server()
        self.provision("standard")
        c = Resp(port, password)
        self.assertEqual(c.call("GET", "kept"), "yes")
        c.close()

        # Up to pro: AOF is turned on over the RDB data, which survives, and replicas follow.
        self.provision("pro")
        c = Resp(port, password)
        self.assertEqual(c.call("GET", "kept"), "yes")
        self.assertEqual(c.call("CONFIG", "GET", "appendonly")[1], "yes")
        c.close()
        # Back to free drops persistence: refused, and nothing changes, unless data loss is allowed.
        r = self.provision("free", expect=1)
        self.assertIn("drops persistence", r.stderr)
        self.assertIn("--allow-data-loss", r.stderr)
        c = Resp(port, password)
        self.assertEqual(c.call("GET", "kept"), "yes")
        c.close()
        r = self.cli("provision", "--tenant", "acme", "--app", self.app, "--plan", "free", "--allow-data-loss",
                     "--timeout", "30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.state, "data", NS, f"data-{self.name()}-0")))


class TestPro(Local):
    def test_local__pro_replicates_and_keeps_data(self):
        out = self.provision("pro")
        self.assertEqual(out["status"], "Ready")
        port, password = self.url()
        c = Resp(port, password)
        self.assertEqual(c.call("CONFIG", "GET", "appendonly")[1], "yes")
        self.assertEqual(c.call("CONFIG", "GET", "appendfsync")[1], "everysec")
        c.call("SET", "replicated", "1")
        c.close()
        for ordinal in (1, 2):
            r = Resp(self.replica_port(ordinal), password)
            deadline = time.time() + 10
            while r.call("GET", "replicated") != "1" and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(r.call("GET", "replicated"), "1", f"replica {ordinal}")
            with self.assertRaises(RuntimeError):
                r.call("SET", "x", "1")  # read-only
            r.close()
        self.no_password_in_cmdlines(password)
        self.stop_server(0)
        self.provision("pro")
        c = Resp(port, password)
        self.assertEqual(c.call("GET", "replicated"), "1")
        c.close()


class TestDeprovision(Local):
    def test_local__deprovision_keeps_data_unless_asked_and_is_idempotent(self):
        self.provision("standard")
        port, password = self.url()
        c = Resp(port, password)
        c.call("SET", "kept", "yes")
        c.call("SAVE")
        c.close()
        pid = self.pid()
        data = os.path.join(self.state, "data", NS, f"data-{self.name()}-0")
        self.assertTrue(os.path.isdir(data))
        r = self.cli("deprovision", "--tenant", "acme", "--app", self.app)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertGreater(out["deleted"], 0)
        self.assertEqual(out["kept_claims"], [f"data-{self.name()}-0"])
        self.assertTrue(wait_dead(pid, 1))
        self.assertTrue(os.path.isdir(data), "deprovision without --delete-data must keep the data")
        self.assertFalse(os.path.exists(os.path.join(self.state, "servers", NS, self.name())))
        # The same ids get their data back; another tenant whose name collides would be refused.
        self.provision("standard")
        port, password = self.url()
        c = Resp(port, password)
        self.assertEqual(c.call("GET", "kept"), "yes")
        c.close()
        r = self.cli("deprovision", "--tenant", "acme", "--app", self.app, "--delete-data")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((json.loads(r.stdout)["claims_deleted"], json.loads(r.stdout)["kept_claims"]), (1, []))
        self.assertFalse(os.path.exists(data))
        self.assertEqual(os.listdir(os.path.join(self.state, "ports")), [])
        r = self.cli("deprovision", "--tenant", "acme", "--app", self.app)
        self.assertEqual((r.returncode, json.loads(r.stdout)["deleted"]), (0, 0), r.stderr)
        r = self.cli("status", "--tenant", "acme", "--app", self.app)
        self.assertEqual(r.returncode, 3, r.stderr)


class TestDayTwo(Local):
    """The day-2 safety issue's acceptance, on real servers."""

    def test_local__unknown_plan_keeps_the_plan_and_the_data(self):
        self.provision("standard")
        port, password = self.url()
        c = Resp(port, password)
        c.call("SET", "precious", "1")
        self.assertEqual(c.call("SAVE"), "OK")
        c.close()
        pid = self.pid()
        r = self.cli("provision", "--tenant", "acme", "--app", self.app, "--plan", "standrad", "--timeout", "30s")
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = [l for l in r.stderr.splitlines() if "standrad" in l]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn('unknown plan "standrad": the add-on keeps plan "standard"', lines[0])
        self.assertEqual(json.loads(r.stdout)["plan"], "standard")
        self.assertEqual(self.pid(), pid, "the server was restarted")
        c = Resp(port, password)
        self.assertEqual(c.call("GET", "precious"), "1")
        c.close()
        # The app_addons row (the CLI's default database) still says standard, and why.
        import sqlite3
        with sqlite3.connect(os.path.join(self.state, "addons.db")) as db:
            plan, message = db.execute("SELECT plan, status_message FROM app_addons WHERE app_id = ?",
                                       (self.app,)).fetchone()
        self.assertEqual(plan, "standard")
        self.assertIn('plan "standrad" is unknown: the add-on keeps plan standard', message)

    def test_local__colliding_tenants_are_refused(self):
        first = ("acme-prod", "web")
        second = ("acme", "prod-web")
        try:
            r = self.cli("provision", "--tenant", first[0], "--app", first[1], "--plan", "free", "--timeout", "30s")
            self.assertEqual(r.returncode, 0, r.stderr)
            secrets = os.path.join(self.state, "objects", NS, "secrets")
            before = {n: open(os.path.join(secrets, n), "rb").read() for n in os.listdir(secrets)}
            r = self.cli("provision", "--tenant", second[0], "--app", second[1], "--plan", "free", "--timeout", "30s")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("belongs to tenant acme-prod app web", r.stderr)
            after = {n: open(os.path.join(secrets, n), "rb").read() for n in os.listdir(secrets)}
            self.assertEqual(before, after, "the first tenant's Secrets changed")
            r = self.cli("deprovision", "--tenant", second[0], "--app", second[1])
            self.assertNotEqual(r.returncode, 0, "deprovision of the other tenant's add-on succeeded")
            self.assertEqual(before, {n: open(os.path.join(secrets, n), "rb").read() for n in os.listdir(secrets)})
        finally:
            self.cli("deprovision", "--tenant", first[0], "--app", first[1], "--delete-data")

    def test_local__recreated_auth_secret_reaches_the_servers(self):
        self.provision("standard")
        old_port, old_password = self.url()
        os.unlink(os.path.join(self.state, "objects", NS, "secrets", f"{self.name()}-auth.json"))
        out = self.provision("standard")
        self.assertTrue(out["password_created"])
        port, password = self.url()
        self.assertEqual(port, old_port)
        self.assertNotEqual(password, old_password)
        self.assertEqual(self.redis_cli_ping(port, password), "PONG")
        self.assertNotEqual(self.redis_cli_ping(port, old_password), "PONG")


class TestHazards(Local):
    def test_local__stale_pid_record_is_never_signalled(self):
        self.provision("free")
        self.stop_server()
        record = os.path.join(self.server_dir(), "server.pid")
        with open(record) as f:
            exe = f.read().split(None, 2)[2].strip()
        bystander = subprocess.Popen(["sleep", "60"])
        try:
            # A reused pid: right start time, wrong binary; then a wrong start time; then garbage.
            with open(f"/proc/{bystander.pid}/stat") as f:
                start = f.read().rsplit(")", 1)[1].split()[19]
            for content in (f"{bystander.pid} {start} {exe}\n", f"{bystander.pid} 1 {exe}\n", "garbage\n"):
                with open(record, "w") as f:
                    f.write(content)
                out = self.provision("free")
                self.assertEqual(out["status"], "Ready")
                self.assertIsNone(bystander.poll(), "a foreign process was signalled")
                self.assertNotEqual(self.pid(), bystander.pid)
                self.stop_server()
        finally:
            bystander.kill()
            bystander.wait()

    def test_local__occupied_port_is_a_clear_error(self):
        self.provision("free")
        port, password = self.url()
        self.stop_server()
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen(1)
        try:
            r = self.provision("free", expect=1)
            self.assertIn(f"port {port}", r.stderr)
            self.assertIn("in use by another process", r.stderr)
            self.assertNotIn(password, r.stderr + r.stdout)
        finally:
            squatter.close()
        self.assertEqual(self.provision("free")["status"], "Ready")
        self.assertEqual(self.url(), (port, password))

    def test_local__state_dir_from_xdg_state_home(self):
        xdg = os.path.join(TMP, f"xdg-{Local.counter}")
        r = subprocess.run([CLI, "-o", "json", "provision", "--tenant", "acme", "--app", self.app, "--plan", "free"],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ, XDG_STATE_HOME=xdg))
        try:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.isdir(os.path.join(xdg, "valkeyaddon", "servers", NS)))
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(xdg, "valkeyaddon")).st_mode), 0o700)
        finally:
            subprocess.run([CLI, "deprovision", "--tenant", "acme", "--app", self.app], capture_output=True,
                           timeout=60, env=dict(os.environ, XDG_STATE_HOME=xdg))


class TestBadInput(Local):
    """Bad input: a non-zero exit, one clear line, and the running add-on untouched."""

    def assert_untouched(self, port, password, pid):
        self.assertEqual(self.pid(), pid)
        self.assertEqual(self.redis_cli_ping(port, password), "PONG")

    def error_lines(self, r):
        """The error lines; a warning (a --database URL with a password, say) is not one."""
        return [line for line in r.stderr.splitlines()
                if line.startswith("valkeyaddon:") and ": warning: " not in line]

    def test_local__bad_input_leaves_state_untouched(self):
        self.provision("free")
        port, password = self.url()
        pid = self.pid()
        cases = [
            (("frobnicate", "--tenant", "acme", "--app", self.app), 2, "frobnicate"),
            (("provision", "--tenant", "acme", "--app", "Bad_App"), 2, "app_id"),
            (("provision", "--tenant", "acme", "--app", self.app, "--plan", "pro", "--timeout", "soon"), 2,
             "--timeout"),
            (("--database", "postgresql://u:db-secret-pw@127.0.0.1:1/x?connect_timeout=2", "provision", "--tenant",
              "acme", "--app", self.app, "--plan", "pro"), 1, "--database"),
            (("--database", "mysql://nope", "deprovision", "--tenant", "acme", "--app", self.app), 2, "--database"),
        ]
        for args, code, needle in cases:
            r = self.cli(*args)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertEqual(len(self.error_lines(r)), 1, (args, r.stderr))
            self.assertIn(needle, r.stderr)
            self.assertNotIn("db-secret-pw", r.stderr + r.stdout)
            self.assertNotIn(password, r.stderr + r.stdout)
            self.assert_untouched(port, password, pid)

    def test_local__state_dir_that_is_a_file_is_a_clear_error(self):
        occupied = os.path.join(TMP, f"occupied-{Local.counter}")
        with open(occupied, "w") as f:
            f.write("not a directory")
        r = self.cli("provision", "--tenant", "acme", "--app", self.app, state=occupied)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(self.error_lines(r)), 1, r.stderr)
        with open(occupied) as f:
            self.assertEqual(f.read(), "not a directory")

    def test_local__redis_cli_accepts_the_url_as_is(self):
        # The README's check. Debian's redis-cli 7.0 reads "redis://:PW@" as user "" and
        # fails with WRONGPASS, so the URL must name the user (default). The password is
        # on redis-cli's command line here only because that is what the README shows users.
        self.provision("free")
        r = self.cli("-o", "table", "url", "--tenant", "acme", "--app", self.app)
        url = r.stdout.strip()
        out = subprocess.run([REDIS_CLI, "--no-auth-warning", "-u", url, "ping"], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual(out.stdout.strip(), "PONG", "redis-cli -u REDIS_URL ping did not answer PONG")

    def test_local__the_record_follows_the_add_on(self):
        self.provision("standard")
        r = self.cli("status", "--tenant", "acme", "--app", self.app)
        self.assertEqual(r.returncode, 0, r.stderr)
        record = json.loads(r.stdout)["record"]
        self.assertEqual((record["status"], record["plan"]), ("ready", "standard"))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.state, "addons.db")).st_mode), 0o600)
        self.assertEqual(self.cli("deprovision", "--tenant", "acme", "--app", self.app).returncode, 0)
        r = self.cli("status", "--tenant", "acme", "--app", self.app)
        self.assertEqual(r.returncode, 3, r.stderr)


if __name__ == "__main__":
    skips.main()
