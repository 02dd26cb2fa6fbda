/*
 * Exec credential plugins (client.authentication.k8s.io), as client-go runs
 * them: no shell, stdin from /dev/null, stderr discarded (plugins print
 * diagnostics there that may carry secrets), stdout bounded, a deadline after
 * which the plugin's whole process group is killed. posix_spawn rather than
 * fork: safe in a threaded caller and cheap in a large one.
 */
/* pipe2(): a pipe that no concurrently spawned program can inherit. */
#define _GNU_SOURCE 1
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yajl/yajl_tree.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/kubernetes/kube.h"
#include "transport/kubernetes/kubeconfig.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

extern char **environ;

/* yajl frees trees recursively: deeper input could exhaust the stack. */
#define MAX_JSON_DEPTH 64
#define EXEC_INFO_NAME "KUBERNETES_EXEC_INFO"

static int oom(valkeyaddon_ctx *ctx)
{
    return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory running the exec credential plugin");
}

void valkeyaddon__kube_credential_clear(struct valkeyaddon__kube_credential *c)
{
    if (!c)
        return;
    valkeyaddon__free_secret(c->token, (size_t)-1);
    valkeyaddon__free_secret(c->client_cert_data, c->client_cert_data_len + 1);
    valkeyaddon__free_secret(c->client_key_data, c->client_key_data_len + 1);
    memset(c, 0, sizeof(*c));
}

/* RFC 3339. */

static int two_or_four_digits(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int valkeyaddon__kube_parse_rfc3339(long long *out, const char *t)
{
    static const int month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0, days;
    const char *p;

    if (!t || strlen(t) < 20 || !two_or_four_digits(t, 4, &y) || t[4] != '-' || !two_or_four_digits(t + 5, 2, &mo) ||
        t[7] != '-' || !two_or_four_digits(t + 8, 2, &d) || (t[10] != 'T' && t[10] != 't') ||
        !two_or_four_digits(t + 11, 2, &h) || t[13] != ':' || !two_or_four_digits(t + 14, 2, &mi) || t[16] != ':' ||
        !two_or_four_digits(t + 17, 2, &s))
        return -1;
    p = t + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return -1;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (!two_or_four_digits(p + 1, 2, &oh) || p[3] != ':' || !two_or_four_digits(p + 4, 2, &om))
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59)
        return -1;
    days = month_days[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    if (d < 1 || d > days)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - sign * (oh * 3600 + om * 60);
    return 0;
}

/* ExecCredential. */

/* Deepest nesting of arrays and objects, strings skipped; stops counting past limit. */
static int json_depth(const char *s, size_t len, int limit)
{
    int depth = 0, deepest = 0, in_string = 0;
    size_t i;

    for (i = 0; i < len && deepest <= limit; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = 0;
        } else if (s[i] == '"') {
            in_string = 1;
        } else if (s[i] == '[' || s[i] == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((s[i] == ']' || s[i] == '}') && depth) {
            depth--;
        }
    }
    return deepest;
}

static void wipe_tree(yajl_val v)
{
    size_t i;

    if (!v)
        return;
    if (YAJL_IS_STRING(v) && v->u.string) {
        OPENSSL_cleanse(v->u.string, strlen(v->u.string));
    } else if (YAJL_IS_NUMBER(v) && v->u.number.r) {
        OPENSSL_cleanse(v->u.number.r, strlen(v->u.number.r));
    } else if (YAJL_IS_OBJECT(v)) {
        for (i = 0; i < v->u.object.len; i++) {
            if (v->u.object.keys[i])
                OPENSSL_cleanse((char *)v->u.object.keys[i], strlen(v->u.object.keys[i]));
            wipe_tree(v->u.object.values[i]);
        }
    } else if (YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len; i++)
            wipe_tree(v->u.array.values[i]);
    }
}

