/*
 * The Kubernetes transport inside one long-lived process, against the API test
 * server (tests/support/kube_api_server.py), which this program starts itself:
 * token files rotated between requests, the in-cluster configuration end to
 * end, apply conflicts, every error class and retries under injected faults.
 * What the server saw is read from its request log (GET /_test/requests).
 * Links libvalkeyaddon-internal.la for the two internal test hooks
 * (valkeyaddon__kube_transport_new with a service-account root, and
 * valkeyaddon__kube_set_token_reread_ms). See docs/kubernetes-tests.md.
 */
#define _GNU_SOURCE 1
#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "alloc.h"
#include "util/base64.h"
#include "transport/kubernetes/kube.h"

#include "files.h"
#include "kube_control.h"
#include "kube_server.h"

#define NS "kube-client-test"
/* Tokens the server accepts through its --token-file, rotated by the tests. Never printed. */
#define TOKEN_A "rotating-token-alpha-1111"
#define TOKEN_B "rotating-token-bravo-2222"
#define TOKEN_C "rotating-token-charlie-3333"
#define SA_TOKEN_1 "service-account-token-one-4444"
#define SA_TOKEN_2 "service-account-token-two-5555"
#define SA_USER "system:serviceaccount:paas:valkeyaddon"

/* The one server every test shares (reset before each). */
static struct {
    struct kube_server server;
    struct kube_control control; /* admin token */
    char dir[64];                /* the temporary directory of the whole run */
    char tokens[128];            /* the server's --token-file */
} S;

static const valkeyaddon_resource CONFIGMAPS = { "v1", "ConfigMap", "configmaps", 1 };
static const valkeyaddon_resource SECRETS = { "v1", "Secret", "secrets", 1 };
static const valkeyaddon_resource STATEFULSETS = { "apps/v1", "StatefulSet", "statefulsets", 1 };

struct fixture {
    struct log_capture log;
    valkeyaddon_ctx *ctx;
    valkeyaddon_transport *t; /* freed by teardown unless given to ctx */
    valkeyaddon_buffer *out;
};

/* ---- files ---- */

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", S.dir, name);
}

/* The server's accepted file tokens: "token,user,uid" lines. */
static void server_tokens(const char *lines)
{
    write_file(S.tokens, lines);
}

static const char *json_str(yajl_val v, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);

    return s ? YAJL_GET_STRING(s) : NULL;
}

/* ---- the server ---- */

static int start_server(void **state)
{
    const char *extra[] = { "--token-file", NULL, "--auto-ready", "0.05", NULL };
    char state_dir[128], log_path[128];

    (void)state;
    strcpy(S.dir, "/tmp/test_kube_client.XXXXXX");
    assert_non_null(mkdtemp(S.dir));
    path_in(S.tokens, sizeof(S.tokens), "server-tokens");
    path_in(state_dir, sizeof(state_dir), "server");
    path_in(log_path, sizeof(log_path), "server.log");
    server_tokens("");
    extra[1] = S.tokens;
    if (kube_server_start(&S.server, NULL, state_dir, log_path, extra) < 0)
        return -1;
    kube_control_open(&S.control, &S.server);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    kube_control_close(&S.control);
    kube_server_stop(&S.server);
    if (S.dir[0])
        remove_tree(S.dir);
    return 0;
}

/* ---- the control API (and raw requests as another client would send them) ---- */

/* What the server logged of one request. */
struct entry {
    char method[8];
    char path[256];
    char query[256];
    char user[128];
    long status; /* 0 for a dropped connection */
    int fault;
};

/* The request log since the last reset (control requests are never in it). */
static size_t logged(struct entry *out, size_t max)
{
    yajl_val root = kube_control_json(&S.control, "GET", "/_test/requests", NULL);
    const char *path[] = { "items", NULL }, *status_path[] = { "status", NULL }, *fault_path[] = { "was_fault", NULL };
    yajl_val items = yajl_tree_get(root, path, yajl_t_array);
    size_t i, n = 0;

    assert_non_null(items);
    for (i = 0; i < items->u.array.len && n < max; i++, n++) {
        yajl_val e = items->u.array.values[i], status = yajl_tree_get(e, status_path, yajl_t_number);
        const char *s;
        memset(&out[n], 0, sizeof(out[n]));
        snprintf(out[n].method, sizeof(out[n].method), "%s", (s = json_str(e, "method")) ? s : "");
        snprintf(out[n].path, sizeof(out[n].path), "%s", (s = json_str(e, "path")) ? s : "");
        snprintf(out[n].query, sizeof(out[n].query), "%s", (s = json_str(e, "query")) ? s : "");
        snprintf(out[n].user, sizeof(out[n].user), "%s", (s = json_str(e, "user")) ? s : "");
        out[n].status = status ? (long)YAJL_GET_INTEGER(status) : 0;
        out[n].fault = YAJL_IS_TRUE(yajl_tree_get(e, fault_path, yajl_t_any));
    }
    yajl_tree_free(root);
    return n;
}

static void clear_log(void)
{
    kube_control_send(&S.control, "DELETE", "/_test/requests", NULL);
}

static void add_fault(const char *json)
{
    kube_control_send(&S.control, "POST", "/_test/faults", json);
}

static void sts_mode(const char *name, const char *mode, int ready)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"namespace\":\"%s\",\"name\":\"%s\",\"mode\":\"%s\",\"ready_replicas\":%d}", NS,
             name, mode, ready);
    kube_control_send(&S.control, "POST", "/_test/statefulset-status", body);
}

/* How the server answers watches (POST /_test/watch-policy); setup() restores the defaults. */
static void watch_policy(const char *json)
{
    kube_control_send(&S.control, "POST", "/_test/watch-policy", json);
}

/* ---- transports and fixtures ---- */

/* A kubeconfig with one context; cluster_ca and user are YAML flow-map members. */
static void write_kubeconfig(char *path, size_t size, const char *name, const char *cluster_ca, const char *user)
{
    char text[40000];

    path_in(path, size, name);
    snprintf(text, sizeof(text),
             "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
             "clusters:\n- name: c\n  cluster: {server: \"%s\", %s}\n"
             "users:\n- name: u\n  user: {%s}\n"
             "contexts:\n- name: t\n  context: {cluster: c, user: u, namespace: " NS "}\n",
             S.server.url, cluster_ca, user);
    write_file(path, text);
}

static void ca_file_member(char *out, size_t size)
{
    snprintf(out, size, "certificate-authority: \"%s\"", S.server.ca);
}

static valkeyaddon_transport *kube_transport(struct fixture *f, const char *kubeconfig, long retry_deadline_ms)
{
    valkeyaddon_kubernetes_options o = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;

    o.kubeconfig = kubeconfig;
    o.retry_deadline_ms = retry_deadline_ms;
    if (valkeyaddon_transport_kubernetes_new(&t, f->ctx, &o) != 0)
        fail_msg("transport: %s", valkeyaddon_ctx_error_message(f->ctx));
    f->t = t;
    return t;
}

