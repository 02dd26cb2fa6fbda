/*
 * The object builder: every Kubernetes object of an add-on, as compact JSON
 * generated with yajl (never hand-built strings). Pure: no I/O, no transport.
 * The ensure functions, the render transport and the tests all use it, so
 * what is rendered is exactly what is applied.
 */
#ifndef VALKEYADDON_OBJECTS_OBJECTS_H
#define VALKEYADDON_OBJECTS_OBJECTS_H

#include <stddef.h>

#include "valkeyaddon/context.h"
#include "valkeyaddon/naming.h"
#include "valkeyaddon/plans.h"
#include "valkeyaddon/sys/transport.h"

/* Static descriptors of every kind the library sends. */
extern const valkeyaddon_resource valkeyaddon__secret_resource;
extern const valkeyaddon_resource valkeyaddon__service_resource;
extern const valkeyaddon_resource valkeyaddon__statefulset_resource;
extern const valkeyaddon_resource valkeyaddon__pdb_resource;
extern const valkeyaddon_resource valkeyaddon__networkpolicy_resource;
extern const valkeyaddon_resource valkeyaddon__servicemonitor_resource;
extern const valkeyaddon_resource valkeyaddon__pvc_resource;
extern const valkeyaddon_resource valkeyaddon__pod_resource;

/* The effective object options: defaults filled in, strings owned by the context. */
struct valkeyaddon__object_options {
    char *image;
    char *exporter_image;
    char *cluster_domain;
    char *storage_class;        /* NULL: the cluster's default class */
    char *field_manager;
    char *app_label;
    char *monitoring_namespace;
    int no_exporter;
    int pod_disruption_budget;
    int network_policy;    /* 1: 6379 from the app's pods only; 0: from the namespace's pods */
    int service_monitor;
    int no_network_policy; /* 1: no NetworkPolicy at all */
};

/* Hex digits of a credential id. */
#define VALKEYADDON__CREDENTIAL_ID_LEN 16
#define VALKEYADDON__CREDENTIAL_ID_ANNOTATION "valkeyaddon.io/credential-id"

/* What one add-on's objects are built from. Nothing here is retained. */
struct valkeyaddon__addon {
    const char *namespace_;
    const char *tenant_id;
    const char *app_id;
    const valkeyaddon_plan_config *plan;
    const struct valkeyaddon__object_options *options;
    char name[VALKEYADDON_NAME_BUFSIZE];             /* valkey_name(tenant_id, app_id) */
    char auth_secret[VALKEYADDON_NAME_BUFSIZE];      /* {name}-auth */
    char redis_url_secret[VALKEYADDON_NAME_BUFSIZE]; /* app-{app_id}-redis-url */
    char headless_service[VALKEYADDON_NAME_BUFSIZE]; /* {name}-headless, governs pod DNS */
    char host[256]; /* where clients reach the ClusterIP Service: its DNS name, or the transport's address */
    int port;       /* 6379, or the transport's */
    /*
     * The auth Secret's credential id (annotation valkeyaddon.io/credential-id):
     * random, made with the password, never derived from it. The pod template
     * carries it too, so a new password (a re-created auth Secret) rolls the
     * pods. "" for a Secret made before ids existed: then neither carries it,
     * and an upgrade changes nothing.
     */
    char credential_id[VALKEYADDON__CREDENTIAL_ID_LEN + 1];
};

struct valkeyaddon__object {
    const valkeyaddon_resource *resource;
    char name[VALKEYADDON_NAME_BUFSIZE];
    char *json;      /* NUL-terminated compact JSON, valkeyaddon__malloc'd */
    size_t json_len;
    /*
     * Where the builder's writer was when it closed metadata (STAMP_IN_METADATA:
     * metadata has no annotations) or metadata.annotations (STAMP_IN_ANNOTATIONS:
     * a non-empty map): the byte offset in json of that closing brace. The
     * applied-hash stamp is spliced in there instead of re-parsing the body
     * (applied.c). STAMP_UNKNOWN (0, as memset leaves it): parse and rewrite.
     */
    size_t stamp_at;
    int stamp_where;
};

