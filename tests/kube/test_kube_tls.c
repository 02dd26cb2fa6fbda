/*
 * TLS failures of the Kubernetes transport, through the public API only,
 * against the API test server (tests/support/kube_api_server.py): a server
 * whose certificate does not chain to the configured CA (--wrong-ca), a server
 * reached by a name its certificate does not carry (bound on 127.0.0.2; its
 * certificate has IP:127.0.0.1,DNS:localhost), kubeconfig tls-server-name, an
 * expired client certificate and one the server does not trust. Each must fail
 * fast with VALKEYADDON_ETLS and one line naming the problem and what to do.
 * See docs/kubernetes-tests.md.
 */
#define _GNU_SOURCE 1
#include "helpers.h"

#include <stdlib.h>
#include <time.h>

#include "files.h"
#include "kube_server.h"

/* Seconds a refused connection may take: no retries until the 60 s deadline. */
#define FAST_SECONDS 10

static char dir[64];
static char state_dir[128];
static struct kube_server normal, wrong_ca, other_host;
static int other_host_up;

static const valkeyaddon_resource CONFIGMAPS = { "v1", "ConfigMap", "configmaps", 1 };

/* Start one server on the shared state directory (its certificates are made once, then reused). */
static int start(struct kube_server *s, const char *host, int wrong)
{
    const char *extra[] = { "--wrong-ca", NULL };
    char log_path[160];

    snprintf(log_path, sizeof(log_path), "%s/server-%s%s.log", dir, host, wrong ? "-wrong-ca" : "");
    return kube_server_start(s, host, state_dir, log_path, wrong ? extra : NULL);
}

static int group_setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_kube_tls.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(state_dir, sizeof(state_dir), "%s/server", dir);
    if (start(&normal, "127.0.0.1", 0) < 0 || start(&wrong_ca, "127.0.0.1", 1) < 0) {
        print_error("the API test server did not start (logs in %s)\n", dir);
        return -1;
    }
    other_host_up = start(&other_host, "127.0.0.2", 0) == 0;
    return 0;
}

/* Every 127/8 address is loopback on Linux, so there a server that did not start on
 * 127.0.0.2 is a failure, never a skip; elsewhere the cases that need it are skipped. */
static void need_other_host(void)
{
    if (other_host_up)
        return;
#ifdef __linux__
    fail_msg("the API test server did not start on 127.0.0.2 (logs in %s)", dir);
#else
    skip();
#endif
}

static int group_teardown(void **state)
{
    (void)state;
    kube_server_stop(&normal);
    kube_server_stop(&wrong_ca);
    kube_server_stop(&other_host);
    remove_tree(dir);
    return 0;
}

/* A kubeconfig in the temporary directory; `user` is the YAML of the user entry. */
static void kubeconfig(char *path, size_t size, const char *name, const char *server, const char *ca,
                       const char *cluster_extra, const char *user)
{
    FILE *f;

    snprintf(path, size, "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f,
            "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
            "clusters:\n- name: c\n  cluster:\n    server: \"%s\"\n    certificate-authority: \"%s\"\n%s"
            "users:\n- name: u\n  user:\n%s"
            "contexts:\n- name: t\n  context: {cluster: c, user: u, namespace: default}\n",
            server, ca, cluster_extra, user);
    assert_int_equal(fclose(f), 0);
}

static void token_user(char *out, size_t size, const struct kube_server *s)
{
    snprintf(out, size, "    token: \"%s\"\n", s->token);
}

static void cert_user(char *out, size_t size, const char *cert, const char *key)
{
    snprintf(out, size, "    client-certificate: \"%s\"\n    client-key: \"%s\"\n", cert, key);
}

struct attempt {
    int created; /* the transport's constructor result */
    int got;     /* the get's result, when created */
    double seconds;
    char message[1024];
    struct log_capture log;
};

