/*
 * The two Secrets: `{name}-auth` (the one place the password lives) and the
 * app-side `app-{app_id}-redis-url`.
 *
 * Values go under `data`, base64-encoded here, never under `stringData`: the
 * API server folds stringData into data, so a key dropped from a later apply's
 * stringData is not owned by our field manager under data and lingers there.
 * Every temporary copy of the password (URI, base64) is wiped before it is freed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "objects/builders.h"
#include "util/base64.h"

static void gen_data(struct valkeyaddon__jw *j, const char *key, const char *value, size_t len)
{
    char *encoded = NULL;
    size_t encoded_len = 0;

    if (valkeyaddon__base64_encode(&encoded, &encoded_len, (const unsigned char *)value, len) < 0) {
        j->oom = 1;
        return;
    }
    valkeyaddon__jw_key(j, key);
    valkeyaddon__jw_stringn(j, encoded, encoded_len);
    valkeyaddon__free_secret(encoded, encoded_len);
}

/*
 * The exporter's password file (redis_exporter --redis.password-file): a JSON
 * map from server URI to password with the one local server in it. The
 * exporter authenticates only to a URI found in the map, so a /scrape?target=
 * naming any other server gets no password (docs/objects.md).
 */
static void gen_exporter_passwords(struct valkeyaddon__jw *j, const char *password)
{
    struct valkeyaddon__jw file;
    char *text = NULL;
    size_t len = 0;

    valkeyaddon__jw_begin(&file);
    valkeyaddon__jw_map_open(&file);
    valkeyaddon__jw_kv_string(&file, VALKEYADDON__EXPORTER_REDIS_ADDR, password);
    valkeyaddon__jw_map_close(&file);
    if (valkeyaddon__jw_finish(&file, &text, &len) < 0) {
        j->oom = 1;
        return;
    }
    gen_data(j, VALKEYADDON__EXPORTER_PASSWORDS_KEY, text, len);
    valkeyaddon__free_secret(text, len);
}

int valkeyaddon__build_auth_secret(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                   const struct valkeyaddon__addon *addon, const char *password)
{
    struct valkeyaddon__jw j;
    char *uri, *host;
    char port[8];
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    if ((error = valkeyaddon__check_addon(ctx, addon)) < 0 || (error = valkeyaddon__check_password(ctx, password)) < 0)
        return error;
    uri = valkeyaddon__redis_uri(addon, password);
    host = valkeyaddon__service_host(addon);
    if (!uri || !host) {
        valkeyaddon__free_secret(uri, (size_t)-1);
        valkeyaddon__free(host);
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory building Secret %s", addon->auth_secret);
    }

    if (addon->credential_id[0]) {
        /* Not secret (random, not derived from the password): the pod template carries it too. */
        valkeyaddon__object_begin_metadata(&j, &valkeyaddon__secret_resource, addon, addon->auth_secret, NULL, NULL);
        valkeyaddon__jw_key_map(&j, "annotations");
        valkeyaddon__jw_kv_string(&j, VALKEYADDON__CREDENTIAL_ID_ANNOTATION, addon->credential_id);
        valkeyaddon__object_mark_stamp(&j, VALKEYADDON__STAMP_IN_ANNOTATIONS);
        valkeyaddon__jw_map_close(&j);
        valkeyaddon__jw_map_close(&j); /* metadata */
    } else {
        valkeyaddon__object_begin(&j, &valkeyaddon__secret_resource, addon, addon->auth_secret, NULL, NULL);
    }
    valkeyaddon__jw_kv_string(&j, "type", "Opaque");
    valkeyaddon__jw_key_map(&j, "data");
    gen_data(&j, "uri", uri, strlen(uri));
    gen_data(&j, "host", host, strlen(host));
    snprintf(port, sizeof(port), "%d", addon->port);
    gen_data(&j, "port", port, strlen(port));
    gen_data(&j, "password", password, strlen(password));
    gen_exporter_passwords(&j, password);
    valkeyaddon__jw_map_close(&j);
    error = valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__secret_resource, addon->auth_secret);

    valkeyaddon__free_secret(uri, (size_t)-1);
    valkeyaddon__free(host);
    return error;
}

int valkeyaddon__build_redis_url_secret(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                        const struct valkeyaddon__addon *addon, const char *uri, size_t uri_len)
{
    struct valkeyaddon__jw j;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    if ((error = valkeyaddon__check_addon(ctx, addon)) < 0)
        return error;
    if (!uri || uri_len == 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "uri: must be a non-empty byte string");

    valkeyaddon__object_begin(&j, &valkeyaddon__secret_resource, addon, addon->redis_url_secret, NULL, NULL);
    valkeyaddon__jw_kv_string(&j, "type", "Opaque");
    valkeyaddon__jw_key_map(&j, "data");
    /* The stored URI's bytes exactly, whatever they are: base64 carries any byte. */
    gen_data(&j, "REDIS_URL", uri, uri_len);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__secret_resource, addon->redis_url_secret);
}
