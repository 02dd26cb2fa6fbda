/*
 * valkeyaddon_storage_open(): one string picks the backend, as the command
 * line's --database does. The URL may hold a database password: it never
 * reaches a message here, and the backends keep the same promise.
 */
#include "config.h"

#include <string.h>

#include "valkeyaddon/provision.h"
#include "valkeyaddon/storages.h"
#include "ctx.h"

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int open_postgres(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, const char *conninfo)
{
    valkeyaddon_postgres_options options = VALKEYADDON_POSTGRES_OPTIONS_INIT;

    options.conninfo = conninfo;
    return valkeyaddon_storage_postgres_new(out, ctx, &options);
}

int valkeyaddon_storage_open(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, const char *url)
{
    valkeyaddon_storage *s = NULL;
    int error;

    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    *out = NULL;
    if (!url || !*url)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "url: must not be empty");

    if (starts_with(url, "sqlite:"))
        error = valkeyaddon_storage_sqlite_new(&s, ctx, url + strlen("sqlite:"));
    else if (strcmp(url, "memory:") == 0)
        error = valkeyaddon_storage_memory_new(&s);
    else if (starts_with(url, "postgres://") || starts_with(url, "postgresql://") || strchr(url, '='))
        error = open_postgres(&s, ctx, url);
    else
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "url: not a database URL this library knows; use sqlite:PATH, memory:, "
                                  "postgres://..., postgresql://... or libpq keyword=value pairs");
    if (error < 0) {
        if (error == VALKEYADDON_ENOMEM && ctx->error_code == 0)
            valkeyaddon__error(ctx, error, "out of memory opening the storage");
        return error;
    }
    /* A tool opening by URL expects a usable store: create the schema when missing. */
    if (s->migrate && (error = s->migrate(s, ctx)) < 0) {
        s->free(s);
        return valkeyaddon__storage_failed(ctx, error, "creating the schema");
    }
    *out = s;
    return VALKEYADDON_OK;
}
