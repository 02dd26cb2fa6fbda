/*
 * The comparison behind the request economy (libvalkeyaddon/applied.c): what
 * counts as "the live object already carries our body", over hand-written
 * live objects shaped like what an API server returns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "valkeyaddon/context.h"
#include "alloc.h"
#include "applied.h"
#include "objects/objects.h"

static const valkeyaddon_resource service_r = { "v1", "Service", "services", 1 };
static const valkeyaddon_resource secret_r = { "v1", "Secret", "secrets", 1 };

/* A stamped object from a body; *hash receives its annotation value. */
static void stamp(struct valkeyaddon__object *o, const valkeyaddon_resource *r, const char *json, char *hash)
{
    valkeyaddon_ctx *ctx = NULL;
    const char *at;

    memset(o, 0, sizeof(*o));
    o->resource = r;
    snprintf(o->name, sizeof(o->name), "x");
    o->json = valkeyaddon__strdup(json);
    o->json_len = strlen(json);
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon__stamp_object(ctx, o), 0);
    valkeyaddon_ctx_free(ctx);
    at = strstr(o->json, "\"" VALKEYADDON__APPLIED_HASH "\":\"");
    assert_non_null(at);
    at += strlen("\"" VALKEYADDON__APPLIED_HASH "\":\"");
    assert_int_equal(strspn(at, "0123456789abcdef"), 64);
    if (hash)
        snprintf(hash, 65, "%s", at);
}

/* Whether the live JSON (with HASH standing for the object's stamp) is current. */
static int current(const struct valkeyaddon__object *o, const char *hash, const char *live_template)
{
    char live[4096], *at;
    int rc;

    snprintf(live, sizeof(live), "%s", live_template);
    if ((at = strstr(live, "HASH")) != NULL) {
        char rest[4096];
        snprintf(rest, sizeof(rest), "%s", at + 4);
        snprintf(at, sizeof(live) - (size_t)(at - live), "%s%s", hash, rest);
    }
    rc = valkeyaddon__object_is_current(o, live);
    return rc;
}

#define BODY "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"}}," \
             "\"spec\":{\"ports\":[{\"port\":6379,\"name\":\"redis\"}],\"publishNotReadyAddresses\":false," \
             "\"selector\":{}},\"resources\":{\"limits\":{\"memory\":\"1Gi\",\"cpu\":\"100m\"}}}"

static void test_applied__stamp_is_an_annotation_and_deterministic(void **state)
{
    struct valkeyaddon__object a, b;
    char ha[65], hb[65];

    (void)state;
    stamp(&a, &service_r, BODY, ha);
    stamp(&b, &service_r, BODY, hb);
    assert_string_equal(ha, hb);
    assert_non_null(strstr(a.json, "\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"},\"annotations\":{"));
    valkeyaddon__object_clear(&a);
    /* An existing annotations map gains the stamp; another body, another hash. */
    stamp(&a, &service_r, "{\"metadata\":{\"annotations\":{\"k\":\"v\"}},\"spec\":{}}", ha);
    assert_non_null(strstr(a.json, "{\"k\":\"v\",\"" VALKEYADDON__APPLIED_HASH "\":"));
    assert_string_not_equal(ha, hb);
    valkeyaddon__object_clear(&a);
    valkeyaddon__object_clear(&b);
}

static void test_applied__server_additions_and_normalisation_are_not_changes(void **state)
{
    struct valkeyaddon__object o;
    char h[65];

    (void)state;
    stamp(&o, &service_r, BODY, h);
    assert_int_equal(current(&o, h, o.json), 1);
    /* Defaults, status, other annotations; zero values omitted; quantities in another form. */
    assert_int_equal(current(&o, h, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"x\","
                                    "\"uid\":\"u\",\"generation\":4,\"labels\":{\"a\":\"b\",\"c\":\"d\"},"
                                    "\"annotations\":{\"other\":\"1\",\"valkeyaddon.io/applied-hash\":\"HASH\"}},"
                                    "\"spec\":{\"ports\":[{\"port\":6379,\"name\":\"redis\",\"protocol\":\"TCP\"}],"
                                    "\"type\":\"ClusterIP\"},\"resources\":{\"limits\":{\"memory\":\"1024Mi\","
                                    "\"cpu\":\"0.1\"}},\"status\":{\"loadBalancer\":{}}}"),
                     1);
    valkeyaddon__object_clear(&o);
}