/* A transport whose user reads its bearer token from token_path (written with `token`). */
static valkeyaddon_transport *token_file_transport(struct fixture *f, const char *token_path, const char *token)
{
    char kubeconfig[256], ca[600], user[400];

    write_file(token_path, token);
    ca_file_member(ca, sizeof(ca));
    snprintf(user, sizeof(user), "tokenFile: \"%s\"", token_path);
    write_kubeconfig(kubeconfig, sizeof(kubeconfig), "kubeconfig-token-file", ca, user);
    return kube_transport(f, kubeconfig, 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->ctx = new_capturing_ctx(&f->log, VALKEYADDON_LOG_DEBUG);
    assert_int_equal(valkeyaddon_buffer_new(&f->out), 0);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
    server_tokens("");
    kube_control_send(&S.control, "POST", "/_test/reset", NULL);
    kube_control_send(&S.control, "DELETE", "/_test/faults", NULL);
    watch_policy("{\"refuse\":false,\"refuse_without_resource_version\":false,\"bookmark_interval\":60}");
    clear_log();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    if (f->t)
        f->t->free(f->t);
    valkeyaddon_buffer_free(f->out);
    valkeyaddon_ctx_free(f->ctx);
    free(f);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    return 0;
}

/* Give the fixture's transport to its context (which then frees it). */
static void hand_to_ctx(struct fixture *f)
{
    assert_int_equal(valkeyaddon_ctx_set_transport(f->ctx, f->t), 0);
    f->t = NULL;
}

static int get_cm(struct fixture *f, valkeyaddon_transport *t, const char *name)
{
    return t->get(f->out, t, f->ctx, &CONFIGMAPS, NS, name);
}

static void create_cm(struct fixture *f, valkeyaddon_transport *t, const char *name)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"}}", name);
    if (t->create(f->out, t, f->ctx, &CONFIGMAPS, NS, body, strlen(body)) != 0)
        fail_msg("create: %s", valkeyaddon_ctx_error_message(f->ctx));
}

static void assert_not_in_output(struct fixture *f, const char *secret)
{
    assert_null(strstr(valkeyaddon_ctx_error_message(f->ctx), secret));
    assert_null(strstr(f->log.all, secret));
}

/* ---- token rotation in one process ---- */

static void test_kube_client__rotated_token_file_is_re_read_on_401(void **state)
{
    struct fixture *f = *state;
    struct entry e[8];
    char token_path[256];
    valkeyaddon_transport *t;

    path_in(token_path, sizeof(token_path), "token-401");
    server_tokens(TOKEN_A ",user-a,1\n");
    t = token_file_transport(f, token_path, TOKEN_A "\n");
    create_cm(f, t, "rotation");
    assert_int_equal(logged(e, 8), 1);
    assert_string_equal(e[0].user, "user-a");

    /* Rotate: the server forgets the old token and the file holds the new one. */
    server_tokens(TOKEN_B ",user-b,2\n");
    write_file(token_path, TOKEN_B "\n");
    clear_log();
    assert_int_equal(get_cm(f, t, "rotation"), 0);
    assert_int_equal(logged(e, 8), 2);
    assert_int_equal(e[0].status, 401);
    assert_int_equal(e[1].status, 200);
    assert_string_equal(e[1].user, "user-b");
    assert_non_null(strstr(f->log.all, "re-reading the token file"));

    /* The new token is kept: no more 401s. */
    clear_log();
    assert_int_equal(get_cm(f, t, "rotation"), 0);
    assert_int_equal(get_cm(f, t, "rotation"), 0);
    assert_int_equal(logged(e, 8), 2);
    assert_string_equal(e[0].user, "user-b");
    assert_string_equal(e[1].user, "user-b");
    assert_not_in_output(f, TOKEN_A);
    assert_not_in_output(f, TOKEN_B);
}

static void test_kube_client__token_file_is_re_read_periodically(void **state)
{
    struct fixture *f = *state;
    struct entry e[8];
    char token_path[256];
    valkeyaddon_transport *t;
    struct timespec wait = { 1, 100 * 1000000L };

    path_in(token_path, sizeof(token_path), "token-periodic");
    /* Both tokens valid, as during a kubelet rotation: the user tells which one was sent. */
    server_tokens(TOKEN_A ",user-a,1\n" TOKEN_B ",user-b,2\n");
    t = token_file_transport(f, token_path, TOKEN_A);
    assert_int_equal(valkeyaddon__kube_set_token_reread_ms(t, 1000), 0);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    write_file(token_path, TOKEN_B);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND); /* within the period: the cached token */
    nanosleep(&wait, NULL);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND); /* after it: the file again, no 401 first */
    assert_int_equal(logged(e, 8), 3);
    assert_string_equal(e[0].user, "user-a");
    assert_string_equal(e[1].user, "user-a");
    assert_string_equal(e[2].user, "user-b");
    assert_int_equal(e[2].status, 404);

    /* A file missing at a periodic re-read (mid-replacement): keep the last token and warn. */
    assert_int_equal(unlink(token_path), 0);
    nanosleep(&wait, NULL);
    clear_log();
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(logged(e, 8), 1);
    assert_string_equal(e[0].user, "user-b");
    assert_non_null(strstr(f->log.all, "still using the token read before"));
    assert_int_equal(valkeyaddon__kube_set_token_reread_ms(t, -1), VALKEYADDON_EINVAL);
    assert_not_in_output(f, TOKEN_A);
    assert_not_in_output(f, TOKEN_B);
}

static void test_kube_client__default_period_keeps_the_cached_token(void **state)
{
    struct fixture *f = *state;
    struct entry e[8];
    char token_path[256];
    valkeyaddon_transport *t;

    path_in(token_path, sizeof(token_path), "token-default");
    server_tokens(TOKEN_A ",user-a,1\n" TOKEN_B ",user-b,2\n");
    t = token_file_transport(f, token_path, TOKEN_A);
    assert_true(((struct kube_transport *)t)->token_reread_ms == VALKEYADDON__KUBE_TOKEN_REREAD_MS);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    write_file(token_path, TOKEN_B);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(logged(e, 8), 2);
    assert_string_equal(e[1].user, "user-a"); /* a minute has not passed */
}

static void test_kube_client__rejected_token_is_unauthorized_after_one_re_read(void **state)
{
    struct fixture *f = *state;
    struct entry e[8];
    char token_path[256];
    const char *message;
    valkeyaddon_transport *t;

    path_in(token_path, sizeof(token_path), "token-rejected");
    server_tokens(TOKEN_A ",user-a,1\n");
    t = token_file_transport(f, token_path, TOKEN_C);
    assert_int_equal(get_cm(f, t, "x"), VALKEYADDON_EUNAUTHORIZED);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, "get ConfigMap " NS "/x: HTTP 401 Unauthorized"));
    assert_non_null(strstr(message, "renew the token"));
    assert_null(strchr(message, '\n'));
    /* One re-read and one retry, not a loop. */
    assert_int_equal(logged(e, 8), 2);
    assert_int_equal(e[0].status, 401);
    assert_int_equal(e[1].status, 401);
    assert_not_in_output(f, TOKEN_C);
    assert_not_in_output(f, TOKEN_A);
}

