/* Control requests to the Kubernetes API test server (kube_control.h). */
#include "../unit/helpers.h"

#include <stdlib.h>

#include "kube_control.h"

void kube_control_open(struct kube_control *c, const struct kube_server *server)
{
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    assert_non_null(c->curl = curl_easy_init());
    c->server = server;
}

void kube_control_close(struct kube_control *c)
{
    if (!c->server)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
    c->server = NULL;
    curl_global_cleanup();
}

struct body {
    char *data;
    size_t len;
};

static size_t collect(char *data, size_t size, size_t count, void *payload)
{
    struct body *b = payload;
    char *grown = realloc(b->data, b->len + size * count + 1);

    if (!grown)
        return 0;
    memcpy(grown + b->len, data, size * count);
    b->data = grown;
    b->len += size * count;
    b->data[b->len] = '\0';
    return size * count;
}

long kube_control_request(struct kube_control *c, const char *method, const char *path, const char *content_type,
                          const char *json, yajl_val *parsed)
{
    struct curl_slist *headers = NULL;
    struct body b = { NULL, 0 };
    char url[1024], auth[512], ctype[128];
    long status = 0;
    CURLcode rc = CURLE_OK;
    int attempt;

    assert_non_null(c->curl);
    snprintf(url, sizeof(url), "%s%s", c->server->url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->server->token);
    snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type ? content_type : "application/json");
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, ctype);
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->server->ca);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 20L);
    if (json)
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, json);
    /* The server closes idle keep-alive connections: one fresh attempt. */
    for (attempt = 0; attempt < 2; attempt++) {
        free(b.data);
        b.data = NULL;
        b.len = 0;
        if ((rc = curl_easy_perform(c->curl)) == CURLE_OK)
            break;
    }
    curl_slist_free_all(headers);
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (parsed) {
        *parsed = b.data ? yajl_tree_parse(b.data, NULL, 0) : NULL;
        assert_non_null(*parsed);
    }
    free(b.data);
    return status;
}

yajl_val kube_control_json(struct kube_control *c, const char *method, const char *path, const char *json)
{
    yajl_val parsed = NULL;
    long status = kube_control_request(c, method, path, "application/json", json, &parsed);

    if (status >= 300)
        fail_msg("%s %s: HTTP %ld", method, path, status);
    return parsed;
}

void kube_control_send(struct kube_control *c, const char *method, const char *path, const char *json)
{
    yajl_tree_free(kube_control_json(c, method, path, json));
}
