/* The Kubernetes transport: construction and the get/create/apply/remove members (transports.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "global.h"
#include "transport/kubernetes/api_status.h"
#include "transport/kubernetes/kube.h"

static int is_secret(const valkeyaddon_resource *r)
{
    return strcmp(r->kind, "Secret") == 0;
}

static void describe(char *out, size_t size, const char *verb, const valkeyaddon_resource *r, const char *ns,
                     const char *name)
{
    snprintf(out, size, "%s %s %s/%s", verb, r->kind, ns, name ? name : "");
}

/* Turn a response into the member's result: 2xx copies the body out, anything else becomes an error. */
static int finish(valkeyaddon_ctx *ctx, struct kube_response *resp, valkeyaddon_buffer *out, const char *what,
                  const valkeyaddon_resource *r)
{
    int error = VALKEYADDON_OK;

    if (resp->status >= 200 && resp->status < 300) {
        if (out && (error = valkeyaddon_buffer_set(out, resp->body.data ? resp->body.data : "", resp->body.len)) < 0)
            error = valkeyaddon__error(ctx, error, "%s: out of memory", what);
    } else {
        error = valkeyaddon__kube_status_error(ctx, resp->status, resp->body.data, resp->body.len, what, is_secret(r));
    }
    valkeyaddon__buffer_dispose_secret(&resp->body);
    return error;
}

static int call(valkeyaddon_buffer *out, struct kube_transport *t, valkeyaddon_ctx *ctx, const char *verb,
                const char *method, const valkeyaddon_resource *r, const char *ns, const char *name,
                const char *query, const char *content_type, const char *body, size_t len, int idempotent)
{
    struct kube_response resp;
    char what[512];
    char *url;
    int error;

    describe(what, sizeof(what), verb, r, ns, name);
    if (!(url = valkeyaddon__kube_url(t, r, ns, name, query)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "%s: out of memory", what);
    memset(&resp, 0, sizeof(resp));
    error = valkeyaddon__kube_request(t, ctx, method, url, content_type, body, len, idempotent, what, &resp);
    valkeyaddon__free(url);
    if (error < 0) {
        valkeyaddon__buffer_dispose_secret(&resp.body);
        return error;
    }
    return finish(ctx, &resp, out, what, r);
}

static int kube_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                    const valkeyaddon_resource *r, const char *ns, const char *name)
{
    return call(out, (struct kube_transport *)self, ctx, "get", "GET", r, ns, name, "", NULL, NULL, 0, 1);
}

static int kube_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                       const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    return call(out, (struct kube_transport *)self, ctx, "create", "POST", r, ns, NULL, "", "application/json", json,
                len, 0);
}

static int kube_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                      const char *field_manager, int force)
{
    struct kube_transport *t = (struct kube_transport *)self;
    char *manager = curl_easy_escape(t->curl, field_manager, 0);
    char query[512];
    int error;

    if (!manager)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "apply: out of memory");
    snprintf(query, sizeof(query), "fieldManager=%s%s", manager, force ? "&force=true" : "");
    curl_free(manager);
    /* The apply content type takes YAML, and JSON is YAML. Apply is idempotent: safe to retry. */
    error = call(out, t, ctx, "apply", "PATCH", r, ns, name, query, "application/apply-patch+yaml", json, len, 1);
    return error;
}

static int kube_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                       const char *ns, const char *name, unsigned int flags)
{
    /* Background: dependents (pods, owned objects) are collected by the garbage collector. */
    return call(NULL, (struct kube_transport *)self, ctx, "delete", "DELETE", r, ns, name,
                flags & VALKEYADDON_REMOVE_ORPHAN ? "propagationPolicy=Orphan" : "propagationPolicy=Background",
                NULL, NULL, 0, 1);
}

