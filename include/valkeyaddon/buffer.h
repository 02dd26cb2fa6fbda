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
 * Create an empty buffer (for callers that drive a transport directly).
 *
 * @param[out] out receives the buffer; release it with valkeyaddon_buffer_free()
 * @return 0, VALKEYADDON_EINVAL, or VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_buffer_new(valkeyaddon_buffer **out);

/**
 * Release a buffer; its content is wiped first (it may have held a Secret). NULL is a no-op.
 *
 * @param buf the buffer
 */
VALKEYADDON_API void valkeyaddon_buffer_free(valkeyaddon_buffer *buf);

/**
 * The buffer's content.
 *
 * @param buf the buffer
 * @param[out] len may be NULL; receives the length in bytes
 * @return the bytes, NUL-terminated, owned by the buffer and valid until it
 *         changes; "" for an empty buffer or a NULL buf
 */
VALKEYADDON_API const char *valkeyaddon_buffer_data(const valkeyaddon_buffer *buf, size_t *len);

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
