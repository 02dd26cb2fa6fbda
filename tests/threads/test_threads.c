/*
 * The thread-safety contract of valkeyaddon/context.h, exercised: several
 * threads, each with its own context (and the transport and storage that
 * context owns), doing real work at the same moment. Rendering; provisioning
 * through the memory transport with memory storage, with SQLite files of
 * their own and with one SQLite file shared by every thread; the Kubernetes
 * transport against the API test server (started for that test only) with
 * provision and wait; error detail staying on its own context; a replaced
 * allocator seeing every allocation balanced. Under ThreadSanitizer
 * (scripts/tsan.sh) any data race in the library fails the run.
 *
 * Worker threads never call cmocka (its assertions longjmp, which only the
 * main thread may do): they record the first failed check, and the main
 * thread asserts on it after joining. Links the shared library, as a caller
 * does. See docs/threads.md.
 */
#define _GNU_SOURCE 1
#include "../unit/helpers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "../support/files.h"
#include "../support/kube_server.h"

#define THREADS 4
#define APPS 3 /* per thread */
#define PASSWORD "threads-test-password-0123456789"

struct worker;
typedef void (*work_fn)(struct worker *w);

struct worker {
    int id;
    work_fn work;
    pthread_barrier_t *start;
    const char *dir;          /* the test's temporary directory */
    const char *kubeconfig;   /* the API test server's, for the Kubernetes test */
    int failed;               /* the first failed check, for the main thread to report */
    char failure[1024];
    struct log_capture log;   /* this thread's context logs here, at DEBUG */
    uint64_t render_hash[APPS][2];
    int rows;                 /* rows the thread saw listed */
};

/* Record the first failed check of a worker and leave its work function. */
#define CHECK(w, cond, ctx)                                                                                      \
    do {                                                                                                         \
        if (!(cond)) {                                                                                           \
            if (!(w)->failed) {                                                                                  \
                (w)->failed = __LINE__;                                                                          \
                snprintf((w)->failure, sizeof((w)->failure), "thread %d, line %d: %s (context: %s)", (w)->id,    \
                         __LINE__, #cond, (ctx) ? valkeyaddon_ctx_error_message(ctx) : "");                      \
            }                                                                                                    \
            goto done;                                                                                           \
        }                                                                                                        \
    } while (0)

static char tmpdir[64];

/* ---- running workers ---- */

static void *thread_main(void *arg)
{
    struct worker *w = arg;

    /* Every thread starts its work at once, so the calls really overlap. */
    pthread_barrier_wait(w->start);
    w->work(w);
    return NULL;
}

static void run_workers(struct worker *workers, work_fn work, const char *kubeconfig)
{
    pthread_t threads[THREADS];
    pthread_barrier_t start;
    int i;

    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        workers[i].id = i;
        workers[i].work = work;
        workers[i].start = &start;
        workers[i].dir = tmpdir;
        workers[i].kubeconfig = kubeconfig;
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &workers[i]), 0);
    }
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (i = 0; i < THREADS; i++) {
        if (workers[i].failed)
            print_error("%s\n", workers[i].failure);
        assert_int_equal(workers[i].failed, 0);
    }
}

static valkeyaddon_ctx *worker_ctx(struct worker *w)
{
    valkeyaddon_ctx_options options = VALKEYADDON_CTX_OPTIONS_INIT;
    valkeyaddon_ctx *ctx = NULL;

    options.log_level = VALKEYADDON_LOG_DEBUG;
    options.log_cb = capture_log;
    options.log_payload = &w->log;
    return valkeyaddon_ctx_new(&ctx, &options) == 0 ? ctx : NULL;
}

static void app_id(char *out, size_t size, const struct worker *w, int app)
{
    snprintf(out, size, "t%d-app%d", w->id, app);
}

/* ---- render ---- */

static const char *const plans[APPS] = { "free", "standard", "pro" };

struct hash {
    uint64_t value;
    int objects;
};

