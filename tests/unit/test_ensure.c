/*
 * ensure_valkey / ensure_redis_url_secret over the in-memory transport,
 * wrapped by the counting transport of tests/support (written in C, as a
 * service would write one).
 */
#include "helpers.h"

#include <stdlib.h>

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include <valkeyaddon/sys/transport.h>

#include "../support/counting_transport.h"

static int frees_seen;

/* The counting transport (tests/support), as this file's tests expect it: the control plane's
 * field manager on every apply, the StatefulSets as stored, every free counted. */
static struct counting_transport *counting_new(void)
{
    struct counting_transport *t = counting_transport_new(sizeof(*t));

    t->manager = "paas-control-plane";
    t->frees = &frees_seen;
    return t;
}

struct fixture {
    valkeyaddon_ctx *ctx;
    struct counting_transport *t;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_int_equal(valkeyaddon_ctx_new(&f->ctx, NULL), 0);
    f->t = counting_new();
    assert_int_equal(valkeyaddon_ctx_set_transport(f->ctx, &f->t->base), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    valkeyaddon_ctx_free(f->ctx);
    free(f);
    return 0;
}

static const valkeyaddon_resource secret_r = { "v1", "Secret", "secrets", 1 };
static const valkeyaddon_resource statefulset_r = { "apps/v1", "StatefulSet", "statefulsets", 1 };

/* The stored JSON of an object (read past the counting layer), or NULL; caller frees. */
static char *stored(struct fixture *f, const valkeyaddon_resource *r, const char *ns, const char *name)
{
    valkeyaddon_buffer *buf = NULL;
    valkeyaddon_ctx *scratch = NULL;
    char *copy = NULL;

    assert_int_equal(valkeyaddon_ctx_new(&scratch, NULL), 0);
    assert_int_equal(valkeyaddon_buffer_new(&buf), 0);
    if (f->t->inner->get(buf, f->t->inner, scratch, r, ns, name) == 0)
        copy = strdup(valkeyaddon_buffer_data(buf, NULL));
    valkeyaddon_buffer_free(buf);
    valkeyaddon_ctx_free(scratch);
    return copy;
}

/* data[key] of a stored Secret, decoded; caller frees. */
static char *secret_value(struct fixture *f, const char *ns, const char *name, const char *key)
{
    const char *path[3];
    char *json = stored(f, &secret_r, ns, name), *value = NULL;
    yajl_val root, node;

    if (!json)
        return NULL;
    root = yajl_tree_parse(json, NULL, 0);
    assert_non_null(root);
    path[0] = "data";
    path[1] = key;
    path[2] = NULL;
    node = yajl_tree_get(root, path, yajl_t_string);
    if (node) {
        size_t len = strlen(node->u.string);
        unsigned char *decoded = calloc(1, len + 1);
        int n = EVP_DecodeBlock(decoded, (const unsigned char *)node->u.string, (int)len);
        assert_true(n >= 0);
        while (len > 0 && node->u.string[len - 1] == '=') {
            len--;
            n--;
        }
        decoded[n] = '\0';
        value = (char *)decoded;
    }
    yajl_tree_free(root);
    free(json);
    return value;
}

#define NS "tenant-ns"
#define AUTH "valkey-acme-web-auth"

static void test_ensure__first_provision_creates_everything(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *password, *uri, *sts;

    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_string_equal(result.name, "valkey-acme-web");
    assert_string_equal(result.auth_secret, AUTH);
    assert_string_equal(result.plan, "standard");
    assert_int_equal(result.fell_back, 0);
    assert_int_equal(result.password_created, 1);
    /*
     * Every object is read before the first write (so nothing someone else made is
     * overwritten): the five objects (the NetworkPolicy is on by default) and the one
     * volume claim a new StatefulSet would adopt; then one create and one apply per other object.
     */
    assert_int_equal(f->t->gets, 6);
    assert_int_equal(f->t->creates, 1);
    assert_int_equal(result.objects_written, f->t->creates + f->t->applies);
    assert_true(f->t->applies >= 3);

    password = secret_value(f, NS, AUTH, "password");
    assert_non_null(password);
    assert_int_equal(strlen(password), 32);
    assert_true(strspn(password, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 32);
    uri = secret_value(f, NS, AUTH, "uri");
    assert_non_null(uri);
    {
        char expected[256];
        snprintf(expected, sizeof(expected), "redis://default:%s@valkey-acme-web." NS ".svc.cluster.local:6379", password);
        assert_string_equal(uri, expected);
    }
    sts = stored(f, &statefulset_r, NS, "valkey-acme-web");
    assert_non_null(sts);
    assert_null(strstr(sts, password));
    free(sts);
    free(uri);
    free(password);
}

/*
 * A first provision reads objects that do not exist yet: that 404 is the expected
 * answer, not a failure, so a caller logging at ERROR sees nothing.
 */
static void test_ensure__expected_not_found_is_not_logged_as_an_error(void **state)
{
    struct fixture *f = *state;
    struct log_capture capture;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;

    memset(&capture, 0, sizeof(capture));
    assert_int_equal(valkeyaddon_ctx_set_log(f->ctx, VALKEYADDON_LOG_ERROR, capture_log, &capture), 0);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(capture.count, 0);
    /* A not-found the caller gets back is still logged at ERROR. */
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "api"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(capture.count, 1);
    assert_int_equal(capture.last_level, VALKEYADDON_LOG_ERROR);
}

static void test_ensure__repeat_never_rotates_the_password(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *first, *second;
    int applies;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "pro"), 0);
    first = secret_value(f, NS, AUTH, "password");
    applies = f->t->applies;
    f->t->gets = f->t->creates = f->t->applies = 0;
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    second = secret_value(f, NS, AUTH, "password");
    assert_string_equal(first, second);
    assert_int_equal(result.password_created, 0);
    /* Nothing changed: one read per object (the auth Secret's serves its comparison too), no write. */
    assert_int_equal(f->t->gets, 1 + applies);
    assert_int_equal(f->t->creates, 0);
    assert_int_equal(f->t->applies, 0);
    assert_int_equal(result.objects_written, 0);
    free(first);
    free(second);
}

