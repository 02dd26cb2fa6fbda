/*
 * The StatefulSet made real (local.h): one server per ordinal on loopback,
 * configured as the cluster's start script configures its pods (plan
 * maxmemory with noeviction, persistence per plan, ordinal 0 the primary and
 * the others its replicas), started detached so it outlives the caller.
 *
 * Per ordinal, under servers/{ns}/{name}/{ordinal}/: valkey.conf (0600, holds
 * the password: the server's only argument is this path), boot.conf (when
 * AOF is turned on over an RDB dataset), server.log, server.pid (our record:
 * pid, start time and binary, so a stale or reused pid is never signalled),
 * port (replicas). Data: data/{ns}/data-{name}-{ordinal}/ for persistent
 * plans (the volume claim's name), the ordinal's directory otherwise.
 */
/* nftw, pipe2 */
#define _GNU_SOURCE 1
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "valkeyaddon/plans.h"
#include "alloc.h"
#include "ctx.h"
#include "objects/objects.h"
#include "secret_data.h"
#include "transport/local/local.h"
#include "util/json_tree.h"

#define POLL_MS 20
#define PROBE_TIMEOUT_MS 500

struct server {
    int ordinal, port;
    char *dir, *conf, *boot, *log, *pid, *data;
};

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void server_clear(struct server *s)
{
    valkeyaddon__free(s->dir);
    valkeyaddon__free(s->conf);
    valkeyaddon__free(s->boot);
    valkeyaddon__free(s->log);
    valkeyaddon__free(s->pid);
    valkeyaddon__free(s->data);
    memset(s, 0, sizeof(*s));
}

static int server_init(struct server *s, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                       const char *name, int ordinal, int persistent)
{
    char number[16], claim[300];

    memset(s, 0, sizeof(*s));
    s->ordinal = ordinal;
    snprintf(number, sizeof(number), "%d", ordinal);
    snprintf(claim, sizeof(claim), "data-%s-%d", name, ordinal);
    s->dir = valkeyaddon__local_path(l, "servers", ns, name, number, (const char *)NULL);
    s->conf = valkeyaddon__local_path(l, "servers", ns, name, number, "valkey.conf", (const char *)NULL);
    s->boot = valkeyaddon__local_path(l, "servers", ns, name, number, "boot.conf", (const char *)NULL);
    s->log = valkeyaddon__local_path(l, "servers", ns, name, number, "server.log", (const char *)NULL);
    s->pid = valkeyaddon__local_path(l, "servers", ns, name, number, "server.pid", (const char *)NULL);
    s->data = persistent ? valkeyaddon__local_path(l, "data", ns, claim, (const char *)NULL)
                         : valkeyaddon__strdup(s->dir ? s->dir : "");
    if (!s->dir || !s->conf || !s->boot || !s->log || !s->pid || !s->data) {
        server_clear(s);
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    }
    return VALKEYADDON_OK;
}

