"""Shared fixtures. Run with the library to test in VALKEYADDON_LIBRARY and the package on
PYTHONPATH (tests/bindings/test_python.sh does both for `make check`)."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
sys.path.insert(0, HERE)  # the helpers beside the tests (dict plugins, the HTTPS transport)

import valkeyaddon  # noqa: E402


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
