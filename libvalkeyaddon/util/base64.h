/* Standard base64 (RFC 4648, with padding) through OpenSSL, for Secret data. */
#ifndef VALKEYADDON_UTIL_BASE64_H
#define VALKEYADDON_UTIL_BASE64_H

#include <stddef.h>

/* Encode; *out is valkeyaddon__malloc'd and NUL-terminated. 0, or VALKEYADDON_ENOMEM. */
int valkeyaddon__base64_encode(char **out, size_t *out_len, const unsigned char *data, size_t len);

/*
 * Decode strict base64 (length a multiple of 4, padding only at the end, no
 * whitespace); *out is valkeyaddon__malloc'd and NUL-terminated so text can be
 * used as a string. 0, VALKEYADDON_EINVAL for invalid input, or VALKEYADDON_ENOMEM.
 */
int valkeyaddon__base64_decode(unsigned char **out, size_t *out_len, const char *text, size_t len);

#endif
