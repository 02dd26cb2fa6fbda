/**
 * @file valkeyaddon/sys/transport.h
 * @brief For transport authors: how the library talks to a Kubernetes-like API.
 *
 * A transport stores and returns objects. The library describes every object
 * generically (valkeyaddon_resource: apiVersion, kind, plural, namespaced), so
 * later kinds need no ABI change, and passes objects as JSON text. Built-in
 * transports: kubernetes (libcurl), render (writes YAML/JSON) and memory (for
 * tests); a service may plug its own, in C or through a binding.
 *
 * Like sqlite3_vfs: the struct is versioned, members are only appended, and
 * the library calls a member added in version N only if `version >= N`.
 * On successful registration (valkeyaddon_ctx_set_transport()) the context
 * owns the transport and calls `free` exactly once; on failure the caller
 * still owns it.
 *
 * Every member reports failure by returning a negative valkeyaddon_error and
 * may describe it with valkeyaddon_ctx_set_error() on the ctx it was given.
 * Messages must never contain Secret data.
 */
#ifndef VALKEYADDON_SYS_TRANSPORT_H
#define VALKEYADDON_SYS_TRANSPORT_H

#include "../common.h"
#include "../context.h"
#include "../buffer.h"

VALKEYADDON_BEGIN_DECL

/** What kind of object a call is about. Static storage owned by the library. */
typedef struct valkeyaddon_resource {
    const char *api_version; /**< "v1", "apps/v1", "policy/v1", ... */
    const char *kind;        /**< "Secret", "StatefulSet", ... */
    const char *plural;      /**< "secrets", "statefulsets", ... (the URL path segment) */
    int namespaced;          /**< 1 for namespaced kinds (all that the library uses) */
} valkeyaddon_resource;

/** Watch event types, as the Kubernetes API names them. */
typedef enum valkeyaddon_watch_event {
    VALKEYADDON_WATCH_ADDED = 1,    /**< "ADDED" */
    VALKEYADDON_WATCH_MODIFIED = 2, /**< "MODIFIED" */
    VALKEYADDON_WATCH_DELETED = 3,  /**< "DELETED" */
    VALKEYADDON_WATCH_BOOKMARK = 4  /**< "BOOKMARK" */
} valkeyaddon_watch_event;

/**
 * Receives one watch event.
 *
 * @param event a valkeyaddon_watch_event
 * @param json the object as JSON text, valid only during the call
 * @param len its length in bytes
 * @param payload as given to `watch`
 * @return 0 to keep watching, a positive value to stop the watch successfully
 *         (the transport's `watch` then returns that value), a negative code to
 *         abort it with that error
 */
typedef int (*valkeyaddon_watch_cb)(int event, const char *json, size_t len, void *payload);

/** `remove` flag: keep the dependents (pods, volume claims) of the deleted object. */
#define VALKEYADDON_REMOVE_ORPHAN 1u

typedef struct valkeyaddon_transport valkeyaddon_transport;

/** A transport: a versioned table of operations on objects. */
struct valkeyaddon_transport {
    /** VALKEYADDON_TRANSPORT_VERSION when the transport was compiled. */
    unsigned int version;
    /** For the transport's own state (a Go cgo.Handle, a Python object). The library never touches it. */
    void *user_data;

    /**
     * Read an object.
     * @param[out] out receives the object as JSON (valkeyaddon_buffer_set())
     * @return 0; VALKEYADDON_ENOTFOUND when absent; another negative code
     */
    int (*get)(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
               const valkeyaddon_resource *resource, const char *namespace_, const char *name);

    /**
     * Create an object that must not exist yet (the body names it).
     * @param[out] out receives the created object as JSON; may be left empty
     * @return 0; VALKEYADDON_EEXISTS when it exists; another negative code
     */
    int (*create)(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                  const valkeyaddon_resource *resource, const char *namespace_,
                  const char *json, size_t len);

    /**
     * Server-side apply: create the object or converge the fields this field
     * manager owns to the body's (fields it owned before and omits now are removed).
     * @param[out] out receives the resulting object as JSON; may be left empty
     * @param force 1 to take ownership of fields another manager owns
     * @return 0; VALKEYADDON_ECONFLICT when another manager owns a field and
     *         force is 0; another negative code
     */
    int (*apply)(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                 const valkeyaddon_resource *resource, const char *namespace_, const char *name,
                 const char *json, size_t len, const char *field_manager, int force);

    /**
     * Delete an object.
     * @param flags 0, or VALKEYADDON_REMOVE_ORPHAN: leave the object's dependents
     *        (a StatefulSet's pods and volume claims) in place, as
     *        `propagationPolicy: Orphan` does
     * @return 0; VALKEYADDON_ENOTFOUND when absent; another negative code
     */
    int (*remove)(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                  const char *namespace_, const char *name, unsigned int flags);

    /**
     * Optional (NULL when unsupported): deliver changes of one object after
     * resource_version ("" for its current state first) until the callback
     * stops the watch or timeout_ms passes.
     * @return the callback's positive value; VALKEYADDON_ETIMEOUT; a negative code
     */
    int (*watch)(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                 const char *namespace_, const char *name, const char *resource_version, long timeout_ms,
                 valkeyaddon_watch_cb callback, void *payload);

    /** Release the transport. Called once, by the context that owns it. */
    void (*free)(valkeyaddon_transport *self);

    /* members above are valid for version 1; append only */

    /**
     * Optional (version 2; NULL for a cluster): where clients reach the add-on's
     * ClusterIP Service. A transport that is not a Kubernetes cluster (the
     * local one runs servers on loopback ports) answers here, so that the auth
     * Secret's `uri`, `host` and `port` are right from their first write; when
     * NULL, `{name}.{namespace}.svc.{cluster_domain}:6379` is used. Called
     * before the add-on's objects are written; must give the same answer for
     * the same Service every time.
     * @param[out] host receives the host name or address (valkeyaddon_buffer_set())
     * @param[out] port receives the TCP port (1 to 65535)
     * @param service the Service name (valkey_name())
     * @return 0; a negative code
     */
    int (*address)(valkeyaddon_buffer *host, int32_t *port, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                   const char *namespace_, const char *service);

    /* members above are valid for version 2; append only */
};

/** The transport version these headers describe. */
#define VALKEYADDON_TRANSPORT_VERSION 2
/** Static initialiser for valkeyaddon_transport. */
#define VALKEYADDON_TRANSPORT_INIT { VALKEYADDON_TRANSPORT_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/**
 * Give the context a transport. The context owns it from then on and frees
 * any transport it had before.
 *
 * @param ctx the context
 * @param transport the transport; get, create, apply, remove and free are
 *        required, watch is optional
 * @return 0; VALKEYADDON_EINVAL for a NULL argument or a missing member;
 *         VALKEYADDON_EVERSION for version 0 or a version newer than this
 *         library (the caller still owns the transport then)
 */
VALKEYADDON_API int valkeyaddon_ctx_set_transport(valkeyaddon_ctx *ctx, valkeyaddon_transport *transport);

/**
 * Record a failure's detail on the context, for plugin authors.
 *
 * @param ctx the context the plugin was called with; NULL is a no-op
 * @param code the negative code the plugin will return
 * @param message the detail (copied, truncated to 1023 bytes); never Secret data
 * @return code, so a plugin may `return valkeyaddon_ctx_set_error(ctx, code, "...")`
 */
VALKEYADDON_API int valkeyaddon_ctx_set_error(valkeyaddon_ctx *ctx, int code, const char *message);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_SYS_TRANSPORT_H */
