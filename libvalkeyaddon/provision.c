/*
 * The provision flow of the spec's sequence diagram (provision.h): validate,
 * record `creating`, ensure the objects, wire REDIS_URL, wait, record the
 * outcome. Every step converges, so a second call repairs whatever the first
 * left undone; that is the spec's recovery ("re-call POST /addons").
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "valkeyaddon/ensure.h"
#include "valkeyaddon/plans.h"
#include "valkeyaddon/provision.h"
#include "valkeyaddon/status.h"
#include "alloc.h"
#include "ctx.h"
#include "ensure_internal.h"
#include "objects/objects.h"

#define DEFAULT_TIMEOUT_MS (5L * 60 * 1000)

struct flow {
    valkeyaddon_ctx *ctx;
    const valkeyaddon_provision_options *o;
    valkeyaddon_addon_row row;
    valkeyaddon_progress_cb progress;
    void *payload;
    int stopped; /* the caller's progress callback asked to stop waiting */
    int fell_back;
    int plan_kept; /* the plan asked for is unknown and the add-on kept row.plan */
};

static int check_ctx(valkeyaddon_ctx *ctx)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!ctx->transport)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "ctx: has no transport (set one with valkeyaddon_ctx_set_transport())");
    if (!ctx->storage)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "ctx: has no storage (set one with valkeyaddon_ctx_set_storage())");
    return VALKEYADDON_OK;
}

