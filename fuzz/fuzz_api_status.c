/*
 * The API server's error answers: valkeyaddon__kube_status_error (api_status.c)
 * turns an HTTP status and a metav1.Status body into a code and one message.
 * Input: bytes 0-1 the HTTP status (100 to 599), byte 2 bit 0 "sensitive"
 * (a Secret call), the rest the body. Checks: the code is negative and the
 * one kube_code gives for the status; with sensitive set, a top-level
 * "message" value never reaches the message (it may quote a Secret's value).
 */
#include "fuzz.h"

#include "valkeyaddon/errors.h"
#include "transport/kubernetes/api_status.h"

#define CANARY "CANARY-SECRET"

static int count(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;
    int found = 0;

    for (i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            found++;
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    valkeyaddon_ctx *ctx;
    const char *body;
    size_t len;
    long http_status;
    int sensitive, code;

    if (size < 3)
        return 0;
    http_status = 100 + (long)(((unsigned)data[0] << 8 | data[1]) % 500);
    sensitive = data[2] & 1;
    body = (const char *)data + 3;
    len = size - 3;
    ctx = fuzz_ctx();
    code = valkeyaddon__kube_status_error(ctx, http_status, len ? body : NULL, len, "apply Secret ns/name",
                                          sensitive);
    FUZZ_ASSERT(code < 0);
    FUZZ_ASSERT(valkeyaddon_ctx_error_code(ctx) == code);
    if (http_status != 409)
        FUZZ_ASSERT(code == valkeyaddon__kube_code(http_status, NULL));
    /* No escapes in the input: the canary can only reach the message by being copied. */
    if (sensitive && !memchr(body, '\\', len) && count(body, len, CANARY) == 1 &&
        count(body, len, "\"message\":\"" CANARY) == 1)
        FUZZ_ASSERT(!strstr(valkeyaddon_ctx_error_message(ctx), CANARY));
    fuzz_ctx_free(ctx);
    return 0;
}
