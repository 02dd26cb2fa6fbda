/*
 * Watch one object: a streamed GET ?watch=1 on its collection, filtered by
 * name, re-opened from the last resourceVersion when the server ends it, and
 * re-listed when the server answers 410 Gone (the version is too old), as
 * client-go's reflector does.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_tree.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/kubernetes/api_status.h"
#include "transport/kubernetes/kube.h"
#include "util/json_tree.h"

/* A watch stream that lived this long was healthy even without an event (client-go's "very short watch"). */
#define HEALTHY_WATCH_MS 1000

struct watch_state {
    valkeyaddon_ctx *ctx;
    valkeyaddon_watch_cb callback;
    void *payload;
    valkeyaddon_buffer line;   /* a partial event line */
    char resource_version[64]; /* the last seen */
    int result;                /* non-zero: stop (callback's value or an error) */
    int gone;                  /* the server said 410: re-list */
    long http_status;
    long retry_after_s;        /* the refusal's Retry-After, -1 when absent */
    size_t max_line, max_body; /* caps on one event line and on an error answer (kube.h) */
    int too_large;             /* an event or error answer went past its cap: reading stopped */
    int events;                /* lines received on this stream */
    CURL *curl;
};

static int event_type(const char *type)
{
    if (strcmp(type, "ADDED") == 0)
        return VALKEYADDON_WATCH_ADDED;
    if (strcmp(type, "MODIFIED") == 0)
        return VALKEYADDON_WATCH_MODIFIED;
    if (strcmp(type, "DELETED") == 0)
        return VALKEYADDON_WATCH_DELETED;
    if (strcmp(type, "BOOKMARK") == 0)
        return VALKEYADDON_WATCH_BOOKMARK;
    if (strcmp(type, "ERROR") == 0)
        return -1;
    return 0;
}

static void remember_version(struct watch_state *w, yajl_val object)
{
    const char *rv = valkeyaddon__json_string(object, "metadata", "resourceVersion", NULL);

    if (rv && strlen(rv) < sizeof(w->resource_version))
        strcpy(w->resource_version, rv);
}

/* Deliver one object to the callback; sets w->result when it says stop. */
static void deliver(struct watch_state *w, int type, yajl_val object)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (valkeyaddon__json_tree_to_text(&text, &len, object) < 0) {
        w->result = valkeyaddon__error(w->ctx, VALKEYADDON_ENOMEM, "watch: out of memory");
        return;
    }
    remember_version(w, object);
    rc = w->callback(type, text, len, w->payload);
    OPENSSL_cleanse(text, len);
    valkeyaddon__free(text);
    if (rc != 0)
        w->result = rc;
}

static void handle_line(struct watch_state *w, char *line)
{
    yajl_val root = valkeyaddon__json_parse(line);
    const char *type_name = valkeyaddon__json_string(root, "type", NULL, NULL);
    const char *path[] = { "object", NULL };
    yajl_val object = root ? yajl_tree_get(root, path, yajl_t_object) : NULL;
    int type;

    if (!root || !type_name || !object) {
        w->result = valkeyaddon__error(w->ctx, VALKEYADDON_ESERVER, "watch: the server sent a malformed event");
        yajl_tree_free(root);
        return;
    }
    type = event_type(type_name);
    if (type < 0) {
        int64_t code = valkeyaddon__json_int(object, 0, "code", NULL, NULL);
        if (code == 410)
            w->gone = 1;
        else
            w->result = valkeyaddon__kube_status_error(w->ctx, code ? (long)code : 500, NULL, 0,
                                                       "watch: the server ended the watch", 0);
    } else if (type == VALKEYADDON_WATCH_BOOKMARK) {
        remember_version(w, object);
    } else if (type > 0) {
        deliver(w, type, object);
    }
    yajl_tree_free(root);
}