/*
 * Plugin output is quoted in a message only when it cannot be a secret: an
 * apiVersion of the authentication group, a timestamp made of digits and
 * separators. Anything else (a kind, a token pasted in the wrong field) is not.
 */
static const char *shown_api_version(const char *s)
{
    static const char group[] = "client.authentication.k8s.io/";
    const char *p;

    if (!s || strncmp(s, group, sizeof(group) - 1) != 0 || strlen(s) > 64)
        return "(not shown)";
    for (p = s + sizeof(group) - 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return "(not shown)";
    return s;
}

static const char *shown_time(const char *s)
{
    const char *p;

    if (strlen(s) > 40)
        return "(not shown)";
    for (p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || strchr("-:.+TtZz ", *p)))
            return "(not shown)";
    return s;
}

static yajl_val member(yajl_val object, const char *key)
{
    size_t i;

    if (!YAJL_IS_OBJECT(object))
        return NULL;
    for (i = 0; i < object->u.object.len; i++)
        if (!strcmp(object->u.object.keys[i], key))
            return object->u.object.values[i];
    return NULL;
}

/* A string member: NULL when absent, null or empty; -1 when of another type. */
static int string_member(const char **out, yajl_val object, const char *key)
{
    yajl_val v = member(object, key);

    *out = NULL;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_STRING(v))
        return -1;
    if (*v->u.string)
        *out = v->u.string;
    return 0;
}

static int copy_bytes(unsigned char **out, size_t *out_len, const char *s)
{
    size_t len = strlen(s);

    if (!(*out = valkeyaddon__malloc(len + 1)))
        return -1;
    memcpy(*out, s, len + 1);
    *out_len = len;
    return 0;
}

