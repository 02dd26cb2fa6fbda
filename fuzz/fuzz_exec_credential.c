/*
 * Exec-plugin credentials: the ExecCredential JSON a kubeconfig's exec plugin
 * prints (exec_credential.c valkeyaddon__kube_exec_parse), not NUL-terminated.
 * Byte 0 picks the apiVersion the kubeconfig asked for (any, v1, v1beta1).
 * Checks: success gives a token or a certificate and key (both or neither);
 * failure leaves the struct cleared.
 */
#include "fuzz.h"

#include "valkeyaddon/errors.h"
#include "transport/kubernetes/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const versions[] = { NULL, VALKEYADDON__KUBE_EXEC_V1, VALKEYADDON__KUBE_EXEC_V1BETA1 };
    struct valkeyaddon__kube_credential cred, zero;
    valkeyaddon_ctx *ctx;
    char *json;
    int rc;

    if (size < 1)
        return 0;
    /* An exact-size copy, so that ASan sees any read past len. */
    json = malloc(size - 1 ? size - 1 : 1);
    FUZZ_ASSERT(json != NULL);
    memcpy(json, data + 1, size - 1);
    ctx = fuzz_ctx();
    memset(&cred, 0xA5, sizeof(cred));
    memset(&zero, 0, sizeof(zero));
    rc = valkeyaddon__kube_exec_parse(&cred, ctx, json, size - 1, versions[data[0] % 3]);
    if (rc < 0) {
        FUZZ_ASSERT(rc == VALKEYADDON_ECONFIG || rc == VALKEYADDON_ENOMEM);
        FUZZ_ASSERT(memcmp(&cred, &zero, sizeof(cred)) == 0);
    } else {
        FUZZ_ASSERT(rc == 0);
        FUZZ_ASSERT(!cred.client_cert_data == !cred.client_key_data);
        FUZZ_ASSERT(cred.token || cred.client_cert_data);
        valkeyaddon__kube_credential_clear(&cred);
    }
    free(json);
    fuzz_ctx_free(ctx);
    return 0;
}
