/* valkeyaddon_render: the builder's objects as YAML or pretty JSON (render.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "valkeyaddon/render.h"
#include "alloc.h"
#include "applied.h"
#include "ctx.h"
#include "objects/objects.h"
#include "render_internal.h"
#include "util/json_yaml.h"
#include "util/password.h"

/* Re-indent compact JSON with yajl (parse events straight into a beautifying generator). */
static int gen_null(void *g) { return yajl_gen_null(g) == yajl_gen_status_ok; }
static int gen_bool(void *g, int v) { return yajl_gen_bool(g, v) == yajl_gen_status_ok; }
static int gen_number(void *g, const char *s, size_t l) { return yajl_gen_number(g, s, l) == yajl_gen_status_ok; }
static int gen_string(void *g, const unsigned char *s, size_t l) { return yajl_gen_string(g, s, l) == yajl_gen_status_ok; }
static int gen_map_open(void *g) { return yajl_gen_map_open(g) == yajl_gen_status_ok; }
static int gen_map_close(void *g) { return yajl_gen_map_close(g) == yajl_gen_status_ok; }
static int gen_array_open(void *g) { return yajl_gen_array_open(g) == yajl_gen_status_ok; }
static int gen_array_close(void *g) { return yajl_gen_array_close(g) == yajl_gen_status_ok; }

static const yajl_callbacks reformat = {
    gen_null, gen_bool, NULL, NULL, gen_number, gen_string,
    gen_map_open, gen_string, gen_map_close, gen_array_open, gen_array_close
};

static int pretty_json(char **out, size_t *out_len, const char *json, size_t len)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_handle h = NULL;
    const unsigned char *buf;
    size_t buf_len;
    int ok = 0;

    if (g && yajl_gen_config(g, yajl_gen_beautify, 1) && (h = yajl_alloc(&reformat, NULL, g)))
        ok = yajl_parse(h, (const unsigned char *)json, len) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok &&
             yajl_gen_get_buf(g, &buf, &buf_len) == yajl_gen_status_ok;
    if (ok && (*out = valkeyaddon__malloc(buf_len + 1))) {
        memcpy(*out, buf, buf_len);
        (*out)[buf_len] = '\0';
        *out_len = buf_len;
    } else {
        ok = 0;
    }
    if (g) {
        /* The generator's buffer may hold a Secret. */
        if (yajl_gen_get_buf(g, &buf, &buf_len) == yajl_gen_status_ok)
            OPENSSL_cleanse((void *)buf, buf_len);
        yajl_gen_free(g);
    }
    if (h)
        yajl_free(h);
    return ok ? VALKEYADDON_OK : VALKEYADDON_ENOMEM;
}