/* Field 22 of /proc/PID/stat (start time in clock ticks); -1 when gone or a zombie. */
static int proc_start_time(pid_t pid, unsigned long long *start)
{
    char path[64], buf[1024], *p;
    int fd, field;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and ')': fields restart after the last ')'. */
    if (!(p = strrchr(buf, ')')) || p[1] != ' ')
        return -1;
    p += 2;
    if (*p == 'Z' || *p == 'X')
        return -1;
    for (field = 3; field < 22; field++) {
        if (!(p = strchr(p, ' ')))
            return -1;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

/* 1 when the pid record names a live process that is our server: same start time, same binary. */
static int record_alive(const struct server *s, pid_t *pid_out)
{
    char *data = NULL, exe[PATH_MAX + 1], proc_exe[64], recorded[PATH_MAX + 1];
    unsigned long long start = 0, actual = 0;
    size_t len = 0;
    ssize_t n;
    int pid = 0, alive = 0;

    if (valkeyaddon__local_read(&data, &len, s->pid) < 0)
        return 0;
    recorded[0] = '\0';
    if (sscanf(data, "%d %llu %4096[^\n]", &pid, &start, recorded) == 3 && pid > 1 &&
        proc_start_time((pid_t)pid, &actual) == 0 && actual == start) {
        snprintf(proc_exe, sizeof(proc_exe), "/proc/%d/exe", pid);
        n = readlink(proc_exe, exe, sizeof(exe) - 1);
        if (n > 0) {
            exe[n] = '\0';
            alive = strcmp(exe, recorded) == 0;
        }
    }
    valkeyaddon__free(data);
    if (alive && pid_out)
        *pid_out = (pid_t)pid;
    return alive;
}

static int gone(pid_t pid, unsigned long long start)
{
    unsigned long long now = 0;

    return proc_start_time(pid, &now) < 0 || now != start;
}

/* SIGTERM (a persistent server saves on it), then SIGKILL after grace_ms. Never signals a stale pid. */
static int stop_server(valkeyaddon_ctx *ctx, const struct server *s, long grace_ms)
{
    unsigned long long start = 0;
    long long deadline;
    pid_t pid = 0;

    if (record_alive(s, &pid) && proc_start_time(pid, &start) == 0) {
        kill(pid, SIGTERM);
        deadline = now_ms() + grace_ms;
        while (!gone(pid, start) && now_ms() < deadline)
            sleep_ms(POLL_MS);
        if (!gone(pid, start)) {
            valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING, "local transport: server %s did not stop within %ld ms "
                             "of SIGTERM; sending SIGKILL", s->dir, grace_ms);
            kill(pid, SIGKILL);
            deadline = now_ms() + 5000;
            while (!gone(pid, start) && now_ms() < deadline)
                sleep_ms(POLL_MS);
            if (!gone(pid, start))
                return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "local transport: server process %d (%s) "
                                          "survived SIGKILL; stop it by hand", (int)pid, s->dir);
        }
    }
    if (unlink(s->pid) < 0 && errno != ENOENT)
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot remove %s: %s", s->pid,
                                  strerror(errno));
    return VALKEYADDON_OK;
}

/* The last non-empty line of the server's log (the server never logs its password). */
static void log_tail(char *out, size_t size, const char *log)
{
    char *data = NULL, *end, *start;
    size_t len = 0;

    out[0] = '\0';
    if (valkeyaddon__local_read(&data, &len, log) < 0)
        return;
    end = data + len;
    while (end > data && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    *end = '\0';
    start = strrchr(data, '\n');
    start = start ? start + 1 : data;
    snprintf(out, size, "%s", start);
    valkeyaddon__free(data);
}

static int search_path(char **found, const char *program)
{
    const char *path = getenv("PATH"), *p;

    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path; *p;) {
        size_t n = strcspn(p, ":");
        char *candidate = valkeyaddon__malloc(n + strlen(program) + 2);
        if (!candidate)
            return VALKEYADDON_ENOMEM;
        memcpy(candidate, n ? p : ".", n ? n : 1);
        candidate[n ? n : 1] = '\0';
        strcat(candidate, "/");
        strcat(candidate, program);
        if (access(candidate, X_OK) == 0) {
            *found = candidate;
            return VALKEYADDON_OK;
        }
        valkeyaddon__free(candidate);
        p += n;
        if (*p == ':')
            p++;
    }
    return VALKEYADDON_ENOTFOUND;
}

