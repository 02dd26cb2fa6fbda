/*
 * JSON to YAML (util/json_yaml.c), the render transport's output path: any
 * JSON document, valid or not. Checks: success gives a NUL-terminated
 * document of the reported length; failure a reason in errbuf.
 */
#include "fuzz.h"

#include "util/json_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size), *out = NULL, errbuf[128];
    size_t out_len = 0;
    int rc;

    errbuf[0] = '\0';
    rc = valkeyaddon__json_to_yaml(&out, &out_len, json, errbuf, sizeof(errbuf));
    if (rc == 0) {
        FUZZ_ASSERT(out && strlen(out) == out_len);
        free(out);
    } else {
        FUZZ_ASSERT(rc == -1 || rc == -2);
        FUZZ_ASSERT(memchr(errbuf, '\0', sizeof(errbuf)) != NULL);
    }
    free(json);
    return 0;
}
