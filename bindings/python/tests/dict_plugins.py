"""A dict-backed storage and transport written in Python, for the binding's tests."""

import json
import time

import valkeyaddon


def now_ms():
    return int(time.time() * 1000)


class DictStorage(valkeyaddon.Storage):
    """Rows in a dict keyed by (app_id, addon_type), with the C storages' semantics."""

    def __init__(self):
        self.rows = {}
        self.closed = 0
        self.migrated = 0
        self.fail_upsert = None  # an exception to raise from the next upsert

    def migrate(self):
        self.migrated += 1

    def upsert(self, row):
        if self.fail_upsert is not None:
            e, self.fail_upsert = self.fail_upsert, None
            raise e
        key = (row.app_id, row.addon_type)
        old = self.rows.get(key)
        row.created_at = old.created_at if old else now_ms()
        row.updated_at = now_ms()
        self.rows[key] = row
        return row

    def get(self, app_id, addon_type):
        return self.rows.get((app_id, addon_type))  # None: the binding reports NotFound

    def set_status(self, app_id, addon_type, status, message):
        row = self.rows.get((app_id, addon_type))
        if row is None:
            raise valkeyaddon.NotFound(f"no row for {app_id}/{addon_type}")
        row.status, row.status_message, row.updated_at = status, message, now_ms()

    def remove(self, app_id, addon_type):
        if self.rows.pop((app_id, addon_type), None) is None:
            raise valkeyaddon.NotFound(f"no row for {app_id}/{addon_type}")

    def list(self, app_id):
        return [r for (a, _), r in self.rows.items() if app_id is None or a == app_id]

    def close(self):
        self.closed += 1


class DictTransport(valkeyaddon.Transport):
    """Objects in a dict; a StatefulSet reads back Ready (like a controller that finished)."""

    def __init__(self, ready=True):
        self.objects = {}
        self.calls = []
        self.closed = 0
        self.ready = ready
        self.fail = {}  # method -> exception to raise on its next call

    def _maybe_fail(self, method):
        e = self.fail.pop(method, None)
        if e is not None:
            raise e

    def _key(self, resource, namespace, name):
        return (resource.kind, namespace, name)

    def get(self, resource, namespace, name):
        self.calls.append(("get", resource.kind, name))
        self._maybe_fail("get")
        obj = self.objects.get(self._key(resource, namespace, name))
        if obj is None:
            raise valkeyaddon.NotFound(f"{resource.kind} {namespace}/{name} not found")
        if resource.kind == "StatefulSet":
            obj = json.loads(json.dumps(obj))
            n = obj.get("spec", {}).get("replicas", 1)
            obj.setdefault("metadata", {})["generation"] = 1
            obj["status"] = {"replicas": n, "readyReplicas": n if self.ready else 0, "updatedReplicas": n,
                             "observedGeneration": 1, "currentRevision": "r1", "updateRevision": "r1"}
        return obj

    def create(self, resource, namespace, body):
        self.calls.append(("create", resource.kind))
        self._maybe_fail("create")
        obj = json.loads(body)
        key = self._key(resource, namespace, obj["metadata"]["name"])
        if key in self.objects:
            raise valkeyaddon.Exists(f"{resource.kind} {namespace}/{key[2]} already exists")
        self.objects[key] = obj
        return body

    def apply(self, resource, namespace, name, body, field_manager, force):
        self.calls.append(("apply", resource.kind, name, field_manager, force))
        self._maybe_fail("apply")
        self.objects[self._key(resource, namespace, name)] = json.loads(body)
        return None

    def remove(self, resource, namespace, name, orphan):
        self.calls.append(("remove", resource.kind, name, orphan))
        if self.objects.pop(self._key(resource, namespace, name), None) is None:
            raise valkeyaddon.NotFound(f"{resource.kind} {namespace}/{name} not found")

    def close(self):
        self.closed += 1


class AddressedTransport(DictTransport):
    """A DictTransport that answers `address` (transport version 2), like the local one."""

    def address(self, namespace, service):
        self.calls.append(("address", namespace, service))
        return "127.0.0.1", 16379