static void reset_counts(struct fixture *f)
{
    f->t->gets = f->t->creates = f->t->applies = 0;
    f->t->written[0] = '\0';
}

/* Rewrite a stored object behind the library's back (another writer): replace from by to. */
static void edit_stored(struct fixture *f, const valkeyaddon_resource *r, const char *name, const char *from,
                        const char *to)
{
    valkeyaddon_ctx *scratch = NULL;
    char *json = stored(f, r, NS, name), *at, edited[16384];

    assert_non_null(json);
    at = strstr(json, from);
    assert_non_null(at);
    snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    assert_int_equal(valkeyaddon_ctx_new(&scratch, NULL), 0);
    assert_int_equal(f->t->inner->apply(NULL, f->t->inner, scratch, r, NS, name, edited, strlen(edited), "intruder", 1),
                     0);
    valkeyaddon_ctx_free(scratch);
    free(json);
}

static const valkeyaddon_resource service_r = { "v1", "Service", "services", 1 };

static void test_ensure__economy_repeat_sends_no_write(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    int objects;

    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    /* First: a read of each object and of the claim a new StatefulSet adopts, one write per object. */
    objects = f->t->creates + f->t->applies;
    assert_int_equal(f->t->gets, objects + 1);
    assert_int_equal(result.objects_written, objects);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    reset_counts(f);

    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(f->t->creates + f->t->applies, 0);
    assert_int_equal(f->t->gets, objects);
    assert_int_equal(result.objects_written, 0);
    /* The app Secret: its source and itself read, not re-applied. */
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(f->t->applies, 0);
    assert_int_equal(f->t->gets, objects + 2);
    assert_string_equal(f->t->written, "");
}

static void test_ensure__economy_deleted_object_is_the_one_written(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_ctx *scratch = NULL;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(valkeyaddon_ctx_new(&scratch, NULL), 0);
    assert_int_equal(f->t->inner->remove(f->t->inner, scratch, &service_r, NS, "valkey-acme-web", 0), 0);
    valkeyaddon_ctx_free(scratch);
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(result.objects_written, 1);
    assert_string_equal(f->t->written, "Service/valkey-acme-web ");
}

