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
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "valkeyaddon/context.h"
#include "valkeyaddon/objects.h"
#include "valkeyaddon/plans.h"
#include "ctx.h"
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

/* A copy of a built object, so both ways stamp the same input. */
static void copy_object(struct valkeyaddon__object *to, const struct valkeyaddon__object *from)
{
    *to = *from;
    assert_non_null(to->json = valkeyaddon__malloc(from->json_len + 1));
    memcpy(to->json, from->json, from->json_len + 1);
}

/* Stamped by the builder's mark and by parse-and-rewrite (the definition): the same bytes. */
static void assert_both_ways_agree(valkeyaddon_ctx *ctx, const struct valkeyaddon__object *built)
{
    struct valkeyaddon__object fast, slow;

    /* Every builder marks where the stamp goes, so the fast way is the one taken. */
    assert_int_not_equal(built->stamp_where, VALKEYADDON__STAMP_UNKNOWN);
    copy_object(&fast, built);
    copy_object(&slow, built);
    assert_int_equal(valkeyaddon__stamp_object_by(ctx, &fast, 0), 0);
    assert_int_equal(valkeyaddon__stamp_object_by(ctx, &slow, 1), 0);
    assert_int_equal(fast.json_len, slow.json_len);
    assert_string_equal(fast.json, slow.json);
    valkeyaddon__object_clear(&fast);
    valkeyaddon__object_clear(&slow);
}

static void test_applied__marked_stamp_equals_parse_and_rewrite(void **state)
{
    valkeyaddon_object_options options = VALKEYADDON_OBJECT_OPTIONS_INIT;
    valkeyaddon_ctx *ctx = NULL;
    int variant;
    size_t plan, i, checked = 0;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    for (variant = 0; variant < 2; variant++) {
        /* Every extra object on, then the exporter off (no ServiceMonitor, another StatefulSet). */
        options.pod_disruption_budget = options.network_policy = options.service_monitor = 1;
        options.no_exporter = variant;
        options.storage_class = variant ? "fast-ssd" : NULL; /* the start script in the StatefulSet is what JSON escapes */
        assert_int_equal(valkeyaddon_ctx_set_object_options(ctx, &options), 0);
        for (plan = 0; plan < valkeyaddon_plan_count(); plan++) {
            valkeyaddon_plan_config config = VALKEYADDON_PLAN_CONFIG_INIT;
            struct valkeyaddon__addon addon;
            struct valkeyaddon__objects objects;
            struct valkeyaddon__object url;
            char *uri;

            assert_int_equal(valkey_plan_config(&config, ctx, valkeyaddon_plan_name(plan)), 0);
            assert_int_equal(valkeyaddon__addon_init(&addon, ctx, "tenant-ns", "acme", "web", &config,
                                                     &ctx->object_options), 0);
            assert_int_equal(valkeyaddon__build_objects(&objects, ctx, &addon, "0123456789abcdefABCDEF0123456789"), 0);
            for (i = 0; i < objects.count; i++, checked++)
                assert_both_ways_agree(ctx, &objects.items[i]);
            assert_non_null(uri = valkeyaddon__redis_uri(&addon, "0123456789abcdefABCDEF0123456789"));
            assert_int_equal(valkeyaddon__build_redis_url_secret(&url, ctx, &addon, uri, strlen(uri)), 0);
            assert_both_ways_agree(ctx, &url);
            checked++;
            valkeyaddon__object_clear(&url);
            valkeyaddon__free(uri);
            valkeyaddon__objects_clear(&objects);
        }
    }
    /* Both Secrets, both Services, the StatefulSet and the extras, for every plan. */
    assert_true(checked >= valkeyaddon_plan_count() * 2 * 6);
    valkeyaddon_ctx_free(ctx);
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
    }
    /* (An atomic list of another length: test_applied__keyed_lists_are_subsets_atomic_lists_exact.) */
    /* A label we set, removed; a live copy that is not JSON. */
    assert_int_equal(current(&o, h, "{\"metadata\":{\"annotations\":{\"valkeyaddon.io/applied-hash\":\"HASH\"}}}"),
                     0);
    assert_int_equal(valkeyaddon__object_is_current(&o, "{not json"), 0);
    assert_int_equal(valkeyaddon__object_is_current(&o, NULL), 0);
    valkeyaddon__object_clear(&o);
}