static int hash_object(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    struct hash *h = payload;
    size_t i;

    (void)kind;
    (void)name;
    /* FNV-1a over every document, in order. */
    for (i = 0; i < len; i++)
        h->value = (h->value ^ (unsigned char)text[i]) * 1099511628211ULL;
    h->objects++;
    return 0;
}

/* The same add-ons for every thread (tenant "acme", apps app0..), so the outputs can be compared. */
static int render_all(uint64_t hashes[APPS][2], valkeyaddon_ctx *ctx)
{
    valkeyaddon_render_options options = VALKEYADDON_RENDER_OPTIONS_INIT;
    char app[32];
    int i, format, rc;

    options.password = PASSWORD;
    for (i = 0; i < APPS; i++)
        for (format = 0; format < 2; format++) {
            struct hash h = { 14695981039346656037ULL, 0 };
            snprintf(app, sizeof(app), "app%d", i);
            options.format = format ? VALKEYADDON_RENDER_JSON : VALKEYADDON_RENDER_YAML;
            if ((rc = valkeyaddon_render(ctx, "tenant-acme", "acme", app, plans[i], &options, hash_object, &h)) < 0)
                return rc;
            if (h.objects < 5)
                return -1000 - h.objects;
            hashes[i][format] = h.value;
        }
    return 0;
}

static int count_object(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    (void)kind;
    (void)name;
    (void)text;
    (void)len;
    ++*(int *)payload;
    return 0;
}

static void render_work(struct worker *w)
{
    valkeyaddon_ctx *ctx = worker_ctx(w);
    int round, objects = 0;

    CHECK(w, ctx != NULL, ctx);
    for (round = 0; round < 5; round++) {
        CHECK(w, render_all(w->render_hash, ctx) == 0, ctx);
        /* A generated password: OpenSSL's generator from every thread at once. */
        CHECK(w, valkeyaddon_render(ctx, "tenant-acme", "acme", "random", "free", NULL, count_object, &objects) == 0,
              ctx);
    }
    CHECK(w, objects >= 5 * 5, ctx);
done:
    valkeyaddon_ctx_free(ctx);
}

static void test_threads__render(void **state)
{
    struct worker workers[THREADS];
    uint64_t expected[APPS][2];
    valkeyaddon_ctx *ctx;
    int i;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(render_all(expected, ctx), 0);
    valkeyaddon_ctx_free(ctx);

    run_workers(workers, render_work, NULL);
    /* Every thread rendered byte for byte what one thread alone renders. */
    for (i = 0; i < THREADS; i++)
        assert_memory_equal(workers[i].render_hash, expected, sizeof(expected));
}

/* ---- provision through the memory transport, over several storages ---- */

enum storage_kind { MEMORY, SQLITE_OWN, SQLITE_SHARED };

static int open_storage(valkeyaddon_ctx *ctx, const struct worker *w, enum storage_kind kind)
{
    valkeyaddon_storage *s = NULL;
    char path[256];
    int rc;

    if (kind == MEMORY)
        rc = valkeyaddon_storage_memory_new(&s);
    else {
        if (kind == SQLITE_OWN)
            snprintf(path, sizeof(path), "%s/own-%d.db", w->dir, w->id);
        else
            snprintf(path, sizeof(path), "%s/shared.db", w->dir);
        rc = valkeyaddon_storage_sqlite_new(&s, ctx, path);
    }
    if (rc < 0)
        return rc;
    if ((rc = valkeyaddon_ctx_set_storage(ctx, s)) < 0)
        s->free(s);
    return rc;
}

static int count_row(const valkeyaddon_addon_row *row, void *payload)
{
    (void)row;
    ++*(int *)payload;
    return 0;
}

