/*
 * The Kubernetes API test server (kube_api_server.py, README.md) started from a
 * C test: fork/exec with the test's arguments, wait for its READY line, read
 * server.json, and stop it (SIGTERM, SIGKILL after 10 s). The server dies with
 * the test program (PR_SET_PDEATHSIG), even if the test crashes.
 */
#ifndef VALKEYADDON_TESTS_SUPPORT_KUBE_SERVER_H
#define VALKEYADDON_TESTS_SUPPORT_KUBE_SERVER_H

#include <sys/types.h>

/* One running server; zero it before the first start. The paths are server.json's. */
struct kube_server {
    pid_t pid;
    int stdout_fd;
    char state_dir[256];  /* --state-dir: certificates, server.json, kubeconfig */
    char log[256];        /* the server's stderr */
    long port;
    char url[128];
    char ca[512];
    char token[256];            /* test-admin's bearer token */
    char forbidden_token[256];  /* authenticates, then 403 on every resource */
    char kubeconfig[512];
    char client_cert[512], client_key[512];                 /* trusted client certificate */
    char client_expired_cert[512], client_expired_key[512]; /* signed by the CA, expired */
    char other_ca[512];                                     /* an unrelated CA */
    char other_client_cert[512], other_client_key[512];     /* signed by other_ca */
};

/*
 * Start a server bound on host (NULL: 127.0.0.1) with its state in state_dir
 * (made if missing; certificates already there are reused) and its stderr in
 * log_path, passing the NULL-terminated extra arguments (NULL: none). Returns 0
 * once its READY line named https://HOST: and server.json was read; -1 (the
 * reason printed) if it did not start. Call kube_server_stop either way.
 */
int kube_server_start(struct kube_server *s, const char *host, const char *state_dir, const char *log_path,
                      const char *const *extra);

/* Stop the server if running (safe to call again, or after a failed start). */
void kube_server_stop(struct kube_server *s);

#endif