static void kube_free(valkeyaddon_transport *self)
{
    struct kube_transport *t = (struct kube_transport *)self;

    if (t->curl)
        curl_easy_cleanup(t->curl);
    curl_slist_free_all(t->connect_to);
    valkeyaddon__free(t->base_url);
    valkeyaddon__free_secret(t->token, (size_t)-1);
    valkeyaddon__kube_credential_clear(&t->exec_credential);
    valkeyaddon__kube_config_clear(&t->config);
    t->magic = 0;
    valkeyaddon__free(t);
}

static int setup_tls(struct kube_transport *t, valkeyaddon_ctx *ctx, int allow_insecure)
{
    CURL *c = t->curl;
    struct valkeyaddon__kube_config *cfg = &t->config;
    int error;

    if (cfg->insecure_skip_tls_verify && !allow_insecure)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the kubeconfig context %s asks to skip TLS verification; refused (set the "
                                  "transport's insecure_skip_tls_verify option to allow it)",
                                  cfg->context_name ? cfg->context_name : "");
    if (allow_insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (cfg->ca_data) {
        struct curl_blob blob;
        blob.data = cfg->ca_data;
        blob.len = cfg->ca_data_len;
        blob.flags = CURL_BLOB_COPY;
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    } else if (cfg->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    }
    /* An expired certificate is refused here, by name: the server would only drop the handshake. */
    if (cfg->client_cert_data && cfg->client_key_data &&
        (error = valkeyaddon__kube_check_client_cert(ctx, NULL, cfg->client_cert_data, cfg->client_cert_data_len,
                                                     "in client-certificate-data")) < 0)
        return error;
    if (cfg->client_cert_file && cfg->client_key_file &&
        (error = valkeyaddon__kube_check_client_cert(ctx, cfg->client_cert_file, NULL, 0, cfg->client_cert_file)) < 0)
        return error;
    if (cfg->client_cert_data && cfg->client_key_data)
        valkeyaddon__kube_set_client_cert(c, cfg->client_cert_data, cfg->client_cert_data_len, cfg->client_key_data,
                                          cfg->client_key_data_len);
    else if (cfg->client_cert_file && cfg->client_key_file) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, cfg->client_cert_file);
        curl_easy_setopt(c, CURLOPT_SSLKEY, cfg->client_key_file);
    }
    return valkeyaddon__kube_tls_server_name(t, ctx);
}

static int check_options(valkeyaddon_ctx *ctx, const valkeyaddon_kubernetes_options *o)
{
    if (o->version == 0 || o->version > VALKEYADDON_KUBERNETES_OPTIONS_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "options->version: %u is not a Kubernetes options version this library knows "
                                  "(1 to %d)", o->version, VALKEYADDON_KUBERNETES_OPTIONS_VERSION);
    if (o->connect_timeout_ms < 0 || o->request_timeout_ms < 0 || o->retry_deadline_ms < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options: timeouts must not be negative");
    return VALKEYADDON_OK;
}

static int is_plain_http(const char *server)
{
    return strncmp(server, "http://", 7) == 0;
}

/*
 * An http:// server is refused unless the caller allows it; even then no
 * credential goes over it (docs/kubeconfig.md): a user that has one is
 * refused rather than sent anonymously, so that a kubeconfig pointing a real
 * user at plain http fails at once, by name, and not as a puzzling 401 later.
 */
static int check_plain_http(const struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx, int allowed)
{
    const char *credential = cfg->has_exec                                     ? "an exec credential plugin"
                             : cfg->token || cfg->token_file                   ? "a bearer token"
                             : cfg->client_cert_data || cfg->client_cert_file ? "a client certificate and key"
                                                                               : NULL;

    if (!is_plain_http(cfg->server))
        return VALKEYADDON_OK;
    if (!allowed)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the API server %s (context %s) is plain http: refused, as Secrets and credentials "
                                  "would cross the network unencrypted (use https; for a local proxy such as "
                                  "kubectl proxy set the transport's allow_insecure_http option, CLI "
                                  "--allow-insecure-http)",
                                  cfg->server, cfg->context_name ? cfg->context_name : "");
    if (credential)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the API server %s (context %s) is plain http and the user has %s: refused, a "
                                  "credential is never sent over plain http (use https, or a user without "
                                  "credentials: a proxy such as kubectl proxy adds its own)",
                                  cfg->server, cfg->context_name ? cfg->context_name : "", credential);
    return VALKEYADDON_OK;
}