static int plugin_runs(const char *count_path)
{
    FILE *f = fopen(count_path, "r");
    int c, lines = 0;

    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

static void test_kube_client__exec_plugin_runs_again_on_401_only_once(void **state)
{
    struct fixture *f = *state;
    char plugin[256], token_path[256], count_path[256], kubeconfig[256], ca[600], user[1024], script[1024];
    struct entry e[16];
    valkeyaddon_transport *t;

    path_in(plugin, sizeof(plugin), "plugin.sh");
    path_in(token_path, sizeof(token_path), "plugin-token");
    path_in(count_path, sizeof(count_path), "plugin-runs");
    snprintf(script, sizeof(script),
             "#!/bin/sh\necho run >> '%s'\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
             "\"status\":{\"token\":\"%%s\"}}' \"$(cat '%s')\"\n",
             count_path, token_path);
    write_file(plugin, script);
    assert_int_equal(chmod(plugin, 0700), 0);
    write_file(token_path, TOKEN_A);
    server_tokens(TOKEN_A ",user-a,1\n");
    ca_file_member(ca, sizeof(ca));
    snprintf(user, sizeof(user),
             "exec: {apiVersion: client.authentication.k8s.io/v1, command: \"%s\", interactiveMode: Never}", plugin);
    write_kubeconfig(kubeconfig, sizeof(kubeconfig), "kubeconfig-exec", ca, user);
    t = kube_transport(f, kubeconfig, 0);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(plugin_runs(count_path), 1); /* the credential is cached */

    /* The plugin's credential changes and the old one is revoked: one 401, one more run. */
    write_file(token_path, TOKEN_B);
    server_tokens(TOKEN_B ",user-b,2\n");
    clear_log();
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(plugin_runs(count_path), 2);
    assert_int_equal(logged(e, 16), 2);
    assert_int_equal(e[0].status, 401);
    assert_string_equal(e[1].user, "user-b");

    /* A 503 after the renewal is retried without running the plugin yet again. */
    write_file(token_path, TOKEN_C);
    server_tokens(TOKEN_C ",user-c,3\n");
    add_fault("{\"count\":1,\"status\":503,\"retry_after\":0,\"path_regex\":\"/configmaps/none\"}");
    clear_log();
    assert_int_equal(get_cm(f, t, "none"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(plugin_runs(count_path), 3);
    assert_int_equal(logged(e, 16), 3);
    assert_int_equal(e[0].status, 401);
    assert_int_equal(e[1].status, 503);
    assert_int_equal(e[2].status, 404);
    assert_string_equal(e[2].user, "user-c");
    assert_not_in_output(f, TOKEN_A);
    assert_not_in_output(f, TOKEN_B);
    assert_not_in_output(f, TOKEN_C);
}

/* ---- in-cluster configuration, end to end ---- */

struct sa_dir {
    char root[256], dir[512], token[600];
};

static void make_service_account(struct sa_dir *sa, const char *token)
{
    char path[600], *ca;
    const char *parts[] = { "/var", "/run", "/secrets", "/kubernetes.io", "/serviceaccount" };
    size_t i;

    path_in(sa->root, sizeof(sa->root), "pod-root");
    strcpy(sa->dir, sa->root);
    mkdir(sa->dir, 0700);
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        strcat(sa->dir, parts[i]);
        mkdir(sa->dir, 0700);
    }
    snprintf(sa->token, sizeof(sa->token), "%s/token", sa->dir);
    write_file(sa->token, token);
    ca = read_file(S.server.ca);
    snprintf(path, sizeof(path), "%s/ca.crt", sa->dir);
    write_file(path, ca);
    free(ca);
    snprintf(path, sizeof(path), "%s/namespace", sa->dir);
    write_file(path, NS "\n");
}

static void set_service_env(void)
{
    char port[16];

    snprintf(port, sizeof(port), "%ld", S.server.port);
    setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", port, 1);
}

static void test_kube_client__in_cluster_provision_with_a_rotated_token(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_kubernetes_options o = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    struct sa_dir sa;
    struct entry e[64];
    const char *ns;
    size_t n, i, unauthorized = 0;

    make_service_account(&sa, SA_TOKEN_1 "\n");
    server_tokens(SA_TOKEN_1 "," SA_USER ",sa-uid\n");
    set_service_env();
    o.in_cluster = 1;
    if (valkeyaddon__kube_transport_new(&f->t, f->ctx, &o, sa.root) != 0)
        fail_msg("in-cluster transport: %s", valkeyaddon_ctx_error_message(f->ctx));
    /* The namespace comes from the service account's namespace file. */
    assert_non_null(ns = valkeyaddon_transport_kubernetes_namespace(f->t));
    assert_string_equal(ns, NS);
    hand_to_ctx(f);

    if (ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard") != 0)
        fail_msg("ensure_valkey: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(result.password_created, 1);

    /* The kubelet rotates the projected token mid-run. */
    server_tokens(SA_TOKEN_2 "," SA_USER ",sa-uid\n");
    write_file(sa.token, SA_TOKEN_2 "\n");
    if (ensure_redis_url_secret(f->ctx, NS, "acme", "web") != 0)
        fail_msg("ensure_redis_url_secret: %s", valkeyaddon_ctx_error_message(f->ctx));
    /* And again before the wait: the watch re-reads the token on its 401 too. */
    server_tokens(SA_TOKEN_1 "," SA_USER ",sa-uid\n");
    write_file(sa.token, SA_TOKEN_1 "\n");
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "web", 20000, NULL, NULL) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    memset(&info, 0, sizeof(info));
    info.version = VALKEYADDON_STATUS_INFO_VERSION;
    assert_int_equal(valkeyaddon_addon_status(&info, f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(info.status, VALKEYADDON_STATUS_READY);
    assert_int_equal(info.desired, 1);

    /* A second ensure in the same process converges without creating anything. */
    memset(&result, 0, sizeof(result));
    result.version = VALKEYADDON_ENSURE_RESULT_VERSION;
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "standard"), 0);
    assert_int_equal(result.password_created, 0);

    n = logged(e, 64);
    assert_true(n > 6);
    for (i = 0; i < n; i++) {
        if (e[i].status == 401) {
            unauthorized++;
            continue;
        }
        assert_string_equal(e[i].user, SA_USER);
        assert_non_null(strstr(e[i].path, "/namespaces/" NS "/"));
    }
    assert_int_equal(unauthorized, 2); /* exactly one after each rotation */
    assert_not_in_output(f, SA_TOKEN_1);
    assert_not_in_output(f, SA_TOKEN_2);
}

static void test_kube_client__in_cluster_needs_the_environment_and_a_token(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_kubernetes_options o = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    struct sa_dir sa;

    make_service_account(&sa, SA_TOKEN_1);
    o.in_cluster = 1;
    assert_int_equal(valkeyaddon__kube_transport_new(&f->t, f->ctx, &o, sa.root), VALKEYADDON_ECONFIG);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "KUBERNETES_SERVICE_HOST"));
    set_service_env();
    assert_int_equal(unlink(sa.token), 0);
    assert_int_equal(valkeyaddon__kube_transport_new(&f->t, f->ctx, &o, sa.root), VALKEYADDON_ECONFIG);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "no service account token"));
    assert_null(f->t);
}

