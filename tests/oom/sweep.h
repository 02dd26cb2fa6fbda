/*
 * The allocation-failure sweep (docs/allocation-failure.md): for one call,
 * fail its 1st, 2nd, 3rd... allocation until it succeeds, and at each step
 * check the code, the context's message, the live blocks after cleanup and,
 * where a case says how, that a retry converges to what a run that never
 * failed gives.
 */
#ifndef VALKEYADDON_TESTS_OOM_SWEEP_H
#define VALKEYADDON_TESTS_OOM_SWEEP_H

#include "../unit/helpers.h"

#include <valkeyaddon/sys/storage.h>
#include <valkeyaddon/sys/transport.h>

#include "failing_alloc.h"
#include "../support/rows.h"

#define NS "tenant-ns"
#define TENANT "acme"
#define APP "web"

/* A memory transport that records which objects exist and reports StatefulSets as ready. */
struct cluster;

/* Everything one call of a case may use; reset before every step. */
struct fx {
    valkeyaddon_ctx *ctx;
    struct cluster *cluster;         /* the ctx's transport, when setup gave it one */
    valkeyaddon_buffer *buf;         /* freed by the teardown */
    valkeyaddon_transport *transport; /* a constructed transport the ctx does not own */
    valkeyaddon_storage *storage;    /* a constructed storage the ctx does not own */
    valkeyaddon_addon_row row;
    valkeyaddon_ensure_result ensured;
    valkeyaddon_status_info info;
    struct log_capture log;
    char dir[128];                   /* a fresh temp directory (empty until a case asks for it) */
    char path[256];                  /* a file in it */
    int count;                       /* for callbacks */
    int deleted;
    const char *plan;                /* the plan a case provisions with */
};

struct oom_case {
    const char *name;
    void (*setup)(struct fx *f);     /* not armed: builds what the call needs */
    int (*call)(struct fx *f);       /* armed: the call under test */
    /* Not armed: checks what the call left. failed is 1 after an injected failure (a case that can
     * checks that a retry converges to the reference), 0 after the run that succeeded. */
    void (*check)(struct fx *f, int rc, int failed);
    int final_rc;                    /* what the call returns when no allocation fails (usually 0) */
    int other_rc;                    /* a documented code a failure may give instead of ENOMEM; 0: none */
    int no_ctx;                      /* the function takes no context: only the code can be checked */
    /* A failure may be absorbed (the call succeeds all the same, and check() sees the state of a success):
     * the request economy's comparison documents that out of memory means "apply" (applied.h). */
    int may_absorb;
};

/* Run the sweep of one case in one mode; returns the number of allocations the successful call made. */
long oom_sweep(const struct oom_case *c, enum oom_mode mode);

/* Run the case once, counting: it must allocate nothing and return final_rc. */
void oom_expect_no_allocation(const struct oom_case *c);

/* ---- fixture helpers ---- */

void fx_ctx(struct fx *f);                 /* a context logging everything into f->log */
void fx_cluster(struct fx *f);             /* ... with the cluster transport */
void fx_memory_storage(struct fx *f);      /* ... with an in-memory storage */
void fx_sqlite_storage(struct fx *f);      /* ... with an SQLite storage in f->dir */
void fx_tempdir(struct fx *f);             /* f->dir: a fresh temp directory */
void fx_teardown(struct fx *f);            /* release everything f holds, remove f->dir */

/* A text of every object the cluster holds, sorted, with Secret data and stamps masked; caller frees. */
char *cluster_snapshot(struct cluster *c);
/* The number of objects the cluster holds. */
int cluster_objects(struct cluster *c);
/* Store an object as another writer would (setup only). */
void cluster_put(struct cluster *c, const valkeyaddon_resource *r, const char *ns, const char *json);
/* The REDIS_URL of the app Secret equals the auth Secret's uri, which carries its password. */
void assert_redis_url_consistent(struct fx *f);

/* The message after a failure: set, one printable line, no secret. */
void assert_sane_message(const char *message);

#endif
