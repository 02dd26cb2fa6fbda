/**
 * @file valkeyaddon/render.h
 * @brief Render an add-on's objects as YAML or JSON, with no side effects.
 *
 * For GitOps users (the ADR's team commits manifests): the same objects that
 * ensure_valkey() applies, in a stable order, byte-for-byte deterministic for
 * the same inputs and password. Keep the password out of git: render with
 * VALKEYADDON_RENDER_SECRETS_EXCLUDE for the repository, and the Secrets apart
 * (VALKEYADDON_RENDER_SECRETS_ONLY) into a sealing tool (Sealed Secrets, SOPS).
 */
#ifndef VALKEYADDON_RENDER_H
#define VALKEYADDON_RENDER_H

#include "common.h"
#include "context.h"

VALKEYADDON_BEGIN_DECL

/** Output formats. */
typedef enum valkeyaddon_render_format {
    VALKEYADDON_RENDER_YAML = 0, /**< one YAML document per object (libyaml's emitter) */
    VALKEYADDON_RENDER_JSON = 1  /**< one JSON object per object, pretty-printed */
} valkeyaddon_render_format;

/** Which objects to render. */
typedef enum valkeyaddon_render_secrets {
    VALKEYADDON_RENDER_SECRETS_INCLUDE = 0, /**< every object */
    VALKEYADDON_RENDER_SECRETS_EXCLUDE = 1, /**< every object but the two Secrets */
    VALKEYADDON_RENDER_SECRETS_ONLY = 2     /**< only the two Secrets */
} valkeyaddon_render_secrets;

/** Render options. Initialise with VALKEYADDON_RENDER_OPTIONS_INIT. */
typedef struct valkeyaddon_render_options {
    unsigned int version; /**< VALKEYADDON_RENDER_OPTIONS_VERSION */
    int format;           /**< a valkeyaddon_render_format */
    int secrets;          /**< a valkeyaddon_render_secrets */
    const char *password; /**< NULL: a new random password; else 16 to 256 URL-safe characters (copied) */
    /* members above are valid for version 1; append only */
} valkeyaddon_render_options;

/** The render options version these headers describe. */
#define VALKEYADDON_RENDER_OPTIONS_VERSION 1
/** Static initialiser: YAML, every object, a generated password. */
#define VALKEYADDON_RENDER_OPTIONS_INIT { VALKEYADDON_RENDER_OPTIONS_VERSION, 0, 0, NULL }

/**
 * Receives one rendered object.
 *
 * @param kind the object's kind ("Secret", "StatefulSet", ...)
 * @param name the object's name
 * @param text the rendered document (YAML without the leading "---", or JSON), NUL-terminated,
 *        valid only during the call; it may contain the password (Secrets)
 * @param len its length
 * @param payload as given
 * @return 0 to go on, non-zero to stop (valkeyaddon_render() then returns it)
 */
typedef int (*valkeyaddon_render_cb)(const char *kind, const char *name, const char *text, size_t len,
                                     void *payload);

/**
 * Render the add-on's objects, in the order ensure_valkey() writes them, then
 * the app-side `app-{app_id}-redis-url` Secret.
 *
 * @param ctx the context (its object options apply)
 * @param namespace_ the tenant namespace
 * @param tenant_id the tenant id
 * @param app_id the app id
 * @param plan the plan; an unknown one falls back to `free` (logged as a warning)
 * @param options may be NULL for the defaults
 * @param callback called once per object
 * @param payload passed to callback
 * @return 0; the callback's non-zero value; VALKEYADDON_EINVAL; VALKEYADDON_EVERSION;
 *         VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_render(valkeyaddon_ctx *ctx, const char *namespace_, const char *tenant_id,
                                       const char *app_id, const char *plan,
                                       const valkeyaddon_render_options *options,
                                       valkeyaddon_render_cb callback, void *payload);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_RENDER_H */
