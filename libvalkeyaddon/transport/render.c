/*
 * The render transport (transports.h): objects written through it are
 * rendered to a callback instead of sent anywhere, and remembered (in an
 * in-memory transport) so that later reads in the same run see them, as
 * ensure_redis_url_secret reads the auth Secret ensure_valkey wrote.
 */
#include "config.h"

#include <string.h>

#include "valkeyaddon/naming.h"
#include "valkeyaddon/transports.h"
#include "alloc.h"
#include "ctx.h"
#include "render_internal.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

struct render_transport {
    valkeyaddon_transport base; /* first: the vtable pointer is the object pointer */
    valkeyaddon_transport *store;
    int format;
    valkeyaddon_render_cb callback;
    void *payload;
};

static int render_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *r, const char *ns, const char *name)
{
    valkeyaddon_transport *store = ((struct render_transport *)self)->store;

    return store->get(out, store, ctx, r, ns, name);
}

static int emit(struct render_transport *t, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r, const char *name,
                const char *json, size_t len)
{
    char *text = valkeyaddon__malloc(len + 1);
    int rc;

    if (!text)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "render: out of memory");
    memcpy(text, json, len);
    text[len] = '\0';
    rc = valkeyaddon__render_object(ctx, r->kind, name, text, len, t->format, t->callback, t->payload);
    memset(text, 0, len);
    valkeyaddon__free(text);
    if (rc > 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "render: the output callback failed (%d)", rc);
    return rc;
}

static int render_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                         const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    struct render_transport *t = (struct render_transport *)self;
    int error = t->store->create(out, t->store, ctx, r, ns, json, len);
    char name[VALKEYADDON_NAME_BUFSIZE] = "";
    yajl_val root;
    char *text;

    if (error < 0)
        return error;
    /* The store accepted the body, so it is JSON with a metadata.name. */
    if (!(text = valkeyaddon__malloc(len + 1)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "render: out of memory");
    memcpy(text, json, len);
    text[len] = '\0';
    root = valkeyaddon__json_parse(text);
    memset(text, 0, len);
    valkeyaddon__free(text);
    if (root && valkeyaddon__json_string(root, "metadata", "name", NULL) &&
        strlen(valkeyaddon__json_string(root, "metadata", "name", NULL)) < sizeof(name))
        strcpy(name, valkeyaddon__json_string(root, "metadata", "name", NULL));
    valkeyaddon__json_free_secret(root);
    return emit(t, ctx, r, name, json, len);
}

static int render_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                        const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                        const char *field_manager, int force)
{
    struct render_transport *t = (struct render_transport *)self;
    int error = t->store->apply(out, t->store, ctx, r, ns, name, json, len, field_manager, force);

    return error < 0 ? error : emit(t, ctx, r, name, json, len);
}

static int render_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                         const char *ns, const char *name, unsigned int flags)
{
    valkeyaddon_transport *store = ((struct render_transport *)self)->store;

    return store->remove(store, ctx, r, ns, name, flags);
}

static void render_free(valkeyaddon_transport *self)
{
    struct render_transport *t = (struct render_transport *)self;

    t->store->free(t->store);
    valkeyaddon__free(t);
}

int valkeyaddon_transport_render_new(valkeyaddon_transport **out, int format, valkeyaddon_render_cb callback,
                                     void *payload)
{
    struct render_transport *t;
    int error;

    if (!out || !callback || (format != VALKEYADDON_RENDER_YAML && format != VALKEYADDON_RENDER_JSON))
        return VALKEYADDON_EINVAL;
    if (!(t = valkeyaddon__calloc(1, sizeof(*t))))
        return VALKEYADDON_ENOMEM;
    if ((error = valkeyaddon_transport_memory_new(&t->store)) < 0) {
        valkeyaddon__free(t);
        return error;
    }
    t->format = format;
    t->callback = callback;
    t->payload = payload;
    t->base.version = VALKEYADDON_TRANSPORT_VERSION;
    t->base.get = render_get;
    t->base.create = render_create;
    t->base.apply = render_apply;
    t->base.remove = render_remove;
    t->base.watch = NULL;
    t->base.free = render_free;
    *out = &t->base;
    return VALKEYADDON_OK;
}
