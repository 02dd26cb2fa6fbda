/*
 * The provision flow's entry points into ensure.c: the same work as
 * ensure_valkey() and ensure_redis_url_secret(), but the flow hands the
 * REDIS_URL from one to the other, so the auth Secret is read once per
 * provision (docs/request-economy.md).
 */
#ifndef VALKEYADDON_ENSURE_INTERNAL_H
#define VALKEYADDON_ENSURE_INTERNAL_H
#include <stddef.h>
#include "valkeyaddon/ensure.h"

/*
 * ensure_valkey(), also giving the auth Secret's uri as it now is (*uri,
 * valkeyaddon__malloc'd: free with valkeyaddon__free_secret) when uri is not NULL.
 */
int valkeyaddon__ensure_valkey(valkeyaddon_ensure_result *out, char **uri, valkeyaddon_ctx *ctx,
                               const char *namespace_, const char *tenant_id, const char *app_id, const char *plan);

/*
 * ensure_redis_url_secret() with the uri already known. fresh: the auth Secret
 * was just created, so the app Secret is applied without reading it first.
 */
int valkeyaddon__ensure_redis_url_with(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                                       const char *app_id, const char *uri, size_t uri_len, int fresh);
#endif
