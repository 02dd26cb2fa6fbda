/* The library's own allocations go through these so callers can replace them. */
#ifndef VALKEYADDON_INTERNAL_ALLOC_H
#define VALKEYADDON_INTERNAL_ALLOC_H

#include <stddef.h>

void *valkeyaddon__malloc(size_t size);
void *valkeyaddon__calloc(size_t count, size_t size);
void *valkeyaddon__realloc(void *ptr, size_t size);
void valkeyaddon__free(void *ptr);
/* strdup through the replaceable allocator; NULL on failure or NULL input. */
char *valkeyaddon__strdup(const char *s);

#endif
