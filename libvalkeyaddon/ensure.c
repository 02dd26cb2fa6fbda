/* ensure_valkey and ensure_redis_url_secret over the context's transport (ensure.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/ensure.h"
#include "valkeyaddon/plans.h"
#include "alloc.h"
#include "applied.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "probe.h"
#include "ensure_internal.h"
#include "objects/objects.h"
#include "plan_change.h"
#include "secret_data.h"
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
 * Read the object (unless live is given: the caller read it already, or
 * known_absent: it cannot exist yet) and apply it only when the live copy
 * lacks our stamp or any field of our body (docs/request-economy.md).
 * *wrote tells whether a write was sent.
 */
static int converge_object(int *wrote, valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                           const struct valkeyaddon__object *object, const char *live, int known_absent)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    int error, current = 0;

    *wrote = 0;
    if (live) {
        current = valkeyaddon__object_is_current(object, live);
    } else if (!known_absent) {
        error = valkeyaddon__probe_get(&body, t, ctx, object->resource, addon->namespace_, object->name);
        if (error == VALKEYADDON_OK)
            current = valkeyaddon__object_is_current(object, body.data ? body.data : "");
        /* No controller behind a transport that is not a cluster: only our write restarts dead servers. */
        if (current && object->resource == &valkeyaddon__statefulset_resource && t->version >= 2 && t->address &&
            valkeyaddon__statefulset_unrealised(body.data))
            current = 0;
        else if (error == VALKEYADDON_ENOTFOUND)
            valkeyaddon__begin(ctx);
        valkeyaddon__buffer_dispose_secret(&body);
        if (error < 0 && error != VALKEYADDON_ENOTFOUND)
            return transport_error(ctx, error, "get", object->resource, addon->namespace_, object->name);
    }
    if (current) {
        valkeyaddon__log(ctx, VALKEYADDON_LOG_DEBUG, "%s %s/%s is current: not applied", object->resource->kind,
                         addon->namespace_, object->name);
        return VALKEYADDON_OK;
    }
    error = apply_object(ctx, addon, object);
    if (object->resource == &valkeyaddon__statefulset_resource &&
        valkeyaddon__is_immutable_statefulset_refusal(ctx, error))
        error = valkeyaddon__recreate_statefulset(ctx, addon, object);
    if (error < 0)
        return error;
    *wrote = 1;
    return VALKEYADDON_OK;
}

/*
 * The auth Secret's password: read it when the Secret exists, else create the
 * Secret with a new one. Never rotates. *created tells which happened;
 * *existing (when the Secret was read) is its JSON, for the caller to compare.
 */
