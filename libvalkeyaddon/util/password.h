/* Add-on passwords from OpenSSL's CSPRNG. */
#ifndef VALKEYADDON_UTIL_PASSWORD_H
#define VALKEYADDON_UTIL_PASSWORD_H

/*
 * 32 characters from [A-Za-z0-9] (about 190 bits): URL-safe, so REDIS_URL
 * needs no percent-escaping, and shell- and YAML-safe as well.
 */
#define VALKEYADDON__PASSWORD_LEN 32

/* Fill out (VALKEYADDON__PASSWORD_LEN + 1 bytes) with a NUL-terminated password. 0, or VALKEYADDON_ERROR. */
int valkeyaddon__generate_password(char *out);

/* 1 when s could be a password we generated or accept: 16 to 256 URL-safe characters. */
int valkeyaddon__password_is_acceptable(const char *s, unsigned long len);

/*
 * Fill out (hex_len + 1 bytes, hex_len <= 64) with hex_len random hex digits:
 * an id made beside a password, not from it. 0, or VALKEYADDON_ERROR.
 */
int valkeyaddon__generate_credential_id(char *out, unsigned long hex_len);

#endif
