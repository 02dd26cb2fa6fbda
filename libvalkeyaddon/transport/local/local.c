/*
 * The local transport (transports.h): objects as files under a state
 * directory, the StatefulSet realised as servers on loopback. Every
 * operation holds an exclusive flock on {state_dir}/lock, so several
 * processes (two CLI runs, a CLI and a service) never interleave.
 * docs/local-transport.md has the layout and the reasons.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buffer_internal.h"
#include "ctx.h"
#include "objects/objects.h"
#include "transport/local/local.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

#define WATCH_POLL_MS 100

#define LOCK_POLL_MS 20

static long long lock_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Bounded: a blocking flock waits forever behind a process that hangs while
 * holding the lock (a stopped shell, a stuck server start). LOCK_NB in a loop
 * gives a deadline and an error that says who to look for.
 */
static int lock(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx)
{
    long long deadline = lock_now_ms() + l->lock_timeout_ms;

    while (flock(l->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        struct timespec pause = { 0, LOCK_POLL_MS * 1000000L };
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot lock %s/lock: %s", l->state_dir,
                                      strerror(errno));
        if (lock_now_ms() >= deadline)
            return valkeyaddon__error(ctx, VALKEYADDON_ETIMEOUT,
                                      "local transport: another process holds the lock %s/lock (waited %ld ms); "
                                      "find it with `fuser -v %s/lock` and let it finish or stop it",
                                      l->state_dir, l->lock_timeout_ms, l->state_dir);
        nanosleep(&pause, NULL);
    }
    return VALKEYADDON_OK;
}

static void unlock(struct valkeyaddon__local *l)
{
    flock(l->lock_fd, LOCK_UN);
}

static int check_names(valkeyaddon_ctx *ctx, const valkeyaddon_resource *r, const char *ns, const char *name)
{
    if (!r || !r->plural || !valkeyaddon__local_safe_name(r->plural))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: resource: not a kind it can store");
    if (!valkeyaddon__local_safe_name(ns))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: namespace: 1 to 253 of a-z 0-9 . -, "
                                  "not starting with '.'");
    if (!valkeyaddon__local_safe_name(name))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: %s name: 1 to 253 of a-z 0-9 . -, "
                                  "not starting with '.'", r->kind);
    return VALKEYADDON_OK;
}

static int is_kind(const valkeyaddon_resource *r, const valkeyaddon_resource *kind)
{
    return strcmp(r->kind, kind->kind) == 0 && strcmp(r->plural, kind->plural) == 0;
}

static int io_error(valkeyaddon_ctx *ctx, int rc, const char *verb, const char *path)
{
    if (rc == VALKEYADDON_ENOMEM)
        return valkeyaddon__error(ctx, rc, "local transport: out of memory");
    return valkeyaddon__error(ctx, rc, "local transport: cannot %s %s: %s", verb, path, strerror(errno));
}

/* The stored object, parsed. ENOTFOUND when absent. */
static int load(yajl_val *root, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                const char *ns, const char *name)
{
    char *path = valkeyaddon__local_object_path(l, r->plural, ns, name), *data = NULL;
    size_t len = 0;
    int rc;

    *root = NULL;
    if (!path)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    rc = valkeyaddon__local_read(&data, &len, path);
    if (rc == VALKEYADDON_ENOTFOUND)
        rc = valkeyaddon__error(ctx, rc, "%s %s/%s not found", r->kind, ns, name);
    else if (rc < 0)
        rc = io_error(ctx, rc, "read", path);
    else if (!(*root = valkeyaddon__local_parse(data, len)) || !YAJL_IS_OBJECT(*root))
        rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: %s is not a JSON object; remove it", path);
    valkeyaddon__local_free_data(data, len);
    valkeyaddon__free(path);
    if (rc < 0) {
        valkeyaddon__json_free_secret(*root);
        *root = NULL;
    }
    return rc;
}

/* PersistentVolumeClaims are the data directories: one exists iff its directory does. */
static char *claim_dir(struct valkeyaddon__local *l, const char *ns, const char *name)
{
    return valkeyaddon__local_path(l, "data", ns, name, (const char *)NULL);
}

