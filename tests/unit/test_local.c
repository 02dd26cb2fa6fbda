/* The local transport without servers: objects as files, ports, arguments. */
#define _GNU_SOURCE 1
#include "helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/* A child process that holds {state_dir}/lock until killed; returns its pid once it holds it. */
static pid_t hold_lock(const char *dir)
{
    char path[128];
    int ready[2];
    pid_t pid;
    char c;

    snprintf(path, sizeof(path), "%s/lock", dir);
    assert_int_equal(pipe(ready), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_RDWR | O_CLOEXEC); /* its own open file: flock conflicts with ours */
        if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

/* Issue 14 item 6: another process holding the lock is a bounded wait and a clear error, not a hang. */
static void test_local__held_lock_is_a_bounded_wait(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_local_options options = VALKEYADDON_LOCAL_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_buffer *out = NULL;
    struct timespec a, b;
    long ms;
    pid_t holder;
    int status;

    options.state_dir = f->dir;
    options.lock_timeout_ms = 300;
    assert_int_equal(valkeyaddon_transport_local_new(&t, f->ctx, &options), 0);
    assert_int_equal(valkeyaddon_buffer_new(&out), 0);
    holder = hold_lock(f->dir);
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(t->get(out, t, f->ctx, &secret, "ns", "x"), VALKEYADDON_ETIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 250);
    if (ms > 2000)
        fail_msg("a 300 ms lock bound took %ld ms", ms);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "another process holds the lock"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), f->dir));
    /* Released: the same call goes through. */
    kill(holder, SIGKILL);
    assert_int_equal(waitpid(holder, &status, 0), holder);
    assert_int_equal(t->get(out, t, f->ctx, &secret, "ns", "x"), VALKEYADDON_ENOTFOUND);
    valkeyaddon_buffer_free(out);
    t->free(t);

    options.lock_timeout_ms = -1;
    assert_int_equal(valkeyaddon_transport_local_new(&t, f->ctx, &options), VALKEYADDON_EINVAL);
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
    options.version = VALKEYADDON_LOCAL_OPTIONS_VERSION + 1;
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
        cmocka_unit_test_setup_teardown(test_local__held_lock_is_a_bounded_wait, setup, teardown),
        cmocka_unit_test(test_local__options_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
