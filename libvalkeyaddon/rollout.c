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

/*
 * What counts as progress (rollout.h): a change in any of these. A
 * StatefulSet has no progressDeadlineSeconds, so the library defines it.
 */
struct progress_mark {
    int64_t observed_generation;
    int32_t desired, ready, updated;
    char revision[96];
};

struct waiter {
    valkeyaddon_ctx *ctx;
    const char *namespace_;
    const char *name;
    valkeyaddon_status_info info;
    int last_status;
    valkeyaddon_progress_cb progress;
    void *payload;
    char resource_version[64]; /* of the last state seen; "" before any */
    int repeats;               /* the same version delivered again (a re-read after 410) */
    int unversioned;           /* the transport's objects carry no resourceVersion: its watch starts "now" */
    struct progress_mark mark; /* the last progress */
    long long progress_at;     /* when it was seen (ms); 0 before any state */
};

/* A callback value (positive: the watch ends successfully) meaning "re-read, then watch from now". */
#define WATCH_STALE 2

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mark_of(struct progress_mark *m, const valkeyaddon_status_info *info, yajl_val root)
{
    const char *rev = valkeyaddon__json_string(root, "status", "currentRevision", NULL);

    memset(m, 0, sizeof(*m));
    m->observed_generation = info->observed_generation;
    m->desired = info->desired;
    m->ready = info->ready;
    m->updated = info->updated;
    snprintf(m->revision, sizeof(m->revision), "%s", rev ? rev : "");
}

/* Remember the state's resourceVersion and whether it moved the rollout on. */
static int note_state(struct waiter *w, const char *json, size_t len)
{
    char *text = valkeyaddon__malloc(len + 1);
    struct progress_mark m;
    yajl_val root;
    const char *rv;

    if (!text)
        return valkeyaddon__error(w->ctx, VALKEYADDON_ENOMEM, "reading the StatefulSet's status: out of memory");
    memcpy(text, json, len);
    text[len] = '\0';
    root = valkeyaddon__json_parse(text);
    valkeyaddon__free(text);
    rv = valkeyaddon__json_string(root, "metadata", "resourceVersion", NULL);
    /* A transport that is not a cluster (memory, local, a binding's) may keep no versions at all. */
    w->unversioned = root && !rv;
    if (rv && strlen(rv) < sizeof(w->resource_version)) {
        w->repeats = strcmp(rv, w->resource_version) == 0 ? w->repeats + 1 : 0;
        strcpy(w->resource_version, rv);
    }
    mark_of(&m, &w->info, root);
    if (!w->progress_at || memcmp(&m, &w->mark, sizeof(m)) != 0) {
        w->mark = m;
        w->progress_at = now_ms();
    }
    yajl_tree_free(root);
    return VALKEYADDON_OK;
}

/* One StatefulSet state seen: report changes; 1 when Ready, a callback's stop, or an error. */
static int observe(struct waiter *w, const char *json, size_t len)
{
    valkeyaddon_status_info info;
    int rc;

    reset(&info, w->info.version);
    if ((rc = project(&info, w->ctx, json, len, w->namespace_)) < 0)
        return rc;
    w->info = info;
    if ((rc = note_state(w, json, len)) < 0)
        return rc;
    if (w->progress && (info.status != w->last_status || !info.rollout_complete)) {
        if ((rc = w->progress(&w->info, w->payload)) != 0)
            return rc;
    }
    w->last_status = info.status;
    return info.status == VALKEYADDON_STATUS_READY ? 1 : 0;
}

static int on_event(int event, const char *json, size_t len, void *payload)
{
    struct waiter *w = payload;
    int rc;

    if (event == VALKEYADDON_WATCH_DELETED || event == VALKEYADDON_WATCH_BOOKMARK)
        return 0;
    rc = observe(w, json, len);
    /*
     * The same version again and again: the transport re-read the object after
     * 410 and the server still finds that version too old (an object unchanged
     * for longer than the watch cache's window). Watching from it cannot work.
     */
    if (rc == 0 && w->repeats >= 2)
        return WATCH_STALE;
    return rc;
}

static long progress_deadline(const valkeyaddon_ctx *ctx)
{
    if (ctx->progress_deadline_ms < 0)
        return 0;
    return ctx->progress_deadline_ms ? ctx->progress_deadline_ms : VALKEYADDON_PROGRESS_DEADLINE_MS_DEFAULT;
}

static void format_ms(char *out, size_t size, long long ms)
{
    if (ms >= 60000 && ms % 60000 == 0)
        snprintf(out, size, "%lldm", ms / 60000);
    else if (ms >= 1000)
        snprintf(out, size, "%llds", ms / 1000);
    else
        snprintf(out, size, "%lldms", ms);
}

/*
 * The rollout made no progress for the deadline: Failed, naming what waits.
 * A StatefulSet (OrderedReady) works on one pod at a time: during an update
 * the newest updated pod (updates go from the highest ordinal down), else the
 * first pod that is not ready.
 */
