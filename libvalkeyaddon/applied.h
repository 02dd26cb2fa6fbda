/*
 * The request economy (docs/request-economy.md): every object we apply is
 * stamped with valkeyaddon.io/applied-hash, and an object whose live copy
 * already carries the stamp and every field of our body is not applied again.
 */
#ifndef VALKEYADDON_APPLIED_H
#define VALKEYADDON_APPLIED_H
#include <stddef.h>
#include "valkeyaddon/context.h"
#include "objects/objects.h"

/* The annotation holding the SHA-256 (hex) of the body we apply, without the annotation itself. */
#define VALKEYADDON__APPLIED_HASH "valkeyaddon.io/applied-hash"

/*
 * Add the annotation to object->json (replaced in place). For a Secret the
 * hash covers the data keys but not their values, so the annotation reveals
 * nothing about the password. 0, VALKEYADDON_ENOMEM or VALKEYADDON_ERROR.
 */
int valkeyaddon__stamp_object(valkeyaddon_ctx *ctx, struct valkeyaddon__object *object);
/*
 * The same; reparse = 1 ignores the builder's mark and takes the definition:
 * parse the body and rewrite it (tests check both give the same bytes).
 */
int valkeyaddon__stamp_object_by(valkeyaddon_ctx *ctx, struct valkeyaddon__object *object, int reparse);

/*
 * 1 when live (an object's JSON as read back) holds every path of the stamped
 * object's body with the same value (Secret data compared decoded, resource
 * quantities by value, a zero value matching an absent field); 0 otherwise,
 * including when live cannot be parsed or memory runs out (then we apply).
 */
int valkeyaddon__object_is_current(const struct valkeyaddon__object *object, const char *live);

/*
 * 1 when a StatefulSet's JSON reports fewer ready replicas than it asks for.
 * Only asked of transports that are not clusters (they have `address`): with
 * no controller there, an unchanged StatefulSet whose servers died is
 * realised again only by writing it (docs/request-economy.md).
 */
int valkeyaddon__statefulset_unrealised(const char *live);
/* A resource quantity ("256Mi", "100m", "1.5G") as a number in *out: 1, or 0 when s is not one. */
int valkeyaddon__quantity(const char *s, long double *out);
#endif
