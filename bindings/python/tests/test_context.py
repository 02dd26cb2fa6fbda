"""Errors, the context manager, logging, and the ensure/provision calls over the built-ins."""

import pytest

import valkeyaddon
from valkeyaddon import errors

NS, TENANT, APP = "tenant-ns", "acme", "web"


def test_context__errors_carry_code_and_message(ctx):
    with pytest.raises(valkeyaddon.InvalidArgument) as info:
        ctx.check_id("Not-Valid", "app_id")
    e = info.value
    assert isinstance(e, valkeyaddon.Error) and isinstance(e, ValueError)
    assert e.code == errors.EINVAL == ctx.error_code
    assert "app_id" in e.message and e.message == ctx.error_message
    assert "code -2" in str(e)
    ctx.check_id("web", "app_id")
    assert ctx.error_code == 0 and ctx.error_message == ""


def test_context__error_families_by_code():
    assert valkeyaddon.Error.from_code(errors.ENOTFOUND, "x").__class__ is valkeyaddon.NotFound
    assert valkeyaddon.Error.from_code(errors.ETIMEOUT, "x").__class__ is valkeyaddon.Timeout
    assert isinstance(valkeyaddon.Timeout("late"), TimeoutError)
    assert valkeyaddon.Error.from_code(errors.EFAILED).__class__ is valkeyaddon.AddonFailed
    assert valkeyaddon.Error.from_code(-999, "odd").__class__ is valkeyaddon.Error
    assert valkeyaddon.NotFound("gone").code == errors.ENOTFOUND
    assert valkeyaddon.Error("plain").code == errors.ERROR
    assert valkeyaddon.strerror(errors.ENOTFOUND) != valkeyaddon.strerror(errors.EEXISTS)
    assert valkeyaddon.AddonFailed().message == valkeyaddon.strerror(errors.EFAILED)


def test_context__with_closes(memory_ctx):
    with valkeyaddon.Context() as c:
        assert not c.closed
    assert c.closed
    with pytest.raises(valkeyaddon.InvalidArgument):
        c.valkey_name(TENANT, APP)
    c.close()  # idempotent


def test_context__parse_status_rejects_negative_counts():
    assert valkeyaddon.parse_valkey_status(3, 3) is valkeyaddon.Status.READY
    with pytest.raises(valkeyaddon.InvalidArgument):
        valkeyaddon.parse_valkey_status(-1, 1)


def test_context__plan_fell_back(ctx):
    p = ctx.plan_config("Pro")
    assert p.plan == "free" and p.fell_back


def test_context__log_callback_gets_the_fall_back_warning():
    lines = []
    with valkeyaddon.Context(log=lambda level, message: lines.append((level, message)),
                             log_level=valkeyaddon.LogLevel.DEBUG) as c:
        c.plan_config("gold")
    assert any(level == valkeyaddon.LogLevel.WARNING and "gold" in m for level, m in lines), lines


def test_context__ensure_and_redis_url_over_memory(memory_ctx):
    c = memory_ctx
    first = c.ensure_valkey(NS, TENANT, APP, "standard")
    assert (first.name, first.auth_secret, first.plan) == ("valkey-acme-web", "valkey-acme-web-auth", "standard")
    assert first.password_created and first.objects_written > 0
    c.ensure_redis_url_secret(NS, TENANT, APP)
    url = c.redis_url(NS, TENANT, APP)
    assert url.startswith("redis://") and "valkey-acme-web" in url
    again = c.ensure_valkey(NS, TENANT, APP, "standard")
    assert not again.password_created
    c.ensure_redis_url_secret(NS, TENANT, APP)
    assert c.redis_url(NS, TENANT, APP) == url  # the password is kept (compared, never printed)
    assert c.deprovision(NS, TENANT, APP) > 0
    with pytest.raises(valkeyaddon.NotFound):
        c.redis_url(NS, TENANT, APP)


def test_context__provision_no_wait_and_rows(memory_ctx):
    c = memory_ctx
    result = c.provision(NS, TENANT, APP, plan="gold", no_wait=True)
    assert result.row.status is valkeyaddon.Status.CREATING and result.row.plan == "free"
    assert result.ensured.plan == "free" and result.ensured.password_created
    assert c.addon_get(APP) == result.row
    assert [r.app_id for r in c.addon_list()] == [APP]
    with pytest.raises(valkeyaddon.InvalidArgument):
        c.provision(NS, TENANT, APP, addon_type="postgres")


