/* The sweep driver and its fixture (sweep.h). */
#define _XOPEN_SOURCE 700
#include "sweep.h"

#include <stdlib.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "../support/counting_transport.h"
#include "../support/files.h"

/* No call the sweep covers makes anywhere near this many allocations. */
#define MAX_STEPS 20000

/* ---- the cluster: the counting transport (tests/support), keeping a list of its objects ---- */

#define MAX_OBJECTS 32

struct object_key {
    char kind[32];
    char namespace_[64];
    char name[VALKEYADDON_NAME_BUFSIZE];
};

struct cluster {
    struct counting_transport base; /* first: the context frees it as one */
    struct object_key objects[MAX_OBJECTS];
    int n;
};

static int find_object(struct cluster *c, const char *kind, const char *ns, const char *name)
{
    int i;

    for (i = 0; i < c->n; i++)
        if (strcmp(c->objects[i].kind, kind) == 0 && strcmp(c->objects[i].namespace_, ns) == 0 &&
            strcmp(c->objects[i].name, name) == 0)
            return i;
    return -1;
}

/* After the memory transport accepted a write or a removal: keep the list of objects. */
static void on_change(struct counting_transport *t, enum counting_op op, const valkeyaddon_resource *r,
                      const char *ns, const char *name)
{
    struct cluster *c = (struct cluster *)t;
    struct object_key *k;
    int i = find_object(c, r->kind, ns, name);

    if (op == COUNTING_REMOVE) {
        if (i >= 0)
            c->objects[i] = c->objects[--c->n];
        return;
    }
    if (i >= 0)
        return;
    assert_true(c->n < MAX_OBJECTS);
    k = &c->objects[c->n++];
    snprintf(k->kind, sizeof(k->kind), "%s", r->kind);
    snprintf(k->namespace_, sizeof(k->namespace_), "%s", ns);
    snprintf(k->name, sizeof(k->name), "%s", name);
}

static struct cluster *cluster_new(void)
{
    struct cluster *c = (struct cluster *)counting_transport_new(sizeof(struct cluster));

    /* What a cluster's controller would have reported by now: every replica ready. */
    c->base.readiness = COUNTING_ALL_READY;
    c->base.on_change = on_change;
    return c;
}

int cluster_objects(struct cluster *c)
{
    return c->n;
}

/* Replace the value of every "key":"value" after marker, up to the closing brace (or only the first). */
static void mask_after(char *json, const char *marker, int whole_object)
{
    char *p = strstr(json, marker), *end;

    if (!p)
        return;
    p += strlen(marker);
    for (;;) {
        if (whole_object) {
            /* p at "key":"value" ... ; find the value's opening quote */
            if (*p != '"')
                return;
            p = strchr(p + 1, '"'); /* end of key */
            if (!p || p[1] != ':' || p[2] != '"')
                return;
            p += 3;
        }
        end = strchr(p, '"');
        if (!end)
            return;
        memset(p, '*', (size_t)(end - p));
        if (!whole_object || end[1] != ',')
            return;
        p = end + 2;
    }
}

static int compare_keys(const void *a, const void *b)
{
    const struct object_key *x = a, *y = b;
    int d = strcmp(x->kind, y->kind);

    return d ? d : strcmp(x->name, y->name);
}

char *cluster_snapshot(struct cluster *c)
{
    struct object_key keys[MAX_OBJECTS];
    size_t size = 1, used = 0;
    char *text = malloc(1);
    int i;

    assert_non_null(text);
    text[0] = '\0';
    memcpy(keys, c->objects, sizeof(keys[0]) * (size_t)c->n);
    qsort(keys, (size_t)c->n, sizeof(keys[0]), compare_keys);
    for (i = 0; i < c->n; i++) {
        valkeyaddon_resource r = { "", keys[i].kind, "", 1 };
        valkeyaddon_buffer *buf = NULL;
        char *json;
        size_t len;

        assert_int_equal(valkeyaddon_buffer_new(&buf), 0);
        assert_int_equal(c->base.inner->get(buf, c->base.inner, NULL, &r, keys[i].namespace_, keys[i].name), 0);
        json = strdup(valkeyaddon_buffer_data(buf, &len));
        assert_non_null(json);
        valkeyaddon_buffer_free(buf);
        if (strcmp(keys[i].kind, "Secret") == 0) {
            /* The password is new in every run that creates the auth Secret. */
            mask_after(json, "\"data\":{", 1);
            mask_after(json, "\"valkeyaddon.io/applied-hash\":\"", 0);
        }
        /* So is the credential id beside it, which the pod template carries too (and the stamp covers). */
        if (strstr(json, "\"valkeyaddon.io/credential-id\":\"")) {
            char *id = strstr(json, "\"valkeyaddon.io/credential-id\":\"");
            mask_after(id, "\"valkeyaddon.io/credential-id\":\"", 0);
            mask_after(json, "\"valkeyaddon.io/applied-hash\":\"", 0);
            if ((id = strstr(id + 1, "\"valkeyaddon.io/credential-id\":\"")))
                mask_after(id, "\"valkeyaddon.io/credential-id\":\"", 0);
        }
        size += strlen(keys[i].kind) + strlen(keys[i].name) + len + 8;
        text = realloc(text, size);
        assert_non_null(text);
        used += (size_t)sprintf(text + used, "%s %s: %s\n", keys[i].kind, keys[i].name, json);
        free(json);
    }
    return text;
}

