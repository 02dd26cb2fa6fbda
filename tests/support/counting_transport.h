/*
 * A delegating fake transport for the C tests, written against
 * valkeyaddon/sys/transport.h as a service would write one: it wraps a memory
 * transport, counts every call, logs what it writes, can fail the Nth call of
 * an operation, can lose a create race, and can report StatefulSets at a
 * chosen readiness (the memory transport has no controller). Tests reach the
 * wrapped transport through ->inner to read or change objects unseen.
 */
#ifndef VALKEYADDON_TESTS_SUPPORT_COUNTING_TRANSPORT_H
#define VALKEYADDON_TESTS_SUPPORT_COUNTING_TRANSPORT_H

#include <stddef.h>

#include <valkeyaddon.h>
#include <valkeyaddon/sys/transport.h>

enum counting_op { COUNTING_GET, COUNTING_CREATE, COUNTING_APPLY, COUNTING_REMOVE, COUNTING_OPS };

/* What a get of a StatefulSet says of its replicas. */
enum counting_readiness {
    COUNTING_AS_STORED, /* the object as written: no status */
    COUNTING_ALL_READY, /* status: every replica ready and updated */
    COUNTING_NONE_READY,
    COUNTING_ONE_READY
};

struct counting_transport {
    valkeyaddon_transport base;
    valkeyaddon_transport *inner; /* a memory transport, freed with this one */
    /* Calls, failed and injected ones included. */
    int gets, creates, applies, removes;
    int writes;        /* creates and applies passed on to inner */
    char written[1024]; /* "Kind/name " of every create and apply passed on, in order */
    enum counting_readiness readiness;
    const char *manager; /* when set: every apply must name this field manager, with force */
    int *frees;          /* when set: incremented when the transport is freed */
    /* When set: called after inner accepted a create, apply or remove. */
    void (*on_change)(struct counting_transport *t, enum counting_op op, const valkeyaddon_resource *r,
                      const char *ns, const char *name);
    /* Set by the functions below. */
    struct {
        int calls_left; /* fail when this reaches 0; 0: no fault armed */
        int code;
        const char *message;
    } fault[COUNTING_OPS];
    char race_body[4096];
};

/* A new counting transport of size bytes (at least sizeof(struct counting_transport)),
 * for a test that embeds it first in a struct of its own; zeroed but for base and inner. */
struct counting_transport *counting_transport_new(size_t size);

/* The nth call of op from now (1: the next) fails with code and message, once, without
 * reaching inner. */
void counting_transport_fail(struct counting_transport *t, enum counting_op op, int nth, int code,
                             const char *message);

/* The next create loses a race: another writer creates body first (through inner), and the
 * call fails with VALKEYADDON_EEXISTS. */
void counting_transport_race_create(struct counting_transport *t, const char *body);

#endif
