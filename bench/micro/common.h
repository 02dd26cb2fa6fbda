/*
 * Shared by the micro benchmarks that talk to the Kubernetes API test server
 * (tests/support/kube_api_server.py, started by run.sh): where it is, its
 * control API (/_test/...), a monotonic clock and a median.
 */
#ifndef BENCH_MICRO_COMMON_H
#define BENCH_MICRO_COMMON_H

#include <stddef.h>

#include <valkeyaddon.h>

/* What server.json says about a running test server. */
struct bench_server {
    char kubeconfig[512];
    char url[256];
    char ca[512];
    char token[256]; /* a test token, never printed */
    long pid;
};

/* Read DIR/server.json; 0 or -1 (a message on stderr). */
int bench_server_load(struct bench_server *s, const char *dir);

/* A control request (POST/GET/DELETE on /_test/...): the HTTP status, -1 on a transport failure.
 * body may be NULL; when response is not NULL it receives up to size-1 bytes of the body. */
int bench_control(const struct bench_server *s, const char *method, const char *path, const char *body,
                  char *response, size_t size);

/* The number in `"key": N` of a flat JSON object, or -1. */
long bench_json_long(const char *json, const char *key);

/* A context whose transport is the server's (kubeconfig) and, with_storage, an in-memory storage. */
valkeyaddon_ctx *bench_kube_ctx(const struct bench_server *s, int with_storage);

/* Milliseconds on CLOCK_MONOTONIC. */
double bench_now_ms(void);

/* Sleep for ms milliseconds. */
void bench_sleep_ms(double ms);

/* Median of n values (sorts them in place). */
double bench_median(double *v, size_t n);

/* CPU seconds (user + system) a process has used so far, from /proc/PID/stat; -1 if unknown. */
double bench_process_cpu_s(long pid);

#endif
