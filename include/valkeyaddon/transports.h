/**
 * @file valkeyaddon/transports.h
 * @brief Constructors of the built-in transports.
 *
 * Each returns a transport the caller owns until it hands it to
 * valkeyaddon_ctx_set_transport() (which then owns it). To write your own,
 * see valkeyaddon/sys/transport.h.
 */
#ifndef VALKEYADDON_TRANSPORTS_H
#define VALKEYADDON_TRANSPORTS_H

#include "common.h"
#include "sys/transport.h"
#include "render.h"

VALKEYADDON_BEGIN_DECL

/**
 * An in-memory transport: a map from (kind, namespace, name) to the JSON last
 * written. For tests and dry runs. It models no API server semantics: apply
 * stores the body as given (no field ownership, no merging), create fails with
 * VALKEYADDON_EEXISTS for an existing name, get and remove with
 * VALKEYADDON_ENOTFOUND for a missing one; no watch.
 *
 * @param[out] out receives the transport; release it with its `free` member
 *        unless a context took it
 * @return 0, VALKEYADDON_EINVAL, or VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_transport_memory_new(valkeyaddon_transport **out);

/**
 * The render transport: every object written through it (created or applied)
 * is rendered, as valkeyaddon_render() renders it, and handed to callback;
 * it is also kept in memory so later reads in the same run see it. Nothing is
 * sent anywhere. `--transport render` of the command line.
 *
 * @param[out] out receives the transport
 * @param format a valkeyaddon_render_format
 * @param callback receives each written object (a non-zero return fails the write)
 * @param payload passed to callback
 * @return 0, VALKEYADDON_EINVAL, or VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_transport_render_new(valkeyaddon_transport **out, int format,
                                                     valkeyaddon_render_cb callback, void *payload);

/**
 * Options of the Kubernetes transport. Initialise with
 * VALKEYADDON_KUBERNETES_OPTIONS_INIT; zero values mean the defaults.
 */
typedef struct valkeyaddon_kubernetes_options {
    unsigned int version;        /**< VALKEYADDON_KUBERNETES_OPTIONS_VERSION */
    const char *kubeconfig;      /**< kubeconfig path(s), ':'-separated; NULL: $KUBECONFIG, else ~/.kube/config */
    const char *context;         /**< kubeconfig context; NULL: current-context */
    int in_cluster;              /**< 1: the pod's service account instead of a kubeconfig */
    int insecure_skip_tls_verify;/**< 1: do not verify the server's certificate. Never the default;
                                      a kubeconfig asking for it is refused unless this is 1 */
    long connect_timeout_ms;     /**< 0: 10 s */
    long request_timeout_ms;     /**< one request, watches excluded; 0: 30 s */
    long retry_deadline_ms;      /**< retries of 429/5xx/connection failures stop after this; 0: 60 s */
    /* members above are valid for version 1; append only */
    size_t max_response_bytes;   /**< (version 2) the largest response body read from the API server; a
                                      larger one fails with VALKEYADDON_ESERVER, read no further.
                                      0: 8 MiB (docs/hostile-servers.md) */
    size_t max_watch_event_bytes;/**< (version 2) the largest watch event (one line of the stream), as
                                      max_response_bytes. 0: 8 MiB */
    int allow_insecure_http;     /**< (version 2) 1: accept an http:// API server URL (a local proxy such
                                      as kubectl proxy). Even then no credential (token, exec plugin,
                                      client certificate) is sent over it: a user that has one is
                                      refused (docs/kubeconfig.md) */
    /* members above are valid for version 2; append only */
} valkeyaddon_kubernetes_options;

