"""The shared library and exact ctypes mirrors of the public C structs.

Every struct here copies include/valkeyaddon/*.h member for member (the tests
compile a C program that prints each offsetof() and compare). Members are only
ever appended in C, so a struct here may describe an older version than the
library knows; it must never describe a newer one. Each struct's VERSION is the
version these members describe and is what the binding writes into `version`.
"""

import ctypes
import ctypes.util
import os

# ---------------------------------------------------------------- loading

_NAME = "libvalkeyaddon.so.0"


def _load():
    path = os.environ.get("VALKEYADDON_LIBRARY")
    if path:
        return ctypes.CDLL(path), path
    found = ctypes.util.find_library("valkeyaddon")
    candidates = [c for c in (found, _NAME) if c]
    error = None
    for candidate in candidates:
        try:
            return ctypes.CDLL(candidate), candidate
        except OSError as e:  # try the next name
            error = e
    raise ImportError(
        f"valkeyaddon: cannot load {_NAME} ({error}); install libvalkeyaddon or set "
        "VALKEYADDON_LIBRARY to the library's path") from error


lib, LIBRARY_PATH = _load()

# ---------------------------------------------------------------- constants (append-only in C)

NAME_BUFSIZE = 128
LABEL_BUFSIZE = 64
ADDON_TYPE_BUFSIZE = 32
STATUS_MESSAGE_BUFSIZE = 512
REMOVE_ORPHAN = 1

# ---------------------------------------------------------------- opaque handles and callbacks

ctx_p = ctypes.c_void_p      # valkeyaddon_ctx *
buffer_p = ctypes.c_void_p   # valkeyaddon_buffer *

LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class CtxOptions(ctypes.Structure):
    """valkeyaddon_ctx_options (context.h)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("log_level", ctypes.c_int),
                ("log_cb", LOG_CB),
                ("log_payload", ctypes.c_void_p)]


class PlanConfig(ctypes.Structure):
    """valkeyaddon_plan_config (plans.h)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("plan", ctypes.c_char * 16),
                ("fell_back", ctypes.c_int),
                ("replicas", ctypes.c_int32),
                ("memory_limit_bytes", ctypes.c_int64),
                ("memory_limit", ctypes.c_char * 16),
                ("memory_request_bytes", ctypes.c_int64),
                ("memory_request", ctypes.c_char * 16),
                ("persistence", ctypes.c_int32),
                ("persistence_name", ctypes.c_char * 16),
                ("save", ctypes.c_char * 48),
                ("appendonly", ctypes.c_int),
                ("appendfsync", ctypes.c_char * 16),
                ("maxmemory_percent", ctypes.c_int32),
                ("maxmemory_policy", ctypes.c_char * 32),
                ("cpu_request_millis", ctypes.c_int32),
                ("cpu_limit_millis", ctypes.c_int32),
                ("volume_size_bytes", ctypes.c_int64),
                ("volume_size", ctypes.c_char * 16)]


class EnsureResult(ctypes.Structure):
    """valkeyaddon_ensure_result (ensure.h)."""
    VERSION = 2
    _fields_ = [("version", ctypes.c_uint),
                ("name", ctypes.c_char * NAME_BUFSIZE),
                ("auth_secret", ctypes.c_char * NAME_BUFSIZE),
                ("plan", ctypes.c_char * 16),
                ("fell_back", ctypes.c_int),
                ("password_created", ctypes.c_int),
                ("objects_written", ctypes.c_int32),
                ("plan_kept", ctypes.c_int),
                ("password_rollout", ctypes.c_int)]


class StatusInfo(ctypes.Structure):
    """valkeyaddon_status_info (rollout.h)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("status", ctypes.c_int),
                ("rollout_complete", ctypes.c_int),
                ("desired", ctypes.c_int32),
                ("ready", ctypes.c_int32),
                ("updated", ctypes.c_int32),
                ("generation", ctypes.c_int64),
                ("observed_generation", ctypes.c_int64),
                ("message", ctypes.c_char * 256)]


class AddonRow(ctypes.Structure):
    """valkeyaddon_addon_row (sys/storage.h)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("app_id", ctypes.c_char * LABEL_BUFSIZE),
                ("addon_type", ctypes.c_char * ADDON_TYPE_BUFSIZE),
                ("tenant_id", ctypes.c_char * LABEL_BUFSIZE),
                ("plan", ctypes.c_char * 16),
                ("status", ctypes.c_int),
                ("status_message", ctypes.c_char * STATUS_MESSAGE_BUFSIZE),
                ("resource_name", ctypes.c_char * NAME_BUFSIZE),
                ("namespace_", ctypes.c_char * LABEL_BUFSIZE),
                ("created_at", ctypes.c_int64),
                ("updated_at", ctypes.c_int64)]


