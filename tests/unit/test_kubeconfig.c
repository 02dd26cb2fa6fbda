/*
 * Kubernetes client configuration (transport/kubernetes/kubeconfig.h): kubeconfig
 * files and KUBECONFIG merging, in-cluster service accounts, exec credential
 * plugins and the ExecCredential parser. Everything happens in a temporary
 * directory; every failure is checked for leaked secrets.
 */
#define _GNU_SOURCE 1
#include "helpers.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "util/base64.h"
#include "transport/kubernetes/kubeconfig.h"

#define TOKEN "s3cr3t-T0KEN-value"
#define TOKEN2 "s3cr3t-second-T0KEN"
#define CA_PEM "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n"
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\ns3cr3t-KEY\n-----END PRIVATE KEY-----\n"

struct fixture {
    char dir[256];
    char cwd[4096];
    struct log_capture log;
    valkeyaddon_ctx *ctx;
    char *ca_b64, *cert_b64, *key_b64;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *b64(const char *text)
{
    char *out = NULL;

    assert_int_equal(valkeyaddon__base64_encode(&out, NULL, (const unsigned char *)text, strlen(text)), 0);
    return out;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_kubeconfig.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
    f->ctx = new_capturing_ctx(&f->log, VALKEYADDON_LOG_DEBUG);
    f->ca_b64 = b64(CA_PEM);
    f->cert_b64 = b64(CERT_PEM);
    f->key_b64 = b64(KEY_PEM);
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    /* No secret may reach a message or the log, whatever the test did. */
    assert_null(strstr(f->log.all, TOKEN));
    assert_null(strstr(f->log.all, TOKEN2));
    assert_null(strstr(f->log.all, "s3cr3t-KEY"));
    assert_int_equal(chdir(f->cwd), 0);
    assert_int_equal(nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    valkeyaddon_ctx_free(f->ctx);
    valkeyaddon_free(f->ca_b64);
    valkeyaddon_free(f->cert_b64);
    valkeyaddon_free(f->key_b64);
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
    free(f);
    return 0;
}

/* dir/name, in a static buffer (one of a few, so two can be used at once). */
static const char *path_in(const struct fixture *f, const char *name)
{
    static char buffers[4][1024];
    static int next;
    char *p = buffers[next++ % 4];

    snprintf(p, sizeof(buffers[0]), "%s/%s", f->dir, name);
    return p;
}

static const char *write_file(const struct fixture *f, const char *name, const char *content, mode_t mode)
{
    const char *path = path_in(f, name);
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_int_equal(fputs(content, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void make_dir(const struct fixture *f, const char *name)
{
    assert_int_equal(mkdir(path_in(f, name), 0700), 0);
}

/* Check the failure's code, that the message names what it should, and that it holds no secret. */
static void assert_failure(const struct fixture *f, int rc, int code, const char *needle)
{
    const char *message = valkeyaddon_ctx_error_message(f->ctx);

    assert_int_equal(rc, code);
    if (needle && !strstr(message, needle))
        fail_msg("message \"%s\" does not mention \"%s\"", message, needle);
    assert_null(strstr(message, TOKEN));
    assert_null(strstr(message, TOKEN2));
    assert_null(strstr(message, "s3cr3t-KEY"));
}

static void assert_cleared(const struct valkeyaddon__kube_config *c)
{
    struct valkeyaddon__kube_config zero;

    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(c, &zero, sizeof(zero));
}

static int load(struct fixture *f, struct valkeyaddon__kube_config *c, const char *paths, const char *context)
{
    valkeyaddon_ctx_clear_error(f->ctx);
    return valkeyaddon__kube_config_load(c, f->ctx, paths, context);
}

/* A kubeconfig with one cluster/user/context; the blanks are filled by the caller. */
static const char *write_simple(struct fixture *f, const char *name, const char *cluster_extra,
                                const char *user_body)
{
    char text[8192];

    snprintf(text, sizeof(text),
             "apiVersion: v1\n"
             "kind: Config\n"
             "current-context: dev\n"
             "clusters:\n"
             "- name: c1\n"
             "  cluster:\n"
             "    server: https://k8s.example.com:6443\n"
             "%s"
             "users:\n"
             "- name: u1\n"
             "  user:\n"
             "%s"
             "contexts:\n"
             "- name: dev\n"
             "  context:\n"
             "    cluster: c1\n"
             "    user: u1\n",
             cluster_extra, user_body);
    return write_file(f, name, text, 0600);
}

/* kubeconfig files */

static void test_kubeconfig__data_fields(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char cluster[1024], user[2048];
    const char *path;

    snprintf(cluster, sizeof(cluster),
             "    certificate-authority-data: %s\n"
             "    tls-server-name: api.internal\n",
             f->ca_b64);
    snprintf(user, sizeof(user),
             "    client-certificate-data: %s\n"
             "    client-key-data: %s\n",
             f->cert_b64, f->key_b64);
    path = write_simple(f, "config", cluster, user);
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.server, "https://k8s.example.com:6443");
    assert_string_equal(c.context_name, "dev");
    assert_string_equal(c.namespace_, "default");
    assert_string_equal(c.tls_server_name, "api.internal");
    assert_int_equal(c.ca_data_len, strlen(CA_PEM));
    assert_memory_equal(c.ca_data, CA_PEM, strlen(CA_PEM));
    assert_int_equal(c.client_cert_data_len, strlen(CERT_PEM));
    assert_memory_equal(c.client_cert_data, CERT_PEM, strlen(CERT_PEM));
    assert_int_equal(c.client_key_data_len, strlen(KEY_PEM));
    assert_memory_equal(c.client_key_data, KEY_PEM, strlen(KEY_PEM));
    assert_null(c.ca_file);
    assert_null(c.client_cert_file);
    assert_null(c.token);
    assert_null(c.token_file);
    assert_int_equal(c.insecure_skip_tls_verify, 0);
    assert_int_equal(c.has_exec, 0);
    valkeyaddon__kube_config_clear(&c);
    assert_cleared(&c);
    valkeyaddon__kube_config_clear(&c); /* twice is harmless */
}

static void test_kubeconfig__file_paths(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char cluster[1024], expected[4200], cwd[4096];
    const char *path, *ca;

    make_dir(f, "certs");
    make_dir(f, "sub");
    ca = write_file(f, "ca.crt", CA_PEM, 0644);
    write_file(f, "certs/client.crt", CERT_PEM, 0644);
    write_file(f, "certs/client.key", KEY_PEM, 0600);
    snprintf(cluster, sizeof(cluster), "    certificate-authority: %s\n", ca);
    path = write_simple(f, "config", cluster,
                        "    client-certificate: certs/client.crt\n"
                        "    client-key: ./certs/client.key\n");
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.ca_file, ca); /* absolute: kept */
    snprintf(expected, sizeof(expected), "%s/certs/client.crt", f->dir);
    assert_string_equal(c.client_cert_file, expected); /* relative: against the kubeconfig's directory */
    snprintf(expected, sizeof(expected), "%s/./certs/client.key", f->dir);
    assert_string_equal(c.client_key_file, expected);
    assert_null(c.client_cert_data);
    valkeyaddon__kube_config_clear(&c);

    /* A kubeconfig named by a relative path: its files resolve to absolute paths. */
    write_file(f, "sub/ca.crt", CA_PEM, 0644);
    write_simple(f, "sub/config", "    certificate-authority: ca.crt\n", "    token: " TOKEN "\n");
    assert_int_equal(chdir(f->dir), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(load(f, &c, "sub/config", NULL), 0);
    snprintf(expected, sizeof(expected), "%s/sub/ca.crt", cwd);
    assert_string_equal(c.ca_file, expected);
    valkeyaddon__kube_config_clear(&c);

    /* A referenced file that cannot be read is EIO, as client-go checks them on load. */
    write_simple(f, "missing", "    certificate-authority: nowhere.crt\n", "    token: " TOKEN "\n");
    assert_failure(f, load(f, &c, path_in(f, "missing"), NULL), VALKEYADDON_EIO, "nowhere.crt");
    assert_cleared(&c);
}

static void test_kubeconfig__token_and_token_file(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char expected[1024];
    const char *path;

    write_file(f, "token", TOKEN2 "\n", 0600);
    path = write_simple(f, "config", "    insecure-skip-tls-verify: true\n",
                        "    token: " TOKEN "\n"
                        "    tokenFile: token\n");
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.token, TOKEN);
    snprintf(expected, sizeof(expected), "%s/token", f->dir);
    assert_string_equal(c.token_file, expected);
    assert_int_equal(c.insecure_skip_tls_verify, 1);
    valkeyaddon__kube_config_clear(&c);

    /* A missing tokenFile is EIO. */
    path = write_simple(f, "config2", "", "    tokenFile: /nonexistent/token\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_EIO, "/nonexistent/token");
    assert_cleared(&c);
}

static const char two_contexts[] =
    "current-context: dev\n"
    "clusters:\n"
    "- name: c1\n"
    "  cluster: {server: 'https://one.example.com/'}\n"
    "- name: c2\n"
    "  cluster:\n"
    "    server: two.example.com:443\n"
    "users:\n"
    "- name: u1\n"
    "  user: {token: " TOKEN "}\n"
    "- name: u2\n"
    "  user: {}\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: {cluster: c1, user: u1, namespace: team-a}\n"
    "- name: prod\n"
    "  context: {cluster: c2, user: u2}\n";

static void test_kubeconfig__named_context(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    const char *path = write_file(f, "config", two_contexts, 0600);

    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.context_name, "dev");
    assert_string_equal(c.server, "https://one.example.com"); /* trailing '/' dropped */
    assert_string_equal(c.namespace_, "team-a");
    assert_string_equal(c.token, TOKEN);
    valkeyaddon__kube_config_clear(&c);

    assert_int_equal(load(f, &c, path, "prod"), 0);
    assert_string_equal(c.context_name, "prod");
    assert_string_equal(c.server, "https://two.example.com:443"); /* no scheme: https, like client-go */
    assert_string_equal(c.namespace_, "default");
    assert_null(c.token); /* an empty user: anonymous */
    valkeyaddon__kube_config_clear(&c);
}

static void test_kubeconfig__namespace_default(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    const char *path = write_simple(f, "config", "", "    token: " TOKEN "\n");

    assert_int_equal(load(f, &c, path, ""), 0); /* "" context: current-context */
    assert_string_equal(c.namespace_, "default");
    valkeyaddon__kube_config_clear(&c);
}

static void test_kubeconfig__kubeconfig_merge(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char list[2048], expected[1024];

    make_dir(f, "one");
    make_dir(f, "two");
    write_file(f, "one/ca.crt", CA_PEM, 0644);
    write_file(f, "two/ca.crt", CA_PEM, 0644);
    /* The first file sets no current-context but defines the shared cluster and user first. */
    write_file(f, "one/config",
               "clusters:\n"
               "- name: shared\n"
               "  cluster: {server: 'https://first.example.com', certificate-authority: ca.crt}\n"
               "users:\n"
               "- name: me\n"
               "  user: {token: " TOKEN "}\n",
               0600);
    write_file(f, "two/config",
               "current-context: merged\n"
               "clusters:\n"
               "- name: shared\n"
               "  cluster: {server: 'https://second.example.com', certificate-authority: ca.crt}\n"
               "users:\n"
               "- name: me\n"
               "  user: {token: " TOKEN2 "}\n"
               "contexts:\n"
               "- name: merged\n"
               "  context: {cluster: shared, user: me, namespace: ns2}\n"
               "- name: other\n"
               "  context: {cluster: shared, user: me}\n",
               0600);
    write_file(f, "three",
               "current-context: other\n"
               "contexts:\n"
               "- name: merged\n"
               "  context: {cluster: nowhere, user: nobody}\n",
               0600);
    /* Empty entries and missing files are skipped, a repeated entry counts once. */
    snprintf(list, sizeof(list), "%s/absent::%s/one/config:%s/two/config:%s/one/config:%s/three", f->dir, f->dir,
             f->dir, f->dir, f->dir);
    assert_int_equal(setenv("KUBECONFIG", list, 1), 0);
    assert_int_equal(load(f, &c, NULL, NULL), 0);
    assert_string_equal(c.context_name, "merged");          /* the first current-context set */
    assert_string_equal(c.namespace_, "ns2");               /* the first "merged" context */
    assert_string_equal(c.server, "https://first.example.com"); /* the first "shared" cluster */
    assert_string_equal(c.token, TOKEN);                    /* the first "me" user */
    snprintf(expected, sizeof(expected), "%s/one/ca.crt", f->dir);
    assert_string_equal(c.ca_file, expected); /* relative to the file that defined the cluster */
    valkeyaddon__kube_config_clear(&c);

    /* An explicit path list overrides KUBECONFIG, and every file in it must exist. */
    snprintf(list, sizeof(list), "%s/three:%s/two/config", f->dir, f->dir);
    assert_int_equal(load(f, &c, list, "other"), 0);
    assert_string_equal(c.server, "https://second.example.com");
    valkeyaddon__kube_config_clear(&c);
    snprintf(list, sizeof(list), "%s/two/config:%s/absent", f->dir, f->dir);
    assert_failure(f, load(f, &c, list, NULL), VALKEYADDON_EIO, "absent");

    /* KUBECONFIG naming only missing files. */
    snprintf(list, sizeof(list), "%s/absent:%s/absent2", f->dir, f->dir);
    assert_int_equal(setenv("KUBECONFIG", list, 1), 0);
    assert_failure(f, load(f, &c, NULL, NULL), VALKEYADDON_ECONFIG, "KUBECONFIG");
    assert_cleared(&c);
}

static void test_kubeconfig__home_default(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char *saved = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

    assert_int_equal(setenv("HOME", f->dir, 1), 0);
    assert_failure(f, load(f, &c, NULL, NULL), VALKEYADDON_ECONFIG, ".kube/config");
    make_dir(f, ".kube");
    write_simple(f, ".kube/config", "", "    token: " TOKEN "\n");
    assert_int_equal(setenv("KUBECONFIG", "", 1), 0); /* empty: as if unset */
    assert_int_equal(load(f, &c, NULL, NULL), 0);
    assert_string_equal(c.context_name, "dev");
    valkeyaddon__kube_config_clear(&c);
    unsetenv("HOME");
    assert_failure(f, load(f, &c, NULL, NULL), VALKEYADDON_ECONFIG, "HOME");
    if (saved)
        setenv("HOME", saved, 1);
    free(saved);
}

static void test_kubeconfig__json(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char text[4096];
    const char *path;

    /* As `kubectl config view -o json` writes it, and compact. */
    snprintf(text, sizeof(text),
             "{\n"
             "    \"kind\": \"Config\",\n"
             "    \"apiVersion\": \"v1\",\n"
             "    \"clusters\": [\n"
             "        {\n"
             "            \"name\": \"c1\",\n"
             "            \"cluster\": {\n"
             "                \"server\": \"https:\\/\\/json.example.com\",\n"
             "                \"certificate-authority-data\": \"%s\",\n"
             "\t\t\t\t\"insecure-skip-tls-verify\": false\n"
             "            }\n"
             "        }\n"
             "    ],\n"
             "    \"users\": [{\"name\":\"u1\",\"user\":{\"token\":\"" TOKEN "\"}}],\n"
             "    \"contexts\": [{\"name\":\"dev\",\"context\":{\"cluster\":\"c1\",\"user\":\"u1\","
             "\"namespace\":\"json-ns\"}}],\n"
             "    \"current-context\": \"dev\",\n"
             "    \"preferences\": {}\n"
             "}\n",
             f->ca_b64);
    path = write_file(f, "config.json", text, 0600);
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.server, "https://json.example.com");
    assert_string_equal(c.namespace_, "json-ns");
    assert_string_equal(c.token, TOKEN);
    assert_memory_equal(c.ca_data, CA_PEM, strlen(CA_PEM));
    valkeyaddon__kube_config_clear(&c);

    path = write_file(f, "compact.json",
                      "{\"current-context\":\"x\",\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":"
                      "\"https://c.example.com\"}}],\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"" TOKEN2
                      "\"}}],\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"k\",\"user\":\"u\"}}]}",
                      0600);
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.server, "https://c.example.com");
    assert_string_equal(c.token, TOKEN2);
    valkeyaddon__kube_config_clear(&c);
}

static void test_kubeconfig__missing_references(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    const char *path = write_file(f, "config",
                                  "current-context: ghost\n"
                                  "clusters:\n"
                                  "- name: c1\n"
                                  "  cluster: {server: 'https://x'}\n"
                                  "- name: noserver\n"
                                  "  cluster: {}\n"
                                  "users:\n"
                                  "- name: u1\n"
                                  "  user: {token: " TOKEN "}\n"
                                  "contexts:\n"
                                  "- name: no-cluster\n"
                                  "  context: {cluster: absent-cluster, user: u1}\n"
                                  "- name: no-user\n"
                                  "  context: {cluster: c1, user: absent-user}\n"
                                  "- name: no-server\n"
                                  "  context: {cluster: noserver, user: u1}\n"
                                  "- name: unset-user\n"
                                  "  context: {cluster: c1}\n",
                                  0600);

    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "context \"ghost\"");
    assert_cleared(&c);
    assert_failure(f, load(f, &c, path, "nope"), VALKEYADDON_ECONFIG, "context \"nope\"");
    assert_failure(f, load(f, &c, path, "no-cluster"), VALKEYADDON_ECONFIG, "cluster \"absent-cluster\"");
    assert_failure(f, load(f, &c, path, "no-user"), VALKEYADDON_ECONFIG, "user \"absent-user\"");
    assert_cleared(&c);
    assert_failure(f, load(f, &c, path, "no-server"), VALKEYADDON_ECONFIG, "server");
    assert_failure(f, load(f, &c, path, "unset-user"), VALKEYADDON_ECONFIG, "user");

