/* StatefulSet re-creation for plan changes, and the data they must not lose (plan_change.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "applied.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "ownership.h"
#include "plan_change.h"
#include "probe.h"
#include "objects/json.h"
#include "util/json_tree.h"

#define GONE_POLLS 120
#define GONE_POLL_MS 250

int valkeyaddon__is_immutable_statefulset_refusal(valkeyaddon_ctx *ctx, int error)
{
    /* The API server's own wording for any change outside the mutable fields. */
    return error == VALKEYADDON_EREJECTED && strstr(ctx->error_message, "Forbidden: updates to statefulset spec");
}

void valkeyaddon__claim_name(char *out, size_t size, const struct valkeyaddon__addon *addon, int ordinal)
{
    snprintf(out, size, "data-%.60s-%d", addon->name, ordinal);
}

/*
 * The live StatefulSet's data volume in bytes (*bytes, 0 when it has no
 * "data" claim template) and its plan annotation (*plan, for messages).
 * 0, or a negative code when it cannot be read.
 */
static int live_volume(long double *bytes, char *plan, size_t plan_size, valkeyaddon_ctx *ctx,
                       const struct valkeyaddon__addon *addon, const struct valkeyaddon__live *sts)
{
    static const char *const templates_path[] = { "spec", "volumeClaimTemplates", NULL };
    yajl_val root = valkeyaddon__json_parse(sts->body.data ? sts->body.data : ""), templates;
    const char *name;
    size_t i;

    *bytes = 0;
    snprintf(plan, plan_size, "(unknown)");
    if (!root || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return valkeyaddon__error(ctx, VALKEYADDON_ESERVER, "StatefulSet %s/%s read back is not a JSON object",
                                  addon->namespace_, addon->name);
    }
    if ((name = valkeyaddon__json_string(root, "metadata", "annotations", "valkeyaddon.io/plan")))
        snprintf(plan, plan_size, "%.31s", name);
    templates = yajl_tree_get(root, (const char **)templates_path, yajl_t_array);
    for (i = 0; templates && i < templates->u.array.len; i++) {
        yajl_val t = templates->u.array.values[i];
        const char *request_path[] = { "spec", "resources", "requests", "storage", NULL };
        yajl_val storage;

        name = valkeyaddon__json_string(t, "metadata", "name", NULL);
        if (!name || strcmp(name, "data") != 0)
            continue;
        storage = yajl_tree_get(t, request_path, yajl_t_string);
        /* A claim template whose size we cannot read still holds data: count it as large. */
        if (!storage || !valkeyaddon__quantity(storage->u.string, bytes))
            *bytes = 1e30L;
    }
    yajl_tree_free(root);
    return VALKEYADDON_OK;
}

int valkeyaddon__check_data_loss(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                                 const struct valkeyaddon__live *sts, int allow_data_loss)
{
    long double have, want = (long double)addon->plan->volume_size_bytes;
    char plan[32];
    int error;

    if (!sts || !sts->exists)
        return VALKEYADDON_OK;
    if ((error = live_volume(&have, plan, sizeof(plan), ctx, addon, sts)) < 0)
        return error;
    if (have <= 0 || want >= have)
        return VALKEYADDON_OK;
    if (allow_data_loss) {
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                         "StatefulSet %s/%s: plan %s -> %s %s, as allowed (allow_data_loss)", addon->namespace_,
                         addon->name, plan, addon->plan->plan,
                         want <= 0 ? "deletes the data volumes once the pods have moved off them"
                                   : "keeps the existing larger volumes (a claim cannot shrink); new replicas get "
                                     "the smaller size");
        return VALKEYADDON_OK;
    }
    if (want <= 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EDATALOSS,
                                  "StatefulSet %s/%s: moving from plan %s to plan %s drops persistence: the pods "
                                  "would restart empty and the data volumes would be deleted; nothing was changed "
                                  "(to do it anyway, pass allow_data_loss / --allow-data-loss)",
                                  addon->namespace_, addon->name, plan, addon->plan->plan);
    return valkeyaddon__error(ctx, VALKEYADDON_EDATALOSS,
                              "StatefulSet %s/%s: moving from plan %s to plan %s shrinks the data volume to %s, and "
                              "a dataset that outgrew it would not fit; nothing was changed (to do it anyway, pass "
                              "allow_data_loss / --allow-data-loss)",
                              addon->namespace_, addon->name, plan, addon->plan->plan, addon->plan->volume_size);
}