/* ---- kubeconfig with inline data ---- */

static char *b64_of_file(const char *path)
{
    char *text = read_file(path), *out = NULL;

    assert_int_equal(valkeyaddon__base64_encode(&out, NULL, (const unsigned char *)text, strlen(text)), 0);
    free(text);
    return out;
}

static void test_kube_client__kubeconfig_with_inline_certificate_data(void **state)
{
    struct fixture *f = *state;
    char kubeconfig[256], ca[8192], user[16384];
    char *ca_b64 = b64_of_file(S.server.ca), *cert_b64 = b64_of_file(S.server.client_cert),
         *key_b64 = b64_of_file(S.server.client_key);
    struct entry e[4];
    valkeyaddon_transport *t;

    snprintf(ca, sizeof(ca), "certificate-authority-data: \"%s\"", ca_b64);
    snprintf(user, sizeof(user), "client-certificate-data: \"%s\", client-key-data: \"%s\"", cert_b64, key_b64);
    write_kubeconfig(kubeconfig, sizeof(kubeconfig), "kubeconfig-data", ca, user);
    t = kube_transport(f, kubeconfig, 0);
    assert_string_equal(valkeyaddon_transport_kubernetes_namespace(t), NS);
    create_cm(f, t, "data");
    assert_int_equal(logged(e, 4), 1);
    assert_string_equal(e[0].user, "test-admin"); /* the certificate's CN */
    assert_not_in_output(f, key_b64);
    valkeyaddon__free(ca_b64);
    valkeyaddon__free(cert_b64);
    valkeyaddon__free(key_b64);
}

/* ---- apply conflicts ---- */

/* Whether `manager`'s managedFields entry owns the field at fields_path (f:... keys). */
static int owns(const char *json, const char *manager, const char *f1, const char *f2)
{
    yajl_val root = yajl_tree_parse(json, NULL, 0), mf;
    const char *mf_path[] = { "metadata", "managedFields", NULL };
    const char *field_path[] = { "fieldsV1", f1, f2, NULL };
    size_t i;
    int found = 0;

    assert_non_null(root);
    assert_non_null(mf = yajl_tree_get(root, mf_path, yajl_t_array));
    for (i = 0; i < mf->u.array.len; i++) {
        yajl_val entry = mf->u.array.values[i];
        const char *name = json_str(entry, "manager");
        if (name && strcmp(name, manager) == 0 && yajl_tree_get(entry, field_path, yajl_t_any))
            found = 1;
    }
    yajl_tree_free(root);
    return found;
}

#define CM_APPLY(value) "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"owned\"},\"data\":{\"k\":\"" value "\"}}"

static void test_kube_client__apply_conflict_names_field_and_manager(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0);
    const char *theirs = CM_APPLY("theirs"), *ours = CM_APPLY("ours"), *message, *json;

    assert_int_equal(t->apply(f->out, t, f->ctx, &CONFIGMAPS, NS, "owned", theirs, strlen(theirs), "other-manager", 0),
                     0);
    assert_int_equal(t->apply(f->out, t, f->ctx, &CONFIGMAPS, NS, "owned", ours, strlen(ours), "valkeyaddon", 0),
                     VALKEYADDON_ECONFLICT);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, "apply ConfigMap " NS "/owned: HTTP 409 Conflict"));
    assert_non_null(strstr(message, ".data.k: conflict with \"other-manager\""));

    /* force=1 takes ownership. */
    assert_int_equal(t->apply(f->out, t, f->ctx, &CONFIGMAPS, NS, "owned", ours, strlen(ours), "valkeyaddon", 1), 0);
    json = valkeyaddon_buffer_data(f->out, NULL);
    assert_non_null(strstr(json, "\"k\":\"ours\""));
    assert_true(owns(json, "valkeyaddon", "f:data", "f:k"));
    assert_false(owns(json, "other-manager", "f:data", "f:k"));
    /* And the other manager now conflicts in turn. */
    assert_int_equal(t->apply(f->out, t, f->ctx, &CONFIGMAPS, NS, "owned", theirs, strlen(theirs), "other-manager", 0),
                     VALKEYADDON_ECONFLICT);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "conflict with \"valkeyaddon\""));
}

static void test_kube_client__secret_apply_conflict_names_the_manager_not_the_values(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0);
    /* base64 of "their-hunter2-value" and "our-correct-horse-value" */
    const char *theirs = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"pw\"},"
                         "\"data\":{\"password\":\"dGhlaXItaHVudGVyMi12YWx1ZQ==\"}}";
    const char *ours = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"pw\"},"
                       "\"data\":{\"password\":\"b3VyLWNvcnJlY3QtaG9yc2UtdmFsdWU=\"}}";
    const char *message;

    assert_int_equal(t->apply(f->out, t, f->ctx, &SECRETS, NS, "pw", theirs, strlen(theirs), "someone-else", 0), 0);
    assert_int_equal(t->apply(f->out, t, f->ctx, &SECRETS, NS, "pw", ours, strlen(ours), "valkeyaddon", 0),
                     VALKEYADDON_ECONFLICT);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, ".data.password: conflict with \"someone-else\""));
    assert_null(strstr(message, "dGhlaXItaHVudGVyMi12YWx1ZQ"));
    assert_null(strstr(message, "b3VyLWNvcnJlY3QtaG9yc2UtdmFsdWU"));
    assert_null(strstr(message, "hunter2"));
}

static long long sts_replicas(struct fixture *f, valkeyaddon_transport *t, const char *name)
{
    const char *path[] = { "spec", "replicas", NULL };
    yajl_val root;
    long long replicas;

    assert_int_equal(t->get(f->out, t, f->ctx, &STATEFULSETS, NS, name), 0);
    assert_non_null(root = yajl_tree_parse(valkeyaddon_buffer_data(f->out, NULL), NULL, 0));
    replicas = YAJL_GET_INTEGER(yajl_tree_get(root, path, yajl_t_number));
    yajl_tree_free(root);
    return replicas;
}

