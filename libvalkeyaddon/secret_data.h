/* Reading a key of a Secret's `data` out of the JSON a transport returned. */
#ifndef VALKEYADDON_INTERNAL_SECRET_DATA_H
#define VALKEYADDON_INTERNAL_SECRET_DATA_H

#include <stddef.h>

/*
 * Decode data[key] of a Secret given as JSON. *value is valkeyaddon__malloc'd
 * and NUL-terminated; the caller wipes and frees it. Returns 0,
 * VALKEYADDON_ENOTFOUND when the key is absent, VALKEYADDON_EINVAL when the
 * JSON is not a Secret-shaped object or the value is not base64,
 * VALKEYADDON_ENOMEM.
 */
int valkeyaddon__secret_data(unsigned char **value, size_t *len, const char *json, const char *key);

#endif
