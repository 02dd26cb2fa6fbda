/**
 * @file valkeyaddon/ensure.h
 * @brief Make an add-on exist: ensure_valkey() and ensure_redis_url_secret().
 *
 * Both go through the context's transport (valkeyaddon_ctx_set_transport())
 * and are idempotent: calling them again converges the objects and changes
 * nothing that is already right. Each object is read first and applied only
 * when it is missing or differs from what would be applied (objects carry a
 * `valkeyaddon.io/applied-hash` annotation), so a repeat call sends no write
 * (docs/request-economy.md).
 *
 * Passwords: the `{name}-auth` Secret is created once, with a password from
 * OpenSSL's CSPRNG (32 characters of [A-Za-z0-9], so REDIS_URL needs no
 * escaping). When it exists its password is reused: a repeated ensure never
 * rotates it, unlike a get-then-create-or-patch that regenerates on every call.
 * Two callers racing to create it both end up with the winner's password.
 */
#ifndef VALKEYADDON_ENSURE_H
#define VALKEYADDON_ENSURE_H

#include "common.h"
#include "context.h"
#include "naming.h"
#include "buffer.h"

VALKEYADDON_BEGIN_DECL

/**
 * What ensure_valkey() did. Set `version` (VALKEYADDON_ENSURE_RESULT_INIT
 * does); the library fills the fields of that version.
 */
typedef struct valkeyaddon_ensure_result {
    unsigned int version;                         /**< VALKEYADDON_ENSURE_RESULT_VERSION */
    char name[VALKEYADDON_NAME_BUFSIZE];          /**< StatefulSet and ClusterIP Service name */
    char auth_secret[VALKEYADDON_NAME_BUFSIZE];   /**< `{name}-auth` */
    char plan[16];                                /**< the plan used */
    int fell_back;                                /**< 1 when the plan was unknown and `free` was used */
    int password_created;                         /**< 1 when this call created the auth Secret */
    int32_t objects_written;                      /**< create/apply requests this call sent (0: all current) */
    /* members above are valid for version 1; append only */
} valkeyaddon_ensure_result;

/** The result version these headers describe. */
#define VALKEYADDON_ENSURE_RESULT_VERSION 1
/** Static initialiser for valkeyaddon_ensure_result. */
#define VALKEYADDON_ENSURE_RESULT_INIT { VALKEYADDON_ENSURE_RESULT_VERSION, "", "", "", 0, 0, 0 }

/**
 * Ensure the add-on's objects: the `{name}-auth` Secret (created once, never
 * rotated), the headless and ClusterIP Services, the StatefulSet and any
 * extras enabled in the object options, by server-side apply with the
 * context's field manager (force). A plan change converges.
 *
 * @param[out] out may be NULL; else filled on success (`version` set by the caller)
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace (a DNS-1123 label)
 * @param tenant_id the tenant id (naming.h)
 * @param app_id the app id (naming.h)
 * @param plan the plan; an unknown one falls back to `free` (reported in out)
 * @return 0; VALKEYADDON_EINVAL (bad argument, or no transport set);
 *         VALKEYADDON_EVERSION (out->version); VALKEYADDON_ECONFLICT when the
 *         auth Secret exists without a usable password (nothing is changed:
 *         an operator must repair or delete it); a transport's error
 */
VALKEYADDON_API int ensure_valkey(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, const char *namespace_,
                                  const char *tenant_id, const char *app_id, const char *plan);

/**
 * Ensure the app-side Secret `app-{app_id}-redis-url` with the single key
 * REDIS_URL, copied byte for byte from the auth Secret's `uri` (never rebuilt),
 * by server-side apply (force), so a rotated password re-converges here.
 *
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @return 0; VALKEYADDON_ENOTFOUND when the auth Secret does not exist (run
 *         ensure_valkey() first); VALKEYADDON_ECONFLICT when it has no usable
 *         `uri`; VALKEYADDON_EINVAL; a transport's error
 */
VALKEYADDON_API int ensure_redis_url_secret(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                                            const char *app_id);

/**
 * Delete the add-on's objects: the app-side Secret, the extras, the
 * StatefulSet (its PersistentVolumeClaims go with it, by the StatefulSet's
 * `persistentVolumeClaimRetentionPolicy: whenDeleted: Delete`, so a reused name
 * never inherits another tenant's data), both Services and the auth Secret
 * last (so a failure half-way leaves the password, and a retry converges).
 * Objects already gone count as deleted: calling it again succeeds.
 *
 * @param[out] deleted may be NULL; receives how many objects this call deleted
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @return 0, VALKEYADDON_EINVAL, or a transport's error
 */
VALKEYADDON_API int valkeyaddon_deprovision(int *deleted, valkeyaddon_ctx *ctx, const char *namespace_,
                                            const char *tenant_id, const char *app_id);

/**
 * The REDIS_URL the app receives: `REDIS_URL` of the `app-{app_id}-redis-url` Secret.
 * This returns a secret: the caller must not log it.
 *
 * @param[out] out receives the URL (valkeyaddon_buffer_new(); the buffer wipes it when freed)
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @return 0; VALKEYADDON_ENOTFOUND when the Secret or its key is missing;
 *         VALKEYADDON_EINVAL; a transport's error
 */
VALKEYADDON_API int valkeyaddon_redis_url(valkeyaddon_buffer *out, valkeyaddon_ctx *ctx, const char *namespace_,
                                          const char *tenant_id, const char *app_id);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_ENSURE_H */