static void test_applied__changes_are_seen(void **state)
{
    struct valkeyaddon__object o;
    char h[65];

    (void)state;
    stamp(&o, &service_r, BODY, h);
    /* No stamp, another stamp, a changed value, a quantity of another size, an array of another length. */
    assert_int_equal(current(&o, h, BODY), 0);
    assert_int_equal(valkeyaddon__object_is_current(&o, "{}"), 0);
    {
        char other[4096], *at;
        snprintf(other, sizeof(other), "%s", o.json);
        at = strstr(other, h);
        at[0] = at[0] == 'a' ? 'b' : 'a';
        assert_int_equal(valkeyaddon__object_is_current(&o, other), 0);
        snprintf(other, sizeof(other), "%s", o.json);
        at = strstr(other, "6379");
        at[3] = '8';
        assert_int_equal(valkeyaddon__object_is_current(&o, other), 0);
        snprintf(other, sizeof(other), "%s", o.json);
        at = strstr(other, "\"1Gi\"");
        memcpy(at, "\"1G\" ", 5);
        assert_int_equal(valkeyaddon__object_is_current(&o, other), 0);
        snprintf(other, sizeof(other), "%s", o.json);
        at = strstr(other, "\"name\":\"redis\"}]");
        memcpy(at + strlen("\"name\":\"redis\"}"), ",{}]", 5);
        memcpy(at + strlen("\"name\":\"redis\"}") + 4, strstr(o.json, "\"name\":\"redis\"}]") + strlen("\"name\":\"redis\"}]"),
               strlen(strstr(o.json, "\"name\":\"redis\"}]") + strlen("\"name\":\"redis\"}]")) + 1);
        assert_int_equal(valkeyaddon__object_is_current(&o, other), 0);
    }
    /* A label we set, removed; a live copy that is not JSON. */
    assert_int_equal(current(&o, h, "{\"metadata\":{\"annotations\":{\"valkeyaddon.io/applied-hash\":\"HASH\"}}}"),
                     0);
    assert_int_equal(valkeyaddon__object_is_current(&o, "{not json"), 0);
    assert_int_equal(valkeyaddon__object_is_current(&o, NULL), 0);
    valkeyaddon__object_clear(&o);
}

static void test_applied__secret_data_compared_decoded_and_not_hashed(void **state)
{
    struct valkeyaddon__object a, b;
    char ha[65], hb[65], live[1024];

    (void)state;
    /* "c2VjcmV0" is "secret", "b3RoZXI=" is "other": the stamp does not depend on the value. */
    stamp(&a, &secret_r, "{\"metadata\":{\"name\":\"x\"},\"data\":{\"k\":\"c2VjcmV0\"}}", ha);
    stamp(&b, &secret_r, "{\"metadata\":{\"name\":\"x\"},\"data\":{\"k\":\"b3RoZXI=\"}}", hb);
    assert_string_equal(ha, hb);
    snprintf(live, sizeof(live), "{\"metadata\":{\"name\":\"x\",\"annotations\":{\"" VALKEYADDON__APPLIED_HASH
             "\":\"%s\"}},\"type\":\"Opaque\",\"data\":{\"k\":\"c2VjcmV0\",\"extra\":\"eA==\"}}", ha);
    assert_int_equal(valkeyaddon__object_is_current(&a, live), 1);
    assert_int_equal(valkeyaddon__object_is_current(&b, live), 0);
    valkeyaddon__object_clear(&a);
    /* A data key set changes the stamp. */
    stamp(&a, &secret_r, "{\"metadata\":{\"name\":\"x\"},\"data\":{\"j\":\"c2VjcmV0\"}}", ha);
    assert_string_not_equal(ha, hb);
    valkeyaddon__object_clear(&a);
    valkeyaddon__object_clear(&b);
}

static void test_applied__statefulset_unrealised(void **state)
{
    (void)state;
    assert_int_equal(valkeyaddon__statefulset_unrealised("{\"spec\":{\"replicas\":3},\"status\":{\"readyReplicas\":3}}"),
                     0);
    assert_int_equal(valkeyaddon__statefulset_unrealised("{\"spec\":{\"replicas\":3},\"status\":{\"readyReplicas\":2}}"),
                     1);
    assert_int_equal(valkeyaddon__statefulset_unrealised("{\"spec\":{\"replicas\":1},\"status\":{}}"), 1);
    assert_int_equal(valkeyaddon__statefulset_unrealised("nonsense"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applied__stamp_is_an_annotation_and_deterministic),
        cmocka_unit_test(test_applied__server_additions_and_normalisation_are_not_changes),
        cmocka_unit_test(test_applied__changes_are_seen),
        cmocka_unit_test(test_applied__secret_data_compared_decoded_and_not_hashed),
        cmocka_unit_test(test_applied__statefulset_unrealised),
    };
    return cmocka_run_group_tests_name("applied", tests, NULL, NULL);
}