/*
 * A claim as the StatefulSet controller makes it: the template's labels (the
 * selector: app.kubernetes.io/name, and instance, the StatefulSet's name,
 * which data-{name}-{ordinal} contains) and nothing else, until someone
 * applies labels to it (stored, then, as the object file).
 */
static int claim_json(valkeyaddon_buffer *out, struct valkeyaddon__local *l, const char *ns, const char *name)
{
    char json[900], instance[300] = "", *path, *stored = NULL, *dash;
    size_t len = 0;
    int rc;

    if (!out)
        return VALKEYADDON_OK;
    if (!(path = valkeyaddon__local_object_path(l, valkeyaddon__pvc_resource.plural, ns, name)))
        return VALKEYADDON_ENOMEM;
    rc = valkeyaddon__local_read(&stored, &len, path);
    valkeyaddon__free(path);
    if (rc == VALKEYADDON_OK) {
        rc = valkeyaddon_buffer_set(out, stored, len);
        valkeyaddon__free(stored);
        return rc;
    }
    if (strncmp(name, "data-", 5) == 0 && strlen(name) < sizeof(instance) + 5 && (dash = strrchr(name, '-')) &&
        dash > name + 5) {
        memcpy(instance, name + 5, (size_t)(dash - name - 5));
        instance[dash - name - 5] = '\0';
    }
    snprintf(json, sizeof(json), "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":"
             "{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"app.kubernetes.io/name\":\"valkey\","
             "\"app.kubernetes.io/instance\":\"%s\"}},\"status\":{\"phase\":\"Bound\"}}", name, ns, instance);
    return valkeyaddon_buffer_set(out, json, strlen(json));
}

/*
 * The claim's object file: the last body applied with labels (deprovision
 * labels the claims it keeps), for get to return. A body without labels (a
 * size request) leaves it as it is, as server-side apply would leave labels
 * another field manager owns.
 */
static int store_claim(valkeyaddon_buffer *out, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                       const char *name, const char *body, size_t body_len)
{
    static const char *const labels_path[] = { "metadata", "labels", NULL };
    char *path = valkeyaddon__local_object_path(l, valkeyaddon__pvc_resource.plural, ns, name);
    yajl_val root = valkeyaddon__local_parse(body, body_len);
    int rc, labelled;

    if (!path || !root) {
        valkeyaddon__free(path);
        yajl_tree_free(root);
        return root ? valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory")
                    : valkeyaddon__error(ctx, VALKEYADDON_EREJECTED, "local transport: PersistentVolumeClaim %s/%s: "
                                         "the body is not JSON", ns, name);
    }
    labelled = yajl_tree_get(root, (const char **)labels_path, yajl_t_object) != NULL;
    yajl_tree_free(root);
    if (labelled && (rc = valkeyaddon__local_write(path, body, body_len)) < 0)
        rc = io_error(ctx, rc, "write", path);
    else
        rc = claim_json(out, l, ns, name);
    valkeyaddon__free(path);
    return rc;
}

static int get_locked(valkeyaddon_buffer *out, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *r, const char *ns, const char *name)
{
    struct valkeyaddon__local_status status;
    yajl_val root;
    char *json = NULL;
    size_t len = 0;
    int rc;

    if (is_kind(r, &valkeyaddon__pvc_resource)) {
        char *dir = claim_dir(l, ns, name);
        if (!dir)
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
        rc = valkeyaddon__local_exists(dir) ? claim_json(out, l, ns, name)
                                            : valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "%s %s/%s not found",
                                                                 r->kind, ns, name);
        valkeyaddon__free(dir);
        return rc;
    }
    if ((rc = load(&root, l, ctx, r, ns, name)) < 0)
        return rc;
    if (is_kind(r, &valkeyaddon__statefulset_resource)) {
        valkeyaddon__local_observe(&status, l, ns, name,
                                   (int32_t)valkeyaddon__json_int(root, 1, "spec", "replicas", NULL));
        rc = valkeyaddon__local_render(&json, &len, root,
                                       (long long)valkeyaddon__json_int(root, 1, "metadata", "generation", NULL),
                                       &status, name);
    } else {
        rc = valkeyaddon__local_render(&json, &len, root,
                                       (long long)valkeyaddon__json_int(root, 1, "metadata", "generation", NULL),
                                       NULL, name);
    }
    valkeyaddon__json_free_secret(root);
    if (rc == VALKEYADDON_OK)
        rc = valkeyaddon_buffer_set(out, json, len);
    else
        rc = valkeyaddon__error(ctx, rc, "local transport: cannot read back %s %s/%s", r->kind, ns, name);
    valkeyaddon__local_free_data(json, len);
    return rc;
}