    path = write_file(f, "nocurrent", "clusters: []\n", 0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "current-context");
    /* An empty file is an empty configuration. */
    path = write_file(f, "empty", "", 0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "current-context");
    /* A name defined twice in one file is ambiguous. */
    path = write_file(f, "twice",
                      "current-context: a\n"
                      "contexts:\n"
                      "- {name: a, context: {cluster: c, user: u}}\n"
                      "- {name: a, context: {cluster: d, user: u}}\n",
                      0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "context \"a\" is defined twice");
    assert_cleared(&c);
}

static void test_kubeconfig__malformed(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    const char *path;

    path = write_file(f, "bad",
                      "users:\n"
                      "- name: u1\n"
                      "  user:\n"
                      "    token: \"" TOKEN "\n"
                      "    other: [\n",
                      0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "not valid YAML");
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), path));
    assert_cleared(&c);

    path = write_file(f, "bad2", "token: " TOKEN "\n  - broken: [" TOKEN2 "\n", 0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "not valid YAML");

    path = write_file(f, "list", "- " TOKEN "\n", 0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "not a YAML mapping");

    path = write_file(f, "types", "current-context: [" TOKEN "]\n", 0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "current-context must be a string");

    path = write_simple(f, "badbool", "    insecure-skip-tls-verify: " TOKEN "\n", "    token: " TOKEN "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "insecure-skip-tls-verify");

    path = write_simple(f, "repeated", "", "    token: " TOKEN "\n    token: " TOKEN2 "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "token is repeated");

    path = write_simple(f, "badb64", "    certificate-authority-data: '" TOKEN "!'\n", "    token: " TOKEN "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "not valid base64");
    path = write_simple(f, "badb64key", "", "    client-certificate-data: Zm9v\n    client-key-data: '" TOKEN "'\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "client-key-data is not valid base64");
    assert_cleared(&c);
}

static void test_kubeconfig__unreadable(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;

    assert_failure(f, load(f, &c, path_in(f, "does-not-exist"), NULL), VALKEYADDON_EIO, "does-not-exist");
    assert_cleared(&c);
    make_dir(f, "adir");
    assert_failure(f, load(f, &c, path_in(f, "adir"), NULL), VALKEYADDON_EIO, "adir");
    if (geteuid() != 0) { /* root reads anything */
        const char *path = write_simple(f, "secret", "", "    token: " TOKEN "\n");
        assert_int_equal(chmod(path, 0), 0);
        assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_EIO, "secret");
    }
    assert_cleared(&c);
    valkeyaddon_ctx_clear_error(f->ctx);
    assert_int_equal(valkeyaddon__kube_config_load(NULL, f->ctx, NULL, NULL), VALKEYADDON_EINVAL);
}

static void test_kubeconfig__unsupported(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    const char *path;

    path = write_simple(f, "basic", "", "    username: admin\n    password: " TOKEN "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "not supported");
    assert_cleared(&c);
    path = write_simple(f, "provider", "", "    auth-provider:\n      name: oidc\n      config: {id-token: " TOKEN "}\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "auth-provider");
    path = write_simple(f, "impersonate", "", "    token: " TOKEN "\n    as: someone-else\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "impersonation");
    path = write_simple(f, "proxy", "    proxy-url: http://proxy:3128\n", "    token: " TOKEN "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "proxy-url");
    path = write_file(f, "scheme",
               "current-context: a\n"
               "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\n"
               "users: [{name: u, user: {}}]\n"
               "contexts: [{name: a, context: {cluster: c, user: u}}]\n",
               0600);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "server");
    assert_cleared(&c);
}

static void test_kubeconfig__conflicts(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char cluster[1024], user[1024];
    const char *path;

    write_file(f, "ca.crt", CA_PEM, 0644);
    snprintf(cluster, sizeof(cluster), "    certificate-authority: ca.crt\n    certificate-authority-data: %s\n",
             f->ca_b64);
    path = write_simple(f, "both-ca", cluster, "    token: " TOKEN "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "both set");
    path = write_simple(f, "insecure-ca", "    certificate-authority: ca.crt\n    insecure-skip-tls-verify: yes\n",
                        "    token: " TOKEN "\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "insecure-skip-tls-verify");
    snprintf(user, sizeof(user), "    client-certificate-data: %s\n", f->cert_b64);
    path = write_simple(f, "no-key", "", user);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "without client-key");
    snprintf(user, sizeof(user), "    client-key-data: %s\n", f->key_b64);
    path = write_simple(f, "no-cert", "", user);
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "without client-certificate");
    assert_cleared(&c);
}

static void test_kubeconfig__exec_config(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char expected[1024];
    const char *path;

    path = write_simple(f, "config", "",
                        "    exec:\n"
                        "      apiVersion: client.authentication.k8s.io/v1\n"
                        "      command: ./bin/plugin\n"
                        "      args: [get-token, --cluster, 'a b']\n"
                        "      env:\n"
                        "      - {name: PLUGIN_KEY, value: " TOKEN "}\n"
                        "      - name: EMPTY\n"
                        "      interactiveMode: Never\n"
                        "      installHint: install it\n");
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_int_equal(c.has_exec, 1);
    assert_string_equal(c.exec.api_version, "client.authentication.k8s.io/v1");
    snprintf(expected, sizeof(expected), "%s/./bin/plugin", f->dir);
    assert_string_equal(c.exec.command, expected);
    assert_string_equal(c.exec.args[0], "get-token");
    assert_string_equal(c.exec.args[1], "--cluster");
    assert_string_equal(c.exec.args[2], "a b");
    assert_null(c.exec.args[3]);
    assert_string_equal(c.exec.env[0], "PLUGIN_KEY=" TOKEN);
    assert_string_equal(c.exec.env[1], "EMPTY=");
    assert_null(c.exec.env[2]);
    valkeyaddon__kube_config_clear(&c);

    /* A bare command name is looked up in PATH when run. */
    path = write_simple(f, "bare", "",
                        "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin}\n");
    assert_int_equal(load(f, &c, path, NULL), 0);
    assert_string_equal(c.exec.command, "kubelogin");
    assert_non_null(c.exec.args);
    assert_null(c.exec.args[0]);
    assert_non_null(c.exec.env);
    valkeyaddon__kube_config_clear(&c);

    path = write_simple(f, "alpha", "", "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "v1alpha1");
    path = write_simple(f, "nocommand", "", "    exec: {apiVersion: client.authentication.k8s.io/v1}\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "exec.command");
    path = write_simple(f, "always", "",
                        "    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Always}\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "interactiveMode");
    path = write_simple(f, "clusterinfo", "",
                        "    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, provideClusterInfo: true}\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "provideClusterInfo");
    path = write_simple(f, "badenv", "",
                        "    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, env: [{value: " TOKEN "}]}\n");
    assert_failure(f, load(f, &c, path, NULL), VALKEYADDON_ECONFIG, "exec.env");
    assert_cleared(&c);
}

/* in-cluster */

static void make_service_account(struct fixture *f, const char *token, const char *ns, int with_ca)
{
    make_dir(f, "var");
    make_dir(f, "var/run");
    make_dir(f, "var/run/secrets");
    make_dir(f, "var/run/secrets/kubernetes.io");
    make_dir(f, "var/run/secrets/kubernetes.io/serviceaccount");
    if (token)
        write_file(f, "var/run/secrets/kubernetes.io/serviceaccount/token", token, 0600);
    if (ns)
        write_file(f, "var/run/secrets/kubernetes.io/serviceaccount/namespace", ns, 0644);
    if (with_ca)
        write_file(f, "var/run/secrets/kubernetes.io/serviceaccount/ca.crt", CA_PEM, 0644);
}

static int in_cluster(struct fixture *f, struct valkeyaddon__kube_config *c, const char *root)
{
    valkeyaddon_ctx_clear_error(f->ctx);
    return valkeyaddon__kube_config_in_cluster(c, f->ctx, root);
}

static void test_kubeconfig__in_cluster(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    char root[512];

    make_service_account(f, TOKEN "\n", "apps\n", 1);
    snprintf(root, sizeof(root), "%s/", f->dir); /* a trailing '/' is fine */
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(in_cluster(f, &c, root), 0);
    assert_string_equal(c.server, "https://10.96.0.1:443");
    assert_string_equal(c.token_file, path_in(f, "var/run/secrets/kubernetes.io/serviceaccount/token"));
    assert_null(c.token); /* kept as a file: the kubelet rotates it */
    assert_string_equal(c.ca_file, path_in(f, "var/run/secrets/kubernetes.io/serviceaccount/ca.crt"));
    assert_string_equal(c.namespace_, "apps");
    assert_string_equal(c.context_name, "in-cluster");
    valkeyaddon__kube_config_clear(&c);

    /* POD_NAMESPACE wins over the file, as in client-go. */
    setenv("POD_NAMESPACE", "from-env", 1);
    assert_int_equal(in_cluster(f, &c, f->dir), 0);
    assert_string_equal(c.namespace_, "from-env");
    valkeyaddon__kube_config_clear(&c);
}

static void test_kubeconfig__in_cluster_ipv6(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;

    make_service_account(f, TOKEN, NULL, 0);
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    assert_int_equal(in_cluster(f, &c, f->dir), 0);
    assert_string_equal(c.server, "https://[fd00:10:96::1]:6443");
    assert_string_equal(c.namespace_, "default"); /* no namespace file */
    assert_null(c.ca_file);                       /* no ca.crt: the system's roots, with a warning */
    assert_non_null(strstr(f->log.all, "ca.crt"));
    valkeyaddon__kube_config_clear(&c);
}

static void test_kubeconfig__in_cluster_failures(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;

    assert_failure(f, in_cluster(f, &c, f->dir), VALKEYADDON_ECONFIG, "KUBERNETES_SERVICE_HOST");
    assert_cleared(&c);
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    assert_failure(f, in_cluster(f, &c, f->dir), VALKEYADDON_ECONFIG, "KUBERNETES_SERVICE_PORT");
    setenv("KUBERNETES_SERVICE_PORT", "99999", 1);
    assert_failure(f, in_cluster(f, &c, f->dir), VALKEYADDON_ECONFIG, "not a port");
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("KUBERNETES_SERVICE_HOST", "evil/host", 1);
    assert_failure(f, in_cluster(f, &c, f->dir), VALKEYADDON_ECONFIG, "KUBERNETES_SERVICE_HOST");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    assert_failure(f, in_cluster(f, &c, f->dir), VALKEYADDON_ECONFIG, "automountServiceAccountToken");
    make_service_account(f, "\n", NULL, 1);
    assert_failure(f, in_cluster(f, &c, f->dir), VALKEYADDON_ECONFIG, "empty");
    assert_cleared(&c);
}

/* exec plugins */

static const char *write_script(struct fixture *f, const char *name, const char *body)
{
    char text[4096];

    snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
    return write_file(f, name, text, 0700);
}

static int run(struct fixture *f, struct valkeyaddon__kube_credential *cred, const char *command, char **args,
               char **env, long timeout_ms)
{
    char *none[1];
    struct valkeyaddon__kube_exec exec;

    none[0] = NULL;
    exec.api_version = (char *)VALKEYADDON__KUBE_EXEC_V1;
    exec.command = (char *)command;
    exec.args = args ? args : none;
    exec.env = env ? env : none;
    valkeyaddon_ctx_clear_error(f->ctx);
    return valkeyaddon__kube_exec_run(cred, f->ctx, &exec, timeout_ms);
}

#define CRED_V1 "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","

static void test_kubeconfig__exec_token(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_credential cred;
    struct valkeyaddon__kube_config c;
    const char *path;

    make_dir(f, "bin");
    /* The token comes from an argument: args reach the plugin unchanged, no shell involved. */
    write_script(f, "bin/plugin",
                 "[ \"$2\" = 'a b $(false)' ] || exit 7\n"
                 "echo 'not secret diagnostics' >&2\n"
                 "printf '%s' '" CRED_V1 "\"status\":{\"token\":\"'\"$1\"'\","
                 "\"expirationTimestamp\":\"2030-01-01T00:00:00.123456+05:30\"}}'\n");
    path = write_simple(f, "config", "",
                        "    exec:\n"
                        "      apiVersion: client.authentication.k8s.io/v1\n"
                        "      command: bin/plugin\n"
                        "      args: ['" TOKEN "', 'a b $(false)']\n");
    assert_int_equal(load(f, &c, path, NULL), 0);
    valkeyaddon_ctx_clear_error(f->ctx);
    assert_int_equal(valkeyaddon__kube_exec_run(&cred, f->ctx, &c.exec, 10000), 0);
    assert_string_equal(cred.token, TOKEN);
    assert_int_equal(cred.expiration, 1893436200LL);
    assert_null(cred.client_cert_data);
    valkeyaddon__kube_credential_clear(&cred);
    valkeyaddon__kube_credential_clear(&cred);
    valkeyaddon__kube_config_clear(&c);
}

static void test_kubeconfig__exec_client_certificate(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_credential cred;
    const char *script = write_script(f, "plugin",
                                      "cat <<'EOF'\n" CRED_V1 "\n \"status\": {\n"
                                      "  \"clientCertificateData\": \"-----BEGIN CERTIFICATE-----\\nC\\n-----END "
                                      "CERTIFICATE-----\\n\",\n"
                                      "  \"clientKeyData\": \"-----BEGIN PRIVATE KEY-----\\ns3cr3t-KEY\\n-----END "
                                      "PRIVATE KEY-----\\n\"}}\nEOF\n");

    assert_int_equal(run(f, &cred, script, NULL, NULL, 0), 0);
    assert_null(cred.token);
    assert_int_equal(cred.expiration, 0);
    assert_int_equal(cred.client_cert_data_len, strlen("-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n"));
    assert_memory_equal(cred.client_cert_data, "-----BEGIN CERTIFICATE-----\nC\n", 30);
    assert_non_null(strstr((const char *)cred.client_key_data, "s3cr3t-KEY"));
    valkeyaddon__kube_credential_clear(&cred);
}

static void test_kubeconfig__exec_failures(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_credential cred;
    struct timespec start, end;
    const char *script;
    char *args[2];

    /* A failing plugin: only the status is reported, never what it printed. */
    script = write_script(f, "fails", "echo '" TOKEN "'\necho '" TOKEN2 "' >&2\nexit 1\n");
    assert_failure(f, run(f, &cred, script, NULL, NULL, 0), VALKEYADDON_ECONFIG, "exited with status 1");
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), script));
    assert_null(cred.token);

    /* A hanging plugin is killed at the deadline, with what it started. */
    script = write_script(f, "sleeps", "sleep 30 &\nsleep 30\n");
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_failure(f, run(f, &cred, script, NULL, NULL, 300), VALKEYADDON_ETIMEOUT, "300 ms");
    clock_gettime(CLOCK_MONOTONIC, &end);
    assert_true(end.tv_sec - start.tv_sec < 5);

    /* One that closes stdout and lingers is also bounded. */
    script = write_script(f, "lingers", "exec >&-\nsleep 30\n");
    assert_failure(f, run(f, &cred, script, NULL, NULL, 300), VALKEYADDON_ETIMEOUT, "killed");

    script = write_script(f, "garbage", "echo '{\"token\": \"" TOKEN "\"'\n");
    assert_failure(f, run(f, &cred, script, NULL, NULL, 0), VALKEYADDON_ECONFIG, "not valid JSON");

    script = write_script(f, "huge", "head -c 2000000 /dev/zero | tr '\\0' a\n");
    assert_failure(f, run(f, &cred, script, NULL, NULL, 0), VALKEYADDON_ECONFIG, "more than");

    script = write_script(f, "signal", "kill -9 $$\n");
    assert_failure(f, run(f, &cred, script, NULL, NULL, 0), VALKEYADDON_ECONFIG, "signal 9");

    /* "could not be started", or status 127 where posix_spawn cannot see a failed exec (valgrind). */
    assert_failure(f, run(f, &cred, path_in(f, "no-such-plugin"), NULL, NULL, 0), VALKEYADDON_ECONFIG,
                   "no-such-plugin");
    assert_failure(f, run(f, &cred, "no-such-plugin-in-path-xyz", NULL, NULL, 0), VALKEYADDON_ECONFIG,
                   "no-such-plugin-in-path-xyz");
    args[0] = (char *)TOKEN;
    args[1] = NULL;
    script = write_script(f, "wrongversion",
                          "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":"
                          "\"ExecCredential\",\"status\":{\"token\":\"'$1'\"}}'\n");
    assert_failure(f, run(f, &cred, script, args, NULL, 0), VALKEYADDON_ECONFIG, "v1beta1");
    assert_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "wrongversion " TOKEN));
}

static void test_kubeconfig__exec_environment(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_credential cred;
    char *env[5];
    const char *script;

    script = write_script(f, "envcheck",
                          "[ \"$KUBERNETES_EXEC_INFO\" = '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                          "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}' ] || exit 3\n"
                          "[ \"$PLUGIN_VAR\" = 'plugin value' ] || exit 4\n"
                          "[ \"$OVERRIDDEN\" = 'second' ] || exit 5\n"
                          "[ \"$INHERITED_VAR\" = 'inherited' ] || exit 6\n"
                          "[ \"$HOME_OVERRIDE\" = 'mine' ] || exit 8\n"
                          "if read line; then exit 9; fi\n" /* stdin is /dev/null */
                          "echo '" CRED_V1 "\"status\":{\"token\":\"" TOKEN "\"}}'\n");
    setenv("INHERITED_VAR", "inherited", 1);
    setenv("HOME_OVERRIDE", "theirs", 1);
    setenv("KUBERNETES_EXEC_INFO", "stale", 1);
    env[0] = (char *)"PLUGIN_VAR=plugin value";
    env[1] = (char *)"OVERRIDDEN=first";
    env[2] = (char *)"OVERRIDDEN=second"; /* the later entry wins */
    env[3] = (char *)"HOME_OVERRIDE=mine";
    env[4] = NULL;
    assert_int_equal(run(f, &cred, script, NULL, env, 0), 0);
    unsetenv("INHERITED_VAR");
    unsetenv("HOME_OVERRIDE");
    unsetenv("KUBERNETES_EXEC_INFO");
    assert_string_equal(cred.token, TOKEN);
    valkeyaddon__kube_credential_clear(&cred);
    /* Without the configured variable the plugin refuses. */
    assert_failure(f, run(f, &cred, script, NULL, NULL, 0), VALKEYADDON_ECONFIG, "status 4");
}

/* the ExecCredential parser */

static int parse(struct fixture *f, struct valkeyaddon__kube_credential *cred, const char *json, const char *expected)
{
    valkeyaddon_ctx_clear_error(f->ctx);
    return valkeyaddon__kube_exec_parse(cred, f->ctx, json, strlen(json), expected);
}

static void test_kubeconfig__exec_parse(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_credential cred;

    assert_int_equal(parse(f, &cred,
                           CRED_V1 "\"spec\":{},\"status\":{\"token\":\"" TOKEN
                                   "\",\"expirationTimestamp\":\"2018-03-05T17:30:20-08:00\"}}",
                           VALKEYADDON__KUBE_EXEC_V1),
                     0);
    assert_string_equal(cred.token, TOKEN);
    assert_int_equal(cred.expiration, 1520299820LL);
    valkeyaddon__kube_credential_clear(&cred);

    /* NULL expected: either version. Not NUL-terminated input is fine. */
    {
        const char text[] = "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
                            "\"status\":{\"token\":\"" TOKEN2 "\"}}XXXX";
        valkeyaddon_ctx_clear_error(f->ctx);
        assert_int_equal(valkeyaddon__kube_exec_parse(&cred, f->ctx, text, sizeof(text) - 5, NULL), 0);
        assert_string_equal(cred.token, TOKEN2);
        assert_int_equal(cred.expiration, 0);
        valkeyaddon__kube_credential_clear(&cred);
    }

    assert_failure(f, parse(f, &cred, CRED_V1 "\"status\":{\"token\":\"" TOKEN "\"}}", VALKEYADDON__KUBE_EXEC_V1BETA1),
                   VALKEYADDON_ECONFIG, "apiVersion client.authentication.k8s.io/v1");
    assert_failure(f, parse(f, &cred, "{\"apiVersion\":\"" TOKEN "\",\"kind\":\"ExecCredential\"}", NULL),
                   VALKEYADDON_ECONFIG, "apiVersion");
    assert_failure(f, parse(f, &cred,
                            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Credential\",\"status\":"
                            "{\"token\":\"" TOKEN "\"}}",
                            NULL),
                   VALKEYADDON_ECONFIG, "kind is not ExecCredential");
    assert_failure(f, parse(f, &cred, "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"" TOKEN "\"}", NULL),
                   VALKEYADDON_ECONFIG, "kind");
    assert_failure(f, parse(f, &cred, CRED_V1 "\"spec\":{}}", NULL), VALKEYADDON_ECONFIG, "no status");
    assert_failure(f, parse(f, &cred, CRED_V1 "\"status\":{}}", NULL), VALKEYADDON_ECONFIG, "neither");
    assert_failure(f, parse(f, &cred, CRED_V1 "\"status\":{\"clientKeyData\":\"" TOKEN "\"}}", NULL),
                   VALKEYADDON_ECONFIG, "without its certificate");
    assert_failure(f, parse(f, &cred, CRED_V1 "\"status\":{\"token\":42}}", NULL), VALKEYADDON_ECONFIG, "not a string");
    assert_failure(f, parse(f, &cred,
                            CRED_V1 "\"status\":{\"token\":\"" TOKEN "\",\"expirationTimestamp\":\"2030-02-30T00:00:00Z\"}}",
                            NULL),
                   VALKEYADDON_ECONFIG, "expirationTimestamp 2030-02-30T00:00:00Z is not");
    assert_failure(f, parse(f, &cred,
                            CRED_V1 "\"status\":{\"token\":\"" TOKEN "\",\"expirationTimestamp\":\"" TOKEN "\"}}",
                            NULL),
                   VALKEYADDON_ECONFIG, "expirationTimestamp");
    assert_failure(f, parse(f, &cred, "{\"status\":{\"token\":\"" TOKEN "\"", NULL), VALKEYADDON_ECONFIG,
                   "not valid JSON");
    assert_failure(f, parse(f, &cred, "[\"" TOKEN "\"]", NULL), VALKEYADDON_ECONFIG, "not a JSON object");
    assert_failure(f, parse(f, &cred, "", NULL), VALKEYADDON_ECONFIG, "not valid JSON");
    {
        /* Deep nesting is refused before yajl (which recurses to free it) sees it. */
        static char deep[200001];
        memset(deep, '[', sizeof(deep) - 1);
        assert_failure(f, parse(f, &cred, deep, NULL), VALKEYADDON_ECONFIG, "nested too deeply");
    }
    {
        const char with_nul[] = CRED_V1 "\"status\":{\"token\":\"a\0b\"}}";
        valkeyaddon_ctx_clear_error(f->ctx);
        assert_failure(f, valkeyaddon__kube_exec_parse(&cred, f->ctx, with_nul, sizeof(with_nul) - 1, NULL),
                       VALKEYADDON_ECONFIG, "NUL");
    }
    assert_null(cred.token);
}

static void test_kubeconfig__rfc3339(void **state)
{
    long long t = 0;

    (void)state;
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "1970-01-01T00:00:00Z"), 0);
    assert_int_equal(t, 0);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2018-03-05T17:30:20-08:00"), 0);
    assert_int_equal(t, 1520299820LL);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2024-02-29t23:59:59z"), 0);
    assert_int_equal(t, 1709251199LL);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2030-01-01T00:00:00.123456+05:30"), 0);
    assert_int_equal(t, 1893436200LL);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "1969-12-31T23:59:59Z"), 0);
    assert_int_equal(t, -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-02-29T00:00:00Z"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-13-01T00:00:00Z"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-01-01T24:00:00Z"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-01-01T00:00:00"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-01-01T00:00:00.Z"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-01-01 00:00:00Z"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-01-01T00:00:00+0100"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, "2023-01-01T00:00:00Zjunk"), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, ""), -1);
    assert_int_equal(valkeyaddon__kube_parse_rfc3339(&t, NULL), -1);
}

