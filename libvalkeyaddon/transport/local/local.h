/*
 * The local transport's parts, to one another. It stores objects as files
 * under a state directory and realises the StatefulSet as real servers on
 * loopback; docs/local-transport.md explains the layout and every choice.
 *
 *   local.c    the vtable: lock, dispatch by kind, watch by polling
 *   store.c    files: paths, atomic 0600 writes, reads, removal
 *   objects.c  object JSON: names, normalising, generation, status
 *   ports.c    loopback port reservations
 *   probe.c    AUTH + PING (and the replication link) over a socket
 *   servers.c  server configs, start, stop, observe
 */
#ifndef VALKEYADDON_TRANSPORT_LOCAL_H
#define VALKEYADDON_TRANSPORT_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "valkeyaddon/transports.h"

/* The plans have at most three replicas; ordinals beyond are never started. */
#define VALKEYADDON__LOCAL_MAX_REPLICAS 3

struct valkeyaddon__local {
    valkeyaddon_transport base; /* first: the vtable pointer is the object pointer */
    char *state_dir;            /* absolute */
    char *server_path;          /* as the caller gave it, or NULL: looked up on PATH when first needed */
    char *server_exe;           /* the binary to exec (its name selects the mode: keep symlinks), once looked up */
    char *server_real;          /* its realpath(): what /proc/PID/exe of our servers shows */
    long start_timeout_ms;
    long lock_timeout_ms; /* how long lock() waits for another process */
    int lock_fd;
};

/* store.c */

/* state_dir joined with the parts (NULL-terminated) by '/'; valkeyaddon__malloc'd, NULL on ENOMEM. */
char *valkeyaddon__local_path(const struct valkeyaddon__local *l, ...);
/* objects/{ns}/{plural}/{name}.json; NULL on ENOMEM. */
char *valkeyaddon__local_object_path(const struct valkeyaddon__local *l, const char *plural, const char *ns,
                                     const char *name);
/* 1 when a name is safe as one path component: 1-253 of [a-z0-9.-], not starting with '.'. */
int valkeyaddon__local_safe_name(const char *name);
/* mkdir -p with mode 0700 for what it creates. 0 or VALKEYADDON_EIO (errno set). */
int valkeyaddon__local_mkdirs(const char *dir);
/* The whole file, NUL-terminated. 0, VALKEYADDON_ENOTFOUND, VALKEYADDON_EIO (errno set), VALKEYADDON_ENOMEM. */
int valkeyaddon__local_read(char **data, size_t *len, const char *path);
/* Atomically replace path (a temp file, fsync, rename), mode 0600, parents 0700. 0, EIO (errno set), ENOMEM. */
int valkeyaddon__local_write(const char *path, const char *data, size_t len);
/* rm -rf; 0 (also when absent) or VALKEYADDON_EIO (errno set). */
int valkeyaddon__local_remove_tree(const char *path);
/* 1 when path exists. */
int valkeyaddon__local_exists(const char *path);
/* Wipe and free a file's content that may hold a password. */
void valkeyaddon__local_free_data(char *data, size_t len);

/* objects.c */

/* metadata.name of a JSON body, copied into name. 0, VALKEYADDON_EREJECTED, VALKEYADDON_ENOMEM. */
int valkeyaddon__local_body_name(char *name, size_t size, const char *json, size_t len);
/* Parse len bytes of JSON (copied, wiped afterwards). NULL when invalid or out of memory. */
yajl_val valkeyaddon__local_parse(const char *json, size_t len);
/* 1 when two JSON values are equal (objects compared by key, in any order). */
int valkeyaddon__local_json_equal(yajl_val a, yajl_val b);

/* 1 when two objects are equal but for metadata and status (both objects). */
int valkeyaddon__local_same_content(yajl_val a, yajl_val b);

/* What a StatefulSet's status reports (servers.c fills it, objects.c writes it). */
struct valkeyaddon__local_status {
    int32_t replicas, ready, updated;
};

/*
 * The stored form of an object: the body without any `status`, with
 * metadata.generation set; with status, a StatefulSet's status added (the
 * observed generation is the generation: realising is synchronous).
 * *out is valkeyaddon__malloc'd (wipe it: it may be a Secret).
 * 0, VALKEYADDON_EREJECTED (not an object, or a non-integer number), ENOMEM.
 */
int valkeyaddon__local_render(char **out, size_t *out_len, yajl_val root, long long generation,
                              const struct valkeyaddon__local_status *status, const char *name);

/* ports.c */

/* The Service's port: the recorded one, else (allocate) a newly reserved free one; 0 when none and !allocate. */
int valkeyaddon__local_service_port(int *port, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                                    const char *service, int allocate);
/* The same for a replica server (ordinal >= 1) of a StatefulSet. */
int valkeyaddon__local_replica_port(int *port, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                                    const char *name, int ordinal, int allocate);
/* Drop the Service's (or replica's, ordinal >= 1) record and reservation; absent is fine. */
int valkeyaddon__local_release_port(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                                    const char *name, int ordinal);
/* 1 when nobody listens on 127.0.0.1:port (we could bind it), 0 when taken. */
int valkeyaddon__local_port_is_free(int port);

/* probe.c */

enum {
    VALKEYADDON__PROBE_DOWN = 0,    /* no connection */
    VALKEYADDON__PROBE_LOADING = 1, /* answers, still loading its dataset */
    VALKEYADDON__PROBE_UP = 2,      /* AUTH and PING answered PONG (a replica: link not up) */
    VALKEYADDON__PROBE_READY = 3    /* PONG, and a replica's link to its primary is up */
};
/* Ask 127.0.0.1:port; with replica, also INFO replication. Never fails: the answer is the state. */
int valkeyaddon__local_probe(int port, const char *password, int replica, long timeout_ms);
/* Send one command (after AUTH); 0 when it answered +OK, else VALKEYADDON_EUNAVAILABLE. */
int valkeyaddon__local_command(int port, const char *password, const char *const *argv, int argc, long timeout_ms);

/* servers.c */

/* Make the servers match the stored StatefulSet (root): start, restart on a changed config, stop extras. */
int valkeyaddon__local_converge(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns, const char *name,
                                yajl_val statefulset);
/* Stop every server of a StatefulSet; with remove_data, delete their data too. *found: anything was there. */
int valkeyaddon__local_teardown(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns, const char *name,
                                int remove_data, int *found);
/* The status of replicas servers, from the processes and a real probe of each. */
void valkeyaddon__local_observe(struct valkeyaddon__local_status *status, struct valkeyaddon__local *l,
                                const char *ns, const char *name, int32_t replicas);
/* 1 when a live server of ours uses the volume claim's directory (data-{name}-{ordinal}). */
int valkeyaddon__local_claim_in_use(struct valkeyaddon__local *l, const char *ns, const char *claim);

#endif