static int local_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                     const valkeyaddon_resource *r, const char *ns, const char *name)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;
    int rc;

    if ((rc = check_names(ctx, r, ns, name)) < 0 || (rc = lock(l, ctx)) < 0)
        return rc;
    rc = get_locked(out, l, ctx, r, ns, name);
    unlock(l);
    return rc;
}

/* A cluster refuses changes to these StatefulSet fields; so does this transport (plan_change.c re-creates). */
static int immutable_changed(yajl_val old, yajl_val body)
{
    static const char *const fields[] = { "volumeClaimTemplates", "selector", "serviceName", "podManagementPolicy" };
    const char *path[3] = { "spec", NULL, NULL };
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        path[1] = fields[i];
        if (!valkeyaddon__local_json_equal(yajl_tree_get(old, path, yajl_t_any), yajl_tree_get(body, path, yajl_t_any)))
            return 1;
    }
    return 0;
}

/*
 * Store body as the object (converging to it, as apply does), with
 * metadata.generation raised when anything but metadata changed, then
 * realise a StatefulSet. create_only: EEXISTS when it exists.
 */
static int write_locked(valkeyaddon_buffer *out, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx,
                        const valkeyaddon_resource *r, const char *ns, const char *name, const char *body,
                        size_t body_len, int create_only)
{
    yajl_val root = NULL, old = NULL;
    char *json = NULL, *path = NULL;
    size_t len = 0;
    long long generation = 1;
    int rc, sts = is_kind(r, &valkeyaddon__statefulset_resource);

    if (is_kind(r, &valkeyaddon__pvc_resource)) {
        char *dir = claim_dir(l, ns, name);
        if (!dir)
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
        if (create_only && valkeyaddon__local_exists(dir))
            rc = valkeyaddon__error(ctx, VALKEYADDON_EEXISTS, "%s %s/%s already exists", r->kind, ns, name);
        else if (valkeyaddon__local_mkdirs(dir) < 0)
            rc = io_error(ctx, VALKEYADDON_EIO, "create", dir);
        else /* No quota on a local directory: a size request is accepted as is; labels are kept. */
            rc = store_claim(out, l, ctx, ns, name, body, body_len);
        valkeyaddon__free(dir);
        return rc;
    }
    if (!(root = valkeyaddon__local_parse(body, body_len)) || !YAJL_IS_OBJECT(root)) {
        valkeyaddon__json_free_secret(root);
        return valkeyaddon__error(ctx, VALKEYADDON_EREJECTED,
                                  "local transport: %s %s/%s: the body is not a JSON object", r->kind, ns, name);
    }
    rc = load(&old, l, ctx, r, ns, name);
    if (rc == VALKEYADDON_OK && create_only) {
        rc = valkeyaddon__error(ctx, VALKEYADDON_EEXISTS, "%s %s/%s already exists", r->kind, ns, name);
        goto done;
    }
    if (rc == VALKEYADDON_OK) {
        generation = (long long)valkeyaddon__json_int(old, 1, "metadata", "generation", NULL);
        if (sts && immutable_changed(old, root)) {
            rc = valkeyaddon__error(ctx, VALKEYADDON_EREJECTED,
                                    "StatefulSet.apps \"%s\" is invalid: spec: Forbidden: updates to statefulset "
                                    "spec for fields other than 'replicas', 'ordinals', 'template', "
                                    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                    "'minReadySeconds' are forbidden", name);
            goto done;
        }
        /* The generation counts changes of anything but metadata, as the API server counts spec changes. */
        if (!valkeyaddon__local_same_content(old, root))
            generation++;
    } else if (rc != VALKEYADDON_ENOTFOUND) {
        goto done;
    }
    valkeyaddon__begin(ctx);
    if ((rc = valkeyaddon__local_render(&json, &len, root, generation, NULL, name)) < 0)
        goto rejected;
    if (!(path = valkeyaddon__local_object_path(l, r->plural, ns, name))) {
        rc = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
        goto done;
    }
    if ((rc = valkeyaddon__local_write(path, json, len)) < 0) {
        rc = io_error(ctx, rc, "write", path);
        goto done;
    }
    if (sts && (rc = valkeyaddon__local_converge(l, ctx, ns, name, root)) < 0)
        goto done;
    rc = out ? valkeyaddon_buffer_set(out, json, len) : VALKEYADDON_OK;
    goto done;
rejected:
    rc = rc == VALKEYADDON_ENOMEM ? valkeyaddon__error(ctx, rc, "local transport: out of memory")
                                  : valkeyaddon__error(ctx, VALKEYADDON_EREJECTED, "local transport: %s %s/%s: only "
                                                       "JSON objects with integer numbers and no nulls are stored",
                                                       r->kind, ns, name);
done:
    valkeyaddon__json_free_secret(root);
    valkeyaddon__json_free_secret(old);
    valkeyaddon__local_free_data(json, len);
    valkeyaddon__free(path);
    return rc;
}

