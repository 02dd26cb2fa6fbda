/*
 * bench/ours: libvalkeyaddon in the side-by-side benchmark (bench/README.md).
 *
 * What a control plane calls for POST /addons: valkeyaddon_provision() with
 * no_wait (the objects are written, the row says `creating`; readiness is
 * checked later) over one context holding the Kubernetes transport (from the
 * kubeconfig: one kept-alive connection) and the memory storage, apps one
 * after the other. The same program serves both rounds: on the first it
 * creates, on the second nothing has changed and the request economy sends
 * reads only (docs/request-economy.md).
 *
 * Prints one JSON line: apps, wall_ms and cpu_ms of the loop alone (the
 * context, transport and storage are made before the clock starts), and
 * objects_written summed over the apps.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valkeyaddon.h>

#include "app.h"
#include "clock.h"

static void usage(void)
{
    fprintf(stderr, "usage: bench/ours --kubeconfig FILE --namespace NS --tenant ID --apps N --plan PLAN\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct bench_args args;
    valkeyaddon_kubernetes_options ko = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *transport;
    valkeyaddon_storage *storage;
    valkeyaddon_ctx *ctx;
    double wall0, cpu0, wall, cpu;
    long i, written = 0;

    bench_parse_args(&args, argc, argv, usage);
    if (!args.kubeconfig || args.out)
        usage();

    if (valkeyaddon_ctx_new(&ctx, NULL) < 0) {
        fprintf(stderr, "bench/ours: valkeyaddon_ctx_new failed\n");
        return 1;
    }
    ko.kubeconfig = args.kubeconfig;
    if (valkeyaddon_transport_kubernetes_new(&transport, ctx, &ko) < 0 ||
        valkeyaddon_ctx_set_transport(ctx, transport) < 0 || valkeyaddon_storage_memory_new(&storage) < 0 ||
        valkeyaddon_ctx_set_storage(ctx, storage) < 0) {
        fprintf(stderr, "bench/ours: setting up: %s\n", valkeyaddon_ctx_error_message(ctx));
        valkeyaddon_ctx_free(ctx);
        return 1;
    }

    wall0 = bench_wall_ms();
    cpu0 = bench_cpu_ms();
    for (i = 0; i < args.apps; i++) {
        valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;
        valkeyaddon_ensure_result r = VALKEYADDON_ENSURE_RESULT_INIT;
        char app[32];

        bench_provision_options(&o, app, &args, i);
        if (valkeyaddon_provision(NULL, &r, ctx, &o) < 0) {
            fprintf(stderr, "bench/ours: provision %s: %s\n", app, valkeyaddon_ctx_error_message(ctx));
            valkeyaddon_ctx_free(ctx);
            return 1;
        }
        written += r.objects_written;
    }
    wall = bench_wall_ms() - wall0;
    cpu = bench_cpu_ms() - cpu0;

    valkeyaddon_ctx_free(ctx);
    printf("{\"apps\": %ld, \"wall_ms\": %.3f, \"cpu_ms\": %.3f, \"objects_written\": %ld}\n", args.apps, wall, cpu,
           written);
    return 0;
}
