/* Requests to the API server over one libcurl handle: auth, TLS, retries (kube.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/kubernetes/api_status.h"
#include "transport/kubernetes/kube.h"

/* An exec credential is renewed this long before it expires. */
#define EXPIRY_SKEW_SECONDS 10

long long valkeyaddon__kube_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void valkeyaddon__kube_sleep_ms(long long ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void valkeyaddon__kube_set_client_cert(CURL *curl, unsigned char *cert, size_t cert_len, unsigned char *key,
                                       size_t key_len)
{
    struct curl_blob blob;

    /* libcurl copies the PEM (CURL_BLOB_COPY); the caller keeps and wipes its own. */
    blob.data = cert;
    blob.len = cert_len;
    blob.flags = CURL_BLOB_COPY;
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    blob.data = key;
    blob.len = key_len;
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
}

char *valkeyaddon__kube_url(struct kube_transport *t, const valkeyaddon_resource *r, const char *ns,
                            const char *name, const char *query)
{
    const char *server = t->base_url ? t->base_url : t->config.server;
    size_t server_len = strlen(server);
    char *url;
    int len;
    /* Core kinds live under /api/v1, the others under /apis/<group>/<version>. */
    const char *prefix = strchr(r->api_version, '/') ? "/apis/" : "/api/";
    const char *fmt = name ? "%.*s%s%s/namespaces/%s/%s/%s%s%s" : "%.*s%s%s/namespaces/%s/%s%s%s%s";

    while (server_len && server[server_len - 1] == '/')
        server_len--;
    len = snprintf(NULL, 0, fmt, (int)server_len, server, prefix, r->api_version, ns, r->plural, name ? name : "",
                   *query ? "?" : "", query);
    if (len < 0 || !(url = valkeyaddon__malloc((size_t)len + 1)))
        return NULL;
    snprintf(url, (size_t)len + 1, fmt, (int)server_len, server, prefix, r->api_version, ns, r->plural,
             name ? name : "", *query ? "?" : "", query);
    return url;
}

static void set_token(struct kube_transport *t, char *token)
{
    valkeyaddon__free_secret(t->token, (size_t)-1);
    t->token = token;
}

/* Read a token file (first line, trimmed): 0; 1 when unreadable (*errnum set); 2 when empty; -1 on ENOMEM. */
static int load_token_file(struct kube_transport *t, int *errnum)
{
    FILE *f = fopen(t->config.token_file, "r");
    char line[8192];
    size_t len;
    char *token;

    if (!f) {
        *errnum = errno;
        return 1;
    }
    len = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[len] = '\0';
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
        line[--len] = '\0';
    if (!len)
        return 2;
    token = valkeyaddon__strdup(line);
    OPENSSL_cleanse(line, sizeof(line));
    if (!token)
        return -1;
    set_token(t, token);
    return 0;
}

/*
 * (Re-)read the token file. keep_old: the periodic re-read; as client-go's
 * cachingTokenSource, when the file cannot be read (being replaced, briefly
 * empty) keep the token we have and warn, rather than fail a request the old
 * token may still serve. Either way the next attempt is a period away.
 */
static int read_token_file(struct kube_transport *t, valkeyaddon_ctx *ctx, int keep_old)
{
    int errnum = 0;
    int rc = load_token_file(t, &errnum);

    if (rc < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory reading the token file");
    if (rc > 0 && !(keep_old && t->token)) {
        if (rc == 1)
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "cannot read the token file %s: %s",
                                      t->config.token_file, strerror(errnum));
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the token file %s is empty", t->config.token_file);
    }
    if (rc > 0)
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "the token file %s %s%s; still using the token read before",
                         t->config.token_file, rc == 1 ? "cannot be read: " : "is empty",
                         rc == 1 ? strerror(errnum) : "");
    t->token_read_at_ms = valkeyaddon__kube_now_ms();
    return VALKEYADDON_OK;
}

int valkeyaddon__kube_set_token_reread_ms(valkeyaddon_transport *transport, long long period_ms)
{
    struct kube_transport *t = (struct kube_transport *)transport;

    if (!transport || period_ms < 0 || t->magic != VALKEYADDON__KUBE_MAGIC)
        return VALKEYADDON_EINVAL;
    t->token_reread_ms = period_ms;
    return VALKEYADDON_OK;
}