static void test_kube_client__ensure_converges_over_another_managers_edit(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0), *mine;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;

    mine = t;
    hand_to_ctx(f); /* the context frees it; mine stays usable until then */
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    assert_int_equal(sts_replicas(f, mine, result.name), 3);

    /* Someone scales it by hand (an Update by another manager), then provisioning runs again. */
    {
        char path[256];
        snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/" NS "/statefulsets/%s?fieldManager=kubectl-edit",
                 result.name);
        assert_int_equal(kube_control_request(&S.control, "PATCH", path, "application/merge-patch+json",
                                              "{\"spec\":{\"replicas\":5}}", NULL),
                         200);
    }
    assert_int_equal(sts_replicas(f, mine, result.name), 5);
    assert_true(owns(valkeyaddon_buffer_data(f->out, NULL), "kubectl-edit", "f:spec", "f:replicas"));
    if (ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro") != 0)
        fail_msg("ensure_valkey: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(sts_replicas(f, mine, result.name), 3);
    assert_true(owns(valkeyaddon_buffer_data(f->out, NULL), VALKEYADDON_DEFAULT_FIELD_MANAGER, "f:spec", "f:replicas"));
    assert_false(owns(valkeyaddon_buffer_data(f->out, NULL), "kubectl-edit", "f:spec", "f:replicas"));
}

/* ---- error classes ---- */

static void test_kube_client__not_found_already_exists_and_invalid(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0);
    const char *bad_name = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"Bad_Name\"}}";
    const char *bad_secret = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                             "\"data\":{\"password\":\"@@not-base64-s3cr3t@@\"}}";
    const char *dup = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dup\"}}";
    const char *message;

    assert_int_equal(get_cm(f, t, "missing"), VALKEYADDON_ENOTFOUND);
    assert_string_equal(valkeyaddon_ctx_error_message(f->ctx),
                        "get ConfigMap " NS "/missing: HTTP 404 NotFound: configmaps \"missing\" not found");
    assert_int_equal(t->remove(t, f->ctx, &CONFIGMAPS, NS, "missing", 0), VALKEYADDON_ENOTFOUND);

    create_cm(f, t, "dup");
    assert_int_equal(t->create(f->out, t, f->ctx, &CONFIGMAPS, NS, dup, strlen(dup)), VALKEYADDON_EEXISTS);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "HTTP 409 AlreadyExists: configmaps \"dup\" already exists"));
    assert_int_equal(t->remove(t, f->ctx, &CONFIGMAPS, NS, "dup", 0), 0);
    assert_int_equal(get_cm(f, t, "dup"), VALKEYADDON_ENOTFOUND);

    /* 422 Invalid: the field causes are in the message. */
    assert_int_equal(t->create(f->out, t, f->ctx, &CONFIGMAPS, NS, bad_name, strlen(bad_name)), VALKEYADDON_EREJECTED);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, "create ConfigMap " NS "/: HTTP 422 Invalid: ConfigMap \"Bad_Name\" is invalid: "
                                    "metadata.name: Invalid value"));
    /* A Secret's rejection keeps reasons and fields, never the server's text (it may quote values). */
    assert_int_equal(t->create(f->out, t, f->ctx, &SECRETS, NS, bad_secret, strlen(bad_secret)), VALKEYADDON_EREJECTED);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, "HTTP 400 BadRequest"));
    assert_null(strstr(message, "s3cr3t"));
    assert_null(strstr(f->log.all, "s3cr3t"));
}

static void test_kube_client__forbidden(void **state)
{
    struct fixture *f = *state;
    char kubeconfig[256], ca[600], user[400];
    valkeyaddon_transport *t;

    ca_file_member(ca, sizeof(ca));
    snprintf(user, sizeof(user), "token: \"%s\"", S.server.forbidden_token);
    write_kubeconfig(kubeconfig, sizeof(kubeconfig), "kubeconfig-forbidden", ca, user);
    t = kube_transport(f, kubeconfig, 0);
    assert_int_equal(get_cm(f, t, "x"), VALKEYADDON_EFORBIDDEN);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx),
                           "HTTP 403 Forbidden: configmaps \"x\" is forbidden: User \"test-forbidden\" cannot get"));
    assert_not_in_output(f, S.server.forbidden_token);
}

static void test_kube_client__throttled_and_server_errors_after_retries(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 1500);
    struct entry e[64];
    struct timespec start, end;
    size_t n;
    long elapsed_ms;
    static const struct {
        int status;
        int code;
        const char *reason;
    } cases[] = {
        { 500, VALKEYADDON_ESERVER, "HTTP 500 InternalError" },
        { 503, VALKEYADDON_EUNAVAILABLE, "HTTP 503 ServiceUnavailable" },
        { 504, VALKEYADDON_EUNAVAILABLE, "HTTP 504 Timeout" },
    };
    size_t i;

    /* 429 with Retry-After: 1 s honoured, until the 1.5 s retry deadline: two attempts. */
    add_fault("{\"count\":100,\"status\":429,\"retry_after\":1,\"path_regex\":\"/configmaps/\"}");
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(get_cm(f, t, "x"), VALKEYADDON_ETHROTTLED);
    clock_gettime(CLOCK_MONOTONIC, &end);
    elapsed_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    assert_true(elapsed_ms >= 900);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "HTTP 429 TooManyRequests"));
    assert_int_equal(logged(e, 64), 2);
    assert_true(e[0].fault && e[1].fault);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char fault[256];
        kube_control_send(&S.control, "DELETE", "/_test/faults", NULL);
        clear_log();
        snprintf(fault, sizeof(fault), "{\"count\":100,\"status\":%d,\"path_regex\":\"/configmaps/\"}",
                 cases[i].status);
        add_fault(fault);
        assert_int_equal(get_cm(f, t, "x"), cases[i].code);
        assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), cases[i].reason));
        n = logged(e, 64);
        assert_true(n >= 2); /* retried with backoff before giving up */
        assert_true(n < 20);
    }
    assert_non_null(strstr(f->log.all, "retrying in"));
}

static void test_kube_client__transient_faults_are_retried(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0);
    struct entry e[16];
    const char *cm = CM_APPLY("v");
    size_t n;

    create_cm(f, t, "flaky");
    clear_log();
    add_fault("{\"count\":2,\"status\":503,\"retry_after\":0,\"path_regex\":\"/configmaps/flaky\"}");
    assert_int_equal(get_cm(f, t, "flaky"), 0);
    assert_int_equal(logged(e, 16), 3);
    assert_int_equal(e[0].status, 503);
    assert_int_equal(e[1].status, 503);
    assert_int_equal(e[2].status, 200);

    /* A dropped connection on an apply (idempotent) is retried too. */
    clear_log();
    add_fault("{\"count\":1,\"drop\":true,\"method\":\"PATCH\",\"path_regex\":\"/configmaps/owned\"}");
    assert_int_equal(t->apply(f->out, t, f->ctx, &CONFIGMAPS, NS, "owned", cm, strlen(cm), "valkeyaddon", 1), 0);
    n = logged(e, 16);
    assert_true(n >= 2);
    assert_int_equal(e[0].fault, 1);
    assert_int_equal(e[n - 1].status, 201);

    /* 429 with Retry-After: 0, then success. */
    clear_log();
    add_fault("{\"count\":1,\"status\":429,\"retry_after\":0,\"path_regex\":\"/configmaps/flaky\"}");
    assert_int_equal(get_cm(f, t, "flaky"), 0);
    assert_int_equal(logged(e, 16), 2);
    assert_int_equal(e[0].status, 429);
}

/* ---- waiting, driven by status patches ---- */

struct progress {
    int calls, partial_sent, ready_sent, saw_one_ready;
    char name[VALKEYADDON_NAME_BUFSIZE];
};

