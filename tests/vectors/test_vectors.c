/*
 * The shared vectors (tests/vectors/vectors.json) checked through the C API.
 * The Python and Go bindings check the same file, so the three cannot drift.
 */
#include "../unit/helpers.h"

#include <stdlib.h>

#include <yajl/yajl_tree.h>

static yajl_val root;

static const char *str(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    assert_non_null(v);
    return YAJL_GET_STRING(v);
}

static long long num(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(obj, path, yajl_t_number);
    assert_non_null(v);
    return YAJL_GET_INTEGER(v);
}

static int boolean(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(obj, path, yajl_t_any);
    assert_true(v && (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)));
    return YAJL_IS_TRUE(v);
}

static yajl_val list(const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_array);
    assert_non_null(v);
    assert_true(v->u.array.len > 0);
    return v;
}

static void test_vectors__names(void **state)
{
    yajl_val names = list("names");
    char out[VALKEYADDON_NAME_BUFSIZE], secret[VALKEYADDON_NAME_BUFSIZE];
    size_t i;

    (void)state;
    for (i = 0; i < names->u.array.len; i++) {
        yajl_val v = names->u.array.values[i];
        int rc = valkey_name(out, sizeof(out), NULL, str(v, "tenant_id"), str(v, "app_id"));
        assert_int_equal(rc, boolean(v, "shortened") ? VALKEYADDON_NAME_SHORTENED : 0);
        assert_string_equal(out, str(v, "name"));
        assert_int_equal(valkeyaddon_auth_secret_name(secret, sizeof(secret), NULL, out), 0);
        assert_string_equal(secret, str(v, "auth_secret"));
        assert_int_equal(valkeyaddon_redis_url_secret_name(secret, sizeof(secret), NULL, str(v, "app_id")), 0);
        assert_string_equal(secret, str(v, "redis_url_secret"));
    }
}

static void test_vectors__invalid_ids(void **state)
{
    yajl_val ids = list("invalid_ids");
    char out[VALKEYADDON_NAME_BUFSIZE];
    size_t i;

    (void)state;
    for (i = 0; i < ids->u.array.len; i++) {
        yajl_val v = ids->u.array.values[i];
        assert_int_equal(valkey_name(out, sizeof(out), NULL, str(v, "tenant_id"), str(v, "app_id")),
                         VALKEYADDON_EINVAL);
    }
}

static void test_vectors__plans(void **state)
{
    yajl_val plans = list("plans");
    size_t i;

    (void)state;
    for (i = 0; i < plans->u.array.len; i++) {
        yajl_val v = plans->u.array.values[i];
        valkeyaddon_plan_config p;
        int rc;

        memset(&p, 0, sizeof(p));
        p.version = VALKEYADDON_PLAN_CONFIG_VERSION;
        rc = valkey_plan_config(&p, NULL, str(v, "requested"));
        assert_int_equal(rc, boolean(v, "fell_back") ? 1 : 0);
        assert_string_equal(p.plan, str(v, "plan"));
        assert_int_equal(p.fell_back, boolean(v, "fell_back"));
        assert_int_equal(p.replicas, num(v, "replicas"));
        assert_string_equal(p.memory_limit, str(v, "memory_limit"));
        assert_int_equal(p.memory_limit_bytes, num(v, "memory_limit_bytes"));
        assert_string_equal(p.persistence_name, str(v, "persistence"));
        assert_int_equal(p.appendonly, boolean(v, "appendonly"));
        assert_int_equal(p.maxmemory_percent, num(v, "maxmemory_percent"));
        assert_string_equal(p.maxmemory_policy, str(v, "maxmemory_policy"));
        assert_string_equal(p.volume_size, str(v, "volume_size"));
    }
}

static void test_vectors__statuses(void **state)
{
    yajl_val statuses = list("statuses");
    size_t i;

    (void)state;
    for (i = 0; i < statuses->u.array.len; i++) {
        yajl_val v = statuses->u.array.values[i];
        int s = parse_valkey_status((int32_t)num(v, "ready"), (int32_t)num(v, "desired"));
        assert_string_equal(valkeyaddon_status_name(s), str(v, "status"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors__names),
        cmocka_unit_test(test_vectors__invalid_ids),
        cmocka_unit_test(test_vectors__plans),
        cmocka_unit_test(test_vectors__statuses),
    };
    const char *srcdir = getenv("top_srcdir");
    char path[4096], error[256];
    FILE *f;
    char *text;
    long size;
    int failures;

    snprintf(path, sizeof(path), "%s/tests/vectors/vectors.json", srcdir ? srcdir : ".");
    if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || !(text = calloc(1, (size_t)size + 1)) ||
        fread(text, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "test_vectors: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    if (!(root = yajl_tree_parse(text, error, sizeof(error)))) {
        fprintf(stderr, "test_vectors: %s: %s\n", path, error);
        return 1;
    }
    failures = cmocka_run_group_tests_name("vectors", tests, NULL, NULL);
    yajl_tree_free(root);
    free(text);
    return failures;
}