static int local_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                        const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;
    char name[254];
    int rc;

    if (!json)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: json: must not be NULL");
    if ((rc = valkeyaddon__local_body_name(name, sizeof(name), json, len)) < 0)
        return valkeyaddon__error(ctx, rc == VALKEYADDON_ENOMEM ? rc : VALKEYADDON_EREJECTED,
                                  "%s in %s: the body has no metadata.name", r ? r->kind : "object", ns ? ns : "");
    if ((rc = check_names(ctx, r, ns, name)) < 0 || (rc = lock(l, ctx)) < 0)
        return rc;
    rc = write_locked(out, l, ctx, r, ns, name, json, len, 1);
    unlock(l);
    return rc;
}

static int local_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                       const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                       const char *field_manager, int force)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;
    int rc;

    /* One writer (this library): no field ownership to arbitrate. */
    (void)field_manager;
    (void)force;
    if (!json)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: json: must not be NULL");
    if ((rc = check_names(ctx, r, ns, name)) < 0 || (rc = lock(l, ctx)) < 0)
        return rc;
    rc = write_locked(out, l, ctx, r, ns, name, json, len, 0);
    unlock(l);
    return rc;
}

static int remove_locked(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                         const char *ns, const char *name, unsigned int flags)
{
    char *path;
    int rc = VALKEYADDON_OK, found;

    if (is_kind(r, &valkeyaddon__pvc_resource)) {
        if (!(path = claim_dir(l, ns, name)))
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
        if (!valkeyaddon__local_exists(path))
            rc = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "%s %s/%s not found", r->kind, ns, name);
        else if (valkeyaddon__local_claim_in_use(l, ns, name))
            rc = valkeyaddon__error(ctx, VALKEYADDON_ECONFLICT, "%s %s/%s is in use by a running server; delete "
                                    "the StatefulSet first", r->kind, ns, name);
        else if (valkeyaddon__local_remove_tree(path) < 0)
            rc = io_error(ctx, VALKEYADDON_EIO, "remove", path);
        valkeyaddon__free(path);
        if (rc == VALKEYADDON_OK && (path = valkeyaddon__local_object_path(l, r->plural, ns, name))) {
            unlink(path);
            valkeyaddon__free(path);
        }
        return rc;
    }
    if (!(path = valkeyaddon__local_object_path(l, r->plural, ns, name)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    found = valkeyaddon__local_exists(path);
    if (found && unlink(path) < 0)
        rc = io_error(ctx, VALKEYADDON_EIO, "remove", path);
    valkeyaddon__free(path);
    if (rc < 0)
        return rc;
    /* Servers (and with them data) go even without the object: an interrupted run may have left them. */
    if (is_kind(r, &valkeyaddon__statefulset_resource))
        rc = valkeyaddon__local_teardown(l, ctx, ns, name, !(flags & VALKEYADDON_REMOVE_ORPHAN), &found);
    else if (is_kind(r, &valkeyaddon__service_resource)) {
        int port = 0;
        if ((rc = valkeyaddon__local_service_port(&port, l, ctx, ns, name, 0)) == 0 && port > 0)
            rc = valkeyaddon__local_release_port(l, ctx, ns, name, 0);
    }
    if (rc == VALKEYADDON_OK && !found)
        rc = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "%s %s/%s not found", r->kind, ns, name);
    return rc;
}