static void test_ensure__economy_edited_field_is_repaired(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *sts;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "pro"), 0);
    /* Someone scales the StatefulSet down; the stamp still matches, the field does not. */
    edit_stored(f, &statefulset_r, "valkey-acme-web", "\"replicas\":3", "\"replicas\":1");
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    assert_int_equal(result.objects_written, 1);
    assert_string_equal(f->t->written, "StatefulSet/valkey-acme-web ");
    sts = stored(f, &statefulset_r, NS, "valkey-acme-web");
    assert_non_null(strstr(sts, "\"replicas\":3"));
    free(sts);

    /* A changed stamp alone (a body of another version of ours) is re-applied too. */
    edit_stored(f, &service_r, "valkey-acme-web-headless", "applied-hash\":\"", "applied-hash\":\"0");
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    assert_string_equal(f->t->written, "Service/valkey-acme-web-headless ");

    /* What the server adds (status, defaults, other annotations) is not a change. */
    edit_stored(f, &service_r, "valkey-acme-web", "\"annotations\":{",
                "\"annotations\":{\"other.io/note\":\"x\",");
    edit_stored(f, &service_r, "valkey-acme-web", "\"spec\":{", "\"spec\":{\"sessionAffinity\":\"None\",");
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    assert_string_equal(f->t->written, "");
}

static void test_ensure__economy_edited_secret_data_is_repaired(void **state)
{
    struct fixture *f = *state;
    char *uri, *url;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    /* The app Secret's REDIS_URL replaced by someone ("redis://x" in base64). */
    {
        char *json = stored(f, &secret_r, NS, "app-web-redis-url"), *start, *end, from[1024];
        start = strstr(json, "\"REDIS_URL\":\"") + strlen("\"REDIS_URL\":\"");
        end = strchr(start, '"');
        snprintf(from, sizeof(from), "%.*s", (int)(end - start), start);
        edit_stored(f, &secret_r, "app-web-redis-url", from, "cmVkaXM6Ly94");
        free(json);
    }
    reset_counts(f);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    assert_string_equal(f->t->written, "Secret/app-web-redis-url ");
    uri = secret_value(f, NS, AUTH, "uri");
    url = secret_value(f, NS, "app-web-redis-url", "REDIS_URL");
    assert_string_equal(uri, url);
    free(uri);
    free(url);
}

static void test_ensure__economy_plan_change_writes_only_what_changed(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    /* Same names, same Services, same password: only the StatefulSet differs. */
    assert_string_equal(f->t->written, "StatefulSet/valkey-acme-web ");
    assert_int_equal(result.objects_written, 1);
}

static void test_ensure__plan_change_converges_with_the_same_password(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *before, *after, *sts;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    before = secret_value(f, NS, AUTH, "password");
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    after = secret_value(f, NS, AUTH, "password");
    assert_string_equal(before, after);
    sts = stored(f, &statefulset_r, NS, "valkey-acme-web");
    assert_non_null(strstr(sts, "\"replicas\":3"));
    free(sts);
    free(before);
    free(after);
}

static void test_ensure__unknown_plan_is_reported(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;

    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "Pro"), 0);
    assert_string_equal(result.plan, "free");
    assert_int_equal(result.fell_back, 1);
}

static void test_ensure__cluster_domain_change_rewrites_uri_not_password(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_object_options options = VALKEYADDON_OBJECT_OPTIONS_INIT;
    char *before, *after, *uri;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    before = secret_value(f, NS, AUTH, "password");
    options.cluster_domain = "corp.example";
    assert_int_equal(valkeyaddon_ctx_set_object_options(f->ctx, &options), 0);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    after = secret_value(f, NS, AUTH, "password");
    uri = secret_value(f, NS, AUTH, "uri");
    assert_string_equal(before, after);
    assert_non_null(strstr(uri, "@valkey-acme-web." NS ".svc.corp.example:6379"));
    free(before);
    free(after);
    free(uri);
}

static int address_calls;

static int loopback_address(valkeyaddon_buffer *host, int32_t *port, valkeyaddon_transport *self,
                            valkeyaddon_ctx *ctx, const char *ns, const char *service)
{
    (void)self;
    (void)ctx;
    assert_string_equal(ns, NS);
    assert_string_equal(service, "valkey-acme-web");
    address_calls++;
    *port = 16380;
    return valkeyaddon_buffer_set(host, "127.0.0.1", 9);
}

