/* base64 for Secret data: OpenSSL's block coder, with the padding bookkeeping it leaves to us. */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "util/base64.h"

int valkeyaddon__base64_encode(char **out, size_t *out_len, const unsigned char *data, size_t len)
{
    size_t encoded_len;
    char *encoded;

    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return VALKEYADDON_ENOMEM;
    encoded_len = (len + 2) / 3 * 4;
    if (!(encoded = valkeyaddon__malloc(encoded_len + 1)))
        return VALKEYADDON_ENOMEM;
    EVP_EncodeBlock((unsigned char *)encoded, data, (int)len);
    encoded[encoded_len] = '\0';
    *out = encoded;
    if (out_len)
        *out_len = encoded_len;
    return VALKEYADDON_OK;
}

static int is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int valkeyaddon__base64_decode(unsigned char **out, size_t *out_len, const char *text, size_t len)
{
    size_t padding = 0, i, decoded_len;
    unsigned char *decoded;

    if (len % 4 != 0 || len > (size_t)INT_MAX)
        return VALKEYADDON_EINVAL;
    if (len >= 1 && text[len - 1] == '=')
        padding++;
    if (len >= 2 && text[len - 2] == '=')
        padding++;
    for (i = 0; i < len - padding; i++)
        if (!is_base64_char(text[i]))
            return VALKEYADDON_EINVAL;
    decoded_len = len / 4 * 3 - padding;
    /* EVP_DecodeBlock writes whole groups (padding decoded as zero bytes). */
    if (!(decoded = valkeyaddon__malloc(len / 4 * 3 + 1)))
        return VALKEYADDON_ENOMEM;
    if (len && EVP_DecodeBlock(decoded, (const unsigned char *)text, (int)len) < 0) {
        valkeyaddon__free(decoded);
        return VALKEYADDON_EINVAL;
    }
    decoded[decoded_len] = '\0';
    *out = decoded;
    if (out_len)
        *out_len = decoded_len;
    return VALKEYADDON_OK;
}