static int refresh_exec(struct kube_transport *t, valkeyaddon_ctx *ctx, int force)
{
    struct valkeyaddon__kube_credential *c = &t->exec_credential;
    int have = c->token || c->client_cert_data;
    int expired = c->expiration && (long long)time(NULL) + EXPIRY_SKEW_SECONDS >= c->expiration;
    int error;

    if (have && !expired && !force)
        return VALKEYADDON_OK;
    valkeyaddon__kube_credential_clear(c);
    if ((error = valkeyaddon__kube_exec_run(c, ctx, &t->config.exec, t->request_timeout_ms)) < 0)
        return error;
    if (c->client_cert_data && c->client_key_data &&
        (error = valkeyaddon__kube_check_client_cert(ctx, NULL, c->client_cert_data, c->client_cert_data_len,
                                                     "from the exec credential plugin")) < 0)
        return error;
    if (c->client_cert_data && c->client_key_data)
        valkeyaddon__kube_set_client_cert(t->curl, c->client_cert_data, c->client_cert_data_len, c->client_key_data,
                                          c->client_key_data_len);
    return VALKEYADDON_OK;
}

int valkeyaddon__kube_prepare_auth(struct kube_transport *t, valkeyaddon_ctx *ctx, struct curl_slist **headers,
                                   int force_refresh)
{
    const char *token = NULL;
    int error;

    if (t->config.has_exec) {
        if ((error = refresh_exec(t, ctx, force_refresh)) < 0)
            return error;
        token = t->exec_credential.token;
    } else if (t->config.token_file && (force_refresh || !t->token)) {
        /* First use, or the server refused the token we had: the file must be read now. */
        if ((error = read_token_file(t, ctx, 0)) < 0)
            return error;
        token = t->token;
    } else if (t->config.token_file &&
               (!t->token_read_at_ms || valkeyaddon__kube_now_ms() - t->token_read_at_ms >= t->token_reread_ms)) {
        /* Periodically, as the kubelet rotates projected tokens before the old one expires. */
        if ((error = read_token_file(t, ctx, 1)) < 0)
            return error;
        token = t->token;
    } else {
        token = t->token;
    }
    if (token) {
        size_t size = strlen(token) + sizeof("Authorization: Bearer ");
        char *header = valkeyaddon__malloc(size);
        struct curl_slist *grown;
        if (!header)
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
        snprintf(header, size, "Authorization: Bearer %s", token);
        grown = curl_slist_append(*headers, header);
        OPENSSL_cleanse(header, size);
        valkeyaddon__free(header);
        if (!grown)
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
        *headers = grown;
    }
    return VALKEYADDON_OK;
}

/* Returning less than was given makes libcurl stop reading (CURLE_WRITE_ERROR): past the cap, nothing more is kept. */
static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct kube_response *resp = userdata;
    size_t len = size * count;

    if (len > resp->max_bytes - resp->body.len) {
        resp->too_large = 1;
        return 0;
    }
    return valkeyaddon_buffer_append(&resp->body, data, len) == 0 ? len : 0;
}

int valkeyaddon__kube_too_large(valkeyaddon_ctx *ctx, const char *what, const char *thing, size_t cap,
                                const char *option)
{
    return valkeyaddon__error(ctx, VALKEYADDON_ESERVER,
                              "%s: the server sent %s larger than the %zu-byte cap; reading stopped (raise the "
                              "Kubernetes transport's %s option if such objects are expected)",
                              what, thing, cap, option);
}

long valkeyaddon__kube_retry_after(const char *line, size_t len)
{
    char digits[16];
    size_t i = 12, n = 0;

    if (len <= 12 || strncasecmp(line, "Retry-After:", 12) != 0)
        return -1;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    /* Delay-seconds only; an HTTP-date (which the apiserver never sends) means "back off as usual". */
    while (i < len && line[i] >= '0' && line[i] <= '9' && n < sizeof(digits) - 1)
        digits[n++] = line[i++];
    if (!n || n > 6 || (i < len && line[i] != '\r' && line[i] != '\n' && line[i] != ' '))
        return -1;
    digits[n] = '\0';
    return strtol(digits, NULL, 10);
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct kube_response *resp = userdata;
    size_t len = size * count;
    long seconds = valkeyaddon__kube_retry_after(data, len);

    if (seconds >= 0)
        resp->retry_after_s = seconds;
    return len;
}

