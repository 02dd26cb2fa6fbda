/*
 * Transport calls whose "not found" is an expected answer: a first provision
 * reads objects that do not exist yet, a deprovision deletes objects that may be
 * gone. The 404 still comes back as VALKEYADDON_ENOTFOUND, but it is logged at
 * DEBUG instead of ERROR, so a control plane logging at ERROR sees only the
 * failures it is handed. A caller that turns the answer into its own failure
 * reports it again with valkeyaddon__error(), which logs at ERROR.
 */
#ifndef VALKEYADDON_PROBE_H
#define VALKEYADDON_PROBE_H

#include <valkeyaddon/sys/transport.h>

int valkeyaddon__probe_get(valkeyaddon_buffer *out, valkeyaddon_transport *t, valkeyaddon_ctx *ctx,
                           const valkeyaddon_resource *resource, const char *namespace_, const char *name);
int valkeyaddon__probe_remove(valkeyaddon_transport *t, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                              const char *namespace_, const char *name, unsigned int flags);

#endif
