/* Live status from the StatefulSet, rollout-aware, and waiting for Ready (rollout.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "valkeyaddon/rollout.h"
#include "valkeyaddon/status.h"
#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "probe.h"
#include "objects/objects.h"
#include "util/json_tree.h"

/*
 * Fill info from a StatefulSet's JSON (len bytes: a watch callback's text is
 * not NUL-terminated, so it is copied); VALKEYADDON_ESERVER when it is not one.
 */
static int project(valkeyaddon_status_info *info, valkeyaddon_ctx *ctx, const char *json, size_t len, const char *ns)
{
    char *text = valkeyaddon__malloc(len + 1);
    yajl_val root;
    const char *current, *update, *name;
    int raw;

    if (!text)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "reading the StatefulSet's status: out of memory");
    memcpy(text, json, len);
    text[len] = '\0';
    root = valkeyaddon__json_parse(text);
    valkeyaddon__free(text);
    if (!root || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return valkeyaddon__error(ctx, VALKEYADDON_ESERVER, "the StatefulSet read back is not valid JSON");
    }
    name = valkeyaddon__json_string(root, "metadata", "name", NULL);
    info->desired = (int32_t)valkeyaddon__json_int(root, 1, "spec", "replicas", NULL);
    info->ready = (int32_t)valkeyaddon__json_int(root, 0, "status", "readyReplicas", NULL);
    info->updated = (int32_t)valkeyaddon__json_int(root, 0, "status", "updatedReplicas", NULL);
    info->generation = valkeyaddon__json_int(root, 0, "metadata", "generation", NULL);
    info->observed_generation = valkeyaddon__json_int(root, 0, "status", "observedGeneration", NULL);
    current = valkeyaddon__json_string(root, "status", "currentRevision", NULL);
    update = valkeyaddon__json_string(root, "status", "updateRevision", NULL);
    info->rollout_complete = info->observed_generation >= info->generation && info->updated >= info->desired &&
                             (!current || !update || strcmp(current, update) == 0);
    if (info->ready < 0 || info->desired < 0) {
        yajl_tree_free(root);
        return valkeyaddon__error(ctx, VALKEYADDON_ESERVER, "the StatefulSet reports negative replica counts");
    }
    raw = parse_valkey_status(info->ready, info->desired);
    if (!info->rollout_complete) {
        info->status = VALKEYADDON_STATUS_CREATING;
        snprintf(info->message, sizeof(info->message),
                 "rollout in progress: %d of %d replicas updated, %d ready", (int)info->updated, (int)info->desired,
                 (int)info->ready);
    } else {
        info->status = raw;
        if (raw == VALKEYADDON_STATUS_READY)
            snprintf(info->message, sizeof(info->message), "%d of %d replicas ready", (int)info->ready,
                     (int)info->desired);
        else if (raw == VALKEYADDON_STATUS_CREATING)
            snprintf(info->message, sizeof(info->message),
                     "no replica ready yet; if this lasts over 5 minutes, check image pulls and scheduling: "
                     "kubectl -n %s describe statefulset %s", ns, name ? name : "");
        else
            snprintf(info->message, sizeof(info->message),
                     "%d of %d replicas ready: a replica crashed, was OOM-killed or fails its probe; "
                     "kubectl -n %s logs the pod that is not ready (if OOM, move to a bigger plan)",
                     (int)info->ready, (int)info->desired, ns);
    }
    yajl_tree_free(root);
    return VALKEYADDON_OK;
}

