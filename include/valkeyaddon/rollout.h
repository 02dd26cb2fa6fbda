/**
 * @file valkeyaddon/rollout.h
 * @brief The live status of an add-on, and waiting until it is Ready.
 *
 * parse_valkey_status() is the spec's raw projection. The status reported
 * here also requires the StatefulSet's rollout to be complete, as
 * `kubectl rollout status` does: the controller has observed the latest
 * generation, every replica runs the current revision (updatedReplicas ==
 * replicas and currentRevision == updateRevision). A rollout in progress is
 * reported as Creating, never Ready (new pods are not serving yet) and never
 * Failed (a rolling update has partial readiness by design). Failed means: no
 * rollout in progress, and some but not all replicas ready.
 */
#ifndef VALKEYADDON_ROLLOUT_H
#define VALKEYADDON_ROLLOUT_H

#include "common.h"
#include "context.h"

VALKEYADDON_BEGIN_DECL

/** An add-on's live status. Set `version` (VALKEYADDON_STATUS_INFO_INIT does). */
typedef struct valkeyaddon_status_info {
    unsigned int version;        /**< VALKEYADDON_STATUS_INFO_VERSION */
    int status;                  /**< a valkeyaddon_status */
    int rollout_complete;        /**< 1 when the controller caught up with the latest spec */
    int32_t desired;             /**< spec.replicas */
    int32_t ready;               /**< status.readyReplicas */
    int32_t updated;             /**< status.updatedReplicas */
    int64_t generation;          /**< metadata.generation */
    int64_t observed_generation; /**< status.observedGeneration */
    char message[256];           /**< what an operator should know or do; never a secret */
    /* members above are valid for version 1; append only */
} valkeyaddon_status_info;

/** The status info version these headers describe. */
#define VALKEYADDON_STATUS_INFO_VERSION 1
/** Static initialiser. */
#define VALKEYADDON_STATUS_INFO_INIT { VALKEYADDON_STATUS_INFO_VERSION, 0, 0, 0, 0, 0, 0, 0, "" }

/**
 * Read the add-on's StatefulSet and report its status.
 *
 * @param[out] out filled on success
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @return 0; VALKEYADDON_ENOTFOUND when the add-on does not exist; VALKEYADDON_EINVAL;
 *         VALKEYADDON_EVERSION; a transport's error
 */
VALKEYADDON_API int valkeyaddon_addon_status(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx,
                                             const char *namespace_, const char *tenant_id, const char *app_id);

/**
 * Called on each status change while waiting.
 *
 * @param info the current status, valid during the call
 * @param payload as given
 * @return 0 to go on waiting, non-zero to stop (the wait returns it)
 */
typedef int (*valkeyaddon_progress_cb)(const valkeyaddon_status_info *info, void *payload);

/**
 * Wait until the add-on is Ready. Uses the transport's watch when it has one
 * (re-listing after 410 Gone), else reads the status once a second.
 *
 * @param[out] out the last status seen (on success: Ready); may be NULL
 * @param ctx the context, with a transport
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @param timeout_ms how long to wait
 * @param progress may be NULL
 * @param payload passed to progress
 * @return 0 when Ready; VALKEYADDON_ETIMEOUT at the deadline (out says whether it was
 *         Creating or Failed); the callback's non-zero value; another negative code
 */
VALKEYADDON_API int valkeyaddon_wait_ready(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *namespace_,
                                           const char *tenant_id, const char *app_id, long timeout_ms,
                                           valkeyaddon_progress_cb progress, void *payload);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_ROLLOUT_H */
