/* The Kubernetes transport's private state, shared by its files. */
#ifndef VALKEYADDON_KUBE_KUBE_H
#define VALKEYADDON_KUBE_KUBE_H

#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "valkeyaddon/transports.h"
#include "buffer_internal.h"
#include "transport/kubernetes/kubeconfig.h"

#define VALKEYADDON__KUBE_MAGIC 0x6b756265u /* "kube" */

/*
 * The default caps on what one response and one watch event may hold
 * (docs/hostile-servers.md): far above any object the library reads (a
 * StatefulSet is a few KiB; etcd refuses values over 1.5 MiB, so no real
 * object comes near), far below what would hurt a small process.
 */
#define VALKEYADDON__KUBE_MAX_RESPONSE_BYTES ((size_t)8 << 20)
#define VALKEYADDON__KUBE_MAX_WATCH_EVENT_BYTES ((size_t)8 << 20)

/* client-go re-reads a rotating token file about once a minute. */
#define VALKEYADDON__KUBE_TOKEN_REREAD_MS 60000LL

struct kube_transport {
    valkeyaddon_transport base; /* first: the vtable pointer is the object pointer */
    uint32_t magic;
    struct valkeyaddon__kube_config config;
    CURL *curl;                 /* one handle: its connection is reused across calls */
    char *token;                /* current bearer token, or NULL (wiped on change) */
    long long token_read_at_ms; /* when token_file was last read (valkeyaddon__kube_now_ms) */
    long long token_reread_ms;  /* how often token_file is re-read; VALKEYADDON__KUBE_TOKEN_REREAD_MS */
    struct valkeyaddon__kube_credential exec_credential; /* from the exec plugin, if any */
    long connect_timeout_ms, request_timeout_ms, retry_deadline_ms;
    uint64_t jitter_state;
    char *base_url;             /* the server URL naming tls-server-name, or NULL: config.server (tls.c) */
    struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO for tls-server-name, or NULL */
    char errbuf[CURL_ERROR_SIZE];  /* libcurl's detail of the last failure (CURLOPT_ERRORBUFFER) */
    size_t max_response_bytes;     /* a larger body is refused, read no further (options) */
    size_t max_watch_event_bytes;  /* a longer watch line is refused the same way (options) */
};

struct kube_response {
    long status;                /* HTTP status, 0 when no response */
    long retry_after_s;         /* Retry-After, -1 when absent */
    valkeyaddon_buffer body;
    size_t max_bytes;           /* the body's cap (set by the request) */
    int too_large;              /* the body went past max_bytes: reading stopped */
};

/*
 * Report a response or watch event larger than its cap: VALKEYADDON_ESERVER
 * naming what was read, the cap and the option that raises it.
 */
int valkeyaddon__kube_too_large(valkeyaddon_ctx *ctx, const char *what, const char *thing, size_t cap,
                                const char *option);

/*
 * The constructor behind valkeyaddon_transport_kubernetes_new(), which passes
 * NULL for in_cluster_root. With options->in_cluster, the service account is
 * read under in_cluster_root (see valkeyaddon__kube_config_in_cluster()), so
 * that tests can point the transport at a service-account directory of their
 * own. Internal: not exported from the shared library.
 */
int valkeyaddon__kube_transport_new(valkeyaddon_transport **out, valkeyaddon_ctx *ctx,
                                    const valkeyaddon_kubernetes_options *options, const char *in_cluster_root);

/*
 * Set how often a Kubernetes transport re-reads its token file (ms; 0: before
 * every request). For tests of the periodic re-read, which would otherwise
 * wait a minute. VALKEYADDON_EINVAL for another transport or a negative period.
 */
int valkeyaddon__kube_set_token_reread_ms(valkeyaddon_transport *transport, long long period_ms);

/* Free a request's header list, wiping it first (it carries the bearer token). */
void valkeyaddon__kube_free_headers(struct curl_slist *headers);

/* Use PEM client certificate and key from memory (copied by libcurl). */
void valkeyaddon__kube_set_client_cert(CURL *curl, unsigned char *cert, size_t cert_len, unsigned char *key,
                                       size_t key_len);

/*
 * tls-server-name (kubeconfig): verify and send as SNI that name while
 * connecting to the server's host (tls.c). 0 or a negative code.
 */
int valkeyaddon__kube_tls_server_name(struct kube_transport *t, valkeyaddon_ctx *ctx);

/*
 * Refuse a client certificate (a PEM file, or PEM in memory when file is
 * NULL) that has expired or is not valid yet: VALKEYADDON_ETLS naming label
 * and the date. A certificate that does not parse is left to libcurl (0).
 */
int valkeyaddon__kube_check_client_cert(valkeyaddon_ctx *ctx, const char *file, const unsigned char *pem,
                                        size_t len, const char *label);

/*
 * When a libcurl failure (a CURLcode) is a TLS failure, report it on ctx
 * (what failed, libcurl's detail from t->errbuf, what to do) and return
 * VALKEYADDON_ETLS; else 0 (not a TLS failure: the caller handles it).
 */
int valkeyaddon__kube_tls_failure(struct kube_transport *t, valkeyaddon_ctx *ctx, int code, const char *what);

/* Monotonic milliseconds. */
long long valkeyaddon__kube_now_ms(void);

/* Sleep ms milliseconds (resumed after a signal). */
void valkeyaddon__kube_sleep_ms(long long ms);

/*
 * The pause before retry `attempt` (0 for the first): the server's
 * Retry-After when it gave one (retry_after_s >= 0), else exponential from
 * 100 ms to 5 s, jittered in its upper half.
 */
long long valkeyaddon__kube_retry_delay_ms(struct kube_transport *t, long retry_after_s, int attempt);

/* A response header line's Retry-After in seconds; -1 when the line is another header or not delay-seconds. */
long valkeyaddon__kube_retry_after(const char *line, size_t len);

/*
 * One API request with retries (429, 5xx and connection failures, bounded by
 * the retry deadline; connection failures after sending only when idempotent).
 * Returns 0 with resp filled (any HTTP status), or a negative code for a
 * transport failure (message on ctx). `what` names the operation for messages.
 */
int valkeyaddon__kube_request(struct kube_transport *t, valkeyaddon_ctx *ctx, const char *method, const char *url,
                              const char *content_type, const char *body, size_t len, int idempotent,
                              const char *what, struct kube_response *resp);

/* The URL of a resource collection or object, with an optional query ("" for none); NULL on ENOMEM. */
char *valkeyaddon__kube_url(struct kube_transport *t, const valkeyaddon_resource *r, const char *ns,
                            const char *name, const char *query);

int valkeyaddon__kube_watch(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                            const char *ns, const char *name, const char *resource_version, long timeout_ms,
                            valkeyaddon_watch_cb callback, void *payload);

/* Set the handle's TLS and auth options for the next request; refreshes rotating credentials. */
int valkeyaddon__kube_prepare_auth(struct kube_transport *t, valkeyaddon_ctx *ctx, struct curl_slist **headers,
                                   int force_refresh);

#endif