int valkeyaddon__check_claims(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                              struct valkeyaddon__live_set *live, const struct valkeyaddon__live *sts)
{
    char name[VALKEYADDON_NAME_BUFSIZE];
    const struct valkeyaddon__live *claim;
    int ordinal, error, owner;

    if ((sts && sts->exists) || addon->plan->volume_size_bytes <= 0)
        return VALKEYADDON_OK;
    for (ordinal = 0; ordinal < addon->plan->replicas && ordinal < VALKEYADDON__MAX_ORDINALS; ordinal++) {
        valkeyaddon__claim_name(name, sizeof(name), addon, ordinal);
        if ((error = valkeyaddon__live_read(&claim, live, ctx, addon, &valkeyaddon__pvc_resource, name, 0)) < 0)
            return error;
        if (!claim->exists)
            continue;
        owner = valkeyaddon__claim_owner(ctx, addon, name, claim->body.data ? claim->body.data : "", claim->body.len);
        if (owner < 0)
            return owner;
        if (owner == VALKEYADDON__CLAIM_UNLABELLED) {
            /*
             * A StatefulSet created since we read it (a concurrent provision of the
             * same ids: its controller made this claim) makes the claim its own.
             */
            const struct valkeyaddon__live *again = NULL;
            valkeyaddon__live_forget(live, &valkeyaddon__statefulset_resource, addon->name);
            if ((error = valkeyaddon__live_read(&again, live, ctx, addon, &valkeyaddon__statefulset_resource,
                                                addon->name, 1)) < 0)
                return error;
            if (again->exists)
                return VALKEYADDON__STATEFULSET_APPEARED;
            return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                                      "PersistentVolumeClaim %s/%s exists without a StatefulSet and without owner "
                                      "labels, so whose data it holds is unknown; nothing was changed: if it is "
                                      "tenant %s app %s's, label it valkeyaddon.io/tenant-id=%s "
                                      "valkeyaddon.io/app-id=%s, else delete it", addon->namespace_, name,
                                      addon->tenant_id, addon->app_id, addon->tenant_id, addon->app_id);
        }
        if (owner == VALKEYADDON__CLAIM_FOREIGN)
            return VALKEYADDON_ECONFLICT; /* the message is on ctx */
        valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "PersistentVolumeClaim %s/%s was kept by a deprovision of this "
                         "add-on: the new StatefulSet takes it over with its data", addon->namespace_, name);
    }
    return VALKEYADDON_OK;
}

int valkeyaddon__wait_statefulset_gone(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon)
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
    char name[VALKEYADDON_NAME_BUFSIZE];
    int ordinal, error;

    for (ordinal = 0; ordinal < VALKEYADDON__MAX_ORDINALS; ordinal++) {
        char *json = NULL;
        size_t len = 0;

        valkeyaddon__claim_name(name, sizeof(name), addon, ordinal);
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

/* Delete the claims data-{name}-0..2 that are this add-on's (its StatefulSet's, or labelled with its ids). */
static int delete_own_claims(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE];
    int ordinal, error, owner;

    for (ordinal = 0; ordinal < VALKEYADDON__MAX_ORDINALS; ordinal++) {
        valkeyaddon__claim_name(name, sizeof(name), addon, ordinal);
        error = valkeyaddon__probe_get(&body, t, ctx, &valkeyaddon__pvc_resource, addon->namespace_, name);
        if (error == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
            continue;
        }
        owner = error < 0 ? error : valkeyaddon__claim_owner(ctx, addon, name, body.data ? body.data : "", body.len);
        valkeyaddon__buffer_dispose(&body);
        if (owner < 0)
            return owner;
        if (owner == VALKEYADDON__CLAIM_FOREIGN) {
            valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "%s: left in place", ctx->error_message);
            valkeyaddon__begin(ctx);
            continue;
        }
        valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "delete PersistentVolumeClaim %s/%s (allow_data_loss)",
                         addon->namespace_, name);
        error = valkeyaddon__probe_remove(t, ctx, &valkeyaddon__pvc_resource, addon->namespace_, name, 0);
        if (error == VALKEYADDON_ENOTFOUND)
            valkeyaddon__begin(ctx);
        else if (error < 0)
            return error;
    }
    return VALKEYADDON_OK;
}

int valkeyaddon__recreate_statefulset(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                                      const struct valkeyaddon__object *statefulset)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    int error, keeps_volume = addon->plan->volume_size_bytes > 0;

    /* The truth about pods and data, before anything happens to them. */
    valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO,
                     "StatefulSet %s/%s: plan %s changes an immutable field (its volume claim template); deleting "
                     "it with propagationPolicy=Orphan: the pods keep serving until the new StatefulSet adopts "
                     "them and replaces them one by one (highest ordinal first), %s", addon->namespace_, addon->name,
                     addon->plan->plan,
                     keeps_volume ? "each on its existing volume claim, with its data"
                                  : "and plan without a volume starts them empty: the data volume claims are "
                                    "deleted afterwards (allow_data_loss)");
    valkeyaddon__begin(ctx);
    error = t->remove(t, ctx, &valkeyaddon__statefulset_resource, addon->namespace_, addon->name,
                      VALKEYADDON_REMOVE_ORPHAN);
    if (error == VALKEYADDON_ENOTFOUND)
        valkeyaddon__begin(ctx);
    else if (error < 0)
        return error;
    if ((error = valkeyaddon__wait_statefulset_gone(ctx, addon)) < 0)
        return error;
    error = t->apply(&body, t, ctx, &valkeyaddon__statefulset_resource, addon->namespace_, addon->name,
                     statefulset->json, statefulset->json_len, addon->options->field_manager, 1);
    valkeyaddon__buffer_dispose(&body);
    if (error < 0)
        return error;
    if (keeps_volume)
        return resize_claims(ctx, addon);
    /* Reached only when the caller allowed data loss (valkeyaddon__check_data_loss). */
    return delete_own_claims(ctx, addon);
}