static int read_credential(struct valkeyaddon__kube_credential *c, valkeyaddon_ctx *ctx, yajl_val root,
                           const char *expected)
{
    const char *api_version, *kind, *token, *cert, *key, *expiry;
    yajl_val status;

    if (!YAJL_IS_OBJECT(root))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the exec plugin's output is not a JSON object");
    if (string_member(&api_version, root, "apiVersion") < 0 || string_member(&kind, root, "kind") < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the exec plugin's ExecCredential has a non-string apiVersion or kind");
    if (expected ? !api_version || strcmp(api_version, expected) != 0
                 : !api_version || (strcmp(api_version, VALKEYADDON__KUBE_EXEC_V1) != 0 &&
                                    strcmp(api_version, VALKEYADDON__KUBE_EXEC_V1BETA1) != 0))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the exec plugin returned apiVersion %s; the kubeconfig expects %s",
                                  api_version ? shown_api_version(api_version) : "(none)", expected ? expected : VALKEYADDON__KUBE_EXEC_V1);
    if (!kind || strcmp(kind, "ExecCredential") != 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the exec plugin returned an object whose kind is not ExecCredential");
    status = member(root, "status");
    if (!YAJL_IS_OBJECT(status))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the exec plugin's ExecCredential has no status");
    if (string_member(&token, status, "token") < 0 || string_member(&cert, status, "clientCertificateData") < 0 ||
        string_member(&key, status, "clientKeyData") < 0 ||
        string_member(&expiry, status, "expirationTimestamp") < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the exec plugin's ExecCredential status has a field that is not a string");
    if (!token && !cert && !key)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the exec plugin's ExecCredential has neither a token nor a client certificate");
    if (!cert != !key)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "the exec plugin returned a client %s without its %s", cert ? "certificate" : "key",
                                  cert ? "key" : "certificate");
    if (expiry) {
        if (valkeyaddon__kube_parse_rfc3339(&c->expiration, expiry) < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                      "the exec plugin's expirationTimestamp %s is not an RFC 3339 time",
                                      shown_time(expiry));
        if (!c->expiration)
            c->expiration = -1; /* 0 means "never"; the epoch is long past anyway */
    }
    if (token && !(c->token = valkeyaddon__strdup(token)))
        return oom(ctx);
    if (cert && (copy_bytes(&c->client_cert_data, &c->client_cert_data_len, cert) < 0 ||
                 copy_bytes(&c->client_key_data, &c->client_key_data_len, key) < 0))
        return oom(ctx);
    return VALKEYADDON_OK;
}

int valkeyaddon__kube_exec_parse(struct valkeyaddon__kube_credential *out, valkeyaddon_ctx *ctx, const char *json,
                                 size_t len, const char *expected_api_version)
{
    struct valkeyaddon__kube_credential c;
    yajl_val root;
    char *text;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    if (!json && len)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "json: must not be NULL");
    if (len && memchr(json, '\0', len))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the exec plugin's output contains a NUL byte");
    if (json_depth(json, len, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the exec plugin's output is nested too deeply");
    if (!(text = valkeyaddon__malloc(len + 1)))
        return oom(ctx);
    if (len)
        memcpy(text, json, len);
    text[len] = '\0';
    /* No error buffer: yajl's messages quote the input, which holds the token. */
    root = valkeyaddon__json_parse(text);
    valkeyaddon__free_secret(text, len + 1);
    if (!root)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the exec plugin's output is not valid JSON");
    error = read_credential(&c, ctx, root, expected_api_version);
    wipe_tree(root);
    valkeyaddon__json_free_secret(root);
    if (error < 0) {
        valkeyaddon__kube_credential_clear(&c);
        return error;
    }
    *out = c;
    return VALKEYADDON_OK;
}

/* Running the plugin. */

static size_t name_len(const char *entry)
{
    const char *eq = strchr(entry, '=');

    return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* The inherited environment, minus what the plugin's env and KUBERNETES_EXEC_INFO replace, then those. */
static char **build_env(char *exec_info, char *const *plugin_env)
{
    size_t inherited = 0, extra = 0, i, j, n = 0;
    char **env;

    for (i = 0; environ && environ[i]; i++)
        inherited++;
    for (i = 0; plugin_env && plugin_env[i]; i++)
        extra++;
    if (!(env = valkeyaddon__calloc(inherited + extra + 2, sizeof(char *))))
        return NULL;
    for (i = 0; i < inherited; i++) {
        size_t len = name_len(environ[i]);
        int replaced = !strchr(environ[i], '=') ||
                       (len == sizeof(EXEC_INFO_NAME) - 1 && !memcmp(environ[i], EXEC_INFO_NAME, len));
        for (j = 0; j < extra && !replaced; j++)
            replaced = name_len(plugin_env[j]) == len && !memcmp(plugin_env[j], environ[i], len);
        if (!replaced)
            env[n++] = environ[i];
    }
    for (j = 0; j < extra; j++) {
        /* A later entry of the same name wins, as in Go's exec.Cmd. */
        size_t len = name_len(plugin_env[j]), k;
        int later = 0;
        for (k = j + 1; k < extra && !later; k++)
            later = name_len(plugin_env[k]) == len && !memcmp(plugin_env[k], plugin_env[j], len);
        if (!later && !(len == sizeof(EXEC_INFO_NAME) - 1 && !memcmp(plugin_env[j], EXEC_INFO_NAME, len)))
            env[n++] = plugin_env[j];
    }
    env[n] = exec_info;
    return env;
}

/* A pipe whose ends are not 0, 1 or 2 (a caller may have closed its standard streams). */
static int make_pipe(int fds[2])
{
    int i;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    for (i = 0; i < 2; i++) {
        if (fds[i] <= 2) {
            int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
            if (moved < 0) {
                close(fds[0]);
                close(fds[1]);
                return -1;
            }
            close(fds[i]);
            fds[i] = moved;
        }
    }
    return 0;
}

static int spawn(pid_t *pid, int *out_fd, valkeyaddon_ctx *ctx, const struct valkeyaddon__kube_exec *exec,
                 char **argv, char **envp)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t mask, defaults;
    int fds[2], rc;

    if (make_pipe(fds) != 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "exec plugin %s: cannot create a pipe: %s", exec->command,
                                  strerror(errno));
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) {
        close(fds[0]);
        close(fds[1]);
        return oom(ctx);
    }
    if ((rc = posix_spawnattr_init(&attr)) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        close(fds[0]);
        close(fds[1]);
        return oom(ctx);
    }
    sigemptyset(&mask);
    /* Ignored signals survive exec; the plugin should start with the defaults. */
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    if ((rc = posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO)) == 0 &&
        (rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) == 0 &&
        (rc = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)) == 0 &&
        (rc = posix_spawnattr_setsigmask(&attr, &mask)) == 0 &&
        (rc = posix_spawnattr_setsigdefault(&attr, &defaults)) == 0 &&
        /* Its own process group, so a timeout kills whatever it started too. */
        (rc = posix_spawnattr_setpgroup(&attr, 0)) == 0 &&
        (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                  POSIX_SPAWN_SETPGROUP)) == 0)
        rc = posix_spawnp(pid, exec->command, &actions, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "exec plugin %s could not be started: %s", exec->command,
                                  strerror(rc));
    }
    *out_fd = fds[0];
    return VALKEYADDON_OK;
}