/* Provision APPS add-ons, converge them again, read their REDIS_URL, then list and (but for the shared file) remove. */
static void provision_work(struct worker *w, enum storage_kind kind)
{
    valkeyaddon_provision_options options = VALKEYADDON_PROVISION_OPTIONS_INIT;
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_addon_row row;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_buffer *url = NULL;
    valkeyaddon_ctx *ctx = worker_ctx(w);
    char app[32], ns[32];
    const char *text;
    int i, deleted;

    CHECK(w, ctx != NULL, ctx);
    CHECK(w, valkeyaddon_transport_memory_new(&t) == 0, ctx);
    CHECK(w, valkeyaddon_ctx_set_transport(ctx, t) == 0, ctx);
    t = NULL;
    CHECK(w, open_storage(ctx, w, kind) == 0, ctx);
    CHECK(w, valkeyaddon_buffer_new(&url) == 0, ctx);
    snprintf(ns, sizeof(ns), "tenant-t%d", w->id);
    options.namespace_ = ns;
    options.tenant_id = "acme";
    options.no_wait = 1; /* the memory transport has no controller to make anything Ready */
    for (i = 0; i < APPS; i++) {
        app_id(app, sizeof(app), w, i);
        options.app_id = app;
        options.plan = plans[i];
        memset(&row, 0, sizeof(row));
        row.version = VALKEYADDON_ADDON_ROW_VERSION;
        CHECK(w, valkeyaddon_provision(&row, &ensured, ctx, &options) == 0, ctx);
        CHECK(w, row.status == VALKEYADDON_STATUS_CREATING, ctx);
        CHECK(w, strcmp(row.app_id, app) == 0 && strcmp(row.plan, plans[i]) == 0, ctx);
        CHECK(w, ensured.password_created == 1 && ensured.objects_written > 0, ctx);
        /* A second call converges: nothing to write, the password kept. */
        CHECK(w, ensure_valkey(&ensured, ctx, ns, "acme", app, plans[i]) == 0, ctx);
        CHECK(w, ensured.password_created == 0 && ensured.objects_written == 0, ctx);
        CHECK(w, valkeyaddon_redis_url(url, ctx, ns, "acme", app) == 0, ctx);
        text = valkeyaddon_buffer_data(url, NULL);
        CHECK(w, strncmp(text, "redis://", 8) == 0 && strstr(text, ensured.name) != NULL, ctx);
        CHECK(w, valkeyaddon_addon_get(&row, ctx, app, NULL) == 0, ctx);
        CHECK(w, strcmp(row.namespace_, ns) == 0, ctx);
    }
    w->rows = 0;
    CHECK(w, valkeyaddon_addon_list(ctx, NULL, count_row, &w->rows) == 0, ctx);
    if (kind != SQLITE_SHARED) {
        CHECK(w, w->rows == APPS, ctx);
        for (i = 0; i < APPS; i++) {
            app_id(app, sizeof(app), w, i);
            CHECK(w, valkeyaddon_deprovision(&deleted, ctx, ns, "acme", app) == 0, ctx);
            CHECK(w, deleted >= 4, ctx);
        }
    }
done:
    valkeyaddon_buffer_free(url);
    valkeyaddon_ctx_free(ctx);
}

static void memory_work(struct worker *w)
{
    provision_work(w, MEMORY);
}

static void sqlite_own_work(struct worker *w)
{
    provision_work(w, SQLITE_OWN);
}

static void sqlite_shared_work(struct worker *w)
{
    provision_work(w, SQLITE_SHARED);
}

static void test_threads__provision_memory_storage(void **state)
{
    struct worker workers[THREADS];

    (void)state;
    run_workers(workers, memory_work, NULL);
}

static void test_threads__provision_sqlite_own_files(void **state)
{
    struct worker workers[THREADS];

    (void)state;
    run_workers(workers, sqlite_own_work, NULL);
}

/* One file, one storage per context: SQLite's locking (WAL, BEGIN IMMEDIATE, busy timeout) orders the writes. */
static void test_threads__provision_sqlite_shared_file(void **state)
{
    struct worker workers[THREADS];
    valkeyaddon_ctx *ctx;
    valkeyaddon_storage *s;
    char path[256];
    int rows = 0;

    (void)state;
    run_workers(workers, sqlite_shared_work, NULL);
    snprintf(path, sizeof(path), "%s/shared.db", tmpdir);
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_storage_sqlite_new(&s, ctx, path), 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, s), 0);
    assert_int_equal(valkeyaddon_addon_list(ctx, NULL, count_row, &rows), 0);
    valkeyaddon_ctx_free(ctx);
    /* Every thread's rows, none lost or torn. */
    assert_int_equal(rows, THREADS * APPS);
}

