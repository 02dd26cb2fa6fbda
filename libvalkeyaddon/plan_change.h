/* Plan changes that Kubernetes will not apply in place, and the data they could lose (docs/objects.md). */
#ifndef VALKEYADDON_INTERNAL_PLAN_CHANGE_H
#define VALKEYADDON_INTERNAL_PLAN_CHANGE_H

#include "valkeyaddon/context.h"
#include "live.h"
#include "objects/objects.h"

/* The plans have at most three replicas; claims beyond are never created. */
#define VALKEYADDON__MAX_ORDINALS 3

/* 1 when the last failure on ctx is the API server refusing a change to an immutable StatefulSet field. */
int valkeyaddon__is_immutable_statefulset_refusal(valkeyaddon_ctx *ctx, int error);

/*
 * Before anything is written: VALKEYADDON_EDATALOSS, unless allowed, when the
 * live StatefulSet (sts; absent is fine) has a data volume and the addon's
 * plan has none, or a smaller one. The message names both plans and the option.
 */
int valkeyaddon__check_data_loss(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                                 const struct valkeyaddon__live *sts, int allow_data_loss);

/*
 * Before a StatefulSet is created (sts absent) with a data volume: the claims
 * it would adopt by name (data-{name}-{i}) must be this add-on's, kept by an
 * earlier deprovision; a claim of other ids, or one nobody labelled, is
 * VALKEYADDON_ECONFLICT, so no add-on ever starts on another's data. An
 * unlabelled claim sends the StatefulSet to be read again (into live):
 * VALKEYADDON__STATEFULSET_APPEARED when a concurrent provision created it.
 */
#define VALKEYADDON__STATEFULSET_APPEARED 1
int valkeyaddon__check_claims(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                              struct valkeyaddon__live_set *live, const struct valkeyaddon__live *sts);

/*
 * Re-create the StatefulSet with the new spec: delete it with
 * propagationPolicy=Orphan (pods and volume claims stay), wait until it is
 * gone, apply the new one (it adopts the pods and claims by name and rolls the
 * pods), then grow the existing claims to the plan's volume size, or, for a
 * plan without a volume (only reached with allow_data_loss), delete this
 * add-on's claims.
 */
int valkeyaddon__recreate_statefulset(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                                      const struct valkeyaddon__object *statefulset);

/* Poll until the StatefulSet is gone (an orphaning delete completes when the garbage collector drops its finalizer). */
int valkeyaddon__wait_statefulset_gone(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon);

/* data-{name}-{ordinal}: the StatefulSet controller's naming, <template>-<statefulset>-<ordinal>. */
void valkeyaddon__claim_name(char *out, size_t size, const struct valkeyaddon__addon *addon, int ordinal);

#endif
