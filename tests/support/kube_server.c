/* The Kubernetes API test server, started from a C test (kube_server.h). */
#define _GNU_SOURCE 1
#include "../unit/helpers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "files.h"
#include "kube_server.h"

#define MAX_EXTRA 16

static void copy_str(char *out, size_t size, yajl_val root, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    const char *s = v ? YAJL_GET_STRING(v) : NULL;

    if (!s)
        fail_msg("server.json has no \"%s\"", key);
    assert_true(strlen(s) < size);
    snprintf(out, size, "%s", s);
}

static void read_server_json(struct kube_server *s)
{
    const char *port[] = { "port", NULL };
    char path[512], *text;
    yajl_val root;

    snprintf(path, sizeof(path), "%s/server.json", s->state_dir);
    text = read_file(path);
    assert_non_null(root = yajl_tree_parse(text, NULL, 0));
    free(text);
    assert_non_null(yajl_tree_get(root, port, yajl_t_number));
    s->port = YAJL_GET_INTEGER(yajl_tree_get(root, port, yajl_t_number));
    copy_str(s->url, sizeof(s->url), root, "url");
    copy_str(s->ca, sizeof(s->ca), root, "ca");
    copy_str(s->token, sizeof(s->token), root, "token");
    copy_str(s->forbidden_token, sizeof(s->forbidden_token), root, "forbidden_token");
    copy_str(s->kubeconfig, sizeof(s->kubeconfig), root, "kubeconfig");
    copy_str(s->client_cert, sizeof(s->client_cert), root, "client_cert");
    copy_str(s->client_key, sizeof(s->client_key), root, "client_key");
    copy_str(s->client_expired_cert, sizeof(s->client_expired_cert), root, "client_expired_cert");
    copy_str(s->client_expired_key, sizeof(s->client_expired_key), root, "client_expired_key");
    copy_str(s->other_ca, sizeof(s->other_ca), root, "other_ca");
    copy_str(s->other_client_cert, sizeof(s->other_client_cert), root, "other_client_cert");
    copy_str(s->other_client_key, sizeof(s->other_client_key), root, "other_client_key");
    yajl_tree_free(root);
}

/* The first line the server prints (up to 30 s for it), into line. */
static void read_first_line(int fd, char *line, size_t size)
{
    size_t used = 0;

    line[0] = '\0';
    while (!strchr(line, '\n') && used < size - 1) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;
        if (poll(&p, 1, 30000) <= 0)
            break;
        if ((n = read(fd, line + used, size - 1 - used)) <= 0)
            break;
        used += (size_t)n;
        line[used] = '\0';
    }
}

int kube_server_start(struct kube_server *s, const char *host, const char *state_dir, const char *log_path,
                      const char *const *extra)
{
    const char *python = getenv("PYTHON3"), *srcdir = getenv("top_srcdir");
    const char *argv[8 + MAX_EXTRA];
    char script[1024], line[256], ready[160];
    pid_t parent = getpid();
    size_t argc = 0;
    int out[2];

    if (!python || !*python)
        python = "python3";
    if (!host)
        host = "127.0.0.1";
    snprintf(script, sizeof(script), "%s/tests/support/kube_api_server.py", srcdir ? srcdir : ".");
    assert_true((size_t)snprintf(s->state_dir, sizeof(s->state_dir), "%s", state_dir) < sizeof(s->state_dir));
    assert_true((size_t)snprintf(s->log, sizeof(s->log), "%s", log_path) < sizeof(s->log));
    argv[argc++] = python;
    argv[argc++] = script;
    argv[argc++] = "--state-dir";
    argv[argc++] = s->state_dir;
    argv[argc++] = "--host";
    argv[argc++] = host;
    for (; extra && *extra; extra++) {
        assert_true(argc < 8 + MAX_EXTRA - 1);
        argv[argc++] = *extra;
    }
    argv[argc] = NULL;
    assert_int_equal(pipe(out), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int log_fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        /* The server must not outlive this program, even if it crashes. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        dup2(out[1], 1);
        if (log_fd >= 0)
            dup2(log_fd, 2);
        close(out[0]);
        close(out[1]);
        execvp(python, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    s->stdout_fd = out[0];
    read_first_line(out[0], line, sizeof(line));
    snprintf(ready, sizeof(ready), "READY https://%s:", host);
    if (strncmp(line, ready, strlen(ready)) != 0) {
        print_error("the API test server did not start (see %s): %s\n", s->log, line);
        return -1;
    }
    read_server_json(s);
    return 0;
}

void kube_server_stop(struct kube_server *s)
{
    int status, i;

    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        for (i = 0; i < 100 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
            usleep(100000);
        if (i == 100) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        s->pid = 0;
    }
    if (s->stdout_fd > 0)
        close(s->stdout_fd);
    s->stdout_fd = 0;
}
