/* Password generation: unbiased characters from RAND_bytes. */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "valkeyaddon/errors.h"
#include "util/password.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int valkeyaddon__generate_password(char *out)
{
    unsigned char random[64];
    size_t filled = 0, i;

    while (filled < VALKEYADDON__PASSWORD_LEN) {
        if (RAND_bytes(random, sizeof(random)) != 1) {
            OPENSSL_cleanse(out, filled);
            return VALKEYADDON_ERROR;
        }
        /* Rejection sampling: 248 = 4 * 62, so every character is equally likely. */
        for (i = 0; i < sizeof(random) && filled < VALKEYADDON__PASSWORD_LEN; i++)
            if (random[i] < 248)
                out[filled++] = alphabet[random[i] % 62];
    }
    out[filled] = '\0';
    OPENSSL_cleanse(random, sizeof(random));
    return VALKEYADDON_OK;
}

int valkeyaddon__password_is_acceptable(const char *s, unsigned long len)
{
    unsigned long i;

    if (len < 16 || len > 256)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '~'))
            return 0;
    }
    return 1;
}

int valkeyaddon__generate_credential_id(char *out, unsigned long hex_len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char random[32];
    unsigned long i;

    if (hex_len > 2 * sizeof(random) || RAND_bytes(random, (int)((hex_len + 1) / 2)) != 1)
        return VALKEYADDON_ERROR;
    for (i = 0; i < hex_len; i++)
        out[i] = hex[(random[i / 2] >> ((i % 2) ? 0 : 4)) & 0x0f];
    out[hex_len] = '\0';
    return VALKEYADDON_OK;
}
