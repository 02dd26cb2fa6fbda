"""Transports and storages written in Python, driven by the C library through the vtables."""

import base64
import gc
import json

import pytest

import valkeyaddon
from dict_plugins import AddressedTransport, DictStorage, DictTransport
from valkeyaddon import errors

NS, TENANT, APP = "tenant-ns", "acme", "web"


def secret_value(transport, name, key):
    obj = transport.objects[("Secret", NS, name)]
    if "stringData" in obj and key in obj["stringData"]:
        return obj["stringData"][key]
    return base64.b64decode(obj["data"][key]).decode()


def test_plugins__provision_over_python_transport_and_storage():
    t, s = DictTransport(), DictStorage()
    seen = []
    with valkeyaddon.Context(transport=t, storage=s) as c:
        result = c.provision(NS, TENANT, APP, plan="standard", timeout=10, progress=seen.append)
        assert result.row.status is valkeyaddon.Status.READY
        assert result.ensured.password_created
        assert s.rows[(APP, "valkey")].status is valkeyaddon.Status.READY
        assert s.rows[(APP, "valkey")].created_at > 0
        assert seen and seen[-1].status is valkeyaddon.Status.READY
        assert ("Secret", NS, "valkey-acme-web-auth") in t.objects
        assert ("Secret", NS, "app-web-redis-url") in t.objects
        applies = [call for call in t.calls if call[0] == "apply"]
        assert applies and all(call[3] == "paas-control-plane" and call[4] is True for call in applies)
        password = secret_value(t, "valkey-acme-web-auth", "password")
        again = c.provision(NS, TENANT, APP, plan="standard", timeout=10)
        assert not again.ensured.password_created
        assert secret_value(t, "valkey-acme-web-auth", "password") == password
        refreshed = c.refresh_status(NS, TENANT, APP)
        assert refreshed.info.status is valkeyaddon.Status.READY and refreshed.row.status is valkeyaddon.Status.READY
        assert [r.app_id for r in c.addon_list(APP)] == [APP]
        assert c.deprovision(NS, TENANT, APP) > 0
        assert not t.objects and not s.rows
        with pytest.raises(valkeyaddon.NotFound):
            c.addon_get(APP)
    assert t.closed == 1 and s.closed == 1  # free called once each, by ctx_free


def test_plugins__migrate_is_optional_and_called():
    s = DictStorage()
    with valkeyaddon.Context(storage=s) as c:
        c.migrate_storage()
    assert s.migrated == 1

    class NoMigrate(valkeyaddon.Storage):
        def upsert(self, row):
            return row
    with valkeyaddon.Context(storage=NoMigrate()) as c:
        c.migrate_storage()  # a NULL `migrate` member: nothing to do


def test_plugins__storage_list_is_ordered():
    s = DictStorage()
    with valkeyaddon.Context(transport=valkeyaddon.MemoryTransport(), storage=s) as c:
        for app in ("zeta", "alpha", "mid"):
            c.provision(NS, TENANT, app, no_wait=True)
        assert [r.app_id for r in c.addon_list()] == ["alpha", "mid", "zeta"]


def test_plugins__address_member_is_used():
    t = AddressedTransport()
    with valkeyaddon.Context(transport=t, storage=DictStorage()) as c:
        c.provision(NS, TENANT, APP, timeout=10)
        assert ("address", NS, "valkey-acme-web") in t.calls
        assert secret_value(t, "valkey-acme-web-auth", "port") == "16379"
        assert "@127.0.0.1:16379" in c.redis_url(NS, TENANT, APP)  # compared, never printed


def test_plugins__not_found_from_python_is_normal_flow():
    # ensure_valkey reads the auth Secret first: NotFound raised by get must not reach the caller.
    t = DictTransport()
    with valkeyaddon.Context(transport=t) as c:
        c.ensure_valkey(NS, TENANT, APP, "free")
    assert ("get", "Secret", "valkey-acme-web-auth") in t.calls


def test_plugins__unexpected_exception_reaches_the_caller_and_row_says_failed():
    t, s = DictTransport(), DictStorage()
    boom = RuntimeError("apply exploded")
    t.fail["apply"] = boom
    with valkeyaddon.Context(transport=t, storage=s) as c:
        with pytest.raises(RuntimeError) as info:
            c.provision(NS, TENANT, APP, plan="standard", timeout=10)
        assert info.value is boom
        lib_error = info.value.valkeyaddon_error
        assert isinstance(lib_error, valkeyaddon.Error) and lib_error.code == errors.ERROR
        assert "apply exploded" in lib_error.message
        assert lib_error.row is not None and lib_error.row.status is valkeyaddon.Status.FAILED
        assert s.rows[(APP, "valkey")].status is valkeyaddon.Status.FAILED
        # the context recovers: the next call converges
        assert c.provision(NS, TENANT, APP, plan="standard", timeout=10).row.status is valkeyaddon.Status.READY


