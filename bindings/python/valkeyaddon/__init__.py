"""Python binding of libvalkeyaddon over its stable C ABI (ctypes; no compiler needed).

    import valkeyaddon
    with valkeyaddon.Context(transport=valkeyaddon.MemoryTransport(),
                             storage=valkeyaddon.MemoryStorage()) as ctx:
        result = ctx.provision("tenant-ns", "acme", "web", plan="standard", timeout=300)

The shared library is found through $VALKEYADDON_LIBRARY (a path), else
ctypes.util.find_library("valkeyaddon"), else "libvalkeyaddon.so.0".
"""

from . import _lib
from .builtins import (KubernetesTransport, LocalTransport, MemoryStorage, MemoryTransport, PostgresStorage,
                       SQLiteStorage, URLStorage, open_storage)
from .context import Context, LogLevel
from .errors import (AddonFailed, ConfigError, Conflict, Error, Exists, FileError, Forbidden, InvalidArgument,
                     NotFound, NotSupported, DataLoss, OutOfMemory, Rejected, ServerError, StorageError, Throttled, Timeout,
                     TLSError, Unauthorized, Unavailable, VersionMismatch, strerror)
from .plugins import Storage, Transport
from .types import (AddonRow, EnsureResult, Persistence, PlanConfig, ProvisionResult, RefreshResult, Resource,
                    Status, StatusInfo, ValkeyName, WatchEvent)

ADDON_TYPE = "valkey"
LIBRARY_PATH = _lib.LIBRARY_PATH


def version():
    """The loaded library's version: ("0.1.0", (0, 1, 0))."""
    import ctypes
    major, minor, patch = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    text = _lib.text(_lib.fn.valkeyaddon_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch)))
    return text, (major.value, minor.value, patch.value)


def parse_valkey_status(ready, desired):
    """The spec's projection of StatefulSet readiness into a Status."""
    rc = _lib.fn.parse_valkey_status(int(ready), int(desired))
    if rc < 0:
        raise Error.from_code(rc, f"parse_valkey_status: counts must not be negative (ready={ready}, "
                                  f"desired={desired})")
    return Status(rc)


def plan_names():
    """The plans this library knows, in the spec's order."""
    return [_lib.text(_lib.fn.valkeyaddon_plan_name(i)) for i in range(_lib.fn.valkeyaddon_plan_count())]


def valkey_name(tenant_id, app_id):
    """The StatefulSet name (a str with `.shortened`), through a short-lived Context."""
    with Context() as ctx:
        return ctx.valkey_name(tenant_id, app_id)


def plan_config(plan):
    """A plan's PlanConfig, through a short-lived Context."""
    with Context() as ctx:
        return ctx.plan_config(plan)


def has_function(name):
    """True when the loaded library exports the named C function (older builds lack newer ones)."""
    return _lib.has(name)


__all__ = [
    "ADDON_TYPE", "LIBRARY_PATH", "AddonFailed", "AddonRow", "ConfigError", "Conflict", "Context", "EnsureResult",
    "Error", "Exists", "FileError", "Forbidden", "InvalidArgument", "KubernetesTransport", "LocalTransport",
    "LogLevel", "MemoryStorage", "MemoryTransport", "NotFound", "NotSupported", "DataLoss", "OutOfMemory", "Persistence",
    "PlanConfig", "PostgresStorage", "ProvisionResult", "RefreshResult", "Rejected", "Resource",
    "SQLiteStorage", "ServerError", "Status", "StatusInfo", "Storage", "StorageError", "TLSError", "Throttled",
    "Timeout", "Transport", "URLStorage", "Unauthorized", "Unavailable", "ValkeyName", "VersionMismatch",
    "WatchEvent", "has_function", "open_storage", "parse_valkey_status", "plan_config", "plan_names",
    "strerror", "valkey_name", "version",
]
