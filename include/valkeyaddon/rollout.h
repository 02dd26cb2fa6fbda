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
 * Wait until the add-on is Ready. Reads the StatefulSet, then watches it from
 * that read's resourceVersion, as client-go's informers do (a server whose
 * etcd lacks progress notifications refuses a watch from "now"); re-reads and
 * re-watches after 410 Gone. Without a watch, or when the server cannot watch
 * (the watch is refused with 405, 5xx or another non-transient answer), reads
 * the status once a second until the same deadline.
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
 *         Creating or Failed); VALKEYADDON_EFAILED when the rollout made no progress
 *         for the progress deadline (out: Failed, its message names the stalled pod or
 *         StatefulSet); the callback's non-zero value; another negative code
 */
VALKEYADDON_API int valkeyaddon_wait_ready(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *namespace_,
                                           const char *tenant_id, const char *app_id, long timeout_ms,
                                           valkeyaddon_progress_cb progress, void *payload);

/** The progress deadline valkeyaddon_wait_ready() uses unless told otherwise: 600 s, a Deployment's default. */
#define VALKEYADDON_PROGRESS_DEADLINE_MS_DEFAULT 600000L

/**
 * Set how long a wait accepts a rollout that makes no progress.
 *
 * StatefulSets have no progressDeadlineSeconds; the library defines progress
 * as a change in any of status.observedGeneration, updatedReplicas,
 * readyReplicas, currentRevision (or spec.replicas). When none changes for
 * this long and the add-on is not Ready, valkeyaddon_wait_ready() (and so
 * valkeyaddon_provision()) ends with VALKEYADDON_EFAILED, status Failed and a
 * message naming what stalled, as `kubectl rollout status` does for a
 * Deployment past its progress deadline.
 *
 * @param ctx the context (the setting lives there, for every later wait)
 * @param ms milliseconds; 0 disables the progress deadline (a wait then ends
 *        only at its own timeout)
 * @return 0; VALKEYADDON_EINVAL for a NULL ctx or a negative ms
 */
VALKEYADDON_API int valkeyaddon_ctx_set_progress_deadline(valkeyaddon_ctx *ctx, long ms);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_ROLLOUT_H */