static int local_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                        const char *ns, const char *name, unsigned int flags)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;
    int rc;

    if ((rc = check_names(ctx, r, ns, name)) < 0 || (rc = lock(l, ctx)) < 0)
        return rc;
    rc = remove_locked(l, ctx, r, ns, name, flags);
    unlock(l);
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls the object (and so the servers) every 100 ms; an event for each change of what get returns. */
static int local_watch(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *r,
                       const char *ns, const char *name, const char *resource_version, long timeout_ms,
                       valkeyaddon_watch_cb callback, void *payload)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;
    valkeyaddon_buffer now = VALKEYADDON__BUFFER_INIT, last = VALKEYADDON__BUFFER_INIT;
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc, seen = 0;

    (void)resource_version; /* no history is kept: every watch starts from the current state */
    if (!callback)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: callback: must not be NULL");
    if ((rc = check_names(ctx, r, ns, name)) < 0)
        return rc;
    for (;;) {
        struct timespec pause = { 0, WATCH_POLL_MS * 1000000L };
        if ((rc = lock(l, ctx)) < 0)
            break;
        rc = get_locked(&now, l, ctx, r, ns, name);
        unlock(l);
        if (rc == VALKEYADDON_OK && (!seen || now.len != last.len || memcmp(now.data, last.data, now.len) != 0)) {
            rc = callback(seen ? VALKEYADDON_WATCH_MODIFIED : VALKEYADDON_WATCH_ADDED, now.data, now.len, payload);
            seen = 1;
            valkeyaddon__buffer_dispose_secret(&last);
            last = now;
            now.data = NULL, now.len = now.cap = 0;
        } else if (rc == VALKEYADDON_ENOTFOUND) {
            valkeyaddon__begin(ctx);
            rc = 0;
            if (seen) {
                rc = callback(VALKEYADDON_WATCH_DELETED, last.data, last.len, payload);
                seen = 0;
                valkeyaddon__buffer_dispose_secret(&last);
            }
        } else if (rc == VALKEYADDON_OK) {
            rc = 0;
        }
        valkeyaddon__buffer_dispose_secret(&now);
        if (rc != 0)
            break;
        if (now_ms() >= deadline) {
            rc = VALKEYADDON_ETIMEOUT;
            break;
        }
        nanosleep(&pause, NULL);
    }
    valkeyaddon__buffer_dispose_secret(&now);
    valkeyaddon__buffer_dispose_secret(&last);
    return rc;
}

static int local_address(valkeyaddon_buffer *host, int32_t *port, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                         const char *ns, const char *service)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;
    int rc, p = 0;

    if (!host || !port)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "local transport: host and port: must not be NULL");
    if ((rc = check_names(ctx, &valkeyaddon__service_resource, ns, service)) < 0 || (rc = lock(l, ctx)) < 0)
        return rc;
    rc = valkeyaddon__local_service_port(&p, l, ctx, ns, service, 1);
    unlock(l);
    if (rc < 0)
        return rc;
    *port = p;
    return valkeyaddon_buffer_set(host, "127.0.0.1", 9);
}