/* ---- error detail stays on its context ---- */

static void errors_work(struct worker *w)
{
    valkeyaddon_ctx *ctx = worker_ctx(w);
    char argument[32], expected[64], name[VALKEYADDON_NAME_BUFSIZE], expected_name[VALKEYADDON_NAME_BUFSIZE];
    const char *not_found = valkeyaddon_strerror(VALKEYADDON_ENOTFOUND);
    int i;

    CHECK(w, ctx != NULL, ctx);
    CHECK(w, valkey_name(expected_name, sizeof(expected_name), NULL, "acme", "web") >= 0, ctx);
    snprintf(argument, sizeof(argument), "argument-of-thread-%d", w->id);
    snprintf(expected, sizeof(expected), "%s: character 'X'", argument);
    for (i = 0; i < 2000; i++) {
        CHECK(w, valkeyaddon_check_id(ctx, argument, "bad-X") == VALKEYADDON_EINVAL, ctx);
        CHECK(w, valkeyaddon_ctx_error_code(ctx) == VALKEYADDON_EINVAL, ctx);
        CHECK(w, strncmp(valkeyaddon_ctx_error_message(ctx), expected, strlen(expected)) == 0, ctx);
        CHECK(w, valkeyaddon_check_id(ctx, argument, "good") == 0, ctx);
        CHECK(w, valkeyaddon_ctx_error_code(ctx) == 0 && *valkeyaddon_ctx_error_message(ctx) == '\0', ctx);
        /* Calls without a context are safe from any thread. */
        CHECK(w, valkey_name(name, sizeof(name), NULL, "acme", "web") >= 0 && strcmp(name, expected_name) == 0, ctx);
        CHECK(w, strcmp(valkeyaddon_strerror(VALKEYADDON_ENOTFOUND), not_found) == 0, ctx);
    }
done:
    valkeyaddon_ctx_free(ctx);
}

static void test_threads__errors_stay_on_their_context(void **state)
{
    struct worker workers[THREADS];
    int i;

    (void)state;
    run_workers(workers, errors_work, NULL);
    /* Each context's log callback saw only its own thread's failures. */
    for (i = 0; i < THREADS; i++) {
        char mine[40];
        snprintf(mine, sizeof(mine), "argument-of-thread-%d", i);
        assert_int_equal(workers[i].log.count >= 2000, 1);
        assert_non_null(strstr(workers[i].log.all, mine));
        assert_null(strstr(workers[i].log.all, i ? "argument-of-thread-0" : "argument-of-thread-1"));
    }
}

/* ---- a replaced allocator, installed before the threads start ---- */

static long live, allocations;

static void *counting_malloc(size_t size)
{
    void *p = malloc(size);
    if (p) {
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    }
    return p;
}

static void *counting_calloc(size_t count, size_t size)
{
    void *p = calloc(count, size);
    if (p) {
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    }
    return p;
}

static void *counting_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size);
    if (p && !ptr) {
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    }
    return p;
}

static void counting_free(void *ptr)
{
    if (ptr)
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
    free(ptr);
}

static void test_threads__replaced_allocator_sees_every_thread(void **state)
{
    struct worker workers[THREADS];

    (void)state;
    /* The contract: replace the allocator before any context exists and before threads start. */
    assert_int_equal(valkeyaddon_replace_allocator(counting_malloc, counting_realloc, counting_calloc, counting_free),
                     0);
    run_workers(workers, sqlite_own_work, NULL);
    assert_int_equal(valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL), 0);
    assert_true(allocations > THREADS * APPS * 10);
    /* Every context freed everything it allocated, in whichever thread. */
    assert_int_equal(live, 0);
}