PROGRESS_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(StatusInfo), ctypes.c_void_p)
ROW_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(AddonRow), ctypes.c_void_p)


class ProvisionOptions(ctypes.Structure):
    """valkeyaddon_provision_options (provision.h)."""
    VERSION = 2
    _fields_ = [("version", ctypes.c_uint),
                ("namespace_", ctypes.c_char_p),
                ("tenant_id", ctypes.c_char_p),
                ("app_id", ctypes.c_char_p),
                ("addon_type", ctypes.c_char_p),
                ("plan", ctypes.c_char_p),
                ("no_wait", ctypes.c_int),
                ("timeout_ms", ctypes.c_long),
                ("progress", PROGRESS_CB),
                ("progress_payload", ctypes.c_void_p),
                ("allow_data_loss", ctypes.c_int)]


class DeprovisionOptions(ctypes.Structure):
    """valkeyaddon_deprovision_options (ensure.h, 1.1)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("namespace_", ctypes.c_char_p),
                ("tenant_id", ctypes.c_char_p),
                ("app_id", ctypes.c_char_p),
                ("delete_data", ctypes.c_int)]


class DeprovisionResult(ctypes.Structure):
    """valkeyaddon_deprovision_result (ensure.h, 1.1)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("deleted", ctypes.c_int32),
                ("claims_deleted", ctypes.c_int32),
                ("claims_kept", ctypes.c_int32),
                ("kept_claims", ctypes.c_char * 512)]


class KubernetesOptions(ctypes.Structure):
    """valkeyaddon_kubernetes_options (transports.h)."""
    VERSION = 2
    _fields_ = [("version", ctypes.c_uint),
                ("kubeconfig", ctypes.c_char_p),
                ("context", ctypes.c_char_p),
                ("in_cluster", ctypes.c_int),
                ("insecure_skip_tls_verify", ctypes.c_int),
                ("connect_timeout_ms", ctypes.c_long),
                ("request_timeout_ms", ctypes.c_long),
                ("retry_deadline_ms", ctypes.c_long),
                ("max_response_bytes", ctypes.c_size_t),
                ("max_watch_event_bytes", ctypes.c_size_t),
                ("allow_insecure_http", ctypes.c_int)]


class LocalOptions(ctypes.Structure):
    """valkeyaddon_local_options (transports.h)."""
    VERSION = 2
    _fields_ = [("version", ctypes.c_uint),
                ("state_dir", ctypes.c_char_p),
                ("server_path", ctypes.c_char_p),
                ("start_timeout_ms", ctypes.c_long),
                ("lock_timeout_ms", ctypes.c_long)]


