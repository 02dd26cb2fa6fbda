/*
 * bench/raw: the lower bound of the side-by-side benchmark (bench/README.md).
 *
 * Replays one round of bench/plan's requests with libcurl alone: one easy
 * handle (one kept-alive connection), the Kubernetes transport's headers and
 * options (Accept, Content-Type, bearer token, user agent, HTTP/2 over TLS when
 * offered), bodies prepared before the clock starts, responses kept in a
 * reused buffer and not parsed. Every status is checked against the plan's.
 *
 * Prints one JSON line: apps, wall_ms and cpu_ms of the loop, requests.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "clock.h"

struct request {
    char *url;
    char *method;
    char *body;
    size_t body_len;
    struct curl_slist *headers;
    long expect;
};

struct sink {
    char *data;
    size_t len, cap;
};

static void die(const char *what)
{
    fprintf(stderr, "bench/raw: %s\n", what);
    exit(1);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);

    if (!p)
        die("out of memory");
    return p;
}

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * count;

    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2;
        char *grown = realloc(s->data, cap);
        if (!grown)
            return 0;
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        die(path);
    do {
        if (len + 4096 > cap) {
            cap = (len + 4096) * 2;
            if (!(data = realloc(data, cap)))
                die("out of memory");
        }
        n = fread(data + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    data[len] = '\0';
    return data;
}

static const char *get_string(yajl_val root, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);

    return v ? YAJL_GET_STRING(v) : NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench/raw --server-json FILE --plan-file FILE --round create|nochange\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *server_json = NULL, *plan_file = NULL, *round = NULL;
    struct curl_slist *get_headers = NULL, *post_headers = NULL, *apply_headers = NULL;
    struct request *reqs = NULL;
    size_t nreqs = 0, cap = 0, i, linecap = 0;
    struct sink sink = { NULL, 0, 0 };
    char *line = NULL, *auth, *server, err[256], prev_app[64] = "";
    const char *url, *ca, *token;
    double wall0, cpu0, wall, cpu;
    long apps = 0;
    yajl_val info;
    FILE *f;
    CURL *c;
    int a;

    for (a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--server-json") == 0)
            server_json = argv[a + 1];
        else if (strcmp(argv[a], "--plan-file") == 0)
            plan_file = argv[a + 1];
        else if (strcmp(argv[a], "--round") == 0)
            round = argv[a + 1];
        else
            usage();
    }
    if (a != argc || !server_json || !plan_file || !round)
        usage();

    server = read_file(server_json);
    if (!(info = yajl_tree_parse(server, err, sizeof(err))) || !(url = get_string(info, "url")) ||
        !(ca = get_string(info, "ca")) || !(token = get_string(info, "token")))
        die("server.json lacks url, ca or token");
    if (!(auth = malloc(strlen(token) + 32)))
        die("out of memory");
    sprintf(auth, "Authorization: Bearer %s", token);
    /* The Kubernetes transport's headers, in its order (http.c). */
    get_headers = curl_slist_append(curl_slist_append(NULL, "Accept: application/json"), auth);
    post_headers = curl_slist_append(
        curl_slist_append(curl_slist_append(NULL, "Accept: application/json"), "Content-Type: application/json"),
        auth);
    apply_headers = curl_slist_append(curl_slist_append(curl_slist_append(NULL, "Accept: application/json"),
                                                        "Content-Type: application/apply-patch+yaml"),
                                      auth);
    if (!get_headers || !post_headers || !apply_headers)
        die("out of memory");

    if (!(f = fopen(plan_file, "r")))
        die(plan_file);
    while (getline(&line, &linecap, f) > 0) {
        static const char *expect_path[] = { "expect", NULL };
        yajl_val v = yajl_tree_parse(line, err, sizeof(err)), e;
        const char *method, *path, *query, *body_path[] = { "body", NULL }, *app;
        yajl_val body;
        struct request *r;

        if (!v)
            die("a plan line is not JSON");
        if (strcmp(get_string(v, "round"), round) != 0) {
            yajl_tree_free(v);
            continue;
        }
        if (nreqs == cap) {
            cap = cap ? cap * 2 : 256;
            if (!(reqs = realloc(reqs, cap * sizeof(*reqs))))
                die("out of memory");
        }
        r = &reqs[nreqs++];
        method = get_string(v, "method");
        path = get_string(v, "path");
        query = get_string(v, "query");
        app = get_string(v, "app");
        if (!method || !path || !query || !app || !(e = yajl_tree_get(v, expect_path, yajl_t_number)))
            die("a plan line lacks a field");
        if (!(r->url = malloc(strlen(url) + strlen(path) + strlen(query) + 2)))
            die("out of memory");
        sprintf(r->url, "%s%s%s%s", url, path, *query ? "?" : "", query);
        r->method = xstrdup(method);
        r->expect = (long)YAJL_GET_INTEGER(e);
        r->body = NULL;
        r->body_len = 0;
        if ((body = yajl_tree_get(v, body_path, yajl_t_string))) {
            r->body = xstrdup(YAJL_GET_STRING(body));
            r->body_len = strlen(r->body);
        }
        r->headers = strcmp(method, "GET") == 0 ? get_headers : strcmp(method, "POST") == 0 ? post_headers
                                                                                           : apply_headers;
        if (strcmp(app, prev_app) != 0) {
            snprintf(prev_app, sizeof(prev_app), "%s", app);
            apps++;
        }
        yajl_tree_free(v);
    }
    fclose(f);
    if (!nreqs)
        die("no request for this round in the plan");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(c = curl_easy_init()))
        die("curl_easy_init failed");
    /* The Kubernetes transport's options (kubernetes.c). */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "libvalkeyaddon/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);

    wall0 = bench_wall_ms();
    cpu0 = bench_cpu_ms();
    for (i = 0; i < nreqs; i++) {
        struct request *r = &reqs[i];
        long status = 0;
        CURLcode rc;

        sink.len = 0;
        curl_easy_setopt(c, CURLOPT_URL, r->url);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(r->method, "GET") == 0 ? NULL : r->method);
        if (r->body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
        if ((rc = curl_easy_perform(c)) != CURLE_OK) {
            fprintf(stderr, "bench/raw: %s %s: %s\n", r->method, r->url, curl_easy_strerror(rc));
            return 1;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (r->expect >= 200 && r->expect < 300 ? status < 200 || status >= 300 : status != r->expect) {
            fprintf(stderr, "bench/raw: %s %s: HTTP %ld, expected %ld\n", r->method, r->url, status, r->expect);
            return 1;
        }
    }
    wall = bench_wall_ms() - wall0;
    cpu = bench_cpu_ms() - cpu0;

    printf("{\"apps\": %ld, \"wall_ms\": %.3f, \"cpu_ms\": %.3f, \"requests\": %lu}\n", apps, wall, cpu,
           (unsigned long)nreqs);
    curl_easy_cleanup(c);
    curl_slist_free_all(get_headers);
    curl_slist_free_all(post_headers);
    curl_slist_free_all(apply_headers);
    for (i = 0; i < nreqs; i++) {
        free(reqs[i].url);
        free(reqs[i].method);
        free(reqs[i].body);
    }
    free(reqs);
    free(sink.data);
    free(line);
    free(auth);
    yajl_tree_free(info);
    free(server);
    curl_global_cleanup();
    return 0;
}
