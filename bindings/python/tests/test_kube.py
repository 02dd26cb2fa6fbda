"""Acceptance: a transport written in Python (kube_https.py: http.client + ssl) carries the
whole provision flow against the Kubernetes API test server (tests/support/kube_api_server.py,
with --auto-ready so StatefulSets become ready). Passwords are compared, never printed."""

import base64
import json
import os
import shutil
import sys
import tempfile

import pytest

import valkeyaddon
from conftest import TOP_SRCDIR
from dict_plugins import DictStorage
from kube_https import KubeHTTPSTransport

sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests", "support"))
import test_kube_api_server as support  # noqa: E402  (the server harness: ServerProcess)

NS, TENANT, APP = "tenant-ns", "acme", "web"
STS = valkeyaddon.Resource("apps/v1", "StatefulSet", "statefulsets")
SECRET = valkeyaddon.Resource("v1", "Secret", "secrets")
SERVICE = valkeyaddon.Resource("v1", "Service", "services")


@pytest.fixture(scope="module")
def server():
    support.TMP = tempfile.mkdtemp(prefix="valkeyaddon-python-kube-")
    s = support.ServerProcess("api", "--auto-ready", "0.05")
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(support.TMP, ignore_errors=True)


@pytest.fixture
def api(server):
    client = server.client()
    status, _, _ = client.request("POST", "/_test/reset")
    assert status < 300
    yield client
    client.close()


def transport_for(server):
    info = server.info
    return KubeHTTPSTransport("127.0.0.1", info["port"], info["ca"], info["token"])


def get(api, resource, name):
    status, _, body = api.request("GET", resource.path(NS, name))
    return status, body


def password(api, name):
    status, body = get(api, SECRET, name)
    assert status == 200
    return base64.b64decode(body["data"]["password"])


def test_kube__python_transport_provisions_to_ready(server, api):
    t, storage = transport_for(server), DictStorage()
    progress = []
    with valkeyaddon.Context(transport=t, storage=storage) as ctx:
        result = ctx.provision(NS, TENANT, APP, plan="standard", timeout=60, progress=progress.append)
        assert result.row.status is valkeyaddon.Status.READY, result.row.status_message
        assert result.ensured.password_created and result.row.plan == "standard"
        assert storage.rows[(APP, "valkey")].status is valkeyaddon.Status.READY
        assert progress and progress[-1].status is valkeyaddon.Status.READY

        status, sts = get(api, STS, "valkey-acme-web")
        assert status == 200 and sts["status"]["readyReplicas"] == 1
        managers = {m["manager"] for m in sts["metadata"]["managedFields"]}
        assert "paas-control-plane" in managers
        assert get(api, SERVICE, "valkey-acme-web")[0] == 200
        assert get(api, SECRET, "app-web-redis-url")[0] == 200
        first = password(api, "valkey-acme-web-auth")
        posts = [p for m, p in t.requests if m == "POST" and p.endswith("/secrets")]
        assert len(posts) == 1  # the auth Secret is created once

        again = ctx.provision(NS, TENANT, APP, plan="standard", timeout=60)
        assert again.row.status is valkeyaddon.Status.READY and not again.ensured.password_created
        assert password(api, "valkey-acme-web-auth") == first  # never rotated
        assert len([p for m, p in t.requests if m == "POST" and p.endswith("/secrets")]) == 1
        url = ctx.redis_url(NS, TENANT, APP)
        assert url.encode() == base64.b64decode(get(api, SECRET, "app-web-redis-url")[1]["data"]["REDIS_URL"])
        assert ctx.refresh_status(NS, TENANT, APP).info.status is valkeyaddon.Status.READY

        assert ctx.deprovision(NS, TENANT, APP) >= 5
        for resource, name in ((STS, "valkey-acme-web"), (SERVICE, "valkey-acme-web"),
                               (SECRET, "valkey-acme-web-auth"), (SECRET, "app-web-redis-url")):
            assert get(api, resource, name)[0] == 404, (resource.kind, name)
        assert not storage.rows
        assert any(m == "DELETE" for m, _ in t.requests)
    assert t.closed == 1


def test_kube__python_transport_with_memory_storage_and_pro_plan(server, api):
    with valkeyaddon.Context(transport=transport_for(server), storage=valkeyaddon.MemoryStorage()) as ctx:
        result = ctx.provision(NS, TENANT, "shop", plan="pro", timeout=60)
        assert result.row.status is valkeyaddon.Status.READY
        status, sts = get(api, STS, "valkey-acme-shop")
        assert status == 200 and sts["spec"]["replicas"] == 3 and sts["status"]["readyReplicas"] == 3
        assert ctx.addon_get("shop").status is valkeyaddon.Status.READY


def test_kube__exception_mid_provision_reaches_the_caller(server, api):
    t, storage = transport_for(server), DictStorage()
    t.fail_on = ("PATCH", "statefulsets")
    with valkeyaddon.Context(transport=t, storage=storage) as ctx:
        with pytest.raises(RuntimeError, match="injected failure") as info:
            ctx.provision(NS, TENANT, APP, plan="free", timeout=60)
        assert info.value.valkeyaddon_error.row.status is valkeyaddon.Status.FAILED
        assert storage.rows[(APP, "valkey")].status is valkeyaddon.Status.FAILED
        assert get(api, STS, "valkey-acme-web")[0] == 404
        # a re-call converges (the spec's recovery): same password, Ready
        before = password(api, "valkey-acme-web-auth")
        assert ctx.provision(NS, TENANT, APP, plan="free", timeout=60).row.status is valkeyaddon.Status.READY
        assert password(api, "valkey-acme-web-auth") == before


def test_kube__api_errors_map_to_error_classes(server, api):
    info = server.info
    t = KubeHTTPSTransport("127.0.0.1", info["port"], info["ca"], info["forbidden_token"])
    with valkeyaddon.Context(transport=t) as ctx:
        with pytest.raises(valkeyaddon.Forbidden) as e:
            ctx.ensure_valkey(NS, TENANT, APP)
        assert e.value.code == valkeyaddon.errors.EFORBIDDEN
        assert isinstance(e.value.__cause__, valkeyaddon.Forbidden)
    # the Python transport's own messages, as the library saw them, never carry Secret data
    assert "password" not in json.dumps(str(e.value))


def test_kube__builtin_kubernetes_transport_with_options(server, api):
    kube = valkeyaddon.KubernetesTransport(kubeconfig=server.info["kubeconfig"], context="test",
                                           request_timeout=20, retry_deadline=30)
    with valkeyaddon.Context(transport=kube, storage=valkeyaddon.MemoryStorage()) as ctx:
        assert kube.namespace == "default"
        result = ctx.provision(NS, TENANT, "api", plan="free", timeout=60)
        assert result.row.status is valkeyaddon.Status.READY
        assert get(api, STS, "valkey-acme-api")[0] == 200
        assert ctx.deprovision(NS, TENANT, "api") >= 5
        assert get(api, STS, "valkey-acme-api")[0] == 404
