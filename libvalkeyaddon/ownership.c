/* Which add-on an object belongs to (ownership.h). */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "ctx.h"
#include "ownership.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

#define TENANT_LABEL "valkeyaddon.io/tenant-id"
#define APP_LABEL "valkeyaddon.io/app-id"

/* Label values come from the server: print at most a label value's length, and nothing unprintable. */
static void printable(char *out, size_t size, const char *value)
{
    size_t i, n = 0;

    for (i = 0; value && value[i] && n + 1 < size && i < 63; i++)
        out[n++] = (value[i] >= 0x20 && value[i] < 0x7f && value[i] != '"') ? value[i] : '?';
    out[n] = '\0';
}

/* The live object as a tree: ENOMEM, or ESERVER when it is not a JSON object. */
static int parse(yajl_val *root, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                 const struct valkeyaddon__addon *addon, const char *name, const char *json, size_t len)
{
    char *text = valkeyaddon__malloc(len + 1);

    *root = NULL;
    if (!text)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory reading %s %s/%s", resource->kind,
                                  addon->namespace_, name);
    memcpy(text, json, len);
    text[len] = '\0';
    *root = valkeyaddon__json_parse(text);
    valkeyaddon__free_secret(text, len);
    if (!*root || !YAJL_IS_OBJECT(*root)) {
        valkeyaddon__json_free_secret(*root);
        *root = NULL;
        return valkeyaddon__error(ctx, VALKEYADDON_ESERVER, "%s %s/%s read back is not a JSON object",
                                  resource->kind, addon->namespace_, name);
    }
    return VALKEYADDON_OK;
}

static const char *label(yajl_val root, const char *key)
{
    return valkeyaddon__json_string(root, "metadata", "labels", key);
}

/* ECONFLICT naming whose the object is; root may be NULL. */
static int foreign(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, const valkeyaddon_resource *resource,
                   const char *name, const char *tenant, const char *app)
{
    char their_tenant[64], their_app[64];

    if (!tenant || !app)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                                  "%s %s/%s exists but was not made by libvalkeyaddon for an add-on (it has no "
                                  TENANT_LABEL " and " APP_LABEL " labels); nothing was changed: remove or rename "
                                  "it, or label it for tenant %s app %s if it is that add-on's",
                                  resource->kind, addon->namespace_, name, addon->tenant_id, addon->app_id);
    printable(their_tenant, sizeof(their_tenant), tenant);
    printable(their_app, sizeof(their_app), app);
    return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT,
                              "%s %s/%s belongs to tenant %s app %s, not to tenant %s app %s (both id pairs give "
                              "this name); nothing was changed: give one of the add-ons another namespace",
                              resource->kind, addon->namespace_, name, their_tenant, their_app, addon->tenant_id,
                              addon->app_id);
}

int valkeyaddon__check_owner(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon,
                             const valkeyaddon_resource *resource, const char *name, const char *json, size_t len)
{
    const char *tenant, *app;
    yajl_val root;
    int rc;

    if ((rc = parse(&root, ctx, resource, addon, name, json, len)) < 0)
        return rc;
    tenant = label(root, TENANT_LABEL);
    app = label(root, APP_LABEL);
    if (!tenant || !app || strcmp(tenant, addon->tenant_id) != 0 || strcmp(app, addon->app_id) != 0)
        rc = foreign(ctx, addon, resource, name, tenant, app);
    valkeyaddon__json_free_secret(root); /* it may be a Secret */
    return rc;
}

int valkeyaddon__claim_owner(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon, const char *name,
                             const char *json, size_t len)
{
    const char *tenant, *app, *instance;
    yajl_val root;
    int rc;

    if ((rc = parse(&root, ctx, &valkeyaddon__pvc_resource, addon, name, json, len)) < 0)
        return rc;
    tenant = label(root, TENANT_LABEL);
    app = label(root, APP_LABEL);
    instance = label(root, "app.kubernetes.io/instance");
    if (tenant && app && strcmp(tenant, addon->tenant_id) == 0 && strcmp(app, addon->app_id) == 0)
        rc = VALKEYADDON__CLAIM_OURS;
    else if (!tenant && !app && instance && strcmp(instance, addon->name) == 0)
        rc = VALKEYADDON__CLAIM_UNLABELLED;
    else {
        foreign(ctx, addon, &valkeyaddon__pvc_resource, name, tenant, app);
        rc = VALKEYADDON__CLAIM_FOREIGN;
    }
    yajl_tree_free(root);
    return rc;
}
