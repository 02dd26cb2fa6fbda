/* C glue of the Go binding (shim.h). */
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define HANDLE(p) ((uintptr_t)(p))
#define PAYLOAD(h) ((void *)(h))

static void log_trampoline(int level, const char *message, void *payload)
{
    goLog(HANDLE(payload), level, (char *)message);
}

int vgo_ctx_new(valkeyaddon_ctx **out, int level, uintptr_t log_handle)
{
    valkeyaddon_ctx_options o;
    int rc = valkeyaddon_ctx_options_init(&o, VALKEYADDON_CTX_OPTIONS_VERSION);

    if (rc < 0)
        return rc;
    if (log_handle) {
        o.log_level = level;
        o.log_cb = log_trampoline;
        o.log_payload = PAYLOAD(log_handle);
    }
    return valkeyaddon_ctx_new(out, &o);
}

int vgo_ctx_set_log(valkeyaddon_ctx *ctx, int level, uintptr_t log_handle)
{
    if (!log_handle)
        return valkeyaddon_ctx_set_log(ctx, VALKEYADDON_LOG_NONE, NULL, NULL);
    return valkeyaddon_ctx_set_log(ctx, level, log_trampoline, PAYLOAD(log_handle));
}

/* Transport members: forward to Go with the handle from user_data. */

static int t_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                 const valkeyaddon_resource *r, const char *ns, const char *name)
{
    return goTransportGet(HANDLE(self->user_data), out, ctx, (valkeyaddon_resource *)r, (char *)ns, (char *)name);
}

static int t_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                    const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    return goTransportCreate(HANDLE(self->user_data), out, ctx, (valkeyaddon_resource *)r, (char *)ns, (char *)json,
                             len);
}

static int t_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                   const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                   const char *field_manager, int force)
{
    return goTransportApply(HANDLE(self->user_data), out, ctx, (valkeyaddon_resource *)r, (char *)ns, (char *)name,
                            (char *)json, len, (char *)field_manager, force);
}

static int t_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                    const char *ns, const char *name, unsigned int flags)
{
    return goTransportRemove(HANDLE(self->user_data), ctx, (valkeyaddon_resource *)r, (char *)ns, (char *)name,
                             flags);
}

static int t_watch(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                   const char *ns, const char *name, const char *resource_version, long timeout_ms,
                   valkeyaddon_watch_cb callback, void *payload)
{
    return goTransportWatch(HANDLE(self->user_data), ctx, (valkeyaddon_resource *)r, (char *)ns, (char *)name,
                            (char *)resource_version, timeout_ms, callback, payload);
}

static int t_address(valkeyaddon_buffer *host, int32_t *port, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                     const char *ns, const char *service)
{
    return goTransportAddress(HANDLE(self->user_data), host, port, ctx, (char *)ns, (char *)service);
}

static void t_free(valkeyaddon_transport *self)
{
    goHandleDelete(HANDLE(self->user_data));
    free(self);
}

valkeyaddon_transport *vgo_transport_new(uintptr_t handle, int with_watch, int with_address)
{
    /* C memory: the context keeps this struct after the Go call returns. */
    valkeyaddon_transport *t = malloc(sizeof(*t));

    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->version = VALKEYADDON_TRANSPORT_VERSION;
    t->user_data = PAYLOAD(handle);
    t->get = t_get;
    t->create = t_create;
    t->apply = t_apply;
    t->remove = t_remove;
    t->watch = with_watch ? t_watch : NULL;
    t->address = with_address ? t_address : NULL;
    t->free = t_free;
    return t;
}

/* For a vtable the context refused: the caller still owns it (the Go side deletes the handle). */
void vgo_transport_dispose(valkeyaddon_transport *t)
{
    free(t);
}

/* Storage members. */

static int s_migrate(valkeyaddon_storage *self, valkeyaddon_ctx *ctx)
{
    return goStorageMigrate(HANDLE(self->user_data), ctx);
}

static int s_upsert(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                    const valkeyaddon_addon_row *row)
{
    return goStorageUpsert(HANDLE(self->user_data), out, ctx, (valkeyaddon_addon_row *)row);
}

static int s_get(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                 const char *addon_type)
{
    return goStorageGet(HANDLE(self->user_data), out, ctx, (char *)app_id, (char *)addon_type);
}

static int s_set_status(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                        const char *addon_type, int status, const char *message)
{
    return goStorageSetStatus(HANDLE(self->user_data), ctx, (char *)app_id, (char *)addon_type, status,
                              (char *)message);
}

static int s_remove(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    return goStorageRemove(HANDLE(self->user_data), ctx, (char *)app_id, (char *)addon_type);
}

static int s_list(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                  valkeyaddon_row_cb callback, void *payload)
{
    return goStorageList(HANDLE(self->user_data), ctx, (char *)app_id, callback, payload);
}

static void s_free(valkeyaddon_storage *self)
{
    goHandleDelete(HANDLE(self->user_data));
    free(self);
}

valkeyaddon_storage *vgo_storage_new(uintptr_t handle)
{
    valkeyaddon_storage *s = malloc(sizeof(*s));

    if (!s)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->version = VALKEYADDON_STORAGE_VERSION;
    s->user_data = PAYLOAD(handle);
    s->migrate = s_migrate;
    s->upsert = s_upsert;
    s->get = s_get;
    s->set_status = s_set_status;
    s->remove = s_remove;
    s->list = s_list;
    s->free = s_free;
    return s;
}

void vgo_storage_dispose(valkeyaddon_storage *s)
{
    free(s);
}

int vgo_call_watch(valkeyaddon_watch_cb cb, int event, const char *json, size_t len, void *payload)
{
    return cb(event, json, len, payload);
}

int vgo_call_row(valkeyaddon_row_cb cb, const valkeyaddon_addon_row *row, void *payload)
{
    return cb(row, payload);
}

/* Progress and row callbacks of calls made from Go. */

static int progress_trampoline(const valkeyaddon_status_info *info, void *payload)
{
    return goProgress(HANDLE(payload), (valkeyaddon_status_info *)info);
}

void vgo_provision_set_progress(valkeyaddon_provision_options *o, uintptr_t handle)
{
    o->progress = handle ? progress_trampoline : NULL;
    o->progress_payload = PAYLOAD(handle);
}

int vgo_wait_ready(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *ns, const char *tenant_id,
                   const char *app_id, long timeout_ms, uintptr_t handle)
{
    return valkeyaddon_wait_ready(out, ctx, ns, tenant_id, app_id, timeout_ms,
                                  handle ? progress_trampoline : NULL, PAYLOAD(handle));
}

static int row_trampoline(const valkeyaddon_addon_row *row, void *payload)
{
    return goRow(HANDLE(payload), (valkeyaddon_addon_row *)row);
}

int vgo_addon_list(valkeyaddon_ctx *ctx, const char *app_id, uintptr_t handle)
{
    return valkeyaddon_addon_list(ctx, app_id, row_trampoline, PAYLOAD(handle));
}

/* Release a built-in plugin the context refused (the caller still owns it then). */
void vgo_transport_free(valkeyaddon_transport *t)
{
    if (t)
        t->free(t);
}

void vgo_storage_free(valkeyaddon_storage *s)
{
    if (s)
        s->free(s);
}
