/*
 * The object builder (libvalkeyaddon/objects): order, names and kinds of the
 * objects for every plan, where the password may appear (only base64 in the
 * two Secrets' data), Services, volumes, resources, probes, the config hash,
 * extras, argument checks, and an allocation-failure sweep.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include <valkeyaddon.h>

#include "ctx.h"
#include "objects/builders.h"
#include "objects/objects.h"

#define NS "tenant-ns"
#define NAME "valkey-acme-web"
#define PASSWORD "Tst0Passw0rdTst0Passw0rdXyZ12345"

static const char *const plans[] = { "free", "standard", "pro" };

/* One add-on's objects, built through the internal interface. */
struct built {
    valkeyaddon_ctx *ctx;
    valkeyaddon_plan_config plan;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__objects objects;
    yajl_val parsed[VALKEYADDON__MAX_OBJECTS];
};

static int prepare(struct built *b, const char *plan, const valkeyaddon_object_options *options)
{
    memset(b, 0, sizeof(*b));
    assert_int_equal(valkeyaddon_ctx_new(&b->ctx, NULL), 0);
    if (options)
        assert_int_equal(valkeyaddon_ctx_set_object_options(b->ctx, options), 0);
    b->plan.version = VALKEYADDON_PLAN_CONFIG_VERSION;
    assert_true(valkey_plan_config(&b->plan, b->ctx, plan) >= 0);
    return valkeyaddon__addon_init(&b->addon, b->ctx, NS, "acme", "web", &b->plan, &b->ctx->object_options);
}

static void build(struct built *b, const char *plan, const valkeyaddon_object_options *options, const char *password)
{
    size_t i;

    assert_int_equal(prepare(b, plan, options), 0);
    assert_int_equal(valkeyaddon__build_objects(&b->objects, b->ctx, &b->addon, password), 0);
    for (i = 0; i < b->objects.count; i++) {
        char error[256];
        assert_int_equal(strlen(b->objects.items[i].json), b->objects.items[i].json_len);
        b->parsed[i] = yajl_tree_parse(b->objects.items[i].json, error, sizeof(error));
        if (!b->parsed[i])
            fail_msg("object %zu is not JSON: %s", i, error);
    }
}

static void release(struct built *b)
{
    size_t i;

    for (i = 0; i < b->objects.count; i++)
        yajl_tree_free(b->parsed[i]);
    valkeyaddon__objects_clear(&b->objects);
    valkeyaddon_ctx_free(b->ctx);
}

static valkeyaddon_object_options all_extras(void)
{
    valkeyaddon_object_options o = VALKEYADDON_OBJECT_OPTIONS_INIT;

    o.pod_disruption_budget = o.network_policy = o.service_monitor = 1;
    return o;
}