static size_t on_stream(char *data, size_t size, size_t count, void *userdata)
{
    struct watch_state *w = userdata;
    size_t len = size * count, start = 0, i;

    if (w->http_status == 0)
        curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &w->http_status);
    if (w->http_status != 200) {
        /* An error answer is a Status body, not events: keep it whole for the message (up to the body cap). */
        if (len > w->max_body - w->line.len) {
            w->too_large = 1;
            return 0;
        }
        return valkeyaddon_buffer_append(&w->line, data, len) == 0 ? len : 0;
    }
    for (i = 0; i <= len && !w->result && !w->gone; i++) {
        if (i < len && data[i] != '\n')
            continue;
        /* An event past the cap is refused before it is kept whole: memory stays bounded by the cap. */
        if (i - start > w->max_line - w->line.len) {
            w->too_large = 1;
            break;
        }
        if (valkeyaddon_buffer_append(&w->line, data + start, i - start) < 0) {
            w->result = valkeyaddon__error(w->ctx, VALKEYADDON_ENOMEM, "watch: out of memory");
            break;
        }
        if (i == len)
            break; /* the rest of a line that continues in the next chunk */
        if (w->line.len) {
            w->events++;
            handle_line(w, w->line.data);
        }
        valkeyaddon__buffer_dispose_secret(&w->line);
        start = i + 1;
    }
    /* Returning less than len makes libcurl abort the stream: the caller is done with it. */
    return w->result || w->gone || w->too_large ? 0 : len;
}

/* Set as the header function (without one libcurl hands headers to the write function). */
static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct watch_state *w = userdata;
    long seconds = valkeyaddon__kube_retry_after(data, size * count);

    if (seconds >= 0)
        w->retry_after_s = seconds;
    return size * count;
}

/* After 410: read the object afresh, deliver it, and watch on from its version. */
static int relist(struct kube_transport *t, struct watch_state *w, const valkeyaddon_resource *r, const char *ns,
                  const char *name)
{
    valkeyaddon_buffer body = VALKEYADDON__BUFFER_INIT;
    int error = t->base.get(&body, &t->base, w->ctx, r, ns, name);

    w->gone = 0;
    w->resource_version[0] = '\0';
    if (error == VALKEYADDON_ENOTFOUND) {
        valkeyaddon__begin(w->ctx);
        error = VALKEYADDON_OK;
    } else if (error == VALKEYADDON_OK) {
        yajl_val root = valkeyaddon__json_parse(body.data ? body.data : "");
        if (root)
            deliver(w, VALKEYADDON_WATCH_MODIFIED, root);
        else
            error = valkeyaddon__error(w->ctx, VALKEYADDON_ESERVER, "watch: the server sent a malformed object");
        yajl_tree_free(root);
    }
    valkeyaddon__buffer_dispose_secret(&body);
    return error;
}

static char *watch_url(struct kube_transport *t, const valkeyaddon_resource *r, const char *ns, const char *name,
                       const char *rv, long seconds)
{
    char query[512];
    char *escaped = curl_easy_escape(t->curl, name, 0), *url;

    if (!escaped)
        return NULL;
    snprintf(query, sizeof(query),
             "watch=1&allowWatchBookmarks=true&fieldSelector=metadata.name%%3D%s&timeoutSeconds=%ld%s%s", escaped,
             seconds, *rv ? "&resourceVersion=" : "", rv);
    curl_free(escaped);
    url = valkeyaddon__kube_url(t, r, ns, NULL, query);
    return url;
}

