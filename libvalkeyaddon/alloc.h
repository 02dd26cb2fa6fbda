/* The library's own allocations go through these so callers can replace them. */
#ifndef VALKEYADDON_INTERNAL_ALLOC_H
#define VALKEYADDON_INTERNAL_ALLOC_H

#include <stddef.h>

void *valkeyaddon__malloc(size_t size);
void *valkeyaddon__calloc(size_t count, size_t size);
void *valkeyaddon__realloc(void *ptr, size_t size);
void valkeyaddon__free(void *ptr);
/* Wipe len bytes (strlen + 1 when len is (size_t)-1) with OPENSSL_cleanse, then free; NULL is a no-op.
 * For anything that held a password, token, key or REDIS_URL. */
void valkeyaddon__free_secret(void *ptr, size_t len);
/* strdup through the replaceable allocator; NULL on failure or NULL input. */
char *valkeyaddon__strdup(const char *s);

#endif
