/*
 * ensure_valkey and ensure_redis_url_secret over the context's transport
 * (ensure.h): read every object and check its owner, settle the plan (an
 * unknown one keeps an existing add-on's plan; a change that deletes data
 * needs allow_data_loss), then create the auth Secret if missing and apply
 * what differs.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/ensure.h"
#include "valkeyaddon/plans.h"
#include "alloc.h"
#include "applied.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "ensure_internal.h"
#include "live.h"
#include "objects/objects.h"
#include "plan_change.h"
#include "probe.h"
#include "secret_data.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"
#include "util/password.h"

static int require_transport(valkeyaddon_ctx *ctx)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    if (!ctx->transport)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "ctx: has no transport (set one with valkeyaddon_ctx_set_transport())");
    return VALKEYADDON_OK;
}

/* A transport that failed without a message still leaves the caller something to read. */
static int transport_error(valkeyaddon_ctx *ctx, int code, const char *verb, const valkeyaddon_resource *resource,
                           const char *namespace_, const char *name)
{
    if (ctx->error_code == 0 || ctx->error_message[0] == '\0')
        return valkeyaddon__error(ctx, code, "%s %s %s/%s: %s", verb, resource->kind, namespace_, name,
                                  valkeyaddon_strerror(code));
    ctx->error_code = code;
    return code;
}

static int apply_object(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                        const struct valkeyaddon__object *object)
{
    valkeyaddon_buffer result = VALKEYADDON__BUFFER_INIT;
    valkeyaddon_transport *t = ctx->transport;
    int error;

    valkeyaddon__log(ctx, VALKEYADDON_LOG_DEBUG, "apply %s %s/%s", object->resource->kind, addon->namespace_,
                     object->name);
    error = t->apply(&result, t, ctx, object->resource, addon->namespace_, object->name, object->json,
                     object->json_len, addon->options->field_manager, 1);
    valkeyaddon__buffer_dispose_secret(&result);
    if (error < 0)
        return transport_error(ctx, error, "apply", object->resource, addon->namespace_, object->name);
    return VALKEYADDON_OK;
}

/*
 * Apply the object only when its live copy (read before any write) lacks our
 * stamp or any field of our body (docs/request-economy.md). *wrote tells
 * whether a write was sent.
 */
static int converge_object(int *wrote, valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                           const struct valkeyaddon__object *object, const struct valkeyaddon__live *live)
{
    valkeyaddon_transport *t = ctx->transport;
    int is_sts = object->resource == &valkeyaddon__statefulset_resource, current = 0, error;

    *wrote = 0;
    if (live && live->exists) {
        const char *body = live->body.data ? live->body.data : "";
        current = valkeyaddon__object_is_current(object, body);
        /* No controller behind a transport that is not a cluster: only our write restarts dead servers. */
        if (current && is_sts && t->version >= 2 && t->address && valkeyaddon__statefulset_unrealised(body))
            current = 0;
    }
    if (current) {
        valkeyaddon__log(ctx, VALKEYADDON_LOG_DEBUG, "%s %s/%s is current: not applied", object->resource->kind,
                         addon->namespace_, object->name);
        return VALKEYADDON_OK;
    }
    error = apply_object(ctx, addon, object);
    if (is_sts && valkeyaddon__is_immutable_statefulset_refusal(ctx, error))
        error = valkeyaddon__recreate_statefulset(ctx, addon, object);
    if (error < 0)
        return error;
    *wrote = 1;
    return VALKEYADDON_OK;
}

static int load_plan(valkeyaddon_plan_config *config, valkeyaddon_ctx *ctx, const char *plan)
{
    int rc;

    config->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    rc = valkey_plan_config(config, ctx, plan);
    return rc < 0 ? rc : VALKEYADDON_OK;
}

/* A known plan's name from a StatefulSet's valkeyaddon.io/plan annotation, into out; 0 when there is none. */
static int live_plan(char *out, size_t size, const struct valkeyaddon__live *sts)
{
    valkeyaddon_plan_config config;
    yajl_val root;
    const char *plan;
    int found = 0;

    if (!sts || !sts->exists || !(root = valkeyaddon__json_parse(sts->body.data ? sts->body.data : "")))
        return 0;
    plan = valkeyaddon__json_string(root, "metadata", "annotations", "valkeyaddon.io/plan");
    config.version = VALKEYADDON_PLAN_CONFIG_VERSION;
    if (plan && valkey_plan_config(&config, NULL, plan) == 0 && !config.fell_back && strlen(plan) < size) {
        memcpy(out, plan, strlen(plan) + 1);
        found = 1;
    }
    yajl_tree_free(root);
    return found;
}

