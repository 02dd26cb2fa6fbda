/*
 * Throughput of the provision flow, sequential against concurrent.
 *
 * N apps are provisioned (the create round: valkeyaddon_provision() on apps
 * that do not exist yet, waiting until Ready; the server marks StatefulSets
 * ready as soon as it sees them when run.sh starts it with --auto-ready 0)
 * by T threads, each with its own context (own Kubernetes transport, so its
 * own connection, and own in-memory storage). That is the library's model: a
 * context is used by one thread at a time, and independent contexts run in
 * parallel; sharing one context would need a lock around every call and
 * serialise the threads anyway. Threads take the next app from a shared
 * counter, so a slow app does not leave a thread idle at the end.
 *
 *     concurrent --server-dir DIR [--apps N] [--threads 1,2,4] [--no-wait]
 *
 * Each round starts on an emptied server (POST /_test/reset) and prints
 *   threads=T apps=N seconds=S apps_per_s=X server_cpu_s=C client_cpu_s=D
 * server_cpu_s is the test server process's CPU time during the round: near
 * `seconds` means the single-process Python server was busy the whole time.
 */
#define _GNU_SOURCE 1
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#define NS "bench-concurrent"
#define TENANT "bench"

struct round {
    const struct bench_server *server;
    int apps, no_wait, round_id;
    pthread_mutex_t lock;
    int next;     /* next app to provision (under lock) */
    int failures; /* under lock */
    pthread_barrier_t start;
};

struct worker {
    struct round *round;
    valkeyaddon_ctx *ctx;
    pthread_t thread;
};

static int take(struct round *r)
{
    int i;

    pthread_mutex_lock(&r->lock);
    i = r->next < r->apps ? r->next++ : -1;
    pthread_mutex_unlock(&r->lock);
    return i;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct round *r = w->round;
    valkeyaddon_provision_options options = VALKEYADDON_PROVISION_OPTIONS_INIT;
    char app[32];
    int i;

    options.namespace_ = NS;
    options.tenant_id = TENANT;
    options.app_id = app;
    options.no_wait = r->no_wait;
    options.timeout_ms = 60000;
    pthread_barrier_wait(&r->start);
    while ((i = take(r)) >= 0) {
        snprintf(app, sizeof(app), "r%da%d", r->round_id, i);
        if (valkeyaddon_provision(NULL, NULL, w->ctx, &options) != 0) {
            fprintf(stderr, "concurrent: provision %s: %s\n", app, valkeyaddon_ctx_error_message(w->ctx));
            pthread_mutex_lock(&r->lock);
            r->failures++;
            pthread_mutex_unlock(&r->lock);
        }
    }
    return NULL;
}

static double self_cpu_s(void)
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int run_round(const struct bench_server *s, int threads, int apps, int no_wait, int round_id)
{
    struct worker *workers = calloc((size_t)threads, sizeof(*workers));
    struct round r;
    double t0, t1, server0, server1, self0, self1;
    int i, started = 0, failures;

    if (!workers)
        return -1;
    if (bench_control(s, "POST", "/_test/reset", "{}", NULL, 0) >= 300) {
        fprintf(stderr, "concurrent: the server refused /_test/reset\n");
        free(workers);
        return -1;
    }
    memset(&r, 0, sizeof(r));
    r.server = s;
    r.apps = apps;
    r.no_wait = no_wait;
    r.round_id = round_id;
    pthread_mutex_init(&r.lock, NULL);
    pthread_barrier_init(&r.start, NULL, (unsigned)threads + 1);
    /* Contexts are made before the clock starts: a service makes them once. */
    for (i = 0; i < threads; i++) {
        workers[i].round = &r;
        if (!(workers[i].ctx = bench_kube_ctx(s, 1)))
            break;
    }
    if (i == threads) {
        for (; started < threads; started++)
            if (pthread_create(&workers[started].thread, NULL, work, &workers[started]) != 0)
                break;
    }
    if (started < threads) {
        /* Cannot happen in practice; the barrier would then never open, so give up at once. */
        fprintf(stderr, "concurrent: could not start %d threads\n", threads);
        exit(1);
    }
    server0 = bench_process_cpu_s(s->pid);
    self0 = self_cpu_s();
    t0 = bench_now_ms();
    pthread_barrier_wait(&r.start);
    for (i = 0; i < threads; i++)
        pthread_join(workers[i].thread, NULL);
    t1 = bench_now_ms();
    server1 = bench_process_cpu_s(s->pid);
    self1 = self_cpu_s();
    for (i = 0; i < threads; i++)
        valkeyaddon_ctx_free(workers[i].ctx);
    failures = r.failures;
    pthread_barrier_destroy(&r.start);
    pthread_mutex_destroy(&r.lock);
    free(workers);
    if (failures)
        return -1;
    printf("threads=%d apps=%d seconds=%.3f apps_per_s=%.1f server_cpu_s=%.2f client_cpu_s=%.2f\n", threads, apps,
           (t1 - t0) / 1000, apps / ((t1 - t0) / 1000), server0 < 0 ? -1 : server1 - server0, self1 - self0);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *list = "1,2,4";
    struct bench_server server;
    int apps = 200, no_wait = 0, i, rc = 0, round_id = 0;
    char *copy, *item, *save = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--server-dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--apps") == 0 && i + 1 < argc)
            apps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            list = argv[++i];
        else if (strcmp(argv[i], "--no-wait") == 0)
            no_wait = 1;
        else
            dir = NULL, i = argc;
    }
    if (!dir || apps < 1) {
        fprintf(stderr, "usage: concurrent --server-dir DIR [--apps N] [--threads 1,2,4] [--no-wait]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (bench_server_load(&server, dir) != 0 || !(copy = strdup(list)))
        return 1;
    for (item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        int threads = atoi(item);
        if (threads < 1 || threads > 64) {
            fprintf(stderr, "concurrent: --threads: %s is not 1 to 64\n", item);
            rc = 2;
        } else if (run_round(&server, threads, apps, no_wait, round_id++) != 0) {
            rc = 1;
        }
    }
    free(copy);
    curl_global_cleanup();
    return rc;
}
