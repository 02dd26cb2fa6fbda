/*
 * Ids and names: valkeyaddon_check_id, valkey_name and the Secret names.
 * Input: byte 0 picks the output buffer size (so short buffers are tried
 * too), then the tenant id and the app id separated by the first '\n'.
 * Checks naming.h's promises: ids accepted only from [a-z0-9-] without an
 * edge '-'; an exact name is `valkey-{tenant}-{app}` without "--"; a
 * shortened one is a prefix of that (trailing '-' removed), "--" and 13
 * characters of base32, at most 52 in all;
 * outputs are untouched on failure.
 */
#include "fuzz.h"

#include "valkeyaddon/errors.h"
#include "valkeyaddon/naming.h"

static int id_ok(const char *id)
{
    size_t n = strlen(id), i;

    if (n < 1 || n > VALKEYADDON_ID_MAX || id[0] == '-' || id[n - 1] == '-')
        return 0;
    for (i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return 0;
    return 1;
}

static int untouched(const char *out, size_t size)
{
    size_t i;

    for (i = 0; i < size; i++)
        if (out[i] != 'X')
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    valkeyaddon_ctx *ctx = fuzz_ctx();
    char *input, *tenant, *app, *nl;
    char out[VALKEYADDON_NAME_BUFSIZE], secret[VALKEYADDON_NAME_BUFSIZE], exact[300];
    size_t out_size;
    int rc, ok_t, ok_a;

    if (size < 1) {
        fuzz_ctx_free(ctx);
        return 0;
    }
    out_size = data[0] % (sizeof(out) + 1);
    input = fuzz_cstr(data + 1, size - 1);
    tenant = input;
    app = (nl = strchr(input, '\n')) ? (*nl = '\0', nl + 1) : "app";
    ok_t = id_ok(tenant);
    ok_a = id_ok(app);

    FUZZ_ASSERT((valkeyaddon_check_id(ctx, "tenant_id", tenant) == 0) == ok_t);
    FUZZ_ASSERT((valkeyaddon_check_id(NULL, NULL, app) == 0) == ok_a);

    memset(out, 'X', sizeof(out));
    rc = valkey_name(out, out_size, ctx, tenant, app);
    if (!ok_t || !ok_a)
        FUZZ_ASSERT(rc == VALKEYADDON_EINVAL);
    if (rc < 0) {
        FUZZ_ASSERT(untouched(out, sizeof(out)));
    } else {
        FUZZ_ASSERT(ok_t && ok_a);
        FUZZ_ASSERT(strlen(out) <= VALKEYADDON_NAME_MAX && strlen(out) < out_size);
        snprintf(exact, sizeof(exact), "valkey-%s-%s", tenant, app);
        if (rc == 0) {
            FUZZ_ASSERT(strcmp(out, exact) == 0 && !strstr(out, "--"));
        } else {
            FUZZ_ASSERT(rc == VALKEYADDON_NAME_SHORTENED);
            /* Shortened because too long or because the ids hold "--": prefix, "--", 13 of base32. */
            FUZZ_ASSERT(strlen(exact) > VALKEYADDON_NAME_MAX || strstr(exact, "--"));
            FUZZ_ASSERT(strlen(out) >= 15 && strncmp(out + strlen(out) - 15, "--", 2) == 0);
            FUZZ_ASSERT(strspn(out + strlen(out) - 13, "abcdefghijklmnopqrstuvwxyz234567") == 13);
            FUZZ_ASSERT(strncmp(out, exact, strlen(out) - 15) == 0);
            FUZZ_ASSERT(strlen(out) == 15 || out[strlen(out) - 16] != '-');
        }
        /* A name valkey_name gives is always a valid Secret base name. */
        FUZZ_ASSERT(valkeyaddon_auth_secret_name(secret, sizeof(secret), ctx, out) == 0);
        FUZZ_ASSERT(strlen(secret) == strlen(out) + 5 && strcmp(secret + strlen(out), "-auth") == 0);
    }

    /* The Secret names, on raw input too (the name argument is not an id). */
    memset(secret, 'X', sizeof(secret));
    rc = valkeyaddon_auth_secret_name(secret, out_size, ctx, tenant);
    if (rc < 0)
        FUZZ_ASSERT(untouched(secret, sizeof(secret)));
    else
        FUZZ_ASSERT(strlen(secret) < out_size && strlen(tenant) <= VALKEYADDON_NAME_MAX);
    memset(secret, 'X', sizeof(secret));
    rc = valkeyaddon_redis_url_secret_name(secret, out_size, ctx, app);
    if (rc < 0) {
        FUZZ_ASSERT(untouched(secret, sizeof(secret)));
    } else {
        FUZZ_ASSERT(ok_a && strlen(secret) < out_size);
        snprintf(exact, sizeof(exact), "app-%s-redis-url", app);
        FUZZ_ASSERT(strcmp(secret, exact) == 0);
    }
    if (!ok_a)
        FUZZ_ASSERT(rc == VALKEYADDON_EINVAL);

    free(input);
    fuzz_ctx_free(ctx);
    return 0;
}
