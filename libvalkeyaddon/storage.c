/* Registration of a storage on a context, and the row accessors over it (provision.h). */
#include "config.h"

#include <string.h>

#include "valkeyaddon/provision.h"
#include "ctx.h"

int valkeyaddon_ctx_set_storage(valkeyaddon_ctx *ctx, valkeyaddon_storage *storage)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!storage)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "storage: must not be NULL");
    if (storage->version == 0 || storage->version > VALKEYADDON_STORAGE_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "storage->version: %u is not a storage version this library knows (1 to %d)",
                                  storage->version, VALKEYADDON_STORAGE_VERSION);
    if (!storage->upsert || !storage->get || !storage->set_status || !storage->remove || !storage->list ||
        !storage->free)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "storage: upsert, get, set_status, remove, list and free are required members");
    if (ctx->storage && ctx->storage != storage)
        ctx->storage->free(ctx->storage);
    ctx->storage = storage;
    return VALKEYADDON_OK;
}

static int require_storage(valkeyaddon_ctx *ctx)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!ctx->storage)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "ctx: has no storage (set one with valkeyaddon_ctx_set_storage())");
    return VALKEYADDON_OK;
}

/* A storage that failed without a message still leaves the caller something to read. */
int valkeyaddon__storage_failed(valkeyaddon_ctx *ctx, int code, const char *what)
{
    if (code < 0 && ctx->error_code == 0)
        valkeyaddon__error(ctx, code, "storage: %s failed: %s", what, valkeyaddon_strerror(code));
    return code;
}

int valkeyaddon_storage_migrate(valkeyaddon_ctx *ctx)
{
    int error;

    if ((error = require_storage(ctx)) < 0)
        return error;
    if (!ctx->storage->migrate)
        return VALKEYADDON_OK;
    return valkeyaddon__storage_failed(ctx, ctx->storage->migrate(ctx->storage, ctx), "migrate");
}

int valkeyaddon_addon_get(valkeyaddon_addon_row *out, valkeyaddon_ctx *ctx, const char *app_id,
                          const char *addon_type)
{
    valkeyaddon_addon_row row;
    int error;

    if ((error = require_storage(ctx)) < 0)
        return error;
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if (out->version == 0 || out->version > VALKEYADDON_ADDON_ROW_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a row version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_ADDON_ROW_VERSION);
    if ((error = valkeyaddon_check_id(ctx, "app_id", app_id)) < 0)
        return error;
    memset(&row, 0, sizeof(row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION;
    error = ctx->storage->get(&row, ctx->storage, ctx, app_id, addon_type ? addon_type : VALKEYADDON_ADDON_TYPE);
    if (error == VALKEYADDON_ENOTFOUND && ctx->error_code == 0)
        return valkeyaddon__error(ctx, error, "no %s add-on recorded for app %s",
                                  addon_type ? addon_type : VALKEYADDON_ADDON_TYPE, app_id);
    if (error < 0)
        return valkeyaddon__storage_failed(ctx, error, "get");
    row.version = out->version;
    *out = row;
    return VALKEYADDON_OK;
}

int valkeyaddon_addon_list(valkeyaddon_ctx *ctx, const char *app_id, valkeyaddon_row_cb callback, void *payload)
{
    int error;

    if ((error = require_storage(ctx)) < 0)
        return error;
    if (!callback)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "callback: must not be NULL");
    if (app_id && (error = valkeyaddon_check_id(ctx, "app_id", app_id)) < 0)
        return error;
    error = ctx->storage->list(ctx->storage, ctx, app_id, callback, payload);
    return error < 0 ? valkeyaddon__storage_failed(ctx, error, "list") : error;
}
