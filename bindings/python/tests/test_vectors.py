"""The shared vectors (tests/vectors/vectors.json), as tests/vectors/test_vectors.c checks them in C."""

import pytest

import valkeyaddon


def test_vectors__names(ctx, vectors):
    assert vectors["names"]
    for v in vectors["names"]:
        name = ctx.valkey_name(v["tenant_id"], v["app_id"])
        assert name == v["name"]
        assert isinstance(name, str) and name.shortened is v["shortened"]
        assert ctx.auth_secret_name(name) == v["auth_secret"]
        assert ctx.redis_url_secret_name(v["app_id"]) == v["redis_url_secret"]
        assert valkeyaddon.valkey_name(v["tenant_id"], v["app_id"]) == v["name"]


def test_vectors__invalid_ids(ctx, vectors):
    assert vectors["invalid_ids"]
    for v in vectors["invalid_ids"]:
        with pytest.raises(valkeyaddon.InvalidArgument) as info:
            ctx.valkey_name(v["tenant_id"], v["app_id"])
        assert info.value.code == valkeyaddon.errors.EINVAL
        assert info.value.message == ctx.error_message != ""


def test_vectors__plans(ctx, vectors):
    assert vectors["plans"]
    for v in vectors["plans"]:
        p = ctx.plan_config(v["requested"])
        assert isinstance(p, valkeyaddon.PlanConfig)
        assert p.plan == v["plan"]
        assert p.fell_back is v["fell_back"]
        assert p.replicas == v["replicas"]
        assert p.memory_limit == v["memory_limit"]
        assert p.memory_limit_bytes == v["memory_limit_bytes"]
        assert p.persistence_name == v["persistence"]
        assert p.persistence.name.lower() == v["persistence"]
        assert p.appendonly is v["appendonly"]
        assert p.maxmemory_percent == v["maxmemory_percent"]
        assert p.maxmemory_policy == v["maxmemory_policy"]
        assert p.volume_size == v["volume_size"]


def test_vectors__statuses(vectors):
    assert vectors["statuses"]
    for v in vectors["statuses"]:
        s = valkeyaddon.parse_valkey_status(v["ready"], v["desired"])
        assert isinstance(s, valkeyaddon.Status)
        assert s.display_name == v["status"]


def test_vectors__plan_names_in_spec_order():
    assert valkeyaddon.plan_names() == ["free", "standard", "pro"]
