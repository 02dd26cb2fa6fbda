/* Live copies of an add-on's objects, read before any write (live.h). */
#include "config.h"

#include <string.h>

#include "ctx.h"
#include "live.h"
#include "ownership.h"
#include "probe.h"

void valkeyaddon__live_init(struct valkeyaddon__live_set *set)
{
    memset(set, 0, sizeof(*set));
}

static void release(struct valkeyaddon__live *item)
{
    valkeyaddon__buffer_dispose_secret(&item->body);
    memset(item, 0, sizeof(*item));
}

void valkeyaddon__live_clear(struct valkeyaddon__live_set *set)
{
    size_t i;

    for (i = 0; i < set->count; i++)
        release(&set->items[i]);
    set->count = 0;
}

static struct valkeyaddon__live *lookup(const struct valkeyaddon__live_set *set, const valkeyaddon_resource *resource,
                                        const char *name)
{
    size_t i;

    for (i = 0; i < set->count; i++)
        if (set->items[i].resource == resource && strcmp(set->items[i].name, name) == 0)
            return (struct valkeyaddon__live *)&set->items[i];
    return NULL;
}

const struct valkeyaddon__live *valkeyaddon__live_find(const struct valkeyaddon__live_set *set,
                                                       const valkeyaddon_resource *resource, const char *name)
{
    return lookup(set, resource, name);
}

void valkeyaddon__live_forget(struct valkeyaddon__live_set *set, const valkeyaddon_resource *resource,
                              const char *name)
{
    struct valkeyaddon__live *item = lookup(set, resource, name);

    if (!item)
        return;
    release(item);
    /* Keep the set dense: the last entry takes the freed slot. */
    if (item != &set->items[set->count - 1]) {
        *item = set->items[set->count - 1];
        memset(&set->items[set->count - 1], 0, sizeof(set->items[0]));
    }
    set->count--;
}

int valkeyaddon__live_read(const struct valkeyaddon__live **out, struct valkeyaddon__live_set *set,
                           valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                           const valkeyaddon_resource *resource, const char *name, int check_owner)
{
    valkeyaddon_transport *t = ctx->transport;
    struct valkeyaddon__live *item = lookup(set, resource, name);
    size_t len = strlen(name);
    int error;

    if (out)
        *out = NULL;
    if (!item) {
        if (set->count >= VALKEYADDON__LIVE_MAX || len >= sizeof(item->name))
            return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "internal: too many objects read for %s", addon->name);
        item = &set->items[set->count];
        memset(item, 0, sizeof(*item));
        item->resource = resource;
        memcpy(item->name, name, len + 1);
        error = valkeyaddon__probe_get(&item->body, t, ctx, resource, addon->namespace_, name);
        if (error == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
        } else if (error < 0) {
            release(item);
            if (ctx->error_code == 0 || ctx->error_message[0] == '\0')
                return valkeyaddon__error(ctx, error, "get %s %s/%s: %s", resource->kind, addon->namespace_, name,
                                          valkeyaddon_strerror(error));
            ctx->error_code = error;
            return error;
        } else {
            item->exists = 1;
        }
        set->count++;
    }
    if (item->exists && check_owner &&
        (error = valkeyaddon__check_owner(ctx, addon, resource, name, item->body.data ? item->body.data : "",
                                          item->body.len)) < 0)
        return error;
    if (out)
        *out = item;
    return VALKEYADDON_OK;
}