/** The Kubernetes options version these headers describe. */
#define VALKEYADDON_KUBERNETES_OPTIONS_VERSION 2
/** Static initialiser: every default. */
#define VALKEYADDON_KUBERNETES_OPTIONS_INIT \
    { VALKEYADDON_KUBERNETES_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * The Kubernetes API transport (libcurl): configuration like client-go
 * (in-cluster, or kubeconfig with certificate, token, tokenFile and exec
 * credentials), TLS always verified, one kept-alive connection (HTTP/2 where
 * offered), server-side apply, Status bodies as error codes, retries of 429
 * and 5xx honouring Retry-After with exponential backoff and jitter, watches.
 *
 * @param[out] out receives the transport (owned by the caller until given to a context)
 * @param ctx receives the error detail (a kubeconfig problem, ...)
 * @param options may be NULL for the defaults
 * @return 0; VALKEYADDON_ECONFIG; VALKEYADDON_EIO; VALKEYADDON_EINVAL;
 *         VALKEYADDON_EVERSION; VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_transport_kubernetes_new(valkeyaddon_transport **out, valkeyaddon_ctx *ctx,
                                                         const valkeyaddon_kubernetes_options *options);

/**
 * The namespace a Kubernetes transport's configuration selects (the kubeconfig
 * context's namespace, the service account's, else "default").
 *
 * @param transport a transport from valkeyaddon_transport_kubernetes_new()
 * @return a string owned by the transport, or NULL for any other transport
 */
VALKEYADDON_API const char *valkeyaddon_transport_kubernetes_namespace(const valkeyaddon_transport *transport);

/**
 * Options of the local transport. Initialise with
 * VALKEYADDON_LOCAL_OPTIONS_INIT, then set state_dir; zero values mean the
 * defaults.
 */
typedef struct valkeyaddon_local_options {
    unsigned int version;    /**< VALKEYADDON_LOCAL_OPTIONS_VERSION */
    const char *state_dir;   /**< required: objects, server configs, data, logs and pid records live here
                                  (created with mode 0700 when missing; must belong to this user) */
    const char *server_path; /**< the server binary (a path, or a name looked up on PATH); NULL:
                                  `valkey-server` on PATH, else `redis-server` */
    long start_timeout_ms;   /**< how long a started server has to answer on its port; 0: 10 s */
    /* members above are valid for version 1; append only */
    long lock_timeout_ms;    /**< how long a call waits for the state directory's lock that another
                                  process holds (then VALKEYADDON_ETIMEOUT); 0: 30 s */
    /* members above are valid for version 2; append only */
} valkeyaddon_local_options;

/** The local options version these headers describe. */
#define VALKEYADDON_LOCAL_OPTIONS_VERSION 2
/** Static initialiser: every default, no state_dir yet. */
#define VALKEYADDON_LOCAL_OPTIONS_INIT { VALKEYADDON_LOCAL_OPTIONS_VERSION, NULL, NULL, 0, 0 }

/**
 * The local transport (`--transport local`, the command's default): the
 * add-on on this machine, with real servers instead of a cluster.
 *
 * Objects are JSON files under `state_dir` (mode 0600, written atomically),
 * with the memory transport's get/create/apply/remove semantics; every call
 * holds an exclusive lock on `state_dir`, so several processes may share it
 * (a call waits at most `lock_timeout_ms` for another process to release it).
 * Writing the StatefulSet starts (or, when its plan changed, restarts) one
 * server per replica on 127.0.0.1 with the plan's maxmemory, noeviction and
 * persistence, detached so they outlive the caller; reading it reports
 * replicas that really answer AUTH and PING; deleting it stops them (and,
 * unless orphaned, deletes their data). `address` gives each Service a
 * loopback port, chosen once and kept. The password reaches servers only
 * through their configuration files (mode 0600), never argv.
 * docs/local-transport.md describes the layout.
 *
 * @param[out] out receives the transport (owned by the caller until given to a context)
 * @param ctx receives the error detail; may be NULL
 * @param options the options; state_dir is required
 * @return 0; VALKEYADDON_EINVAL; VALKEYADDON_EVERSION; VALKEYADDON_EIO (the
 *         state directory cannot be created or locked); (from a call, not here)
 *         VALKEYADDON_ETIMEOUT when another process held the lock too long; VALKEYADDON_ECONFIG
 *         (it belongs to another user); VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_transport_local_new(valkeyaddon_transport **out, valkeyaddon_ctx *ctx,
                                                    const valkeyaddon_local_options *options);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_TRANSPORTS_H */
