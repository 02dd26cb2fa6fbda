/* Deprovision and REDIS_URL read-back (ensure.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/ensure.h"
#include "valkeyaddon/provision.h"
#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "probe.h"
#include "objects/objects.h"
#include "plan_change.h"
#include "secret_data.h"

int valkeyaddon_deprovision(int *deleted, valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                            const char *app_id)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct {
        const valkeyaddon_resource *resource;
        const char *name;
    } order[8];
    valkeyaddon_transport *t;
    size_t n = 0, i;
    int error, count = 0;

    if ((error = valkeyaddon__addon_call(&addon, &config, ctx, namespace_, tenant_id, app_id)) < 0)
        return error;
    t = ctx->transport;
    /* Extras are deleted whether or not they are enabled now: they may have been before. */
    order[n].resource = &valkeyaddon__secret_resource, order[n++].name = addon.redis_url_secret;
    order[n].resource = &valkeyaddon__servicemonitor_resource, order[n++].name = addon.name;
    order[n].resource = &valkeyaddon__networkpolicy_resource, order[n++].name = addon.name;
    order[n].resource = &valkeyaddon__pdb_resource, order[n++].name = addon.name;
    order[n].resource = &valkeyaddon__statefulset_resource, order[n++].name = addon.name;
    order[n].resource = &valkeyaddon__service_resource, order[n++].name = addon.name;
    order[n].resource = &valkeyaddon__service_resource, order[n++].name = addon.headless_service;
    order[n].resource = &valkeyaddon__secret_resource, order[n++].name = addon.auth_secret;
    for (i = 0; i < n; i++) {
        error = valkeyaddon__probe_remove(t, ctx, order[i].resource, addon.namespace_, order[i].name, 0);
        if (error == VALKEYADDON_OK) {
            count++;
            continue;
        }
        /* Gone already, or a kind this cluster does not serve (no ServiceMonitor CRD): nothing to delete. */
        if (error == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
            continue;
        }
        return error;
    }
    /* Claims normally go with the StatefulSet; these are the ones an orphaning re-create left. */
    if ((error = valkeyaddon__delete_volume_claims(ctx, &addon, &count)) < 0)
        return error;
    /* The row goes last: while anything is left in the cluster, the record still points at it. */
    if (ctx->storage) {
        error = ctx->storage->remove(ctx->storage, ctx, app_id, VALKEYADDON_ADDON_TYPE);
        if (error == VALKEYADDON_ENOTFOUND)
            valkeyaddon__begin(ctx);
        else if (error < 0)
            return valkeyaddon__storage_failed(ctx, error, "removing the add-on's record");
    }
    if (deleted)
        *deleted = count;
    return VALKEYADDON_OK;
}

int valkeyaddon_redis_url(valkeyaddon_buffer *out, valkeyaddon_ctx *ctx, const char *namespace_,
                          const char *tenant_id, const char *app_id)
{
    valkeyaddon_buffer stored = VALKEYADDON__BUFFER_INIT;
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    valkeyaddon_transport *t;
    unsigned char *url = NULL;
    size_t len = 0;
    int error;

    if ((error = valkeyaddon__addon_call(&addon, &config, ctx, namespace_, tenant_id, app_id)) < 0)
        return error;
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    t = ctx->transport;
    error = valkeyaddon__probe_get(&stored, t, ctx, &valkeyaddon__secret_resource, addon.namespace_, addon.redis_url_secret);
    if (error == VALKEYADDON_OK) {
        error = valkeyaddon__secret_data(&url, &len, stored.data ? stored.data : "", "REDIS_URL");
        if (error == VALKEYADDON_OK && valkeyaddon_buffer_set(out, (const char *)url, len) < 0)
            error = VALKEYADDON_ENOMEM;
        if (error == VALKEYADDON_ENOMEM)
            error = valkeyaddon__error(ctx, error, "out of memory reading Secret %s/%s", addon.namespace_,
                                       addon.redis_url_secret);
        else if (error < 0)
            error = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "Secret %s/%s has no usable REDIS_URL",
                                       addon.namespace_, addon.redis_url_secret);
    } else if (error == VALKEYADDON_ENOTFOUND) {
        valkeyaddon__begin(ctx);
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "Secret %s/%s does not exist", addon.namespace_,
                                   addon.redis_url_secret);
    } else if (ctx->error_code == 0 || !ctx->error_message[0]) {
        /* A transport that failed without a message still leaves the caller something to read. */
        error = valkeyaddon__error(ctx, error, "get Secret %s/%s: %s", addon.namespace_, addon.redis_url_secret,
                                   valkeyaddon_strerror(error));
    } else {
        ctx->error_code = error;
    }
    if (url) {
        OPENSSL_cleanse(url, len);
        valkeyaddon__free(url);
    }
    valkeyaddon__buffer_dispose_secret(&stored);
    return error;
}
