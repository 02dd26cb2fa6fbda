/* The local transport without servers: objects as files, ports, arguments. */
#define _GNU_SOURCE 1
#include "helpers.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <valkeyaddon/sys/transport.h>
#include <valkeyaddon/transports.h>

static const valkeyaddon_resource secret = { "v1", "Secret", "secrets", 1 };
static const valkeyaddon_resource claim = { "v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1 };

struct fixture {
    char dir[64];
    valkeyaddon_ctx *ctx;
    valkeyaddon_transport *t;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    valkeyaddon_local_options options = VALKEYADDON_LOCAL_OPTIONS_INIT;

    strcpy(f->dir, "/tmp/test-local-XXXXXX");
    if (!mkdtemp(f->dir) || valkeyaddon_ctx_new(&f->ctx, NULL) < 0)
        return -1;
    strcat(f->dir, "/state"); /* created by the transport */
    options.state_dir = f->dir;
    if (valkeyaddon_transport_local_new(&f->t, f->ctx, &options) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char command[128];

    f->t->free(f->t);
    valkeyaddon_ctx_free(f->ctx);
    f->dir[strlen(f->dir) - strlen("/state")] = '\0';
    snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
    if (system(command) != 0)
        return -1;
    free(f);
    return 0;
}

static const char *body(valkeyaddon_buffer *b)
{
    return valkeyaddon_buffer_data(b, NULL);
}

static void test_local__objects_round_trip(void **state)
{
    struct fixture *f = *state;
    const char *v1 = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"MQ==\"}}";
    const char *v2 = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"Mg==\"}}";
    valkeyaddon_buffer *b;
    char path[256];
    struct stat st;

    assert_int_equal(valkeyaddon_buffer_new(&b), 0);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &secret, "ns", "s"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(f->t->create(b, f->t, f->ctx, &secret, "ns", v1, strlen(v1)), 0);
    assert_int_equal(f->t->create(b, f->t, f->ctx, &secret, "ns", v1, strlen(v1)), VALKEYADDON_EEXISTS);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &secret, "ns", "s"), 0);
    assert_non_null(strstr(body(b), "\"generation\":1"));
    assert_non_null(strstr(body(b), "MQ=="));

    /* The same body again: no new generation; a changed one: the next. */
    assert_int_equal(f->t->apply(b, f->t, f->ctx, &secret, "ns", "s", v1, strlen(v1), "m", 1), 0);
    assert_non_null(strstr(body(b), "\"generation\":1"));
    assert_int_equal(f->t->apply(b, f->t, f->ctx, &secret, "ns", "s", v2, strlen(v2), "m", 1), 0);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &secret, "ns", "s"), 0);
    assert_non_null(strstr(body(b), "\"generation\":2"));
    assert_non_null(strstr(body(b), "Mg=="));

    snprintf(path, sizeof(path), "%s/objects/ns/secrets/s.json", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    assert_int_equal(f->t->remove(f->t, f->ctx, &secret, "ns", "s", 0), 0);
    assert_int_equal(f->t->remove(f->t, f->ctx, &secret, "ns", "s", 0), VALKEYADDON_ENOTFOUND);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &secret, "ns", "s"), VALKEYADDON_ENOTFOUND);
    valkeyaddon_buffer_free(b);
}

static void test_local__names_cannot_escape_the_state_dir(void **state)
{
    struct fixture *f = *state;
    const char *evil = "{\"metadata\":{\"name\":\"../x\"}}";
    valkeyaddon_buffer *b;

    assert_int_equal(valkeyaddon_buffer_new(&b), 0);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &secret, "..", "s"), VALKEYADDON_EINVAL);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &secret, "ns", "a/b"), VALKEYADDON_EINVAL);
    assert_int_equal(f->t->create(b, f->t, f->ctx, &secret, "ns", evil, strlen(evil)), VALKEYADDON_EINVAL);
    assert_int_equal(f->t->create(b, f->t, f->ctx, &secret, "ns", "{", 1), VALKEYADDON_EREJECTED);
    valkeyaddon_buffer_free(b);
}

static void test_local__address_is_stable_and_distinct(void **state)
{
    struct fixture *f = *state;
    const valkeyaddon_resource service = { "v1", "Service", "services", 1 };
    valkeyaddon_buffer *host;
    int32_t a = 0, again = 0, other = 0;

    assert_int_equal(valkeyaddon_buffer_new(&host), 0);
    assert_int_equal(f->t->address(host, &a, f->t, f->ctx, "ns", "one"), 0);
    assert_string_equal(body(host), "127.0.0.1");
    assert_int_equal(f->t->address(host, &again, f->t, f->ctx, "ns", "one"), 0);
    assert_int_equal(f->t->address(host, &other, f->t, f->ctx, "ns", "two"), 0);
    assert_true(a > 0 && a < 65536);
    assert_int_equal(a, again);
    assert_int_not_equal(a, other);
    /* Deleting the Service frees its port record (the object itself never existed here). */
    assert_int_equal(f->t->remove(f->t, f->ctx, &service, "ns", "one", 0), VALKEYADDON_ENOTFOUND);
    valkeyaddon_buffer_free(host);
}

static void test_local__claims_are_data_directories(void **state)
{
    struct fixture *f = *state;
    const char *pvc = "{\"metadata\":{\"name\":\"data-x-0\"}}";
    valkeyaddon_buffer *b;

    assert_int_equal(valkeyaddon_buffer_new(&b), 0);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &claim, "ns", "data-x-0"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(f->t->create(b, f->t, f->ctx, &claim, "ns", pvc, strlen(pvc)), 0);
    assert_int_equal(f->t->get(b, f->t, f->ctx, &claim, "ns", "data-x-0"), 0);
    assert_non_null(strstr(body(b), "\"Bound\""));
    assert_int_equal(f->t->remove(f->t, f->ctx, &claim, "ns", "data-x-0", 0), 0);
    assert_int_equal(f->t->remove(f->t, f->ctx, &claim, "ns", "data-x-0", 0), VALKEYADDON_ENOTFOUND);
    valkeyaddon_buffer_free(b);
}

static void test_local__options_are_checked(void **state)
{
    valkeyaddon_local_options options = VALKEYADDON_LOCAL_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_ctx *ctx;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_transport_local_new(NULL, ctx, &options), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_transport_local_new(&t, ctx, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_transport_local_new(&t, ctx, &options), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "state_dir"));
    options.state_dir = "/tmp/with\"quote";
    assert_int_equal(valkeyaddon_transport_local_new(&t, ctx, &options), VALKEYADDON_EINVAL);
    options.state_dir = "/tmp";
    options.version = 2;
    assert_int_equal(valkeyaddon_transport_local_new(&t, ctx, &options), VALKEYADDON_EVERSION);
    options.version = VALKEYADDON_LOCAL_OPTIONS_VERSION;
    options.start_timeout_ms = -1;
    assert_int_equal(valkeyaddon_transport_local_new(&t, ctx, &options), VALKEYADDON_EINVAL);
    assert_null(t);
    valkeyaddon_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_local__objects_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local__names_cannot_escape_the_state_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local__address_is_stable_and_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local__claims_are_data_directories, setup, teardown),
        cmocka_unit_test(test_local__options_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
