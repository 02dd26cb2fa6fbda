/*
 * Deprovision (ensure.h): read every object and check it is this add-on's,
 * then delete, keeping the data volumes unless delete_data says otherwise;
 * and the REDIS_URL read-back.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/ensure.h"
#include "valkeyaddon/provision.h"
#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "live.h"
#include "objects/builders.h"
#include "ownership.h"
#include "plan_change.h"
#include "probe.h"
#include "secret_data.h"
#include "util/json_tree.h"

struct teardown {
    valkeyaddon_ctx *ctx;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__live_set live;
    int pods;                                    /* ordinals whose pods may exist */
    int ours[VALKEYADDON__MAX_ORDINALS];         /* claim i is this add-on's */
    int unlabelled[VALKEYADDON__MAX_ORDINALS];   /* ...and carries no ids yet */
    valkeyaddon_deprovision_result result;
};

static int remove_one(struct teardown *d, const valkeyaddon_resource *resource, const char *name, unsigned int flags)
{
    valkeyaddon_transport *t = d->ctx->transport;
    int error;

    valkeyaddon__log(d->ctx, VALKEYADDON_LOG_DEBUG, "delete %s %s/%s", resource->kind, d->addon.namespace_, name);
    error = valkeyaddon__probe_remove(t, d->ctx, resource, d->addon.namespace_, name, flags);
    if (error == VALKEYADDON_ENOTFOUND) {
        valkeyaddon__begin(d->ctx);
        return VALKEYADDON_OK;
    }
    if (error == VALKEYADDON_OK)
        d->result.deleted++;
    return error;
}

/* Remove the object if the read found it. */
static int remove_read(struct teardown *d, const valkeyaddon_resource *resource, const char *name, unsigned int flags)
{
    const struct valkeyaddon__live *item = valkeyaddon__live_find(&d->live, resource, name);

    return item && item->exists ? remove_one(d, resource, name, flags) : VALKEYADDON_OK;
}

/* Every object and pod, owner checked; then which claims are this add-on's. */
static int read_everything(struct teardown *d)
{
    struct valkeyaddon__object_ref refs[VALKEYADDON__MAX_OBJECTS];
    const struct valkeyaddon__live *sts, *claim;
    size_t n = valkeyaddon__object_refs(refs, &d->addon, 1), i;
    char name[VALKEYADDON_NAME_BUFSIZE];
    int error, ordinal, owner;

    if ((error = valkeyaddon__live_read(NULL, &d->live, d->ctx, &d->addon, &valkeyaddon__secret_resource,
                                        d->addon.redis_url_secret, 1)) < 0)
        return error;
    for (i = 0; i < n; i++)
        if ((error = valkeyaddon__live_read(NULL, &d->live, d->ctx, &d->addon, refs[i].resource, refs[i].name, 1)) < 0)
            return error;
    sts = valkeyaddon__live_find(&d->live, &valkeyaddon__statefulset_resource, d->addon.name);
    d->pods = VALKEYADDON__MAX_ORDINALS;
    for (ordinal = 0; ordinal < d->pods; ordinal++) {
        snprintf(name, sizeof(name), "%.60s-%d", d->addon.name, ordinal);
        if ((error = valkeyaddon__live_read(NULL, &d->live, d->ctx, &d->addon, &valkeyaddon__pod_resource, name, 1)) < 0)
            return error;
    }
    for (ordinal = 0; ordinal < VALKEYADDON__MAX_ORDINALS; ordinal++) {
        valkeyaddon__claim_name(name, sizeof(name), &d->addon, ordinal);
        if ((error = valkeyaddon__live_read(&claim, &d->live, d->ctx, &d->addon, &valkeyaddon__pvc_resource, name,
                                            0)) < 0)
            return error;
        if (!claim->exists)
            continue;
        owner = valkeyaddon__claim_owner(d->ctx, &d->addon, name, claim->body.data ? claim->body.data : "",
                                         claim->body.len);
        if (owner < 0)
            return owner;
        /* An unlabelled claim is this add-on's only while its StatefulSet (ours: checked above) holds it. */
        if (owner == VALKEYADDON__CLAIM_OURS || (owner == VALKEYADDON__CLAIM_UNLABELLED && sts->exists)) {
            d->ours[ordinal] = 1;
            d->unlabelled[ordinal] = owner == VALKEYADDON__CLAIM_UNLABELLED;
        } else {
            valkeyaddon__log(d->ctx, VALKEYADDON_LOG_WARNING, "PersistentVolumeClaim %s/%s is not this add-on's "
                             "(%s): left alone", d->addon.namespace_, name,
                             owner == VALKEYADDON__CLAIM_FOREIGN ? d->ctx->error_message : "no owner labels");
            valkeyaddon__begin(d->ctx);
        }
    }
    return VALKEYADDON_OK;
}

