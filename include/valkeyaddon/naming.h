/**
 * @file valkeyaddon/naming.h
 * @brief Names of the Kubernetes objects of an add-on.
 *
 * The spec names the StatefulSet `valkey-{tenant_id}-{app_id}` "truncated at 53
 * characters". Two things are wrong with that, and we do better:
 *
 * - 53 is one too many. Every pod of a StatefulSet carries the label
 *   `controller-revision-hash: <name>-<hash>` where the hash has up to 10
 *   characters, and a label value may have at most 63, so a StatefulSet name of
 *   53 characters can be created but its pods can never start. The limit is 52.
 * - Plain truncation of UUID ids (80 characters untruncated) ends in '-',
 *   which the API server rejects, and two apps of one tenant whose ids share a
 *   prefix would get the same name.
 *
 * So: when `valkey-{tenant_id}-{app_id}` has at most 52 characters it is the
 * name, exactly. Otherwise the name is the first characters of that string
 * (trailing '-' removed), then "--", then 13 characters of base32 (a-z, 2-7)
 * taken from SHA-256 of the two ids (each length-prefixed, so ("a-b","c") and
 * ("a","b-c") hash differently), 52 characters in all. A shortened name always
 * contains "--" and an exact one never does (ids with "--" in them are always
 * shortened), so the two forms cannot collide; shortened names collide only if
 * 64 bits of SHA-256 and the readable prefix both agree.
 *
 * One ambiguity is the spec's own and is kept for compatibility with names the
 * platform already created: ids that contain '-' and fit can join to the same
 * string, e.g. ("a-b", "c") and ("a", "b-c") both give "valkey-a-b-c". Id
 * schemes that avoid it: UUIDs (always shortened, hence hashed), or tenant ids
 * without '-'.
 *
 * Ids: 1 to 63 characters (the objects carry them as label values) from
 * [a-z0-9-], neither starting nor ending with '-'.
 */
#ifndef VALKEYADDON_NAMING_H
#define VALKEYADDON_NAMING_H

#include "common.h"
#include "context.h"

VALKEYADDON_BEGIN_DECL

/** The longest StatefulSet name whose pods can start (63 - 1 - 10). */
#define VALKEYADDON_NAME_MAX 52
/** The longest tenant or app id (a Kubernetes label value). */
#define VALKEYADDON_ID_MAX 63
/** A buffer size that holds any name this header produces, with its NUL. */
#define VALKEYADDON_NAME_BUFSIZE 128

/** Positive result of valkey_name(): the name was shortened and carries a hash. */
#define VALKEYADDON_NAME_SHORTENED 1

/**
 * Check a tenant or app id against the rules above.
 *
 * @param ctx receives the error detail; may be NULL
 * @param argument the argument's name for the message (for example "tenant_id"); may be NULL
 * @param id the id to check
 * @return 0, or VALKEYADDON_EINVAL with a message naming the argument and the rule
 */
VALKEYADDON_API int valkeyaddon_check_id(valkeyaddon_ctx *ctx, const char *argument, const char *id);

/**
 * The StatefulSet (and ClusterIP Service) name of an add-on.
 *
 * @param[out] out a buffer the caller owns; receives the NUL-terminated name
 *        (at most VALKEYADDON_NAME_MAX characters); untouched on failure
 * @param out_size its size; VALKEYADDON_NAME_BUFSIZE always suffices
 * @param ctx receives the error detail; may be NULL
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @return 0 when the name is exactly `valkey-{tenant_id}-{app_id}`;
 *         VALKEYADDON_NAME_SHORTENED when it was shortened with a hash;
 *         VALKEYADDON_EINVAL for an invalid id, a NULL argument or a buffer
 *         too small (the message says which); VALKEYADDON_ERROR if hashing failed
 */
VALKEYADDON_API int valkey_name(char *out, size_t out_size, valkeyaddon_ctx *ctx,
                                const char *tenant_id, const char *app_id);

/**
 * The name of the Secret holding an add-on's uri, host, port and password: `{name}-auth`.
 *
 * @param[out] out a caller-owned buffer for the NUL-terminated result; untouched on failure
 * @param out_size its size; VALKEYADDON_NAME_BUFSIZE always suffices
 * @param ctx receives the error detail; may be NULL
 * @param name a StatefulSet name as valkey_name() gives: a DNS-1035 label
 *        (it is also the Service name) of at most VALKEYADDON_NAME_MAX characters
 * @return 0, or VALKEYADDON_EINVAL with a message
 */
VALKEYADDON_API int valkeyaddon_auth_secret_name(char *out, size_t out_size, valkeyaddon_ctx *ctx,
                                                 const char *name);

/**
 * The name of the app-side Secret holding REDIS_URL: `app-{app_id}-redis-url`.
 *
 * @param[out] out a caller-owned buffer for the NUL-terminated result; untouched on failure
 * @param out_size its size; VALKEYADDON_NAME_BUFSIZE always suffices
 * @param ctx receives the error detail; may be NULL
 * @param app_id the app id (rules above)
 * @return 0, or VALKEYADDON_EINVAL with a message
 */
VALKEYADDON_API int valkeyaddon_redis_url_secret_name(char *out, size_t out_size, valkeyaddon_ctx *ctx,
                                                      const char *app_id);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_NAMING_H */
