/* Object names: the spec's pattern where it is safe, a hashed short form where not (naming.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "valkeyaddon/errors.h"
#include "valkeyaddon/naming.h"
#include "ctx.h"

#define NAME_PREFIX "valkey-"
#define HASH_CHARS 13
/* Readable part of a shortened name: 52 - strlen("--") - HASH_CHARS. */
#define SHORT_PREFIX_MAX (VALKEYADDON_NAME_MAX - 2 - HASH_CHARS)

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static const char *or_default(const char *argument, const char *fallback)
{
    return argument ? argument : fallback;
}

int valkeyaddon_check_id(valkeyaddon_ctx *ctx, const char *argument, const char *id)
{
    size_t len, i;

    valkeyaddon__begin(ctx);
    argument = or_default(argument, "id");
    if (!id)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: must not be NULL", argument);
    len = strlen(id);
    if (len == 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: must not be empty", argument);
    if (len > VALKEYADDON_ID_MAX)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "%s: is %zu characters long; at most %d are allowed "
                                  "(ids are Kubernetes label values)",
                                  argument, len, VALKEYADDON_ID_MAX);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (is_lower_alnum((char)c) || c == '-')
            continue;
        if (c >= 0x21 && c < 0x7f)
            return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                      "%s: character '%c' at position %zu is not allowed; "
                                      "ids use only a-z, 0-9 and '-'",
                                      argument, c, i + 1);
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "%s: byte 0x%02x at position %zu is not allowed; "
                                  "ids use only a-z, 0-9 and '-'",
                                  argument, c, i + 1);
    }
    if (id[0] == '-' || id[len - 1] == '-')
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: must not %s with '-'", argument,
                                  id[0] == '-' ? "start" : "end");
    return VALKEYADDON_OK;
}

static int check_out(valkeyaddon_ctx *ctx, const char *out, size_t out_size, size_t needed)
{
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if (out_size < needed + 1)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "out_size: %zu bytes cannot hold the %zu-character name "
                                  "(VALKEYADDON_NAME_BUFSIZE always suffices)",
                                  out_size, needed);
    return VALKEYADDON_OK;
}

static void put_length_prefixed(unsigned char *buf, size_t *pos, const char *s)
{
    size_t len = strlen(s);

    buf[(*pos)++] = (unsigned char)(len >> 8);
    buf[(*pos)++] = (unsigned char)(len & 0xff);
    memcpy(buf + *pos, s, len);
    *pos += len;
}

/*
 * 13 base32 characters (65 bits) of SHA-256 over the two ids, each
 * length-prefixed so that the pair, not the joined string, is hashed.
 */
static int name_hash(char out[HASH_CHARS + 1], const char *tenant_id, const char *app_id)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char input[2 * (2 + VALKEYADDON_ID_MAX)];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    size_t len = 0;
    int i;

    put_length_prefixed(input, &len, tenant_id);
    put_length_prefixed(input, &len, app_id);
    if (EVP_Digest(input, len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len < 9)
        return VALKEYADDON_ERROR;
    for (i = 0; i < HASH_CHARS; i++) {
        int bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned int window = ((unsigned int)digest[byte] << 8) | digest[byte + 1];
        out[i] = alphabet[(window >> (11 - shift)) & 0x1f];
    }
    out[HASH_CHARS] = '\0';
    return VALKEYADDON_OK;
}

int valkey_name(char *out, size_t out_size, valkeyaddon_ctx *ctx, const char *tenant_id, const char *app_id)
{
    char full[sizeof(NAME_PREFIX) + 2 * VALKEYADDON_ID_MAX + 1];
    char hash[HASH_CHARS + 1];
    size_t full_len, keep;
    int error;

    valkeyaddon__begin(ctx);
    if ((error = valkeyaddon_check_id(ctx, "tenant_id", tenant_id)) < 0 ||
        (error = valkeyaddon_check_id(ctx, "app_id", app_id)) < 0)
        return error;
    full_len = (size_t)snprintf(full, sizeof(full), NAME_PREFIX "%s-%s", tenant_id, app_id);

    /* Ids containing "--" always take the hashed form so an exact name never contains "--". */
    if (full_len <= VALKEYADDON_NAME_MAX && !strstr(tenant_id, "--") && !strstr(app_id, "--")) {
        if ((error = check_out(ctx, out, out_size, full_len)) < 0)
            return error;
        memcpy(out, full, full_len + 1);
        return VALKEYADDON_OK;
    }

    if (name_hash(hash, tenant_id, app_id) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "hashing the ids failed (OpenSSL EVP_Digest)");
    keep = full_len < SHORT_PREFIX_MAX ? full_len : SHORT_PREFIX_MAX;
    while (keep > 0 && full[keep - 1] == '-')
        keep--;
    if ((error = check_out(ctx, out, out_size, keep + 2 + HASH_CHARS)) < 0)
        return error;
    memcpy(out, full, keep);
    memcpy(out + keep, "--", 2);
    memcpy(out + keep + 2, hash, HASH_CHARS + 1);
    return VALKEYADDON_NAME_SHORTENED;
}

/* DNS-1035 label: [a-z]([-a-z0-9]*[a-z0-9])?, here at most VALKEYADDON_NAME_MAX long. */
static int check_object_name(valkeyaddon_ctx *ctx, const char *name)
{
    size_t len, i;

    if (!name)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "name: must not be NULL");
    len = strlen(name);
    if (len == 0 || len > VALKEYADDON_NAME_MAX)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "name: must have 1 to %d characters (as valkey_name() gives), not %zu",
                                  VALKEYADDON_NAME_MAX, len);
    for (i = 0; i < len; i++)
        if (!is_lower_alnum(name[i]) && name[i] != '-')
            return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                      "name: character at position %zu is not allowed; "
                                      "a DNS-1035 label uses only a-z, 0-9 and '-'", i + 1);
    if (name[0] < 'a' || name[0] > 'z')
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "name: must start with a letter (DNS-1035 label)");
    if (name[len - 1] == '-')
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "name: must not end with '-' (DNS-1035 label)");
    return VALKEYADDON_OK;
}

int valkeyaddon_auth_secret_name(char *out, size_t out_size, valkeyaddon_ctx *ctx, const char *name)
{
    int error;

    valkeyaddon__begin(ctx);
    if ((error = check_object_name(ctx, name)) < 0 ||
        (error = check_out(ctx, out, out_size, strlen(name) + 5)) < 0)
        return error;
    snprintf(out, out_size, "%s-auth", name);
    return VALKEYADDON_OK;
}

int valkeyaddon_redis_url_secret_name(char *out, size_t out_size, valkeyaddon_ctx *ctx, const char *app_id)
{
    int error;

    valkeyaddon__begin(ctx);
    if ((error = valkeyaddon_check_id(ctx, "app_id", app_id)) < 0 ||
        (error = check_out(ctx, out, out_size, strlen(app_id) + 14)) < 0)
        return error;
    snprintf(out, out_size, "app-%s-redis-url", app_id);
    return VALKEYADDON_OK;
}