static int resolve_server(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx)
{
    char real[PATH_MAX];
    char *exe = NULL;
    int rc;

    if (l->server_exe)
        return VALKEYADDON_OK;
    if (l->server_path && strchr(l->server_path, '/'))
        rc = access(l->server_path, X_OK) == 0 ? ((exe = valkeyaddon__strdup(l->server_path)) ? 0 : VALKEYADDON_ENOMEM)
                                               : VALKEYADDON_ENOTFOUND;
    else if (l->server_path)
        rc = search_path(&exe, l->server_path);
    else if ((rc = search_path(&exe, "valkey-server")) == VALKEYADDON_ENOTFOUND)
        rc = search_path(&exe, "redis-server");
    if (rc == VALKEYADDON_ENOTFOUND)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, l->server_path
                                  ? "local transport: the server binary %s is not an executable (check server_path)"
                                  : "local transport: neither valkey-server nor redis-server is on PATH%s "
                                    "(install one, e.g. apt-get install redis-server)",
                                  l->server_path ? l->server_path : "");
    if (rc < 0)
        return valkeyaddon__error(ctx, rc, "local transport: out of memory");
    if (!realpath(exe, real)) {
        valkeyaddon__free(exe);
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot resolve the server binary: %s",
                                  strerror(errno));
    }
    if (!(l->server_real = valkeyaddon__strdup(real))) {
        valkeyaddon__free(exe);
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    }
    l->server_exe = exe;
    return VALKEYADDON_OK;
}

/*
 * Start the server detached: fork, setsid, fork again (the grandchild is
 * reparented away from the caller, so it is never the caller's zombie), exec
 * with the config path as its only argument.
 */