/* Label a kept claim with the add-on's ids, so only a provision of these ids ever takes it over. */
static int label_claim(struct teardown *d, const char *name)
{
    valkeyaddon_transport *t = d->ctx->transport;
    valkeyaddon_buffer ignored = VALKEYADDON__BUFFER_INIT;
    struct valkeyaddon__object claim;
    struct valkeyaddon__jw j;
    int error;

    valkeyaddon__object_begin(&j, &valkeyaddon__pvc_resource, &d->addon, name, NULL, NULL);
    if ((error = valkeyaddon__object_end(&claim, d->ctx, &j, &valkeyaddon__pvc_resource, name)) < 0)
        return error;
    /* A field manager of its own: the labels are all it owns, so it never gives up the claim's size. */
    error = t->apply(&ignored, t, d->ctx, &valkeyaddon__pvc_resource, d->addon.namespace_, name, claim.json,
                     claim.json_len, "libvalkeyaddon-retention", 1);
    valkeyaddon__buffer_dispose(&ignored);
    valkeyaddon__object_clear(&claim);
    return error;
}

static void note_kept(struct teardown *d, const char *name)
{
    size_t used = strlen(d->result.kept_claims);

    d->result.claims_kept++;
    snprintf(d->result.kept_claims + used, sizeof(d->result.kept_claims) - used, "%s%s", used ? "," : "", name);
}

static int handle_claims(struct teardown *d, int delete_data)
{
    char name[VALKEYADDON_NAME_BUFSIZE];
    int ordinal, error;

    for (ordinal = 0; ordinal < VALKEYADDON__MAX_ORDINALS; ordinal++) {
        if (!d->ours[ordinal])
            continue;
        valkeyaddon__claim_name(name, sizeof(name), &d->addon, ordinal);
        if (delete_data) {
            int before = d->result.deleted;
            if ((error = remove_one(d, &valkeyaddon__pvc_resource, name, 0)) < 0)
                return error;
            d->result.claims_deleted += d->result.deleted - before;
        } else {
            note_kept(d, name);
        }
    }
    if (!delete_data && d->result.claims_kept)
        valkeyaddon__log(d->ctx, VALKEYADDON_LOG_INFO, "%s/%s: kept the data volume claims %s (delete them with "
                         "delete_data / --delete-data)", d->addon.namespace_, d->addon.name, d->result.kept_claims);
    return VALKEYADDON_OK;
}

