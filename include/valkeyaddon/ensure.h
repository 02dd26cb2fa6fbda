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
    /**
     * 1 when the plan asked for was unknown and the add-on, which exists
     * already, kept its plan (`plan` names it): a typo never changes an
     * existing add-on. A new add-on still falls back to `free`.
     */
    int plan_kept;
    /**
     * 1 when this call created the auth Secret while the StatefulSet already
     * existed (the Secret was deleted or restored by hand): the pods are being
     * rolled so that they start with the new password, and the status is not
     * Ready until they all run with it.
     */
    int password_rollout;
    /* members above are valid for version 2; append only */
} valkeyaddon_ensure_result;

/** The result version these headers describe. */
#define VALKEYADDON_ENSURE_RESULT_VERSION 2
/** Static initialiser for valkeyaddon_ensure_result. */
#define VALKEYADDON_ENSURE_RESULT_INIT { VALKEYADDON_ENSURE_RESULT_VERSION, "", "", "", 0, 0, 0, 0, 0 }

/** Options of valkeyaddon_ensure_valkey_with() (1.1). */
typedef struct valkeyaddon_ensure_options {
    unsigned int version;   /**< VALKEYADDON_ENSURE_OPTIONS_VERSION */
    const char *namespace_; /**< the tenant namespace; required */
    const char *tenant_id;  /**< required */
    const char *app_id;     /**< required */
    const char *plan;       /**< NULL: "free"; unknown: the existing add-on keeps its plan, a new one gets free */
    /**
     * 1: allow a plan change that deletes data: to a plan without persistence
     * (the volume claims are deleted once the pods have moved off them) or to
     * a smaller volume. 0 (the default): such a change is refused with
     * VALKEYADDON_EDATALOSS and nothing is written.
     */
    int allow_data_loss;
    /* members above are valid for version 1; append only */
} valkeyaddon_ensure_options;

/** The options version these headers describe. */
#define VALKEYADDON_ENSURE_OPTIONS_VERSION 1
/** Static initialiser for valkeyaddon_ensure_options. */
#define VALKEYADDON_ENSURE_OPTIONS_INIT { VALKEYADDON_ENSURE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0 }

/**
 * Ensure the add-on's objects: the `{name}-auth` Secret (created once, never
 * rotated), the headless and ClusterIP Services, the StatefulSet and any
 * extras enabled in the object options, by server-side apply with the
 * context's field manager (force). A plan change converges, unless it would
 * delete data (see valkeyaddon_ensure_valkey_with()).
 *
 * Isolation: every object is read before anything is written, and each one
 * that exists must carry the labels `valkeyaddon.io/tenant-id` and
 * `valkeyaddon.io/app-id` of these ids. An object of another add-on (two id
 * pairs can give one name) or one without these labels (created by someone
 * else) is VALKEYADDON_ECONFLICT, naming the object and its owner's ids, and
 * nothing is written.
 *
 * @param[out] out may be NULL; else filled on success (`version` set by the caller)
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace (a DNS-1123 label)
 * @param tenant_id the tenant id (naming.h)
 * @param app_id the app id (naming.h)
 * @param plan the plan; an unknown one falls back to `free` for a new add-on
 *        and keeps the plan of an existing one (both reported in out)
 * @return 0; VALKEYADDON_EINVAL (bad argument, or no transport set);
 *         VALKEYADDON_EVERSION (out->version); VALKEYADDON_ECONFLICT when an
 *         object belongs to another add-on or to someone else, or the auth
 *         Secret exists without a usable password (nothing is changed: an
 *         operator must repair or delete it); VALKEYADDON_EDATALOSS when the
 *         plan change would delete data (nothing is changed); a transport's error
 */
VALKEYADDON_API int ensure_valkey(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, const char *namespace_,
                                  const char *tenant_id, const char *app_id, const char *plan);