static int stalled(struct waiter *w, long deadline_ms)
{
    valkeyaddon_status_info *info = &w->info;
    char took[32];
    int pod;

    format_ms(took, sizeof(took), deadline_ms);
    info->status = VALKEYADDON_STATUS_FAILED;
    if (info->observed_generation < info->generation) {
        snprintf(info->message, sizeof(info->message),
                 "rollout stalled: the StatefulSet controller has not observed generation %lld for %s; "
                 "kubectl -n %s describe statefulset %s", (long long)info->generation, took, w->namespace_, w->name);
    } else {
        if (info->updated < info->desired)
            pod = info->updated > 0 ? info->desired - info->updated : info->desired - 1;
        else
            pod = info->ready < info->desired ? info->ready : info->desired - 1;
        if (pod < 0)
            pod = 0;
        snprintf(info->message, sizeof(info->message),
                 "rollout stalled: pod %s-%d not ready for %s (%d of %d replicas ready, %d updated); "
                 "kubectl -n %s describe pod %s-%d", w->name, pod, took, (int)info->ready, (int)info->desired,
                 (int)info->updated, w->namespace_, w->name, pod);
    }
    if (w->progress)
        w->progress(info, w->payload);
    return valkeyaddon__error(w->ctx, VALKEYADDON_EFAILED, "%s/%s: %s", w->namespace_, w->name, info->message);
}

/* Read the object now: 1 when Ready; 0 (also when absent: it may be created yet); an error. */
static int read_state(struct waiter *w, valkeyaddon_transport *t, valkeyaddon_buffer *body)
{
    int rc = valkeyaddon__probe_get(body, t, w->ctx, &valkeyaddon__statefulset_resource, w->namespace_, w->name);

    if (rc == VALKEYADDON_ENOTFOUND) {
        w->resource_version[0] = '\0';
        return 0;
    }
    return rc == VALKEYADDON_OK ? observe(w, body->data ? body->data : "", body->len) : rc;
}

/* A watch answer that says this server cannot watch (as opposed to one that is down or failing). */
static int cannot_watch(int rc)
{
    return rc == VALKEYADDON_ESERVER || rc == VALKEYADDON_EREJECTED || rc == VALKEYADDON_ENOTSUPPORTED ||
           rc == VALKEYADDON_ENOTFOUND;
}

static long long earliest(long long a, long long b)
{
    return a < b ? a : b;
}

/*
 * Read, then watch from the read's version until Ready, the deadline or the
 * progress deadline; poll once a second when there is no watch or the server
 * cannot watch. Returns 1 when Ready, ETIMEOUT, EFAILED (stalled), a
 * callback's value or an error.
 */
static int wait_loop(struct waiter *w, valkeyaddon_transport *t, long long deadline)
{
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    long stall_ms = progress_deadline(w->ctx);
    int watching = t->watch != NULL, rc, from_now = 0;

    for (;;) {
        long long now, until;

        rc = read_state(w, t, &body);
        valkeyaddon__buffer_dispose_secret(&body);
        if (rc != 0)
            break;
        now = now_ms();
        if (stall_ms && w->progress_at && now - w->progress_at >= stall_ms) {
            rc = stalled(w, stall_ms);
            break;
        }
        if (now >= deadline) {
            rc = VALKEYADDON_ETIMEOUT;
            break;
        }
        until = stall_ms && w->progress_at ? earliest(deadline, w->progress_at + stall_ms) : deadline;
        if (watching && (w->resource_version[0] || from_now || w->unversioned)) {
            /* "0": any version, from the server's cache; only after versions kept expiring. */
            rc = t->watch(t, w->ctx, &valkeyaddon__statefulset_resource, w->namespace_, w->name,
                          from_now ? "0" : w->resource_version, (long)(until - now), on_event, w);
            if (rc == WATCH_STALE) {
                valkeyaddon__log(w->ctx, VALKEYADDON_LOG_INFO,
                                 "wait: resourceVersion %s keeps expiring; watching from the server's cache",
                                 w->resource_version);
                from_now = 1;
                w->repeats = 0;
                continue;
            }
            if (rc != 0 && rc != VALKEYADDON_ETIMEOUT && rc != VALKEYADDON_ECONFLICT && !cannot_watch(rc))
                break;
            if (cannot_watch(rc)) {
                valkeyaddon__log(w->ctx, VALKEYADDON_LOG_WARNING,
                                 "wait: the server cannot watch %s/%s (%s); polling it once a second instead",
                                 w->namespace_, w->name, valkeyaddon_ctx_error_message(w->ctx));
                watching = 0;
            }
            /* ETIMEOUT (the deadline or the progress deadline), 410 or a finished stream: read again. */
            valkeyaddon__begin(w->ctx);
            continue;
        }
        /* Nothing to watch from yet (absent), or no watch: poll. */
        {
            long long pause = earliest(1000, until - now);
            struct timespec ts;
            ts.tv_sec = (time_t)(pause / 1000);
            ts.tv_nsec = (long)(pause % 1000) * 1000000L;
            nanosleep(&ts, NULL);
        }
    }
    valkeyaddon__buffer_dispose_secret(&body);
    return rc;
}

int valkeyaddon_wait_ready(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *namespace_,
                           const char *tenant_id, const char *app_id, long timeout_ms,
                           valkeyaddon_progress_cb progress, void *payload)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct waiter w;
    int rc;

    if ((rc = start(&addon, &config, ctx, out, namespace_, tenant_id, app_id)) < 0)
        return rc;
    if (timeout_ms < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "timeout_ms: must not be negative");
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.namespace_ = addon.namespace_;
    w.name = addon.name;
    w.progress = progress;
    w.payload = payload;
    reset(&w.info, out ? out->version : 0);

    rc = wait_loop(&w, ctx->transport, now_ms() + timeout_ms);
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

int valkeyaddon_ctx_set_progress_deadline(valkeyaddon_ctx *ctx, long ms)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (ms < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "ms: must not be negative (0 disables the deadline)");
    ctx->progress_deadline_ms = ms ? ms : -1;
    return VALKEYADDON_OK;
}