/* The value at a path of keys (NULL-terminated), or NULL. */
static yajl_val at(yajl_val root, ...)
{
    const char *path[16];
    size_t n = 0;
    va_list ap;

    va_start(ap, root);
    while (n < 15 && (path[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    path[n] = NULL;
    return yajl_tree_get(root, path, yajl_t_any);
}

static const char *str(yajl_val v)
{
    return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static long long integer(yajl_val v)
{
    assert_true(YAJL_IS_INTEGER(v));
    return YAJL_GET_INTEGER(v);
}

static size_t length(yajl_val v)
{
    return YAJL_IS_ARRAY(v) ? YAJL_GET_ARRAY(v)->len : 0;
}

static yajl_val item(yajl_val v, size_t i)
{
    assert_true(i < length(v));
    return YAJL_GET_ARRAY(v)->values[i];
}

/* The element of an array of objects whose "name" is name, or NULL. */
static yajl_val named(yajl_val array, const char *name)
{
    size_t i;

    for (i = 0; i < length(array); i++) {
        const char *n = str(at(item(array, i), "name", NULL));
        if (n && strcmp(n, name) == 0)
            return item(array, i);
    }
    return NULL;
}

static yajl_val find(struct built *b, const char *kind, const char *name)
{
    size_t i;

    for (i = 0; i < b->objects.count; i++)
        if (strcmp(b->objects.items[i].resource->kind, kind) == 0 && strcmp(b->objects.items[i].name, name) == 0)
            return b->parsed[i];
    return NULL;
}

static yajl_val valkey_container(struct built *b)
{
    yajl_val sts = find(b, "StatefulSet", NAME);

    assert_non_null(sts);
    return named(at(sts, "spec", "template", "spec", "containers", NULL), "valkey");
}

static char *base64(const char *data, size_t len)
{
    char *out = calloc(1, (len + 2) / 3 * 4 + 1);

    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return out;
}

static char *unbase64(const char *text, size_t *len)
{
    size_t n = strlen(text);
    unsigned char *out = calloc(1, n / 4 * 3 + 1);
    int decoded;

    assert_non_null(out);
    decoded = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
    assert_true(decoded >= 0);
    while (n > 0 && text[n - 1] == '=') {
        n--;
        decoded--;
    }
    out[decoded] = '\0';
    *len = (size_t)decoded;
    return (char *)out;
}

/*
 * Does text contain base64 of secret at any alignment (on its own, or inside a
 * longer value such as the URI)? For each offset, encode the secret behind
 * 0, 1 or 2 filler bytes and look for the characters that only depend on it.
 */
static int contains_base64_of(const char *text, const char *secret)
{
    int offset;

    for (offset = 0; offset < 3; offset++) {
        char buf[512], *encoded, core[512];
        size_t skip = offset ? (size_t)offset + 1 : 0, len;
        int found;

        snprintf(buf, sizeof(buf), "%.*s%s", offset, "xx", secret);
        encoded = base64(buf, strlen(buf));
        len = strlen(encoded);
        /* Drop the characters mixing in the filler, and the last group (mixes in what follows). */
        snprintf(core, sizeof(core), "%.*s", (int)(len - skip - 4), encoded + skip);
        found = strstr(text, core) != NULL;
        free(encoded);
        if (found)
            return 1;
    }
    return 0;
}

static void test_objects__order_kinds_and_names(void **state)
{
    size_t p;

    (void)state;
    for (p = 0; p < 3; p++) {
        valkeyaddon_object_options extras = all_extras();
        struct built plain, full;
        size_t i;

        build(&plain, plans[p], NULL, PASSWORD);
        /* The NetworkPolicy is there by default. */
        assert_int_equal(plain.objects.count, 5);
        assert_ptr_equal(plain.objects.items[0].resource, &valkeyaddon__secret_resource);
        assert_string_equal(plain.objects.items[0].name, NAME "-auth");
        assert_ptr_equal(plain.objects.items[1].resource, &valkeyaddon__service_resource);
        assert_string_equal(plain.objects.items[1].name, NAME "-headless");
        assert_ptr_equal(plain.objects.items[2].resource, &valkeyaddon__service_resource);
        assert_string_equal(plain.objects.items[2].name, NAME);
        assert_ptr_equal(plain.objects.items[3].resource, &valkeyaddon__statefulset_resource);
        assert_string_equal(plain.objects.items[3].name, NAME);
        assert_ptr_equal(plain.objects.items[4].resource, &valkeyaddon__networkpolicy_resource);
        assert_string_equal(plain.objects.items[4].name, NAME "-ingress");

        build(&full, plans[p], &extras, PASSWORD);
        /* A budget over one pod is useless: only pro (3 replicas) gets one. */
        assert_int_equal(full.objects.count, p == 2 ? 7 : 6);
        i = 4;
        if (p == 2) {
            assert_ptr_equal(full.objects.items[i].resource, &valkeyaddon__pdb_resource);
            assert_string_equal(full.objects.items[i++].name, NAME);
        }
        assert_ptr_equal(full.objects.items[i].resource, &valkeyaddon__networkpolicy_resource);
        assert_string_equal(full.objects.items[i++].name, NAME "-ingress");
        assert_ptr_equal(full.objects.items[i].resource, &valkeyaddon__servicemonitor_resource);
        assert_string_equal(full.objects.items[i++].name, NAME);

        for (i = 0; i < full.objects.count; i++) {
            const struct valkeyaddon__object *o = &full.objects.items[i];
            yajl_val labels = at(full.parsed[i], "metadata", "labels", NULL);
            /* Compact: no whitespace between tokens, no raw newline. */
            assert_true(strncmp(o->json, "{\"apiVersion\":\"", 15) == 0);
            assert_null(strchr(o->json, '\n'));
            assert_string_equal(str(at(full.parsed[i], "apiVersion", NULL)), o->resource->api_version);
            assert_string_equal(str(at(full.parsed[i], "kind", NULL)), o->resource->kind);
            assert_string_equal(str(at(full.parsed[i], "metadata", "name", NULL)), o->name);
            assert_string_equal(str(at(full.parsed[i], "metadata", "namespace", NULL)), NS);
            assert_string_equal(str(at(labels, "app.kubernetes.io/name", NULL)), "valkey");
            assert_string_equal(str(at(labels, "app.kubernetes.io/instance", NULL)), NAME);
            assert_string_equal(str(at(labels, "app.kubernetes.io/managed-by", NULL)), "libvalkeyaddon");
            assert_string_equal(str(at(labels, "valkeyaddon.io/tenant-id", NULL)), "acme");
            assert_string_equal(str(at(labels, "valkeyaddon.io/app-id", NULL)), "web");
        }
        release(&plain);
        release(&full);
    }
}

static void test_objects__password_only_in_the_secrets_data(void **state)
{
    size_t p, i;

    (void)state;
    /* The checker itself: it finds the password inside a longer base64 value, at every alignment. */
    for (i = 0; i < 3; i++) {
        char buf[128], *enc;
        snprintf(buf, sizeof(buf), "%.*sredis://:%s@host", (int)i, "ab", PASSWORD);
        enc = base64(buf, strlen(buf));
        assert_true(contains_base64_of(enc, PASSWORD));
        free(enc);
    }
    assert_false(contains_base64_of("cmVkaXM6Ly86QWJj", PASSWORD));

    for (p = 0; p < 3; p++) {
        valkeyaddon_object_options extras = all_extras();
        struct built b;
        struct valkeyaddon__object url;
        char *uri;

        build(&b, plans[p], &extras, PASSWORD);
        for (i = 0; i < b.objects.count; i++) {
            const struct valkeyaddon__object *o = &b.objects.items[i];
            assert_null(strstr(o->json, PASSWORD));
            assert_null(strstr(o->json, "stringData"));
            if (i == 0) {
                /* The auth Secret: base64 only, under data. */
                assert_true(contains_base64_of(o->json, PASSWORD));
            } else if (contains_base64_of(o->json, PASSWORD)) {
                fail_msg("%s %s carries the password", o->resource->kind, o->name);
            }
        }
        uri = valkeyaddon__redis_uri(&b.addon, PASSWORD);
        assert_non_null(uri);
        assert_int_equal(valkeyaddon__build_redis_url_secret(&url, b.ctx, &b.addon, uri, strlen(uri)), 0);
        assert_null(strstr(url.json, PASSWORD));
        assert_null(strstr(url.json, "stringData"));
        assert_true(contains_base64_of(url.json, PASSWORD));
        valkeyaddon__object_clear(&url);
        valkeyaddon_free(uri);
        release(&b);
    }
}

static void test_objects__secrets_data(void **state)
{
    static const char raw_uri[] = "redis://:x@h:1\n\xff\x01 exactly these bytes";
    const char *keys[] = { "uri", "host", "port", "password", "exporter-passwords.json" };
    const char *want[] = { "redis://default:" PASSWORD "@" NAME "." NS ".svc.cluster.local:6379",
                           NAME "." NS ".svc.cluster.local", "6379", PASSWORD,
                           /* redis_exporter's password file: the local server, and nothing else, gets it. */
                           "{\"redis://127.0.0.1:6379\":\"" PASSWORD "\"}" };
    struct valkeyaddon__object url;
    struct built b;
    yajl_val secret, parsed;
    size_t i, len;
    char *value;

    (void)state;
    build(&b, "standard", NULL, PASSWORD);
    secret = b.parsed[0];
    assert_string_equal(str(at(secret, "type", NULL)), "Opaque");
    assert_int_equal(YAJL_GET_OBJECT(at(secret, "data", NULL))->len, 5);
    for (i = 0; i < 5; i++) {
        value = unbase64(str(at(secret, "data", keys[i], NULL)), &len);
        assert_string_equal(value, want[i]);
        free(value);
    }

    /* REDIS_URL is the given bytes, whatever they are (the stored uri, never rebuilt). */
    assert_int_equal(valkeyaddon__build_redis_url_secret(&url, b.ctx, &b.addon, raw_uri, sizeof(raw_uri) - 1), 0);
    assert_ptr_equal(url.resource, &valkeyaddon__secret_resource);
    assert_string_equal(url.name, "app-web-redis-url");
    parsed = yajl_tree_parse(url.json, NULL, 0);
    assert_non_null(parsed);
    assert_string_equal(str(at(parsed, "metadata", "name", NULL)), "app-web-redis-url");
    assert_string_equal(str(at(parsed, "type", NULL)), "Opaque");
    assert_int_equal(YAJL_GET_OBJECT(at(parsed, "data", NULL))->len, 1);
    value = unbase64(str(at(parsed, "data", "REDIS_URL", NULL)), &len);
    assert_int_equal(len, sizeof(raw_uri) - 1);
    assert_memory_equal(value, raw_uri, len);
    free(value);
    yajl_tree_free(parsed);
    valkeyaddon__object_clear(&url);
    assert_null(url.json);
    release(&b);
}

static void test_objects__services(void **state)
{
    size_t p;

    (void)state;
    for (p = 0; p < 3; p++) {
        valkeyaddon_object_options no_exporter = VALKEYADDON_OBJECT_OPTIONS_INIT;
        struct built b, quiet;
        yajl_val headless, primary, selector;

        build(&b, plans[p], NULL, PASSWORD);
        headless = find(&b, "Service", NAME "-headless");
        primary = find(&b, "Service", NAME);
        assert_non_null(headless);
        assert_non_null(primary);

        assert_string_equal(str(at(headless, "spec", "clusterIP", NULL)), "None");
        assert_true(YAJL_IS_TRUE(at(headless, "spec", "publishNotReadyAddresses", NULL)));
        selector = at(headless, "spec", "selector", NULL);
        assert_int_equal(YAJL_GET_OBJECT(selector)->len, 2);
        assert_string_equal(str(at(selector, "app.kubernetes.io/instance", NULL)), NAME);

        /* Apps reach the primary only: pod 0, by the label the StatefulSet controller sets. */
        assert_string_equal(str(at(primary, "spec", "type", NULL)), "ClusterIP");
        assert_null(at(primary, "spec", "clusterIP", NULL));
        selector = at(primary, "spec", "selector", NULL);
        assert_string_equal(str(at(selector, "statefulset.kubernetes.io/pod-name", NULL)), NAME "-0");
        assert_string_equal(str(at(selector, "app.kubernetes.io/name", NULL)), "valkey");
        assert_string_equal(str(at(selector, "app.kubernetes.io/instance", NULL)), NAME);
        assert_int_equal(integer(at(named(at(primary, "spec", "ports", NULL), "valkey"), "port", NULL)), 6379);
        /* The exporter is for the monitoring stack (the headless Service), not for apps. */
        assert_int_equal(length(at(primary, "spec", "ports", NULL)), 1);
        assert_null(named(at(primary, "spec", "ports", NULL), "metrics"));
        assert_int_equal(integer(at(named(at(headless, "spec", "ports", NULL), "metrics"), "port", NULL)), 9121);

        no_exporter.no_exporter = 1;
        build(&quiet, plans[p], &no_exporter, PASSWORD);
        assert_int_equal(length(at(find(&quiet, "Service", NAME), "spec", "ports", NULL)), 1);
        assert_int_equal(length(at(find(&quiet, "Service", NAME "-headless"), "spec", "ports", NULL)), 1);
        assert_null(named(at(find(&quiet, "StatefulSet", NAME), "spec", "template", "spec", "containers", NULL),
                          "redis-exporter"));
        release(&quiet);
        release(&b);
    }
}

static void test_objects__statefulset_per_plan(void **state)
{
    static const struct {
        long long replicas, grace;
        const char *memory, *cpu_request, *cpu_limit, *volume;
    } want[] = {
        { 1, 10, "64Mi", "50m", "250m", NULL },
        { 1, 60, "256Mi", "100m", "500m", "1Gi" },
        { 3, 60, "1Gi", "250m", "1000m", "4Gi" },
    };
    size_t p;

    (void)state;
    for (p = 0; p < 3; p++) {
        valkeyaddon_object_options classy = VALKEYADDON_OBJECT_OPTIONS_INIT;
        struct built b, c;
        yajl_val sts, spec, pod, valkey, exporter, claims, volumes;

        build(&b, plans[p], NULL, PASSWORD);
        sts = find(&b, "StatefulSet", NAME);
        spec = at(sts, "spec", NULL);
        pod = at(spec, "template", "spec", NULL);
        assert_int_equal(integer(at(spec, "replicas", NULL)), want[p].replicas);
        assert_string_equal(str(at(spec, "serviceName", NULL)), NAME "-headless");
        assert_string_equal(str(at(spec, "podManagementPolicy", NULL)), "OrderedReady");
        assert_string_equal(str(at(spec, "updateStrategy", "type", NULL)), "RollingUpdate");
        assert_string_equal(str(at(spec, "persistentVolumeClaimRetentionPolicy", "whenDeleted", NULL)), "Retain");
        assert_string_equal(str(at(spec, "persistentVolumeClaimRetentionPolicy", "whenScaled", NULL)), "Retain");
        assert_int_equal(YAJL_GET_OBJECT(at(spec, "selector", "matchLabels", NULL))->len, 2);
        assert_int_equal(integer(at(pod, "terminationGracePeriodSeconds", NULL)), want[p].grace);
        assert_true(YAJL_IS_FALSE(at(pod, "automountServiceAccountToken", NULL)));
        assert_true(YAJL_IS_FALSE(at(pod, "enableServiceLinks", NULL)));
        assert_true(YAJL_IS_TRUE(at(pod, "securityContext", "runAsNonRoot", NULL)));
        assert_int_equal(integer(at(pod, "securityContext", "runAsUser", NULL)), 999);
        assert_string_equal(str(at(pod, "securityContext", "seccompProfile", "type", NULL)), "RuntimeDefault");

        valkey = valkey_container(&b);
        assert_non_null(valkey);
        assert_string_equal(str(at(valkey, "image", NULL)), VALKEYADDON_DEFAULT_IMAGE);
        assert_string_equal(str(at(valkey, "resources", "requests", "memory", NULL)), want[p].memory);
        assert_string_equal(str(at(valkey, "resources", "limits", "memory", NULL)), want[p].memory);
        assert_string_equal(str(at(valkey, "resources", "requests", "cpu", NULL)), want[p].cpu_request);
        assert_string_equal(str(at(valkey, "resources", "limits", "cpu", NULL)), want[p].cpu_limit);
        assert_true(YAJL_IS_FALSE(at(valkey, "securityContext", "allowPrivilegeEscalation", NULL)));
        assert_true(YAJL_IS_TRUE(at(valkey, "securityContext", "readOnlyRootFilesystem", NULL)));
        assert_string_equal(str(item(at(valkey, "securityContext", "capabilities", "drop", NULL), 0)), "ALL");
        assert_string_equal(str(at(named(at(valkey, "volumeMounts", NULL), "data"), "mountPath", NULL)), "/data");
        assert_string_equal(str(at(named(at(valkey, "volumeMounts", NULL), "run"), "mountPath", NULL)),
                            "/run/valkey");
        assert_string_equal(str(at(named(at(valkey, "env", NULL), "VALKEY_PRIMARY_HOST"), "value", NULL)),
                            NAME "-0." NAME "-headless." NS ".svc.cluster.local");

        exporter = named(at(pod, "containers", NULL), "redis-exporter");
        assert_non_null(exporter);
        assert_string_equal(str(at(exporter, "image", NULL)), VALKEYADDON_DEFAULT_EXPORTER_IMAGE);
        assert_string_equal(str(at(named(at(exporter, "env", NULL), "REDIS_ADDR"), "value", NULL)),
                            "redis://127.0.0.1:6379");
        /*
         * No REDIS_PASSWORD (the exporter would send it to any /scrape target):
         * a password file keyed by the local URI, from the auth Secret, 0440.
         */
        assert_null(named(at(exporter, "env", NULL), "REDIS_PASSWORD"));
        assert_int_equal(length(at(exporter, "env", NULL)), 2);
        assert_string_equal(str(at(named(at(exporter, "env", NULL), "REDIS_PASSWORD_FILE"), "value", NULL)),
                            "/run/redis-exporter/passwords.json");
        assert_string_equal(str(at(named(at(exporter, "volumeMounts", NULL), "exporter-auth"), "mountPath", NULL)),
                            "/run/redis-exporter");
        assert_true(YAJL_IS_TRUE(at(named(at(exporter, "volumeMounts", NULL), "exporter-auth"), "readOnly", NULL)));
        assert_null(named(at(valkey, "volumeMounts", NULL), "exporter-auth"));
        assert_string_equal(str(at(named(at(pod, "volumes", NULL), "exporter-auth"), "secret", "secretName", NULL)),
                            NAME "-auth");
        assert_int_equal(integer(at(named(at(pod, "volumes", NULL), "exporter-auth"), "secret", "defaultMode", NULL)),
                         0440);
        assert_int_equal(length(at(named(at(pod, "volumes", NULL), "exporter-auth"), "secret", "items", NULL)), 1);
        assert_string_equal(str(at(item(at(named(at(pod, "volumes", NULL), "exporter-auth"), "secret", "items", NULL),
                                        0), "key", NULL)), "exporter-passwords.json");
        assert_null(at(exporter, "args", NULL));
        assert_string_equal(str(at(exporter, "resources", "limits", "memory", NULL)), "64Mi");
        assert_true(YAJL_IS_TRUE(at(exporter, "securityContext", "readOnlyRootFilesystem", NULL)));

        claims = at(spec, "volumeClaimTemplates", NULL);
        volumes = at(pod, "volumes", NULL);
        assert_string_equal(str(at(named(volumes, "run"), "emptyDir", "medium", NULL)), "Memory");
        if (!want[p].volume) {
            assert_null(claims);
            assert_non_null(at(named(volumes, "data"), "emptyDir", NULL));
        } else {
            assert_int_equal(length(claims), 1);
            assert_string_equal(str(at(item(claims, 0), "metadata", "name", NULL)), "data");
            assert_string_equal(str(at(item(claims, 0), "spec", "resources", "requests", "storage", NULL)),
                                want[p].volume);
            assert_string_equal(str(item(at(item(claims, 0), "spec", "accessModes", NULL), 0)), "ReadWriteOnce");
            assert_null(at(item(claims, 0), "spec", "storageClassName", NULL));
            /* The claim, not an emptyDir, provides /data. */
            assert_null(named(volumes, "data"));

            classy.storage_class = "fast-ssd";
            build(&c, plans[p], &classy, PASSWORD);
            assert_string_equal(str(at(item(at(find(&c, "StatefulSet", NAME), "spec", "volumeClaimTemplates", NULL),
                                            0), "spec", "storageClassName", NULL)), "fast-ssd");
            release(&c);
        }
        release(&b);
    }
}

static void test_objects__probes_and_password_references(void **state)
{
    struct built b;
    yajl_val valkey, env, probe;
    const char *kinds[] = { "readinessProbe", "livenessProbe" }, *names[] = { "VALKEY_PASSWORD", "REDISCLI_AUTH" };
    size_t i;

    (void)state;
    build(&b, "pro", NULL, PASSWORD);
    valkey = valkey_container(&b);
    env = at(valkey, "env", NULL);
    for (i = 0; i < 2; i++) {
        yajl_val ref = at(named(env, names[i]), "valueFrom", "secretKeyRef", NULL);
        assert_string_equal(str(at(ref, "name", NULL)), NAME "-auth");
        assert_string_equal(str(at(ref, "key", NULL)), "password");
        assert_null(at(named(env, names[i]), "value", NULL));
    }
    for (i = 0; i < 2; i++) {
        const char *check;
        probe = at(valkey, kinds[i], "exec", "command", NULL);
        assert_int_equal(length(probe), 3);
        assert_string_equal(str(item(probe, 0)), "/bin/sh");
        check = str(item(probe, 2));
        /* valkey-cli takes the password from REDISCLI_AUTH (env above), never -a; the reply must be PONG. */
        assert_non_null(strstr(check, "valkey-cli -h 127.0.0.1"));
        assert_null(strstr(check, " -a "));
        assert_non_null(strstr(check, "PONG"));
        assert_true(integer(at(valkey, kinds[i], "timeoutSeconds", NULL)) >= 1);
    }
    assert_non_null(strstr(str(item(at(valkey, "livenessProbe", "exec", "command", NULL), 2)), "LOADING"));
    assert_null(strstr(str(item(at(valkey, "readinessProbe", "exec", "command", NULL), 2)), "LOADING"));
    /* The command: /bin/sh -c SCRIPT, the script writing the config and exec'ing the server. */
    assert_string_equal(str(item(at(valkey, "command", NULL), 1)), "-c");
    assert_non_null(strstr(str(item(at(valkey, "command", NULL), 2)), "exec \"$server\" \"$conf\""));
    assert_null(at(valkey, "args", NULL));
    release(&b);
}

static const char *config_hash(struct built *b)
{
    return str(at(find(b, "StatefulSet", NAME), "spec", "template", "metadata", "annotations",
                  "valkeyaddon.io/config-hash", NULL));
}

static void test_objects__config_hash(void **state)
{
    valkeyaddon_object_options other_image = VALKEYADDON_OBJECT_OPTIONS_INIT;
    struct built free_, standard, pro, pro2, pro3;
    const char *h;

    (void)state;
    build(&free_, "free", NULL, PASSWORD);
    build(&standard, "standard", NULL, PASSWORD);
    build(&pro, "pro", NULL, PASSWORD);
    build(&pro2, "pro", NULL, "AnotherPassword0123456789abcdefg");
    other_image.image = "valkey/valkey:8.1.5-alpine";
    build(&pro3, "pro", &other_image, PASSWORD);
    h = config_hash(&pro);
    assert_non_null(h);
    assert_int_equal(strlen(h), 64);
    assert_int_equal(strspn(h, "0123456789abcdef"), 64);
    assert_string_not_equal(config_hash(&free_), config_hash(&standard));
    assert_string_not_equal(config_hash(&standard), h);
    assert_string_not_equal(config_hash(&free_), h);
    assert_string_equal(config_hash(&pro2), h);
    assert_string_not_equal(config_hash(&pro3), h);
    /* Deterministic: the same inputs, the same StatefulSet. */
    assert_string_equal(pro2.objects.items[3].json, pro.objects.items[3].json);
    release(&free_);
    release(&standard);
    release(&pro);
    release(&pro2);
    release(&pro3);
}

static void test_objects__extras(void **state)
{
    valkeyaddon_object_options o = all_extras();
    struct built pro, free_, quiet;
    yajl_val pdb, np, sm, rules;

    (void)state;
    o.app_label = "paas.example/app";
    o.monitoring_namespace = "observability";
    build(&pro, "pro", &o, PASSWORD);
    pdb = find(&pro, "PodDisruptionBudget", NAME);
    assert_non_null(pdb);
    assert_int_equal(integer(at(pdb, "spec", "maxUnavailable", NULL)), 1);
    assert_null(at(pdb, "spec", "minAvailable", NULL));
    assert_string_equal(str(at(pdb, "spec", "selector", "matchLabels", "app.kubernetes.io/instance", NULL)), NAME);

    np = find(&pro, "NetworkPolicy", NAME "-ingress");
    assert_non_null(np);
    assert_string_equal(str(item(at(np, "spec", "policyTypes", NULL), 0)), "Ingress");
    rules = at(np, "spec", "ingress", NULL);
    assert_int_equal(length(rules), 3);
    assert_string_equal(str(at(item(at(item(rules, 0), "from", NULL), 0), "podSelector", "matchLabels",
                               "paas.example/app", NULL)), "web");
    assert_int_equal(integer(at(item(at(item(rules, 0), "ports", NULL), 0), "port", NULL)), 6379);
    assert_string_equal(str(at(item(at(item(rules, 1), "from", NULL), 0), "podSelector", "matchLabels",
                               "app.kubernetes.io/instance", NULL)), NAME);
    assert_int_equal(integer(at(item(at(item(rules, 1), "ports", NULL), 0), "port", NULL)), 6379);
    assert_string_equal(str(at(item(at(item(rules, 2), "from", NULL), 0), "namespaceSelector", "matchLabels",
                               "kubernetes.io/metadata.name", NULL)), "observability");
    assert_int_equal(integer(at(item(at(item(rules, 2), "ports", NULL), 0), "port", NULL)), 9121);

    sm = find(&pro, "ServiceMonitor", NAME);
    assert_non_null(sm);
    assert_string_equal(str(at(sm, "apiVersion", NULL)), "monitoring.coreos.com/v1");
    assert_string_equal(str(at(sm, "spec", "selector", "matchLabels", "valkeyaddon.io/service", NULL)), "headless");
    assert_string_equal(str(at(find(&pro, "Service", NAME "-headless"), "metadata", "labels",
                               "valkeyaddon.io/service", NULL)), "headless");
    assert_string_equal(str(at(item(at(sm, "spec", "endpoints", NULL), 0), "port", NULL)), "metrics");
    assert_string_equal(str(at(item(at(sm, "spec", "endpoints", NULL), 0), "interval", NULL)), "30s");
    assert_string_equal(str(item(at(sm, "spec", "namespaceSelector", "matchNames", NULL), 0)), NS);

    build(&free_, "free", &o, PASSWORD);
    assert_null(find(&free_, "PodDisruptionBudget", NAME));
    assert_non_null(find(&free_, "NetworkPolicy", NAME "-ingress"));

    /* Without the exporter: no ServiceMonitor, no metrics rule. */
    o.no_exporter = 1;
    build(&quiet, "pro", &o, PASSWORD);
    assert_null(find(&quiet, "ServiceMonitor", NAME));
    assert_int_equal(length(at(find(&quiet, "NetworkPolicy", NAME "-ingress"), "spec", "ingress", NULL)), 2);
    assert_int_equal(quiet.objects.count, 6);
    release(&pro);
    release(&free_);
    release(&quiet);
}

/*
 * The NetworkPolicy by default: 6379 from the namespace's pods (an empty
 * podSelector) and the add-on's pods, 9121 from the monitoring namespace
 * only. no_network_policy (version 2) leaves it out; a version 1 caller's
 * struct has no such member and gets the policy.
 */
static void test_objects__network_policy_by_default(void **state)
{
    valkeyaddon_object_options off = VALKEYADDON_OBJECT_OPTIONS_INIT, v1 = VALKEYADDON_OBJECT_OPTIONS_INIT;
    valkeyaddon_ctx *ctx;
    struct built plain, none, old;
    yajl_val np, rules, from;

    (void)state;
    build(&plain, "standard", NULL, PASSWORD);
    np = find(&plain, "NetworkPolicy", NAME "-ingress");
    assert_non_null(np);
    assert_string_equal(str(at(np, "spec", "podSelector", "matchLabels", "app.kubernetes.io/instance", NULL)), NAME);
    rules = at(np, "spec", "ingress", NULL);
    assert_int_equal(length(rules), 3);
    from = item(at(item(rules, 0), "from", NULL), 0);
    assert_true(YAJL_IS_OBJECT(at(from, "podSelector", NULL)));
    assert_int_equal(YAJL_GET_OBJECT(at(from, "podSelector", NULL))->len, 0);
    assert_null(at(from, "namespaceSelector", NULL));
    assert_int_equal(integer(at(item(at(item(rules, 0), "ports", NULL), 0), "port", NULL)), 6379);
    assert_int_equal(integer(at(item(at(item(rules, 1), "ports", NULL), 0), "port", NULL)), 6379);
    assert_string_equal(str(at(item(at(item(rules, 2), "from", NULL), 0), "namespaceSelector", "matchLabels",
                               "kubernetes.io/metadata.name", NULL)), VALKEYADDON_DEFAULT_MONITORING_NAMESPACE);
    assert_null(at(item(at(item(rules, 2), "from", NULL), 0), "podSelector", NULL));
    assert_int_equal(integer(at(item(at(item(rules, 2), "ports", NULL), 0), "port", NULL)), 9121);

    off.no_network_policy = 1;
    build(&none, "standard", &off, PASSWORD);
    assert_null(find(&none, "NetworkPolicy", NAME "-ingress"));
    assert_int_equal(none.objects.count, 4);

    v1.version = 1;
    v1.no_network_policy = 1; /* beyond a version 1 struct: never read */
    build(&old, "standard", &v1, PASSWORD);
    assert_non_null(find(&old, "NetworkPolicy", NAME "-ingress"));

    /* Narrowing and opting out at once is a contradiction, not a choice. */
    off.network_policy = 1;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_ctx_set_object_options(ctx, &off), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "no_network_policy"));
    valkeyaddon_ctx_free(ctx);
    release(&plain);
    release(&none);
    release(&old);
}

static void test_objects__start_script_carries_the_plan(void **state)
{
    struct built b;
    const char *script;

    (void)state;
    build(&b, "pro", NULL, PASSWORD);
    script = str(item(at(valkey_container(&b), "command", NULL), 2));
    assert_non_null(strstr(script, "\nplan=pro\n"));
    assert_non_null(strstr(script, "\nplan_memory_bytes=1073741824\n"));
    assert_non_null(strstr(script, "\nmaxmemory_percent=50\n"));
    assert_non_null(strstr(script, "\nmaxmemory_policy=noeviction\n"));
    assert_non_null(strstr(script, "\nsave_points='3600 1 300 100 60 10000'\n"));
    assert_non_null(strstr(script, "\nappendonly=yes\n"));
    assert_non_null(strstr(script, "\nreplicas=3\n"));
    assert_non_null(strstr(script, "umask 077"));
    assert_non_null(strstr(script, "${VALKEY_CGROUP_ROOT:-/sys/fs/cgroup}"));
    assert_null(strstr(script, PASSWORD));
    release(&b);
}

static void expect_einval(valkeyaddon_ctx *ctx, int rc)
{
    assert_int_equal(rc, VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), VALKEYADDON_EINVAL);
    assert_true(strlen(valkeyaddon_ctx_error_message(ctx)) > 0);
}

static void test_objects__invalid_inputs(void **state)
{
    const char *bad_passwords[] = { NULL, "", "short", "has a space in it 0123456789",
                                    "quote\"quote\"quote\"quote", "dollar$dollar$dollar$dollar",
                                    "newline\nnewline\nnewline" };
    struct valkeyaddon__objects objects;
    struct valkeyaddon__object object;
    struct valkeyaddon__addon zero;
    valkeyaddon_plan_config saved;
    struct built b;
    size_t i;

    (void)state;
    assert_int_equal(prepare(&b, "pro", NULL), 0);
    expect_einval(b.ctx, valkeyaddon__build_objects(NULL, b.ctx, &b.addon, PASSWORD));
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, NULL, PASSWORD));
    expect_einval(b.ctx, valkeyaddon__build_auth_secret(NULL, b.ctx, &b.addon, PASSWORD));
    for (i = 0; i < sizeof(bad_passwords) / sizeof(bad_passwords[0]); i++) {
        memset(&objects, 0xa5, sizeof(objects));
        expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &b.addon, bad_passwords[i]));
        assert_int_equal(objects.count, 0);
        assert_null(objects.items[0].json);
        if (bad_passwords[i] && *bad_passwords[i])
            assert_null(strstr(valkeyaddon_ctx_error_message(b.ctx), bad_passwords[i]));
        expect_einval(b.ctx, valkeyaddon__build_auth_secret(&object, b.ctx, &b.addon, bad_passwords[i]));
        assert_null(object.json);
    }
    memset(&zero, 0, sizeof(zero));
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &zero, PASSWORD));
    expect_einval(b.ctx, valkeyaddon__build_redis_url_secret(&object, b.ctx, &b.addon, NULL, 3));
    expect_einval(b.ctx, valkeyaddon__build_redis_url_secret(&object, b.ctx, &b.addon, "redis://", 0));
    expect_einval(b.ctx, valkeyaddon__build_redis_url_secret(NULL, b.ctx, &b.addon, "redis://", 8));

    /* A plan config that could not come from valkey_plan_config(): refused, not rendered into the script. */
    saved = b.plan;
    b.plan.replicas = 0;
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD));
    b.plan = saved;
    strcpy(b.plan.save, "60 1'; rm -rf /; '");
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD));
    b.plan = saved;
    b.plan.maxmemory_percent = 101;
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD));
    b.plan = saved;
    strcpy(b.plan.maxmemory_policy, "noeviction\nsave 1 1");
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD));
    b.plan = saved;
    b.plan.volume_size[0] = '\0';
    expect_einval(b.ctx, valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD));
    b.plan = saved;
    assert_int_equal(valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD), 0);
    valkeyaddon__objects_clear(&objects);
    valkeyaddon_ctx_free(b.ctx);
}

