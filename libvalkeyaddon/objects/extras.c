/*
 * The extra objects: an ingress NetworkPolicy (on unless opted out), and,
 * each behind an object option, a PodDisruptionBudget and a Prometheus
 * Operator ServiceMonitor.
 */
#include "config.h"

#include <stdio.h>

#include "objects/builders.h"

/*
 * Only for replicated plans: a budget over a single pod either blocks every
 * node drain (minAvailable: 1) or allows everything (maxUnavailable: 1), so
 * it is worse than useless there.
 */
int valkeyaddon__wants_pdb(const struct valkeyaddon__addon *addon)
{
    return addon->options->pod_disruption_budget && addon->plan->replicas > 1;
}

/*
 * On by default: without it every pod of the cluster could reach 6379 and
 * 9121 (docs/threat-model.md). Opting out is explicit.
 */
int valkeyaddon__wants_network_policy(const struct valkeyaddon__addon *addon)
{
    return !addon->options->no_network_policy;
}

/* Without the exporter there is nothing to scrape. */
int valkeyaddon__wants_service_monitor(const struct valkeyaddon__addon *addon)
{
    return addon->options->service_monitor && !addon->options->no_exporter;
}

int valkeyaddon__build_pdb(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                           const struct valkeyaddon__addon *addon)
{
    struct valkeyaddon__jw j;

    valkeyaddon__object_begin(&j, &valkeyaddon__pdb_resource, addon, addon->name, NULL, NULL);
    valkeyaddon__jw_key_map(&j, "spec");
    /* Voluntary evictions (drains) take one pod at a time: the others keep serving. */
    valkeyaddon__jw_kv_int(&j, "maxUnavailable", 1);
    valkeyaddon__jw_key_map(&j, "selector");
    valkeyaddon__jw_key(&j, "matchLabels");
    valkeyaddon__gen_selector(&j, addon);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__pdb_resource, addon->name);
}

static void gen_tcp_port(struct valkeyaddon__jw *j, int port)
{
    valkeyaddon__jw_key_array(j, "ports");
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "protocol", "TCP");
    valkeyaddon__jw_kv_int(j, "port", port);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_array_close(j);
}

void valkeyaddon__network_policy_name(char *out, size_t size, const struct valkeyaddon__addon *addon)
{
    snprintf(out, size, "%s-ingress", addon->name);
}

/*
 * `{name}-ingress`: unique per add-on (several add-ons may share a
 * namespace), and distinct from the platform's per-app egress policy
 * `allow-app-valkey`. Once it selects the pods, everything not listed is
 * refused: the namespace's pods (or, with the option network_policy, only
 * the app's pods, `{app_label}: {app_id}`) and the add-on's own pods
 * (replication) reach 6379, the monitoring namespace reaches 9121. Probes are
 * exec probes, which need no network access.
 *
 * The namespace by default, not the app label: the library cannot know that
 * the platform's app pods carry that label, and a default that silently cut
 * every unlabelled app off its Valkey would be turned off, not fixed. A
 * namespace is the boundary Kubernetes itself draws; within it, the password
 * is the defence (docs/threat-model.md).
 */
int valkeyaddon__build_network_policy(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                      const struct valkeyaddon__addon *addon)
{
    struct valkeyaddon__jw j;
    char name[VALKEYADDON_NAME_BUFSIZE + 8];

    valkeyaddon__network_policy_name(name, sizeof(name), addon);
    valkeyaddon__object_begin(&j, &valkeyaddon__networkpolicy_resource, addon, name, NULL, NULL);
    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_key_map(&j, "podSelector");
    valkeyaddon__jw_key(&j, "matchLabels");
    valkeyaddon__gen_selector(&j, addon);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_key_array(&j, "policyTypes");
    valkeyaddon__jw_string(&j, "Ingress");
    valkeyaddon__jw_array_close(&j);
    valkeyaddon__jw_key_array(&j, "ingress");

    /* The app (a podSelector alone means this namespace): its pods, or every pod of the namespace. */
    valkeyaddon__jw_map_open(&j);
    valkeyaddon__jw_key_array(&j, "from");
    valkeyaddon__jw_map_open(&j);
    valkeyaddon__jw_key_map(&j, "podSelector");
    if (addon->options->network_policy) {
        valkeyaddon__jw_key_map(&j, "matchLabels");
        valkeyaddon__jw_kv_string(&j, addon->options->app_label, addon->app_id);
        valkeyaddon__jw_map_close(&j);
    }
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_array_close(&j);
    gen_tcp_port(&j, VALKEYADDON__VALKEY_PORT);
    valkeyaddon__jw_map_close(&j);

    /* Replicas to the primary. */
    valkeyaddon__jw_map_open(&j);
    valkeyaddon__jw_key_array(&j, "from");
    valkeyaddon__jw_map_open(&j);
    valkeyaddon__jw_key_map(&j, "podSelector");
    valkeyaddon__jw_key(&j, "matchLabels");
    valkeyaddon__gen_selector(&j, addon);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_array_close(&j);
    gen_tcp_port(&j, VALKEYADDON__VALKEY_PORT);
    valkeyaddon__jw_map_close(&j);

    /* Prometheus to the exporter. */
    if (!addon->options->no_exporter) {
        valkeyaddon__jw_map_open(&j);
        valkeyaddon__jw_key_array(&j, "from");
        valkeyaddon__jw_map_open(&j);
        valkeyaddon__jw_key_map(&j, "namespaceSelector");
        valkeyaddon__jw_key_map(&j, "matchLabels");
        valkeyaddon__jw_kv_string(&j, "kubernetes.io/metadata.name", addon->options->monitoring_namespace);
        valkeyaddon__jw_map_close(&j);
        valkeyaddon__jw_map_close(&j);
        valkeyaddon__jw_map_close(&j);
        valkeyaddon__jw_array_close(&j);
        gen_tcp_port(&j, VALKEYADDON__METRICS_PORT);
        valkeyaddon__jw_map_close(&j);
    }

    valkeyaddon__jw_array_close(&j);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__networkpolicy_resource, name);
}

/*
 * Scrapes the headless Service: it lists every pod (the primary and the
 * replicas, ready or not), where the ClusterIP Service would give only pod 0.
 */
int valkeyaddon__build_service_monitor(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                       const struct valkeyaddon__addon *addon)
{
    struct valkeyaddon__jw j;

    valkeyaddon__object_begin(&j, &valkeyaddon__servicemonitor_resource, addon, addon->name, NULL, NULL);
    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_key_map(&j, "selector");
    valkeyaddon__jw_key_map(&j, "matchLabels");
    valkeyaddon__jw_kv_string(&j, "app.kubernetes.io/name", "valkey");
    valkeyaddon__jw_kv_string(&j, "app.kubernetes.io/instance", addon->name);
    valkeyaddon__jw_kv_string(&j, "valkeyaddon.io/service", "headless");
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_key_map(&j, "namespaceSelector");
    valkeyaddon__jw_key_array(&j, "matchNames");
    valkeyaddon__jw_string(&j, addon->namespace_);
    valkeyaddon__jw_array_close(&j);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_key_array(&j, "endpoints");
    valkeyaddon__jw_map_open(&j);
    valkeyaddon__jw_kv_string(&j, "port", "metrics");
    valkeyaddon__jw_kv_string(&j, "path", "/metrics");
    valkeyaddon__jw_kv_string(&j, "interval", "30s");
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_array_close(&j);
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__servicemonitor_resource, addon->name);
}