def test_context__provision_times_out_with_the_row(memory_ctx):
    seen = []
    with pytest.raises(valkeyaddon.Timeout) as info:
        memory_ctx.provision(NS, TENANT, APP, plan="free", timeout=0.2, progress=seen.append)
    assert info.value.row.status is valkeyaddon.Status.FAILED  # the memory transport never gets ready
    assert memory_ctx.addon_get(APP).status is valkeyaddon.Status.FAILED
    assert seen and isinstance(seen[0], valkeyaddon.StatusInfo)


def test_context__no_storage_is_an_invalid_argument():
    with valkeyaddon.Context(transport=valkeyaddon.MemoryTransport()) as c:
        with pytest.raises(valkeyaddon.InvalidArgument) as info:
            c.provision(NS, TENANT, APP)
        assert "storage" in info.value.message


def test_context__wrong_plugin_type(ctx):
    with pytest.raises(TypeError):
        ctx.set_transport(valkeyaddon.MemoryStorage())


def test_context__local_transport_needs_a_state_dir(ctx, tmp_path):
    with pytest.raises(valkeyaddon.Error):
        ctx.set_transport(valkeyaddon.LocalTransport(""))
    ctx.set_transport(valkeyaddon.LocalTransport(tmp_path / "state"))


def test_context__kubernetes_transport_config_errors(ctx, tmp_path):
    with pytest.raises(valkeyaddon.Error) as info:
        ctx.set_transport(valkeyaddon.KubernetesTransport(kubeconfig=str(tmp_path / "missing")))
    assert info.value.code in (errors.ECONFIG, errors.EIO)
    assert info.value.message


def test_context__postgres_error_hides_the_conninfo(ctx):
    url = "postgresql://u:hunter2-secret@127.0.0.1:1/db?connect_timeout=2"
    with pytest.raises(valkeyaddon.StorageError) as info:
        ctx.set_storage(valkeyaddon.PostgresStorage(url, connect_timeout=2))
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(valkeyaddon.PostgresStorage(url))


def test_context__sqlite_storage_keeps_rows(tmp_path):
    db = tmp_path / "addons.db"
    with valkeyaddon.Context(transport=valkeyaddon.MemoryTransport(), storage=valkeyaddon.SQLiteStorage(db)) as c:
        c.provision(NS, TENANT, APP, no_wait=True)
    with valkeyaddon.Context(storage=valkeyaddon.SQLiteStorage(db)) as c:
        assert c.addon_get(APP).resource_name == "valkey-acme-web"


def test_context__open_storage_by_url(tmp_path):
    with valkeyaddon.Context(transport=valkeyaddon.MemoryTransport(), storage="memory:") as c:
        c.provision(NS, TENANT, APP, no_wait=True)
        assert c.addon_get(APP).app_id == APP
    with valkeyaddon.Context() as c:
        with pytest.raises(valkeyaddon.InvalidArgument):
            c.set_storage(valkeyaddon.open_storage("nosuchkind"))
        c.set_storage(valkeyaddon.open_storage(f"sqlite:{tmp_path / 'x.db'}"))


def test_context__missing_function_is_not_supported(ctx, monkeypatch):
    monkeypatch.setattr(valkeyaddon._lib.fn, "valkeyaddon_storage_open", None)
    with pytest.raises(valkeyaddon.NotSupported):
        ctx.set_storage("memory:")


def test_context__day_two_safety_over_memory(memory_ctx):
    """A typo keeps the plan, data loss needs allow_data_loss, deprovision keeps claims (1.1)."""
    c = memory_ctx
    c.provision(NS, TENANT, APP, "standard", no_wait=True)
    kept = c.provision(NS, TENANT, APP, "standrad", no_wait=True)
    assert kept.ensured.plan == "standard" and kept.ensured.plan_kept and kept.ensured.fell_back
    assert kept.row.plan == "standard"
    with pytest.raises(valkeyaddon.DataLoss) as info:
        c.provision(NS, TENANT, APP, "free", no_wait=True)
    assert info.value.code == errors.EDATALOSS and "allow_data_loss" in info.value.message
    assert c.provision(NS, TENANT, APP, "free", no_wait=True, allow_data_loss=True).ensured.plan == "free"
    with pytest.raises(valkeyaddon.Conflict):
        c.provision(NS, "other", APP, "free", no_wait=True)  # the row is acme's
    out = c.deprovision_with(NS, TENANT, APP, delete_data=True)
    assert out["deleted"] > 0 and out["kept_claims"] == []
