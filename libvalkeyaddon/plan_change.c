/* StatefulSet re-creation for plan changes (plan_change.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "probe.h"
#include "objects/json.h"
#include "plan_change.h"

/* The plans have at most three replicas; claims beyond are never created. */
#define MAX_ORDINALS 3
/* An orphaning delete completes when the garbage collector drops its finalizer: seconds. */
#define GONE_POLLS 120
#define GONE_POLL_MS 250

int valkeyaddon__is_immutable_statefulset_refusal(valkeyaddon_ctx *ctx, int error)
{
    /* The API server's own wording for any change outside the mutable fields. */
    return error == VALKEYADDON_EREJECTED && strstr(ctx->error_message, "Forbidden: updates to statefulset spec");
}

static void claim_name(char *out, size_t size, const struct valkeyaddon__addon *addon, int ordinal)
{
    /* The StatefulSet controller's naming: <template>-<statefulset>-<ordinal>. */
    snprintf(out, size, "data-%s-%d", addon->name, ordinal);
}

static int wait_gone(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    struct timespec pause = { 0, GONE_POLL_MS * 1000000L };
    int i, error = VALKEYADDON_OK;

    for (i = 0; i < GONE_POLLS; i++) {
        error = valkeyaddon__probe_get(&body, t, ctx, &valkeyaddon__statefulset_resource, addon->namespace_, addon->name);
        valkeyaddon__buffer_dispose(&body);
        if (error == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
            return VALKEYADDON_OK;
        }
        if (error < 0)
            return error;
        nanosleep(&pause, NULL);
    }
    return valkeyaddon__error(ctx, VALKEYADDON_ETIMEOUT,
                              "StatefulSet %s/%s is still being deleted after %d s; run provision again",
                              addon->namespace_, addon->name, GONE_POLLS * GONE_POLL_MS / 1000);
}

static int claim_patch(char **json, size_t *len, const struct valkeyaddon__addon *addon, const char *name)
{
    struct valkeyaddon__jw j;

    if (valkeyaddon__jw_begin(&j) < 0)
        return VALKEYADDON_ENOMEM;
    valkeyaddon__jw_map_open(&j);
    valkeyaddon__jw_kv_string(&j, "apiVersion", "v1");
    valkeyaddon__jw_kv_string(&j, "kind", "PersistentVolumeClaim");
    valkeyaddon__jw_key_map(&j, "metadata");
    valkeyaddon__jw_kv_string(&j, "name", name);
    valkeyaddon__jw_kv_string(&j, "namespace", addon->namespace_);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_key_map(&j, "resources");
    valkeyaddon__jw_key_map(&j, "requests");
    valkeyaddon__jw_kv_string(&j, "storage", addon->plan->volume_size);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__jw_finish(&j, json, len);
}

/* Grow each existing claim to the plan's size. Shrinking is refused by Kubernetes: logged, not fatal. */
static int resize_claims(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE + 32];
    int ordinal, error;

    for (ordinal = 0; ordinal < MAX_ORDINALS; ordinal++) {
        char *json = NULL;
        size_t len = 0;

        claim_name(name, sizeof(name), addon, ordinal);
        error = valkeyaddon__probe_get(&body, t, ctx, &valkeyaddon__pvc_resource, addon->namespace_, name);
        valkeyaddon__buffer_dispose(&body);
        if (error == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
            continue;
        }
        if (error < 0)
            return error;
        if ((error = claim_patch(&json, &len, addon, name)) < 0)
            return valkeyaddon__error(ctx, error, "out of memory building a volume claim patch");
        error = t->apply(&body, t, ctx, &valkeyaddon__pvc_resource, addon->namespace_, name, json, len,
                         addon->options->field_manager, 1);
        valkeyaddon__buffer_dispose(&body);
        valkeyaddon__free(json);
        if (error == VALKEYADDON_EREJECTED || error == VALKEYADDON_EFORBIDDEN) {
            valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                             "volume claim %s/%s keeps its size (%s); a smaller plan volume, or a storage "
                             "class without expansion, needs a manual migration",
                             addon->namespace_, name, ctx->error_message);
            valkeyaddon__begin(ctx);
        } else if (error < 0) {
            return error;
        }
    }
    return VALKEYADDON_OK;
}

int valkeyaddon__delete_volume_claims(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, int *deleted)
{
    valkeyaddon_transport *t = ctx->transport;
    char name[VALKEYADDON_NAME_BUFSIZE + 32];
    int ordinal, error;

    for (ordinal = 0; ordinal < MAX_ORDINALS; ordinal++) {
        claim_name(name, sizeof(name), addon, ordinal);
        error = valkeyaddon__probe_remove(t, ctx, &valkeyaddon__pvc_resource, addon->namespace_, name, 0);
        if (error == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
            continue;
        }
        if (error < 0)
            return error;
        if (deleted)
            (*deleted)++;
    }
    return VALKEYADDON_OK;
}

int valkeyaddon__recreate_statefulset(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                                      const struct valkeyaddon__object *statefulset)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    int error;

    valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO,
                     "StatefulSet %s/%s: the plan changes an immutable field; re-creating it with "
                     "propagationPolicy=Orphan (pods and data stay)", addon->namespace_, addon->name);
    valkeyaddon__begin(ctx);
    error = t->remove(t, ctx, &valkeyaddon__statefulset_resource, addon->namespace_, addon->name,
                      VALKEYADDON_REMOVE_ORPHAN);
    if (error == VALKEYADDON_ENOTFOUND)
        valkeyaddon__begin(ctx);
    else if (error < 0)
        return error;
    if ((error = wait_gone(ctx, addon)) < 0)
        return error;
    error = t->apply(&body, t, ctx, &valkeyaddon__statefulset_resource, addon->namespace_, addon->name,
                     statefulset->json, statefulset->json_len, addon->options->field_manager, 1);
    valkeyaddon__buffer_dispose(&body);
    if (error < 0)
        return error;
    if (addon->plan->volume_size_bytes > 0)
        return resize_claims(ctx, addon);
    /* A plan without a volume: the orphaned claims would keep the data forever. */
    return valkeyaddon__delete_volume_claims(ctx, addon, NULL);
}
