/* The buffer's layout, for the library's own use. */
#ifndef VALKEYADDON_INTERNAL_BUFFER_H
#define VALKEYADDON_INTERNAL_BUFFER_H

#include "valkeyaddon/buffer.h"

struct valkeyaddon_buffer {
    char *data; /* always NUL-terminated when not NULL */
    size_t len;
    size_t cap;
};

#define VALKEYADDON__BUFFER_INIT { NULL, 0, 0 }

/* Release the content; the buffer is empty and reusable afterwards. */
void valkeyaddon__buffer_dispose(valkeyaddon_buffer *buf);
/* Hand the content over (caller frees with valkeyaddon__free); the buffer is left empty. */
char *valkeyaddon__buffer_detach(valkeyaddon_buffer *buf, size_t *len);
/* Overwrite the content with zeros before releasing it: for buffers that held secrets. */
void valkeyaddon__buffer_dispose_secret(valkeyaddon_buffer *buf);

#endif
