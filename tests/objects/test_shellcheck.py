#!/usr/bin/env python3
"""shellcheck -s sh over the scripts that run inside pods, as files and as rendered.

1. Every .sh file under libvalkeyaddon/ (the pod scripts, such as the start
   script, and the build's generators), with all of shellcheck's checks but
   those a file disables itself, each with a comment saying why.
2. For every plan, the start script as the StatefulSet carries it (the plan's
   assignments, then the embedded body), with SC2154 only: start.sh disables
   SC2154 for the plan variables the library prepends, which would also hide a
   misspelt variable; in the rendered script they are assigned, so every
   variable it reads must be assigned somewhere.
3. The readiness and liveness probe commands (C strings: one-liners), with
   all checks.

Without shellcheck (Debian package shellcheck) the test is skipped (77),
unless VALKEYADDON_REQUIRE_SHELLCHECK=1 or VALKEYADDON_REQUIRE_SCHEMA=1: then
it fails. SHELLCHECK names another binary.
"""
import json
import os
import secrets
import shutil
import string
import subprocess
import sys

TOP_SRCDIR = os.environ.get("top_srcdir", ".")
TOP_BUILDDIR = os.environ.get("top_builddir", ".")
DUMP = os.path.join(TOP_BUILDDIR, "tests", "objects", "dump_objects")
# A throwaway password for dump_objects, never printed.
PASSWORD = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
PLANS = ("free", "standard", "pro")
START_SH = os.path.join("libvalkeyaddon", "objects", "start.sh")

failures = []


def check(condition, what, output=""):
    print(("ok - " if condition else "FAIL - ") + what)
    if not condition:
        failures.append(what)
        if output:
            print(output.replace(PASSWORD, "<password>").rstrip())
    return condition


def shellcheck(shellcheck_bin, args, what, stdin=None):
    """Run shellcheck (-s sh, plus args); a check that it reports nothing."""
    out = subprocess.run([shellcheck_bin, "-s", "sh"] + args, input=stdin, capture_output=True,
                         text=True, timeout=120)
    return check(out.returncode == 0 and not out.stdout.strip(), what, out.stdout + out.stderr)


def tree_scripts():
    """Every .sh file under libvalkeyaddon/, relative to the source tree."""
    found = []
    for root, dirs, files in os.walk(os.path.join(TOP_SRCDIR, "libvalkeyaddon")):
        dirs.sort()
        found += [os.path.relpath(os.path.join(root, f), TOP_SRCDIR) for f in sorted(files) if f.endswith(".sh")]
    return found


def statefulset(plan):
    env = dict(os.environ, DUMP_PASSWORD=PASSWORD)
    out = subprocess.run([DUMP, "--namespace", "tenant-ns", "--tenant", "acme", "--app", "web", "--plan", plan],
                         env=env, capture_output=True, text=True, timeout=30)
    if not check(out.returncode == 0, "%s: dump_objects" % plan, out.stderr):
        return None
    objects = [json.loads(line) for line in out.stdout.splitlines()]
    return [o for o in objects if o["kind"] == "StatefulSet"][0]


def main():
    shellcheck_bin = os.environ.get("SHELLCHECK") or shutil.which("shellcheck")
    if not shellcheck_bin:
        print("shellcheck not found (apt-get install shellcheck)")
        if "1" in (os.environ.get("VALKEYADDON_REQUIRE_SHELLCHECK"), os.environ.get("VALKEYADDON_REQUIRE_SCHEMA")):
            print("VALKEYADDON_REQUIRE_SHELLCHECK/SCHEMA=1: failing instead of skipping")
            return 1
        return 77
    if not os.access(DUMP, os.X_OK):
        print("dump_objects not built: " + DUMP)
        return 1
    print("# " + subprocess.run([shellcheck_bin, "--version"], capture_output=True, text=True).stdout
          .splitlines()[1])

    scripts = tree_scripts()
    check(START_SH in scripts, "the start script is among the files checked: " + " ".join(scripts))
    for path in scripts:
        shellcheck(shellcheck_bin, [os.path.join(TOP_SRCDIR, path)], "shellcheck " + path)

    for plan in PLANS:
        sts = statefulset(plan)
        if sts is None:
            continue
        c = sts["spec"]["template"]["spec"]["containers"][0]
        shellcheck(shellcheck_bin, ["-i", "SC2154", "-"],
                   "%s: every variable the rendered start script reads is assigned" % plan, c["command"][2])
        for probe in ("readinessProbe", "livenessProbe"):
            command = c[probe]["exec"]["command"]
            if check(command[:2] == ["/bin/sh", "-c"], "%s: %s runs /bin/sh -c CHECK" % (plan, probe)):
                shellcheck(shellcheck_bin, ["-"], "%s: shellcheck the %s command" % (plan, probe), command[2])

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
