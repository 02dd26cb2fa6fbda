/* Object options: validation, defaults, and the context's private copy. */
#include "config.h"

#include <string.h>

#include "valkeyaddon/objects.h"
#include "alloc.h"
#include "ctx.h"

static int is_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A DNS-1123 subdomain, as a cluster domain must be. */
static int is_dns_name(const char *s)
{
    size_t i, len = strlen(s), label = 0;

    if (len == 0 || len > 253)
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if (!is_label_char(s[i]) || (label == 0 && s[i] == '-') || ++label > 63) {
            return 0;
        }
    }
    return s[len - 1] != '-' && s[len - 1] != '.';
}

/* Images and label keys go into objects verbatim: no whitespace, quotes or control bytes. */
static int is_token(const char *s, size_t max)
{
    size_t i;

    if (!*s || strlen(s) > max)
        return 0;
    for (i = 0; s[i]; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

void valkeyaddon__object_options_clear(struct valkeyaddon__object_options *o)
{
    valkeyaddon__free(o->image);
    valkeyaddon__free(o->exporter_image);
    valkeyaddon__free(o->cluster_domain);
    valkeyaddon__free(o->storage_class);
    valkeyaddon__free(o->field_manager);
    valkeyaddon__free(o->app_label);
    valkeyaddon__free(o->monitoring_namespace);
    memset(o, 0, sizeof(*o));
}

static const char *or_default(const char *value, const char *fallback)
{
    return value ? value : fallback;
}

/* Build a complete copy in `out`; on failure out is cleared and -1 returned. */
static int copy_options(struct valkeyaddon__object_options *out, const valkeyaddon_object_options *in)
{
    memset(out, 0, sizeof(*out));
    out->image = valkeyaddon__strdup(or_default(in ? in->image : NULL, VALKEYADDON_DEFAULT_IMAGE));
    out->exporter_image =
        valkeyaddon__strdup(or_default(in ? in->exporter_image : NULL, VALKEYADDON_DEFAULT_EXPORTER_IMAGE));
    out->cluster_domain =
        valkeyaddon__strdup(or_default(in ? in->cluster_domain : NULL, VALKEYADDON_DEFAULT_CLUSTER_DOMAIN));
    out->field_manager =
        valkeyaddon__strdup(or_default(in ? in->field_manager : NULL, VALKEYADDON_DEFAULT_FIELD_MANAGER));
    out->app_label = valkeyaddon__strdup(or_default(in ? in->app_label : NULL, VALKEYADDON_DEFAULT_APP_LABEL));
    out->monitoring_namespace = valkeyaddon__strdup(
        or_default(in ? in->monitoring_namespace : NULL, VALKEYADDON_DEFAULT_MONITORING_NAMESPACE));
    if (in && in->storage_class)
        out->storage_class = valkeyaddon__strdup(in->storage_class);
    if (!out->image || !out->exporter_image || !out->cluster_domain || !out->field_manager || !out->app_label ||
        !out->monitoring_namespace || (in && in->storage_class && !out->storage_class)) {
        valkeyaddon__object_options_clear(out);
        return -1;
    }
    if (in) {
        out->no_exporter = in->no_exporter != 0;
        out->pod_disruption_budget = in->pod_disruption_budget != 0;
        out->network_policy = in->network_policy != 0;
        out->service_monitor = in->service_monitor != 0;
        if (in->version >= 2)
            out->no_network_policy = in->no_network_policy != 0;
    }
    return 0;
}

int valkeyaddon__object_options_init(struct valkeyaddon__object_options *options)
{
    return copy_options(options, NULL);
}

static int validate(valkeyaddon_ctx *ctx, const valkeyaddon_object_options *o)
{
    if (o->image && !is_token(o->image, 512))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->image: must be a non-empty image reference "
                                                           "without whitespace or quotes");
    if (o->exporter_image && !is_token(o->exporter_image, 512))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->exporter_image: must be a non-empty image "
                                                           "reference without whitespace or quotes");
    if (o->cluster_domain && !is_dns_name(o->cluster_domain))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->cluster_domain: must be a DNS name such as cluster.local");
    if (o->storage_class && !is_dns_name(o->storage_class))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->storage_class: must be a StorageClass name (DNS-1123 subdomain)");
    if (o->field_manager && !is_token(o->field_manager, 128))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->field_manager: must be 1 to 128 printable characters without spaces");
    if (o->app_label && !is_token(o->app_label, 316))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->app_label: must be a label key such as app.kubernetes.io/instance");
    if (o->monitoring_namespace && !is_dns_name(o->monitoring_namespace))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->monitoring_namespace: must be a namespace name (DNS-1123 label)");
    if (o->version >= 2 && o->no_network_policy && o->network_policy)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->no_network_policy: cannot be set together with network_policy "
                                  "(which narrows the policy to the app's pods)");
    return VALKEYADDON_OK;
}

int valkeyaddon_ctx_set_object_options(valkeyaddon_ctx *ctx, const valkeyaddon_object_options *options)
{
    struct valkeyaddon__object_options copy;
    int error;

    if (!ctx)
        return VALKEYADDON_EINVAL;
    valkeyaddon__begin(ctx);
    if (options) {
        if (options->version == 0 || options->version > VALKEYADDON_OBJECT_OPTIONS_VERSION)
            return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                      "options->version: %u is not an object options version this library "
                                      "knows (1 to %d)", options->version, VALKEYADDON_OBJECT_OPTIONS_VERSION);
        if ((error = validate(ctx, options)) < 0)
            return error;
    }
    if (copy_options(&copy, options) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory copying the object options");
    valkeyaddon__object_options_clear(&ctx->object_options);
    ctx->object_options = copy;
    return VALKEYADDON_OK;
}