/*
 * The plan to build: the one asked for, unless it is unknown and the add-on
 * exists; then the plan it has (its StatefulSet's, else the recorded one) is
 * kept. A typo must never move an add-on to free, which has no volume.
 */
static int settle_plan(valkeyaddon_plan_config *config, int *kept, valkeyaddon_ctx *ctx,
                       const struct valkeyaddon__ensure_request *req, const struct valkeyaddon__live *sts)
{
    const char *asked = req->plan;
    char current[32] = "";
    int error;

    *kept = 0;
    if ((error = load_plan(config, ctx, asked)) < 0 || !config->fell_back)
        return error;
    if (!live_plan(current, sizeof(current), sts) && req->recorded_plan &&
        strlen(req->recorded_plan) < sizeof(current))
        memcpy(current, req->recorded_plan, strlen(req->recorded_plan) + 1);
    /* A new add-on (nothing says which plan it has): the spec's fall-back to free, reported in the result. */
    if (!current[0] || load_plan(config, NULL, current) < 0 || config->fell_back)
        return load_plan(config, ctx, asked);
    *kept = 1;
    valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "plan \"%.32s\" is unknown: the add-on keeps plan %s", asked,
                     config->plan);
    return VALKEYADDON_OK;
}

/*
 * The password and credential id of the existing auth Secret (live), or
 * ECONFLICT when it has no usable password. An id that is absent or not one
 * of ours is left empty: that Secret predates ids, and nothing rolls for it.
 */
static int existing_credentials(char **password, struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx,
                                const struct valkeyaddon__live *auth)
{
    const char *body = auth->body.data ? auth->body.data : "";
    unsigned char *value = NULL;
    size_t len = 0;
    yajl_val root;
    int error;

    error = valkeyaddon__secret_data(&value, &len, body, "password");
    if (error == VALKEYADDON_ENOMEM)
        return valkeyaddon__error(ctx, error, "out of memory reading Secret %s/%s", addon->namespace_,
                                  addon->auth_secret);
    if (error < 0 || !valkeyaddon__password_is_acceptable((const char *)value, len)) {
        valkeyaddon__free_secret(value, len);
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                                  "Secret %s/%s exists but has no usable data.password (16 to 256 URL-safe "
                                  "characters); repair or delete it, the password is never replaced automatically",
                                  addon->namespace_, addon->auth_secret);
    }
    *password = (char *)value;
    addon->credential_id[0] = '\0';
    if ((root = valkeyaddon__json_parse(body))) {
        const char *id = valkeyaddon__json_string(root, "metadata", "annotations",
                                                  VALKEYADDON__CREDENTIAL_ID_ANNOTATION);
        if (valkeyaddon__credential_id_is_valid(id))
            memcpy(addon->credential_id, id, VALKEYADDON__CREDENTIAL_ID_LEN + 1);
        valkeyaddon__json_free_secret(root);
    }
    return VALKEYADDON_OK;
}

/*
 * Create the auth Secret with a new password and credential id. *raced: it
 * was created by someone else between our read and our create (its copy is
 * then read again into live, owner checked, and used instead).
 */
static int create_auth_secret(char **password, int *raced, struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx)
{
    valkeyaddon_transport *t = ctx->transport;
    struct valkeyaddon__object object;
    valkeyaddon_buffer ignored = VALKEYADDON__BUFFER_INIT;
    char fresh[VALKEYADDON__PASSWORD_LEN + 1];
    int error;

    *raced = 0;
    if (valkeyaddon__generate_password(fresh) < 0 ||
        valkeyaddon__generate_credential_id(addon->credential_id, VALKEYADDON__CREDENTIAL_ID_LEN) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "OpenSSL RAND_bytes failed to generate a password");
    error = valkeyaddon__build_auth_secret(&object, ctx, addon, fresh);
    /* Stamped like every applied object, so the next ensure finds it current. */
    if (error == VALKEYADDON_OK && (error = valkeyaddon__stamp_object(ctx, &object)) < 0)
        valkeyaddon__object_clear(&object);
    if (error == VALKEYADDON_OK) {
        valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "create Secret %s/%s", addon->namespace_, addon->auth_secret);
        error = t->create(&ignored, t, ctx, &valkeyaddon__secret_resource, addon->namespace_, object.json,
                          object.json_len);
        valkeyaddon__buffer_dispose_secret(&ignored);
        valkeyaddon__object_clear(&object);
    }
    if (error == VALKEYADDON_OK && !(*password = valkeyaddon__strdup(fresh)))
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory after creating Secret");
    OPENSSL_cleanse(fresh, sizeof(fresh));
    if (error == VALKEYADDON_EEXISTS) {
        valkeyaddon__begin(ctx);
        *raced = 1;
        return VALKEYADDON_OK;
    }
    if (error < 0)
        return transport_error(ctx, error, "create", &valkeyaddon__secret_resource, addon->namespace_,
                               addon->auth_secret);
    return VALKEYADDON_OK;
}

