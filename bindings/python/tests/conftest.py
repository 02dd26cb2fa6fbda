"""Shared fixtures. Run with the library to test in VALKEYADDON_LIBRARY and the package on
PYTHONPATH (tests/bindings/test_python.sh does both for `make check`).

No skip passes for a success: under VALKEYADDON_REQUIRE_PYTHON_BINDING=1 (CI) a skipped test
is a failure, and otherwise a run that skipped anything exits 77, so that automake reports
SKIP; `-rs` names each skipped test and its reason."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
sys.path.insert(0, HERE)  # the helpers beside the tests (dict plugins, the HTTPS transport)

import valkeyaddon  # noqa: E402

REQUIRE = "VALKEYADDON_REQUIRE_PYTHON_BINDING"
SKIPPED = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        if os.environ.get(REQUIRE) == "1":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            report.outcome = "failed"
            report.longrepr = f"skipped, and {REQUIRE}=1 makes a skip a failure: {reason}"
        else:
            SKIPPED.append(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and SKIPPED:
        session.exitstatus = 77


@pytest.fixture(scope="session")
def vectors():
    with open(os.path.join(TOP_SRCDIR, "tests", "vectors", "vectors.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture
def ctx():
    with valkeyaddon.Context() as c:
        yield c


@pytest.fixture
def memory_ctx():
    with valkeyaddon.Context(transport=valkeyaddon.MemoryTransport(), storage=valkeyaddon.MemoryStorage()) as c:
        yield c