static int on_progress(const valkeyaddon_status_info *info, void *payload)
{
    struct progress *p = payload;

    p->calls++;
    if (info->ready == 1)
        p->saw_one_ready = 1;
    /* Act as the controller: one pod ready, then all of them. */
    if (!p->partial_sent) {
        p->partial_sent = 1;
        sts_mode(p->name, "partial", 1);
    } else if (info->ready == 1 && !p->ready_sent) {
        p->ready_sent = 1;
        sts_mode(p->name, "ready", 0);
    }
    return p->calls > 50 ? -100 : 0;
}

static void test_kube_client__wait_follows_status_patches(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    struct progress p;
    struct entry e[64];
    size_t n, i, watches = 0;

    memset(&p, 0, sizeof(p));
    kube_transport(f, S.server.kubeconfig, 0);
    hand_to_ctx(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "web", "pro"), 0);
    snprintf(p.name, sizeof(p.name), "%s", result.name);
    sts_mode(p.name, "stall", 0);
    /* Nothing ready: a short wait times out as Creating. */
    assert_int_equal(valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "web", 500, NULL, NULL), VALKEYADDON_ETIMEOUT);
    assert_int_equal(info.status, VALKEYADDON_STATUS_CREATING);

    clear_log();
    /* Opening the watch fails twice (503): it is re-opened, not given up. */
    add_fault("{\"count\":2,\"status\":503,\"method\":\"GET\",\"path_regex\":\"/statefulsets$\"}");
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "web", 20000, on_progress, &p) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(info.status, VALKEYADDON_STATUS_READY);
    assert_int_equal(info.ready, 3);
    assert_true(p.saw_one_ready);
    assert_true(p.ready_sent);
    n = logged(e, 64);
    for (i = 0; i < n; i++)
        watches += strstr(e[i].query, "watch=") != NULL && !e[i].fault;
    assert_int_equal(watches, 1); /* one watch followed every change */
    /* The object is read first (the watch starts from its resourceVersion). */
    assert_string_equal(e[0].method, "GET");
    assert_null(strstr(e[0].query, "watch="));
    assert_int_equal(e[1].status, 503);
    assert_int_equal(e[2].status, 503);
}

static long elapsed_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* How many times the watch of the StatefulSets was opened (faulted or not) since the last clear_log(). */
static size_t watch_opens(size_t *faulted)
{
    struct entry e[64];
    size_t n = logged(e, 64), i, opens = 0;

    *faulted = 0;
    for (i = 0; i < n; i++) {
        if (strstr(e[i].query, "watch=") == NULL)
            continue;
        opens++;
        *faulted += e[i].fault;
    }
    return opens;
}

/*
 * Re-opening a watch the server refused (429, 5xx) follows the request
 * retries: Retry-After when the server sends one, else exponential backoff
 * from 100 ms, and no retry past the deadline. A flat one-second pause
 * ignored a longer Retry-After and slowed every storm of short faults.
 */
/* ---- watches a server refuses, expires or fills with bookmarks ---- */

struct actions {
    int calls;
    const char *name;       /* the StatefulSet */
    int expire;             /* on the first call: a write, then expire the watch history */
    const char *then_mode;  /* on the first call: this status mode */
};

static int act_once(const valkeyaddon_status_info *info, void *payload)
{
    struct actions *a = payload;

    (void)info;
    if (a->calls++ == 0) {
        if (a->expire) {
            /* A later write, then no history: a watch from the StatefulSet's version is 410 Expired. */
            kube_control_send(&S.control, "POST", "/api/v1/namespaces/" NS "/configmaps",
                              "{\"metadata\":{\"name\":\"bump\"}}");
            kube_control_send(&S.control, "POST", "/_test/expire-history", NULL);
        }
        if (a->then_mode)
            sts_mode(a->name, a->then_mode, 0);
    }
    return a->calls > 50 ? -100 : 0;
}

static void provision_stalled(struct fixture *f, const char *app, const char *plan, char *name, size_t size)
{
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;

    kube_transport(f, S.server.kubeconfig, 0);
    hand_to_ctx(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", app, plan), 0);
    snprintf(name, size, "%s", result.name);
    sts_mode(name, "stall", 0);
}

/* Another add-on on the same context (whose transport provision_stalled() set up). */
static void provision_stalled_again(struct fixture *f, const char *app, char *name, size_t size)
{
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;

    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", app, "free"), 0);
    snprintf(name, size, "%s", result.name);
    sts_mode(name, "stall", 0);
}

static void test_kube_client__watch_reopen_honours_retry_after_and_backs_off(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    char name[3][VALKEYADDON_NAME_BUFSIZE];
    struct actions a1 = { 0, NULL, 0, "ready" }, a2 = { 0, NULL, 0, "ready" };
    struct timespec start;
    size_t faulted;
    long ms;

    /* Not ready when the wait reads them: the wait has to watch (the callback then makes them Ready). */
    provision_stalled(f, "watchretry", "free", name[0], sizeof(name[0]));
    provision_stalled_again(f, "watchretry2", name[1], sizeof(name[1]));
    provision_stalled_again(f, "watchretry3", name[2], sizeof(name[2]));
    a1.name = name[0];
    a2.name = name[1];

    /* Three 503s without Retry-After: backoff (50-100, 100-200, 200-400 ms), not three seconds. */
    clear_log();
    add_fault("{\"count\":3,\"status\":503,\"method\":\"GET\",\"path_regex\":\"/statefulsets$\"}");
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "watchretry", 20000, act_once, &a1) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    ms = elapsed_since(&start);
    assert_int_equal(watch_opens(&faulted), 4);
    assert_int_equal(faulted, 3);
    assert_true(ms >= 300);
    if (ms >= 1500)
        fail_msg("three 503s took %ld ms: the watch does not back off from 100 ms", ms);

    /* 429 with Retry-After: 2 is honoured (a flat second would re-open too early). */
    kube_control_send(&S.control, "DELETE", "/_test/faults", NULL);
    clear_log();
    add_fault("{\"count\":1,\"status\":429,\"retry_after\":2,\"method\":\"GET\",\"path_regex\":\"/statefulsets$\"}");
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "watchretry2", 20000, act_once, &a2) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    ms = elapsed_since(&start);
    assert_int_equal(watch_opens(&faulted), 2);
    assert_int_equal(faulted, 1);
    if (ms < 1900)
        fail_msg("a 429 with Retry-After: 2 was retried after %ld ms", ms);
    assert_non_null(strstr(f->log.all, "retrying in 2000 ms"));

    /* A Retry-After past the deadline: the server's answer, at once, not a sleep until the deadline. */
    kube_control_send(&S.control, "DELETE", "/_test/faults", NULL);
    clear_log();
    add_fault("{\"count\":5,\"status\":503,\"retry_after\":30,\"method\":\"GET\",\"path_regex\":\"/statefulsets$\"}");
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "watchretry3", 3000, NULL, NULL),
                     VALKEYADDON_EUNAVAILABLE);
    ms = elapsed_since(&start);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "HTTP 503"));
    assert_int_equal(watch_opens(&faulted), 1);
    if (ms >= 1000)
        fail_msg("a Retry-After beyond the deadline was waited for (%ld ms)", ms);
}

