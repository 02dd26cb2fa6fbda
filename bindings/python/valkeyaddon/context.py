"""valkeyaddon.Context: one valkeyaddon_ctx, with its transport, storage and last error.

Thread contract (the C library's): a Context is used by one thread at a time; different
Contexts are independent and may be used from different threads at once (ctypes releases
the GIL during each library call; callbacks take it back).
"""

import ctypes
import enum

from . import _lib
from .builtins import Builtin, URLStorage
from .errors import EINVAL, Error, InvalidArgument, NotSupported
from .plugins import Storage, StorageAdapter, Transport, TransportAdapter
from .types import (AddonRow, EnsureResult, PlanConfig, ProvisionResult, RefreshResult, StatusInfo,
                    ValkeyName)


class LogLevel(enum.IntEnum):
    """valkeyaddon_log_level."""
    NONE = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    DEBUG = 4


def _b(value, argument):
    return _lib.encode(value, argument)


def _seconds_to_ms(seconds, argument):
    if seconds is None:
        return 0
    if seconds <= 0:
        raise InvalidArgument(f"{argument}: must be positive seconds", code=EINVAL)
    return max(1, int(round(seconds * 1000)))


class Context:
    """A library context. Use it with `with` (closing frees the transport and storage).

    transport: a valkeyaddon.Transport instance or a built-in (MemoryTransport(), ...).
    storage: a valkeyaddon.Storage instance, a built-in, or a URL string (open_storage).
    log: callable(level: LogLevel, message: str), called for messages at or above log_level
    (default WARNING when log is given). Messages never hold a secret.
    """

    def __init__(self, transport=None, storage=None, *, log=None, log_level=None):
        self._ctx = None
        self._pending = []
        self._retired = []
        self._plugins = {}
        self._log_cb = None
        ctx = _lib.ctx_p()
        options = _lib.CtxOptions(version=_lib.CtxOptions.VERSION)  # logging is set below, with a kept callback
        rc = _lib.fn.valkeyaddon_ctx_new(ctypes.byref(ctx), ctypes.byref(options))
        if rc < 0:
            raise Error.from_code(rc, "could not create a context")
        self._ctx = ctx
        try:
            if log is not None or log_level is not None:
                self.set_log(log, LogLevel.WARNING if log_level is None else log_level)
            if transport is not None:
                self.set_transport(transport)
            if storage is not None:
                self.set_storage(storage)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ lifetime

    def close(self):
        """Free the context and everything it owns (the plugins' close() runs here). Idempotent."""
        if self._ctx is None:
            return
        ctx, self._ctx = self._ctx, None
        self._pending = []
        _lib.fn.valkeyaddon_ctx_free(ctx)
        self._plugins.clear()
        self._finish(0)

    @property
    def closed(self):
        return self._ctx is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: S110 - nothing to report to at collection time
            pass

    # ------------------------------------------------------------ errors

    @property
    def error_code(self):
        """The code of the last failure on this context, or 0."""
        return _lib.fn.valkeyaddon_ctx_error_code(self._handle())

    @property
    def error_message(self):
        """The message of the last failure, "" when none; never a secret."""
        return _lib.text(_lib.fn.valkeyaddon_ctx_error_message(self._handle()))

    def _handle(self):
        if self._ctx is None:
            raise InvalidArgument("the context is closed", code=EINVAL)
        return self._ctx

    def _fn(self, name):
        f = getattr(_lib.fn, name, None)
        if f is None:
            raise NotSupported(f"the loaded library ({_lib.LIBRARY_PATH}) does not export {name}; "
                               "install a newer libvalkeyaddon")
        return f

    def _stash(self, exc, droppable):
        """Keep a callback's exception for the caller of the current call."""
        self._pending.append((exc, droppable))

    def _retire(self, adapter):
        # Dropped after the C call that freed it has returned, never inside its own callback.
        self._retired.append(adapter)

    def _finish(self, rc, row=None):
        """Raise what a call ended with: a callback's unexpected exception first (re-raised
        as is, the library's Error attached), else the Error of a negative code, chained
        to the plugin's Error that caused it."""
        pending, self._pending = self._pending, []
        self._retired.clear()
        unexpected = next((e for e, droppable in pending if not droppable), None)
        error = None
        if rc < 0:
            message = _lib.text(_lib.fn.valkeyaddon_ctx_error_message(self._ctx)) if self._ctx else None
            error = Error.from_code(rc, message)
            error.row = row
        if unexpected is not None:
            if error is not None:
                unexpected.valkeyaddon_error = error
                if hasattr(unexpected, "add_note"):
                    unexpected.add_note(f"valkeyaddon: the call failed: {error}")
            raise unexpected
        if error is not None:
            cause = next((e for e, droppable in reversed(pending) if droppable), None)
            raise error from cause
        return rc

    def _check(self, rc, row=None):
        return self._finish(rc, row)

    def _call(self, name, *args, row=None):
        f = self._fn(name)
        self._handle()
        self._pending = []
        return self._finish(f(*args), row)

    # ------------------------------------------------------------ configuration

    def set_log(self, log, level=LogLevel.WARNING):
        """Route the library's log lines to log(level, message); None stops logging."""
        cb = None
        if log is not None:
            def cb_impl(lvl, message, _payload):
                try:
                    log(LogLevel(lvl), _lib.text(message))
                except BaseException as e:  # noqa: B036
                    self._stash(e, droppable=False)
            cb = _lib.LOG_CB(cb_impl)
        self._call("valkeyaddon_ctx_set_log", self._handle(), int(level), cb or _lib.LOG_CB(), None)
        self._log_cb = cb

    def set_transport(self, transport):
        """Give the context a transport (a Transport instance or a built-in); it replaces the old one."""
        return self._install("transport", transport)

    def set_storage(self, storage):
        """Give the context a storage (a Storage instance, a built-in, or a URL string)."""
        if isinstance(storage, str):
            storage = URLStorage(storage)
        return self._install("storage", storage)

    def _install(self, kind, plugin):
        setter = f"valkeyaddon_ctx_set_{kind}"
        base, adapter_class = (Transport, TransportAdapter) if kind == "transport" else (Storage, StorageAdapter)
        self._handle()
        if isinstance(plugin, base):
            adapter = adapter_class(self, plugin)
            self._call(setter, self._ctx, adapter.address())
            self._plugins[kind] = adapter  # alive until the library calls its free
            return plugin
        if isinstance(plugin, Builtin) and plugin.kind == kind:
            self._pending = []
            pointer = plugin._new(self)
            self._pending = []
            rc = self._fn(setter)(self._ctx, ctypes.cast(pointer, ctypes.c_void_p))
            if rc < 0:  # still ours: release it
                pointer.contents.free(ctypes.cast(pointer, ctypes.c_void_p))
            self._finish(rc)
            self._plugins.pop(kind, None)
            return plugin
        raise TypeError(f"{kind}: expected a valkeyaddon.{base.__name__} or a built-in {kind}, "
                        f"got {type(plugin).__name__}")

    def set_object_options(self, image=None, exporter_image=None, cluster_domain=None, storage_class=None,
                           field_manager=None, app_label=None, monitoring_namespace=None, no_exporter=False,
                           pod_disruption_budget=False, network_policy=False, service_monitor=False,
                           no_network_policy=False):
        """Options of the objects every later call writes (None/False: the defaults).

        The NetworkPolicy is built by default (6379 from the namespace's pods);
        network_policy=True narrows it to the app's pods, no_network_policy=True
        leaves it out (docs/objects.md)."""
        o = _lib.ObjectOptions(version=_lib.ObjectOptions.VERSION, image=_b(image, "image"),
                               exporter_image=_b(exporter_image, "exporter_image"),
                               cluster_domain=_b(cluster_domain, "cluster_domain"),
                               storage_class=_b(storage_class, "storage_class"),
                               field_manager=_b(field_manager, "field_manager"),
                               app_label=_b(app_label, "app_label"),
                               monitoring_namespace=_b(monitoring_namespace, "monitoring_namespace"),
                               no_exporter=int(bool(no_exporter)),
                               pod_disruption_budget=int(bool(pod_disruption_budget)),
                               network_policy=int(bool(network_policy)), service_monitor=int(bool(service_monitor)),
                               no_network_policy=int(bool(no_network_policy)))
        self._call("valkeyaddon_ctx_set_object_options", self._handle(), ctypes.byref(o))

    # ------------------------------------------------------------ names and plans

    def check_id(self, value, argument="id"):
        """Raise InvalidArgument unless value is a valid tenant or app id."""
        self._call("valkeyaddon_check_id", self._handle(), _b(argument, "argument"), _b(value, argument))

    def valkey_name(self, tenant_id, app_id):
        """The StatefulSet and Service name (a str with `.shortened`)."""
        out = ctypes.create_string_buffer(_lib.NAME_BUFSIZE)
        rc = self._call("valkey_name", out, len(out), self._handle(), _b(tenant_id, "tenant_id"),
                        _b(app_id, "app_id"))
        return ValkeyName(_lib.text(out.value), rc == 1)

    def auth_secret_name(self, name):
        """`{name}-auth`, for a name valkey_name() gave."""
        out = ctypes.create_string_buffer(_lib.NAME_BUFSIZE)
        self._call("valkeyaddon_auth_secret_name", out, len(out), self._handle(), _b(name, "name"))
        return _lib.text(out.value)

    def redis_url_secret_name(self, app_id):
        """`app-{app_id}-redis-url`."""
        out = ctypes.create_string_buffer(_lib.NAME_BUFSIZE)
        self._call("valkeyaddon_redis_url_secret_name", out, len(out), self._handle(), _b(app_id, "app_id"))
        return _lib.text(out.value)

    def plan_config(self, plan):
        """The PlanConfig of a plan; an unknown plan gives `free` with fell_back=True."""
        c = _lib.PlanConfig(version=_lib.PlanConfig.VERSION)
        self._call("valkey_plan_config", ctypes.byref(c), self._handle(), _b(plan, "plan"))
        return PlanConfig._from_c(c)

    # ------------------------------------------------------------ add-ons

    def _ids(self, namespace, tenant_id, app_id):
        return (self._handle(), _b(namespace, "namespace"), _b(tenant_id, "tenant_id"), _b(app_id, "app_id"))

    def ensure_valkey(self, namespace, tenant_id, app_id, plan="free"):
        """Ensure the add-on's objects (password created once, never rotated)."""
        c = _lib.EnsureResult(version=_lib.EnsureResult.VERSION)
        self._call("ensure_valkey", ctypes.byref(c), *self._ids(namespace, tenant_id, app_id), _b(plan, "plan"))
        return EnsureResult._from_c(c)

    def ensure_redis_url_secret(self, namespace, tenant_id, app_id):
        """Ensure the app-side `app-{app_id}-redis-url` Secret."""
        self._call("ensure_redis_url_secret", *self._ids(namespace, tenant_id, app_id))

    def deprovision(self, namespace, tenant_id, app_id, *, delete_data=False):
        """Delete the add-on's objects (and its row when there is a storage); returns how many were
        deleted. Every object must be this add-on's (else Conflict, nothing deleted); the data volume
        claims are kept (see kept_claims) unless delete_data."""
        return self.deprovision_with(namespace, tenant_id, app_id, delete_data=delete_data)["deleted"]

    def deprovision_with(self, namespace, tenant_id, app_id, *, delete_data=False):
        """valkeyaddon_deprovision_with: a dict with deleted, claims_deleted and kept_claims (names)."""
        handle, ns, tenant, app = self._ids(namespace, tenant_id, app_id)
        o = _lib.DeprovisionOptions(version=_lib.DeprovisionOptions.VERSION, namespace_=ns, tenant_id=tenant,
                                    app_id=app, delete_data=int(bool(delete_data)))
        r = _lib.DeprovisionResult(version=_lib.DeprovisionResult.VERSION)
        self._call("valkeyaddon_deprovision_with", ctypes.byref(r), handle, ctypes.byref(o))
        kept = r.kept_claims.decode()
        return {"deleted": r.deleted, "claims_deleted": r.claims_deleted, "kept_claims": kept.split(",") if kept else []}

    def redis_url(self, namespace, tenant_id, app_id):
        """The app's REDIS_URL. A secret: never log it."""
        buf = _lib.buffer_p()
        self._check(_lib.fn.valkeyaddon_buffer_new(ctypes.byref(buf)))
        try:
            self._call("valkeyaddon_redis_url", buf, *self._ids(namespace, tenant_id, app_id))
            size = ctypes.c_size_t(0)
            data = _lib.fn.valkeyaddon_buffer_data(buf, ctypes.byref(size))
            return ctypes.string_at(data, size.value).decode("utf-8")
        finally:
            _lib.fn.valkeyaddon_buffer_free(buf)  # wipes the copy the library held

    def addon_status(self, namespace, tenant_id, app_id):
        """The add-on's live status (StatusInfo); NotFound when it does not exist."""
        c = _lib.StatusInfo(version=_lib.StatusInfo.VERSION)
        self._call("valkeyaddon_addon_status", ctypes.byref(c), *self._ids(namespace, tenant_id, app_id))
        return StatusInfo._from_c(c)

    def _progress(self, progress):
        if progress is None:
            return _lib.PROGRESS_CB()

        def cb(info, _payload):
            try:
                return 1 if progress(StatusInfo._from_c(info.contents)) else 0
            except BaseException as e:  # noqa: B036 - stop waiting; re-raised by the caller
                self._stash(e, droppable=False)
                return 1
        return _lib.PROGRESS_CB(cb)

    def wait_ready(self, namespace, tenant_id, app_id, timeout, progress=None):
        """Wait until Ready (seconds). progress(StatusInfo) on each change; a true return stops."""
        c = _lib.StatusInfo(version=_lib.StatusInfo.VERSION)
        cb = self._progress(progress)
        self._call("valkeyaddon_wait_ready", ctypes.byref(c), *self._ids(namespace, tenant_id, app_id),
                   _seconds_to_ms(timeout, "timeout"), cb, None)
        return StatusInfo._from_c(c)

    def provision(self, namespace, tenant_id, app_id, plan=None, timeout=None, *, no_wait=False, progress=None,
                  addon_type=None, allow_data_loss=False):
        """The provision flow: record the row, ensure the objects, wait for Ready (timeout in
        seconds; None: 5 minutes), record the outcome. Returns a ProvisionResult; on a
        failure the raised Error's `.row` is the row as last recorded. A plan change that
        would delete data raises DataLoss unless allow_data_loss."""
        cb = self._progress(progress)
        o = _lib.ProvisionOptions(version=_lib.ProvisionOptions.VERSION, namespace_=_b(namespace, "namespace"),
                                  tenant_id=_b(tenant_id, "tenant_id"), app_id=_b(app_id, "app_id"),
                                  addon_type=_b(addon_type, "addon_type"), plan=_b(plan, "plan"),
                                  no_wait=int(bool(no_wait)), timeout_ms=_seconds_to_ms(timeout, "timeout"),
                                  progress=cb, progress_payload=None, allow_data_loss=int(bool(allow_data_loss)))
        row = _lib.AddonRow(version=_lib.AddonRow.VERSION)
        ensured = _lib.EnsureResult(version=_lib.EnsureResult.VERSION)
        f = self._fn("valkeyaddon_provision")
        self._pending = []
        rc = f(ctypes.byref(row), ctypes.byref(ensured), self._handle(), ctypes.byref(o))
        recorded = AddonRow._from_c(row) if row.app_id else None
        self._finish(rc, recorded)
        return ProvisionResult(recorded, EnsureResult._from_c(ensured))

    def refresh_status(self, namespace, tenant_id, app_id):
        """Read the live status and record it in the row; returns RefreshResult(row, info)."""
        row = _lib.AddonRow(version=_lib.AddonRow.VERSION)
        info = _lib.StatusInfo(version=_lib.StatusInfo.VERSION)
        self._call("valkeyaddon_refresh_status", ctypes.byref(row), ctypes.byref(info),
                   *self._ids(namespace, tenant_id, app_id))
        return RefreshResult(AddonRow._from_c(row), StatusInfo._from_c(info))

    def addon_get(self, app_id, addon_type=None):
        """The add-on's row from the storage; NotFound when there is none."""
        row = _lib.AddonRow(version=_lib.AddonRow.VERSION)
        self._call("valkeyaddon_addon_get", ctypes.byref(row), self._handle(), _b(app_id, "app_id"),
                   _b(addon_type, "addon_type"))
        return AddonRow._from_c(row)

    def addon_list(self, app_id=None):
        """Rows of one app (or of all apps), in (app_id, addon_type) order."""
        rows = []

        def cb(row, _payload):
            rows.append(AddonRow._from_c(row.contents))
            return 0
        self._call("valkeyaddon_addon_list", self._handle(), _b(app_id, "app_id"), _lib.ROW_CB(cb), None)
        return rows

    def migrate_storage(self):
        """Create the storage's schema when missing."""
        self._call("valkeyaddon_storage_migrate", self._handle())
