/*
 * Readiness detection latency: how long after a StatefulSet becomes ready the
 * caller knows it.
 *
 * Each sample: a new app whose StatefulSet the test server holds not-ready
 * (POST /_test/statefulset-status "stall", set before the object exists),
 * its objects written with ensure_valkey(), then one thread waits and the
 * main thread flips the status to ready ("ready"). Latency is the time from
 * the flip request returning to the wait returning.
 *   --mode watch  the library's valkeyaddon_wait_ready() (a watch on the StatefulSet);
 *                 the flip comes once the server counts the watch as open;
 *   --mode poll   a naive control plane: valkeyaddon_addon_status() (one GET)
 *                 every --interval-ms (default 1000) until Ready; the flip comes
 *                 at a random point of the interval (fixed seed), so the samples
 *                 spread over the phases a real flip would hit.
 * Prints one line per sample, then
 *   mode=M samples=N median_ms=X max_ms=Y min_ms=Z
 */
#define _GNU_SOURCE 1
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define NS "bench-ready"
#define TENANT "bench"

struct waiter {
    valkeyaddon_ctx *ctx;
    const char *app;
    int poll;
    double interval_ms;
    volatile int polled_once; /* poll mode: the first GET is done (read by the main thread) */
    pthread_mutex_t lock;
    double done_ms;
    int rc;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    double next;

    if (!w->poll) {
        w->rc = valkeyaddon_wait_ready(&info, w->ctx, NS, TENANT, w->app, 30000, NULL, NULL);
        w->done_ms = bench_now_ms();
        return NULL;
    }
    next = bench_now_ms();
    for (;;) {
        w->rc = valkeyaddon_addon_status(&info, w->ctx, NS, TENANT, w->app);
        if (w->rc != 0 || info.status == VALKEYADDON_STATUS_READY)
            break;
        pthread_mutex_lock(&w->lock);
        w->polled_once = 1;
        pthread_mutex_unlock(&w->lock);
        next += w->interval_ms;
        bench_sleep_ms(next - bench_now_ms());
    }
    w->done_ms = bench_now_ms();
    return NULL;
}

static long active_watches(const struct bench_server *s)
{
    char state[1024];

    if (bench_control(s, "GET", "/_test/state", NULL, state, sizeof(state)) != 200)
        return -1;
    return bench_json_long(state, "active_watches");
}

static int polled_once(struct waiter *w)
{
    int seen;

    pthread_mutex_lock(&w->lock);
    seen = w->polled_once;
    pthread_mutex_unlock(&w->lock);
    return seen;
}

/* One sample; its latency in *latency_ms. 0 or -1. */
static int sample(const struct bench_server *s, valkeyaddon_ctx *ctx, int poll, double interval_ms, int i,
                  unsigned int *seed, double *latency_ms)
{
    char app[32], name[VALKEYADDON_NAME_BUFSIZE], body[256];
    struct waiter w;
    pthread_t thread;
    double flip_sent, flip_returned, until;
    long base;
    int status;

    snprintf(app, sizeof(app), "%s%d", poll ? "poll" : "watch", i);
    if (valkey_name(name, sizeof(name), ctx, TENANT, app) < 0)
        return -1;
    snprintf(body, sizeof(body), "{\"namespace\":\"%s\",\"name\":\"%s\",\"mode\":\"stall\"}", NS, name);
    if (bench_control(s, "POST", "/_test/statefulset-status", body, NULL, 0) >= 300) {
        fprintf(stderr, "ready_latency: the server refused the stall mode\n");
        return -1;
    }
    if (ensure_valkey(NULL, ctx, NS, TENANT, app, "free") != 0) {
        fprintf(stderr, "ready_latency: ensure_valkey: %s\n", valkeyaddon_ctx_error_message(ctx));
        return -1;
    }
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.app = app;
    w.poll = poll;
    w.interval_ms = interval_ms;
    pthread_mutex_init(&w.lock, NULL);
    base = active_watches(s);
    if (pthread_create(&thread, NULL, wait_thread, &w) != 0)
        return -1;
    until = bench_now_ms() + 10000;
    if (poll) {
        while (!polled_once(&w) && bench_now_ms() < until)
            bench_sleep_ms(1);
        /* Anywhere in the polling interval, as a real flip would land. */
        bench_sleep_ms(interval_ms * (double)rand_r(seed) / ((double)RAND_MAX + 1));
    } else {
        while (active_watches(s) <= base && bench_now_ms() < until)
            bench_sleep_ms(2);
        /* Let the waiter take the watch's first (not ready) state and settle into waiting. */
        bench_sleep_ms(20 + 80 * (double)rand_r(seed) / ((double)RAND_MAX + 1));
    }
    snprintf(body, sizeof(body), "{\"namespace\":\"%s\",\"name\":\"%s\",\"mode\":\"ready\"}", NS, name);
    flip_sent = bench_now_ms();
    status = bench_control(s, "POST", "/_test/statefulset-status", body, NULL, 0);
    flip_returned = bench_now_ms();
    pthread_join(thread, NULL);
    pthread_mutex_destroy(&w.lock);
    if (status >= 300 || status < 0 || w.rc != 0) {
        fprintf(stderr, "ready_latency: sample %d failed (flip: HTTP %d, wait: %d %s)\n", i, status, w.rc,
                w.rc ? valkeyaddon_ctx_error_message(ctx) : "");
        return -1;
    }
    *latency_ms = w.done_ms - flip_returned;
    printf("sample %d latency_ms=%.2f (from the flip request's start: %.2f)\n", i, *latency_ms,
           w.done_ms - flip_sent);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    struct bench_server server;
    valkeyaddon_ctx *ctx;
    double *latencies, interval_ms = 1000, median;
    unsigned int seed = 1;
    int samples = 5, poll = 0, i, n = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--server-dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
            samples = atoi(argv[++i]);
        else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval_ms = atof(argv[++i]);
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            poll = strcmp(argv[++i], "poll") == 0;
        else
            dir = NULL, i = argc;
    }
    if (!dir || samples < 1 || interval_ms <= 0) {
        fprintf(stderr, "usage: ready_latency --server-dir DIR [--mode watch|poll] [--samples N] "
                        "[--interval-ms MS]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (bench_server_load(&server, dir) != 0 || !(ctx = bench_kube_ctx(&server, 0)))
        return 1;
    if (!(latencies = calloc((size_t)samples, sizeof(*latencies))))
        return 1;
    for (i = 0; i < samples; i++)
        if (sample(&server, ctx, poll, interval_ms, i, &seed, &latencies[n]) == 0)
            n++;
    valkeyaddon_ctx_free(ctx);
    if (n < samples) {
        free(latencies);
        return 1;
    }
    median = bench_median(latencies, (size_t)n);
    printf("mode=%s samples=%d median_ms=%.2f max_ms=%.2f min_ms=%.2f\n", poll ? "poll" : "watch", n, median,
           latencies[n - 1], latencies[0]);
    free(latencies);
    curl_global_cleanup();
    return 0;
}