static void test_ensure__transport_address_goes_into_the_auth_secret(void **state)
{
    struct fixture *f = *state;
    char *uri, *host, *port, *url;

    f->t->base.address = loopback_address;
    address_calls = 0;
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    assert_true(address_calls >= 1);
    uri = secret_value(f, NS, AUTH, "uri");
    host = secret_value(f, NS, AUTH, "host");
    port = secret_value(f, NS, AUTH, "port");
    url = secret_value(f, NS, "app-web-redis-url", "REDIS_URL");
    assert_non_null(strstr(uri, "@127.0.0.1:16380"));
    assert_string_equal(host, "127.0.0.1");
    assert_string_equal(port, "16380");
    assert_string_equal(uri, url);
    free(uri);
    free(host);
    free(port);
    free(url);
}

static void test_ensure__version_1_transport_address_is_not_called(void **state)
{
    struct fixture *f = *state;
    char *uri;

    f->t->base.address = loopback_address;
    f->t->base.version = 1;
    address_calls = 0;
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    assert_int_equal(address_calls, 0);
    uri = secret_value(f, NS, AUTH, "uri");
    assert_non_null(strstr(uri, "@valkey-acme-web." NS ".svc.cluster.local:6379"));
    free(uri);
}

static void test_ensure__redis_url_copies_the_uri_byte_for_byte(void **state)
{
    struct fixture *f = *state;
    char *uri, *url;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    uri = secret_value(f, NS, AUTH, "uri");
    url = secret_value(f, NS, "app-web-redis-url", "REDIS_URL");
    assert_non_null(url);
    assert_string_equal(uri, url);
    free(uri);
    free(url);
}

static void test_ensure__redis_url_without_auth_secret_is_not_found(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), VALKEYADDON_ENOTFOUND);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "ensure_valkey"));
    assert_int_equal(f->t->applies, 0);
}

static void test_ensure__unusable_auth_secret_is_left_alone(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_buffer *ignored = NULL;
    const char *broken = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"" AUTH "\","
                         "\"labels\":{\"valkeyaddon.io/tenant-id\":\"acme\",\"valkeyaddon.io/app-id\":\"web\"}},"
                         "\"data\":{\"uri\":\"eA==\"}}";

    assert_int_equal(valkeyaddon_buffer_new(&ignored), 0);
    assert_int_equal(f->t->inner->create(ignored, f->t->inner, f->ctx, &secret_r, NS, broken, strlen(broken)), 0);
    valkeyaddon_buffer_free(ignored);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), VALKEYADDON_ECONFLICT);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "never replaced automatically"));
    assert_int_equal(f->t->creates, 0);
    assert_int_equal(f->t->applies, 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), VALKEYADDON_ECONFLICT);
}

static void test_ensure__racing_creator_wins_and_its_password_is_used(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *password;

    /* base64("TheOtherWritersPassword123456789") */
    counting_transport_race_create(f->t, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"" AUTH
                                         "\",\"labels\":{\"valkeyaddon.io/tenant-id\":\"acme\","
                                         "\"valkeyaddon.io/app-id\":\"web\"}},\"data\":{\"password\":\"VGhlT3RoZXJXcml0ZXJzUGFzc3dvcmQxMjM0NTY3ODk=\"}}");
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "free"), 0);
    assert_int_equal(result.password_created, 0);
    password = secret_value(f, NS, AUTH, "password");
    assert_string_equal(password, "TheOtherWritersPassword123456789");
    free(password);
}

static void test_ensure__transport_errors_propagate_with_their_message(void **state)
{
    struct fixture *f = *state;

    counting_transport_fail(f->t, COUNTING_GET, 1, VALKEYADDON_EFORBIDDEN, "injected get failure");
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), VALKEYADDON_EFORBIDDEN);
    assert_string_equal(valkeyaddon_ctx_error_message(f->ctx), "injected get failure");
    assert_int_equal(valkeyaddon_ctx_error_code(f->ctx), VALKEYADDON_EFORBIDDEN);
    counting_transport_fail(f->t, COUNTING_APPLY, 1, VALKEYADDON_EUNAVAILABLE, "injected apply failure");
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), VALKEYADDON_EUNAVAILABLE);
    /* The next call converges, with the password created by the failed one. */
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
}

