"""Plain Python values for the library's structs (dataclasses and enums)."""

import dataclasses
import enum

from . import _lib


class Status(enum.IntEnum):
    """valkeyaddon_status: the operator-facing status vocabulary."""
    CREATING = 1
    READY = 2
    FAILED = 3

    @property
    def display_name(self):
        """"Creating", "Ready" or "Failed", as the library names it."""
        return _lib.text(_lib.fn.valkeyaddon_status_name(int(self)))


class Persistence(enum.IntEnum):
    """valkeyaddon_persistence."""
    NONE = 0
    RDB_DAILY = 1
    RDB_AOF = 2


class WatchEvent(enum.IntEnum):
    """valkeyaddon_watch_event."""
    ADDED = 1
    MODIFIED = 2
    DELETED = 3
    BOOKMARK = 4


def _status(value):
    try:
        return Status(value)
    except ValueError:  # a row the storage never filled
        return value


class ValkeyName(str):
    """A StatefulSet name; `.shortened` is True when it was shortened with a hash."""
    shortened = False

    def __new__(cls, value, shortened):
        self = super().__new__(cls, value)
        self.shortened = bool(shortened)
        return self


def _fields(struct, skip=("version",)):
    out = {}
    for name, _ in struct._fields_:
        if name in skip:
            continue
        value = getattr(struct, name)
        out[name] = _lib.text(value) if isinstance(value, bytes) else value
    return out


@dataclasses.dataclass(frozen=True)
class PlanConfig:
    """valkeyaddon_plan_config: what a plan gives an add-on."""
    plan: str
    fell_back: bool
    replicas: int
    memory_limit_bytes: int
    memory_limit: str
    memory_request_bytes: int
    memory_request: str
    persistence: Persistence
    persistence_name: str
    save: str
    appendonly: bool
    appendfsync: str
    maxmemory_percent: int
    maxmemory_policy: str
    cpu_request_millis: int
    cpu_limit_millis: int
    volume_size_bytes: int
    volume_size: str

    @classmethod
    def _from_c(cls, c):
        f = _fields(c)
        f["fell_back"] = bool(f["fell_back"])
        f["appendonly"] = bool(f["appendonly"])
        f["persistence"] = Persistence(f["persistence"])
        return cls(**f)


@dataclasses.dataclass(frozen=True)
class EnsureResult:
    """valkeyaddon_ensure_result: what ensure_valkey() did."""
    name: str
    auth_secret: str
    plan: str
    fell_back: bool
    password_created: bool
    objects_written: int
    plan_kept: bool = False         # the plan asked for was unknown; the existing add-on kept `plan`
    password_rollout: bool = False  # a re-created auth Secret: the pods roll to the new password

    @classmethod
    def _from_c(cls, c):
        f = _fields(c)
        for key in ("fell_back", "password_created", "plan_kept", "password_rollout"):
            f[key] = bool(f[key])
        return cls(**f)


@dataclasses.dataclass(frozen=True)
class StatusInfo:
    """valkeyaddon_status_info: an add-on's live status."""
    status: Status
    rollout_complete: bool
    desired: int
    ready: int
    updated: int
    generation: int
    observed_generation: int
    message: str

    @classmethod
    def _from_c(cls, c):
        f = _fields(c)
        f["status"] = _status(f["status"])
        f["rollout_complete"] = bool(f["rollout_complete"])
        return cls(**f)


@dataclasses.dataclass
class AddonRow:
    """valkeyaddon_addon_row: one row of `app_addons`. Timestamps are Unix ms, set by the storage."""
    app_id: str
    addon_type: str = "valkey"
    tenant_id: str = ""
    plan: str = ""
    status: Status = Status.CREATING
    status_message: str = ""
    resource_name: str = ""
    namespace: str = ""
    created_at: int = 0
    updated_at: int = 0

    @classmethod
    def _from_c(cls, c):
        f = _fields(c)
        f["namespace"] = f.pop("namespace_")
        f["status"] = _status(f["status"])
        return cls(**f)

    def _to_c(self, c):
        """Fill a ctypes AddonRow; strings longer than the C arrays are cut (the C rule)."""
        c.version = _lib.AddonRow.VERSION
        for name, size in (("app_id", _lib.LABEL_BUFSIZE), ("addon_type", _lib.ADDON_TYPE_BUFSIZE),
                           ("tenant_id", _lib.LABEL_BUFSIZE), ("plan", 16),
                           ("status_message", _lib.STATUS_MESSAGE_BUFSIZE),
                           ("resource_name", _lib.NAME_BUFSIZE), ("namespace", _lib.LABEL_BUFSIZE)):
            data = (getattr(self, name) or "").encode("utf-8")[:size - 1]
            setattr(c, "namespace_" if name == "namespace" else name, data)
        c.status = int(self.status)
        c.created_at = int(self.created_at)
        c.updated_at = int(self.updated_at)
        return c


@dataclasses.dataclass(frozen=True)
class ProvisionResult:
    """What Context.provision() returns: the row as recorded, and what ensure_valkey() did."""
    row: AddonRow
    ensured: EnsureResult


@dataclasses.dataclass(frozen=True)
class RefreshResult:
    """What Context.refresh_status() returns: the updated row and what the cluster said."""
    row: AddonRow
    info: StatusInfo


@dataclasses.dataclass(frozen=True)
class Resource:
    """valkeyaddon_resource: what kind of object a transport call is about."""
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    def path(self, namespace, name=None):
        """The Kubernetes REST path: /api/v1/namespaces/NS/secrets[/NAME], /apis/apps/v1/..."""
        prefix = "/api/" if "/" not in self.api_version else "/apis/"
        path = f"{prefix}{self.api_version}"
        if self.namespaced:
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        return f"{path}/{name}" if name is not None else path

    @classmethod
    def _from_c(cls, p):
        r = p.contents
        return cls(_lib.text(r.api_version), _lib.text(r.kind), _lib.text(r.plural), bool(r.namespaced))
