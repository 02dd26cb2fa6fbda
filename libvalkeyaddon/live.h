/*
 * The live copies of an add-on's objects, read (and their owners checked)
 * before anything is written or deleted: a conflict found on the fourth
 * object must not leave the first three changed. Ensure converges against
 * these copies instead of reading each object again (docs/request-economy.md).
 */
#ifndef VALKEYADDON_LIVE_H
#define VALKEYADDON_LIVE_H

#include "valkeyaddon/sys/transport.h"
#include "buffer_internal.h"
#include "objects/objects.h"

struct valkeyaddon__live {
    const valkeyaddon_resource *resource;
    char name[VALKEYADDON_NAME_BUFSIZE];
    int exists;
    valkeyaddon_buffer body; /* the object as read (wiped when released: it may be a Secret) */
};

/* Room for the workload objects, the app Secret and a claim per ordinal. */
#define VALKEYADDON__LIVE_MAX (VALKEYADDON__MAX_OBJECTS + 8)

struct valkeyaddon__live_set {
    struct valkeyaddon__live items[VALKEYADDON__LIVE_MAX];
    size_t count;
};

void valkeyaddon__live_init(struct valkeyaddon__live_set *set);
void valkeyaddon__live_clear(struct valkeyaddon__live_set *set);

/*
 * Read one object into the set (once: a second call for the same object
 * returns the first read). A missing object is recorded as absent. An object
 * that exists must belong to the addon's ids (ownership.h) unless check_owner
 * is 0 (volume claims: the caller classifies them). *out, when given, points
 * at the entry.
 */
int valkeyaddon__live_read(const struct valkeyaddon__live **out, struct valkeyaddon__live_set *set,
                           valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                           const valkeyaddon_resource *resource, const char *name, int check_owner);

/* The entry of an object read before, or NULL. */
const struct valkeyaddon__live *valkeyaddon__live_find(const struct valkeyaddon__live_set *set,
                                                       const valkeyaddon_resource *resource, const char *name);

/* Forget what was read of an object (it was changed since): the next read asks again. */
void valkeyaddon__live_forget(struct valkeyaddon__live_set *set, const valkeyaddon_resource *resource,
                              const char *name);

#endif