static int auth_password(char **password, int *created, valkeyaddon_buffer *existing, valkeyaddon_ctx *ctx,
                         const struct valkeyaddon__addon *addon)
{
    valkeyaddon_transport *t = ctx->transport;
    const valkeyaddon_resource *secret = &valkeyaddon__secret_resource;
    struct valkeyaddon__object object;
    valkeyaddon_buffer ignored = VALKEYADDON__BUFFER_INIT;
    char fresh[VALKEYADDON__PASSWORD_LEN + 1];
    unsigned char *value = NULL;
    size_t len = 0;
    int error, attempt;

    *created = 0;
    for (attempt = 0; attempt < 2; attempt++) {
        error = valkeyaddon__probe_get(existing, t, ctx, secret, addon->namespace_, addon->auth_secret);
        if (error == VALKEYADDON_OK) {
            error = valkeyaddon__secret_data(&value, &len, existing->data ? existing->data : "", "password");
            if (error == VALKEYADDON_ENOMEM)
                return valkeyaddon__error(ctx, error, "out of memory reading Secret %s/%s", addon->namespace_,
                                          addon->auth_secret);
            if (error < 0 || !valkeyaddon__password_is_acceptable((const char *)value, len)) {
                if (value) {
                    OPENSSL_cleanse(value, len);
                    valkeyaddon__free(value);
                }
                return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                                          "Secret %s/%s exists but has no usable data.password (16 to 256 "
                                          "URL-safe characters); repair or delete it, the password is never "
                                          "replaced automatically", addon->namespace_, addon->auth_secret);
            }
            *password = (char *)value;
            return VALKEYADDON_OK;
        }
        if (error != VALKEYADDON_ENOTFOUND)
            return transport_error(ctx, error, "get", secret, addon->namespace_, addon->auth_secret);
        if (attempt > 0)
            break;

        valkeyaddon__begin(ctx);
        if (valkeyaddon__generate_password(fresh) < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "OpenSSL RAND_bytes failed to generate a password");
        error = valkeyaddon__build_auth_secret(&object, ctx, addon, fresh);
        /* Stamped like every applied object, so the next ensure finds it current. */
        if (error == VALKEYADDON_OK && (error = valkeyaddon__stamp_object(ctx, &object)) < 0)
            valkeyaddon__object_clear(&object);
        if (error == VALKEYADDON_OK) {
            valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "create Secret %s/%s", addon->namespace_,
                             addon->auth_secret);
            error = t->create(&ignored, t, ctx, secret, addon->namespace_, object.json, object.json_len);
            valkeyaddon__buffer_dispose_secret(&ignored);
            valkeyaddon__object_clear(&object);
        }
        if (error == VALKEYADDON_OK) {
            *password = valkeyaddon__strdup(fresh);
            OPENSSL_cleanse(fresh, sizeof(fresh));
            *created = 1;
            return *password ? VALKEYADDON_OK
                             : valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory after creating Secret");
        }
        OPENSSL_cleanse(fresh, sizeof(fresh));
        /* Someone else created it between our get and create: use theirs. */
        if (error != VALKEYADDON_EEXISTS)
            return transport_error(ctx, error, "create", secret, addon->namespace_, addon->auth_secret);
        valkeyaddon__begin(ctx);
    }
    return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT, "Secret %s/%s was deleted while being created; retry",
                              addon->namespace_, addon->auth_secret);
}

static int load_plan(valkeyaddon_plan_config *config, valkeyaddon_ctx *ctx, const char *plan)
{
    int rc;

    config->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    rc = valkey_plan_config(config, ctx, plan);
    return rc < 0 ? rc : VALKEYADDON_OK;
}

int valkeyaddon__ensure_valkey(valkeyaddon_ensure_result *out, char **uri, valkeyaddon_ctx *ctx,
                               const char *namespace_, const char *tenant_id, const char *app_id, const char *plan)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__objects objects;
    valkeyaddon_buffer existing = VALKEYADDON__BUFFER_INIT;
    char *password = NULL;
    int error, created = 0, written = 0, wrote;
    size_t i;

    if (uri)
        *uri = NULL;
    if ((error = require_transport(ctx)) < 0)
        return error;
    valkeyaddon__begin(ctx);
    if (out && (out->version == 0 || out->version > VALKEYADDON_ENSURE_RESULT_VERSION))
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a result version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_ENSURE_RESULT_VERSION);
    if ((error = load_plan(&config, ctx, plan)) < 0 ||
        (error = valkeyaddon__addon_init(&addon, ctx, namespace_, tenant_id, app_id, &config,
                                         &ctx->object_options)) < 0 ||
        (error = valkeyaddon__addon_address(&addon, ctx)) < 0)
        return error;

    if ((error = auth_password(&password, &created, &existing, ctx, &addon)) < 0)
        goto done;
    written += created;

    memset(&objects, 0, sizeof(objects));
    if ((error = valkeyaddon__build_objects(&objects, ctx, &addon, password)) < 0)
        goto done;
    for (i = 0; i < objects.count && error == VALKEYADDON_OK; i++)
        error = valkeyaddon__stamp_object(ctx, &objects.items[i]);
    for (i = 0; i < objects.count && error == VALKEYADDON_OK; i++) {
        const struct valkeyaddon__object *object = &objects.items[i];
        int is_auth = object->resource == &valkeyaddon__secret_resource && strcmp(object->name, addon.auth_secret) == 0;
        /* Just created: its body is ours. */
        if (is_auth && created)
            continue;
        /*
         * The auth Secret was read for its password: compare with that read.
         * A freshly created auth Secret means a new add-on: nothing else can
         * exist yet (the auth Secret is created first and deleted last), so
         * the rest is applied without reading it first.
         */
        error = converge_object(&wrote, ctx, &addon, object, is_auth ? (existing.data ? existing.data : "") : NULL,
                                created);
        written += wrote;
    }
    valkeyaddon__objects_clear(&objects);
    if (error == VALKEYADDON_OK && uri && !(*uri = valkeyaddon__redis_uri(&addon, password)))
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory building the REDIS_URL");
    if (error == VALKEYADDON_OK && out) {
        unsigned int version = out->version;
        memset(out, 0, sizeof(*out));
        out->version = version;
        memcpy(out->name, addon.name, sizeof(out->name));
        memcpy(out->auth_secret, addon.auth_secret, sizeof(out->auth_secret));
        memcpy(out->plan, config.plan, sizeof(out->plan));
        out->fell_back = config.fell_back;
        out->password_created = created;
        out->objects_written = written;
    }