/*
 * The auth Secret's password: the existing one, else a new Secret's. Never
 * rotates. Someone else creating it between our read and create wins: theirs
 * is read (and its owner checked) and used.
 */
static int auth_password(char **password, int *created, struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx,
                         struct valkeyaddon__live_set *live)
{
    const struct valkeyaddon__live *auth = valkeyaddon__live_find(live, &valkeyaddon__secret_resource,
                                                                  addon->auth_secret);
    int error, raced;

    *created = 0;
    if (auth && auth->exists)
        return existing_credentials(password, addon, ctx, auth);
    valkeyaddon__begin(ctx);
    if ((error = create_auth_secret(password, &raced, addon, ctx)) < 0)
        return error;
    if (!raced) {
        *created = 1;
        return VALKEYADDON_OK;
    }
    valkeyaddon__live_forget(live, &valkeyaddon__secret_resource, addon->auth_secret);
    if ((error = valkeyaddon__live_read(&auth, live, ctx, addon, &valkeyaddon__secret_resource, addon->auth_secret,
                                        1)) < 0)
        return error;
    if (!auth->exists)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT, "Secret %s/%s was deleted while being created; retry",
                                  addon->namespace_, addon->auth_secret);
    return existing_credentials(password, addon, ctx, auth);
}

/*
 * Read every object of the add-on (and the app Secret when asked), checking
 * each one's owner, before anything is written. The StatefulSet comes first
 * after the auth Secret: it settles the plan, which says which extras exist.
 */
static int read_objects(struct valkeyaddon__live_set *live, valkeyaddon_ctx *ctx,
                        const struct valkeyaddon__addon *addon, int with_app_secret)
{
    struct valkeyaddon__object_ref refs[VALKEYADDON__MAX_OBJECTS];
    size_t n = valkeyaddon__object_refs(refs, addon, 0), i;
    int error = VALKEYADDON_OK;

    for (i = 0; i < n && error == VALKEYADDON_OK; i++)
        error = valkeyaddon__live_read(NULL, live, ctx, addon, refs[i].resource, refs[i].name, 1);
    if (error == VALKEYADDON_OK && with_app_secret)
        error = valkeyaddon__live_read(NULL, live, ctx, addon, &valkeyaddon__secret_resource,
                                       addon->redis_url_secret, 1);
    return error;
}

static void fill_result(valkeyaddon_ensure_result *out, const struct valkeyaddon__addon *addon,
                        const valkeyaddon_plan_config *config, int kept, int created, int rollout, int written)
{
    unsigned int version = out->version;

    memset(out, 0, sizeof(*out));
    out->version = version;
    memcpy(out->name, addon->name, sizeof(out->name));
    memcpy(out->auth_secret, addon->auth_secret, sizeof(out->auth_secret));
    memcpy(out->plan, config->plan, sizeof(out->plan));
    out->fell_back = config->fell_back || kept;
    out->password_created = created;
    out->objects_written = written;
    if (version >= 2) {
        out->plan_kept = kept;
        out->password_rollout = rollout;
    }
}

/* Build, stamp and converge the app Secret from uri against its live copy. */
static int converge_app_secret(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, const char *uri,
                               size_t uri_len, const struct valkeyaddon__live *live, int *wrote)
{
    struct valkeyaddon__object object;
    int error;

    if ((error = valkeyaddon__build_redis_url_secret(&object, ctx, addon, uri, uri_len)) < 0)
        return error;
    if ((error = valkeyaddon__stamp_object(ctx, &object)) == VALKEYADDON_OK)
        error = converge_object(wrote, ctx, addon, &object, live);
    valkeyaddon__object_clear(&object);
    return error;
}

