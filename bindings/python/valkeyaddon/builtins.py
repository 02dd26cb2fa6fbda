"""The library's own transports and storages, as values given to a Context.

Each is a description; the C object is built by Context.set_transport() /
set_storage() with that context (so a failure carries the context's message), and
handed to it at once: the context owns it from then on. Nothing here holds a secret
in its repr.
"""

import ctypes

from . import _lib


def _ms(seconds):
    return 0 if seconds is None else max(1, int(round(seconds * 1000)))


class Builtin:
    kind = "plugin"
    symbol = None

    @classmethod
    def available(cls):
        """True when the loaded library exports this constructor."""
        return _lib.has(cls.symbol)

    def _new(self, context):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class MemoryTransport(Builtin):
    """The in-memory transport: objects live as long as the context (tests, dry runs)."""
    kind = "transport"
    symbol = "valkeyaddon_transport_memory_new"

    def _new(self, context):
        out = _lib.transport_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out)))
        return out


class KubernetesTransport(Builtin):
    """The Kubernetes API transport (libcurl). Timeouts are in seconds; None means the default.

    After Context.set_transport(), `.namespace` is the namespace its configuration selects.
    """
    kind = "transport"
    symbol = "valkeyaddon_transport_kubernetes_new"

    def __init__(self, kubeconfig=None, context=None, in_cluster=False, insecure_skip_tls_verify=False,
                 connect_timeout=None, request_timeout=None, retry_deadline=None):
        self.kubeconfig, self.context = kubeconfig, context
        self.in_cluster, self.insecure_skip_tls_verify = in_cluster, insecure_skip_tls_verify
        self.connect_timeout, self.request_timeout, self.retry_deadline = connect_timeout, request_timeout, \
            retry_deadline
        self.namespace = None

    def _new(self, context):
        o = _lib.KubernetesOptions(version=_lib.KubernetesOptions.VERSION,
                                   kubeconfig=_lib.encode(self.kubeconfig, "kubeconfig"),
                                   context=_lib.encode(self.context, "context"),
                                   in_cluster=int(bool(self.in_cluster)),
                                   insecure_skip_tls_verify=int(bool(self.insecure_skip_tls_verify)),
                                   connect_timeout_ms=_ms(self.connect_timeout),
                                   request_timeout_ms=_ms(self.request_timeout),
                                   retry_deadline_ms=_ms(self.retry_deadline))
        out = _lib.transport_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out), context._ctx, ctypes.byref(o)))
        self.namespace = _lib.text(_lib.fn.valkeyaddon_transport_kubernetes_namespace(out))
        return out

    def __repr__(self):
        return f"KubernetesTransport(kubeconfig={self.kubeconfig!r}, context={self.context!r})"


class LocalTransport(Builtin):
    """The local transport: real servers on loopback, objects as files under state_dir."""
    kind = "transport"
    symbol = "valkeyaddon_transport_local_new"

    def __init__(self, state_dir, server_path=None, start_timeout=None):
        self.state_dir, self.server_path, self.start_timeout = state_dir, server_path, start_timeout

    def _new(self, context):
        o = _lib.LocalOptions(version=_lib.LocalOptions.VERSION,
                              state_dir=_lib.encode(str(self.state_dir), "state_dir"),
                              server_path=_lib.encode(self.server_path, "server_path"),
                              start_timeout_ms=_ms(self.start_timeout))
        out = _lib.transport_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out), context._ctx, ctypes.byref(o)))
        return out

    def __repr__(self):
        return f"LocalTransport(state_dir={self.state_dir!r})"


class MemoryStorage(Builtin):
    """The in-memory storage: rows live as long as the context."""
    kind = "storage"
    symbol = "valkeyaddon_storage_memory_new"

    def _new(self, context):
        out = _lib.storage_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out)))
        return out


class SQLiteStorage(Builtin):
    """The SQLite storage; path ":memory:" for a private in-memory database."""
    kind = "storage"
    symbol = "valkeyaddon_storage_sqlite_new"

    def __init__(self, path):
        self.path = path

    def _new(self, context):
        out = _lib.storage_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out), context._ctx,
                                                _lib.encode(str(self.path), "path")))
        return out

    def __repr__(self):
        return f"SQLiteStorage({self.path!r})"


class PostgresStorage(Builtin):
    """The PostgreSQL storage (libpq). The conninfo may hold a password: never shown."""
    kind = "storage"
    symbol = "valkeyaddon_storage_postgres_new"

    def __init__(self, conninfo, application_name=None, connect_timeout=None):
        self._conninfo = conninfo
        self.application_name, self.connect_timeout = application_name, connect_timeout

    def _new(self, context):
        o = _lib.PostgresOptions(version=_lib.PostgresOptions.VERSION,
                                 conninfo=_lib.encode(self._conninfo, "conninfo"),
                                 application_name=_lib.encode(self.application_name, "application_name"),
                                 connect_timeout_s=0 if self.connect_timeout is None else int(self.connect_timeout))
        out = _lib.storage_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out), context._ctx, ctypes.byref(o)))
        return out

    def __repr__(self):
        return "PostgresStorage(<conninfo hidden>)"


class URLStorage(Builtin):
    """A storage opened by URL, as the command line's --database: sqlite:PATH, memory:,
    postgres://..., or libpq keyword=value pairs. The schema is migrated on open."""
    kind = "storage"
    symbol = "valkeyaddon_storage_open"

    def __init__(self, url):
        self._url = url

    def _new(self, context):
        out = _lib.storage_p()
        context._check(context._fn(self.symbol)(ctypes.byref(out), context._ctx, _lib.encode(self._url, "url")))
        return out

    def __repr__(self):
        return "URLStorage(<url hidden>)"


def open_storage(url):
    """A storage by URL (valkeyaddon_storage_open); give it to Context.set_storage()."""
    return URLStorage(url)