enum { VALKEYADDON__STAMP_UNKNOWN = 0, VALKEYADDON__STAMP_IN_METADATA = 1, VALKEYADDON__STAMP_IN_ANNOTATIONS = 2 };

#define VALKEYADDON__MAX_OBJECTS 8

struct valkeyaddon__objects {
    struct valkeyaddon__object items[VALKEYADDON__MAX_OBJECTS];
    size_t count;
};

/*
 * Validate the inputs and fill addon->name and the other names. namespace_
 * must be a DNS-1123 label; the ids follow naming.h.
 */
int valkeyaddon__addon_init(struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx, const char *namespace_,
                            const char *tenant_id, const char *app_id, const valkeyaddon_plan_config *plan,
                            const struct valkeyaddon__object_options *options);

/*
 * Start a call that acts on an existing add-on through ctx's transport:
 * clears the last error, requires a transport, and fills addon (with the free
 * plan in *plan: these calls do not depend on the plan).
 */
int valkeyaddon__addon_call(struct valkeyaddon__addon *addon, valkeyaddon_plan_config *plan, valkeyaddon_ctx *ctx,
                            const char *namespace_, const char *tenant_id, const char *app_id);

/* Ask the context's transport (version 2 `address`) where the Service listens; a no-op for clusters. */
int valkeyaddon__addon_address(struct valkeyaddon__addon *addon, valkeyaddon_ctx *ctx);

/* {name}.{namespace}.svc.{cluster_domain}, valkeyaddon__malloc'd: the ClusterIP Service's DNS name. */
char *valkeyaddon__service_host(const struct valkeyaddon__addon *addon);

/* redis://default:{password}@{host}:{port} (by default {name}.{namespace}.svc.{cluster_domain}:6379), valkeyaddon__malloc'd. */
char *valkeyaddon__redis_uri(const struct valkeyaddon__addon *addon, const char *password);

/*
 * Build the add-on's workload objects in their stable order: the auth Secret
 * (data: uri, host, port, password, base64), the headless Service, the
 * ClusterIP Service, the StatefulSet, then the enabled extras
 * (PodDisruptionBudget, NetworkPolicy, ServiceMonitor). The app-side Secret is
 * built apart (it belongs to ensure_redis_url_secret). On failure nothing is
 * left allocated in out.
 */
int valkeyaddon__build_objects(struct valkeyaddon__objects *out, valkeyaddon_ctx *ctx,
                               const struct valkeyaddon__addon *addon, const char *password);

/* Build only the auth Secret (ensure_valkey creates it before the rest). */
int valkeyaddon__build_auth_secret(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                   const struct valkeyaddon__addon *addon, const char *password);

/* The app-{app_id}-redis-url Secret with the single key REDIS_URL = uri, byte for byte. */
int valkeyaddon__build_redis_url_secret(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                        const struct valkeyaddon__addon *addon, const char *uri, size_t uri_len);

/* An object an add-on may have: its kind and name. */
struct valkeyaddon__object_ref {
    const valkeyaddon_resource *resource;
    char name[VALKEYADDON_NAME_BUFSIZE];
};

/*
 * The workload objects of the add-on in build order (auth Secret, Services,
 * StatefulSet, extras): with all_extras, every extra it may have had (for
 * deprovision), else only those the options enable. Returns the count.
 */
size_t valkeyaddon__object_refs(struct valkeyaddon__object_ref refs[VALKEYADDON__MAX_OBJECTS],
                                const struct valkeyaddon__addon *addon, int all_extras);

/* 1 when s is a credential id as the library makes them. */
int valkeyaddon__credential_id_is_valid(const char *s);

void valkeyaddon__object_clear(struct valkeyaddon__object *object);
void valkeyaddon__objects_clear(struct valkeyaddon__objects *objects);

#endif
