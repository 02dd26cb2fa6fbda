#!/usr/bin/env python3
"""The StatefulSet's start script and probes, run against real servers.

For every plan the script is taken from the StatefulSet that dump_objects
prints and run as the container would run it (/bin/sh -c SCRIPT, and busybox
sh when installed), with the container's environment, on loopback, against
valkey-server if installed, else Debian's redis-server under that name. Then:
maxmemory from a fake cgroup limit, the plan's persistence, AUTH enforced,
the probes pass with the password and fail without it, no password in any
command line or in the server's environment, a 0600 config file; pro's
replication (pod 0 primary, pods 1 and 2 replicas); and AOF switched on over
an RDB-only dataset (standard then pro on the same data) without losing keys.
Also: the rendered script is the plan's assignments followed by
libvalkeyaddon/objects/start.sh as sh2c.sh embeds it, and that tree file, run
as it is after the same assignments, writes the same config.

Only temporary directories are written; every process started is killed.
The password is generated here and never printed. Exit 77 (skip) when no
server is installed, unless VALKEYADDON_REQUIRE_REDIS=1.
"""
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time

from checks import Failed, check, finish, free_port, processes, redact, redact_also, require, run_main

TOP_BUILDDIR = os.environ.get("top_builddir", ".")
TOP_SRCDIR = os.environ.get("top_srcdir", ".")
START_SH = os.path.join(TOP_SRCDIR, "libvalkeyaddon", "objects", "start.sh")
DUMP = os.path.join(TOP_BUILDDIR, "tests", "objects", "dump_objects")
ALPHABET = string.ascii_letters + string.digits
PASSWORD = "".join(secrets.choice(ALPHABET) for _ in range(32))
redact_also(PASSWORD, "<password>")
WRONG = "".join(secrets.choice(ALPHABET) for _ in range(32))
redact_also(WRONG, "<wrong>")
FAKE_LIMIT = 100 * 1024 * 1024
NS, TENANT, APP = "tenant-ns", "acme", "web"
NAME = "valkey-acme-web"
WAIT = 30.0

# What plans.h promises, checked independently of the builder.
PLANS = {
    "free": {"percent": 80, "save": "", "appendonly": "no", "replicas": 1},
    "standard": {"percent": 60, "save": "86400 1", "appendonly": "no", "replicas": 1},
    "pro": {"percent": 50, "save": "3600 1 300 100 60 10000", "appendonly": "yes", "replicas": 3},
}

def find_servers(tmp):
    """A bin directory with valkey-server and valkey-cli: real ones, or redis-* under those names."""
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    for name, fallback in (("valkey-server", "redis-server"), ("valkey-cli", "redis-cli")):
        path = shutil.which(name) or shutil.which(fallback) or shutil.which(fallback, path="/usr/bin:/usr/sbin")
        if not path:
            return None
        os.symlink(path, os.path.join(bindir, name))
    return bindir