static void test_ensure__bad_arguments(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_ctx *bare = NULL;

    assert_int_equal(ensure_valkey(NULL, f->ctx, "Bad_NS", "acme", "web", "free"), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "namespace"));
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "ACME", "web", "free"), VALKEYADDON_EINVAL);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", NULL), VALKEYADDON_EINVAL);
    result.version = 0;
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "free"), VALKEYADDON_EVERSION);
    assert_int_equal(ensure_valkey(NULL, NULL, NS, "acme", "web", "free"), VALKEYADDON_EINVAL);
    assert_int_equal(f->t->gets + f->t->creates + f->t->applies, 0);
    assert_int_equal(valkeyaddon_ctx_new(&bare, NULL), 0);
    assert_int_equal(ensure_valkey(NULL, bare, NS, "acme", "web", "free"), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(bare), "no transport"));
    valkeyaddon_ctx_free(bare);
}

static void test_ensure__transport_registration_and_ownership(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    struct counting_transport *t = counting_new(), *second = counting_new();
    int (*apply)(valkeyaddon_buffer *, valkeyaddon_transport *, valkeyaddon_ctx *, const valkeyaddon_resource *,
                 const char *, const char *, const char *, size_t, const char *, int) = t->base.apply;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    frees_seen = 0;
    t->base.version = 0;
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, &t->base), VALKEYADDON_EVERSION);
    t->base.version = VALKEYADDON_TRANSPORT_VERSION + 1;
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, &t->base), VALKEYADDON_EVERSION);
    t->base.version = VALKEYADDON_TRANSPORT_VERSION;
    t->base.apply = NULL;
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, &t->base), VALKEYADDON_EINVAL);
    t->base.apply = apply;
    assert_int_equal(frees_seen, 0); /* refused: still ours */
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, &t->base), 0);
    /* Replacing frees the previous transport, once. */
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, &second->base), 0);
    assert_int_equal(frees_seen, 1);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(frees_seen, 2);
}


/* Store an object behind the library's back (another writer). */
static void put_stored(struct fixture *f, const valkeyaddon_resource *r, const char *json)
{
    valkeyaddon_ctx *scratch = NULL;

    assert_int_equal(valkeyaddon_ctx_new(&scratch, NULL), 0);
    assert_int_equal(f->t->inner->create(NULL, f->t->inner, scratch, r, NS, json, strlen(json)), 0);
    valkeyaddon_ctx_free(scratch);
}

static void remove_stored(struct fixture *f, const valkeyaddon_resource *r, const char *name)
{
    valkeyaddon_ctx *scratch = NULL;

    assert_int_equal(valkeyaddon_ctx_new(&scratch, NULL), 0);
    assert_int_equal(f->t->inner->remove(f->t->inner, scratch, r, NS, name, 0), 0);
    valkeyaddon_ctx_free(scratch);
}

static const valkeyaddon_resource pvc_r = { "v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1 };

/* Item 1 of the day-2 safety issue: `--plan standrad` on a standard add-on fell back to free and wiped it. */
static void test_ensure__unknown_plan_keeps_the_existing_plan(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *before = NULL, *after = NULL;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    before = stored(f, &statefulset_r, NS, "valkey-acme-web");
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standrad"), 0);
    assert_string_equal(result.plan, "standard");
    assert_int_equal(result.fell_back, 1);
    assert_int_equal(result.plan_kept, 1);
    assert_int_equal(result.objects_written, 0);
    assert_int_equal(f->t->creates + f->t->applies + f->t->removes, 0);
    after = stored(f, &statefulset_r, NS, "valkey-acme-web");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_ensure__dropping_persistence_is_refused(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *before, *after;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    before = stored(f, &statefulset_r, NS, "valkey-acme-web");
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "free"), VALKEYADDON_EDATALOSS);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "from plan standard to plan free"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "allow_data_loss"));
    assert_int_equal(f->t->creates + f->t->applies + f->t->removes, 0);
    after = stored(f, &statefulset_r, NS, "valkey-acme-web");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_ensure__dropping_persistence_when_allowed(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_ensure_options options = VALKEYADDON_ENSURE_OPTIONS_INIT;
    char *sts;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    options.namespace_ = NS;
    options.tenant_id = "acme";
    options.app_id = "web";
    options.plan = "free";
    options.allow_data_loss = 1;
    assert_int_equal(valkeyaddon_ensure_valkey_with(&result, f->ctx, &options), 0);
    assert_string_equal(result.plan, "free");
    sts = stored(f, &statefulset_r, NS, "valkey-acme-web");
    assert_null(strstr(sts, "volumeClaimTemplates"));
    free(sts);
}