static int spawn(pid_t *out, struct valkeyaddon__local *l, const struct server *s, const char *config)
{
    char *argv[3];
    int fds[2], status, maxfd = (int)sysconf(_SC_OPEN_MAX);
    pid_t child, grandchild = -1;
    sigset_t all;

    argv[0] = l->server_exe;
    argv[1] = (char *)config;
    argv[2] = NULL;
    if (maxfd < 0 || maxfd > 65536)
        maxfd = 65536;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (child == 0) {
        /* Only async-signal-safe calls from here on. */
        setsid();
        grandchild = fork();
        if (grandchild == 0) {
            int fd, null = open("/dev/null", O_RDWR);
            sigemptyset(&all);
            sigprocmask(SIG_SETMASK, &all, NULL);
            signal(SIGPIPE, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            umask(077);
            if (chdir(s->dir) < 0 || null < 0)
                _exit(127);
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            /* Nothing of the caller's (its lock file, sockets, ...) may stay open in the server. */
            for (fd = 3; fd < maxfd; fd++)
                close(fd);
            execv(argv[0], argv);
            _exit(127);
        }
        if (write(fds[1], &grandchild, sizeof(grandchild)) != (ssize_t)sizeof(grandchild))
            _exit(1);
        _exit(grandchild > 0 ? 0 : 1);
    }
    close(fds[1]);
    if (read(fds[0], &grandchild, sizeof(grandchild)) != (ssize_t)sizeof(grandchild))
        grandchild = -1;
    close(fds[0]);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (grandchild <= 0)
        return -1;
    *out = grandchild;
    return 0;
}

/* The password of {name}-auth, checked to be what the library writes. */
static int read_password(char **password, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                         const char *name)
{
    char secret[300], *path, *json = NULL;
    unsigned char *value = NULL;
    size_t len = 0, vlen = 0, i;
    int rc;

    snprintf(secret, sizeof(secret), "%s-auth", name);
    if (!(path = valkeyaddon__local_object_path(l, "secrets", ns, secret)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    rc = valkeyaddon__local_read(&json, &len, path);
    valkeyaddon__free(path);
    if (rc == VALKEYADDON_OK) {
        rc = valkeyaddon__secret_data(&value, &vlen, json, "password");
        valkeyaddon__local_free_data(json, len);
    }
    if (rc == VALKEYADDON_ENOMEM)
        return valkeyaddon__error(ctx, rc, "local transport: out of memory");
    if (rc < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "local transport: Secret %s/%s has no usable "
                                  "data.password, so the servers of StatefulSet %s cannot start (ensure_valkey "
                                  "creates it first)", ns, secret, name);
    for (i = 0; i < vlen; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-", value[i]) || !value[i])
            break;
    if (vlen < 16 || i < vlen) {
        valkeyaddon__free_secret(value, vlen);
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT, "local transport: Secret %s/%s: data.password must "
                                  "be 16 or more of A-Z a-z 0-9 . _ ~ -", ns, secret);
    }
    *password = (char *)value;
    return VALKEYADDON_OK;
}

/* The config, as the cluster's start script writes it (objects/start_script.c), for loopback. */
static char *server_config(const valkeyaddon_plan_config *p, const struct server *s, const char *password,
                           int primary_port)
{
    const char *fmt = "# Written by libvalkeyaddon's local transport (docs/local-transport.md).\n"
                      "# Holds the password: mode 0600, never on a command line.\n"
                      "bind 127.0.0.1\n"
                      "port %d\n"
                      "protected-mode yes\n"
                      "daemonize no\n"
                      "dir \"%s\"\n"
                      "logfile \"%s\"\n"
                      "requirepass \"%s\"\n"
                      "masterauth \"%s\"\n"
                      "maxmemory %" PRId64 "\n"
                      "maxmemory-policy %s\n"
                      "save \"%s\"\n"
                      "appendonly %s\n"
                      "%s%s%s"
                      "aof-use-rdb-preamble yes\n"
                      "%s";
    int64_t limit = p->memory_limit_bytes;
    /* The start script's arithmetic: limit * percent / 100 without overflow. */
    int64_t maxmemory = limit / 100 * p->maxmemory_percent + limit % 100 * p->maxmemory_percent / 100;
    char replica[96] = "";
    char *text;
    int len;

    if (s->ordinal > 0)
        snprintf(replica, sizeof(replica), "replicaof 127.0.0.1 %d\nreplica-read-only yes\n", primary_port);
#define CONFIG_ARGS                                                                                              \
    s->port, s->data, s->log, password, password, maxmemory, p->maxmemory_policy, p->save,                       \
        p->appendonly ? "yes" : "no", p->appendfsync[0] ? "appendfsync " : "", p->appendfsync,                   \
        p->appendfsync[0] ? "\n" : "", replica
    len = snprintf(NULL, 0, fmt, CONFIG_ARGS);
    if (len < 0 || !(text = valkeyaddon__malloc((size_t)len + 1)))
        return NULL;
    snprintf(text, (size_t)len + 1, fmt, CONFIG_ARGS);
#undef CONFIG_ARGS
    return text;
}

/* AOF wanted over an RDB-only dataset: boot with AOF off (which loads dump.rdb), then turn it on. */
static int needs_aof_after_load(const valkeyaddon_plan_config *p, const struct server *s)
{
    char path[PATH_MAX];

    if (!p->appendonly)
        return 0;
    snprintf(path, sizeof(path), "%s/dump.rdb", s->data);
    if (!valkeyaddon__local_exists(path))
        return 0;
    snprintf(path, sizeof(path), "%s/appendonlydir", s->data);
    if (valkeyaddon__local_exists(path))
        return 0;
    snprintf(path, sizeof(path), "%s/appendonly.aof", s->data);
    return !valkeyaddon__local_exists(path);
}

static int start_server(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns, const char *name,
                        const struct server *s, const valkeyaddon_plan_config *p, const char *password)
{
    char record[PATH_MAX + 64], tail[512], boot[PATH_MAX + 64];
    unsigned long long start = 0;
    long long deadline;
    int aof_later = needs_aof_after_load(p, s), state = VALKEYADDON__PROBE_DOWN;
    pid_t pid;

    if (!valkeyaddon__local_port_is_free(s->port))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT, "local transport: port %d on 127.0.0.1 (server %d of "
                                  "StatefulSet %s/%s) is in use by another process; stop that process, or "
                                  "deprovision and provision again for new ports", s->port, s->ordinal, ns, name);
    if (aof_later) {
        /* Later directives win: the real config stays the single source of truth. */
        snprintf(boot, sizeof(boot), "include \"%s\"\nappendonly no\n", s->conf);
        if (valkeyaddon__local_write(s->boot, boot, strlen(boot)) < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot write %s: %s", s->boot,
                                      strerror(errno));
    }
    valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "local transport: starting server %d of %s/%s on 127.0.0.1:%d",
                     s->ordinal, ns, name, s->port);
    if (spawn(&pid, l, s, aof_later ? s->boot : s->conf) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "local transport: cannot start %s: %s", l->server_exe,
                                  strerror(errno));
    if (proc_start_time(pid, &start) < 0)
        start = 0;
    snprintf(record, sizeof(record), "%d %llu %s\n", (int)pid, start, l->server_real);
    if (valkeyaddon__local_write(s->pid, record, strlen(record)) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot write %s: %s", s->pid,
                                  strerror(errno));
    /* Started means it answers on its port (LOADING counts): binding and reading the config went well. */
    deadline = now_ms() + l->start_timeout_ms;
    for (;;) {
        /* Before its exec the child is still this program: alive by start time, not yet by binary. */
        int alive = !gone(pid, start);
        if (alive && record_alive(s, NULL))
            state = valkeyaddon__local_probe(s->port, password, 0, PROBE_TIMEOUT_MS);
        if (state >= (aof_later ? VALKEYADDON__PROBE_UP : VALKEYADDON__PROBE_LOADING))
            break;
        if (!alive || now_ms() >= deadline) {
            log_tail(tail, sizeof(tail), s->log);
            if (alive)
                stop_server(ctx, s, 2000);
            else
                unlink(s->pid);
            return valkeyaddon__error(ctx, alive ? VALKEYADDON_ETIMEOUT : VALKEYADDON_ERROR,
                                      "local transport: server %d of %s/%s %s (log %s%s%s)", s->ordinal, ns, name,
                                      alive ? "did not answer within the start timeout" : "exited at once",
                                      s->log, tail[0] ? ": " : "", tail);
        }
        sleep_ms(POLL_MS * 2);
    }
    if (aof_later) {
        static const char *const set[] = { "CONFIG", "SET", "appendonly", "yes" };
        if (valkeyaddon__local_command(s->port, password, set, 4, 5000) < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "local transport: server %d of %s/%s loaded its RDB "
                                      "but refused CONFIG SET appendonly yes (log %s)", s->ordinal, ns, name, s->log);
        valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "local transport: server %d of %s/%s: appendonly yes after "
                         "loading dump.rdb", s->ordinal, ns, name);
    }
    return VALKEYADDON_OK;
}