static void local_free(valkeyaddon_transport *self)
{
    struct valkeyaddon__local *l = (struct valkeyaddon__local *)self;

    if (!l)
        return;
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    valkeyaddon__free(l->state_dir);
    valkeyaddon__free(l->server_path);
    valkeyaddon__free(l->server_exe);
    valkeyaddon__free(l->server_real);
    valkeyaddon__free(l);
}

/* The config files quote paths: no quote, backslash or control character may reach them. */
static int plain_path(const char *path)
{
    for (; *path; path++)
        if (*path == '"' || *path == '\\' || (unsigned char)*path < 0x20 || *path == 0x7f)
            return 0;
    return 1;
}

static char *absolute(const char *dir)
{
    char cwd[4096];
    char *path;

    if (dir[0] == '/')
        return valkeyaddon__strdup(dir);
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    if (!(path = valkeyaddon__malloc(strlen(cwd) + strlen(dir) + 2)))
        return NULL;
    strcpy(path, cwd);
    strcat(path, "/");
    strcat(path, dir);
    return path;
}

int valkeyaddon_transport_local_new(valkeyaddon_transport **out, valkeyaddon_ctx *ctx,
                                    const valkeyaddon_local_options *options)
{
    struct valkeyaddon__local *l;
    struct stat st;
    char *lock_path;
    int rc;

    if (ctx)
        valkeyaddon__begin(ctx);
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    *out = NULL;
    if (!options)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options: must not be NULL (state_dir is required)");
    if (options->version == 0 || options->version > VALKEYADDON_LOCAL_OPTIONS_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION, "options->version: %u is not a version this library "
                                  "knows (1 to %d)", options->version, VALKEYADDON_LOCAL_OPTIONS_VERSION);
    if (!options->state_dir || !options->state_dir[0])
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->state_dir: must be a directory path");
    if (!plain_path(options->state_dir))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->state_dir: must not contain quotes, "
                                  "backslashes or control characters");
    if (options->server_path && !options->server_path[0])
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->server_path: NULL or a program");
    if (options->start_timeout_ms < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->start_timeout_ms: must not be negative");
    if (options->version >= 2 && options->lock_timeout_ms < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->lock_timeout_ms: must not be negative");
    if (!(l = valkeyaddon__calloc(1, sizeof(*l))))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    l->lock_fd = -1;
    l->start_timeout_ms = options->start_timeout_ms ? options->start_timeout_ms : 10000;
    l->lock_timeout_ms = options->version >= 2 && options->lock_timeout_ms ? options->lock_timeout_ms : 30000;
    if (!(l->state_dir = absolute(options->state_dir)) ||
        (options->server_path && !(l->server_path = valkeyaddon__strdup(options->server_path)))) {
        local_free(&l->base);
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    }
    /* Servers and their logs live here, and the password in configs and objects: owner only. */
    if ((rc = valkeyaddon__local_mkdirs(l->state_dir)) < 0 || stat(l->state_dir, &st) < 0) {
        rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot create the state directory %s: %s",
                                l->state_dir, strerror(errno));
        local_free(&l->base);
        return rc;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        rc = valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "local transport: the state directory %s is not a "
                                "directory of this user; choose another", l->state_dir);
        local_free(&l->base);
        return rc;
    }
    if (!(lock_path = valkeyaddon__local_path(l, "lock", (const char *)NULL))) {
        local_free(&l->base);
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    }
    l->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    valkeyaddon__free(lock_path);
    if (l->lock_fd < 0) {
        rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot open %s/lock: %s", l->state_dir,
                                strerror(errno));
        local_free(&l->base);
        return rc;
    }
    l->base.version = VALKEYADDON_TRANSPORT_VERSION;
    l->base.get = local_get;
    l->base.create = local_create;
    l->base.apply = local_apply;
    l->base.remove = local_remove;
    l->base.watch = local_watch;
    l->base.free = local_free;
    l->base.address = local_address;
    *out = &l->base;
    return VALKEYADDON_OK;
}
