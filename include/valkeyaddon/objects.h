/**
 * @file valkeyaddon/objects.h
 * @brief Options for the Kubernetes objects an add-on is made of.
 *
 * Every object (the `{name}-auth` Secret, the headless and ClusterIP Services,
 * the StatefulSet, the NetworkPolicy (on unless opted out), the optional
 * PodDisruptionBudget and ServiceMonitor, and the `app-{app_id}-redis-url` Secret) is built from the
 * plan configuration and these options. See docs/objects.md for each object.
 */
#ifndef VALKEYADDON_OBJECTS_H
#define VALKEYADDON_OBJECTS_H

#include "common.h"
#include "context.h"

VALKEYADDON_BEGIN_DECL

/** The default Valkey image: pinned, never a floating tag. */
#define VALKEYADDON_DEFAULT_IMAGE "valkey/valkey:8.1.4-alpine"
/** The default metrics exporter image, as the ADR pins it. */
#define VALKEYADDON_DEFAULT_EXPORTER_IMAGE "oliver006/redis_exporter:v1.61.0"
/** The default cluster DNS domain. */
#define VALKEYADDON_DEFAULT_CLUSTER_DOMAIN "cluster.local"
/** The default server-side apply field manager, as the spec names it. */
#define VALKEYADDON_DEFAULT_FIELD_MANAGER "paas-control-plane"
/** The default label key that selects an app's pods (for the NetworkPolicy). */
#define VALKEYADDON_DEFAULT_APP_LABEL "app.kubernetes.io/instance"
/** The default namespace of the monitoring stack (for the NetworkPolicy). */
#define VALKEYADDON_DEFAULT_MONITORING_NAMESPACE "monitoring"

/**
 * Object options. Initialise with VALKEYADDON_OBJECT_OPTIONS_INIT; NULL
 * strings and 0 flags mean the defaults above. Strings are copied by
 * valkeyaddon_ctx_set_object_options(), never retained.
 */
typedef struct valkeyaddon_object_options {
    unsigned int version;             /**< VALKEYADDON_OBJECT_OPTIONS_VERSION at compile time */
    const char *image;                /**< Valkey image; NULL: VALKEYADDON_DEFAULT_IMAGE */
    const char *exporter_image;       /**< exporter image; NULL: VALKEYADDON_DEFAULT_EXPORTER_IMAGE */
    const char *cluster_domain;       /**< NULL: VALKEYADDON_DEFAULT_CLUSTER_DOMAIN */
    const char *storage_class;        /**< PVC storage class; NULL: the cluster's default class */
    const char *field_manager;        /**< SSA field manager; NULL: VALKEYADDON_DEFAULT_FIELD_MANAGER */
    const char *app_label;            /**< label key whose value is the app id on the app's pods */
    const char *monitoring_namespace; /**< namespace allowed to scrape port 9121 */
    int no_exporter;                  /**< 1: leave out the redis_exporter sidecar */
    int pod_disruption_budget;        /**< 1: a PodDisruptionBudget for replicated plans */
    /**
     * The NetworkPolicy {name}-ingress is always built unless
     * no_network_policy is set. 0: port 6379 admits every pod of the add-on's
     * namespace; 1: only the app's pods ({app_label}: {app_id}). Port 9121
     * admits the monitoring namespace only, either way.
     */
    int network_policy;
    int service_monitor;              /**< 1: a monitoring.coreos.com/v1 ServiceMonitor */
    /* members above are valid for version 1; append only */
    /**
     * 1: no NetworkPolicy at all (the cluster's own policies decide, or
     * nothing does). Version 2. Not together with network_policy.
     */
    int no_network_policy;
    /* members above are valid for version 2; append only */
} valkeyaddon_object_options;

/** The object options version these headers describe. */
#define VALKEYADDON_OBJECT_OPTIONS_VERSION 2
/** Static initialiser for valkeyaddon_object_options: every default. */
#define VALKEYADDON_OBJECT_OPTIONS_INIT \
    { VALKEYADDON_OBJECT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0 }

/**
 * Set the object options of a context (they apply to every later call).
 *
 * @param ctx the context
 * @param options copied; NULL restores every default
 * @return 0; VALKEYADDON_EINVAL for a NULL ctx or an invalid value (an image
 *         with whitespace, a cluster domain that is not a DNS name, ...);
 *         VALKEYADDON_EVERSION; VALKEYADDON_ENOMEM (the previous options stay)
 */
VALKEYADDON_API int valkeyaddon_ctx_set_object_options(valkeyaddon_ctx *ctx,
                                                       const valkeyaddon_object_options *options);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_OBJECTS_H */
