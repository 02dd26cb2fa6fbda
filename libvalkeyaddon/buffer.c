/* The growable buffer through which plugins hand data to the library. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "buffer_internal.h"

static int reserve(valkeyaddon_buffer *buf, size_t needed)
{
    size_t cap;
    char *grown;

    if (needed < buf->len || needed + 1 == 0)
        return VALKEYADDON_ENOMEM;
    if (needed + 1 <= buf->cap)
        return VALKEYADDON_OK;
    cap = buf->cap ? buf->cap : 256;
    while (cap < needed + 1) {
        if (cap > ((size_t)-1) / 2)
            return VALKEYADDON_ENOMEM;
        cap *= 2;
    }
    grown = valkeyaddon__realloc(buf->data, cap);
    if (!grown)
        return VALKEYADDON_ENOMEM;
    buf->data = grown;
    buf->cap = cap;
    return VALKEYADDON_OK;
}

int valkeyaddon_buffer_set(valkeyaddon_buffer *buf, const char *data, size_t len)
{
    int error;

    if (!buf || (!data && len))
        return VALKEYADDON_EINVAL;
    /* A set from our own content would read freed memory after a move. */
    if (data && buf->data && data >= buf->data && data < buf->data + buf->cap)
        return VALKEYADDON_EINVAL;
    if (buf->data)
        OPENSSL_cleanse(buf->data, buf->len);
    buf->len = 0;
    if ((error = reserve(buf, len)) < 0)
        return error;
    if (len)
        memcpy(buf->data, data, len);
    buf->len = len;
    buf->data[len] = '\0';
    return VALKEYADDON_OK;
}

int valkeyaddon_buffer_append(valkeyaddon_buffer *buf, const char *data, size_t len)
{
    int error;

    if (!buf || (!data && len))
        return VALKEYADDON_EINVAL;
    if ((error = reserve(buf, buf->len + len)) < 0)
        return error;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return VALKEYADDON_OK;
}

void valkeyaddon__buffer_dispose(valkeyaddon_buffer *buf)
{
    valkeyaddon__free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

void valkeyaddon__buffer_dispose_secret(valkeyaddon_buffer *buf)
{
    if (buf->data)
        OPENSSL_cleanse(buf->data, buf->cap);
    valkeyaddon__buffer_dispose(buf);
}

char *valkeyaddon__buffer_detach(valkeyaddon_buffer *buf, size_t *len)
{
    char *data = buf->data;

    if (len)
        *len = buf->len;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}

int valkeyaddon_buffer_new(valkeyaddon_buffer **out)
{
    if (!out)
        return VALKEYADDON_EINVAL;
    *out = valkeyaddon__calloc(1, sizeof(**out));
    return *out ? VALKEYADDON_OK : VALKEYADDON_ENOMEM;
}

void valkeyaddon_buffer_free(valkeyaddon_buffer *buf)
{
    if (!buf)
        return;
    valkeyaddon__buffer_dispose_secret(buf);
    valkeyaddon__free(buf);
}

const char *valkeyaddon_buffer_data(const valkeyaddon_buffer *buf, size_t *len)
{
    if (len)
        *len = buf ? buf->len : 0;
    return buf && buf->data ? buf->data : "";
}