/* An allocator that counts live blocks and fails the Nth allocation. */
static long live, allocations, fail_at = -1;

static int should_fail(void)
{
    return fail_at >= 0 && allocations++ == fail_at;
}

static void *sweep_malloc(size_t size)
{
    void *p;

    if (should_fail())
        return NULL;
    if ((p = malloc(size)))
        live++;
    return p;
}

static void *sweep_calloc(size_t count, size_t size)
{
    void *p;

    if (should_fail())
        return NULL;
    if ((p = calloc(count, size)))
        live++;
    return p;
}

static void *sweep_realloc(void *ptr, size_t size)
{
    void *p;

    if (should_fail())
        return NULL;
    if ((p = realloc(ptr, size)) && !ptr)
        live++;
    return p;
}

static void sweep_free(void *ptr)
{
    if (ptr)
        live--;
    free(ptr);
}

static void test_objects__allocation_failure_sweep(void **state)
{
    valkeyaddon_object_options o = all_extras();
    struct valkeyaddon__objects objects;
    struct valkeyaddon__object object;
    struct built b;
    long n, baseline, failures = 0;
    int rc = -1, url_rc = -1;
    size_t i;
    char *uri;

    (void)state;
    live = 0;
    assert_int_equal(valkeyaddon_replace_allocator(sweep_malloc, sweep_realloc, sweep_calloc, sweep_free), 0);
    assert_int_equal(prepare(&b, "pro", &o), 0);
    uri = valkeyaddon__redis_uri(&b.addon, PASSWORD);
    assert_non_null(uri);
    baseline = live;

    for (n = 0; n < 100000 && (rc != 0 || url_rc != 0); n++) {
        allocations = 0;
        fail_at = n;
        memset(&objects, 0x5a, sizeof(objects));
        rc = valkeyaddon__build_objects(&objects, b.ctx, &b.addon, PASSWORD);
        if (rc == 0) {
            /* Past every allocation of the objects: sweep the app-side Secret with what is left. */
            url_rc = valkeyaddon__build_redis_url_secret(&object, b.ctx, &b.addon, uri, strlen(uri));
            if (url_rc == 0) {
                valkeyaddon__object_clear(&object);
            } else {
                assert_int_equal(url_rc, VALKEYADDON_ENOMEM);
                assert_null(object.json);
                failures++;
            }
            valkeyaddon__objects_clear(&objects);
        } else {
            assert_int_equal(rc, VALKEYADDON_ENOMEM);
            assert_int_equal(valkeyaddon_ctx_error_code(b.ctx), VALKEYADDON_ENOMEM);
            assert_int_equal(objects.count, 0);
            for (i = 0; i < VALKEYADDON__MAX_OBJECTS; i++)
                assert_null(objects.items[i].json);
            failures++;
        }
        fail_at = -1;
        if (live != baseline)
            fail_msg("failing allocation %ld leaked %ld block(s)", n, live - baseline);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(url_rc, 0);
    /* Every allocation of the whole build was failed once. */
    assert_true(failures > 20);

    valkeyaddon_free(uri);
    valkeyaddon_ctx_free(b.ctx);
    assert_int_equal(live, 0);
    assert_int_equal(valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects__order_kinds_and_names),
        cmocka_unit_test(test_objects__password_only_in_the_secrets_data),
        cmocka_unit_test(test_objects__secrets_data),
        cmocka_unit_test(test_objects__services),
        cmocka_unit_test(test_objects__statefulset_per_plan),
        cmocka_unit_test(test_objects__probes_and_password_references),
        cmocka_unit_test(test_objects__config_hash),
        cmocka_unit_test(test_objects__extras),
        cmocka_unit_test(test_objects__network_policy_by_default),
        cmocka_unit_test(test_objects__start_script_carries_the_plan),
        cmocka_unit_test(test_objects__invalid_inputs),
        cmocka_unit_test(test_objects__allocation_failure_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