static int check_row_version(valkeyaddon_ctx *ctx, const valkeyaddon_addon_row *out)
{
    if (out && (out->version == 0 || out->version > VALKEYADDON_ADDON_ROW_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a row version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_ADDON_ROW_VERSION);
    return VALKEYADDON_OK;
}

/* Everything a bad argument can break is checked before the first write. */
static int validate(struct flow *f, valkeyaddon_plan_config *plan)
{
    const valkeyaddon_provision_options *o = f->o;
    struct valkeyaddon__addon addon;
    int error;

    if (!o)
        return valkeyaddon__error(f->ctx, VALKEYADDON_EINVAL, "options: must not be NULL");
    if (o->version == 0 || o->version > VALKEYADDON_PROVISION_OPTIONS_VERSION)
        return valkeyaddon__error(f->ctx, VALKEYADDON_EVERSION,
                                  "options->version: %u is not an options version this library knows (1 to %d)",
                                  o->version, VALKEYADDON_PROVISION_OPTIONS_VERSION);
    if (o->addon_type && strcmp(o->addon_type, VALKEYADDON_ADDON_TYPE) != 0)
        return valkeyaddon__error(f->ctx, VALKEYADDON_EINVAL,
                                  "addon_type: this library provisions only \"" VALKEYADDON_ADDON_TYPE "\"");
    if (o->timeout_ms < 0)
        return valkeyaddon__error(f->ctx, VALKEYADDON_EINVAL, "timeout_ms: must not be negative");
    plan->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    if ((error = valkey_plan_config(plan, f->ctx, o->plan ? o->plan : "free")) < 0)
        return error;
    if ((error = valkeyaddon__addon_init(&addon, f->ctx, o->namespace_, o->tenant_id, o->app_id, plan,
                                         &f->ctx->object_options)) < 0)
        return error;

    memset(&f->row, 0, sizeof(f->row));
    f->row.version = VALKEYADDON_ADDON_ROW_VERSION;
    /* addon_init validated ids and namespace: each fits its array. */
    memcpy(f->row.app_id, o->app_id, strlen(o->app_id) + 1);
    memcpy(f->row.addon_type, VALKEYADDON_ADDON_TYPE, sizeof(VALKEYADDON_ADDON_TYPE));
    memcpy(f->row.tenant_id, o->tenant_id, strlen(o->tenant_id) + 1);
    memcpy(f->row.plan, plan->plan, sizeof(f->row.plan));
    memcpy(f->row.resource_name, addon.name, sizeof(f->row.resource_name));
    memcpy(f->row.namespace_, o->namespace_, strlen(o->namespace_) + 1);
    f->row.status = VALKEYADDON_STATUS_CREATING;
    if (plan->fell_back)
        snprintf(f->row.status_message, sizeof(f->row.status_message),
                 "plan \"%.32s\" is unknown: provisioning plan free instead", o->plan);
    else
        snprintf(f->row.status_message, sizeof(f->row.status_message), "provisioning: writing objects");
    return VALKEYADDON_OK;
}

/* A failure being reported, kept aside while bookkeeping calls the storage (which may set its own). */
struct saved_error {
    int code;
    char message[VALKEYADDON__MESSAGE_SIZE];
};

static void save_error(struct saved_error *saved, const valkeyaddon_ctx *ctx)
{
    saved->code = ctx->error_code;
    memcpy(saved->message, ctx->error_message, sizeof(saved->message));
}

static void restore_error(valkeyaddon_ctx *ctx, const struct saved_error *saved)
{
    ctx->error_code = saved->code;
    memcpy(ctx->error_message, saved->message, sizeof(saved->message));
}

/*
 * Record a status while keeping the failure being reported: the storage may
 * set its own error, and the caller must see the first cause.
 */
static int record(struct flow *f, int status, const char *message, int keep_error)
{
    struct saved_error saved;
    valkeyaddon_storage *s = f->ctx->storage;
    int error;

    save_error(&saved, f->ctx);
    valkeyaddon__begin(f->ctx);
    error = s->set_status(s, f->ctx, f->row.app_id, f->row.addon_type, status, message);
    if (error < 0 && !keep_error)
        return valkeyaddon__storage_failed(f->ctx, error, "recording the status");
    if (error < 0)
        valkeyaddon__log(f->ctx, VALKEYADDON_LOG_WARNING, "could not record status %s: %s",
                         valkeyaddon_status_name(status), f->ctx->error_message);
    restore_error(f->ctx, &saved);
    if (error == 0) {
        f->row.status = status;
        snprintf(f->row.status_message, sizeof(f->row.status_message), "%s", message ? message : "");
    }
    return error;
}

/* A step of the flow failed: the row says so, and the caller gets the step's own error. */
static int step_failed(struct flow *f, int code, const char *step)
{
    char message[VALKEYADDON_STATUS_MESSAGE_BUFSIZE];

    snprintf(message, sizeof(message), "%s failed: %.380s (re-run provision once the cause is fixed; it converges)",
             step, f->ctx->error_message[0] ? f->ctx->error_message : valkeyaddon_strerror(code));
    record(f, VALKEYADDON_STATUS_FAILED, message, 1);
    return code;
}

static int on_progress(const valkeyaddon_status_info *info, void *payload)
{
    struct flow *f = payload;

    if (f->progress && f->progress(info, f->payload) != 0) {
        f->stopped = 1;
        /* Not 1 (that means Ready to the waiter): any other non-zero value ends the wait. */
        return 2;
    }
    return 0;
}

static void format_duration(char *out, size_t size, long ms)
{
    if (ms % 60000 == 0)
        snprintf(out, size, "%ldm", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(out, size, "%lds", ms / 1000);
    else
        snprintf(out, size, "%ldms", ms);
}

static int wait_and_record(struct flow *f)
{
    const valkeyaddon_provision_options *o = f->o;
    valkeyaddon_status_info info = { VALKEYADDON_STATUS_INFO_VERSION, 0, 0, 0, 0, 0, 0, 0, "" };
    char message[VALKEYADDON_STATUS_MESSAGE_BUFSIZE], took[32];
    long timeout = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    int error;

    if ((error = record(f, VALKEYADDON_STATUS_CREATING, "objects written; waiting for the replicas to be ready",
                        0)) < 0)
        return error;
    f->progress = o->progress;
    f->payload = o->progress_payload;
    error = valkeyaddon_wait_ready(&info, f->ctx, o->namespace_, o->tenant_id, o->app_id, timeout, on_progress, f);
    if (error == VALKEYADDON_OK) {
        /* The operator should still learn that the plan asked for does not exist. */
        if (f->plan_kept)
            snprintf(message, sizeof(message), "%.180s (plan \"%.32s\" is unknown: the add-on keeps plan %s)",
                     info.message, o->plan, f->row.plan);
        else if (f->fell_back)
            snprintf(message, sizeof(message), "%.200s (plan \"%.32s\" is unknown: plan free is used)",
                     info.message, o->plan);
        else
            snprintf(message, sizeof(message), "%.255s", info.message);
        return record(f, VALKEYADDON_STATUS_READY, message, 0);
    }
    if (f->stopped) {
        valkeyaddon__begin(f->ctx);
        return VALKEYADDON_OK; /* the row stays `creating`; `status` or another provision picks it up */
    }
    format_duration(took, sizeof(took), timeout);
    if (error == VALKEYADDON_ETIMEOUT && info.status == VALKEYADDON_STATUS_FAILED) {
        snprintf(message, sizeof(message), "partial readiness after %s: %s", took, info.message);
        record(f, VALKEYADDON_STATUS_FAILED, message, 1);
        return valkeyaddon__error(f->ctx, VALKEYADDON_EFAILED, "%s/%s: %s", o->namespace_, f->row.resource_name,
                                  message);
    }
    if (error == VALKEYADDON_ETIMEOUT) {
        snprintf(message, sizeof(message), "still Creating after %s: %s", took,
                 info.message[0] ? info.message
                                 : "the StatefulSet reports nothing yet; check the controller and quotas");
        record(f, VALKEYADDON_STATUS_FAILED, message, 1);
        return error;
    }
    return step_failed(f, error, "waiting for Ready");
}

static int read_back(valkeyaddon_addon_row *out, struct flow *f, int result)
{
    valkeyaddon_storage *s = f->ctx->storage;
    valkeyaddon_addon_row row = f->row;
    struct saved_error saved;

    if (!out)
        return result;
    save_error(&saved, f->ctx);
    /* The stored row has the storage's timestamps; when it cannot be read, what this call knows will do. */
    if (s->get(&row, s, f->ctx, f->row.app_id, f->row.addon_type) < 0)
        row = f->row;
    restore_error(f->ctx, &saved);
    row.version = out->version;
    *out = row;
    return result;
}

/*
 * The row of this app_id, if any: one recorded under another tenant is
 * ECONFLICT (one tenant never takes over another's record). *found: there is one.
 */
static int existing_row(valkeyaddon_addon_row *row, int *found, struct flow *f)
{
    valkeyaddon_storage *s = f->ctx->storage;
    int error;

    *found = 0;
    memset(row, 0, sizeof(*row));
    row->version = VALKEYADDON_ADDON_ROW_VERSION;
    error = s->get(row, s, f->ctx, f->row.app_id, f->row.addon_type);
    if (error == VALKEYADDON_ENOTFOUND) {
        valkeyaddon__begin(f->ctx);
        return VALKEYADDON_OK;
    }
    if (error < 0)
        return valkeyaddon__storage_failed(f->ctx, error, "reading the add-on's record");
    if (strcmp(row->tenant_id, f->row.tenant_id) != 0)
        return valkeyaddon__error(f->ctx, VALKEYADDON_ECONFLICT,
                                  "app %s is recorded under tenant %s, not %s; nothing was changed",
                                  f->row.app_id, row->tenant_id, f->row.tenant_id);
    *found = 1;
    return VALKEYADDON_OK;
}

int valkeyaddon_provision(valkeyaddon_addon_row *out, valkeyaddon_ensure_result *ensured_out, valkeyaddon_ctx *ctx,
                          const valkeyaddon_provision_options *options)
{
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;
    struct valkeyaddon__ensure_request req;
    valkeyaddon_addon_row recorded;
    valkeyaddon_plan_config plan;
    valkeyaddon_storage *s;
    struct flow f;
    int error, found;

    if ((error = check_ctx(ctx)) < 0 || (error = check_row_version(ctx, out)) < 0)
        return error;
    if (ensured_out && (ensured_out->version == 0 || ensured_out->version > VALKEYADDON_ENSURE_RESULT_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "ensured->version: %u is not a result version this library knows (1 to %d)",
                                  ensured_out->version, VALKEYADDON_ENSURE_RESULT_VERSION);
    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.o = options;
    if ((error = validate(&f, &plan)) < 0)
        return error;
    s = ctx->storage;
    f.fell_back = plan.fell_back;
    if ((error = existing_row(&recorded, &found, &f)) < 0)
        return error;
    /* A typo never changes an existing add-on: until the cluster says otherwise, it keeps the recorded plan. */
    if (plan.fell_back && found) {
        memcpy(f.row.plan, recorded.plan, sizeof(f.row.plan));
        snprintf(f.row.status_message, sizeof(f.row.status_message),
                 "plan \"%.32s\" is unknown: the add-on keeps plan %s", options->plan, recorded.plan);
    }
    if (plan.fell_back)
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "%s", f.row.status_message);

    /* INSERT ... ON CONFLICT (app_id, addon_type) DO UPDATE: a repeat call rewrites the one row. */
    if ((error = s->upsert(NULL, s, ctx, &f.row)) < 0)
        return valkeyaddon__storage_failed(ctx, error, "recording the add-on");

    /* The app Secret too: every object is read and its owner checked before the first write. */
    memset(&req, 0, sizeof(req));
    req.namespace_ = options->namespace_;
    req.tenant_id = options->tenant_id;
    req.app_id = options->app_id;
    req.plan = options->plan ? options->plan : "free";
    req.recorded_plan = found ? recorded.plan : NULL;
    req.allow_data_loss = options->version >= 2 && options->allow_data_loss;
    req.with_app_secret = 1;
    if ((error = valkeyaddon__ensure(&ensured, ctx, &req)) < 0)
        return read_back(out, &f, step_failed(&f, error, req.step));
    valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "%s/%s: %d object write(s)%s%s", options->namespace_, ensured.name,
                     (int)ensured.objects_written, ensured.password_created ? ", password created" : "",
                     ensured.password_rollout ? ", pods rolling to the new password" : "");
    f.plan_kept = ensured.plan_kept;
    /* The plan the cluster has (kept from its StatefulSet) is the one to record. */
    if (strcmp(f.row.plan, ensured.plan) != 0) {
        memcpy(f.row.plan, ensured.plan, sizeof(f.row.plan));
        if (ensured.plan_kept)
            snprintf(f.row.status_message, sizeof(f.row.status_message),
                     "plan \"%.32s\" is unknown: the add-on keeps plan %s", options->plan, ensured.plan);
        if ((error = s->upsert(NULL, s, ctx, &f.row)) < 0)
            return valkeyaddon__storage_failed(ctx, error, "recording the add-on's plan");
    }
    if (ensured_out) {
        unsigned int version = ensured_out->version;
        memcpy(ensured_out, &ensured, version >= 2 ? sizeof(ensured) : offsetof(valkeyaddon_ensure_result, plan_kept));
        ensured_out->version = version;
    }

    if (options->no_wait)
        error = record(&f, VALKEYADDON_STATUS_CREATING, "objects written; not waiting (check with status)", 0);
    else
        error = wait_and_record(&f);
    return read_back(out, &f, error);
}

int valkeyaddon_refresh_status(valkeyaddon_addon_row *out, valkeyaddon_status_info *info, valkeyaddon_ctx *ctx,
                               const char *namespace_, const char *tenant_id, const char *app_id)
{
    valkeyaddon_status_info seen = { VALKEYADDON_STATUS_INFO_VERSION, 0, 0, 0, 0, 0, 0, 0, "" };
    char message[VALKEYADDON_STATUS_MESSAGE_BUFSIZE];
    valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;
    struct flow f;
    int error, status;

    if ((error = check_ctx(ctx)) < 0 || (error = check_row_version(ctx, out)) < 0)
        return error;
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if (info && (info->version == 0 || info->version > VALKEYADDON_STATUS_INFO_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "info->version: %u is not a status info version this library knows (1 to %d)",
                                  info->version, VALKEYADDON_STATUS_INFO_VERSION);
    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.o = &o;
    f.row.version = VALKEYADDON_ADDON_ROW_VERSION;
    if ((error = valkeyaddon_addon_get(&f.row, ctx, app_id, VALKEYADDON_ADDON_TYPE)) < 0)
        return error;
    if (strcmp(f.row.tenant_id, tenant_id ? tenant_id : "") != 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                                  "app %s is recorded under tenant %s, not %s", app_id, f.row.tenant_id,
                                  tenant_id ? tenant_id : "(null)");

    error = valkeyaddon_addon_status(&seen, ctx, namespace_, tenant_id, app_id);
    if (error == VALKEYADDON_ENOTFOUND) {
        snprintf(message, sizeof(message), "StatefulSet %s/%s is missing: re-run provision (it re-converges)",
                 namespace_, f.row.resource_name);
        status = VALKEYADDON_STATUS_FAILED;
        valkeyaddon__begin(ctx);
        seen.status = VALKEYADDON_STATUS_FAILED;
        snprintf(seen.message, sizeof(seen.message), "%.255s", message);
    } else if (error < 0) {
        return error;
    } else {
        status = seen.status;
        snprintf(message, sizeof(message), "%s", seen.message);
    }
    if ((error = record(&f, status, message, 0)) < 0)
        return error;
    if (info) {
        unsigned int version = info->version;
        *info = seen;
        info->version = version;
    }
    return read_back(out, &f, VALKEYADDON_OK);
}
