/* Registration of a transport on a context, and error reporting for plugins. */
#include "config.h"

#include <stdio.h>

#include "valkeyaddon/sys/transport.h"
#include "ctx.h"
#include "probe.h"

int valkeyaddon_ctx_set_transport(valkeyaddon_ctx *ctx, valkeyaddon_transport *transport)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!transport)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "transport: must not be NULL");
    if (transport->version == 0 || transport->version > VALKEYADDON_TRANSPORT_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "transport->version: %u is not a transport version this library knows (1 to %d)",
                                  transport->version, VALKEYADDON_TRANSPORT_VERSION);
    if (!transport->get || !transport->create || !transport->apply || !transport->remove || !transport->free)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "transport: get, create, apply, remove and free are required members");
    if (ctx->transport && ctx->transport != transport)
        ctx->transport->free(ctx->transport);
    ctx->transport = transport;
    return VALKEYADDON_OK;
}

int valkeyaddon_ctx_set_error(valkeyaddon_ctx *ctx, int code, const char *message)
{
    return valkeyaddon__error(ctx, code, "%s", message ? message : valkeyaddon_strerror(code));
}

int valkeyaddon__probe_get(valkeyaddon_buffer *out, valkeyaddon_transport *t, valkeyaddon_ctx *ctx,
                           const valkeyaddon_resource *resource, const char *namespace_, const char *name)
{
    int error;

    ctx->not_found_expected++;
    error = t->get(out, t, ctx, resource, namespace_, name);
    ctx->not_found_expected--;
    return error;
}

int valkeyaddon__probe_remove(valkeyaddon_transport *t, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                              const char *namespace_, const char *name, unsigned int flags)
{
    int error;

    ctx->not_found_expected++;
    error = t->remove(t, ctx, resource, namespace_, name, flags);
    ctx->not_found_expected--;
    return error;
}
