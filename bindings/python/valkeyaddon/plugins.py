"""Transports and storages written in Python, wrapped into the C vtables.

Subclass Transport or Storage and give an instance to Context.set_transport() /
set_storage() (or Context(transport=..., storage=...)). Each registration builds a
fresh vtable whose members are ctypes callbacks; the Context keeps the vtable, the
callbacks and the Python object alive until the library calls the vtable's `free`
(when the context is closed or the plugin replaced), and then calls the object's
close().

Inside a member, raise a valkeyaddon.Error subclass to return its code (NotFound for
a missing object, ...): its message goes to the context with
valkeyaddon_ctx_set_error(). Any other exception returns VALKEYADDON_ERROR and is
re-raised from the Context method that led to the call, once the library returns.
"""

import ctypes
import json

from . import _lib
from .errors import ERROR, ETIMEOUT, Error, NotFound, NotSupported
from .types import AddonRow, Resource, Status, WatchEvent


class Transport:
    """Base class of a transport in Python (valkeyaddon_transport).

    Bodies are JSON as bytes (they may hold Secret data: never log them). Members that
    return an object may return bytes, str, a dict, or None (nothing to report).
    get, create, apply and remove are required; watch and address are optional: leave
    them out (do not override) to tell the library they are unsupported.
    """

    def get(self, resource: Resource, namespace: str, name: str):
        """Return the object as JSON; raise NotFound when it does not exist."""
        raise NotSupported("get is not implemented")

    def create(self, resource: Resource, namespace: str, body: bytes):
        """Create an object that must not exist yet (raise Exists); may return the created object."""
        raise NotSupported("create is not implemented")

    def apply(self, resource: Resource, namespace: str, name: str, body: bytes, field_manager: str, force: bool):
        """Server-side apply as `field_manager` (raise Conflict when another manager owns a field)."""
        raise NotSupported("apply is not implemented")

    def remove(self, resource: Resource, namespace: str, name: str, orphan: bool):
        """Delete an object (orphan: keep its dependents); raise NotFound when absent."""
        raise NotSupported("remove is not implemented")

    def watch(self, resource: Resource, namespace: str, name: str, resource_version: str, timeout: float, emit):
        """Optional. Call emit(WatchEvent, body) for each change of the object after resource_version
        ("" means its current state first) until emit returns non-zero (then return that value) or
        `timeout` seconds pass (then raise Timeout)."""
        raise NotSupported("watch is not implemented")

    def address(self, namespace: str, service: str):
        """Optional. Return (host, port) where clients reach the Service."""
        raise NotSupported("address is not implemented")

    def close(self):
        """Called once when the context releases this registration."""


class Storage:
    """Base class of a storage in Python (valkeyaddon_storage), holding AddonRow values.

    upsert, get, set_status, remove and list are required; migrate is optional.
    """

    def migrate(self):
        """Optional: create the schema when missing."""

    def upsert(self, row: AddonRow) -> AddonRow:
        """Insert or update the row keyed by (app_id, addon_type), keeping created_at and setting
        updated_at (Unix ms); return the row as stored."""
        raise NotSupported("upsert is not implemented")

    def get(self, app_id: str, addon_type: str) -> AddonRow:
        """Return the row; raise NotFound (or return None) when there is none."""
        raise NotSupported("get is not implemented")

    def set_status(self, app_id: str, addon_type: str, status: Status, message: str):
        """Set status, status_message and updated_at of an existing row; raise NotFound otherwise."""
        raise NotSupported("set_status is not implemented")

    def remove(self, app_id: str, addon_type: str):
        """Delete the row; raise NotFound when there was none."""
        raise NotSupported("remove is not implemented")

    def list(self, app_id):
        """Return (or yield) the rows of one app, or of all apps when app_id is None."""
        raise NotSupported("list is not implemented")

    def close(self):
        """Called once when the context releases this registration."""


def _overrides(obj, base, name):
    return getattr(type(obj), name, None) is not getattr(base, name)


