/* The in-memory transport (transports.h): a list of (kind, namespace, name) -> JSON. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_tree.h>

#include "valkeyaddon/transports.h"
#include "alloc.h"
#include "ctx.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

struct entry {
    struct entry *next;
    char *kind, *namespace_, *name, *json;
    size_t json_len;
};

struct memory_transport {
    valkeyaddon_transport base; /* first: the vtable pointer is the object pointer */
    struct entry *entries;
};

static struct entry **find(struct memory_transport *m, const valkeyaddon_resource *r, const char *ns,
                           const char *name)
{
    struct entry **e;

    for (e = &m->entries; *e; e = &(*e)->next)
        if (strcmp((*e)->kind, r->kind) == 0 && strcmp((*e)->namespace_, ns) == 0 && strcmp((*e)->name, name) == 0)
            return e;
    return e;
}

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    if (e->json)
        OPENSSL_cleanse(e->json, e->json_len);
    valkeyaddon__free(e->json);
    valkeyaddon__free(e->kind);
    valkeyaddon__free(e->namespace_);
    valkeyaddon__free(e->name);
    valkeyaddon__free(e);
}

static char *copy_bytes(const char *data, size_t len)
{
    char *copy = valkeyaddon__malloc(len + 1);

    if (copy) {
        memcpy(copy, data, len);
        copy[len] = '\0';
    }
    return copy;
}

/* Replace (or add) the entry; the store is unchanged on failure. */
static int store(struct memory_transport *m, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r, const char *ns,
                 const char *name, const char *json, size_t len)
{
    struct entry **slot = find(m, r, ns, name);
    char *body = copy_bytes(json, len);

    if (!body)
        return valkeyaddon_ctx_set_error(ctx, VALKEYADDON_ENOMEM, "memory transport: out of memory");
    if (*slot) {
        OPENSSL_cleanse((*slot)->json, (*slot)->json_len);
        valkeyaddon__free((*slot)->json);
        (*slot)->json = body;
        (*slot)->json_len = len;
        return VALKEYADDON_OK;
    }
    *slot = valkeyaddon__calloc(1, sizeof(**slot));
    if (!*slot || !((*slot)->kind = valkeyaddon__strdup(r->kind)) ||
        !((*slot)->namespace_ = valkeyaddon__strdup(ns)) || !((*slot)->name = valkeyaddon__strdup(name))) {
        entry_free(*slot);
        *slot = NULL;
        OPENSSL_cleanse(body, len);
        valkeyaddon__free(body);
        return valkeyaddon_ctx_set_error(ctx, VALKEYADDON_ENOMEM, "memory transport: out of memory");
    }
    (*slot)->json = body;
    (*slot)->json_len = len;
    return VALKEYADDON_OK;
}

static int memory_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *r, const char *ns, const char *name)
{
    struct entry **e = find((struct memory_transport *)self, r, ns, name);

    if (!*e)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "%s %s/%s not found", r->kind, ns, name);
    if (valkeyaddon_buffer_set(out, (*e)->json, (*e)->json_len) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "memory transport: out of memory reading %s %s/%s",
                                  r->kind, ns, name);
    return VALKEYADDON_OK;
}

/* The object's metadata.name, copied into name (which holds 254 bytes). */
static int body_name(char *name, size_t size, const char *json, size_t len)
{
    const char *path[] = { "metadata", "name", NULL };
    char *text = copy_bytes(json, len);
    yajl_val root, node;
    int found = 0;

    if (!text)
        return VALKEYADDON_ENOMEM;
    root = valkeyaddon__json_parse(text);
    OPENSSL_cleanse(text, len);
    valkeyaddon__free(text);
    node = root ? yajl_tree_get(root, path, yajl_t_string) : NULL;
    if (node && strlen(node->u.string) < size) {
        strcpy(name, node->u.string);
        found = 1;
    }
    valkeyaddon__json_free_secret(root);
    return found ? VALKEYADDON_OK : VALKEYADDON_EINVAL;
}

static int memory_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                         const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    struct memory_transport *m = (struct memory_transport *)self;
    char name[254];
    int error;

    if ((error = body_name(name, sizeof(name), json, len)) == VALKEYADDON_ENOMEM)
        return valkeyaddon__error(ctx, error, "memory transport: out of memory creating a %s in %s", r->kind, ns);
    if (error < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EREJECTED, "%s in %s: the body has no metadata.name", r->kind, ns);
    if (*find(m, r, ns, name))
        return valkeyaddon__error(ctx, VALKEYADDON_EEXISTS, "%s %s/%s already exists", r->kind, ns, name);
    if ((error = store(m, ctx, r, ns, name, json, len)) < 0)
        return error;
    (void)out;
    return VALKEYADDON_OK;
}

static int memory_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                        const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                        const char *field_manager, int force)
{
    (void)out;
    (void)field_manager;
    (void)force;
    return store((struct memory_transport *)self, ctx, r, ns, name, json, len);
}

static int memory_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                         const char *ns, const char *name, unsigned int flags)
{
    struct entry **e = find((struct memory_transport *)self, r, ns, name), *gone;

    if (!*e)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "%s %s/%s not found", r->kind, ns, name);
    (void)flags;
    gone = *e;
    *e = gone->next;
    entry_free(gone);
    return VALKEYADDON_OK;
}

static void memory_free(valkeyaddon_transport *self)
{
    struct memory_transport *m = (struct memory_transport *)self;

    while (m->entries) {
        struct entry *next = m->entries->next;
        entry_free(m->entries);
        m->entries = next;
    }
    valkeyaddon__free(m);
}

int valkeyaddon_transport_memory_new(valkeyaddon_transport **out)
{
    struct memory_transport *m;

    if (!out)
        return VALKEYADDON_EINVAL;
    if (!(m = valkeyaddon__calloc(1, sizeof(*m))))
        return VALKEYADDON_ENOMEM;
    m->base.version = VALKEYADDON_TRANSPORT_VERSION;
    m->base.get = memory_get;
    m->base.create = memory_create;
    m->base.apply = memory_apply;
    m->base.remove = memory_remove;
    m->base.watch = NULL;
    m->base.free = memory_free;
    *out = &m->base;
    return VALKEYADDON_OK;
}