#define STS_BODY                                                                                                    \
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"template\":{"   \
    "\"spec\":{\"containers\":[{\"name\":\"valkey\",\"args\":[\"a\",\"b\"],"                                       \
    "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"ports\":[{\"name\":\"valkey\",\"containerPort\":6379}],"       \
    "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}}}}"

/*
 * Server-side apply merges a list whose schema is x-kubernetes-list-type: map
 * item by item (transcripts 02, 03): another field manager's env var, container
 * port, mount or Service port stays in the live list, anywhere in it. Our items
 * are found by their map keys; extra items are not a change. An atomic list
 * (args, NetworkPolicy rules) is still compared whole.
 */
static void test_applied__keyed_lists_are_subsets_atomic_lists_exact(void **state)
{
    static const valkeyaddon_resource sts_r = { "apps/v1", "StatefulSet", "statefulsets", 1 };
    static const char live_head[] = "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"x\",\"annotations\":{\"" VALKEYADDON__APPLIED_HASH
                                    "\":\"HASH\"}},\"spec\":{\"template\":{\"spec\":{\"containers\":[";
    struct valkeyaddon__object o, svc;
    char h[65], hs[65], live[4096];

    (void)state;
    stamp(&o, &sts_r, STS_BODY, h);
    /* A foreign env var first, a sidecar container, a foreign port and mount; protocol defaulted. */
    snprintf(live, sizeof(live), "%s%s", live_head,
             "{\"name\":\"sidecar\"},{\"name\":\"valkey\",\"args\":[\"a\",\"b\"],"
             "\"env\":[{\"name\":\"FOREIGN\",\"value\":\"1\"},{\"name\":\"A\",\"value\":\"1\"}],"
             "\"ports\":[{\"name\":\"admin\",\"containerPort\":16379,\"protocol\":\"TCP\"},"
             "{\"name\":\"valkey\",\"containerPort\":6379,\"protocol\":\"TCP\"}],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"},{\"name\":\"data\",\"mountPath\":\"/d2\"}]}]}}}}");
    assert_int_equal(current(&o, h, live), 1);
    /* Our env var with another value; our port under another protocol; our mount renamed at its path. */
    snprintf(live, sizeof(live), "%s%s", live_head,
             "{\"name\":\"valkey\",\"args\":[\"a\",\"b\"],\"env\":[{\"name\":\"A\",\"value\":\"2\"}],"
             "\"ports\":[{\"name\":\"valkey\",\"containerPort\":6379}],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}}}}");
    assert_int_equal(current(&o, h, live), 0);
    snprintf(live, sizeof(live), "%s%s", live_head,
             "{\"name\":\"valkey\",\"args\":[\"a\",\"b\"],\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
             "\"ports\":[{\"name\":\"valkey\",\"containerPort\":6379,\"protocol\":\"UDP\"}],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}}}}");
    assert_int_equal(current(&o, h, live), 0);
    snprintf(live, sizeof(live), "%s%s", live_head,
             "{\"name\":\"valkey\",\"args\":[\"a\",\"b\"],\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
             "\"ports\":[{\"name\":\"valkey\",\"containerPort\":6379}],"
             "\"volumeMounts\":[{\"name\":\"run\",\"mountPath\":\"/data\"}]}]}}}}");
    assert_int_equal(current(&o, h, live), 0);
    /* Our container gone (only a sidecar left); an atomic list longer or reordered. */
    snprintf(live, sizeof(live), "%s%s", live_head, "{\"name\":\"sidecar\"}]}}}}");
    assert_int_equal(current(&o, h, live), 0);
    snprintf(live, sizeof(live), "%s%s", live_head,
             "{\"name\":\"valkey\",\"args\":[\"a\",\"b\",\"c\"],\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
             "\"ports\":[{\"name\":\"valkey\",\"containerPort\":6379}],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}}}}");
    assert_int_equal(current(&o, h, live), 0);
    snprintf(live, sizeof(live), "%s%s", live_head,
             "{\"name\":\"valkey\",\"args\":[\"b\",\"a\"],\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
             "\"ports\":[{\"name\":\"valkey\",\"containerPort\":6379}],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}}}}");
    assert_int_equal(current(&o, h, live), 0);
    valkeyaddon__object_clear(&o);

    /* Service ports by port+protocol: a foreign port is fine, our port's targetPort changed is not. */
    stamp(&svc, &service_r, BODY, hs);
    assert_int_equal(current(&svc, hs, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"},\"annotations\":{\""
                                       VALKEYADDON__APPLIED_HASH "\":\"HASH\"}},\"spec\":{\"ports\":["
                                       "{\"port\":15090,\"name\":\"mesh\"},{\"port\":6379,\"name\":\"redis\"}]},"
                                       "\"resources\":{\"limits\":{\"memory\":\"1Gi\",\"cpu\":\"100m\"}}}"),
                     1);
    assert_int_equal(current(&svc, hs, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"},\"annotations\":{\""
                                       VALKEYADDON__APPLIED_HASH "\":\"HASH\"}},\"spec\":{\"ports\":["
                                       "{\"port\":15090,\"name\":\"redis\"}]},"
                                       "\"resources\":{\"limits\":{\"memory\":\"1Gi\",\"cpu\":\"100m\"}}}"),
                     0);
    valkeyaddon__object_clear(&svc);
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

/*
 * A live object is outside input: nested a million deep (an API server that
 * is hostile or broken), it is "not current", not a stack overflow in the
 * parse, the comparison or the free. The depth guard is the one in
 * util/json_tree.c (VALKEYADDON__JSON_MAX_DEPTH).
 */
static void test_applied__deeply_nested_live_object_is_refused_not_a_crash(void **state)
{
    enum { DEPTH = 1000000 };
    static const char head[] = "{\"spec\":", tail[] = "}";
    struct valkeyaddon__object o;
    size_t len = sizeof(head) - 1 + 2 * (size_t)DEPTH + sizeof(tail) - 1;
    char *live = malloc(len + 1), *p;
    char h[65];

    (void)state;
    assert_non_null(live);
    p = live;
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    memset(p, '[', DEPTH);
    memset(p + DEPTH, ']', DEPTH);
    memcpy(p + 2 * (size_t)DEPTH, tail, sizeof(tail));
    stamp(&o, &service_r, BODY, h);
    assert_int_equal(valkeyaddon__object_is_current(&o, live), 0);
    assert_int_equal(valkeyaddon__statefulset_unrealised(live), 1);
    valkeyaddon__object_clear(&o);
    free(live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applied__stamp_is_an_annotation_and_deterministic),
        cmocka_unit_test(test_applied__marked_stamp_equals_parse_and_rewrite),
        cmocka_unit_test(test_applied__server_additions_and_normalisation_are_not_changes),
        cmocka_unit_test(test_applied__changes_are_seen),
        cmocka_unit_test(test_applied__keyed_lists_are_subsets_atomic_lists_exact),
        cmocka_unit_test(test_applied__secret_data_compared_decoded_and_not_hashed),
        cmocka_unit_test(test_applied__statefulset_unrealised),
        cmocka_unit_test(test_applied__deeply_nested_live_object_is_refused_not_a_crash),
    };
    return cmocka_run_group_tests_name("applied", tests, NULL, NULL);
}
