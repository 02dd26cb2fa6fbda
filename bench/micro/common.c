/*
 * Helpers shared by the micro benchmarks (see common.h). The control API is
 * spoken with libcurl directly, not through the library: it is the test
 * server's, not Kubernetes', and the benchmarks must not measure it.
 */
#define _GNU_SOURCE 1
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

static int copy_field(char *out, size_t size, yajl_val root, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    const char *text = v ? YAJL_GET_STRING(v) : NULL;

    if (!text || strlen(text) >= size) {
        fprintf(stderr, "bench: server.json has no usable \"%s\"\n", key);
        return -1;
    }
    memcpy(out, text, strlen(text) + 1);
    return 0;
}

int bench_server_load(struct bench_server *s, const char *dir)
{
    char path[1024], text[8192], err[256] = "";
    const char *pid_path[] = { "pid", NULL };
    yajl_val root, pid;
    size_t n;
    FILE *f;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), "%s/server.json", dir);
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "bench: cannot open %s (is the test server running?)\n", path);
        return -1;
    }
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (!(root = yajl_tree_parse(text, err, sizeof(err)))) {
        fprintf(stderr, "bench: %s: %s\n", path, err);
        return -1;
    }
    rc |= copy_field(s->kubeconfig, sizeof(s->kubeconfig), root, "kubeconfig");
    rc |= copy_field(s->url, sizeof(s->url), root, "url");
    rc |= copy_field(s->ca, sizeof(s->ca), root, "ca");
    rc |= copy_field(s->token, sizeof(s->token), root, "token");
    pid = yajl_tree_get(root, pid_path, yajl_t_number);
    s->pid = pid && YAJL_IS_INTEGER(pid) ? (long)YAJL_GET_INTEGER(pid) : -1;
    yajl_tree_free(root);
    return rc ? -1 : 0;
}

struct sink {
    char *data;
    size_t size, used;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *sink = userdata;
    size_t n = size * nmemb, room;

    if (sink->data && sink->used + 1 < sink->size) {
        room = sink->size - 1 - sink->used;
        memcpy(sink->data + sink->used, ptr, n < room ? n : room);
        sink->used += n < room ? n : room;
        sink->data[sink->used] = '\0';
    }
    return n;
}

int bench_control(const struct bench_server *s, const char *method, const char *path, const char *body,
                  char *response, size_t size)
{
    char url[512], auth[300];
    struct curl_slist *headers = NULL;
    struct sink sink = { response, size, 0 };
    long status = -1;
    CURL *curl;

    if (response && size)
        response[0] = '\0';
    if (!(curl = curl_easy_init()))
        return -1;
    snprintf(url, sizeof(url), "%s%s", s->url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->token);
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return (int)status;
}

long bench_json_long(const char *json, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val root = yajl_tree_parse(json, NULL, 0), v;
    long result = -1;

    if (root && (v = yajl_tree_get(root, path, yajl_t_number)) && YAJL_IS_INTEGER(v))
        result = (long)YAJL_GET_INTEGER(v);
    yajl_tree_free(root);
    return result;
}

valkeyaddon_ctx *bench_kube_ctx(const struct bench_server *s, int with_storage)
{
    valkeyaddon_kubernetes_options options = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *transport = NULL;
    valkeyaddon_storage *storage = NULL;
    valkeyaddon_ctx *ctx = NULL;

    if (valkeyaddon_ctx_new(&ctx, NULL) != 0)
        return NULL;
    options.kubeconfig = s->kubeconfig;
    if (valkeyaddon_transport_kubernetes_new(&transport, ctx, &options) != 0)
        goto fail;
    if (valkeyaddon_ctx_set_transport(ctx, transport) != 0) {
        transport->free(transport);
        goto fail;
    }
    if (with_storage) {
        if (valkeyaddon_storage_memory_new(&storage) != 0)
            goto fail;
        if (valkeyaddon_ctx_set_storage(ctx, storage) != 0) {
            storage->free(storage);
            goto fail;
        }
    }
    return ctx;
fail:
    fprintf(stderr, "bench: cannot set up a context: %s\n", valkeyaddon_ctx_error_message(ctx));
    valkeyaddon_ctx_free(ctx);
    return NULL;
}

double bench_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void bench_sleep_ms(double ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000.0);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_process_cpu_s(long pid)
{
    char path[64], text[1024], *p;
    unsigned long utime, stime;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (pid <= 0 || !(f = fopen(path, "r")))
        return -1;
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th. */
    if (!(p = strrchr(text, ')')))
        return -1;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}