static void test_ensure__shrinking_the_volume_is_refused(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "pro"), 0);
    reset_counts(f);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), VALKEYADDON_EDATALOSS);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "shrinks the data volume to 1Gi"));
    assert_int_equal(f->t->creates + f->t->applies + f->t->removes, 0);
    /* Growing is never refused. */
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "pro"), 0);
}

/* Item 2: (acme-prod, web) and (acme, prod-web) are both valkey-acme-prod-web. */
static void test_ensure__colliding_tenant_is_refused(void **state)
{
    struct fixture *f = *state;
    char *auth_before, *auth_after, *app_before, *app_after;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme-prod", "web", "standard"), 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme-prod", "web"), 0);
    auth_before = stored(f, &secret_r, NS, "valkey-acme-prod-web-auth");
    app_before = stored(f, &secret_r, NS, "app-web-redis-url");
    reset_counts(f);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "prod-web", "standard"), VALKEYADDON_ECONFLICT);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx),
                           "Secret " NS "/valkey-acme-prod-web-auth belongs to tenant acme-prod app web"));
    assert_int_equal(f->t->creates + f->t->applies + f->t->removes, 0);
    /* The app Secret of another tenant with the same app id is refused as well. */
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "other", "web"), VALKEYADDON_ECONFLICT);
    auth_after = stored(f, &secret_r, NS, "valkey-acme-prod-web-auth");
    app_after = stored(f, &secret_r, NS, "app-web-redis-url");
    assert_string_equal(auth_before, auth_after);
    assert_string_equal(app_before, app_after);
    free(auth_before);
    free(auth_after);
    free(app_before);
    free(app_after);
}

static void test_ensure__app_secret_of_another_tenant_is_refused(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "free"), 0);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "other", "web", "free"), 0);
    reset_counts(f);
    assert_int_equal(ensure_redis_url_secret(f->ctx, NS, "other", "web"), VALKEYADDON_ECONFLICT);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx),
                           "Secret " NS "/app-web-redis-url belongs to tenant acme app web"));
    assert_int_equal(f->t->applies, 0);
}

static void test_ensure__object_without_our_labels_is_refused(void **state)
{
    struct fixture *f = *state;

    put_stored(f, &service_r, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"valkey-acme-web\","
                              "\"namespace\":\"" NS "\"},\"spec\":{\"ports\":[{\"port\":80}]}}");
    reset_counts(f);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), VALKEYADDON_ECONFLICT);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx),
                           "Service " NS "/valkey-acme-web exists but was not made by libvalkeyaddon"));
    /* Not even the auth Secret was created. */
    assert_int_equal(f->t->creates + f->t->applies + f->t->removes, 0);
}

static void test_ensure__kept_claim_of_another_tenant_is_refused(void **state)
{
    struct fixture *f = *state;

    put_stored(f, &pvc_r, "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":"
                          "\"data-valkey-acme-prod-web-0\",\"namespace\":\"" NS "\",\"labels\":{"
                          "\"app.kubernetes.io/instance\":\"valkey-acme-prod-web\",\"valkeyaddon.io/tenant-id\":"
                          "\"acme-prod\",\"valkeyaddon.io/app-id\":\"web\"}}}");
    reset_counts(f);
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "prod-web", "standard"), VALKEYADDON_ECONFLICT);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "belongs to tenant acme-prod app web"));
    assert_int_equal(f->t->creates + f->t->applies + f->t->removes, 0);
    /* Its owner gets it back. */
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme-prod", "web", "standard"), 0);
}

