/*
 * bench/plan: the requests every client of the side-by-side benchmark sends,
 * written before any clock starts (bench/README.md).
 *
 * It runs the same call as bench/ours (valkeyaddon_provision, no_wait, memory
 * storage, the same ids and plan) over a transport that records each call and
 * keeps the objects in the memory transport, then turns the calls into the
 * HTTP requests the Kubernetes transport sends for them (method, path, query,
 * content type, body: libvalkeyaddon/transport/kubernetes/kubernetes.c). The
 * raw libcurl loop and the peers replay these lines; the runner checks against
 * the server's request log that ours really sent the same sequence.
 *
 * One JSON object per line: round ("create" or "nochange"), app, method, path,
 * query, content_type (null for GET), api_version, kind, namespace, name,
 * field_manager, force, expect (the status a correct run gets: 404 for the
 * first read of the auth Secret), body (null for GET). The "nochange" round
 * is what a client without a request economy sends again: the auth Secret's
 * read (for its password) and every apply.
 *
 * The file holds test passwords: it is created with mode 0600.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <valkeyaddon.h>

#include "app.h"

#define MAX_CALLS 16

struct call {
    const char *method;
    const valkeyaddon_resource *resource;
    char *ns, *name, *body;
    size_t body_len;
    char field_manager[128];
    int force;
    int expect;
};

struct recorder {
    valkeyaddon_transport base;
    valkeyaddon_transport *inner;
    struct call calls[MAX_CALLS];
    int ncalls;
};

static void fail(const char *what, valkeyaddon_ctx *ctx)
{
    fprintf(stderr, "bench/plan: %s: %s\n", what, ctx ? valkeyaddon_ctx_error_message(ctx) : strerror(errno));
    exit(1);
}

static char *dup_bytes(const char *data, size_t len)
{
    char *p = malloc(len + 1);

    if (!p) {
        fprintf(stderr, "bench/plan: out of memory\n");
        exit(1);
    }
    memcpy(p, data, len);
    p[len] = '\0';
    return p;
}

static struct call *record(struct recorder *r, const char *method, const valkeyaddon_resource *resource,
                           const char *ns, const char *name, const char *json, size_t len)
{
    struct call *c;

    if (r->ncalls == MAX_CALLS) {
        fprintf(stderr, "bench/plan: more than %d calls for one app\n", MAX_CALLS);
        exit(1);
    }
    c = &r->calls[r->ncalls++];
    memset(c, 0, sizeof(*c));
    c->method = method;
    c->resource = resource;
    c->ns = dup_bytes(ns, strlen(ns));
    c->name = name ? dup_bytes(name, strlen(name)) : NULL;
    if (json) {
        c->body = dup_bytes(json, len);
        c->body_len = len;
    }
    return c;
}

static int rec_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                   const valkeyaddon_resource *resource, const char *ns, const char *name)
{
    struct recorder *r = self->user_data;
    struct call *c = record(r, "GET", resource, ns, name, NULL, 0);
    int error = r->inner->get(out, r->inner, ctx, resource, ns, name);

    c->expect = error == VALKEYADDON_ENOTFOUND ? 404 : 200;
    return error;
}

static int rec_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *resource, const char *ns, const char *json, size_t len)
{
    struct recorder *r = self->user_data;
    struct call *c = record(r, "POST", resource, ns, NULL, json, len);

    c->expect = 201;
    return r->inner->create(out, r->inner, ctx, resource, ns, json, len);
}

static int rec_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                     const valkeyaddon_resource *resource, const char *ns, const char *name, const char *json,
                     size_t len, const char *field_manager, int force)
{
    struct recorder *r = self->user_data;
    struct call *c = record(r, "PATCH", resource, ns, name, json, len);

    snprintf(c->field_manager, sizeof(c->field_manager), "%s", field_manager);
    c->force = force;
    c->expect = 201;
    return r->inner->apply(out, r->inner, ctx, resource, ns, name, json, len, field_manager, force);
}

static int rec_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                      const char *ns, const char *name, unsigned int flags)
{
    (void)self;
    (void)resource;
    (void)ns;
    (void)name;
    (void)flags;
    return valkeyaddon_ctx_set_error(ctx, VALKEYADDON_ERROR, "bench/plan: a provision must not delete");
}

static void rec_free(valkeyaddon_transport *self)
{
    struct recorder *r = self->user_data;

    r->inner->free(r->inner);
}

/* The created object's name is in its body (a POST names no object in its path). */
static char *body_name(const struct call *c)
{
    static const char *path[] = { "metadata", "name", NULL };
    char err[128];
    yajl_val root = yajl_tree_parse(c->body, err, sizeof(err));
    const char *name = root ? YAJL_GET_STRING(yajl_tree_get(root, path, yajl_t_string)) : NULL;
    char *out;

    if (!name) {
        fprintf(stderr, "bench/plan: a created body has no metadata.name\n");
        exit(1);
    }
    out = dup_bytes(name, strlen(name));
    yajl_tree_free(root);
    return out;
}

static void gen_str(yajl_gen g, const char *s)
{
    if (s)
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
    else
        yajl_gen_null(g);
}

static void gen_key(yajl_gen g, const char *k, const char *v)
{
    gen_str(g, k);
    gen_str(g, v);
}