/**
 * ensure_valkey() with options (1.1): the same work, and `allow_data_loss`.
 *
 * @param[out] out may be NULL; else filled on success (`version` set by the caller)
 * @param ctx the context, with a transport
 * @param options required; copied, never retained
 * @return as ensure_valkey(); VALKEYADDON_EVERSION for an options version
 *         this library does not know
 */
VALKEYADDON_API int valkeyaddon_ensure_valkey_with(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx,
                                                   const valkeyaddon_ensure_options *options);

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
 * Delete the add-on's objects and keep its data: valkeyaddon_deprovision_with()
 * with `delete_data` 0. Objects already gone count as deleted: calling it
 * again succeeds.
 *
 * @param[out] deleted may be NULL; receives how many objects this call deleted
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @return 0, VALKEYADDON_EINVAL, VALKEYADDON_ECONFLICT (an object belongs to
 *         another add-on: nothing is deleted), or a transport's error
 */
VALKEYADDON_API int valkeyaddon_deprovision(int *deleted, valkeyaddon_ctx *ctx, const char *namespace_,
                                            const char *tenant_id, const char *app_id);

/** Options of valkeyaddon_deprovision_with() (1.1). */
typedef struct valkeyaddon_deprovision_options {
    unsigned int version;   /**< VALKEYADDON_DEPROVISION_OPTIONS_VERSION */
    const char *namespace_; /**< the tenant namespace; required */
    const char *tenant_id;  /**< required */
    const char *app_id;     /**< required */
    /**
     * 1: delete the data volumes (PersistentVolumeClaims `data-{name}-{i}`)
     * too. 0 (the default): keep them, labelled with this add-on's ids, so a
     * later provision of the same ids gets its data back and no other add-on
     * can take them over.
     */
    int delete_data;
    /* members above are valid for version 1; append only */
} valkeyaddon_deprovision_options;

/** The options version these headers describe. */
#define VALKEYADDON_DEPROVISION_OPTIONS_VERSION 1
/** Static initialiser for valkeyaddon_deprovision_options. */
#define VALKEYADDON_DEPROVISION_OPTIONS_INIT { VALKEYADDON_DEPROVISION_OPTIONS_VERSION, NULL, NULL, NULL, 0 }

/** What valkeyaddon_deprovision_with() did. Set `version`. */
typedef struct valkeyaddon_deprovision_result {
    unsigned int version;    /**< VALKEYADDON_DEPROVISION_RESULT_VERSION */
    int32_t deleted;         /**< objects this call deleted (volume claims included) */
    int32_t claims_deleted;  /**< volume claims this call deleted */
    int32_t claims_kept;     /**< volume claims left in place (their names in kept_claims) */
    char kept_claims[512];   /**< the kept claims' names, comma-separated ("" when none) */
    /* members above are valid for version 1; append only */
} valkeyaddon_deprovision_result;

/** The result version these headers describe. */
#define VALKEYADDON_DEPROVISION_RESULT_VERSION 1
/** Static initialiser for valkeyaddon_deprovision_result. */
#define VALKEYADDON_DEPROVISION_RESULT_INIT { VALKEYADDON_DEPROVISION_RESULT_VERSION, 0, 0, 0, "" }

/**
 * Delete the add-on (1.1): every object is read first and must belong to
 * these ids (else VALKEYADDON_ECONFLICT and nothing is deleted). Then the
 * app-side Secret, the extras, the StatefulSet (with
 * `propagationPolicy: Orphan`, so no volume claim goes with it whatever its
 * retention policy says), its pods, both Services, the volume claims when
 * `delete_data` is set, the auth Secret last (so a failure half-way leaves
 * the password and a retry converges) and the row in the context's storage.
 *
 * @param[out] out may be NULL; receives what was deleted and which claims were kept
 * @param ctx the context, with a transport
 * @param options required; copied, never retained
 * @return as valkeyaddon_deprovision()
 */
VALKEYADDON_API int valkeyaddon_deprovision_with(valkeyaddon_deprovision_result *out, valkeyaddon_ctx *ctx,
                                                 const valkeyaddon_deprovision_options *options);

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