done:
    valkeyaddon__buffer_dispose_secret(&existing);
    valkeyaddon__free_secret(password, (size_t)-1);
    return error;
}

int ensure_valkey(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                  const char *app_id, const char *plan)
{
    return valkeyaddon__ensure_valkey(out, NULL, ctx, namespace_, tenant_id, app_id, plan);
}

/* Build, stamp and converge the app Secret from uri. */
static int converge_app_secret(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, const char *uri,
                               size_t uri_len, int fresh)
{
    struct valkeyaddon__object object;
    int error, wrote = 0;

    if ((error = valkeyaddon__build_redis_url_secret(&object, ctx, addon, uri, uri_len)) < 0)
        return error;
    if ((error = valkeyaddon__stamp_object(ctx, &object)) == VALKEYADDON_OK)
        error = converge_object(&wrote, ctx, addon, &object, NULL, fresh);
    valkeyaddon__object_clear(&object);
    return error;
}

/* The names only: the plan does not shape the app Secret. */
static int app_addon(struct valkeyaddon__addon *addon, valkeyaddon_plan_config *config, valkeyaddon_ctx *ctx,
                     const char *namespace_, const char *tenant_id, const char *app_id)
{
    int error;

    if ((error = require_transport(ctx)) < 0)
        return error;
    valkeyaddon__begin(ctx);
    if ((error = load_plan(config, ctx, "free")) < 0)
        return error;
    return valkeyaddon__addon_init(addon, ctx, namespace_, tenant_id, app_id, config, &ctx->object_options);
}

int valkeyaddon__ensure_redis_url_with(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                                       const char *app_id, const char *uri, size_t uri_len, int fresh)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    int error;

    if ((error = app_addon(&addon, &config, ctx, namespace_, tenant_id, app_id)) < 0)
        return error;
    if (!uri)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "uri: must not be NULL");
    return converge_app_secret(ctx, &addon, uri, uri_len, fresh);
}

int ensure_redis_url_secret(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id, const char *app_id)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    valkeyaddon_buffer stored = VALKEYADDON__BUFFER_INIT;
    valkeyaddon_transport *t;
    unsigned char *uri = NULL;
    size_t uri_len = 0;
    int error;

    if ((error = app_addon(&addon, &config, ctx, namespace_, tenant_id, app_id)) < 0)
        return error;
    t = ctx->transport;

    error = valkeyaddon__probe_get(&stored, t, ctx, &valkeyaddon__secret_resource, addon.namespace_, addon.auth_secret);
    if (error == VALKEYADDON_ENOTFOUND) {
        valkeyaddon__begin(ctx);
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND,
                                   "Secret %s/%s does not exist, so there is no REDIS_URL to copy "
                                   "(run ensure_valkey first)", addon.namespace_, addon.auth_secret);
        goto done;
    }
    if (error < 0) {
        error = transport_error(ctx, error, "get", &valkeyaddon__secret_resource, addon.namespace_,
                                addon.auth_secret);
        goto done;
    }
    error = valkeyaddon__secret_data(&uri, &uri_len, stored.data ? stored.data : "", "uri");
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
    error = converge_app_secret(ctx, &addon, (const char *)uri, uri_len, 0);
done:
    valkeyaddon__buffer_dispose_secret(&stored);
    if (uri) {
        OPENSSL_cleanse(uri, uri_len);
        valkeyaddon__free(uri);
    }
    return error;
}