static void kill_and_reap(pid_t pid)
{
    int status;

    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

enum outcome { FINISHED, TIMED_OUT, TOO_LARGE, READ_FAILED, NO_MEMORY };

/* Read stdout to EOF or until the deadline; *buf valkeyaddon__malloc'd, size *cap. */
static enum outcome read_output(char **buf, size_t *len, size_t *cap, int fd, long long deadline, int *err)
{
    for (;;) {
        long long left = deadline - valkeyaddon__kube_now_ms();
        struct pollfd p;
        ssize_t n;
        int rc;

        if (left <= 0)
            return TIMED_OUT;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            *err = errno;
            return READ_FAILED;
        }
        if (rc == 0)
            continue;
        if (*len + 1 >= *cap) {
            size_t bigger = *cap * 2;
            char *grown;
            if (bigger > VALKEYADDON__KUBE_EXEC_MAX_OUTPUT + 2)
                bigger = VALKEYADDON__KUBE_EXEC_MAX_OUTPUT + 2;
            if (!(grown = valkeyaddon__malloc(bigger)))
                return NO_MEMORY;
            memcpy(grown, *buf, *len);
            valkeyaddon__free_secret(*buf, *cap);
            *buf = grown;
            *cap = bigger;
        }
        n = read(fd, *buf + *len, *cap - 1 - *len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            *err = errno;
            return READ_FAILED;
        }
        if (n == 0)
            return FINISHED;
        *len += (size_t)n;
        if (*len > VALKEYADDON__KUBE_EXEC_MAX_OUTPUT)
            return TOO_LARGE;
    }
}

/* 0 exited (status in *status), 1 deadline passed, -1 the status was lost (SIGCHLD ignored or reaped elsewhere). */
static int wait_exit(pid_t pid, long long deadline, int *status)
{
    long pause = 1;

    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        long long left;

        if (r == pid)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        left = deadline - valkeyaddon__kube_now_ms();
        if (left <= 0)
            return 1;
        valkeyaddon__kube_sleep_ms(pause < left ? pause : left);
        if (pause < 50)
            pause *= 2;
    }
}