class PostgresOptions(ctypes.Structure):
    """valkeyaddon_postgres_options (storages.h)."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("conninfo", ctypes.c_char_p),
                ("application_name", ctypes.c_char_p),
                ("connect_timeout_s", ctypes.c_int32)]


class ObjectOptions(ctypes.Structure):
    """valkeyaddon_object_options (objects.h)."""
    VERSION = 2
    _fields_ = [("version", ctypes.c_uint),
                ("image", ctypes.c_char_p),
                ("exporter_image", ctypes.c_char_p),
                ("cluster_domain", ctypes.c_char_p),
                ("storage_class", ctypes.c_char_p),
                ("field_manager", ctypes.c_char_p),
                ("app_label", ctypes.c_char_p),
                ("monitoring_namespace", ctypes.c_char_p),
                ("no_exporter", ctypes.c_int),
                ("pod_disruption_budget", ctypes.c_int),
                ("network_policy", ctypes.c_int),
                ("service_monitor", ctypes.c_int),
                ("no_network_policy", ctypes.c_int)]


class Resource(ctypes.Structure):
    """valkeyaddon_resource (sys/transport.h)."""
    _fields_ = [("api_version", ctypes.c_char_p),
                ("kind", ctypes.c_char_p),
                ("plural", ctypes.c_char_p),
                ("namespaced", ctypes.c_int)]


# Transport members. `self` is declared void * (the struct is not complete yet, and the
# binding finds its Python object through a closure, not through the pointer). Bodies are
# (pointer, length) pairs, read with ctypes.string_at so no NUL is assumed.
res_p = ctypes.POINTER(Resource)
WATCH_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
T_GET = ctypes.CFUNCTYPE(ctypes.c_int, buffer_p, ctypes.c_void_p, ctx_p, res_p, ctypes.c_char_p, ctypes.c_char_p)
T_CREATE = ctypes.CFUNCTYPE(ctypes.c_int, buffer_p, ctypes.c_void_p, ctx_p, res_p, ctypes.c_char_p,
                            ctypes.c_void_p, ctypes.c_size_t)
T_APPLY = ctypes.CFUNCTYPE(ctypes.c_int, buffer_p, ctypes.c_void_p, ctx_p, res_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int)
T_REMOVE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctx_p, res_p, ctypes.c_char_p, ctypes.c_char_p,
                            ctypes.c_uint)
T_WATCH = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctx_p, res_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_char_p, ctypes.c_long, WATCH_CB, ctypes.c_void_p)
T_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
T_ADDRESS = ctypes.CFUNCTYPE(ctypes.c_int, buffer_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_void_p, ctx_p,
                             ctypes.c_char_p, ctypes.c_char_p)


class TransportVTable(ctypes.Structure):
    """valkeyaddon_transport (sys/transport.h), version 2 (with `address`)."""
    VERSION = 2
    _fields_ = [("version", ctypes.c_uint),
                ("user_data", ctypes.c_void_p),
                ("get", T_GET),
                ("create", T_CREATE),
                ("apply", T_APPLY),
                ("remove", T_REMOVE),
                ("watch", T_WATCH),
                ("free", T_FREE),
                ("address", T_ADDRESS)]


row_p = ctypes.POINTER(AddonRow)
S_MIGRATE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctx_p)
S_UPSERT = ctypes.CFUNCTYPE(ctypes.c_int, row_p, ctypes.c_void_p, ctx_p, row_p)
S_GET = ctypes.CFUNCTYPE(ctypes.c_int, row_p, ctypes.c_void_p, ctx_p, ctypes.c_char_p, ctypes.c_char_p)
S_SET_STATUS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctx_p, ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.c_int, ctypes.c_char_p)
S_REMOVE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctx_p, ctypes.c_char_p, ctypes.c_char_p)
S_LIST = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctx_p, ctypes.c_char_p, ROW_CB, ctypes.c_void_p)
S_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class StorageVTable(ctypes.Structure):
    """valkeyaddon_storage (sys/storage.h), version 1."""
    VERSION = 1
    _fields_ = [("version", ctypes.c_uint),
                ("user_data", ctypes.c_void_p),
                ("migrate", S_MIGRATE),
                ("upsert", S_UPSERT),
                ("get", S_GET),
                ("set_status", S_SET_STATUS),
                ("remove", S_REMOVE),
                ("list", S_LIST),
                ("free", S_FREE)]


# What a built-in constructor hands back: a pointer to a vtable the caller owns.
transport_p = ctypes.POINTER(TransportVTable)
storage_p = ctypes.POINTER(StorageVTable)

# ---------------------------------------------------------------- prototypes

_c = ctypes
_PROTOTYPES = {
    "valkeyaddon_version": (_c.c_char_p, [_c.POINTER(_c.c_int)] * 3),
    "valkeyaddon_strerror": (_c.c_char_p, [_c.c_int]),
    "valkeyaddon_ctx_options_init": (_c.c_int, [_c.POINTER(CtxOptions), _c.c_uint]),
    "valkeyaddon_ctx_new": (_c.c_int, [_c.POINTER(ctx_p), _c.POINTER(CtxOptions)]),
    "valkeyaddon_ctx_free": (None, [ctx_p]),
    "valkeyaddon_ctx_error_message": (_c.c_char_p, [ctx_p]),
    "valkeyaddon_ctx_error_code": (_c.c_int, [ctx_p]),
    "valkeyaddon_ctx_clear_error": (None, [ctx_p]),
    "valkeyaddon_ctx_set_log": (_c.c_int, [ctx_p, _c.c_int, LOG_CB, _c.c_void_p]),
    "valkeyaddon_ctx_set_error": (_c.c_int, [ctx_p, _c.c_int, _c.c_char_p]),
    "valkeyaddon_ctx_set_transport": (_c.c_int, [ctx_p, _c.c_void_p]),
    "valkeyaddon_ctx_set_storage": (_c.c_int, [ctx_p, _c.c_void_p]),
    "valkeyaddon_ctx_set_object_options": (_c.c_int, [ctx_p, _c.POINTER(ObjectOptions)]),
    "valkeyaddon_buffer_new": (_c.c_int, [_c.POINTER(buffer_p)]),
    "valkeyaddon_buffer_free": (None, [buffer_p]),
    "valkeyaddon_buffer_data": (_c.c_void_p, [buffer_p, _c.POINTER(_c.c_size_t)]),
    "valkeyaddon_buffer_set": (_c.c_int, [buffer_p, _c.c_char_p, _c.c_size_t]),
    "valkeyaddon_check_id": (_c.c_int, [ctx_p, _c.c_char_p, _c.c_char_p]),
    "valkey_name": (_c.c_int, [_c.c_char_p, _c.c_size_t, ctx_p, _c.c_char_p, _c.c_char_p]),
    "valkeyaddon_auth_secret_name": (_c.c_int, [_c.c_char_p, _c.c_size_t, ctx_p, _c.c_char_p]),
    "valkeyaddon_redis_url_secret_name": (_c.c_int, [_c.c_char_p, _c.c_size_t, ctx_p, _c.c_char_p]),
    "valkey_plan_config": (_c.c_int, [_c.POINTER(PlanConfig), ctx_p, _c.c_char_p]),
    "valkeyaddon_plan_count": (_c.c_size_t, []),
    "valkeyaddon_plan_name": (_c.c_char_p, [_c.c_size_t]),
    "parse_valkey_status": (_c.c_int, [_c.c_int32, _c.c_int32]),
    "valkeyaddon_status_name": (_c.c_char_p, [_c.c_int]),
    "ensure_valkey": (_c.c_int, [_c.POINTER(EnsureResult), ctx_p, _c.c_char_p, _c.c_char_p, _c.c_char_p,
                                 _c.c_char_p]),
    "ensure_redis_url_secret": (_c.c_int, [ctx_p, _c.c_char_p, _c.c_char_p, _c.c_char_p]),
    "valkeyaddon_deprovision": (_c.c_int, [_c.POINTER(_c.c_int), ctx_p, _c.c_char_p, _c.c_char_p, _c.c_char_p]),
    "valkeyaddon_deprovision_with": (_c.c_int, [_c.POINTER(DeprovisionResult), ctx_p,
                                                _c.POINTER(DeprovisionOptions)]),
    "valkeyaddon_redis_url": (_c.c_int, [buffer_p, ctx_p, _c.c_char_p, _c.c_char_p, _c.c_char_p]),
    "valkeyaddon_addon_status": (_c.c_int, [_c.POINTER(StatusInfo), ctx_p, _c.c_char_p, _c.c_char_p,
                                            _c.c_char_p]),
    "valkeyaddon_wait_ready": (_c.c_int, [_c.POINTER(StatusInfo), ctx_p, _c.c_char_p, _c.c_char_p, _c.c_char_p,
                                          _c.c_long, PROGRESS_CB, _c.c_void_p]),
    "valkeyaddon_provision": (_c.c_int, [_c.POINTER(AddonRow), _c.POINTER(EnsureResult), ctx_p,
                                         _c.POINTER(ProvisionOptions)]),
    "valkeyaddon_refresh_status": (_c.c_int, [_c.POINTER(AddonRow), _c.POINTER(StatusInfo), ctx_p, _c.c_char_p,
                                              _c.c_char_p, _c.c_char_p]),
    "valkeyaddon_addon_get": (_c.c_int, [_c.POINTER(AddonRow), ctx_p, _c.c_char_p, _c.c_char_p]),
    "valkeyaddon_addon_list": (_c.c_int, [ctx_p, _c.c_char_p, ROW_CB, _c.c_void_p]),
    "valkeyaddon_storage_migrate": (_c.c_int, [ctx_p]),
    "valkeyaddon_transport_memory_new": (_c.c_int, [_c.POINTER(transport_p)]),
    "valkeyaddon_transport_kubernetes_new": (_c.c_int, [_c.POINTER(transport_p), ctx_p,
                                                        _c.POINTER(KubernetesOptions)]),
    "valkeyaddon_transport_kubernetes_namespace": (_c.c_char_p, [transport_p]),
    "valkeyaddon_transport_local_new": (_c.c_int, [_c.POINTER(transport_p), ctx_p, _c.POINTER(LocalOptions)]),
    "valkeyaddon_storage_memory_new": (_c.c_int, [_c.POINTER(storage_p)]),
    "valkeyaddon_storage_sqlite_new": (_c.c_int, [_c.POINTER(storage_p), ctx_p, _c.c_char_p]),
    "valkeyaddon_storage_postgres_new": (_c.c_int, [_c.POINTER(storage_p), ctx_p, _c.POINTER(PostgresOptions)]),
    "valkeyaddon_storage_open": (_c.c_int, [_c.POINTER(storage_p), ctx_p, _c.c_char_p]),
}


class _Functions:
    """The library's functions with prototypes; a symbol this library build lacks is None."""


fn = _Functions()
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    try:
        _f = getattr(lib, _name)
    except AttributeError:  # an older library: the wrapper raises NotSupported
        setattr(fn, _name, None)
        continue
    _f.restype = _restype
    _f.argtypes = _argtypes
    setattr(fn, _name, _f)


def has(name):
    """True when the loaded library exports the named function."""
    return getattr(fn, name, None) is not None


def text(value):
    """bytes from a C char array or char * as str (None stays None)."""
    return None if value is None else value.decode("utf-8", "replace")


def encode(value, argument):
    """A str argument as NUL-terminated UTF-8 (None stays NULL)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        raise TypeError(f"{argument}: expected str, got {type(value).__name__}")
    if b"\0" in data:
        raise ValueError(f"{argument}: must not contain NUL")
    return data