int valkeyaddon_transport_kubernetes_new(valkeyaddon_transport **out, valkeyaddon_ctx *ctx,
                                         const valkeyaddon_kubernetes_options *options)
{
    return valkeyaddon__kube_transport_new(out, ctx, options, NULL);
}

int valkeyaddon__kube_transport_new(valkeyaddon_transport **out, valkeyaddon_ctx *ctx,
                                    const valkeyaddon_kubernetes_options *options, const char *in_cluster_root)
{
    valkeyaddon_kubernetes_options defaults = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    struct kube_transport *t;
    int error;

    valkeyaddon__begin(ctx);
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if (!options)
        options = &defaults;
    if ((error = check_options(ctx, options)) < 0)
        return error;
    if (valkeyaddon__curl_global_init() < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "libcurl could not be initialised");
    if (!(t = valkeyaddon__calloc(1, sizeof(*t))))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
    t->magic = VALKEYADDON__KUBE_MAGIC;
    t->connect_timeout_ms = options->connect_timeout_ms ? options->connect_timeout_ms : 10000;
    t->request_timeout_ms = options->request_timeout_ms ? options->request_timeout_ms : 30000;
    t->retry_deadline_ms = options->retry_deadline_ms ? options->retry_deadline_ms : 60000;
    t->token_reread_ms = VALKEYADDON__KUBE_TOKEN_REREAD_MS;
    t->max_response_bytes = options->version >= 2 && options->max_response_bytes
                                ? options->max_response_bytes
                                : VALKEYADDON__KUBE_MAX_RESPONSE_BYTES;
    t->max_watch_event_bytes = options->version >= 2 && options->max_watch_event_bytes
                                   ? options->max_watch_event_bytes
                                   : VALKEYADDON__KUBE_MAX_WATCH_EVENT_BYTES;
    t->jitter_state = ((uint64_t)valkeyaddon__kube_now_ms() << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;

    error = options->in_cluster ? valkeyaddon__kube_config_in_cluster(&t->config, ctx, in_cluster_root)
                                : valkeyaddon__kube_config_load(&t->config, ctx, options->kubeconfig, options->context);
    if (error < 0) {
        valkeyaddon__free(t);
        return error;
    }
    if ((error = check_plain_http(&t->config, ctx, options->version >= 2 && options->allow_insecure_http)) < 0)
        goto fail;
    if (t->config.token && !(t->token = valkeyaddon__strdup(t->config.token))) {
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
        goto fail;
    }
    if (!(t->curl = curl_easy_init())) {
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "libcurl could not create a handle");
        goto fail;
    }
    curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    curl_easy_setopt(t->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(t->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "libvalkeyaddon/" PACKAGE_VERSION);
    /* Only the scheme checked above: a server URL cannot become plain http behind the check's back. */
    curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, is_plain_http(t->config.server) ? "http" : "https");
    if ((error = setup_tls(t, ctx, options->insecure_skip_tls_verify)) < 0)
        goto fail;

    t->base.version = VALKEYADDON_TRANSPORT_VERSION;
    t->base.get = kube_get;
    t->base.create = kube_create;
    t->base.apply = kube_apply;
    t->base.remove = kube_remove;
    t->base.watch = valkeyaddon__kube_watch;
    t->base.free = kube_free;
    *out = &t->base;
    return VALKEYADDON_OK;
fail:
    kube_free(&t->base);
    return error;
}

const char *valkeyaddon_transport_kubernetes_namespace(const valkeyaddon_transport *transport)
{
    const struct kube_transport *t = (const struct kube_transport *)transport;

    if (!transport || transport->free != kube_free || t->magic != VALKEYADDON__KUBE_MAGIC)
        return NULL;
    return t->config.namespace_;
}