static long grace_ms(int persistent)
{
    /* The pods' terminationGracePeriodSeconds: room for the final save. */
    return persistent ? 60000 : 10000;
}

/* Bring one ordinal to config; unchanged and alive: nothing at all. */
static int converge_one(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns, const char *name,
                        struct server *s, const valkeyaddon_plan_config *p, const char *password, int primary_port)
{
    char *config = NULL, *current = NULL;
    size_t current_len = 0;
    int rc, alive, same;

    if (valkeyaddon__local_mkdirs(s->dir) < 0 || valkeyaddon__local_mkdirs(s->data) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot create %s: %s", s->data,
                                  strerror(errno));
    if (!(config = server_config(p, s, password, primary_port)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    rc = valkeyaddon__local_read(&current, &current_len, s->conf);
    same = rc == VALKEYADDON_OK && current_len == strlen(config) && memcmp(current, config, current_len) == 0;
    valkeyaddon__local_free_data(current, current_len);
    alive = record_alive(s, NULL);
    if (alive && same) {
        valkeyaddon__free_secret(config, (size_t)-1);
        return VALKEYADDON_OK;
    }
    if (alive) {
        valkeyaddon__log(ctx, VALKEYADDON_LOG_INFO, "local transport: server %d of %s/%s: configuration changed; "
                         "restarting", s->ordinal, ns, name);
        if ((rc = stop_server(ctx, s, grace_ms(p->persistence != VALKEYADDON_PERSISTENCE_NONE))) < 0) {
            valkeyaddon__free_secret(config, (size_t)-1);
            return rc;
        }
    }
    unlink(s->pid); /* stale: its pid is dead or is not our server; never signalled */
    unlink(s->boot);
    rc = valkeyaddon__local_write(s->conf, config, strlen(config));
    valkeyaddon__free_secret(config, (size_t)-1);
    if (rc < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot write %s: %s", s->conf,
                                  strerror(errno));
    return start_server(l, ctx, ns, name, s, p, password);
}

int valkeyaddon__local_converge(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns, const char *name,
                                yajl_val statefulset)
{
    valkeyaddon_plan_config plan = VALKEYADDON_PLAN_CONFIG_INIT;
    const char *plan_name = valkeyaddon__json_string(statefulset, "metadata", "annotations", "valkeyaddon.io/plan");
    int64_t replicas = valkeyaddon__json_int(statefulset, -1, "spec", "replicas", NULL);
    char *password = NULL;
    int rc = VALKEYADDON_OK, ordinal, primary_port = 0;

    if (!plan_name || valkey_plan_config(&plan, NULL, plan_name) != 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EREJECTED, "local transport: StatefulSet %s/%s has no known "
                                  "plan in its valkeyaddon.io/plan annotation (write it with ensure_valkey)", ns, name);
    if (replicas < 0 || replicas > VALKEYADDON__LOCAL_MAX_REPLICAS)
        return valkeyaddon__error(ctx, VALKEYADDON_EREJECTED, "local transport: StatefulSet %s/%s: spec.replicas "
                                  "must be 0 to %d", ns, name, VALKEYADDON__LOCAL_MAX_REPLICAS);
    if ((rc = resolve_server(l, ctx)) < 0 || (rc = read_password(&password, l, ctx, ns, name)) < 0 ||
        (rc = valkeyaddon__local_service_port(&primary_port, l, ctx, ns, name, 1)) < 0) {
        valkeyaddon__free_secret(password, (size_t)-1);
        return rc;
    }
    for (ordinal = 0; ordinal < VALKEYADDON__LOCAL_MAX_REPLICAS && rc == VALKEYADDON_OK; ordinal++) {
        struct server s;
        int persistent = plan.persistence != VALKEYADDON_PERSISTENCE_NONE;
        if ((rc = server_init(&s, l, ctx, ns, name, ordinal, persistent)) < 0)
            break;
        if (ordinal < replicas) {
            s.port = primary_port;
            if (ordinal == 0 || (rc = valkeyaddon__local_replica_port(&s.port, l, ctx, ns, name, ordinal, 1)) == 0)
                rc = converge_one(l, ctx, ns, name, &s, &plan, password, primary_port);
        } else if (valkeyaddon__local_exists(s.dir)) {
            /* Scaled down: the server stops; its data stays, as a claim does (whenScaled: Retain). */
            if ((rc = stop_server(ctx, &s, grace_ms(persistent))) == 0 &&
                (rc = valkeyaddon__local_release_port(l, ctx, ns, name, ordinal)) == 0 &&
                valkeyaddon__local_remove_tree(s.dir) < 0)
                rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot remove %s: %s", s.dir,
                                        strerror(errno));
        }
        server_clear(&s);
    }
    valkeyaddon__free_secret(password, (size_t)-1);
    return rc;
}

int valkeyaddon__local_teardown(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns, const char *name,
                                int remove_data, int *found)
{
    char *dir = valkeyaddon__local_path(l, "servers", ns, name, (const char *)NULL);
    int ordinal, rc = VALKEYADDON_OK;

    if (!dir)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    if (valkeyaddon__local_exists(dir))
        *found = 1;
    for (ordinal = 0; ordinal < VALKEYADDON__LOCAL_MAX_REPLICAS && rc == VALKEYADDON_OK; ordinal++) {
        struct server s;
        if ((rc = server_init(&s, l, ctx, ns, name, ordinal, 1)) < 0)
            break;
        /* The longest grace: the plan may be gone with the object. */
        if ((rc = stop_server(ctx, &s, grace_ms(1))) == 0 && ordinal > 0)
            rc = valkeyaddon__local_release_port(l, ctx, ns, name, ordinal);
        if (rc == 0 && remove_data && valkeyaddon__local_exists(s.data)) {
            *found = 1;
            if (valkeyaddon__local_remove_tree(s.data) < 0)
                rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot remove %s: %s", s.data,
                                        strerror(errno));
        }
        server_clear(&s);
    }
    /* Configs (with the password), logs and the free plan's working directories go in every case. */
    if (rc == VALKEYADDON_OK && valkeyaddon__local_remove_tree(dir) < 0)
        rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot remove %s: %s", dir, strerror(errno));
    valkeyaddon__free(dir);
    return rc;
}