static int start(struct valkeyaddon__addon *addon, valkeyaddon_plan_config *config, valkeyaddon_ctx *ctx,
                 const valkeyaddon_status_info *out, const char *ns, const char *tenant_id, const char *app_id)
{
    int error = valkeyaddon__addon_call(addon, config, ctx, ns, tenant_id, app_id);

    if (error == VALKEYADDON_OK && out && (out->version == 0 || out->version > VALKEYADDON_STATUS_INFO_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a status info version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_STATUS_INFO_VERSION);
    return error;
}

static void reset(valkeyaddon_status_info *info, unsigned int version)
{
    memset(info, 0, sizeof(*info));
    info->version = version ? version : VALKEYADDON_STATUS_INFO_VERSION;
}

int valkeyaddon_addon_status(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *namespace_,
                             const char *tenant_id, const char *app_id)
{
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    valkeyaddon_status_info info;
    valkeyaddon_transport *t;
    int error;

    if (!out && ctx)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if ((error = start(&addon, &config, ctx, out, namespace_, tenant_id, app_id)) < 0)
        return error;
    t = ctx->transport;
    error = valkeyaddon__probe_get(&body, t, ctx, &valkeyaddon__statefulset_resource, addon.namespace_, addon.name);
    if (error == VALKEYADDON_ENOTFOUND) {
        valkeyaddon__begin(ctx);
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "no add-on: StatefulSet %s/%s does not exist",
                                   addon.namespace_, addon.name);
    } else if (error == VALKEYADDON_OK) {
        reset(&info, out->version);
        if ((error = project(&info, ctx, body.data ? body.data : "", body.len, addon.namespace_)) == 0)
            *out = info;
    }
    valkeyaddon__buffer_dispose(&body);
    return error;
}

struct waiter {
    valkeyaddon_ctx *ctx;
    const char *namespace_;
    valkeyaddon_status_info info;
    int last_status;
    valkeyaddon_progress_cb progress;
    void *payload;
};

/* One StatefulSet state seen: report changes; 1 when Ready, a callback's stop, or an error. */
static int observe(struct waiter *w, const char *json, size_t len)
{
    valkeyaddon_status_info info;
    int rc;

    reset(&info, w->info.version);
    if ((rc = project(&info, w->ctx, json, len, w->namespace_)) < 0)
        return rc;
    w->info = info;
    if (w->progress && (info.status != w->last_status || !info.rollout_complete)) {
        if ((rc = w->progress(&w->info, w->payload)) != 0)
            return rc;
    }
    w->last_status = info.status;
    return info.status == VALKEYADDON_STATUS_READY ? 1 : 0;
}

static int on_event(int event, const char *json, size_t len, void *payload)
{
    if (event == 3 /* DELETED */)
        return 0;
    return observe(payload, json, len);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int valkeyaddon_wait_ready(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *namespace_,
                           const char *tenant_id, const char *app_id, long timeout_ms,
                           valkeyaddon_progress_cb progress, void *payload)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct waiter w;
    valkeyaddon_transport *t;
    int rc;

    if ((rc = start(&addon, &config, ctx, out, namespace_, tenant_id, app_id)) < 0)
        return rc;
    if (timeout_ms < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "timeout_ms: must not be negative");
    t = ctx->transport;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.namespace_ = addon.namespace_;
    w.progress = progress;
    w.payload = payload;
    reset(&w.info, out ? out->version : 0);

    if (t->watch) {
        /* "" asks for the current state first, then every change. */
        rc = t->watch(t, ctx, &valkeyaddon__statefulset_resource, addon.namespace_, addon.name, "", timeout_ms,
                      on_event, &w);
    } else {
        long long deadline = now_ms() + timeout_ms;
        valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
        for (;;) {
            rc = valkeyaddon__probe_get(&body, t, ctx, &valkeyaddon__statefulset_resource, addon.namespace_, addon.name);
            if (rc == VALKEYADDON_OK)
                rc = observe(&w, body.data ? body.data : "", body.len);
            else if (rc == VALKEYADDON_ENOTFOUND)
                rc = 0;
            if (rc != 0)
                break;
            if (now_ms() + 1000 > deadline) {
                rc = VALKEYADDON_ETIMEOUT;
                break;
            }
            {
                struct timespec second = { 1, 0 };
                nanosleep(&second, NULL);
            }
        }
        valkeyaddon__buffer_dispose(&body);
    }
    if (out)
        *out = w.info;
    if (rc == 1)
        return VALKEYADDON_OK;
    if (rc == VALKEYADDON_ETIMEOUT)
        return valkeyaddon__error(ctx, VALKEYADDON_ETIMEOUT, "%s/%s not Ready within %ld ms: %s%s%s",
                                  addon.namespace_, addon.name, timeout_ms,
                                  w.last_status ? valkeyaddon_status_name(w.last_status) : "not created yet",
                                  w.info.message[0] ? "; " : "", w.info.message);
    return rc;
}