static int check_result_version(valkeyaddon_ctx *ctx, const valkeyaddon_ensure_result *out)
{
    if (out && (out->version == 0 || out->version > VALKEYADDON_ENSURE_RESULT_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a result version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_ENSURE_RESULT_VERSION);
    return VALKEYADDON_OK;
}

/* Write what the settled plan needs: the auth Secret if missing, then every object that differs. */
static int write_objects(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, struct valkeyaddon__addon *addon,
                         const valkeyaddon_plan_config *config, int kept, struct valkeyaddon__ensure_request *req,
                         struct valkeyaddon__live_set *live)
{
    const struct valkeyaddon__live *sts = valkeyaddon__live_find(live, &valkeyaddon__statefulset_resource, addon->name);
    struct valkeyaddon__objects objects;
    char *password = NULL, *uri = NULL;
    int error, created = 0, written = 0, wrote, rollout;
    size_t i;

    if ((error = auth_password(&password, &created, addon, ctx, live)) < 0)
        return error;
    written += created;
    /* A new password for servers already running: the changed credential id on the pod template rolls them. */
    rollout = created && sts && sts->exists;
    if (rollout)
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                         "Secret %s/%s was missing while StatefulSet %s exists: a new password was created and the "
                         "pods are rolled to it one by one; REDIS_URL carries it now, and the add-on is not Ready "
                         "until every pod runs with it", addon->namespace_, addon->auth_secret, addon->name);

    memset(&objects, 0, sizeof(objects));
    if ((error = valkeyaddon__build_objects(&objects, ctx, addon, password)) < 0)
        goto done;
    for (i = 0; i < objects.count && error == VALKEYADDON_OK; i++)
        error = valkeyaddon__stamp_object(ctx, &objects.items[i]);
    for (i = 0; i < objects.count && error == VALKEYADDON_OK; i++) {
        const struct valkeyaddon__object *object = &objects.items[i];
        /* Just created: its body is ours. */
        if (created && object->resource == &valkeyaddon__secret_resource &&
            strcmp(object->name, addon->auth_secret) == 0)
            continue;
        error = converge_object(&wrote, ctx, addon, object, valkeyaddon__live_find(live, object->resource,
                                                                                   object->name));
        written += wrote;
    }
    valkeyaddon__objects_clear(&objects);
    if (error == VALKEYADDON_OK && req->with_app_secret) {
        req->step = "ensure_redis_url_secret";
        if (!(uri = valkeyaddon__redis_uri(addon, password)))
            error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory building the REDIS_URL");
        else
            error = converge_app_secret(ctx, addon, uri, strlen(uri),
                                        valkeyaddon__live_find(live, &valkeyaddon__secret_resource,
                                                               addon->redis_url_secret), &wrote);
    }
    if (error == VALKEYADDON_OK && out)
        fill_result(out, addon, config, kept, created, rollout, written);
done:
    valkeyaddon__free_secret(uri, (size_t)-1);
    valkeyaddon__free_secret(password, (size_t)-1);
    return error;
}

int valkeyaddon__ensure(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, struct valkeyaddon__ensure_request *req)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__live_set live;
    const struct valkeyaddon__live *sts = NULL;
    int error, kept = 0;

    req->step = "ensure_valkey";
    if ((error = require_transport(ctx)) < 0)
        return error;
    valkeyaddon__begin(ctx);
    if ((error = check_result_version(ctx, out)) < 0)
        return error;
    /* Arguments first; the names do not depend on the plan: read what exists before settling it. */
    if ((error = load_plan(&config, ctx, req->plan)) < 0 ||
        (error = valkeyaddon__addon_init(&addon, ctx, req->namespace_, req->tenant_id, req->app_id, &config,
                                         &ctx->object_options)) < 0)
        return error;
    valkeyaddon__live_init(&live);
    if ((error = valkeyaddon__live_read(NULL, &live, ctx, &addon, &valkeyaddon__secret_resource, addon.auth_secret,
                                        1)) < 0 ||
        (error = valkeyaddon__live_read(&sts, &live, ctx, &addon, &valkeyaddon__statefulset_resource, addon.name,
                                        1)) < 0 ||
        (error = settle_plan(&config, &kept, ctx, req, sts)) < 0)
        goto done;
    addon.plan = &config;
    if ((error = valkeyaddon__addon_address(&addon, ctx)) < 0 ||
        (error = read_objects(&live, ctx, &addon, req->with_app_secret)) < 0 ||
        (error = valkeyaddon__check_data_loss(ctx, &addon, sts, req->allow_data_loss)) < 0 ||
        (error = valkeyaddon__check_claims(ctx, &addon, &live, sts)) < 0)
        goto done;
    if (error == VALKEYADDON__STATEFULSET_APPEARED) {
        /* Created by a concurrent provision since the first read: its plan must pass the same check. */
        sts = valkeyaddon__live_find(&live, &valkeyaddon__statefulset_resource, addon.name);
        if ((error = valkeyaddon__check_data_loss(ctx, &addon, sts, req->allow_data_loss)) < 0)
            goto done;
    }
    error = write_objects(out, ctx, &addon, &config, kept, req, &live);