def _json_bytes(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _set_buffer(buf, value):
    data = _json_bytes(value)
    if data is None or not buf:
        return 0
    return _lib.fn.valkeyaddon_buffer_set(buf, data, len(data))


def _s(value):
    return None if value is None else value.decode("utf-8", "replace")


class _Adapter:
    """One registration: the vtable, its callbacks, and the Python object behind them."""

    kind = "plugin"

    def __init__(self, context, obj):
        self.context = context
        self.obj = obj
        self.freed = False

    def guard(self, ctx, what, call):
        """Run a member; turn an exception into a code on the context, kept for the caller."""
        try:
            result = call()
            return 0 if result is None else result
        except BaseException as e:  # noqa: B036 - nothing may unwind through C
            if isinstance(e, Error):
                code = e.code if e.code < 0 else ERROR
                message = e.message
            else:
                code = ERROR
                message = f"{type(e).__name__}: {e}"[:400]
            message = f"python {self.kind} {what}: {message}"
            _lib.fn.valkeyaddon_ctx_set_error(ctx, code, message.encode("utf-8", "replace"))
            self.context._stash(e, droppable=isinstance(e, Error))
            return code

    def release(self):
        self.freed = True
        try:
            self.obj.close()
        except BaseException as e:  # noqa: B036
            self.context._stash(e, droppable=False)
        self.context._retire(self)

    def address(self):
        return ctypes.addressof(self.vtable)


class TransportAdapter(_Adapter):
    kind = "transport"

    def __init__(self, context, obj):
        super().__init__(context, obj)
        t = obj
        g = self.guard

        def get(out, _self, ctx, res, ns, name):
            return g(ctx, "get", lambda: _set_buffer(out, t.get(Resource._from_c(res), _s(ns), _s(name))))

        def create(out, _self, ctx, res, ns, body, length):
            data = ctypes.string_at(body, length)
            return g(ctx, "create", lambda: _set_buffer(out, t.create(Resource._from_c(res), _s(ns), data)))

        def apply(out, _self, ctx, res, ns, name, body, length, manager, force):
            data = ctypes.string_at(body, length)
            return g(ctx, "apply", lambda: _set_buffer(out, t.apply(Resource._from_c(res), _s(ns), _s(name), data,
                                                                    _s(manager), bool(force))))

        def remove(_self, ctx, res, ns, name, flags):
            return g(ctx, "remove", lambda: t.remove(Resource._from_c(res), _s(ns), _s(name),
                                                     bool(flags & _lib.REMOVE_ORPHAN)) and 0)

        def watch(_self, ctx, res, ns, name, rv, timeout_ms, callback, payload):
            stopped = []

            def emit(event, body):
                data = _json_bytes(body) or b""
                rc = callback(int(WatchEvent(event)), data, len(data), payload)
                if rc:
                    stopped.append(rc)
                return rc

            def run():
                rc = t.watch(Resource._from_c(res), _s(ns), _s(name), _s(rv) or "", timeout_ms / 1000.0, emit)
                if rc:
                    return int(rc)
                if stopped:
                    return stopped[-1]
                raise Error("the watch ended without the callback stopping it", code=ETIMEOUT)
            return g(ctx, "watch", run)

        def address(host, port, _self, ctx, ns, service):
            def run():
                h, p = t.address(_s(ns), _s(service))
                port[0] = int(p)
                return _set_buffer(host, str(h))
            return g(ctx, "address", run)

        def free(_self):
            self.release()

        members = dict(get=_lib.T_GET(get), create=_lib.T_CREATE(create), apply=_lib.T_APPLY(apply),
                       remove=_lib.T_REMOVE(remove), free=_lib.T_FREE(free))
        if _overrides(obj, Transport, "watch"):
            members["watch"] = _lib.T_WATCH(watch)
        if _overrides(obj, Transport, "address"):
            members["address"] = _lib.T_ADDRESS(address)
        self.callbacks = members  # the vtable holds copies of the pointers: keep the thunks alive
        self.vtable = _lib.TransportVTable(version=_lib.TransportVTable.VERSION, **members)


class StorageAdapter(_Adapter):
    kind = "storage"

    def __init__(self, context, obj):
        super().__init__(context, obj)
        s = obj
        g = self.guard

        def fill(out, row):
            if out:
                row._to_c(out.contents)

        def migrate(_self, ctx):
            return g(ctx, "migrate", lambda: s.migrate() and 0)

        def upsert(out, _self, ctx, row):
            def run():
                given = AddonRow._from_c(row.contents)
                stored = s.upsert(given)
                fill(out, stored if stored is not None else given)
            return g(ctx, "upsert", run)

        def get(out, _self, ctx, app_id, addon_type):
            def run():
                row = s.get(_s(app_id), _s(addon_type))
                if row is None:
                    raise NotFound(f"no {_s(addon_type)} row for app {_s(app_id)}")
                fill(out, row)
            return g(ctx, "get", run)

        def set_status(_self, ctx, app_id, addon_type, status, message):
            try:
                status = Status(status)
            except ValueError:
                pass
            return g(ctx, "set_status", lambda: s.set_status(_s(app_id), _s(addon_type), status,
                                                             _s(message) or "") and 0)

        def remove(_self, ctx, app_id, addon_type):
            return g(ctx, "remove", lambda: s.remove(_s(app_id), _s(addon_type)) and 0)

        def list_(_self, ctx, app_id, callback, payload):
            def run():
                rows = sorted(s.list(_s(app_id)), key=lambda r: (r.app_id, r.addon_type))
                for row in rows:
                    c = _lib.AddonRow()
                    row._to_c(c)
                    rc = callback(ctypes.byref(c), payload)
                    if rc:
                        return rc
                return 0
            return g(ctx, "list", run)

        def free(_self):
            self.release()

        members = dict(upsert=_lib.S_UPSERT(upsert), get=_lib.S_GET(get), set_status=_lib.S_SET_STATUS(set_status),
                       remove=_lib.S_REMOVE(remove), list=_lib.S_LIST(list_), free=_lib.S_FREE(free))
        if _overrides(obj, Storage, "migrate"):
            members["migrate"] = _lib.S_MIGRATE(migrate)
        self.callbacks = members
        self.vtable = _lib.StorageVTable(version=_lib.StorageVTable.VERSION, **members)
