/*
 * libcurl's global initialisation happens once per process, whatever the
 * number of threads creating Kubernetes transports at once. curl_global_init()
 * is thread-safe only where libcurl says so (CURL_VERSION_THREADSAFE, 7.84 and
 * later with atomics); the library accepts libcurl 7.74, so it must never call
 * it from two threads at once. The test wraps curl_global_init (ld --wrap,
 * which reaches the calls inside the statically linked internal library),
 * holds every call open long enough for a second thread to arrive, and counts
 * the calls and how many were inside at the same time.
 */
#include "../unit/helpers.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define THREADS 4

CURLcode __real_curl_global_init(long flags);
CURLcode __wrap_curl_global_init(long flags);

static int calls, inside, most_inside;

CURLcode __wrap_curl_global_init(long flags)
{
    struct timespec hold = { 0, 50 * 1000 * 1000 };
    int now = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST), seen;

    __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    seen = __atomic_load_n(&most_inside, __ATOMIC_SEQ_CST);
    while (now > seen && !__atomic_compare_exchange_n(&most_inside, &seen, now, 0, __ATOMIC_SEQ_CST,
                                                      __ATOMIC_SEQ_CST))
        ;
    nanosleep(&hold, NULL);
    __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
    return __real_curl_global_init(flags);
}

struct worker {
    const char *kubeconfig;
    pthread_barrier_t *start;
    int rc;
    char message[1024];
};

static void *make_transports(void *arg)
{
    struct worker *w = arg;
    valkeyaddon_kubernetes_options options = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_ctx *ctx = NULL;
    int i;

    options.kubeconfig = w->kubeconfig;
    if ((w->rc = valkeyaddon_ctx_new(&ctx, NULL)) < 0)
        return NULL;
    pthread_barrier_wait(w->start);
    for (i = 0; i < 3 && w->rc == 0; i++) {
        w->rc = valkeyaddon_transport_kubernetes_new(&t, ctx, &options);
        snprintf(w->message, sizeof(w->message), "%s", valkeyaddon_ctx_error_message(ctx));
        if (w->rc == 0)
            t->free(t);
    }
    valkeyaddon_ctx_free(ctx);
    return NULL;
}

static void test_curl_once__concurrent_transports_initialise_libcurl_once(void **state)
{
    char dir[] = "/tmp/test_curl_once.XXXXXX", path[64];
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    pthread_barrier_t start;
    FILE *f;
    int i;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kubeconfig", dir);
    assert_non_null(f = fopen(path, "w"));
    /* Nothing listens on port 1: constructing a transport sends no request. */
    fputs("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
          "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
          "users: [{name: u, user: {token: not-a-real-token}}]\n"
          "contexts: [{name: t, context: {cluster: c, user: u}}]\n",
          f);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        workers[i].kubeconfig = path;
        workers[i].start = &start;
        assert_int_equal(pthread_create(&threads[i], NULL, make_transports, &workers[i]), 0);
    }
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
    unlink(path);
    rmdir(dir);

    for (i = 0; i < THREADS; i++) {
        if (workers[i].rc != 0)
            print_error("thread %d: %s\n", i, workers[i].message);
        assert_int_equal(workers[i].rc, 0);
    }
    /* Once for the process: never two at a time, and not once per transport. */
    assert_int_equal(most_inside, 1);
    assert_int_equal(calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl_once__concurrent_transports_initialise_libcurl_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
