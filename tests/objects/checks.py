"""The "ok - / FAIL - " harness of the object tests that run real processes
(test_start_script.py, test_exporter.py): checks that go on after a failure,
secrets redacted from everything printed, every process started killed at
the end, and a time limit on the whole run.
"""

import os
import shutil
import signal
import socket
import sys

processes = []  # Popen objects started in their own process group: killed by finish()
failures = []
_redactions = []  # (secret, what to print instead)


def redact_also(secret, label):
    _redactions.append((secret, label))


def redact(text):
    for secret, label in _redactions:
        text = text.replace(secret, label)
    return text


def check(condition, what):
    print(("ok - " if condition else "FAIL - ") + redact(what))
    if not condition:
        failures.append(what)
    return condition


class Failed(Exception):
    pass


def require(condition, what):
    if not check(condition, what):
        raise Failed(what)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finish(tmp):
    """Kill what is still running, remove tmp; the exit code of the run."""
    for p in processes:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


def _on_signal(signum, frame):
    raise SystemExit("interrupted by signal %d" % signum)


def run_main(main, seconds):
    """sys.exit(main()), ended by SIGALRM after seconds (and cleanly by SIGTERM)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.alarm(seconds)
    sys.exit(main())