def test_plugins__error_from_python_keeps_its_code_and_is_chained():
    t = DictTransport()
    cause = valkeyaddon.Forbidden("secrets is forbidden for this token")
    t.fail["apply"] = cause
    with valkeyaddon.Context(transport=t, storage=DictStorage()) as c:
        with pytest.raises(valkeyaddon.Forbidden) as info:
            c.provision(NS, TENANT, APP, timeout=10)
        assert info.value.code == errors.EFORBIDDEN
        assert info.value.__cause__ is cause
        assert "forbidden for this token" in info.value.message


def test_plugins__storage_exception_fails_before_the_cluster():
    t, s = DictTransport(), DictStorage()
    s.fail_upsert = valkeyaddon.StorageError("database is down")
    with valkeyaddon.Context(transport=t, storage=s) as c:
        with pytest.raises(valkeyaddon.StorageError) as info:
            c.provision(NS, TENANT, APP, timeout=10)
        assert "database is down" in info.value.message
    assert not t.objects  # nothing written to the cluster when the store is down


def test_plugins__progress_callback_exception_is_raised():
    class Stop(Exception):
        pass

    def progress(info):
        raise Stop()
    with valkeyaddon.Context(transport=DictTransport(ready=False), storage=DictStorage()) as c:
        with pytest.raises(Stop):
            c.provision(NS, TENANT, APP, timeout=10, progress=progress)


def test_plugins__progress_true_stops_waiting():
    calls = []
    with valkeyaddon.Context(transport=DictTransport(ready=False), storage=DictStorage()) as c:
        result = c.provision(NS, TENANT, APP, timeout=10, progress=lambda info: calls.append(info) or True)
        assert len(calls) == 1 and result.row.status is valkeyaddon.Status.CREATING


def test_plugins__replacing_a_transport_frees_the_old_one_once():
    first, second = DictTransport(), DictTransport()
    c = valkeyaddon.Context(transport=first)
    c.set_transport(second)
    assert first.closed == 1 and second.closed == 0
    c.ensure_valkey(NS, TENANT, APP)
    assert second.objects and not first.objects
    c.close()
    assert first.closed == 1 and second.closed == 1


def test_plugins__objects_stay_alive_without_caller_references():
    c = valkeyaddon.Context(transport=DictTransport(), storage=DictStorage())
    gc.collect()  # only the Context holds them now
    assert c.provision(NS, TENANT, APP, timeout=10).row.status is valkeyaddon.Status.READY
    c.close()


def test_plugins__watch_member(tmp_path):
    class Watching(DictTransport):
        def __init__(self):
            super().__init__()
            self.watched = 0
            self.ready = False  # the wait's first read sees it not ready, so it watches

        def watch(self, resource, namespace, name, resource_version, timeout, emit):
            self.watched += 1
            self.ready = True
            obj = self.get(resource, namespace, name)
            return emit(valkeyaddon.WatchEvent.ADDED, json.dumps(obj))

    t = Watching()
    with valkeyaddon.Context(transport=t, storage=DictStorage()) as c:
        assert c.provision(NS, TENANT, APP, timeout=10).row.status is valkeyaddon.Status.READY
    assert t.watched >= 1


def test_plugins__close_exception_surfaces_on_close():
    class BadClose(DictTransport):
        def close(self):
            raise OSError("close failed")
    c = valkeyaddon.Context(transport=BadClose())
    with pytest.raises(OSError):
        c.close()
    assert c.closed


def test_plugins__contexts_in_threads_are_independent():
    import threading
    results, failures = {}, []

    def run(app):
        try:
            t, s = DictTransport(), DictStorage()
            with valkeyaddon.Context(transport=t, storage=s) as c:
                results[app] = c.provision(NS, TENANT, app, timeout=10).row.status
                with pytest.raises(valkeyaddon.InvalidArgument):
                    c.check_id("Bad", "app_id")
        except BaseException as e:  # reported below, in the main thread
            failures.append(e)
    threads = [threading.Thread(target=run, args=(f"app{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not failures, failures
    assert results == {f"app{i}": valkeyaddon.Status.READY for i in range(4)}
