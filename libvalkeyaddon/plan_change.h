/* Plan changes that Kubernetes will not apply in place (docs/objects.md, "Plan changes"). */
#ifndef VALKEYADDON_INTERNAL_PLAN_CHANGE_H
#define VALKEYADDON_INTERNAL_PLAN_CHANGE_H

#include "valkeyaddon/context.h"
#include "objects/objects.h"

/* 1 when the last failure on ctx is the API server refusing a change to an immutable StatefulSet field. */
int valkeyaddon__is_immutable_statefulset_refusal(valkeyaddon_ctx *ctx, int error);

/*
 * Re-create the StatefulSet with the new spec without touching its pods'
 * data: delete it with propagationPolicy=Orphan (pods and volume claims stay),
 * wait until it is gone, apply the new one (it adopts the pods and claims by
 * name), then grow the existing claims to the plan's volume size, or delete
 * them when the plan has no volume.
 */
int valkeyaddon__recreate_statefulset(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                                      const struct valkeyaddon__object *statefulset);

/* Delete the claims data-{name}-0..2 (left behind by an orphaning re-create); absent ones are fine. */
int valkeyaddon__delete_volume_claims(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, int *deleted);

#endif
