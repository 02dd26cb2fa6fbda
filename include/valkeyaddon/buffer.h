/**
 * @file valkeyaddon/buffer.h
 * @brief A growable byte buffer owned by the library, filled by plugins.
 *
 * Plugins (transports, storage) return data by copying it into a buffer the
 * library hands them, so no memory crosses an allocator boundary.
 */
#ifndef VALKEYADDON_BUFFER_H
#define VALKEYADDON_BUFFER_H

#include "common.h"

VALKEYADDON_BEGIN_DECL

/** An opaque buffer. */
typedef struct valkeyaddon_buffer valkeyaddon_buffer;

/**
 * Replace the buffer's content with a copy of data (a NUL is kept after it).
 *
 * @param buf the buffer
 * @param data the bytes; may be NULL when len is 0
 * @param len their number
 * @return 0, VALKEYADDON_EINVAL, or VALKEYADDON_ENOMEM (the old content stays)
 */
VALKEYADDON_API int valkeyaddon_buffer_set(valkeyaddon_buffer *buf, const char *data, size_t len);

/**
 * Append a copy of data to the buffer.
 *
 * @return 0, VALKEYADDON_EINVAL, or VALKEYADDON_ENOMEM (the old content stays)
 */
VALKEYADDON_API int valkeyaddon_buffer_append(valkeyaddon_buffer *buf, const char *data, size_t len);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_BUFFER_H */
