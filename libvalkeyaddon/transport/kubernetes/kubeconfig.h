/*
 * Kubernetes client configuration, as client-go builds it: a kubeconfig (or
 * the KUBECONFIG list), the in-cluster service account, and exec credential
 * plugins. The transport (kube.h) turns it into libcurl options. See
 * docs/kubeconfig.md for what is supported and why.
 */
#ifndef VALKEYADDON_KUBE_CONFIG_H
#define VALKEYADDON_KUBE_CONFIG_H

#include <stddef.h>

#include "valkeyaddon/context.h"

#define VALKEYADDON__KUBE_EXEC_V1 "client.authentication.k8s.io/v1"
#define VALKEYADDON__KUBE_EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* The timeout of an exec plugin when the caller passes 0 (or less). */
#define VALKEYADDON__KUBE_EXEC_TIMEOUT_MS 30000L
/* The most an exec plugin may write on stdout. */
#define VALKEYADDON__KUBE_EXEC_MAX_OUTPUT (1024 * 1024)

struct valkeyaddon__kube_exec {
    char *api_version; /* client.authentication.k8s.io/v1 or v1beta1 */
    char *command;     /* a path (relative ones resolved against the kubeconfig's directory) or a name for PATH */
    char **args;       /* NULL-terminated, never NULL after load */
    char **env;        /* NULL-terminated "NAME=value", never NULL after load (wiped on clear) */
};

/*
 * All strings are valkeyaddon__malloc'd and owned by the struct; release with
 * valkeyaddon__kube_config_clear(). Credentials are reported, not chosen: when
 * a user has several (token and tokenFile, a static credential and exec), the
 * transport decides; client-go prefers a readable tokenFile over token and a
 * static token or certificate over exec.
 */
struct valkeyaddon__kube_config {
    char *server;                 /* "https://host:port[/path]", without a trailing '/' */
    char *namespace_;             /* never NULL after load: "default" when unset */
    char *ca_file;                /* or NULL */
    unsigned char *ca_data;       /* PEM, or NULL */
    size_t ca_data_len;
    char *client_cert_file, *client_key_file;         /* or NULL */
    unsigned char *client_cert_data, *client_key_data; /* PEM, or NULL (wiped on clear) */
    size_t client_cert_data_len, client_key_data_len;
    char *token;                  /* static bearer token, or NULL (wiped on clear) */
    char *token_file;             /* re-read by the transport, or NULL */
    char *tls_server_name;        /* or NULL */
    int insecure_skip_tls_verify; /* reported only: the transport decides */
    int has_exec;
    struct valkeyaddon__kube_exec exec;
    char *context_name;           /* the context used (kubeconfig), or "in-cluster" */
};

/*
 * Load a kubeconfig. paths: a ':'-separated list of files that must all be
 * readable; NULL (or "") -> $KUBECONFIG (':'-separated, missing files
 * skipped) -> $HOME/.kube/config. Maps (clusters, users, contexts) merge with
 * the first file that defines a name winning; current-context comes from the
 * first file that sets it. context: NULL (or "") -> current-context.
 *
 * 0 on success; on failure out is left cleared and the code is
 * VALKEYADDON_ECONFIG (unusable configuration: missing context, cluster or
 * user, malformed YAML, unsupported feature), VALKEYADDON_EIO (a file that
 * cannot be read), VALKEYADDON_ENOMEM or VALKEYADDON_EINVAL.
 */
int valkeyaddon__kube_config_load(struct valkeyaddon__kube_config *out, valkeyaddon_ctx *ctx, const char *paths,
                                  const char *context);

/*
 * The pod's service account, as client-go's rest.InClusterConfig():
 * KUBERNETES_SERVICE_HOST/PORT, and under
 * <root>/var/run/secrets/kubernetes.io/serviceaccount the token (kept as
 * token_file: it rotates), ca.crt and namespace (POD_NAMESPACE wins, then the
 * file, then "default"). root: NULL or "" for "/". Same codes as load.
 */
int valkeyaddon__kube_config_in_cluster(struct valkeyaddon__kube_config *out, valkeyaddon_ctx *ctx,
                                        const char *root);

/* Free (wiping secrets) and zero; safe on a zeroed or already cleared struct. */
void valkeyaddon__kube_config_clear(struct valkeyaddon__kube_config *config);

/* What an exec plugin returned. Strings valkeyaddon__malloc'd, wiped on clear. */
struct valkeyaddon__kube_credential {
    char *token;                                       /* or NULL */
    unsigned char *client_cert_data, *client_key_data; /* PEM, or NULL (both or neither) */
    size_t client_cert_data_len, client_key_data_len;
    long long expiration;                              /* unix seconds, 0 = none */
};

/*
 * Run an exec plugin (no shell; stdin /dev/null; stderr discarded; the
 * environment inherited plus exec->env plus KUBERNETES_EXEC_INFO) and parse
 * its ExecCredential. timeout_ms <= 0 means VALKEYADDON__KUBE_EXEC_TIMEOUT_MS;
 * when it passes the plugin's process group is killed and
 * VALKEYADDON_ETIMEOUT returned. A failed start or a non-zero exit is
 * VALKEYADDON_ECONFIG. On failure out is left cleared.
 */
int valkeyaddon__kube_exec_run(struct valkeyaddon__kube_credential *out, valkeyaddon_ctx *ctx,
                               const struct valkeyaddon__kube_exec *exec, long timeout_ms);

/*
 * Parse an ExecCredential (JSON, len bytes, need not be NUL-terminated).
 * expected_api_version: the apiVersion it must carry, or NULL for v1 or
 * v1beta1. 0, VALKEYADDON_ECONFIG (never quoting a secret) or
 * VALKEYADDON_ENOMEM; on failure out is left cleared.
 */
int valkeyaddon__kube_exec_parse(struct valkeyaddon__kube_credential *out, valkeyaddon_ctx *ctx, const char *json,
                                 size_t len, const char *expected_api_version);

/* Free (wiping) and zero; safe on a zeroed or already cleared struct. */
void valkeyaddon__kube_credential_clear(struct valkeyaddon__kube_credential *c);

/* Shared by the files of this module. */

/*
 * Read a whole file into a NUL-terminated valkeyaddon__malloc'd buffer (wipe
 * it with valkeyaddon__free_secret when it may hold a secret). what names
 * the file in messages ("kubeconfig", "token file"). Returns 0; 1 without
 * touching ctx when missing_ok and the file does not exist; VALKEYADDON_EIO,
 * VALKEYADDON_ECONFIG when larger than max, or VALKEYADDON_ENOMEM.
 */
int valkeyaddon__kube_read_file(char **out, size_t *out_len, valkeyaddon_ctx *ctx, const char *path,
                                const char *what, size_t max, int missing_ok);

/* Parse an RFC 3339 time ("2006-01-02T15:04:05.999Z", "...+07:00") to unix seconds; 0 or -1. */
int valkeyaddon__kube_parse_rfc3339(long long *out, const char *text);

#endif
