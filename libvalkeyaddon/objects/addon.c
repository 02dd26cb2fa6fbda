/* The kinds the library sends, and the names and URI of one add-on. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "objects.h"

const valkeyaddon_resource valkeyaddon__secret_resource = { "v1", "Secret", "secrets", 1 };
const valkeyaddon_resource valkeyaddon__service_resource = { "v1", "Service", "services", 1 };
const valkeyaddon_resource valkeyaddon__pod_resource = { "v1", "Pod", "pods", 1 };
const valkeyaddon_resource valkeyaddon__pvc_resource = { "v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1 };
const valkeyaddon_resource valkeyaddon__statefulset_resource = { "apps/v1", "StatefulSet", "statefulsets", 1 };
const valkeyaddon_resource valkeyaddon__pdb_resource = { "policy/v1", "PodDisruptionBudget",
                                                         "poddisruptionbudgets", 1 };
const valkeyaddon_resource valkeyaddon__networkpolicy_resource = { "networking.k8s.io/v1", "NetworkPolicy",
                                                                   "networkpolicies", 1 };
const valkeyaddon_resource valkeyaddon__servicemonitor_resource = { "monitoring.coreos.com/v1", "ServiceMonitor",
                                                                    "servicemonitors", 1 };

/* Namespaces are DNS-1123 labels. */
static int check_namespace(valkeyaddon_ctx *ctx, const char *ns)
{
    size_t len, i;

    if (!ns)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "namespace: must not be NULL");
    len = strlen(ns);
    if (len == 0 || len > 63)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "namespace: must have 1 to 63 characters, not %zu", len);
    for (i = 0; i < len; i++)
        if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= '0' && ns[i] <= '9') || ns[i] == '-'))
            return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                      "namespace: character at position %zu is not allowed; "
                                      "a namespace uses only a-z, 0-9 and '-'", i + 1);
    if (ns[0] == '-' || ns[len - 1] == '-')
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "namespace: must not start or end with '-'");
    return VALKEYADDON_OK;
}

int valkeyaddon__addon_init(struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx, const char *namespace_,
                            const char *tenant_id, const char *app_id, const valkeyaddon_plan_config *plan,
                            const struct valkeyaddon__object_options *options)
{
    int error;

    memset(addon, 0, sizeof(*addon));
    if ((error = check_namespace(ctx, namespace_)) < 0)
        return error;
    if ((error = valkey_name(addon->name, sizeof(addon->name), ctx, tenant_id, app_id)) < 0 ||
        (error = valkeyaddon_auth_secret_name(addon->auth_secret, sizeof(addon->auth_secret), ctx, addon->name)) < 0 ||
        (error = valkeyaddon_redis_url_secret_name(addon->redis_url_secret, sizeof(addon->redis_url_secret), ctx,
                                                   app_id)) < 0)
        return error;
    /* 52 + "-headless" = 61: still a DNS-1035 label, as a Service name must be. */
    memcpy(addon->headless_service, addon->name, strlen(addon->name));
    memcpy(addon->headless_service + strlen(addon->name), "-headless", sizeof("-headless"));
    addon->namespace_ = namespace_;
    addon->tenant_id = tenant_id;
    addon->app_id = app_id;
    addon->plan = plan;
    addon->options = options;
    addon->port = 6379;
    if (snprintf(addon->host, sizeof(addon->host), "%s.%s.svc.%s", addon->name, namespace_, options->cluster_domain) >=
        (int)sizeof(addon->host))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "cluster_domain: the Service's DNS name would exceed 253 characters");
    return VALKEYADDON_OK;
}

/*
 * A transport that is not a cluster (the local one) says where the Service
 * really listens, so that the auth Secret's uri is right from its first write.
 */
int valkeyaddon__addon_address(struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx)
{
    valkeyaddon_transport *t = ctx->transport;
    valkeyaddon_buffer host = VALKEYADDON__BUFFER_INIT;
    int32_t port = 0;
    int error;

    if (t->version < 2 || !t->address)
        return VALKEYADDON_OK;
    if ((error = t->address(&host, &port, t, ctx, addon->namespace_, addon->name)) < 0) {
        valkeyaddon__buffer_dispose(&host);
        if (!ctx->error_code)
            valkeyaddon__error(ctx, error, "the transport could not tell the address of Service %s/%s: %s",
                               addon->namespace_, addon->name, valkeyaddon_strerror(error));
        return error;
    }
    if (!host.data || host.len == 0 || host.len >= sizeof(addon->host) || strlen(host.data) != host.len ||
        port <= 0 || port > 65535) {
        valkeyaddon__buffer_dispose(&host);
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "the transport gave an unusable address for Service %s/%s (host 1 to 255 "
                                  "characters, port 1 to 65535)", addon->namespace_, addon->name);
    }
    memcpy(addon->host, host.data, host.len + 1);
    addon->port = (int)port;
    valkeyaddon__buffer_dispose(&host);
    return VALKEYADDON_OK;
}

int valkeyaddon__addon_call(struct valkeyaddon__addon *addon, valkeyaddon_plan_config *plan, valkeyaddon_ctx *ctx,
                            const char *namespace_, const char *tenant_id, const char *app_id)
{
    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (!ctx->transport)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "ctx: has no transport (set one with valkeyaddon_ctx_set_transport())");
    plan->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    if (valkey_plan_config(plan, NULL, "free") < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "internal: no free plan");
    return valkeyaddon__addon_init(addon, ctx, namespace_, tenant_id, app_id, plan, &ctx->object_options);
}

char *valkeyaddon__service_host(const struct valkeyaddon__addon *addon)
{
    return valkeyaddon__strdup(addon->host);
}

char *valkeyaddon__redis_uri(const struct valkeyaddon__addon *addon, const char *password)
{
    /* The ACL user is named: redis-cli 7.0 (Debian 12) reads "redis://:PW@" as user "" and fails. */
    const char *fmt = "redis://default:%s@%s:%d";
    int len = snprintf(NULL, 0, fmt, password, addon->host, addon->port);
    char *uri;

    if (len < 0 || !(uri = valkeyaddon__malloc((size_t)len + 1)))
        return NULL;
    snprintf(uri, (size_t)len + 1, fmt, password, addon->host, addon->port);
    return uri;
}

void valkeyaddon__object_clear(struct valkeyaddon__object *object)
{
    if (object->json) {
        /* Secrets' JSON holds the password: leave no copy in freed memory. */
        OPENSSL_cleanse(object->json, object->json_len);
        valkeyaddon__free(object->json);
    }
    memset(object, 0, sizeof(*object));
}

void valkeyaddon__objects_clear(struct valkeyaddon__objects *objects)
{
    size_t i;

    for (i = 0; i < objects->count; i++)
        valkeyaddon__object_clear(&objects->items[i]);
    objects->count = 0;
}