/* The URL path and query exactly as valkeyaddon__kube_url() and kube_apply() build them. */
static void write_line(FILE *f, const char *round, const char *app, const struct call *c, int expect)
{
    char path[512], query[256] = "";
    const char *prefix = strchr(c->resource->api_version, '/') ? "/apis/" : "/api/";
    char *created_name = NULL;
    const unsigned char *buf;
    size_t len;
    yajl_gen g = yajl_gen_alloc(NULL);

    if (c->name && strcmp(c->method, "POST") != 0)
        snprintf(path, sizeof(path), "%s%s/namespaces/%s/%s/%s", prefix, c->resource->api_version, c->ns,
                 c->resource->plural, c->name);
    else
        snprintf(path, sizeof(path), "%s%s/namespaces/%s/%s", prefix, c->resource->api_version, c->ns,
                 c->resource->plural);
    if (strcmp(c->method, "PATCH") == 0) {
        /* curl_easy_escape() leaves only [A-Za-z0-9-._~] as is; field managers here are plain. */
        if (strspn(c->field_manager, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") !=
            strlen(c->field_manager)) {
            fprintf(stderr, "bench/plan: the field manager needs URL escaping; not supported here\n");
            exit(1);
        }
        snprintf(query, sizeof(query), "fieldManager=%s%s", c->field_manager, c->force ? "&force=true" : "");
    }
    if (!g) {
        fprintf(stderr, "bench/plan: out of memory\n");
        exit(1);
    }
    yajl_gen_map_open(g);
    gen_key(g, "round", round);
    gen_key(g, "app", app);
    gen_key(g, "method", c->method);
    gen_key(g, "path", path);
    gen_key(g, "query", query);
    gen_key(g, "content_type", strcmp(c->method, "POST") == 0    ? "application/json"
                               : strcmp(c->method, "PATCH") == 0 ? "application/apply-patch+yaml"
                                                                  : NULL);
    gen_key(g, "api_version", c->resource->api_version);
    gen_key(g, "kind", c->resource->kind);
    gen_key(g, "namespace", c->ns);
    if (!c->name)
        created_name = body_name(c);
    gen_key(g, "name", c->name ? c->name : created_name);
    gen_key(g, "field_manager", c->field_manager[0] ? c->field_manager : NULL);
    gen_str(g, "force");
    yajl_gen_bool(g, c->force);
    gen_str(g, "expect");
    yajl_gen_integer(g, expect);
    gen_str(g, "body");
    if (c->body)
        yajl_gen_string(g, (const unsigned char *)c->body, c->body_len);
    else
        yajl_gen_null(g);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &buf, &len);
    if (fwrite(buf, 1, len, f) != len || fputc('\n', f) == EOF)
        fail("writing the plan", NULL);
    yajl_gen_free(g);
    free(created_name);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench/plan --namespace NS --tenant ID --apps N --plan PLAN --out FILE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct bench_args args;
    valkeyaddon_ctx *ctx;
    valkeyaddon_storage *storage;
    struct recorder rec;
    long i;
    int fd;
    FILE *f;

    bench_parse_args(&args, argc, argv, usage);
    if (!args.out || args.kubeconfig)
        usage();

    if ((fd = open(args.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 || !(f = fdopen(fd, "w")))
        fail(args.out, NULL);
    if (valkeyaddon_ctx_new(&ctx, NULL) < 0)
        fail("valkeyaddon_ctx_new", NULL);
    memset(&rec, 0, sizeof(rec));
    if (valkeyaddon_transport_memory_new(&rec.inner) < 0)
        fail("valkeyaddon_transport_memory_new", ctx);
    rec.base.version = 1; /* no `address`: the Service's cluster DNS name, as with a cluster */
    rec.base.user_data = &rec;
    rec.base.get = rec_get;
    rec.base.create = rec_create;
    rec.base.apply = rec_apply;
    rec.base.remove = rec_remove;
    rec.base.free = rec_free;
    if (valkeyaddon_ctx_set_transport(ctx, &rec.base) < 0)
        fail("valkeyaddon_ctx_set_transport", ctx);
    if (valkeyaddon_storage_memory_new(&storage) < 0 || valkeyaddon_ctx_set_storage(ctx, storage) < 0)
        fail("the memory storage", ctx);

    for (i = 0; i < args.apps; i++) {
        valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;
        char app[32];
        int j;

        bench_provision_options(&o, app, &args, i);
        rec.ncalls = 0;
        if (valkeyaddon_provision(NULL, NULL, ctx, &o) < 0)
            fail("valkeyaddon_provision", ctx);
        for (j = 0; j < rec.ncalls; j++)
            write_line(f, "create", app, &rec.calls[j], rec.calls[j].expect);
        /* The no-change round of a client without an economy: read the auth Secret, apply everything again. */
        for (j = 0; j < rec.ncalls; j++) {
            struct call *c = &rec.calls[j];
            if (strcmp(c->method, "GET") == 0 && j == 0)
                write_line(f, "nochange", app, c, 200);
            else if (strcmp(c->method, "PATCH") == 0)
                write_line(f, "nochange", app, c, 200);
        }
        for (j = 0; j < rec.ncalls; j++) {
            struct call *c = &rec.calls[j];
            free(c->ns);
            free(c->name);
            free(c->body);
        }
    }
    valkeyaddon_ctx_free(ctx);
    if (fclose(f) != 0)
        fail("writing the plan", NULL);
    return 0;
}
