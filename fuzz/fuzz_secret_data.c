/*
 * The auth Secret's fields (secret_data.c): data[key] of a Secret read back
 * from a transport, base64-decoded. Input: the key, '\n', the JSON. Checks:
 * the value is NUL-terminated at its length; codes are the documented ones.
 */
#include "fuzz.h"

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "secret_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *input = fuzz_cstr(data, size), *nl, *key, *json;
    unsigned char *value = NULL;
    size_t len = 0;
    int rc;

    if ((nl = strchr(input, '\n'))) {
        *nl = '\0';
        key = input;
        json = nl + 1;
    } else {
        key = "password";
        json = input;
    }
    rc = valkeyaddon__secret_data(&value, &len, json, key);
    if (rc == 0) {
        FUZZ_ASSERT(value != NULL && value[len] == '\0');
        valkeyaddon__free_secret(value, len);
    } else {
        FUZZ_ASSERT(rc == VALKEYADDON_ENOTFOUND || rc == VALKEYADDON_EINVAL || rc == VALKEYADDON_ENOMEM);
    }
    free(input);
    return 0;
}