def objects(plan):
    env = dict(os.environ, DUMP_PASSWORD=PASSWORD)
    out = subprocess.run([DUMP, "--namespace", NS, "--tenant", TENANT, "--app", APP, "--plan", plan],
                         env=env, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise Failed("dump_objects failed: " + redact(out.stderr))
    return [json.loads(line) for line in out.stdout.splitlines()]


_containers = {}


def container(plan):
    """The valkey container of the plan's StatefulSet (built once per plan)."""
    if plan not in _containers:
        sts = [o for o in objects(plan) if o["kind"] == "StatefulSet"][0]
        c = sts["spec"]["template"]["spec"]["containers"][0]
        require(c["name"] == "valkey" and c["command"][:2] == ["/bin/sh", "-c"],
                "%s: the valkey container runs /bin/sh -c SCRIPT" % plan)
        for e in c["env"]:
            if "valueFrom" in e:
                require(e["valueFrom"]["secretKeyRef"] == {"name": NAME + "-auth", "key": "password"},
                        "%s: %s comes from the auth Secret's password" % (plan, e["name"]))
        _containers[plan] = c
    return _containers[plan]


def container_env(c):
    """The container's environment with the Secret references resolved to the password."""
    return {e["name"]: e["value"] if "value" in e else PASSWORD for e in c["env"]}


class Server:
    def __init__(self, tmp, bindir, shell, plan, label, hostname, data_dir=None, primary_port=None, port=None):
        c = container(plan)
        self.script = c["command"][2]
        self.probes = {k: c[k]["exec"]["command"] for k in ("readinessProbe", "livenessProbe")}
        base = os.path.join(tmp, label)
        os.makedirs(base)
        self.run_dir = os.path.join(base, "run")
        self.data_dir = data_dir or os.path.join(base, "data")
        self.cgroup = os.path.join(base, "cgroup")
        os.makedirs(self.data_dir, exist_ok=True)
        os.mkdir(self.cgroup)
        with open(os.path.join(self.cgroup, "memory.max"), "w") as f:
            f.write("%d\n" % FAKE_LIMIT)
        self.port = port or free_port()
        self.bindir = bindir
        env = {"PATH": bindir + ":/usr/local/bin:/usr/bin:/bin", "HOME": base, "LC_ALL": "C"}
        env.update(container_env(c))
        env.update({
            "HOSTNAME": hostname,
            "VALKEY_PORT": str(self.port),
            "VALKEY_BIND": "127.0.0.1",
            "VALKEY_CGROUP_ROOT": self.cgroup,
            "VALKEY_RUN_DIR": self.run_dir,
            "VALKEY_DATA_DIR": self.data_dir,
        })
        if primary_port:
            env["VALKEY_PRIMARY_HOST"] = "127.0.0.1"
            env["VALKEY_PRIMARY_PORT"] = str(primary_port)
        self.env = env
        self.log_path = os.path.join(base, "log")
        self.log = open(self.log_path, "w")
        argv = shell + ["-c", self.script]
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=base,
                                     start_new_session=True)
        processes.append(self.proc)
        self.label = label

    def cli(self, *args, password=PASSWORD):
        env = {"PATH": self.env["PATH"], "HOME": self.env["HOME"]}
        if password is not None:
            env["REDISCLI_AUTH"] = password
        out = subprocess.run([os.path.join(self.bindir, "valkey-cli"), "-h", "127.0.0.1", "-p", str(self.port)]
                             + list(args), env=env, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip()

    def config(self, key):
        """CONFIG GET key: the value ("" for an empty one), or None when the server did not answer with it."""
        lines = self.cli("config", "get", key).splitlines()
        if not lines or lines[0] != key:
            return None
        return lines[1] if len(lines) >= 2 else ""

    def wait_ready(self):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.cli("ping") == "PONG":
                return True
            time.sleep(0.1)
        self.show_log()
        return False

    def show_log(self):
        with open(self.log_path) as f:
            print("# log of %s:" % self.label)
            for line in f.read().splitlines()[-25:]:
                print("#   " + redact(line))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=WAIT)
        self.log.close()
        with open(self.log_path) as f:
            check(PASSWORD not in f.read(), "%s: the password is not in the script's or server's output" % self.label)

    def probe(self, kind, password):
        env = {"PATH": self.env["PATH"], "HOME": self.env["HOME"], "VALKEY_PORT": str(self.port)}
        if password is not None:
            env["REDISCLI_AUTH"] = password
        return subprocess.run(self.probes[kind], env=env, capture_output=True, timeout=20).returncode


