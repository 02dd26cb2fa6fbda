/*
 * Requests to the Kubernetes API test server with its admin token, as another
 * client would send them: the /_test control API (reset, faults, request log,
 * StatefulSet status; README.md) and raw API requests. Failures are cmocka
 * failures.
 */
#ifndef VALKEYADDON_TESTS_SUPPORT_KUBE_CONTROL_H
#define VALKEYADDON_TESTS_SUPPORT_KUBE_CONTROL_H

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "kube_server.h"

struct kube_control {
    CURL *curl;
    const struct kube_server *server;
};

/* Initialise libcurl and a client of server (which must outlive it). */
void kube_control_open(struct kube_control *c, const struct kube_server *server);

/* Release the client and libcurl (safe on a zeroed or closed one). */
void kube_control_close(struct kube_control *c);

/* One request (content_type NULL: application/json; json NULL: no body); returns the
 * HTTP status, and the parsed body in *parsed if wanted (the test fails if it is not JSON). */
long kube_control_request(struct kube_control *c, const char *method, const char *path, const char *content_type,
                          const char *json, yajl_val *parsed);

/* A request that must succeed (HTTP < 300); returns the parsed body, for yajl_tree_free. */
yajl_val kube_control_json(struct kube_control *c, const char *method, const char *path, const char *json);

/* The same, the body dropped. */
void kube_control_send(struct kube_control *c, const char *method, const char *path, const char *json);

#endif
