/*
 * Which add-on an object belongs to. Two id pairs can give one name
 * (`acme-prod`/`web` and `acme`/`prod-web` are both `valkey-acme-prod-web`),
 * so a name proves nothing: every object the library reads before it writes
 * or deletes must carry the labels valkeyaddon.io/tenant-id and
 * valkeyaddon.io/app-id of the caller's ids (objects/labels.c writes them on
 * every object). docs/threat-model.md explains why this, and not the name,
 * is what isolates tenants.
 */
#ifndef VALKEYADDON_OWNERSHIP_H
#define VALKEYADDON_OWNERSHIP_H

#include <stddef.h>

#include "valkeyaddon/sys/transport.h"
#include "objects/objects.h"

/*
 * 0 when the live object (JSON, len bytes) carries the addon's tenant and app
 * id labels; else VALKEYADDON_ECONFLICT with a message naming the object and
 * the ids it carries (never its data), or saying it has none.
 */
int valkeyaddon__check_owner(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                             const valkeyaddon_resource *resource, const char *name, const char *json, size_t len);

/* How a volume claim relates to an add-on. */
enum valkeyaddon__claim_owner {
    VALKEYADDON__CLAIM_OURS = 0,       /* labelled with the addon's ids */
    VALKEYADDON__CLAIM_UNLABELLED = 1, /* made by the StatefulSet controller from the template: no ids on it */
    VALKEYADDON__CLAIM_FOREIGN = 2     /* labelled with other ids, or not from this add-on's template */
};

/*
 * Classify a live claim. The StatefulSet controller copies the claim
 * template's labels (the selector: app.kubernetes.io/name and instance) and
 * nothing else, so a claim of a running add-on has no ids until deprovision
 * labels the ones it keeps; on FOREIGN the context says whose it is.
 */
int valkeyaddon__claim_owner(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, const char *name,
                             const char *json, size_t len);

#endif