/* ---- checks ---- */

void assert_sane_message(const char *message)
{
    const char *p;

    if (!message[0])
        fail_msg("the failure left no message on the context");
    for (p = message; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            fail_msg("the message has a control or non-ASCII byte: \"%s\"", message);
    if (strstr(message, "(null)"))
        fail_msg("the message prints a NULL: \"%s\"", message);
    if (strstr(message, "redis://default:") || strstr(message, "password=") || strstr(message, "sweep-token"))
        fail_msg("the message holds a secret: \"%s\"", message);
}

/* The value of data.KEY of a Secret in the cluster, decoded (base64 by hand: the test has no other need of it). */
static char *secret_value(struct cluster *c, const char *name, const char *key)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    valkeyaddon_resource r = { "v1", "Secret", "secrets", 1 };
    const char *path[] = { "data", key, NULL };
    valkeyaddon_buffer *buf = NULL;
    yajl_val root, v;
    const char *s;
    char *out, *o;
    unsigned bits = 0, nbits = 0;

    assert_int_equal(valkeyaddon_buffer_new(&buf), 0);
    assert_int_equal(c->base.inner->get(buf, c->base.inner, NULL, &r, NS, name), 0);
    root = yajl_tree_parse(valkeyaddon_buffer_data(buf, NULL), NULL, 0);
    assert_non_null(root);
    v = yajl_tree_get(root, path, yajl_t_string);
    assert_non_null(v);
    out = o = calloc(1, strlen(v->u.string) + 1);
    assert_non_null(out);
    for (s = v->u.string; *s && *s != '='; s++) {
        const char *at = strchr(alphabet, *s);
        assert_non_null(at);
        bits = (bits << 6) | (unsigned)(at - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            *o++ = (char)((bits >> nbits) & 0xff);
        }
    }
    yajl_tree_free(root);
    valkeyaddon_buffer_free(buf);
    return out;
}

void assert_redis_url_consistent(struct fx *f)
{
    char name[VALKEYADDON_NAME_BUFSIZE], auth[VALKEYADDON_NAME_BUFSIZE], app[VALKEYADDON_NAME_BUFSIZE];
    char *uri, *password, *url;

    assert_true(valkey_name(name, sizeof(name), NULL, TENANT, APP) >= 0);
    assert_int_equal(valkeyaddon_auth_secret_name(auth, sizeof(auth), NULL, name), 0);
    assert_int_equal(valkeyaddon_redis_url_secret_name(app, sizeof(app), NULL, APP), 0);
    uri = secret_value(f->cluster, auth, "uri");
    password = secret_value(f->cluster, auth, "password");
    url = secret_value(f->cluster, app, "REDIS_URL");
    assert_string_equal(url, uri);
    assert_true(strlen(password) >= 16);
    assert_non_null(strstr(uri, password));
    /* Nothing secret reached the log. */
    assert_null(strstr(f->log.all, password));
    free(uri);
    free(password);
    free(url);
}

/* ---- fixture ---- */

void fx_ctx(struct fx *f)
{
    f->ctx = new_capturing_ctx(&f->log, VALKEYADDON_LOG_DEBUG);
}

void fx_cluster(struct fx *f)
{
    if (!f->ctx)
        fx_ctx(f);
    f->cluster = cluster_new();
    assert_int_equal(valkeyaddon_ctx_set_transport(f->ctx, &f->cluster->base.base), 0);
}

void fx_memory_storage(struct fx *f)
{
    valkeyaddon_storage *s = NULL;

    if (!f->ctx)
        fx_ctx(f);
    assert_int_equal(valkeyaddon_storage_memory_new(&s), 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(f->ctx, s), 0);
}