static int teardown_objects(struct teardown *d, int delete_data)
{
    const struct valkeyaddon__live *sts = valkeyaddon__live_find(&d->live, &valkeyaddon__statefulset_resource,
                                                                 d->addon.name);
    char name[VALKEYADDON_NAME_BUFSIZE];
    int ordinal, error = VALKEYADDON_OK;

    /* Kept claims carry the ids before anything else changes: a failure later still leaves them claimed. */
    for (ordinal = 0; ordinal < VALKEYADDON__MAX_ORDINALS && error == VALKEYADDON_OK; ordinal++)
        if (d->ours[ordinal] && d->unlabelled[ordinal] && !delete_data) {
            valkeyaddon__claim_name(name, sizeof(name), &d->addon, ordinal);
            error = label_claim(d, name);
        }
    if (error == VALKEYADDON_OK)
        error = remove_read(d, &valkeyaddon__secret_resource, d->addon.redis_url_secret, 0);
    if (error == VALKEYADDON_OK)
        error = remove_read(d, &valkeyaddon__servicemonitor_resource, d->addon.name, 0);
    if (error == VALKEYADDON_OK) {
        valkeyaddon__network_policy_name(name, sizeof(name), &d->addon);
        error = remove_read(d, &valkeyaddon__networkpolicy_resource, name, 0);
    }
    if (error == VALKEYADDON_OK)
        error = remove_read(d, &valkeyaddon__pdb_resource, d->addon.name, 0);
    /*
     * Orphan whatever the StatefulSet's retention policy says (one written
     * by an older library says Delete): no volume claim goes with it. Its
     * pods are deleted once it is gone.
     */
    if (error == VALKEYADDON_OK && sts && sts->exists &&
        (error = remove_one(d, &valkeyaddon__statefulset_resource, d->addon.name, VALKEYADDON_REMOVE_ORPHAN)) == 0)
        error = valkeyaddon__wait_statefulset_gone(d->ctx, &d->addon);
    for (ordinal = 0; ordinal < d->pods && error == VALKEYADDON_OK; ordinal++) {
        snprintf(name, sizeof(name), "%.60s-%d", d->addon.name, ordinal);
        error = remove_read(d, &valkeyaddon__pod_resource, name, 0);
    }
    if (error == VALKEYADDON_OK)
        error = remove_read(d, &valkeyaddon__service_resource, d->addon.name, 0);
    if (error == VALKEYADDON_OK)
        error = remove_read(d, &valkeyaddon__service_resource, d->addon.headless_service, 0);
    if (error == VALKEYADDON_OK)
        error = handle_claims(d, delete_data);
    /* The auth Secret last: a failure half-way leaves the password, and a retry converges. */
    if (error == VALKEYADDON_OK)
        error = remove_read(d, &valkeyaddon__secret_resource, d->addon.auth_secret, 0);
    return error;
}

static int deprovision(valkeyaddon_deprovision_result *out, valkeyaddon_ctx *ctx, const char *namespace_,
                       const char *tenant_id, const char *app_id, int delete_data)
{
    valkeyaddon_plan_config config;
    struct teardown d;
    int error;

    memset(&d, 0, sizeof(d));
    d.ctx = ctx;
    if ((error = valkeyaddon__addon_call(&d.addon, &config, ctx, namespace_, tenant_id, app_id)) < 0)
        return error;
    if (out && (out->version == 0 || out->version > VALKEYADDON_DEPROVISION_RESULT_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a result version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_DEPROVISION_RESULT_VERSION);
    valkeyaddon__live_init(&d.live);
    d.result.version = VALKEYADDON_DEPROVISION_RESULT_VERSION;
    if ((error = read_everything(&d)) == VALKEYADDON_OK)
        error = teardown_objects(&d, delete_data);
    valkeyaddon__live_clear(&d.live);
    if (error < 0)
        return error;
    /* The row goes last: while anything is left in the cluster, the record still points at it. */
    if (ctx->storage) {
        error = ctx->storage->remove(ctx->storage, ctx, app_id, VALKEYADDON_ADDON_TYPE);
        if (error == VALKEYADDON_ENOTFOUND)
            valkeyaddon__begin(ctx);
        else if (error < 0)
            return valkeyaddon__storage_failed(ctx, error, "removing the add-on's record");
    }
    if (out) {
        d.result.version = out->version;
        *out = d.result;
    }
    return VALKEYADDON_OK;
}

int valkeyaddon_deprovision(int *deleted, valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                            const char *app_id)
{
    valkeyaddon_deprovision_result result = VALKEYADDON_DEPROVISION_RESULT_INIT;
    int error = deprovision(&result, ctx, namespace_, tenant_id, app_id, 0);

    if (error == VALKEYADDON_OK && deleted)
        *deleted = result.deleted;
    return error;
}

int valkeyaddon_deprovision_with(valkeyaddon_deprovision_result *out, valkeyaddon_ctx *ctx,
                                 const valkeyaddon_deprovision_options *options)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!options)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options: must not be NULL");
    if (options->version == 0 || options->version > VALKEYADDON_DEPROVISION_OPTIONS_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "options->version: %u is not an options version this library knows (1 to %d)",
                                  options->version, VALKEYADDON_DEPROVISION_OPTIONS_VERSION);
    return deprovision(out, ctx, options->namespace_, options->tenant_id, options->app_id, options->delete_data);
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
