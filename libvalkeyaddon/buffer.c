/* The growable buffer through which plugins hand data to the library. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "buffer_internal.h"

/* The capacity that holds needed bytes and a NUL: 256, doubled as needed; 0 on overflow. */
static size_t capacity_for(size_t cap, size_t needed)
{
    if (needed + 1 == 0)
        return 0;
    cap = cap ? cap : 256;
    while (cap < needed + 1) {
        if (cap > ((size_t)-1) / 2)
            return 0;
        cap *= 2;
    }
    return cap;
}

/*
 * Room for needed bytes after the content. Grown by copy, wipe, free rather
 * than realloc: a realloc that moves the block leaves the old one, which may
 * hold a Secret (an HTTP body, a watch line), unwiped in the heap.
 */
static int reserve(valkeyaddon_buffer *buf, size_t needed)
{
    size_t cap;
    char *grown;

    if (needed < buf->len)
        return VALKEYADDON_ENOMEM;
    if (needed + 1 <= buf->cap)
        return VALKEYADDON_OK;
    if (!(cap = capacity_for(buf->cap, needed)))
        return VALKEYADDON_ENOMEM;
    if (!(grown = valkeyaddon__malloc(cap)))
        return VALKEYADDON_ENOMEM;
    if (buf->data) {
        memcpy(grown, buf->data, buf->len + 1);
        OPENSSL_cleanse(buf->data, buf->cap);
        valkeyaddon__free(buf->data);
    }
    buf->data = grown;
    buf->cap = cap;
    return VALKEYADDON_OK;
}

/*
 * Room for a new content of needed bytes. The old content stays until the
 * allocation succeeded (set() promises it on ENOMEM); a block that is
 * replaced is wiped first, as it may hold a Secret.
 */
static int replace_storage(valkeyaddon_buffer *buf, size_t needed)
{
    size_t cap;
    char *fresh;

    if (needed + 1 <= buf->cap && buf->data)
        return VALKEYADDON_OK;
    if (!(cap = capacity_for(buf->cap, needed)) || !(fresh = valkeyaddon__malloc(cap)))
        return VALKEYADDON_ENOMEM;
    if (buf->data)
        OPENSSL_cleanse(buf->data, buf->cap);
    valkeyaddon__free(buf->data);
    buf->data = fresh;
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
    if ((error = replace_storage(buf, len)) < 0)
        return error;
    OPENSSL_cleanse(buf->data, buf->len);
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
