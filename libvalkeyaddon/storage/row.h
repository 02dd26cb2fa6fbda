/*
 * Helpers every storage backend shares, so that all of them accept, reject
 * and store exactly the same rows (the conformance suite in tests/storage/
 * holds them to it).
 *
 * `who` is the backend's name for messages ("sqlite storage"); every failure
 * is reported on ctx (which may be NULL) and returned as a negative code.
 */
#ifndef VALKEYADDON_INTERNAL_STORAGE_ROW_H
#define VALKEYADDON_INTERNAL_STORAGE_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "valkeyaddon/sys/storage.h"

/*
 * A row given to upsert: version 1 to VALKEYADDON_ADDON_ROW_VERSION
 * (VALKEYADDON_EVERSION otherwise); app_id and addon_type non-empty; every
 * string NUL-terminated within its array (VALKEYADDON_EINVAL naming the member
 * otherwise: a key is never truncated); status one of CREATING, READY,
 * FAILED. Timestamps are not looked at: the storage sets them.
 */
int valkeyaddon__row_check(valkeyaddon_ctx *ctx, const char *who, const valkeyaddon_addon_row *row);

/*
 * The key arguments of get, set_status and remove: non-NULL, non-empty, and
 * short enough for the row's arrays (VALKEYADDON_EINVAL otherwise).
 */
int valkeyaddon__row_check_key(valkeyaddon_ctx *ctx, const char *who, const char *app_id, const char *addon_type);

/* list's app_id: NULL (every app) or a valid key part (VALKEYADDON_EINVAL). */
int valkeyaddon__row_check_app(valkeyaddon_ctx *ctx, const char *who, const char *app_id);

/* A status value: CREATING, READY or FAILED; VALKEYADDON_EINVAL otherwise. */
int valkeyaddon__row_check_status(valkeyaddon_ctx *ctx, const char *who, int status);

/* The stored text of a status ("creating", "ready", "failed"), or NULL for another value. */
const char *valkeyaddon__row_status_text(int status);

/* The status stored as text; VALKEYADDON_EINVAL for any other text (or NULL). */
int valkeyaddon__row_status_parse(const char *text);

/*
 * Copy src (NULL is "") into dst, an array of size bytes. When it does not
 * fit, VALKEYADDON_EINVAL naming `member` and dst is left unchanged: values
 * are never truncated. len is strlen(src), or (size_t)-1 to compute it
 * (database drivers know the length already).
 */
int valkeyaddon__row_copy(valkeyaddon_ctx *ctx, const char *who, const char *member, char *dst, size_t size,
                          const char *src, size_t len);

/*
 * Copy a status message (NULL is "") into dst, cutting one that does not fit
 * at the last UTF-8 character boundary that does: messages are for humans,
 * and a cut message is more useful than a failed write.
 */
void valkeyaddon__row_copy_message(char *dst, size_t size, const char *src);

/* Wall-clock time in Unix milliseconds (the row's timestamps). */
int64_t valkeyaddon__row_now_ms(void);

#endif
