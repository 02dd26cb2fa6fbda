/* Labels, the pod selector, and the apiVersion/kind/metadata frame of every object. */
#include "config.h"

#include <string.h>

#include "valkeyaddon/errors.h"
#include "ctx.h"
#include "objects/builders.h"

/*
 * Selectors are immutable (StatefulSet) or select live traffic (Services), so
 * the selector is the smallest set that tells this add-on's pods apart from
 * everything else in the namespace, and it never depends on the plan.
 */
void valkeyaddon__gen_selector(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/name", "valkey");
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/instance", addon->name);
    valkeyaddon__jw_map_close(j);
}

/*
 * The selector plus labels to find and account objects by: the recommended
 * app.kubernetes.io set and the platform's tenant and app ids (valid label
 * values: naming.h limits ids to 63 characters of [a-z0-9-]). Nothing here
 * depends on the plan or the library version, so a plan change or an upgrade
 * never touches them.
 */
void valkeyaddon__gen_labels(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon,
                             const char *extra_key, const char *extra_value)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/name", "valkey");
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/instance", addon->name);
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/component", "database");
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/part-of", "paas-addons");
    valkeyaddon__jw_kv_string(j, "app.kubernetes.io/managed-by", "libvalkeyaddon");
    valkeyaddon__jw_kv_string(j, "valkeyaddon.io/tenant-id", addon->tenant_id);
    valkeyaddon__jw_kv_string(j, "valkeyaddon.io/app-id", addon->app_id);
    if (extra_key)
        valkeyaddon__jw_kv_string(j, extra_key, extra_value);
    valkeyaddon__jw_map_close(j);
}

void valkeyaddon__object_begin(struct valkeyaddon__jw *j, const valkeyaddon_resource *resource,
                               const struct valkeyaddon__addon *addon, const char *name, const char *extra_key,
                               const char *extra_value)
{
    valkeyaddon__object_begin_metadata(j, resource, addon, name, extra_key, extra_value);
    valkeyaddon__object_mark_stamp(j, VALKEYADDON__STAMP_IN_METADATA);
    valkeyaddon__jw_map_close(j);
}

void valkeyaddon__object_mark_stamp(struct valkeyaddon__jw *j, int where)
{
    /* The writer hands every event to print() at once, so len is where the closing brace will go. */
    j->stamp_at = j->len;
    j->stamp_where = where;
}

void valkeyaddon__object_begin_metadata(struct valkeyaddon__jw *j, const valkeyaddon_resource *resource,
                                        const struct valkeyaddon__addon *addon, const char *name,
                                        const char *extra_key, const char *extra_value)
{
    /* A failed begin leaves j failed; finish() in object_end() reports it. */
    (void)valkeyaddon__jw_begin(j);
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "apiVersion", resource->api_version);
    valkeyaddon__jw_kv_string(j, "kind", resource->kind);
    valkeyaddon__jw_key_map(j, "metadata");
    valkeyaddon__jw_kv_string(j, "name", name);
    valkeyaddon__jw_kv_string(j, "namespace", addon->namespace_);
    valkeyaddon__jw_key(j, "labels");
    valkeyaddon__gen_labels(j, addon, extra_key, extra_value);
}

int valkeyaddon__object_end(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx, struct valkeyaddon__jw *j,
                            const valkeyaddon_resource *resource, const char *name)
{
    char *json = NULL;
    size_t len = 0, name_len = strlen(name);
    int error;

    memset(out, 0, sizeof(*out));
    valkeyaddon__jw_map_close(j);
    if (name_len >= sizeof(out->name)) {
        valkeyaddon__jw_abort(j);
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "%s name of %zu characters is too long", resource->kind,
                                  name_len);
    }
    if ((error = valkeyaddon__jw_finish(j, &json, &len)) < 0) {
        if (error == VALKEYADDON_ENOMEM)
            return valkeyaddon__error(ctx, error, "out of memory building %s %s", resource->kind, name);
        return valkeyaddon__error(ctx, error, "building %s %s produced invalid JSON", resource->kind, name);
    }
    out->resource = resource;
    memcpy(out->name, name, name_len + 1);
    out->json = json;
    out->json_len = len;
    if (j->stamp_where != VALKEYADDON__STAMP_UNKNOWN && j->stamp_at < len && json[j->stamp_at] == '}') {
        out->stamp_at = j->stamp_at;
        out->stamp_where = j->stamp_where;
    }
    return VALKEYADDON_OK;
}