/* ---- the Kubernetes transport against the API test server ---- */

static struct kube_server server;

static int start_server(void **state)
{
    const char *extra[] = { "--auto-ready", "0.05", NULL };
    char state_dir[128], log_path[128];

    (void)state;
    snprintf(state_dir, sizeof(state_dir), "%s/server", tmpdir);
    snprintf(log_path, sizeof(log_path), "%s/server.log", tmpdir);
    return kube_server_start(&server, NULL, state_dir, log_path, extra);
}

static int stop_server(void **state)
{
    (void)state;
    kube_server_stop(&server);
    return 0;
}

/* Provision and wait for Ready, each thread in its own namespace, half with SQLite and half in memory. */
static void kubernetes_work(struct worker *w)
{
    valkeyaddon_kubernetes_options kube = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_provision_options options = VALKEYADDON_PROVISION_OPTIONS_INIT;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    valkeyaddon_addon_row row;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_buffer *url = NULL;
    valkeyaddon_ctx *ctx = worker_ctx(w);
    char app[32], ns[32];
    int i, deleted;

    CHECK(w, ctx != NULL, ctx);
    kube.kubeconfig = w->kubeconfig;
    CHECK(w, valkeyaddon_transport_kubernetes_new(&t, ctx, &kube) == 0, ctx);
    CHECK(w, valkeyaddon_ctx_set_transport(ctx, t) == 0, ctx);
    t = NULL;
    CHECK(w, open_storage(ctx, w, w->id % 2 ? MEMORY : SQLITE_OWN) == 0, ctx);
    CHECK(w, valkeyaddon_buffer_new(&url) == 0, ctx);
    snprintf(ns, sizeof(ns), "threads-%d", w->id);
    options.namespace_ = ns;
    options.tenant_id = "acme";
    options.timeout_ms = 30000;
    for (i = 0; i < 2; i++) {
        app_id(app, sizeof(app), w, i);
        options.app_id = app;
        options.plan = plans[i];
        memset(&row, 0, sizeof(row));
        row.version = VALKEYADDON_ADDON_ROW_VERSION;
        CHECK(w, valkeyaddon_provision(&row, NULL, ctx, &options) == 0, ctx);
        CHECK(w, row.status == VALKEYADDON_STATUS_READY, ctx);
        CHECK(w, valkeyaddon_addon_status(&info, ctx, ns, "acme", app) == 0, ctx);
        CHECK(w, info.status == VALKEYADDON_STATUS_READY, ctx);
        CHECK(w, valkeyaddon_redis_url(url, ctx, ns, "acme", app) == 0, ctx);
        CHECK(w, strncmp(valkeyaddon_buffer_data(url, NULL), "redis://", 8) == 0, ctx);
    }
    for (i = 0; i < 2; i++) {
        app_id(app, sizeof(app), w, i);
        CHECK(w, valkeyaddon_deprovision(&deleted, ctx, ns, "acme", app) == 0, ctx);
        CHECK(w, deleted >= 4, ctx);
    }
done:
    valkeyaddon_buffer_free(url);
    valkeyaddon_ctx_free(ctx);
}

static void test_threads__kubernetes_provision_and_wait(void **state)
{
    struct worker workers[THREADS];

    (void)state;
    run_workers(workers, kubernetes_work, server.kubeconfig);
}

/* ---- main ---- */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads__render),
        cmocka_unit_test(test_threads__errors_stay_on_their_context),
        cmocka_unit_test(test_threads__provision_memory_storage),
        cmocka_unit_test(test_threads__provision_sqlite_own_files),
        cmocka_unit_test(test_threads__provision_sqlite_shared_file),
        cmocka_unit_test(test_threads__replaced_allocator_sees_every_thread),
        cmocka_unit_test_setup_teardown(test_threads__kubernetes_provision_and_wait, start_server, stop_server),
    };
    int failed;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_threads.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot create a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    stop_server(NULL);
    remove_tree(tmpdir);
    return failed;
}
