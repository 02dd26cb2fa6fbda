"""Skips that cannot pass for a success, for the unittest-based tests.

unittest exits 0 when a test, a class or the whole module (SkipTest in setUpModule)
was skipped, and automake then records a PASS. Here:
  - require()/requires(): a missing dependency skips, unless CI's VALKEYADDON_REQUIRE_*
    variable for it is 1: then it is a failure (scripts/test.sh sets them all);
  - main(): unittest.main, then exit 77 (automake's SKIP) when anything was skipped,
    naming each skipped test and its reason on a "SKIP:" line (scripts/test.sh reports
    those lines); 1 on a failure or when no test ran; 0 only when every test ran and passed.
"""

import functools
import os
import sys
import unittest


def required(variable):
    """True when CI asks for the dependency (`variable` set to 1)."""
    return os.environ.get(variable) == "1"


def require(available, variable, reason):
    """Skip (or fail, when `variable` is 1) unless `available`; for setUpModule, setUpClass, setUp."""
    if available:
        return
    if required(variable):
        raise AssertionError(f"{reason} ({variable}=1: a failure, not a skip)")
    raise unittest.SkipTest(reason)


def requires(available, variable, reason):
    """Decorator form of require() for one test method."""
    def decorate(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            require(available, variable, reason)
            return test(*args, **kwargs)
        return run
    return decorate


def main():
    """Run the calling module's tests and exit with automake's status for them."""
    result = unittest.main(module="__main__", verbosity=2, exit=False).result
    sys.stdout.flush()
    if result.failures or result.errors or result.unexpectedSuccesses:
        sys.exit(1)
    if result.skipped:
        for test, reason in result.skipped:
            print(f"SKIP: {test.id()}: {reason}")
        sys.exit(77)
    if not result.testsRun:
        print("FAIL: no test ran")
        sys.exit(1)
    sys.exit(0)