int valkeyaddon__kube_watch(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                            const char *ns, const char *name, const char *resource_version, long timeout_ms,
                            valkeyaddon_watch_cb callback, void *payload)
{
    struct kube_transport *t = (struct kube_transport *)self;
    long long deadline = valkeyaddon__kube_now_ms() + timeout_ms;
    struct watch_state w;
    int error = VALKEYADDON_OK, refreshed = 0, force_refresh = 0, attempt = 0;
    long long opened_at;

    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.callback = callback;
    w.payload = payload;
    w.curl = t->curl;
    w.max_line = t->max_watch_event_bytes;
    w.max_body = t->max_response_bytes;
    if (resource_version && strlen(resource_version) < sizeof(w.resource_version))
        strcpy(w.resource_version, resource_version);

    while (!w.result) {
        long long left = deadline - valkeyaddon__kube_now_ms();
        struct curl_slist *headers = NULL;
        char *url;
        CURLcode rc;

        if (left <= 0)
            break;
        if (w.gone && (error = relist(t, &w, r, ns, name)) < 0)
            break;
        if (w.result)
            break;
        if (!(url = watch_url(t, r, ns, name, w.resource_version, (long)((left + 999) / 1000)))) {
            error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "watch: out of memory");
            break;
        }
        if (!(headers = curl_slist_append(NULL, "Accept: application/json")) ||
            (error = valkeyaddon__kube_prepare_auth(t, ctx, &headers, force_refresh)) < 0) {
            valkeyaddon__kube_free_headers(headers);
            valkeyaddon__free(url);
            if (!error)
                error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "watch: out of memory");
            break;
        }
        force_refresh = 0;
        curl_easy_setopt(t->curl, CURLOPT_URL, url);
        curl_easy_setopt(t->curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(t->curl, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_stream);
        curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &w);
        curl_easy_setopt(t->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(t->curl, CURLOPT_HEADERDATA, &w);
        curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, (long)left + 1000);
        w.http_status = 0;
        w.retry_after_s = -1;
        w.events = 0;
        opened_at = valkeyaddon__kube_now_ms();
        rc = curl_easy_perform(t->curl);
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &w.http_status);
        valkeyaddon__kube_free_headers(headers);
        valkeyaddon__free(url);
        /*
         * A stream that served (an event, or a second of life: client-go's
         * "very short watch" rule) was healthy: the next pause starts from
         * the shortest. One closed at once with nothing is a failure.
         */
        if (w.http_status == 200 && (w.events || valkeyaddon__kube_now_ms() - opened_at >= HEALTHY_WATCH_MS))
            attempt = 0;
        if (w.too_large) {
            char what[512];
            snprintf(what, sizeof(what), "watch %s %s/%s", r->kind, ns, name);
            error = w.http_status == 200
                        ? valkeyaddon__kube_too_large(ctx, what, "an event", t->max_watch_event_bytes,
                                                      "max_watch_event_bytes")
                        : valkeyaddon__kube_too_large(ctx, what, "a response", t->max_response_bytes,
                                                      "max_response_bytes");
            break;
        }
        if (w.result || w.gone) {
            valkeyaddon__buffer_dispose_secret(&w.line);
            continue;
        }
        if (rc == CURLE_OK && w.http_status == 410) {
            valkeyaddon__buffer_dispose_secret(&w.line);
            w.gone = 1;
            continue;
        }
        if (rc == CURLE_OK && w.http_status == 401 && !refreshed && (t->config.has_exec || t->config.token_file)) {
            /* As valkeyaddon__kube_request: a rotated token or an expired exec credential, renewed once. */
            valkeyaddon__buffer_dispose_secret(&w.line);
            refreshed = force_refresh = 1;
            valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "watch: HTTP 401; renewing the credentials and retrying once");
            continue;
        }
        if (rc == CURLE_OK && (w.http_status == 429 || w.http_status >= 500)) {
            /*
             * Overload or a server hiccup: re-open as a request is retried
             * (http.c), after Retry-After or a backoff. A pause that would end
             * past the deadline is not taken: the refusal is the answer.
             */
            long long delay = valkeyaddon__kube_retry_delay_ms(t, w.retry_after_s, attempt);
            if (valkeyaddon__kube_now_ms() + delay < deadline) {
                valkeyaddon__buffer_dispose_secret(&w.line);
                valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "watch: HTTP %ld; retrying in %lld ms",
                                 w.http_status, delay);
                valkeyaddon__kube_sleep_ms(delay);
                attempt++;
                continue;
            }
        }
        if (rc == CURLE_OK && w.http_status >= 400) {
            error = valkeyaddon__kube_status_error(ctx, w.http_status, w.line.data, w.line.len, "watch", 0);
            break;
        }
        valkeyaddon__buffer_dispose_secret(&w.line);
        if (rc != CURLE_OK && (error = valkeyaddon__kube_tls_failure(t, ctx, (int)rc, "watch")) < 0)
            break;
        /*
         * A stream that ended (server timeout, clean close, dropped
         * connection) is re-opened, never at once: a server that closes every
         * watch as soon as it opens would otherwise be asked again in a tight
         * loop. The pause is the one rule (kube.h), never past the deadline.
         */
        {
            long long delay = valkeyaddon__kube_retry_delay_ms(t, -1, attempt++);
            long long until_deadline = deadline - valkeyaddon__kube_now_ms();
            valkeyaddon__log(ctx, rc == CURLE_OK ? VALKEYADDON_LOG_DEBUG : VALKEYADDON_LOG_WARNING,
                             "watch: %s; re-opening in %lld ms",
                             rc == CURLE_OK ? "the server ended the stream" : curl_easy_strerror(rc), delay);
            valkeyaddon__kube_sleep_ms(delay < until_deadline ? delay : (until_deadline > 0 ? until_deadline : 0));
        }
    }
    valkeyaddon__buffer_dispose_secret(&w.line);
    if (error < 0)
        return error;
    if (w.result)
        return w.result;
    return valkeyaddon__error(ctx, VALKEYADDON_ETIMEOUT, "watch %s %s/%s: no decision within %ld ms", r->kind, ns,
                              name, timeout_ms);
}
