/**
 * @file valkeyaddon/memory.h
 * @brief Allocator hooks and release of library-owned memory.
 *
 * Like libuv's uv_replace_allocator(): a process may route every allocation the
 * library itself makes through its own functions (for accounting, or to test
 * allocation failure). Memory allocated by libcurl, libpq, yajl or OpenSSL is
 * not covered.
 */
#ifndef VALKEYADDON_MEMORY_H
#define VALKEYADDON_MEMORY_H

#include "common.h"

VALKEYADDON_BEGIN_DECL

/** malloc-compatible allocation function. */
typedef void *(*valkeyaddon_malloc_fn)(size_t size);
/** realloc-compatible reallocation function. */
typedef void *(*valkeyaddon_realloc_fn)(void *ptr, size_t size);
/** calloc-compatible allocation function. */
typedef void *(*valkeyaddon_calloc_fn)(size_t count, size_t size);
/** free-compatible release function. */
typedef void (*valkeyaddon_free_fn)(void *ptr);

/**
 * Route the library's allocations through the given functions.
 *
 * Call it before any other library function and before any context exists;
 * it is not thread-safe: call it before other threads use the library (they
 * then see the new functions through the thread creation). The functions
 * themselves are called from every thread that uses a context, so they must
 * be thread-safe. Passing all four as NULL restores the C library's.
 *
 * @return 0, or VALKEYADDON_EINVAL if only some of the four are NULL
 */
VALKEYADDON_API int valkeyaddon_replace_allocator(valkeyaddon_malloc_fn malloc_fn,
                                                  valkeyaddon_realloc_fn realloc_fn,
                                                  valkeyaddon_calloc_fn calloc_fn,
                                                  valkeyaddon_free_fn free_fn);

/**
 * Release memory that a library function documents as "free with valkeyaddon_free()".
 *
 * @param ptr the memory; NULL is a no-op
 */
VALKEYADDON_API void valkeyaddon_free(void *ptr);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_MEMORY_H */