/*
 * A watch the server ends cleanly at once (200, no event) is re-opened after
 * the same pauses as a failed one. Re-opening at once asked a server that
 * closes every watch (overloaded, or behind a proxy that cuts streams) in a
 * tight loop: hundreds of watches a second.
 */
static void test_kube_client__watch_closed_cleanly_is_reopened_after_a_pause(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    size_t opens, faulted;

    kube_transport(f, S.server.kubeconfig, 0);
    hand_to_ctx(f);
    assert_int_equal(ensure_valkey(&result, f->ctx, NS, "acme", "watchclose", "free"), 0);
    sts_mode(result.name, "stall", 0);
    clear_log();
    add_fault("{\"count\":100000,\"end_stream\":true,\"method\":\"GET\",\"path_regex\":\"/statefulsets$\"}");
    assert_int_equal(valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "watchclose", 1500, NULL, NULL),
                     VALKEYADDON_ETIMEOUT);
    opens = watch_opens(&faulted);
    /* Pauses of 50-100, 100-200, 200-400, 400-800 ms: 3 to 5 opens in 1.5 s. */
    if (opens > 10)
        fail_msg("a watch closed cleanly was re-opened %zu times in 1.5 s: no pause between opens", opens);
    assert_true(opens >= 2); /* re-opened, not given up */
    assert_int_equal(faulted, opens);
}

/* ---- caps on what the server may send (docs/hostile-servers.md) ---- */

static valkeyaddon_transport *capped_transport(struct fixture *f, size_t max_response, size_t max_event)
{
    valkeyaddon_kubernetes_options o = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;

    o.kubeconfig = S.server.kubeconfig;
    o.max_response_bytes = max_response;
    o.max_watch_event_bytes = max_event;
    if (valkeyaddon_transport_kubernetes_new(&t, f->ctx, &o) != 0)
        fail_msg("transport: %s", valkeyaddon_ctx_error_message(f->ctx));
    return t;
}

/* A ConfigMap `name` whose data is `size` bytes. */
static void create_big_cm(struct fixture *f, valkeyaddon_transport *t, const char *name, size_t size)
{
    static const char head[] = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
                               "\"data\":{\"big\":\"";
    char *body = malloc(size + 256);
    int n;

    assert_non_null(body);
    n = snprintf(body, 256, head, name);
    memset(body + n, 'x', size);
    strcpy(body + n + size, "\"}}");
    if (t->create(f->out, t, f->ctx, &CONFIGMAPS, NS, body, strlen(body)) != 0)
        fail_msg("create: %s", valkeyaddon_ctx_error_message(f->ctx));
    free(body);
}

static int count_events(int event, const char *json, size_t len, void *payload)
{
    (void)event;
    (void)json;
    (void)len;
    ++*(int *)payload;
    return 1; /* one is enough: stop */
}

static void test_kube_client__response_larger_than_the_cap_is_refused(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0), *capped;
    struct entry e[16];
    const char *message;

    create_big_cm(f, t, "big", 100000);
    create_cm(f, t, "small");
    capped = capped_transport(f, 16384, 0);
    assert_int_equal(get_cm(f, capped, "small"), 0);
    assert_int_equal(valkeyaddon_buffer_set(f->out, "kept", 4), 0);
    clear_log();
    assert_int_equal(get_cm(f, capped, "big"), VALKEYADDON_ESERVER);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, "get ConfigMap " NS "/big"));
    assert_non_null(strstr(message, "16384-byte cap"));
    assert_non_null(strstr(message, "max_response_bytes"));
    /* Nothing half-written, and not retried (the same object would come back). */
    assert_int_equal(f->out->len, 4);
    assert_memory_equal(f->out->data, "kept", 4);
    assert_int_equal(logged(e, 16), 1);
    /* The default cap (8 MiB) reads it. */
    assert_int_equal(get_cm(f, t, "big"), 0);
    assert_true(f->out->len > 100000);
    capped->free(capped);
}

static void test_kube_client__watch_event_larger_than_the_cap_is_refused(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_transport *t = kube_transport(f, S.server.kubeconfig, 0), *capped;
    const char *message;
    int events = 0;

    create_big_cm(f, t, "bigwatch", 100000);
    create_cm(f, t, "smallwatch");
    capped = capped_transport(f, 0, 16384);
    assert_int_equal(capped->watch(capped, f->ctx, &CONFIGMAPS, NS, "smallwatch", "", 5000, count_events, &events), 1);
    assert_int_equal(events, 1);
    events = 0;
    assert_int_equal(capped->watch(capped, f->ctx, &CONFIGMAPS, NS, "bigwatch", "", 5000, count_events, &events),
                     VALKEYADDON_ESERVER);
    assert_int_equal(events, 0);
    message = valkeyaddon_ctx_error_message(f->ctx);
    assert_non_null(strstr(message, "watch ConfigMap " NS "/bigwatch"));
    assert_non_null(strstr(message, "16384-byte cap"));
    assert_non_null(strstr(message, "max_watch_event_bytes"));
    capped->free(capped);
}

/* ---- plain http (docs/kubeconfig.md) ---- */

static int http_transport(struct fixture *f, const char *user, int allow)
{
    valkeyaddon_kubernetes_options o = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    char path[256], text[1024];
    int rc;

    path_in(path, sizeof(path), "kubeconfig-http");
    snprintf(text, sizeof(text),
             "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
             "clusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:1\"}\n"
             "users:\n- name: u\n  user: {%s}\n"
             "contexts:\n- name: t\n  context: {cluster: c, user: u, namespace: " NS "}\n",
             user);
    write_file(path, text);
    o.kubeconfig = path;
    o.allow_insecure_http = allow;
    rc = valkeyaddon_transport_kubernetes_new(&t, f->ctx, &o);
    if (t)
        t->free(t);
    return rc;
}

static void test_kube_client__plain_http_is_refused_and_never_carries_credentials(void **state)
{
    struct fixture *f = *state;
    char user[1200], token_path[256];

    /* Refused by default, with what to do. */
    assert_int_equal(http_transport(f, "token: " TOKEN_A, 0), VALKEYADDON_ECONFIG);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "http://127.0.0.1:1"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "allow_insecure_http"));
    assert_int_equal(http_transport(f, "", 0), VALKEYADDON_ECONFIG);
    /* Allowed, but a user with a credential is still refused: no token or key ever goes over plain http. */
    assert_int_equal(http_transport(f, "token: " TOKEN_A, 1), VALKEYADDON_ECONFIG);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "a bearer token"));
    path_in(token_path, sizeof(token_path), "http-token");
    write_file(token_path, TOKEN_B);
    snprintf(user, sizeof(user), "tokenFile: \"%s\"", token_path);
    assert_int_equal(http_transport(f, user, 1), VALKEYADDON_ECONFIG);
    assert_int_equal(http_transport(f, "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}", 1),
                     VALKEYADDON_ECONFIG);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "an exec credential plugin"));
    snprintf(user, sizeof(user), "client-certificate: \"%s\", client-key: \"%s\"", S.server.ca, S.server.ca);
    assert_int_equal(http_transport(f, user, 1), VALKEYADDON_ECONFIG);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "a client certificate"));
    assert_not_in_output(f, TOKEN_A);
    assert_not_in_output(f, TOKEN_B);
    /* Allowed and without credentials (kubectl proxy adds its own): accepted. */
    assert_int_equal(http_transport(f, "", 1), 0);
}