done:
    valkeyaddon__live_clear(&live);
    return error;
}

int ensure_valkey(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                  const char *app_id, const char *plan)
{
    struct valkeyaddon__ensure_request req;

    memset(&req, 0, sizeof(req));
    req.namespace_ = namespace_;
    req.tenant_id = tenant_id;
    req.app_id = app_id;
    req.plan = plan;
    return valkeyaddon__ensure(out, ctx, &req);
}

int valkeyaddon_ensure_valkey_with(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx,
                                   const valkeyaddon_ensure_options *options)
{
    struct valkeyaddon__ensure_request req;

    if ((options == NULL || options->version == 0 || options->version > VALKEYADDON_ENSURE_OPTIONS_VERSION) && ctx) {
        valkeyaddon__begin(ctx);
        if (!options)
            return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options: must not be NULL");
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "options->version: %u is not an options version this library knows (1 to %d)",
                                  options->version, VALKEYADDON_ENSURE_OPTIONS_VERSION);
    }
    if (!options)
        return VALKEYADDON_EINVAL;
    memset(&req, 0, sizeof(req));
    req.namespace_ = options->namespace_;
    req.tenant_id = options->tenant_id;
    req.app_id = options->app_id;
    req.plan = options->plan ? options->plan : "free";
    req.allow_data_loss = options->allow_data_loss;
    return valkeyaddon__ensure(out, ctx, &req);
}

int ensure_redis_url_secret(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id, const char *app_id)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__live_set live;
    const struct valkeyaddon__live *auth = NULL, *app = NULL;
    unsigned char *uri = NULL;
    size_t uri_len = 0;
    int error, wrote = 0;

    if ((error = require_transport(ctx)) < 0)
        return error;
    valkeyaddon__begin(ctx);
    /* The names only: the plan does not shape the app Secret. */
    if ((error = load_plan(&config, ctx, "free")) < 0 ||
        (error = valkeyaddon__addon_init(&addon, ctx, namespace_, tenant_id, app_id, &config,
                                         &ctx->object_options)) < 0)
        return error;
    valkeyaddon__live_init(&live);
    if ((error = valkeyaddon__live_read(&auth, &live, ctx, &addon, &valkeyaddon__secret_resource, addon.auth_secret,
                                        1)) < 0 ||
        (error = valkeyaddon__live_read(&app, &live, ctx, &addon, &valkeyaddon__secret_resource,
                                        addon.redis_url_secret, 1)) < 0)
        goto done;
    if (!auth->exists) {
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND,
                                   "Secret %s/%s does not exist, so there is no REDIS_URL to copy "
                                   "(run ensure_valkey first)", addon.namespace_, addon.auth_secret);
        goto done;
    }
    error = valkeyaddon__secret_data(&uri, &uri_len, auth->body.data ? auth->body.data : "", "uri");
    if (error == VALKEYADDON_ENOMEM) {
        error = valkeyaddon__error(ctx, error, "out of memory reading Secret %s/%s", addon.namespace_,
                                   addon.auth_secret);
        goto done;
    }
    if (error < 0 || uri_len < 10 || memcmp(uri, "redis://", 8) != 0) {
        error = valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                                   "Secret %s/%s has no usable data.uri (a redis:// URI); repair it or re-run "
                                   "ensure_valkey", addon.namespace_, addon.auth_secret);
        goto done;
    }
    error = converge_app_secret(ctx, &addon, (const char *)uri, uri_len, app, &wrote);
done:
    valkeyaddon__live_clear(&live);
    valkeyaddon__free_secret(uri, uri_len);
    return error;
}