void valkeyaddon__local_observe(struct valkeyaddon__local_status *status, struct valkeyaddon__local *l,
                                const char *ns, const char *name, int32_t replicas)
{
    char *password = NULL;
    int alive[VALKEYADDON__LOCAL_MAX_REPLICAS], ready[VALKEYADDON__LOCAL_MAX_REPLICAS];
    int ordinal, any_dead = 0, first_unready;

    memset(status, 0, sizeof(*status));
    if (replicas > VALKEYADDON__LOCAL_MAX_REPLICAS)
        replicas = VALKEYADDON__LOCAL_MAX_REPLICAS;
    status->replicas = replicas < 0 ? 0 : replicas;
    if (read_password(&password, l, NULL, ns, name) < 0)
        password = NULL;
    first_unready = replicas;
    for (ordinal = 0; ordinal < replicas; ordinal++) {
        struct server s;
        alive[ordinal] = ready[ordinal] = 0;
        if (server_init(&s, l, NULL, ns, name, ordinal, 0) == 0) {
            int port = 0;
            alive[ordinal] = record_alive(&s, NULL);
            if (ordinal == 0)
                valkeyaddon__local_service_port(&port, l, NULL, ns, name, 0);
            else
                valkeyaddon__local_replica_port(&port, l, NULL, ns, name, ordinal, 0);
            if (alive[ordinal] && password && port > 0)
                ready[ordinal] = valkeyaddon__local_probe(port, password, ordinal > 0, PROBE_TIMEOUT_MS) ==
                                 VALKEYADDON__PROBE_READY;
            server_clear(&s);
        }
        any_dead |= !alive[ordinal];
        status->ready += ready[ordinal];
        if (!ready[ordinal] && first_unready == replicas)
            first_unready = ordinal;
    }
    /*
     * A dead server is a crashed pod: counted as updated, so the status is
     * Failed (or Creating with none ready). Otherwise replicas come up as
     * OrderedReady brings pods: one not ready yet means a rollout in
     * progress (Creating), not a failure.
     */
    if (any_dead || first_unready == replicas)
        status->updated = status->replicas;
    else
        status->updated = first_unready + 1;
    valkeyaddon__free_secret(password, (size_t)-1);
}

int valkeyaddon__local_claim_in_use(struct valkeyaddon__local *l, const char *ns, const char *claim)
{
    char name[300], *dash, *conf = NULL;
    size_t len = 0;
    struct server s;
    int ordinal, used = 0;

    if (strncmp(claim, "data-", 5) != 0 || strlen(claim) >= sizeof(name) || !(dash = strrchr(claim, '-')))
        return 0;
    ordinal = atoi(dash + 1);
    memcpy(name, claim + 5, (size_t)(dash - claim - 5));
    name[dash - claim - 5] = '\0';
    if (ordinal < 0 || ordinal >= VALKEYADDON__LOCAL_MAX_REPLICAS || !name[0] ||
        server_init(&s, l, NULL, ns, name, ordinal, 1) < 0)
        return 0;
    if (record_alive(&s, NULL) && valkeyaddon__local_read(&conf, &len, s.conf) == 0)
        used = strstr(conf, s.data) != NULL;
    valkeyaddon__local_free_data(conf, len);
    server_clear(&s);
    return used;
}