def poll(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def command_lines():
    """Every readable /proc/*/cmdline, the way ps shows them."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    found.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
    return found


def process_tree_environ(pid):
    """The environments of pid and its descendants."""
    envs = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/environ" % p, "rb") as f:
                envs.append(f.read().decode("utf-8", "replace"))
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return envs


def check_plan(tmp, bindir, shell, plan):
    want = PLANS[plan]
    label = "%s-%s" % (os.path.basename(shell[0]), plan)
    s = Server(tmp, bindir, shell, plan, label, NAME + "-0")
    try:
        require(s.wait_ready(), "%s: the server answers PONG to the password" % label)
        check(s.config("maxmemory") == str(FAKE_LIMIT * want["percent"] // 100),
              "%s: maxmemory is %d%% of the cgroup limit" % (label, want["percent"]))
        check(s.config("maxmemory-policy") == "noeviction", "%s: maxmemory-policy noeviction" % label)
        check(s.config("appendonly") == want["appendonly"], "%s: appendonly %s" % (label, want["appendonly"]))
        check(s.config("save") == want["save"], "%s: save '%s'" % (label, want["save"]))
        if want["appendonly"] == "yes":
            check(s.config("appendfsync") == "everysec", "%s: appendfsync everysec" % label)
        check(s.config("dir") == os.path.realpath(s.data_dir), "%s: dir is the data directory" % label)
        check(s.config("replicaof") in ("", None), "%s: pod 0 is a primary" % label)
        check("NOAUTH" in s.cli("ping", password=None), "%s: no password: NOAUTH" % label)
        reply = s.cli("ping", password=WRONG)
        check("PONG" not in reply and ("NOAUTH" in reply or "WRONGPASS" in reply),
              "%s: a wrong password is refused" % label)
        check(s.cli("set", "k", "v") == "OK" and s.cli("get", "k") == "v", "%s: reads and writes work" % label)

        for kind in ("readinessProbe", "livenessProbe"):
            check(s.probe(kind, PASSWORD) == 0, "%s: %s passes with the password" % (label, kind))
            check(s.probe(kind, WRONG) != 0, "%s: %s fails with a wrong password" % (label, kind))
            check(s.probe(kind, None) != 0, "%s: %s fails without a password" % (label, kind))
            check("-a" not in s.probes[kind][2].split(), "%s: %s never passes -a" % (label, kind))

        conf = os.path.join(s.run_dir, "valkey.conf")
        check(os.stat(conf).st_mode & 0o777 == 0o600, "%s: the config file is mode 0600" % label)
        with open(conf) as f:
            text = f.read()
        check('requirepass "%s"' % PASSWORD in text, "%s: the password is in the config file" % label)
        check(not any(PASSWORD in c for c in command_lines()), "%s: no command line holds the password" % label)
        check(not any(PASSWORD in e for e in process_tree_environ(s.proc.pid)),
              "%s: the server's environment does not hold the password" % label)
    finally:
        s.stop()


def check_builtins(shell):
    """The script writes the password with printf: it must be a builtin, never a process with argv."""
    for command in ("printf", "[", "read"):
        out = subprocess.run(shell + ["-c", "type " + command], capture_output=True, text=True, timeout=10)
        check("builtin" in out.stdout, "%s: %s is a shell builtin" % (" ".join(shell), command))


def check_probe_replies(tmp, bindir):
    """The probes' reading of replies, with a valkey-cli that answers what we tell it."""
    fake_dir = os.path.join(tmp, "fake-cli")
    os.mkdir(fake_dir)
    with open(os.path.join(fake_dir, "valkey-cli"), "w") as f:
        f.write('#!/bin/sh\nprintf "%s\\n" "$FAKE_REPLY"\nexit "${FAKE_STATUS:-0}"\n')
    os.chmod(os.path.join(fake_dir, "valkey-cli"), 0o755)
    c = container("free")
    cases = [
        ("PONG", 0, True, True),
        ("LOADING Valkey is loading the dataset in memory", 0, False, True),
        ("LOADING Redis is loading the dataset in memory", 1, False, True),
        ("NOAUTH Authentication required.", 0, False, False),
        ("", 1, False, False),
        ("ERR unknown command", 0, False, False),
    ]
    for reply, status, ready, alive in cases:
        env = {"PATH": fake_dir + ":/usr/bin:/bin", "FAKE_REPLY": reply, "FAKE_STATUS": str(status),
               "VALKEY_PORT": "6379", "REDISCLI_AUTH": PASSWORD}
        for kind, want in (("readinessProbe", ready), ("livenessProbe", alive)):
            rc = subprocess.run(c[kind]["exec"]["command"], env=env, capture_output=True, timeout=10).returncode
            check((rc == 0) == want, "%s on reply %r (exit %d): %s" % (kind, reply, status,
                                                                     "pass" if want else "fail"))


def run_script(tmp, plan, label, env_extra, cgroup_files, script=None):
    """Run the plan's script (or SCRIPT) with a fake server that keeps a copy of its config; (exit status, config or None, output)."""
    base = os.path.join(tmp, "logic", label)
    cgroup = os.path.join(base, "cgroup")
    os.makedirs(os.path.join(cgroup, "memory"))
    for rel, content in cgroup_files.items():
        with open(os.path.join(cgroup, rel), "w") as f:
            f.write(content)
    fake = os.path.join(base, "fake-server")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncp "$1" "$FAKE_COPY"\n')
    os.chmod(fake, 0o755)
    copy = os.path.join(base, "config-copy")
    env = {"PATH": "/usr/bin:/bin", "HOME": base, "VALKEY_PASSWORD": PASSWORD, "VALKEY_PORT": "6379",
           "HOSTNAME": NAME + "-0", "VALKEY_PRIMARY_HOST": "primary.example", "VALKEY_CGROUP_ROOT": cgroup,
           "VALKEY_RUN_DIR": os.path.join(base, "run"), "VALKEY_DATA_DIR": os.path.join(base, "data"),
           "VALKEY_SERVER": fake, "FAKE_COPY": copy}
    env.update(env_extra)
    env = {k: v for k, v in env.items() if v is not None}
    if script is None:
        script = container(plan)["command"][2]
    out = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    config = None
    if os.path.exists(copy):
        with open(copy) as f:
            config = dict(line.split(" ", 1) for line in f.read().splitlines())
    return out.returncode, config, out.stdout + out.stderr


def embedded(tree_text):
    """What sh2c.sh embeds of a .sh file: every line but comment-only and blank ones."""
    return "".join(line for line in tree_text.splitlines(keepends=True)
                   if line.strip() and not line.lstrip().startswith("#"))


def check_tree_file(tmp):
    """The rendered script is the plan's assignments, then libvalkeyaddon/objects/start.sh; and that file,
    run as it is in the tree (comments included) after the same assignments, does what the rendered one does."""
    with open(START_SH) as f:
        tree = f.read()
    body = embedded(tree)
    for plan in PLANS:
        script = container(plan)["command"][2]
        if not check(script.endswith(body), "%s: the rendered script ends with start.sh as embedded" % plan):
            continue
        prefix = script[:len(script) - len(body)]
        check(all(line.startswith("# libvalkeyaddon start script") or
                  (line.split("=", 1)[0].isidentifier() and "=" in line) for line in prefix.splitlines()),
              "%s: before it, only the plan's assignments (and a comment)" % plan)
        shared = {"VALKEY_DATA_DIR": os.path.join(tmp, "logic", "tree-data-" + plan)}
        files = {"memory.max": "%d\n" % FAKE_LIMIT}
        rendered = run_script(tmp, plan, "tree-rendered-" + plan, shared, files)
        from_tree = run_script(tmp, plan, "tree-file-" + plan, shared, files, script=prefix + tree)
        check(rendered[0] == 0 and rendered[1] is not None and from_tree == rendered,
              "%s: start.sh from the tree, after the plan's assignments, writes the same config and log" % plan)


def check_script_logic(tmp):
    """The memory limit and input checks, with a fake server: every cgroup shape, every refusal."""
    mib = 1024 * 1024
    cases = [
        ("v2", "free", {"memory.max": "104857600\n"}, 104857600 * 80 // 100),
        ("v2-max", "free", {"memory.max": "max\n"}, 64 * mib * 80 // 100),
        ("v2-no-newline", "standard", {"memory.max": "209715200"}, 209715200 * 60 // 100),
        ("v1", "pro", {"memory/memory.limit_in_bytes": "268435456\n"}, 268435456 * 50 // 100),
        ("v1-root", "pro", {"memory.limit_in_bytes": "268435456\n"}, 268435456 * 50 // 100),
        ("v1-unlimited", "pro", {"memory/memory.limit_in_bytes": "9223372036854771712\n"}, 1024 * mib // 2),
        ("2-pow-60", "standard", {"memory.max": "1152921504606846976\n"}, 256 * mib * 60 // 100),
        ("18-digits", "free", {"memory.max": "999999999999999999\n"}, 999999999999999999 * 80 // 100),
        ("zero", "free", {"memory.max": "0\n"}, 64 * mib * 80 // 100),
        ("garbage", "free", {"memory.max": "lots\n"}, 64 * mib * 80 // 100),
        ("none", "pro", {}, 1024 * mib // 2),
        ("v2-first", "pro", {"memory.max": "104857600\n", "memory/memory.limit_in_bytes": "1\n"},
         104857600 // 2),
    ]
    for label, plan, files, want in cases:
        rc, config, _ = run_script(tmp, plan, label, {}, files)
        check(rc == 0 and config is not None and config.get("maxmemory") == str(want),
              "cgroup %s (%s): maxmemory %d" % (label, plan, want))

    rc, config, _ = run_script(tmp, "pro", "replica", {"HOSTNAME": NAME + "-2"}, {})
    check(rc == 0 and config.get("replicaof") == "primary.example 6379" and config.get("replica-read-only") == "yes",
          "pro pod 2 replicates VALKEY_PRIMARY_HOST on VALKEY_PORT")
    rc, config, _ = run_script(tmp, "pro", "replica-port", {"HOSTNAME": NAME + "-1", "VALKEY_PRIMARY_PORT": "7000"},
                               {})
    check(rc == 0 and config.get("replicaof") == "primary.example 7000", "VALKEY_PRIMARY_PORT is honoured")
    rc, config, _ = run_script(tmp, "standard", "one-replica", {"HOSTNAME": NAME + "-1"}, {})
    check(rc == 0 and "replicaof" not in config, "a one-replica plan never replicates, whatever its ordinal")

    refusals = [
        ("no-password", "free", {"VALKEY_PASSWORD": None}),
        ("empty-password", "free", {"VALKEY_PASSWORD": ""}),
        ("password-space", "free", {"VALKEY_PASSWORD": PASSWORD[:16] + " " + PASSWORD[16:]}),
        ("password-quote", "free", {"VALKEY_PASSWORD": PASSWORD[:16] + '"' + PASSWORD[16:]}),
        ("password-newline", "free", {"VALKEY_PASSWORD": PASSWORD[:16] + "\nrequirepass x" + PASSWORD[16:]}),
        ("bad-port", "free", {"VALKEY_PORT": "63a9"}),
        ("bad-bind", "free", {"VALKEY_BIND": "127.0.0.1\nrequirepass x"}),
        ("relative-data", "free", {"VALKEY_DATA_DIR": "data"}),
        ("replica-no-primary", "pro", {"HOSTNAME": NAME + "-1", "VALKEY_PRIMARY_HOST": None}),
        ("no-ordinal", "pro", {"HOSTNAME": "valkey"}),
    ]
    for label, plan, extra in refusals:
        rc, config, output = run_script(tmp, plan, label, extra, {})
        check(rc != 0 and config is None and not os.path.exists(os.path.join(tmp, "logic", label, "run", "valkey.conf")),
              "refused before writing anything: %s" % label)
        check(PASSWORD not in output, "%s: the password is not in the output" % label)


def check_replication(tmp, bindir, shell):
    primary = Server(tmp, bindir, shell, "pro", "repl-0", NAME + "-0")
    servers = [primary]
    try:
        require(primary.wait_ready(), "pro pod 0 starts")
        c = container("pro")
        check(container_env(c)["VALKEY_PRIMARY_HOST"] ==
              "%s-0.%s-headless.%s.svc.cluster.local" % (NAME, NAME, NS),
              "VALKEY_PRIMARY_HOST is pod 0's DNS name")
        for i in (1, 2):
            r = Server(tmp, bindir, shell, "pro", "repl-%d" % i, "%s-%d" % (NAME, i), primary_port=primary.port)
            servers.append(r)
            require(r.wait_ready(), "pro pod %d starts" % i)
            check(r.config("replicaof") == "127.0.0.1 %d" % primary.port, "pod %d replicates pod 0" % i)
            check(r.config("replica-read-only") == "yes", "pod %d is read-only" % i)
        check(primary.cli("set", "replicated", "hello") == "OK", "a write on pod 0")
        for r in servers[1:]:
            check(poll(lambda: r.cli("get", "replicated") == "hello"), "%s reads it" % r.label)
            check("master_link_status:up" in r.cli("info", "replication"), "%s has its link up" % r.label)
            check("READONLY" in r.cli("set", "x", "y"), "%s refuses writes" % r.label)
    finally:
        for s in reversed(servers):
            s.stop()


def show_naive_aof_start(tmp, bindir, data):
    """What the start script avoids: the server started with appendonly yes on an RDB-only directory (informative)."""
    control = os.path.join(tmp, "aof-control")
    shutil.copytree(data, control)
    port = free_port()
    log = open(os.path.join(tmp, "aof-control.log"), "w")
    proc = subprocess.Popen([os.path.join(bindir, "valkey-server"), "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", control, "--appendonly", "yes", "--save", ""],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(proc)
    try:
        def dbsize():
            out = subprocess.run([os.path.join(bindir, "valkey-cli"), "-p", str(port), "dbsize"],
                                 capture_output=True, text=True, timeout=10)
            return out.stdout.strip()
        if poll(lambda: dbsize().isdigit(), timeout=WAIT):
            size = dbsize()
            print("# note: this server, started plainly with appendonly yes on the RDB-only data, has %s keys "
                  "(the start script's procedure keeps all 200)" % size)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT)
        log.close()


def check_aof_over_rdb(tmp, bindir, shell):
    data = os.path.join(tmp, "aof-data")
    os.mkdir(data)
    standard = Server(tmp, bindir, shell, "standard", "aof-standard", NAME + "-0", data_dir=data)
    try:
        require(standard.wait_ready(), "standard starts")
        for i in range(200):
            standard.cli("set", "key:%d" % i, "value %d" % i)
        check(standard.cli("dbsize") == "200", "200 keys written on standard")
        standard.cli("shutdown", "save")
        standard.proc.wait(timeout=WAIT)
    finally:
        standard.stop()
    require(os.path.exists(os.path.join(data, "dump.rdb")), "standard left dump.rdb on shutdown")
    show_naive_aof_start(tmp, bindir, data)

    pro = Server(tmp, bindir, shell, "pro", "aof-pro", NAME + "-0", data_dir=data)
    try:
        require(pro.wait_ready(), "pro starts on standard's data")
        check(pro.cli("dbsize") == "200" and pro.cli("get", "key:199") == "value 199",
              "pro loaded the 200 keys from dump.rdb")
        check(poll(lambda: pro.config("appendonly") == "yes"), "pro turned appendonly on after the load")
        manifest = os.path.join(data, "appendonlydir", "appendonly.aof.manifest")
        check(poll(lambda: os.path.exists(manifest) and "aof_rewrite_in_progress:0" in pro.cli("info", "persistence")),
              "the AOF was rewritten from the dataset")
        check(pro.cli("set", "after", "aof") == "OK", "a write after the switch")
        check(pro.cli("dbsize") == "201", "201 keys")
    finally:
        pro.stop()

    again = Server(tmp, bindir, shell, "pro", "aof-pro-again", NAME + "-0", data_dir=data)
    try:
        require(again.wait_ready(), "pro restarts")
        check(again.config("appendonly") == "yes", "the restart has AOF on from the start")
        check(again.cli("dbsize") == "201" and again.cli("get", "after") == "aof",
              "every key survived, the last one from the AOF")
    finally:
        again.stop()
    with open(again.log_path) as f:
        check("turning it on once" not in f.read(), "the restart did not need the RDB procedure again")


def shells():
    found = [["/bin/sh"]]
    busybox = shutil.which("busybox")
    if busybox:
        found.append([busybox, "sh"])
    dash = shutil.which("dash")
    if dash and os.path.realpath("/bin/sh") != os.path.realpath(dash):
        found.append([dash])
    return found


def main():
    if not os.access(DUMP, os.X_OK):
        print("dump_objects not built: " + DUMP)
        return 1
    tmp = tempfile.mkdtemp(prefix="valkeyaddon-start-")
    try:
        bindir = find_servers(tmp)
        if not bindir:
            print("no valkey-server/redis-server and valkey-cli/redis-cli installed")
            return 1 if os.environ.get("VALKEYADDON_REQUIRE_REDIS") == "1" else 77
        print("# server: " + os.readlink(os.path.join(bindir, "valkey-server")))
        check_probe_replies(tmp, bindir)
        check_tree_file(tmp)
        check_script_logic(tmp)
        for shell in shells():
            print("# shell: " + " ".join(shell))
            check_builtins(shell)
            for plan in PLANS:
                try:
                    check_plan(tmp, bindir, shell, plan)
                except Failed:
                    pass
        for test in (check_replication, check_aof_over_rdb):
            try:
                test(tmp, bindir, ["/bin/sh"])
            except Failed:
                pass
    finally:
        code = finish(tmp)
    return code


if __name__ == "__main__":
    run_main(main, 600)
