/* Context lifecycle, error detail and logging. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "valkeyaddon/context.h"
#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"

static int level_is_valid(int level)
{
    return level >= VALKEYADDON_LOG_NONE && level <= VALKEYADDON_LOG_DEBUG;
}

int valkeyaddon_ctx_options_init(valkeyaddon_ctx_options *options, unsigned int version)
{
    if (!options)
        return VALKEYADDON_EINVAL;
    if (version == 0 || version > VALKEYADDON_CTX_OPTIONS_VERSION)
        return VALKEYADDON_EVERSION;
    memset(options, 0, sizeof(*options));
    options->version = version;
    return VALKEYADDON_OK;
}

int valkeyaddon_ctx_new(valkeyaddon_ctx **out, const valkeyaddon_ctx_options *options)
{
    valkeyaddon_ctx *ctx;

    if (!out)
        return VALKEYADDON_EINVAL;
    if (options) {
        if (options->version == 0 || options->version > VALKEYADDON_CTX_OPTIONS_VERSION)
            return VALKEYADDON_EVERSION;
        if (!level_is_valid(options->log_level))
            return VALKEYADDON_EINVAL;
    }
    ctx = valkeyaddon__calloc(1, sizeof(*ctx));
    if (!ctx)
        return VALKEYADDON_ENOMEM;
    if (valkeyaddon__object_options_init(&ctx->object_options) < 0) {
        valkeyaddon__free(ctx);
        return VALKEYADDON_ENOMEM;
    }
    if (options) {
        ctx->log_level = options->log_level;
        ctx->log_cb = options->log_cb;
        ctx->log_payload = options->log_payload;
    }
    *out = ctx;
    return VALKEYADDON_OK;
}

void valkeyaddon_ctx_free(valkeyaddon_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->transport && ctx->transport->free)
        ctx->transport->free(ctx->transport);
    if (ctx->storage && ctx->storage->free)
        ctx->storage->free(ctx->storage);
    valkeyaddon__object_options_clear(&ctx->object_options);
    valkeyaddon__free(ctx);
}

const char *valkeyaddon_ctx_error_message(const valkeyaddon_ctx *ctx)
{
    return ctx ? ctx->error_message : "";
}

int valkeyaddon_ctx_error_code(const valkeyaddon_ctx *ctx)
{
    return ctx ? ctx->error_code : 0;
}

void valkeyaddon_ctx_clear_error(valkeyaddon_ctx *ctx)
{
    valkeyaddon__begin(ctx);
}

int valkeyaddon_ctx_set_log(valkeyaddon_ctx *ctx, int level, valkeyaddon_log_cb cb, void *payload)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!level_is_valid(level))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "level: %d is not a log level (0 to %d)", level, VALKEYADDON_LOG_DEBUG);
    ctx->log_level = level;
    ctx->log_cb = cb;
    ctx->log_payload = payload;
    return VALKEYADDON_OK;
}

void valkeyaddon__begin(valkeyaddon_ctx *ctx)
{
    if (!ctx)
        return;
    ctx->error_code = 0;
    ctx->error_message[0] = '\0';
}

static void emit(valkeyaddon_ctx *ctx, int level, const char *message)
{
    if (ctx->log_cb && level <= ctx->log_level)
        ctx->log_cb(level, message, ctx->log_payload);
}

int valkeyaddon__error(valkeyaddon_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;

    if (!ctx)
        return code;
    va_start(ap, fmt);
    vsnprintf(ctx->error_message, sizeof(ctx->error_message), fmt, ap);
    va_end(ap);
    ctx->error_code = code;
    /* A probe's "not found" is the answer it asked for; only failures reach the caller's ERROR log. */
    emit(ctx, code == VALKEYADDON_ENOTFOUND && ctx->not_found_expected > 0 ? VALKEYADDON_LOG_DEBUG : VALKEYADDON_LOG_ERROR,
         ctx->error_message);
    return code;
}

void valkeyaddon__log(valkeyaddon_ctx *ctx, int level, const char *fmt, ...)
{
    char line[VALKEYADDON__MESSAGE_SIZE];
    va_list ap;

    if (!ctx || !ctx->log_cb || level > ctx->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    emit(ctx, level, line);
}
