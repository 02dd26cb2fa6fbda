/* A delegating fake transport for the C tests (counting_transport.h). */
#define _GNU_SOURCE 1
#include "../unit/helpers.h"

#include <stdlib.h>

#include <yajl/yajl_tree.h>

#include "counting_transport.h"

/* The injected failure of this call of op, if one is due: its code, else 0. */
static int fault_due(struct counting_transport *t, valkeyaddon_ctx *ctx, enum counting_op op)
{
    if (t->fault[op].calls_left <= 0 || --t->fault[op].calls_left > 0)
        return 0;
    return valkeyaddon_ctx_set_error(ctx, t->fault[op].code, t->fault[op].message);
}

static void note_write(struct counting_transport *t, const char *kind, const char *name)
{
    size_t used = strlen(t->written);

    t->writes++;
    snprintf(t->written + used, sizeof(t->written) - used, "%s/%s ", kind, name);
}

/* The name a create body gives (metadata.name), or "?". */
static void name_of(char *out, size_t size, const char *json, size_t len)
{
    const char *path[] = { "metadata", "name", NULL };
    char *copy = strndup(json, len);
    yajl_val root = copy ? yajl_tree_parse(copy, NULL, 0) : NULL;
    yajl_val v = root ? yajl_tree_get(root, path, yajl_t_string) : NULL;

    snprintf(out, size, "%s", v ? v->u.string : "?");
    yajl_tree_free(root);
    free(copy);
}

/* Add a status to a StatefulSet read from inner, as a controller would have written it. */
static int add_status(struct counting_transport *t, valkeyaddon_buffer *out, valkeyaddon_ctx *ctx)
{
    const char *path[] = { "spec", "replicas", NULL };
    char *json, status[160];
    long long replicas, ready;
    size_t len;
    yajl_val root;
    int error = 0;

    json = strdup(valkeyaddon_buffer_data(out, &len));
    assert_non_null(json);
    root = yajl_tree_parse(json, NULL, 0);
    assert_non_null(root);
    replicas = YAJL_GET_INTEGER(yajl_tree_get(root, path, yajl_t_number));
    yajl_tree_free(root);
    ready = t->readiness == COUNTING_ALL_READY ? replicas : t->readiness == COUNTING_ONE_READY ? 1 : 0;
    snprintf(status, sizeof(status), ",\"status\":{\"replicas\":%lld,\"readyReplicas\":%lld,\"updatedReplicas\":%lld}}",
             replicas, ready, replicas);
    assert_true(len > 0 && json[len - 1] == '}');
    /* The buffer allocates through the library's allocator, which tests/oom makes fail: cope, as a
     * user transport must. */
    if (valkeyaddon_buffer_set(out, json, len - 1) < 0 || valkeyaddon_buffer_append(out, status, strlen(status)) < 0)
        error = valkeyaddon_ctx_set_error(ctx, VALKEYADDON_ENOMEM, "counting transport: out of memory");
    free(json);
    return error;
}

static int ct_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                  const valkeyaddon_resource *r, const char *ns, const char *name)
{
    struct counting_transport *t = (struct counting_transport *)self;
    int error;

    t->gets++;
    if ((error = fault_due(t, ctx, COUNTING_GET)) < 0)
        return error;
    error = t->inner->get(out, t->inner, ctx, r, ns, name);
    if (error < 0 || t->readiness == COUNTING_AS_STORED || strcmp(r->kind, "StatefulSet") != 0)
        return error;
    return add_status(t, out, ctx);
}

static int ct_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                     const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    struct counting_transport *t = (struct counting_transport *)self;
    char name[VALKEYADDON_NAME_BUFSIZE];
    int error;

    t->creates++;
    if ((error = fault_due(t, ctx, COUNTING_CREATE)) < 0)
        return error;
    if (t->race_body[0]) {
        char message[128];
        assert_int_equal(t->inner->create(out, t->inner, ctx, r, ns, t->race_body, strlen(t->race_body)), 0);
        t->race_body[0] = '\0';
        snprintf(message, sizeof(message), "%s already exists", r->plural);
        return valkeyaddon_ctx_set_error(ctx, VALKEYADDON_EEXISTS, message);
    }
    name_of(name, sizeof(name), json, len);
    note_write(t, r->kind, name);
    error = t->inner->create(out, t->inner, ctx, r, ns, json, len);
    if (error == 0 && t->on_change)
        t->on_change(t, COUNTING_CREATE, r, ns, name);
    return error;
}

static int ct_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                    const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                    const char *manager, int force)
{
    struct counting_transport *t = (struct counting_transport *)self;
    int error;

    t->applies++;
    if (t->manager) {
        assert_string_equal(manager, t->manager);
        assert_int_equal(force, 1);
    }
    if ((error = fault_due(t, ctx, COUNTING_APPLY)) < 0)
        return error;
    note_write(t, r->kind, name);
    error = t->inner->apply(out, t->inner, ctx, r, ns, name, json, len, manager, force);
    if (error == 0 && t->on_change)
        t->on_change(t, COUNTING_APPLY, r, ns, name);
    return error;
}

static int ct_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                     const char *ns, const char *name, unsigned int flags)
{
    struct counting_transport *t = (struct counting_transport *)self;
    int error;

    t->removes++;
    if ((error = fault_due(t, ctx, COUNTING_REMOVE)) < 0)
        return error;
    error = t->inner->remove(t->inner, ctx, r, ns, name, flags);
    if (error == 0 && t->on_change)
        t->on_change(t, COUNTING_REMOVE, r, ns, name);
    return error;
}

static void ct_free(valkeyaddon_transport *self)
{
    struct counting_transport *t = (struct counting_transport *)self;

    if (t->frees)
        ++*t->frees;
    t->inner->free(t->inner);
    free(t);
}

struct counting_transport *counting_transport_new(size_t size)
{
    valkeyaddon_transport init = VALKEYADDON_TRANSPORT_INIT;
    struct counting_transport *t;

    assert_true(size >= sizeof(*t));
    assert_non_null(t = calloc(1, size));
    t->base = init;
    t->base.get = ct_get;
    t->base.create = ct_create;
    t->base.apply = ct_apply;
    t->base.remove = ct_remove;
    t->base.free = ct_free;
    assert_int_equal(valkeyaddon_transport_memory_new(&t->inner), 0);
    return t;
}

void counting_transport_fail(struct counting_transport *t, enum counting_op op, int nth, int code,
                             const char *message)
{
    assert_true(op >= 0 && op < COUNTING_OPS && nth >= 1 && code < 0);
    t->fault[op].calls_left = nth;
    t->fault[op].code = code;
    t->fault[op].message = message;
}

void counting_transport_race_create(struct counting_transport *t, const char *body)
{
    assert_true(strlen(body) < sizeof(t->race_body));
    snprintf(t->race_body, sizeof(t->race_body), "%s", body);
}
