/*
 * TLS of the Kubernetes transport beyond libcurl's defaults (kube.h,
 * docs/kubernetes-tls.md): the kubeconfig's tls-server-name, client
 * certificates checked for expiry before they are sent, and libcurl's TLS
 * failures turned into one line that names the problem and what to do.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/kubernetes/kube.h"

/* Split "scheme://host[:port][/path]": host without brackets, port (default per scheme), path ("" or "/..."). */
static int split_server(const char *server, char *host, size_t host_size, char *port, size_t port_size,
                        const char **path)
{
    const char *p = strstr(server, "://"), *host_end, *rest;
    int https;
    size_t len;

    if (!p)
        return -1;
    https = (size_t)(p - server) == 5;
    p += 3;
    if (*p == '[') {
        if (!(host_end = strchr(p, ']')))
            return -1;
        len = (size_t)(host_end - p - 1);
        if (len >= host_size)
            return -1;
        memcpy(host, p + 1, len);
        rest = host_end + 1;
    } else {
        len = strcspn(p, ":/");
        if (len >= host_size)
            return -1;
        memcpy(host, p, len);
        rest = p + len;
    }
    host[len] = '\0';
    if (*rest == ':') {
        len = strcspn(rest + 1, "/");
        if (!len || len >= port_size)
            return -1;
        memcpy(port, rest + 1, len);
        port[len] = '\0';
        rest += 1 + len;
    } else {
        snprintf(port, port_size, "%s", https ? "443" : "80");
    }
    *path = rest;
    return 0;
}

int valkeyaddon__kube_tls_server_name(struct kube_transport *t, valkeyaddon_ctx *ctx)
{
    const char *sni = t->config.tls_server_name, *path;
    char host[256], port[16], *entry;
    size_t size;

    if (!sni)
        return VALKEYADDON_OK;
    if (strpbrk(sni, ":/[]@ ") || split_server(t->config.server, host, sizeof(host), port, sizeof(port), &path) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "tls-server-name %s or server %s cannot be used together; give a host name in "
                                  "tls-server-name and a URL in server",
                                  sni, t->config.server);
    /*
     * libcurl verifies (and sends as SNI) the URL's host, so the URL names
     * tls-server-name and CONNECT_TO sends the connection to the real host,
     * as client-go's ServerName does. The Host header then carries that name
     * too, which the API server ignores.
     */
    size = strlen(sni) + strlen(port) + strlen(path) + sizeof("https://:");
    if (!(t->base_url = valkeyaddon__malloc(size)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
    snprintf(t->base_url, size, "%s://%s:%s%s", strncmp(t->config.server, "https", 5) ? "http" : "https", sni, port,
             path);
    size = strlen(sni) + 2 * strlen(port) + strlen(host) + sizeof("::[]:");
    if (!(entry = valkeyaddon__malloc(size)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
    snprintf(entry, size, strchr(host, ':') ? "%s:%s:[%s]:%s" : "%s:%s:%s:%s", sni, port, host, port);
    t->connect_to = curl_slist_append(NULL, entry);
    valkeyaddon__free(entry);
    if (!t->connect_to)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
    curl_easy_setopt(t->curl, CURLOPT_CONNECT_TO, t->connect_to);
    return VALKEYADDON_OK;
}

/* "2024-05-01 12:00:00 UTC", or "" when the time cannot be read. */
static void format_time(char *out, size_t size, const ASN1_TIME *when)
{
    struct tm tm;

    out[0] = '\0';
    if (ASN1_TIME_to_tm(when, &tm) == 1)
        strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int valkeyaddon__kube_check_client_cert(valkeyaddon_ctx *ctx, const char *file, const unsigned char *pem,
                                        size_t len, const char *label)
{
    BIO *bio = file ? BIO_new_file(file, "r") : BIO_new_mem_buf(pem, (int)len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    char when[64];
    int error = VALKEYADDON_OK;

    BIO_free(bio);
    if (!cert) {
        /* Not readable as PEM here: libcurl reports it when it loads it. */
        ERR_clear_error();
        return VALKEYADDON_OK;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        format_time(when, sizeof(when), X509_get0_notAfter(cert));
        error = valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                   "the client certificate %s expired%s%s; renew it (or give the kubeconfig user "
                                   "a current certificate or another credential)",
                                   label, when[0] ? " on " : "", when);
    } else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
        format_time(when, sizeof(when), X509_get0_notBefore(cert));
        error = valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                   "the client certificate %s is not valid before %s; check this machine's clock "
                                   "or renew the certificate",
                                   label, when[0] ? when : "its start date");
    }
    X509_free(cert);
    return error;
}

/* The host the server's certificate must name: tls-server-name, else the URL's. */
static void verified_name(char *out, size_t size, const struct kube_transport *t)
{
    char port[16];
    const char *path;

    if (t->config.tls_server_name)
        snprintf(out, size, "%s", t->config.tls_server_name);
    else if (split_server(t->config.server, out, size, port, sizeof(port), &path) < 0)
        snprintf(out, size, "%s", t->config.server);
}

static int refused_client_cert(const char *detail)
{
    return strstr(detail, "alert") &&
           (strstr(detail, "certificate") || strstr(detail, "unknown ca") || strstr(detail, "decrypt error"));
}

int valkeyaddon__kube_tls_failure(struct kube_transport *t, valkeyaddon_ctx *ctx, int code, const char *what)
{
    CURLcode rc = (CURLcode)code;
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    const char *server = t->config.server;
    int has_cert = t->config.client_cert_file || t->config.client_cert_data || t->exec_credential.client_cert_data;
    char name[256];

    if (strstr(server, "://"))
        server = strstr(server, "://") + 3;
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        if (strstr(detail, "subject name") || strstr(detail, "does not match")) {
            verified_name(name, sizeof(name), t);
            return valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                      "%s: TLS: the certificate of the server %s does not match the host name %s "
                                      "(%s); connect by a name the certificate carries, or set tls-server-name in "
                                      "the kubeconfig's cluster",
                                      what, server, name, detail);
        }
        return valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                  "%s: TLS: the certificate of the server %s is not signed by the configured "
                                  "certificate authority (%s); check certificate-authority or "
                                  "certificate-authority-data in the kubeconfig",
                                  what, server, detail);
    case CURLE_SSL_CACERT_BADFILE:
        return valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                  "%s: TLS: the certificate authority cannot be loaded (%s); check "
                                  "certificate-authority or certificate-authority-data in the kubeconfig",
                                  what, detail);
    case CURLE_SSL_CERTPROBLEM:
        return valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                  "%s: TLS: the client certificate or key cannot be used (%s); check "
                                  "client-certificate and client-key in the kubeconfig",
                                  what, detail);
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CIPHER:
        return valkeyaddon__error(ctx, VALKEYADDON_ETLS, "%s: TLS verification failed with %s (%s)", what, server,
                                  detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        /* With TLS 1.3 the server judges the client certificate after the handshake: its alert comes on a read. */
        if (!refused_client_cert(detail))
            return VALKEYADDON_OK;
        if (has_cert)
            return valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                      "%s: TLS: the server %s refused the client certificate (%s); check "
                                      "client-certificate and client-key in the kubeconfig: the certificate must "
                                      "be current and signed by a CA the cluster trusts",
                                      what, server, detail);
        return valkeyaddon__error(ctx, VALKEYADDON_ETLS,
                                  "%s: TLS: the server %s asks for a client certificate (%s); give the kubeconfig "
                                  "user a client-certificate and client-key",
                                  what, server, detail);
    default:
        return VALKEYADDON_OK;
    }
}