int valkeyaddon__render_object(valkeyaddon_ctx *ctx, const char *kind, const char *name, const char *json,
                               size_t json_len, int format, valkeyaddon_render_cb callback, void *payload)
{
    char *text = NULL, error[128];
    size_t len = 0;
    int rc;

    if (format == VALKEYADDON_RENDER_JSON)
        rc = pretty_json(&text, &len, json, json_len);
    else
        rc = valkeyaddon__json_to_yaml(&text, &len, json, error, sizeof(error)) == 0 ? VALKEYADDON_OK
                                                                                     : VALKEYADDON_ENOMEM;
    if (rc < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory rendering %s %s", kind, name);
    rc = callback(kind, name, text, len, payload);
    OPENSSL_cleanse(text, len);
    /* json_to_yaml allocates with malloc(); pretty_json with the library's allocator. */
    if (format == VALKEYADDON_RENDER_JSON)
        valkeyaddon__free(text);
    else
        free(text);
    return rc;
}

static int emit(valkeyaddon_ctx *ctx, const struct valkeyaddon__object *object, int format,
                valkeyaddon_render_cb callback, void *payload)
{
    return valkeyaddon__render_object(ctx, object->resource->kind, object->name, object->json, object->json_len,
                                      format, callback, payload);
}

static int wanted(const struct valkeyaddon__object *object, int secrets)
{
    int is_secret = object->resource == &valkeyaddon__secret_resource;

    return secrets == VALKEYADDON_RENDER_SECRETS_INCLUDE ||
           (secrets == VALKEYADDON_RENDER_SECRETS_EXCLUDE && !is_secret) ||
           (secrets == VALKEYADDON_RENDER_SECRETS_ONLY && is_secret);
}

static int check_options(valkeyaddon_ctx *ctx, const valkeyaddon_render_options *o)
{
    if (o->version == 0 || o->version > VALKEYADDON_RENDER_OPTIONS_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "options->version: %u is not a render options version this library knows (1 to %d)",
                                  o->version, VALKEYADDON_RENDER_OPTIONS_VERSION);
    if (o->format != VALKEYADDON_RENDER_YAML && o->format != VALKEYADDON_RENDER_JSON)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->format: %d is neither YAML (0) nor JSON (1)",
                                  o->format);
    if (o->secrets < VALKEYADDON_RENDER_SECRETS_INCLUDE || o->secrets > VALKEYADDON_RENDER_SECRETS_ONLY)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->secrets: %d is not 0, 1 or 2", o->secrets);
    /* Never echo a rejected password. */
    if (o->password && !valkeyaddon__password_is_acceptable(o->password, strlen(o->password)))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->password: must be 16 to 256 characters from A-Z a-z 0-9 - _ . ~ "
                                  "(so that REDIS_URL needs no escaping)");
    return VALKEYADDON_OK;
}

int valkeyaddon_render(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id, const char *app_id,
                       const char *plan, const valkeyaddon_render_options *options, valkeyaddon_render_cb callback,
                       void *payload)
{
    valkeyaddon_render_options defaults = VALKEYADDON_RENDER_OPTIONS_INIT;
    valkeyaddon_plan_config config;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__objects objects;
    struct valkeyaddon__object url_secret;
    char generated[VALKEYADDON__PASSWORD_LEN + 1];
    const char *password;
    char *uri = NULL;
    int rc;
    size_t i;

    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!options)
        options = &defaults;
    if (!callback)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "callback: must not be NULL");
    if ((rc = check_options(ctx, options)) < 0)
        return rc;
    config.version = VALKEYADDON_PLAN_CONFIG_VERSION;
    if ((rc = valkey_plan_config(&config, ctx, plan)) < 0 ||
        (rc = valkeyaddon__addon_init(&addon, ctx, namespace_, tenant_id, app_id, &config, &ctx->object_options)) < 0)
        return rc;
    password = options->password;
    if (!password) {
        if (valkeyaddon__generate_password(generated) < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "OpenSSL RAND_bytes failed to generate a password");
        password = generated;
    }

    memset(&objects, 0, sizeof(objects));
    memset(&url_secret, 0, sizeof(url_secret));
    if ((rc = valkeyaddon__build_objects(&objects, ctx, &addon, password)) < 0)
        goto done;
    if (!(uri = valkeyaddon__redis_uri(&addon, password))) {
        rc = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory building REDIS_URL");
        goto done;
    }
    if ((rc = valkeyaddon__build_redis_url_secret(&url_secret, ctx, &addon, uri, strlen(uri))) < 0 ||
        (rc = valkeyaddon__stamp_object(ctx, &url_secret)) < 0)
        goto done;
    /* Stamped as ensure_valkey() stamps them: what is rendered is exactly what is applied. */
    for (i = 0; i < objects.count && rc == 0; i++)
        rc = valkeyaddon__stamp_object(ctx, &objects.items[i]);
    for (i = 0; i < objects.count && rc == 0; i++)
        if (wanted(&objects.items[i], options->secrets))
            rc = emit(ctx, &objects.items[i], options->format, callback, payload);
    if (rc == 0 && wanted(&url_secret, options->secrets))
        rc = emit(ctx, &url_secret, options->format, callback, payload);
done:
    valkeyaddon__objects_clear(&objects);
    valkeyaddon__object_clear(&url_secret);
    valkeyaddon__free_secret(uri, (size_t)-1);
    OPENSSL_cleanse(generated, sizeof(generated));
    return rc;
}