/* Build a transport from the kubeconfig and read one ConfigMap; record how it failed. */
static void attempt(struct attempt *a, const char *path)
{
    valkeyaddon_kubernetes_options options = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_buffer *out = NULL;
    valkeyaddon_ctx *ctx = new_capturing_ctx(&a->log, VALKEYADDON_LOG_DEBUG);
    struct timespec t0, t1;

    options.kubeconfig = path;
    options.retry_deadline_ms = 30000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    a->got = 1;
    a->created = valkeyaddon_transport_kubernetes_new(&t, ctx, &options);
    if (a->created == 0) {
        assert_int_equal(valkeyaddon_buffer_new(&out), 0);
        a->got = t->get(out, t, ctx, &CONFIGMAPS, "default", "absent");
        valkeyaddon_buffer_free(out);
        t->free(t);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    snprintf(a->message, sizeof(a->message), "%s", valkeyaddon_ctx_error_message(ctx));
    valkeyaddon_ctx_free(ctx);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* A TLS refusal: ETLS at the first request, fast, naming the problem and the remedy. */
static void assert_refused(const struct attempt *a, const char *problem, const char *remedy)
{
    print_message("%.1f s: %s\n", a->seconds, a->message);
    assert_int_equal(a->created, 0);
    if (a->got != VALKEYADDON_ETLS)
        fail_msg("expected VALKEYADDON_ETLS, got %d: %s", a->got, a->message);
    assert_true(a->seconds < FAST_SECONDS);
    assert_contains(a->message, problem);
    assert_contains(a->message, remedy);
    assert_null(strchr(a->message, '\n'));
}

static void test_kube_tls__trusted_server_is_accepted(void **state)
{
    char path[256], user[512];
    struct attempt a;

    (void)state;
    token_user(user, sizeof(user), &normal);
    kubeconfig(path, sizeof(path), "ok", normal.url, normal.ca, "", user);
    attempt(&a, path);
    assert_int_equal(a.created, 0);
    assert_int_equal(a.got, VALKEYADDON_ENOTFOUND); /* the request reached the server */
}

static void test_kube_tls__server_signed_by_another_ca_is_refused(void **state)
{
    char path[256], user[512];
    struct attempt a;

    (void)state;
    token_user(user, sizeof(user), &wrong_ca);
    kubeconfig(path, sizeof(path), "wrong-ca", wrong_ca.url, wrong_ca.ca, "", user);
    attempt(&a, path);
    assert_refused(&a, "not signed by the configured certificate authority", "certificate-authority");
    assert_contains(a.message, wrong_ca.url + strlen("https://"));
    assert_null(strstr(a.message, wrong_ca.token));
    assert_null(strstr(a.log.all, wrong_ca.token));
}

static void test_kube_tls__host_name_not_in_the_certificate_is_refused(void **state)
{
    char path[256], user[512];
    struct attempt a;

    (void)state;
    need_other_host();
    token_user(user, sizeof(user), &other_host);
    kubeconfig(path, sizeof(path), "other-host", other_host.url, other_host.ca, "", user);
    attempt(&a, path);
    assert_refused(&a, "does not match the host name 127.0.0.2", "tls-server-name");
}

/* tls-server-name is the name verified (and sent as SNI), as client-go does. */
static void test_kube_tls__tls_server_name_is_the_name_verified(void **state)
{
    char path[256], user[512];
    struct attempt a;

    (void)state;
    token_user(user, sizeof(user), &normal);
    kubeconfig(path, sizeof(path), "sni-wrong", normal.url, normal.ca, "    tls-server-name: wrong.example\n", user);
    attempt(&a, path);
    assert_refused(&a, "does not match the host name wrong.example", "tls-server-name");

    need_other_host();
    token_user(user, sizeof(user), &other_host);
    kubeconfig(path, sizeof(path), "sni-right", other_host.url, other_host.ca, "    tls-server-name: localhost\n",
               user);
    attempt(&a, path);
    assert_int_equal(a.created, 0);
    if (a.got != VALKEYADDON_ENOTFOUND)
        fail_msg("tls-server-name: localhost against 127.0.0.2: %d: %s", a.got, a.message);
}

static void test_kube_tls__expired_client_certificate_is_reported(void **state)
{
    char path[256], user[1200];
    struct attempt a;

    (void)state;
    cert_user(user, sizeof(user), normal.client_expired_cert, normal.client_expired_key);
    kubeconfig(path, sizeof(path), "expired", normal.url, normal.ca, "", user);
    attempt(&a, path);
    print_message("%.1f s: %s\n", a.seconds, a.message);
    if (a.created != VALKEYADDON_ETLS && a.got != VALKEYADDON_ETLS)
        fail_msg("expected VALKEYADDON_ETLS, got %d/%d: %s", a.created, a.got, a.message);
    assert_true(a.seconds < FAST_SECONDS);
    assert_contains(a.message, "client certificate");
    assert_contains(a.message, "expired");
    assert_contains(a.message, normal.client_expired_cert);
    assert_contains(a.message, "renew");
}

static void test_kube_tls__untrusted_client_certificate_is_refused(void **state)
{
    char path[256], user[1200];
    struct attempt a;

    (void)state;
    cert_user(user, sizeof(user), normal.other_client_cert, normal.other_client_key);
    kubeconfig(path, sizeof(path), "other-client", normal.url, normal.ca, "", user);
    attempt(&a, path);
    assert_refused(&a, "refused the client certificate", "client-certificate");
}

static void test_kube_tls__valid_client_certificate_is_accepted(void **state)
{
    char path[256], user[1200];
    struct attempt a;

    (void)state;
    cert_user(user, sizeof(user), normal.client_cert, normal.client_key);
    kubeconfig(path, sizeof(path), "client", normal.url, normal.ca, "", user);
    attempt(&a, path);
    assert_int_equal(a.created, 0);
    if (a.got != VALKEYADDON_ENOTFOUND)
        fail_msg("client certificate: %d: %s", a.got, a.message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kube_tls__trusted_server_is_accepted),
        cmocka_unit_test(test_kube_tls__server_signed_by_another_ca_is_refused),
        cmocka_unit_test(test_kube_tls__host_name_not_in_the_certificate_is_refused),
        cmocka_unit_test(test_kube_tls__tls_server_name_is_the_name_verified),
        cmocka_unit_test(test_kube_tls__expired_client_certificate_is_reported),
        cmocka_unit_test(test_kube_tls__untrusted_client_certificate_is_refused),
        cmocka_unit_test(test_kube_tls__valid_client_certificate_is_accepted),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
