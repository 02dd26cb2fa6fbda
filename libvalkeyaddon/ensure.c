/* ensure_valkey and ensure_redis_url_secret over the context's transport (ensure.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/ensure.h"
#include "valkeyaddon/plans.h"
#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
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
        error = t->get(existing, t, ctx, secret, addon->namespace_, addon->auth_secret);
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

/* 1 when the stored auth Secret already carries exactly the data we would write. */
static int auth_secret_current(const char *stored_json, const struct valkeyaddon__addon *addon, const char *password)
{
    static const char *const keys[] = { "uri", "host", "port", "password" };
    char *expected[4] = { NULL, NULL, NULL, NULL };
    size_t i;
    int same = 1;

    expected[0] = valkeyaddon__redis_uri(addon, password);
    expected[1] = valkeyaddon__service_host(addon);
    expected[2] = "6379";
    expected[3] = (char *)password;
    if (!expected[0] || !expected[1])
        same = 0;
    for (i = 0; i < 4 && same; i++) {
        unsigned char *value = NULL;
        size_t len = 0;
        if (valkeyaddon__secret_data(&value, &len, stored_json, keys[i]) != VALKEYADDON_OK) {
            same = 0;
            continue;
        }
        same = len == strlen(expected[i]) && memcmp(value, expected[i], len) == 0;
        OPENSSL_cleanse(value, len);
        valkeyaddon__free(value);
    }
    valkeyaddon__free_secret(expected[0], (size_t)-1);
    valkeyaddon__free(expected[1]);
    return same;
}

static int load_plan(valkeyaddon_plan_config *config, valkeyaddon_ctx *ctx, const char *plan)
{
    int rc;

    config->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    rc = valkey_plan_config(config, ctx, plan);
    return rc < 0 ? rc : VALKEYADDON_OK;
}

int ensure_valkey(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                  const char *app_id, const char *plan)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__objects objects;
    valkeyaddon_buffer existing = VALKEYADDON__BUFFER_INIT;
    char *password = NULL;
    int error, created = 0, written = 0;
    size_t i;

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
    for (i = 0; i < objects.count; i++) {
        const struct valkeyaddon__object *object = &objects.items[i];
        int is_auth = object->resource == &valkeyaddon__secret_resource && strcmp(object->name, addon.auth_secret) == 0;
        /* The auth Secret is rewritten only when its derived fields (uri, host) drifted. */
        if (is_auth && (created || auth_secret_current(existing.data, &addon, password)))
            continue;
        error = apply_object(ctx, &addon, object);
        if (object->resource == &valkeyaddon__statefulset_resource &&
            valkeyaddon__is_immutable_statefulset_refusal(ctx, error))
            error = valkeyaddon__recreate_statefulset(ctx, &addon, object);
        if (error < 0)
            break;
        written++;
    }
    valkeyaddon__objects_clear(&objects);
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

int ensure_redis_url_secret(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id, const char *app_id)
{
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__object object;
    valkeyaddon_buffer stored = VALKEYADDON__BUFFER_INIT;
    valkeyaddon_transport *t;
    unsigned char *uri = NULL;
    size_t uri_len = 0;
    int error;

    if ((error = require_transport(ctx)) < 0)
        return error;
    valkeyaddon__begin(ctx);
    t = ctx->transport;
    /* The plan does not shape this Secret; names and namespace are all that matter. */
    if ((error = load_plan(&config, ctx, "free")) < 0 ||
        (error = valkeyaddon__addon_init(&addon, ctx, namespace_, tenant_id, app_id, &config,
                                         &ctx->object_options)) < 0)
        return error;

    error = t->get(&stored, t, ctx, &valkeyaddon__secret_resource, addon.namespace_, addon.auth_secret);
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
    if ((error = valkeyaddon__build_redis_url_secret(&object, ctx, &addon, (const char *)uri, uri_len)) < 0)
        goto done;
    error = apply_object(ctx, &addon, &object);
    valkeyaddon__object_clear(&object);
done:
    valkeyaddon__buffer_dispose_secret(&stored);
    if (uri) {
        OPENSSL_cleanse(uri, uri_len);
        valkeyaddon__free(uri);
    }
    return error;
}