/* Item 3: a re-created auth Secret used to leave the pods on the old password. */
static void test_ensure__recreated_auth_secret_rolls_the_pods(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    char *before, *after, *password;

    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    before = stored(f, &statefulset_r, NS, "valkey-acme-web");
    remove_stored(f, &secret_r, AUTH);
    reset_counts(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(result.password_created, 1);
    assert_int_equal(result.password_rollout, 1);
    assert_string_equal(f->t->written, "Secret/valkey-acme-web-auth StatefulSet/valkey-acme-web ");
    after = stored(f, &statefulset_r, NS, "valkey-acme-web");
    password = secret_value(f, NS, AUTH, "password");
    /* The pod template changed (a new credential id), and carries no password. */
    assert_non_null(strstr(after, "\"valkeyaddon.io/credential-id\":\""));
    assert_string_not_equal(before, after);
    assert_null(strstr(after, password));
    free(before);
    free(after);
    free(password);
}

/*
 * Two provisions of the same ids race: ours reads the StatefulSet as absent, the other one
 * creates it, and its controller makes the (unlabelled) claim before ours reads the claims.
 * The claim is not stray: the StatefulSet is read again and found.
 */
struct racing_sts {
    struct counting_transport t;
    valkeyaddon_transport *orig;
    int (*orig_get)(valkeyaddon_buffer *, valkeyaddon_transport *, valkeyaddon_ctx *, const valkeyaddon_resource *,
                    const char *, const char *);
    const char *sts_json;
    int created;
};

static int racing_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *r, const char *ns, const char *name)
{
    struct racing_sts *rs = (struct racing_sts *)self;
    int rc = rs->orig_get(out, self, ctx, r, ns, name);

    if (rc == VALKEYADDON_ENOTFOUND && strcmp(r->kind, "StatefulSet") == 0 && !rs->created) {
        valkeyaddon_ctx *scratch = NULL;
        assert_int_equal(valkeyaddon_ctx_new(&scratch, NULL), 0);
        assert_int_equal(rs->t.inner->create(NULL, rs->t.inner, scratch, r, ns, rs->sts_json, strlen(rs->sts_json)),
                         0);
        valkeyaddon_ctx_free(scratch);
        rs->created = 1;
    }
    return rc;
}

static void test_ensure__claim_of_a_racing_provision_is_not_stray(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ctx *ctx = NULL;
    struct racing_sts *rs = (struct racing_sts *)counting_transport_new(sizeof(*rs));
    char *sts;

    /* Take the StatefulSet a first ensure writes, then start over with only its claim. */
    assert_int_equal(ensure_valkey(NULL, f->ctx, NS, "acme", "web", "standard"), 0);
    sts = stored(f, &statefulset_r, NS, "valkey-acme-web");
    rs->sts_json = sts;
    rs->orig_get = rs->t.base.get;
    rs->t.base.get = racing_get;
    put_stored((struct fixture[]){ { NULL, &rs->t } }, &pvc_r,
               "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":"
               "\"data-valkey-acme-web-0\",\"namespace\":\"" NS "\",\"labels\":{\"app.kubernetes.io/name\":\"valkey\","
               "\"app.kubernetes.io/instance\":\"valkey-acme-web\"}}}");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, &rs->t.base), 0);
    if (ensure_valkey(NULL, ctx, NS, "acme", "web", "standard") != 0)
        fail_msg("%s", valkeyaddon_ctx_error_message(ctx));
    assert_int_equal(rs->created, 1);
    valkeyaddon_ctx_free(ctx);
    free(sts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ensure__first_provision_creates_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__expected_not_found_is_not_logged_as_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__repeat_never_rotates_the_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__economy_repeat_sends_no_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__economy_deleted_object_is_the_one_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__economy_edited_field_is_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__economy_edited_secret_data_is_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__economy_plan_change_writes_only_what_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__plan_change_converges_with_the_same_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__unknown_plan_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__cluster_domain_change_rewrites_uri_not_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__transport_address_goes_into_the_auth_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__version_1_transport_address_is_not_called, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__redis_url_copies_the_uri_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__redis_url_without_auth_secret_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__unusable_auth_secret_is_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__racing_creator_wins_and_its_password_is_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__transport_errors_propagate_with_their_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__bad_arguments, setup, teardown),
        cmocka_unit_test(test_ensure__transport_registration_and_ownership),
        cmocka_unit_test_setup_teardown(test_ensure__unknown_plan_keeps_the_existing_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__dropping_persistence_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__dropping_persistence_when_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__shrinking_the_volume_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__colliding_tenant_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__app_secret_of_another_tenant_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__object_without_our_labels_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__kept_claim_of_another_tenant_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__recreated_auth_secret_rolls_the_pods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure__claim_of_a_racing_provision_is_not_stray, setup, teardown),
    };
    return cmocka_run_group_tests_name("ensure", tests, NULL, NULL);
}
