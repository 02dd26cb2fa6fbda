/*
 * Kubeconfigs (config.c): the input is written to a file in a private temp
 * dir and loaded as the one kubeconfig, as `--kubeconfig FILE` does (the YAML
 * parser, the merge, the cluster/user/context lookup, base64 *-data fields,
 * exec plugin stanzas; the plugin is never run here). Byte 0 bit 0 selects
 * the context "other" instead of current-context. Checks: success gives the
 * fields config.h promises (server and namespace set, exec lists
 * NULL-terminated); failure leaves the struct cleared.
 */
#include "fuzz.h"

#include <unistd.h>

#include "valkeyaddon/errors.h"
#include "transport/kubernetes/kubeconfig.h"

static char path[256];

static void setup(void)
{
    char dir[] = "/tmp/valkeyaddon-fuzz-kubeconfig-XXXXXX";

    if (path[0])
        return;
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/config", dir);
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct valkeyaddon__kube_config cfg;
    valkeyaddon_ctx *ctx;
    FILE *f;
    size_t i;
    int rc;

    if (size < 1)
        return 0;
    setup();
    FUZZ_ASSERT((f = fopen(path, "wb")) != NULL);
    FUZZ_ASSERT(fwrite(data + 1, 1, size - 1, f) == size - 1);
    FUZZ_ASSERT(fclose(f) == 0);
    ctx = fuzz_ctx();
    memset(&cfg, 0xA5, sizeof(cfg));
    rc = valkeyaddon__kube_config_load(&cfg, ctx, path, (data[0] & 1) ? "other" : NULL);
    if (rc < 0) {
        FUZZ_ASSERT(rc == VALKEYADDON_ECONFIG || rc == VALKEYADDON_EIO || rc == VALKEYADDON_ENOMEM);
        FUZZ_ASSERT(all_zero(&cfg, sizeof(cfg)));
    } else {
        FUZZ_ASSERT(rc == 0);
        FUZZ_ASSERT(cfg.server && cfg.namespace_ && cfg.context_name);
        if (cfg.has_exec) {
            FUZZ_ASSERT(cfg.exec.command && cfg.exec.api_version && cfg.exec.args && cfg.exec.env);
            for (i = 0; cfg.exec.env[i]; i++)
                FUZZ_ASSERT(strchr(cfg.exec.env[i], '='));
        }
        valkeyaddon__kube_config_clear(&cfg);
        FUZZ_ASSERT(all_zero(&cfg, sizeof(cfg)));
    }
    fuzz_ctx_free(ctx);
    return 0;
}