/*
 * Issue 14 item 7: a 1.32 apiserver on an etcd without progress notifications
 * answers a watch without resourceVersion with 500. The wait reads the object
 * and watches from its resourceVersion, as client-go's informers do.
 */
static void test_kube_client__wait_watches_from_the_objects_resource_version(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE];
    struct actions a = { 0, NULL, 0, "ready" };
    struct entry e[64];
    size_t n, i, watches = 0;

    provision_stalled(f, "rvwatch", "free", name, sizeof(name));
    a.name = name;
    watch_policy("{\"refuse_without_resource_version\":true}");
    clear_log();
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "rvwatch", 5000, act_once, &a) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(info.status, VALKEYADDON_STATUS_READY);
    n = logged(e, 64);
    for (i = 0; i < n; i++) {
        if (strstr(e[i].query, "watch=") == NULL)
            continue;
        watches++;
        assert_non_null(strstr(e[i].query, "resourceVersion="));
        assert_int_equal(e[i].status, 200);
    }
    assert_int_equal(watches, 1);
}

/* The watch from the object's version is expired (an ERROR event, Status 410): re-read and go on. */
static void test_kube_client__wait_survives_410_gone(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE];
    struct actions a = { 0, NULL, 1, "ready" };
    struct entry e[64];
    size_t n, i, first_watch = 0, gets_after = 0;

    provision_stalled(f, "gone", "free", name, sizeof(name));
    a.name = name;
    watch_policy("{\"refuse_without_resource_version\":true}");
    clear_log();
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "gone", 5000, act_once, &a) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(info.status, VALKEYADDON_STATUS_READY);
    n = logged(e, 64);
    for (i = 0; i < n && !first_watch; i++)
        if (strstr(e[i].query, "watch=") != NULL)
            first_watch = i + 1;
    assert_true(first_watch > 0);
    assert_int_equal(e[first_watch - 1].status, 200); /* 410 comes as an event, not as the HTTP status */
    for (i = first_watch; i < n; i++)
        gets_after += strcmp(e[i].method, "GET") == 0 && strstr(e[i].query, "watch=") == NULL &&
                      strstr(e[i].path, name) != NULL;
    assert_true(gets_after >= 1); /* re-read after the 410 */
}

/* A stream of bookmarks only: the wait keeps its one watch and ends at its deadline as Creating. */
static void test_kube_client__wait_over_a_bookmark_only_stream(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE];
    size_t faulted;

    provision_stalled(f, "marks", "free", name, sizeof(name));
    watch_policy("{\"refuse_without_resource_version\":true,\"bookmark_interval\":0.1}");
    clear_log();
    assert_int_equal(valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "marks", 1500, NULL, NULL),
                     VALKEYADDON_ETIMEOUT);
    assert_int_equal(info.status, VALKEYADDON_STATUS_CREATING);
    assert_int_equal(watch_opens(&faulted), 1);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "not Ready within 1500 ms"));
}

/* A server that cannot watch at all (405): the wait polls the object once a second instead. */
static void test_kube_client__wait_polls_when_watch_is_refused(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE];
    struct actions a = { 0, NULL, 0, "ready" };
    struct entry e[64];
    size_t n, i, gets = 0, watches = 0;

    provision_stalled(f, "polled", "free", name, sizeof(name));
    a.name = name;
    watch_policy("{\"refuse\":true}");
    clear_log();
    if (valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "polled", 5000, act_once, &a) != 0)
        fail_msg("wait: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(info.status, VALKEYADDON_STATUS_READY);
    n = logged(e, 64);
    for (i = 0; i < n; i++) {
        if (strstr(e[i].query, "watch=") != NULL) {
            watches++;
            assert_int_equal(e[i].status, 405);
        } else if (strcmp(e[i].method, "GET") == 0) {
            gets++;
        }
    }
    assert_int_equal(watches, 1); /* refused once: not asked again */
    assert_true(gets >= 2);
    assert_non_null(strstr(f->log.all, "polling"));
}

/* Issue 14 item 6: a rollout that makes no progress for the progress deadline is Failed, naming the pod. */
static void test_kube_client__stalled_rollout_fails_after_the_progress_deadline(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE], want[VALKEYADDON_NAME_BUFSIZE + 64];
    struct timespec start;
    long ms;

    provision_stalled(f, "stuck", "pro", name, sizeof(name));
    sts_mode(name, "partial", 1);
    assert_int_equal(valkeyaddon_ctx_set_progress_deadline(f->ctx, 1000), 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "stuck", 20000, NULL, NULL),
                     VALKEYADDON_EFAILED);
    ms = elapsed_since(&start);
    if (ms > 4000)
        fail_msg("a 1 s progress deadline failed the wait after %ld ms", ms);
    assert_int_equal(info.status, VALKEYADDON_STATUS_FAILED);
    assert_non_null(strstr(info.message, "rollout stalled"));
    snprintf(want, sizeof(want), "kubectl -n %s describe pod %s-1", NS, name);
    assert_non_null(strstr(info.message, want));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "rollout stalled"));

    /* Nothing observed at all (the controller never wrote a status): the StatefulSet is named. */
    sts_mode(name, "stall", 0);
    assert_int_equal(valkeyaddon_ctx_set_progress_deadline(f->ctx, 0), 0); /* 0: none */
    assert_int_equal(valkeyaddon_wait_ready(&info, f->ctx, NS, "acme", "stuck", 1200, NULL, NULL),
                     VALKEYADDON_ETIMEOUT);
    assert_int_equal(valkeyaddon_ctx_set_progress_deadline(f->ctx, -1), VALKEYADDON_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kube_client__rotated_token_file_is_re_read_on_401, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__token_file_is_re_read_periodically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__default_period_keeps_the_cached_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__rejected_token_is_unauthorized_after_one_re_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__exec_plugin_runs_again_on_401_only_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__in_cluster_provision_with_a_rotated_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__in_cluster_needs_the_environment_and_a_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__kubeconfig_with_inline_certificate_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__apply_conflict_names_field_and_manager, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__secret_apply_conflict_names_the_manager_not_the_values,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__ensure_converges_over_another_managers_edit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__not_found_already_exists_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__forbidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__throttled_and_server_errors_after_retries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__transient_faults_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__wait_follows_status_patches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__watch_closed_cleanly_is_reopened_after_a_pause, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__response_larger_than_the_cap_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__watch_event_larger_than_the_cap_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__plain_http_is_refused_and_never_carries_credentials,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__watch_reopen_honours_retry_after_and_backs_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__wait_watches_from_the_objects_resource_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__wait_survives_410_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__wait_over_a_bookmark_only_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__wait_polls_when_watch_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_client__stalled_rollout_fails_after_the_progress_deadline, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("kube_client", tests, start_server, stop_server);
}
