/*
 * In-cluster configuration, as client-go's rest.InClusterConfig(): the
 * service's environment variables and the mounted service account.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/kubernetes/kubeconfig.h"

#define SERVICE_ACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A projected token is a JWT of a few KiB; a namespace is a DNS label. */
#define TOKEN_MAX (1024u * 1024u)
#define NAMESPACE_MAX 4096u

static int oom(valkeyaddon_ctx *ctx)
{
    return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory loading the in-cluster configuration");
}

static char *concat(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);
    char *s = valkeyaddon__malloc(a_len + b_len + 1);

    if (s) {
        memcpy(s, a, a_len);
        memcpy(s + a_len, b, b_len + 1);
    }
    return s;
}

static size_t trimmed_len(const char *s, size_t len)
{
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return len;
}

static int host_is_valid(const char *host)
{
    const char *p;

    for (p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == ':' || *p == '%' || *p == '_'))
            return 0;
    return 1;
}

static int port_is_valid(const char *port)
{
    unsigned long value = 0;
    const char *p;

    for (p = port; *p; p++) {
        if (*p < '0' || *p > '9' || p - port >= 5)
            return 0;
        value = value * 10 + (unsigned long)(*p - '0');
    }
    return value >= 1 && value <= 65535;
}

static int build_server(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    int ipv6, len;

    if (!host || !*host || !port || !*port)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and "
                                  "KUBERNETES_SERVICE_PORT must both be set");
    if (!host_is_valid(host))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "KUBERNETES_SERVICE_HOST is not a host name or address");
    if (!port_is_valid(port))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "KUBERNETES_SERVICE_PORT %s is not a port number",
                                  port);
    /* net.JoinHostPort: an IPv6 address is bracketed. */
    ipv6 = strchr(host, ':') != NULL;
    len = (int)(strlen("https://[]:") + strlen(host) + strlen(port));
    if (!(cfg->server = valkeyaddon__malloc((size_t)len + 1)))
        return oom(ctx);
    snprintf(cfg->server, (size_t)len + 1, ipv6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
    return VALKEYADDON_OK;
}

static int check_token(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx)
{
    size_t len;
    char *token;
    int error;

    error = valkeyaddon__kube_read_file(&token, &len, ctx, cfg->token_file, "service account token", TOKEN_MAX, 1);
    if (error == 1)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "no service account token at %s (is automountServiceAccountToken false?)",
                                  cfg->token_file);
    if (error < 0)
        return error;
    /* Read only to fail early; the transport re-reads the file, which the kubelet rotates. */
    error = trimmed_len(token, len) ? VALKEYADDON_OK
                                    : valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                                         "the service account token %s is empty", cfg->token_file);
    valkeyaddon__free_secret(token, len + 1);
    return error;
}

static int load_namespace(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx, const char *dir,
                          size_t dir_len)
{
    const char *env = getenv("POD_NAMESPACE");
    char *path, *text;
    size_t len;
    int error;

    /* client-go's in-cluster loader: POD_NAMESPACE, then the mounted file, then "default". */
    if (env && *env)
        return (cfg->namespace_ = valkeyaddon__strdup(env)) ? VALKEYADDON_OK : oom(ctx);
    if (!(path = concat(dir, dir_len, "/namespace")))
        return oom(ctx);
    error = valkeyaddon__kube_read_file(&text, &len, ctx, path, "service account namespace file", NAMESPACE_MAX, 1);
    valkeyaddon__free(path);
    if (error < 0)
        return error;
    if (error == 0) {
        len = trimmed_len(text, len);
        text[len] = '\0';
        if (len) {
            cfg->namespace_ = text;
            return VALKEYADDON_OK;
        }
        valkeyaddon__free(text);
    }
    return (cfg->namespace_ = valkeyaddon__strdup("default")) ? VALKEYADDON_OK : oom(ctx);
}

static int load_ca(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx, const char *dir, size_t dir_len)
{
    char *path, *text;
    size_t len;
    int error;

    if (!(path = concat(dir, dir_len, "/ca.crt")))
        return oom(ctx);
    error = valkeyaddon__kube_read_file(&text, &len, ctx, path, "service account CA", 16u * 1024u * 1024u, 1);
    if (error < 0) {
        valkeyaddon__free(path);
        return error;
    }
    if (error == 1) {
        /* As client-go: log and verify against the system's roots. */
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "no service account CA at %s; using the system's CAs", path);
        valkeyaddon__free(path);
        return VALKEYADDON_OK;
    }
    valkeyaddon__free(text);
    cfg->ca_file = path;
    return VALKEYADDON_OK;
}

int valkeyaddon__kube_config_in_cluster(struct valkeyaddon__kube_config *out, valkeyaddon_ctx *ctx,
                                        const char *root)
{
    struct valkeyaddon__kube_config cfg;
    size_t root_len, dir_len;
    char *dir = NULL;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    memset(&cfg, 0, sizeof(cfg));
    if (!root)
        root = "";
    root_len = strlen(root);
    while (root_len && root[root_len - 1] == '/')
        root_len--;
    if ((error = build_server(&cfg, ctx)) < 0)
        goto done;
    if (!(dir = valkeyaddon__malloc(root_len + sizeof(SERVICE_ACCOUNT_DIR)))) {
        error = oom(ctx);
        goto done;
    }
    memcpy(dir, root, root_len);
    memcpy(dir + root_len, SERVICE_ACCOUNT_DIR, sizeof(SERVICE_ACCOUNT_DIR));
    dir_len = root_len + sizeof(SERVICE_ACCOUNT_DIR) - 1;
    if (!(cfg.token_file = concat(dir, dir_len, "/token")) || !(cfg.context_name = valkeyaddon__strdup("in-cluster"))) {
        error = oom(ctx);
        goto done;
    }
    if ((error = check_token(&cfg, ctx)) < 0 || (error = load_ca(&cfg, ctx, dir, dir_len)) < 0 ||
        (error = load_namespace(&cfg, ctx, dir, dir_len)) < 0)
        goto done;
    valkeyaddon__log(ctx, VALKEYADDON_LOG_DEBUG, "in-cluster configuration: %s, namespace %s", cfg.server,
                     cfg.namespace_);
done:
    valkeyaddon__free(dir);
    if (error < 0) {
        valkeyaddon__kube_config_clear(&cfg);
        return error;
    }
    *out = cfg;
    return VALKEYADDON_OK;
}
