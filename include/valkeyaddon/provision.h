/**
 * @file valkeyaddon/provision.h
 * @brief The whole provision flow of the spec's sequence diagram, over a
 *        context holding a transport and a storage.
 *
 * validate type and plan → upsert the `app_addons` row as `creating` →
 * ensure_valkey() → ensure_redis_url_secret() → wait until Ready, Failed or
 * the deadline → record `ready` or `failed` with a message for the operator.
 * Every step is idempotent: calling the flow again converges (the spec's
 * recovery column, "re-call POST /addons").
 */
#ifndef VALKEYADDON_PROVISION_H
#define VALKEYADDON_PROVISION_H

#include "common.h"
#include "context.h"
#include "rollout.h"
#include "ensure.h"
#include "sys/storage.h"

VALKEYADDON_BEGIN_DECL

/** The addon_type this library provisions. */
#define VALKEYADDON_ADDON_TYPE "valkey"

/** Options of valkeyaddon_provision(). */
typedef struct valkeyaddon_provision_options {
    unsigned int version;              /**< VALKEYADDON_PROVISION_OPTIONS_VERSION */
    const char *namespace_;            /**< the tenant namespace; required */
    const char *tenant_id;             /**< required */
    const char *app_id;                /**< required */
    const char *addon_type;            /**< NULL or "valkey"; anything else is VALKEYADDON_EINVAL */
    const char *plan;                  /**< NULL: "free"; unknown: an existing add-on keeps its plan, a new one gets free; the row says which */
    int no_wait;                       /**< 1: record `creating` after the objects are written and return */
    long timeout_ms;                   /**< how long to wait for Ready; 0: 5 minutes */
    valkeyaddon_progress_cb progress;  /**< may be NULL; called as the rollout moves (return non-zero to stop) */
    void *progress_payload;            /**< passed to progress; the library never touches it */
    /* members above are valid for version 1; append only */
    int allow_data_loss;               /**< as valkeyaddon_ensure_options.allow_data_loss */
    /* members above are valid for version 2; append only */
} valkeyaddon_provision_options;

/** The options version these headers describe. */
#define VALKEYADDON_PROVISION_OPTIONS_VERSION 2
/** Static initialiser for valkeyaddon_provision_options. */
#define VALKEYADDON_PROVISION_OPTIONS_INIT \
    { VALKEYADDON_PROVISION_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0 }

/**
 * Run the provision flow.
 * @param[out] out may be NULL; its version must be set; receives the row as
 *        last recorded (also on VALKEYADDON_ETIMEOUT and VALKEYADDON_EFAILED)
 * Before anything is written, a row of this app_id recorded under another
 * tenant is VALKEYADDON_ECONFLICT (one tenant never takes over another's
 * record), as is any object of the add-on that belongs to other ids
 * (ensure_valkey()).
 * @return 0 when the add-on is Ready (or, with no_wait, its objects are
 *         written and the row says `creating`); VALKEYADDON_ETIMEOUT when
 *         still Creating at the deadline and VALKEYADDON_EFAILED when only
 *         partly ready at the deadline (the row says `failed` with the
 *         reason and what to do); VALKEYADDON_EINVAL for bad options (nothing
 *         is written); another negative code when the cluster or the store
 *         failed (the row, when it could be written, says `failed`)
 * @param[out] ensured may be NULL; its version must be set; receives what
 *        ensure_valkey() did (password created, objects written)
 */
VALKEYADDON_API int valkeyaddon_provision(valkeyaddon_addon_row *out, valkeyaddon_ensure_result *ensured,
                                          valkeyaddon_ctx *ctx, const valkeyaddon_provision_options *options);

/**
 * Read the add-on's status from the cluster and record it in its row.
 * @param[out] out receives the updated row
 * @param[out] info may be NULL; receives what the cluster said
 * @return 0; VALKEYADDON_ENOTFOUND when there is no row (a row whose
 *         StatefulSet is gone is recorded `failed`, with "re-run provision")
 */
VALKEYADDON_API int valkeyaddon_refresh_status(valkeyaddon_addon_row *out, valkeyaddon_status_info *info,
                                               valkeyaddon_ctx *ctx, const char *namespace_,
                                               const char *tenant_id, const char *app_id);

/**
 * Read the add-on's row from the context's storage.
 * @param addon_type NULL: "valkey"
 * @return 0; VALKEYADDON_ENOTFOUND; a negative code
 */
VALKEYADDON_API int valkeyaddon_addon_get(valkeyaddon_addon_row *out, valkeyaddon_ctx *ctx, const char *app_id,
                                          const char *addon_type);

/**
 * List rows of one app (or all when app_id is NULL), in (app_id, addon_type) order.
 * @return 0; the callback's non-zero value; a negative code
 */
VALKEYADDON_API int valkeyaddon_addon_list(valkeyaddon_ctx *ctx, const char *app_id, valkeyaddon_row_cb callback,
                                           void *payload);

/**
 * Create the context's storage schema if it is missing (its `migrate` member).
 * @return 0; VALKEYADDON_EINVAL when the context has no storage; the storage's code
 */
VALKEYADDON_API int valkeyaddon_storage_migrate(valkeyaddon_ctx *ctx);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_PROVISION_H */