void valkeyaddon__kube_free_headers(struct curl_slist *headers)
{
    struct curl_slist *h;

    for (h = headers; h; h = h->next)
        OPENSSL_cleanse(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

/* Nothing reached the server: safe to retry any request. */
static int not_sent(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
}

static int lost_after_sending(CURLcode rc)
{
    return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 ||
           rc == CURLE_HTTP2_STREAM || rc == CURLE_SSL_CONNECT_ERROR;
}

static int retryable_status(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* Retry-After, else exponential backoff from 100 ms to 5 s, with full jitter in its upper half. */
long long valkeyaddon__kube_retry_delay_ms(struct kube_transport *t, long retry_after_s, int attempt)
{
    long long base = 100LL << (attempt < 6 ? attempt : 6);
    uint64_t x = t->jitter_state;

    if (retry_after_s >= 0)
        return retry_after_s * 1000LL;
    if (base > 5000)
        base = 5000;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->jitter_state = x;
    return base / 2 + (long long)((x * 2685821657736338717ULL) % (uint64_t)(base / 2 + 1));
}

static CURLcode perform(struct kube_transport *t, const char *method, const char *url, struct curl_slist *headers,
                        const char *body, size_t len, struct kube_response *resp)
{
    CURL *c = t->curl;

    valkeyaddon__buffer_dispose_secret(&resp->body);
    resp->status = 0;
    resp->retry_after_s = -1;
    resp->max_bytes = t->max_response_bytes;
    resp->too_large = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t->request_timeout_ms);
    return curl_easy_perform(c);
}

int valkeyaddon__kube_request(struct kube_transport *t, valkeyaddon_ctx *ctx, const char *method, const char *url,
                              const char *content_type, const char *body, size_t len, int idempotent,
                              const char *what, struct kube_response *resp)
{
    long long deadline = valkeyaddon__kube_now_ms() + t->retry_deadline_ms;
    int attempt = 0, refreshed = 0, force_refresh = 0, error;
    char content_header[128];
    CURLcode rc;

    for (;;) {
        struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
        long long delay;
        int retry;

        if (headers && content_type) {
            struct curl_slist *grown;
            snprintf(content_header, sizeof(content_header), "Content-Type: %s", content_type);
            grown = curl_slist_append(headers, content_header);
            if (!grown) {
                curl_slist_free_all(headers);
                headers = NULL;
            } else {
                headers = grown;
            }
        }
        if (!headers)
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "%s: out of memory", what);
        if ((error = valkeyaddon__kube_prepare_auth(t, ctx, &headers, force_refresh)) < 0) {
            valkeyaddon__kube_free_headers(headers);
            return error;
        }
        force_refresh = 0; /* once: a retry after a 503 must not run an exec plugin again */
        rc = perform(t, method, url, headers, body, len, resp);
        valkeyaddon__kube_free_headers(headers);
        if (resp->too_large) {
            /* Not retried: the same object would come back as large. */
            valkeyaddon__buffer_dispose_secret(&resp->body);
            return valkeyaddon__kube_too_large(ctx, what, "a response", t->max_response_bytes,
                                               "max_response_bytes");
        }
        if (rc == CURLE_OK)
            curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &resp->status);

        if (rc == CURLE_OK && resp->status == 401 && !refreshed && (t->config.has_exec || t->config.token_file)) {
            /* A rotated token or an expired exec credential: renew once and try again. */
            refreshed = force_refresh = 1;
            valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "%s: HTTP 401; %s and retrying once", what,
                             t->config.has_exec ? "running the exec credential plugin again"
                                                : "re-reading the token file");
            continue;
        }
        if (rc == CURLE_OK && !retryable_status(resp->status))
            return VALKEYADDON_OK;
        /* A TLS failure does not go away by retrying: report it now, with what to fix. */
        if (rc != CURLE_OK && (error = valkeyaddon__kube_tls_failure(t, ctx, (int)rc, what)) < 0)
            return error;
        retry = rc == CURLE_OK || not_sent(rc) || (idempotent && lost_after_sending(rc));
        delay = valkeyaddon__kube_retry_delay_ms(t, rc == CURLE_OK ? resp->retry_after_s : -1, attempt);
        if (!retry || valkeyaddon__kube_now_ms() + delay > deadline) {
            if (rc == CURLE_OK)
                return VALKEYADDON_OK; /* the caller turns the last status into an error */
            return valkeyaddon__error(ctx, VALKEYADDON_EUNAVAILABLE, "%s: %s (after %d attempt%s)", what,
                                      curl_easy_strerror(rc), attempt + 1, attempt ? "s" : "");
        }
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "%s: %s; retrying in %lld ms", what,
                         rc == CURLE_OK ? "server asked to retry" : curl_easy_strerror(rc), delay);
        valkeyaddon__kube_sleep_ms(delay);
        attempt++;
    }
}
