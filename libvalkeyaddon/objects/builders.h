/*
 * The object builder's files, to one another. objects.h is the interface the
 * rest of the library uses; this header is what build.c assembles it from.
 * docs/objects.md describes every object field by field.
 */
#ifndef VALKEYADDON_OBJECTS_BUILDERS_H
#define VALKEYADDON_OBJECTS_BUILDERS_H

#include <stddef.h>

#include "valkeyaddon/context.h"
#include "objects/json.h"
#include "objects/objects.h"

#define VALKEYADDON__VALKEY_PORT 6379
#define VALKEYADDON__METRICS_PORT 9121
/* The one server the exporter scrapes (the valkey container, over the pod's loopback)... */
#define VALKEYADDON__EXPORTER_REDIS_ADDR "redis://127.0.0.1:6379"
/* ...and the auth Secret key holding its password file: {"redis://127.0.0.1:6379":"PASSWORD"}. */
#define VALKEYADDON__EXPORTER_PASSWORDS_KEY "exporter-passwords.json"

/* labels.c: labels, selectors and the frame every object shares. */

/* The pod selector, as a JSON map: app.kubernetes.io/name and app.kubernetes.io/instance. Never changes. */
void valkeyaddon__gen_selector(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon);
/* The labels every object carries, as a JSON map, plus extra_key: extra_value when extra_key is not NULL. */
void valkeyaddon__gen_labels(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon,
                             const char *extra_key, const char *extra_value);
/* Begin a document: `{"apiVersion":..,"kind":..,"metadata":{"name","namespace","labels"}`, root map left open. */
void valkeyaddon__object_begin(struct valkeyaddon__jw *j, const valkeyaddon_resource *resource,
                               const struct valkeyaddon__addon *addon, const char *name, const char *extra_key,
                               const char *extra_value);
/* The same with metadata left open, for an object that adds annotations (the caller closes metadata). */
void valkeyaddon__object_begin_metadata(struct valkeyaddon__jw *j, const valkeyaddon_resource *resource,
                                        const struct valkeyaddon__addon *addon, const char *name,
                                        const char *extra_key, const char *extra_value);
/*
 * Mark where the applied-hash annotation goes: call it just before closing
 * metadata (VALKEYADDON__STAMP_IN_METADATA, no annotations written) or a
 * non-empty metadata.annotations (VALKEYADDON__STAMP_IN_ANNOTATIONS).
 * valkeyaddon__object_begin() marks metadata itself.
 */
void valkeyaddon__object_mark_stamp(struct valkeyaddon__jw *j, int where);
/*
 * Close the root map and hand the JSON to out (resource, name, json, json_len).
 * On failure out is zeroed and the error recorded on ctx.
 */
int valkeyaddon__object_end(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx, struct valkeyaddon__jw *j,
                            const valkeyaddon_resource *resource, const char *name);

/* build.c: argument checks shared by the three entry points. Never echo the password. */
int valkeyaddon__check_addon(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon);
int valkeyaddon__check_password(valkeyaddon_ctx *ctx, const char *password);

/* services.c */
int valkeyaddon__build_headless_service(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                        const struct valkeyaddon__addon *addon);
int valkeyaddon__build_service(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                               const struct valkeyaddon__addon *addon);

/* start_script.c */

/* The container's start script for the addon's plan; *out is valkeyaddon__malloc'd. 0 or VALKEYADDON_ENOMEM. */
int valkeyaddon__start_script(char **out, size_t *out_len, const struct valkeyaddon__addon *addon);
/* Probe scripts, run with /bin/sh -c in the valkey container. */
extern const char valkeyaddon__readiness_check[];
extern const char valkeyaddon__liveness_check[];

/* text.c */

/* value in decimal, as printf's %lld writes it, at the end of buf; returns where it starts. */
char *valkeyaddon__int_text(char buf[24], long long value);
/* The pieces one after the other, valkeyaddon__malloc'd and NUL-terminated (*out_len without the NUL); NULL: out of memory. */
char *valkeyaddon__concat(size_t *out_len, const char *const *pieces, size_t count);

/* statefulset.c */
int valkeyaddon__build_statefulset(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                   const struct valkeyaddon__addon *addon);

/* extras.c: which optional objects the options and the plan ask for, and the objects. */
int valkeyaddon__wants_pdb(const struct valkeyaddon__addon *addon);
int valkeyaddon__wants_network_policy(const struct valkeyaddon__addon *addon);
/* `{name}-ingress` (extras.c says why). */
void valkeyaddon__network_policy_name(char *out, size_t size, const struct valkeyaddon__addon *addon);
int valkeyaddon__wants_service_monitor(const struct valkeyaddon__addon *addon);
int valkeyaddon__build_pdb(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                           const struct valkeyaddon__addon *addon);
int valkeyaddon__build_network_policy(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                      const struct valkeyaddon__addon *addon);
int valkeyaddon__build_service_monitor(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                       const struct valkeyaddon__addon *addon);

#endif