int valkeyaddon__kube_exec_run(struct valkeyaddon__kube_credential *out, valkeyaddon_ctx *ctx,
                               const struct valkeyaddon__kube_exec *exec, long timeout_ms)
{
    static const char info_fmt[] =
        EXEC_INFO_NAME "={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
    char *exec_info = NULL, **argv = NULL, **envp = NULL, *output = NULL;
    size_t argc = 0, i, len = 0, cap = 4096;
    long long deadline;
    enum outcome outcome;
    int error, fd = -1, status = 0, err = 0, waited;
    pid_t pid;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    if (!exec || !exec->command || !*exec->command)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "exec: a command is required");
    /* The apiVersion goes into JSON unescaped: only the known ones. */
    if (!exec->api_version || (strcmp(exec->api_version, VALKEYADDON__KUBE_EXEC_V1) != 0 &&
                               strcmp(exec->api_version, VALKEYADDON__KUBE_EXEC_V1BETA1) != 0))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "exec: apiVersion must be " VALKEYADDON__KUBE_EXEC_V1
                                                           " or " VALKEYADDON__KUBE_EXEC_V1BETA1);
    if (timeout_ms <= 0)
        timeout_ms = VALKEYADDON__KUBE_EXEC_TIMEOUT_MS;

    for (i = 0; exec->args && exec->args[i]; i++)
        argc++;
    if (!(argv = valkeyaddon__calloc(argc + 2, sizeof(char *))) ||
        !(exec_info = valkeyaddon__malloc(sizeof(info_fmt) + strlen(exec->api_version))) ||
        !(envp = build_env(exec_info, exec->env)) || !(output = valkeyaddon__malloc(cap))) {
        error = oom(ctx);
        goto done;
    }
    snprintf(exec_info, sizeof(info_fmt) + strlen(exec->api_version), info_fmt, exec->api_version);
    argv[0] = exec->command;
    for (i = 0; i < argc; i++)
        argv[i + 1] = exec->args[i];

    deadline = valkeyaddon__kube_now_ms() + timeout_ms;
    if ((error = spawn(&pid, &fd, ctx, exec, argv, envp)) < 0)
        goto done;
    outcome = read_output(&output, &len, &cap, fd, deadline, &err);
    close(fd);
    if (outcome != FINISHED) {
        kill_and_reap(pid);
        if (outcome == TIMED_OUT)
            error = valkeyaddon__error(ctx, VALKEYADDON_ETIMEOUT,
                                       "exec plugin %s did not finish within %ld ms and was killed", exec->command,
                                       timeout_ms);
        else if (outcome == TOO_LARGE)
            error = valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                       "exec plugin %s wrote more than %d bytes and was killed", exec->command,
                                       VALKEYADDON__KUBE_EXEC_MAX_OUTPUT);
        else if (outcome == NO_MEMORY)
            error = oom(ctx);
        else
            error = valkeyaddon__error(ctx, VALKEYADDON_EIO, "exec plugin %s: reading its output failed: %s",
                                       exec->command, strerror(err));
        goto done;
    }
    waited = wait_exit(pid, deadline, &status);
    if (waited == 1) {
        kill_and_reap(pid);
        error = valkeyaddon__error(ctx, VALKEYADDON_ETIMEOUT,
                                   "exec plugin %s did not exit within %ld ms and was killed", exec->command,
                                   timeout_ms);
        goto done;
    }
    if (waited == 0 && WIFSIGNALED(status)) {
        error = valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "exec plugin %s was killed by signal %d", exec->command,
                                   WTERMSIG(status));
        goto done;
    }
    if (waited == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        /* Only the status: the output may hold half a credential. */
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        /* 127: where posix_spawn cannot report a failed exec, the child exits with it. */
        error = valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "exec plugin %s exited with status %d%s", exec->command,
                                   code, code == 127 ? " (not found or not executable?)" : "");
        goto done;
    }
    if (waited < 0)
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                         "exec plugin %s: its exit status was lost (is SIGCHLD ignored?); trusting its output",
                         exec->command);
    error = valkeyaddon__kube_exec_parse(out, ctx, output, len, exec->api_version);
    if (error >= 0)
        valkeyaddon__log(ctx, VALKEYADDON_LOG_DEBUG, "exec plugin %s returned a %s%s", exec->command,
                         out->token ? "token" : "client certificate", out->expiration ? " that expires" : "");
done:
    valkeyaddon__free_secret(output, cap);
    valkeyaddon__free(envp);
    valkeyaddon__free(exec_info);
    valkeyaddon__free(argv);
    return error;
}