void fx_tempdir(struct fx *f)
{
    snprintf(f->dir, sizeof(f->dir), "%s/valkeyaddon-oom-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
}

void fx_sqlite_storage(struct fx *f)
{
    valkeyaddon_storage *s = NULL;

    if (!f->ctx)
        fx_ctx(f);
    if (!f->dir[0])
        fx_tempdir(f);
    snprintf(f->path, sizeof(f->path), "%s/addons.db", f->dir);
    if (valkeyaddon_storage_sqlite_new(&s, f->ctx, f->path) != 0)
        fail_msg("sqlite: %s", valkeyaddon_ctx_error_message(f->ctx));
    assert_int_equal(valkeyaddon_ctx_set_storage(f->ctx, s), 0);
}

void fx_teardown(struct fx *f)
{
    valkeyaddon_buffer_free(f->buf);
    if (f->transport)
        f->transport->free(f->transport);
    if (f->storage)
        f->storage->free(f->storage);
    valkeyaddon_ctx_free(f->ctx);
    if (f->dir[0])
        remove_tree(f->dir);
}

/* ---- the driver ---- */

static const char *mode_name(enum oom_mode mode)
{
    return mode == OOM_STICKY ? "and every later allocation" : "only";
}

static void check_no_leak(const struct oom_case *c, const char *when, long n, enum oom_mode mode, long before,
                          long mark)
{
    long live = oom_live();

    if (live != before)
        fail_msg("%s: %ld block(s) leaked after %s (allocation %ld failed, %s); the first was allocation #%ld "
                 "since process start",
                 c->name, live - before, when, n, mode_name(mode), oom_first_live_serial(mark));
}

/*
 * VALKEYADDON_OOM_TRAP="N:case name" (N negative for the sticky mode) raises
 * SIGTRAP where that step's allocation fails: run the test under gdb for the
 * backtrace (docs/allocation-failure.md).
 */
static int is_trapped(const struct oom_case *c, long n, enum oom_mode mode)
{
    const char *trap = getenv("VALKEYADDON_OOM_TRAP");
    char *name;
    long at;

    if (!trap)
        return 0;
    at = strtol(trap, &name, 10);
    return *name == ':' && strcmp(name + 1, c->name) == 0 && at == (mode == OOM_STICKY ? -n : n);
}

long oom_sweep(const struct oom_case *c, enum oom_mode mode)
{
    long n, made;
    int rc;

    for (n = 1; n <= MAX_STEPS; n++) {
        struct fx f;
        long before = oom_live(), mark = oom_serial();

        memset(&f, 0, sizeof(f));
        if (c->setup)
            c->setup(&f);
        oom_set_trap(is_trapped(c, n, mode));
        oom_arm(n, mode);
        rc = c->call(&f);
        made = oom_disarm();
        if (!oom_injected() || (c->may_absorb && rc == c->final_rc)) {
            if (rc != c->final_rc)
                fail_msg("%s: returned %d (%s: %s) with no allocation failing, expected %d", c->name, rc,
                         valkeyaddon_strerror(rc), valkeyaddon_ctx_error_message(f.ctx), c->final_rc);
            if (c->check)
                c->check(&f, rc, 0);
            fx_teardown(&f);
            check_no_leak(c, "the successful call", n, mode, before, mark);
            if (oom_injected())
                continue; /* absorbed: the sweep goes on */
            return made;
        }
        if (rc != VALKEYADDON_ENOMEM && (!c->other_rc || rc != c->other_rc))
            fail_msg("%s: allocation %ld failed (%s) but the call returned %d (%s): \"%s\"", c->name, n,
                     mode_name(mode), rc, valkeyaddon_strerror(rc), valkeyaddon_ctx_error_message(f.ctx));
        if (!c->no_ctx && f.ctx) {
            if (valkeyaddon_ctx_error_code(f.ctx) != rc)
                fail_msg("%s: allocation %ld failed (%s): returned %d but the context says %d (\"%s\")", c->name,
                         n, mode_name(mode), rc, valkeyaddon_ctx_error_code(f.ctx),
                         valkeyaddon_ctx_error_message(f.ctx));
            assert_sane_message(valkeyaddon_ctx_error_message(f.ctx));
        }
        if (c->check)
            c->check(&f, rc, 1);
        fx_teardown(&f);
        check_no_leak(c, "the failed call", n, mode, before, mark);
    }
    fail_msg("%s: still failing after %d allocations", c->name, MAX_STEPS);
    return -1;
}

void oom_expect_no_allocation(const struct oom_case *c)
{
    struct fx f;
    long before = oom_live(), made;
    int rc;

    memset(&f, 0, sizeof(f));
    if (c->setup)
        c->setup(&f);
    /* Fail the first allocation and every later one: a call that allocates shows it at once. */
    oom_arm(1, OOM_STICKY);
    rc = c->call(&f);
    made = oom_disarm();
    if (made != 0)
        fail_msg("%s: made %ld allocation(s); expected none", c->name, made);
    if (rc != c->final_rc)
        fail_msg("%s: returned %d, expected %d", c->name, rc, c->final_rc);
    if (c->check)
        c->check(&f, rc, 0);
    fx_teardown(&f);
    if (oom_live() != before)
        fail_msg("%s: the live block count changed by %ld", c->name, oom_live() - before);
}

void cluster_put(struct cluster *c, const valkeyaddon_resource *r, const char *ns, const char *json)
{
    valkeyaddon_transport *t = &c->base.base;

    /* Through the cluster, so the object is listed; the allocator is not armed here. */
    assert_int_equal(t->create(NULL, t, NULL, r, ns, json, strlen(json)), 0);
}
