/*
 * What bench/ours and bench/plan share, so the recorded plan is the very call
 * ours makes: their command line and the provision options of app number i
 * (the same ids, plan and no_wait).
 */
#ifndef BENCH_APP_H
#define BENCH_APP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valkeyaddon.h>

struct bench_args {
    const char *kubeconfig; /* --kubeconfig (bench/ours) */
    const char *out;        /* --out (bench/plan) */
    const char *ns, *tenant, *plan;
    long apps;
};

/* Parse --kubeconfig, --out, --namespace, --tenant, --apps, --plan; usage() on anything else or a missing value. */
static void bench_parse_args(struct bench_args *a, int argc, char **argv, void (*usage)(void))
{
    int i;

    memset(a, 0, sizeof(*a));
    a->apps = -1;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--kubeconfig") == 0)
            a->kubeconfig = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            a->out = argv[i + 1];
        else if (strcmp(argv[i], "--namespace") == 0)
            a->ns = argv[i + 1];
        else if (strcmp(argv[i], "--tenant") == 0)
            a->tenant = argv[i + 1];
        else if (strcmp(argv[i], "--apps") == 0)
            a->apps = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--plan") == 0)
            a->plan = argv[i + 1];
        else
            usage();
    }
    if (i != argc || !a->ns || !a->tenant || !a->plan || a->apps < 1 || a->apps > 100000)
        usage();
}

/* The provision of app number i: app_id "app-NNNN" written into app, no_wait. */
static void bench_provision_options(valkeyaddon_provision_options *o, char app[32], const struct bench_args *a,
                                    long i)
{
    snprintf(app, 32, "app-%04ld", i);
    o->namespace_ = a->ns;
    o->tenant_id = a->tenant;
    o->app_id = app;
    o->plan = a->plan;
    o->no_wait = 1;
}

#endif
