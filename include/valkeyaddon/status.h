/**
 * @file valkeyaddon/status.h
 * @brief The operator-facing status vocabulary.
 *
 * parse_valkey_status() projects StatefulSet readiness exactly as the spec's
 * table says: ready == desired (both > 0) is Ready, ready == 0 is Creating,
 * 0 < ready < desired is Failed. The corners the table leaves open:
 * - desired == 0 (scaled to zero): Creating, whatever `ready` is. Nothing is
 *   serving, so it is not Ready; nothing died, so it is not Failed.
 * - ready > desired > 0 (a scale-down in progress: surplus pods still
 *   terminating): Ready, because every desired replica is ready.
 * - a negative count: VALKEYADDON_EINVAL (counts come from the API server,
 *   which never sends them; a negative one means a caller bug).
 *
 * This raw projection knows nothing of rollouts; the status the library reports
 * for a live add-on also requires the rollout to be complete (later releases).
 */
#ifndef VALKEYADDON_STATUS_H
#define VALKEYADDON_STATUS_H

#include "common.h"

VALKEYADDON_BEGIN_DECL

/** Add-on statuses. Never 0, so an unset value is not mistaken for one. */
typedef enum valkeyaddon_status {
    VALKEYADDON_STATUS_CREATING = 1, /**< no replica ready yet */
    VALKEYADDON_STATUS_READY = 2,    /**< every desired replica ready */
    VALKEYADDON_STATUS_FAILED = 3    /**< some but not all replicas ready: one died or the rollout stalled */
} valkeyaddon_status;

/**
 * Project StatefulSet readiness into the status vocabulary.
 *
 * @param ready status.readyReplicas
 * @param desired spec.replicas
 * @return a valkeyaddon_status, or VALKEYADDON_EINVAL for a negative count
 */
VALKEYADDON_API int parse_valkey_status(int32_t ready, int32_t desired);

/**
 * The display name of a status: "Creating", "Ready" or "Failed".
 *
 * @param status a valkeyaddon_status
 * @return a static string owned by the library, or NULL for any other value
 */
VALKEYADDON_API const char *valkeyaddon_status_name(int status);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_STATUS_H */
