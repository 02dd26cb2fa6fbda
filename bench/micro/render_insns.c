/*
 * Instructions the library spends on one app's objects, counted by callgrind
 * (deterministic, unlike time on a shared machine). Two shapes of "one app":
 *   render  valkeyaddon_render(): every object as YAML, fixed password (the `render` command);
 *   ensure  ensure_valkey() + ensure_redis_url_secret() over the render transport (JSON):
 *           the reads, object building and writes of a provision, minus the network.
 * One app is done first, outside the count, so one-time set-up (plan tables,
 * the random generator, lazily built state) is not charged to every app; then
 * --apps apps are done inside it and run.sh divides by their number.
 *
 * What is counted: valgrind --tool=callgrind --collect-atstart=no, with the
 * loop between two CALLGRIND_TOGGLE_COLLECT client requests. Without
 * <valgrind/callgrind.h> the requests compile to nothing and run.sh uses
 * --toggle-collect=bench_micro_measured instead (--collect-method says which).
 * Outside valgrind the program just runs (a check that it works).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valkeyaddon.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define NS "bench-micro"
#define TENANT "bench"
/* A fixed password, so every render is the same work (the library needs 16 or more URL-safe characters). */
#define PASSWORD "benchmark-password-not-a-secret-0123456789"

struct counter {
    size_t objects, bytes;
};

static int on_object(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    struct counter *c = payload;

    (void)kind;
    (void)name;
    (void)text;
    c->objects++;
    c->bytes += len;
    return 0;
}

static int one_app(valkeyaddon_ctx *ctx, int ensure, int i, struct counter *c)
{
    valkeyaddon_render_options options = VALKEYADDON_RENDER_OPTIONS_INIT;
    char app[32];

    /* Different apps, so no work is skipped as already done (ensure reads before it writes). */
    snprintf(app, sizeof(app), "app%d", i);
    if (ensure) {
        int rc = ensure_valkey(NULL, ctx, NS, TENANT, app, "free");
        return rc ? rc : ensure_redis_url_secret(ctx, NS, TENANT, app);
    }
    options.password = PASSWORD;
    return valkeyaddon_render(ctx, NS, TENANT, app, "free", &options, on_object, c);
}

/* The measured region; not inlined or cloned, so --toggle-collect can name it (clang does not know noclone). */
#if defined(__clang__)
#define BENCH_NOT_INLINED __attribute__((noinline))
#else
#define BENCH_NOT_INLINED __attribute__((noinline, noclone))
#endif
int bench_micro_measured(valkeyaddon_ctx *ctx, int ensure, int apps, struct counter *c);
BENCH_NOT_INLINED int bench_micro_measured(valkeyaddon_ctx *ctx, int ensure, int apps, struct counter *c)
{
    int i, rc = 0;

    CALLGRIND_TOGGLE_COLLECT;
    for (i = 1; i <= apps && rc == 0; i++)
        rc = one_app(ctx, ensure, i, c);
    CALLGRIND_TOGGLE_COLLECT;
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: render_insns [--apps N] [--what render|ensure] | --collect-method\n");
    return 2;
}

int main(int argc, char **argv)
{
    valkeyaddon_transport *transport = NULL;
    valkeyaddon_ctx *ctx = NULL;
    struct counter warm = { 0, 0 }, counted = { 0, 0 };
    int apps = 10, ensure = 0, i, rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--collect-method") == 0) {
#ifdef BENCH_HAVE_CALLGRIND
            puts("client-requests");
#else
            puts("toggle-collect");
#endif
            return 0;
        } else if (strcmp(argv[i], "--apps") == 0 && i + 1 < argc) {
            apps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--what") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "ensure") == 0)
                ensure = 1;
            else if (strcmp(argv[i], "render") != 0)
                return usage();
        } else {
            return usage();
        }
    }
    if (apps < 1)
        return usage();
    if (valkeyaddon_ctx_new(&ctx, NULL) != 0)
        return 1;
    if (ensure) {
        if (valkeyaddon_transport_render_new(&transport, VALKEYADDON_RENDER_JSON, on_object, &counted) != 0 ||
            valkeyaddon_ctx_set_transport(ctx, transport) != 0) {
            fprintf(stderr, "render_insns: render transport: %s\n", valkeyaddon_ctx_error_message(ctx));
            return 1;
        }
    }
    /* App 0: the warm-up, outside the count. */
    rc = one_app(ctx, ensure, 0, &warm);
    if (rc == 0) {
        counted.objects = counted.bytes = 0;
        rc = bench_micro_measured(ctx, ensure, apps, &counted);
    }
    if (rc != 0) {
        fprintf(stderr, "render_insns: %s failed: %s\n", ensure ? "ensure" : "render",
                valkeyaddon_ctx_error_message(ctx));
        valkeyaddon_ctx_free(ctx);
        return 1;
    }
    printf("what=%s apps=%d objects_per_app=%zu bytes_per_app=%zu\n", ensure ? "ensure" : "render", apps,
           counted.objects / (size_t)apps, counted.bytes / (size_t)apps);
    valkeyaddon_ctx_free(ctx);
    return 0;
}