/* allocation failure */

static long allocs, fail_after = -1;

static void *failing_malloc(size_t size)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    allocs++;
    return malloc(size);
}

static void *failing_calloc(size_t count, size_t size)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    allocs++;
    return calloc(count, size);
}

static void *failing_realloc(void *ptr, size_t size)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    if (!ptr)
        allocs++;
    return realloc(ptr, size);
}

static void failing_free(void *ptr)
{
    allocs--;
    free(ptr);
}

static void test_kubeconfig__out_of_memory(void **state)
{
    struct fixture *f = *state;
    struct valkeyaddon__kube_config c;
    struct valkeyaddon__kube_credential cred;
    char cluster[1024], user[2048];
    const char *path, *cred_json = CRED_V1 "\"status\":{\"clientCertificateData\":\"C\",\"clientKeyData\":\"K\","
                                           "\"token\":\"" TOKEN "\",\"expirationTimestamp\":\"2030-01-01T00:00:00Z\"}}";
    int n, rc;

    write_file(f, "token", TOKEN, 0600);
    snprintf(cluster, sizeof(cluster), "    certificate-authority-data: %s\n    tls-server-name: x\n", f->ca_b64);
    snprintf(user, sizeof(user),
             "    token: " TOKEN "\n    tokenFile: token\n"
             "    client-certificate-data: %s\n    client-key-data: %s\n"
             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./p\n"
             "      args: [a, b]\n      env: [{name: A, value: b}]\n",
             f->cert_b64, f->key_b64);
    path = write_simple(f, "config", cluster, user);
    assert_int_equal(chdir(f->dir), 0);

    assert_int_equal(valkeyaddon_replace_allocator(failing_malloc, failing_realloc, failing_calloc, failing_free), 0);
    /* Fail the Nth allocation, N rising until the call succeeds; nothing may leak meanwhile. */
    for (n = 0;; n++) {
        allocs = 0;
        fail_after = n;
        rc = valkeyaddon__kube_config_load(&c, f->ctx, "config", NULL);
        fail_after = -1;
        if (rc == 0)
            break;
        assert_int_equal(rc, VALKEYADDON_ENOMEM);
        assert_cleared(&c);
        assert_int_equal(allocs, 0);
    }
    assert_true(n > 10);
    valkeyaddon__kube_config_clear(&c);
    assert_int_equal(allocs, 0);

    for (n = 0;; n++) {
        allocs = 0;
        fail_after = n;
        rc = valkeyaddon__kube_exec_parse(&cred, f->ctx, cred_json, strlen(cred_json), NULL);
        fail_after = -1;
        if (rc == 0)
            break;
        assert_int_equal(rc, VALKEYADDON_ENOMEM);
        assert_null(cred.token);
        assert_int_equal(allocs, 0);
    }
    valkeyaddon__kube_credential_clear(&cred);
    assert_int_equal(allocs, 0);

    make_service_account(f, TOKEN, "ns", 1);
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    for (n = 0;; n++) {
        allocs = 0;
        fail_after = n;
        rc = valkeyaddon__kube_config_in_cluster(&c, f->ctx, f->dir);
        fail_after = -1;
        if (rc == 0)
            break;
        assert_int_equal(rc, VALKEYADDON_ENOMEM);
        assert_cleared(&c);
        assert_int_equal(allocs, 0);
    }
    valkeyaddon__kube_config_clear(&c);
    assert_int_equal(allocs, 0);
    (void)path;
    assert_int_equal(valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kubeconfig__data_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__file_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__token_and_token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__named_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__namespace_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__kubeconfig_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__home_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__missing_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__exec_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__in_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__in_cluster_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__in_cluster_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__exec_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__exec_client_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__exec_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__exec_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig__exec_parse, setup, teardown),
        cmocka_unit_test(test_kubeconfig__rfc3339),
        cmocka_unit_test_setup_teardown(test_kubeconfig__out_of_memory, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
