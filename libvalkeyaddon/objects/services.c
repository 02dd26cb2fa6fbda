/*
 * The two Services.
 *
 * `{name}-headless` governs the StatefulSet (serviceName): it gives every pod
 * the DNS name {name}-{i}.{name}-headless.{namespace}.svc.{domain}. It
 * publishes pods before they are ready, because replicas must reach pod 0
 * while the set is still starting, and it is what the ServiceMonitor scrapes
 * (every pod, primary and replicas).
 *
 * `{name}` is the ClusterIP Service apps connect to. Its selector always
 * includes statefulset.kubernetes.io/pod-name: {name}-0 (a label the
 * StatefulSet controller puts on each pod): pod 0 is the primary, the others
 * are read-only replicas, and a write sent to a replica fails. With one
 * replica the extra label changes nothing, and keeping it for every plan means
 * a plan change never touches this selector.
 */
#include "config.h"

#include <stdio.h>

#include "objects/builders.h"

static void gen_port(struct valkeyaddon__jw *j, const char *name, int port)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", name);
    valkeyaddon__jw_kv_string(j, "protocol", "TCP");
    valkeyaddon__jw_kv_int(j, "port", port);
    /* By name, so the container port can move without touching the Service. */
    valkeyaddon__jw_kv_string(j, "targetPort", name);
    valkeyaddon__jw_map_close(j);
}

/*
 * 9121 only on the headless Service, which the ServiceMonitor scrapes: the
 * ClusterIP Service is what apps are given, and apps have no business with
 * the exporter.
 */
static void gen_ports(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon, int metrics)
{
    valkeyaddon__jw_key_array(j, "ports");
    gen_port(j, "valkey", VALKEYADDON__VALKEY_PORT);
    if (metrics && !addon->options->no_exporter)
        gen_port(j, "metrics", VALKEYADDON__METRICS_PORT);
    valkeyaddon__jw_array_close(j);
}

int valkeyaddon__build_headless_service(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                        const struct valkeyaddon__addon *addon)
{
    struct valkeyaddon__jw j;

    valkeyaddon__object_begin(&j, &valkeyaddon__service_resource, addon, addon->headless_service,
                              "valkeyaddon.io/service", "headless");
    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_kv_string(&j, "type", "ClusterIP");
    valkeyaddon__jw_kv_string(&j, "clusterIP", "None");
    valkeyaddon__jw_kv_bool(&j, "publishNotReadyAddresses", 1);
    valkeyaddon__jw_key(&j, "selector");
    valkeyaddon__gen_selector(&j, addon);
    gen_ports(&j, addon, 1);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__service_resource, addon->headless_service);
}

int valkeyaddon__build_service(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                               const struct valkeyaddon__addon *addon)
{
    struct valkeyaddon__jw j;
    char pod0[VALKEYADDON_NAME_BUFSIZE + 2];

    snprintf(pod0, sizeof(pod0), "%s-0", addon->name);
    valkeyaddon__object_begin(&j, &valkeyaddon__service_resource, addon, addon->name, "valkeyaddon.io/service",
                              "primary");
    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_kv_string(&j, "type", "ClusterIP");
    valkeyaddon__jw_key_map(&j, "selector");
    valkeyaddon__jw_kv_string(&j, "app.kubernetes.io/name", "valkey");
    valkeyaddon__jw_kv_string(&j, "app.kubernetes.io/instance", addon->name);
    valkeyaddon__jw_kv_string(&j, "statefulset.kubernetes.io/pod-name", pod0);
    valkeyaddon__jw_map_close(&j);
    gen_ports(&j, addon, 0);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__service_resource, addon->name);
}
