/* Replaceable allocator, after libuv's uv_replace_allocator(). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "valkeyaddon/memory.h"
#include "alloc.h"

static struct {
    valkeyaddon_malloc_fn malloc_fn;
    valkeyaddon_realloc_fn realloc_fn;
    valkeyaddon_calloc_fn calloc_fn;
    valkeyaddon_free_fn free_fn;
} allocator = { malloc, realloc, calloc, free };

int valkeyaddon_replace_allocator(valkeyaddon_malloc_fn malloc_fn, valkeyaddon_realloc_fn realloc_fn,
                                  valkeyaddon_calloc_fn calloc_fn, valkeyaddon_free_fn free_fn)
{
    if (!malloc_fn && !realloc_fn && !calloc_fn && !free_fn) {
        allocator.malloc_fn = malloc;
        allocator.realloc_fn = realloc;
        allocator.calloc_fn = calloc;
        allocator.free_fn = free;
        return VALKEYADDON_OK;
    }
    /* A partial set would pair one allocator's malloc with another's free. */
    if (!malloc_fn || !realloc_fn || !calloc_fn || !free_fn)
        return VALKEYADDON_EINVAL;
    allocator.malloc_fn = malloc_fn;
    allocator.realloc_fn = realloc_fn;
    allocator.calloc_fn = calloc_fn;
    allocator.free_fn = free_fn;
    return VALKEYADDON_OK;
}

void *valkeyaddon__malloc(size_t size)
{
    return allocator.malloc_fn(size ? size : 1);
}

void *valkeyaddon__calloc(size_t count, size_t size)
{
    return allocator.calloc_fn(count ? count : 1, size ? size : 1);
}

void *valkeyaddon__realloc(void *ptr, size_t size)
{
    return allocator.realloc_fn(ptr, size ? size : 1);
}

void valkeyaddon__free(void *ptr)
{
    if (ptr)
        allocator.free_fn(ptr);
}

void valkeyaddon_free(void *ptr)
{
    valkeyaddon__free(ptr);
}

void valkeyaddon__free_secret(void *ptr, size_t len)
{
    if (!ptr)
        return;
    if (len == (size_t)-1)
        len = strlen(ptr) + 1;
    OPENSSL_cleanse(ptr, len);
    valkeyaddon__free(ptr);
}

char *valkeyaddon__strdup(const char *s)
{
    size_t len;
    char *copy;

    if (!s)
        return NULL;
    len = strlen(s) + 1;
    copy = valkeyaddon__malloc(len);
    if (copy)
        memcpy(copy, s, len);
    return copy;
}
