/*
 * The one ensure behind ensure_valkey(), valkeyaddon_ensure_valkey_with()
 * and the provision flow. The flow also has it converge the app Secret with
 * the REDIS_URL in hand, so that every object (the app Secret included) is
 * read and its owner checked before the first write, and the auth Secret is
 * read once per provision (docs/request-economy.md).
 */
#ifndef VALKEYADDON_ENSURE_INTERNAL_H
#define VALKEYADDON_ENSURE_INTERNAL_H
#include <stddef.h>
#include "valkeyaddon/ensure.h"

struct valkeyaddon__ensure_request {
    const char *namespace_;
    const char *tenant_id;
    const char *app_id;
    const char *plan;          /* NULL: free */
    /* When plan is unknown and no StatefulSet names its plan: the plan to keep (the flow's row), or NULL. */
    const char *recorded_plan;
    int allow_data_loss;
    int with_app_secret;       /* also converge app-{app_id}-redis-url */
    const char *step;          /* out: the step that failed ("ensure_valkey" or "ensure_redis_url_secret") */
};

/* ensure_valkey() as the request says. */
int valkeyaddon__ensure(valkeyaddon_ensure_result *out, valkeyaddon_ctx *ctx, struct valkeyaddon__ensure_request *req);
#endif
