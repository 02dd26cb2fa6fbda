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

/*
 * server parsed by libcurl's URL API: its host (an IPv6 address in brackets,
 * as CONNECT_TO wants it) and port (the scheme's default when absent).
 * 0, -1 when server is not a URL, or VALKEYADDON_ENOMEM; on success the
 * caller frees *url (curl_url_cleanup), *host and *port (curl_free).
 */
static int server_host_port(CURLU **url, char **host, char **port, const char *server)
{
    CURLUcode rc;

    *host = *port = NULL;
    if (!(*url = curl_url()))
        return VALKEYADDON_ENOMEM;
    if ((rc = curl_url_set(*url, CURLUPART_URL, server, 0)) == CURLUE_OK &&
        (rc = curl_url_get(*url, CURLUPART_HOST, host, 0)) == CURLUE_OK &&
        (rc = curl_url_get(*url, CURLUPART_PORT, port, CURLU_DEFAULT_PORT)) == CURLUE_OK)
        return VALKEYADDON_OK;
    curl_free(*host);
    curl_free(*port);
    curl_url_cleanup(*url);
    *url = NULL;
    *host = *port = NULL;
    return rc == CURLUE_OUT_OF_MEMORY ? VALKEYADDON_ENOMEM : -1;
}

int valkeyaddon__kube_tls_server_name(struct kube_transport *t, valkeyaddon_ctx *ctx)
{
    const char *sni = t->config.tls_server_name;
    char *host = NULL, *port = NULL, *base = NULL, *entry = NULL;
    CURLU *url = NULL;
    size_t size;
    int error;

    if (!sni)
        return VALKEYADDON_OK;
    error = strpbrk(sni, ":/[]@ ") ? -1 : server_host_port(&url, &host, &port, t->config.server);
    if (error == VALKEYADDON_ENOMEM)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory");
    if (error < 0)
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
    size = strlen(sni) + 2 * strlen(port) + strlen(host) + sizeof(":::");
    if (curl_url_set(url, CURLUPART_HOST, sni, 0) != CURLUE_OK ||
        curl_url_set(url, CURLUPART_PORT, port, 0) != CURLUE_OK ||
        curl_url_get(url, CURLUPART_URL, &base, 0) != CURLUE_OK || !(t->base_url = valkeyaddon__strdup(base)) ||
        !(entry = valkeyaddon__malloc(size))) {
        error = VALKEYADDON_ENOMEM;
    } else {
        snprintf(entry, size, "%s:%s:%s:%s", sni, port, host, port);
        if (!(t->connect_to = curl_slist_append(NULL, entry)))
            error = VALKEYADDON_ENOMEM;
    }
    valkeyaddon__free(entry);
    curl_free(base);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(url);
    if (error < 0)
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

/* The host the server's certificate must name: tls-server-name, else the URL's (without brackets). */
static void verified_name(char *out, size_t size, const struct kube_transport *t)
{
    char *host = NULL, *port = NULL;
    CURLU *url = NULL;

    if (t->config.tls_server_name)
        snprintf(out, size, "%s", t->config.tls_server_name);
    else if (server_host_port(&url, &host, &port, t->config.server) == VALKEYADDON_OK && host[0] == '[')
        snprintf(out, size, "%.*s", (int)strlen(host) - 2, host + 1);
    else
        snprintf(out, size, "%s", host ? host : t->config.server);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(url);
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
