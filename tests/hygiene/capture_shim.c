/*
 * The secret-hygiene capture shim (docs/secret-hygiene.md). A test helper,
 * never part of the library and never installed. `make check` preloads it
 * (LD_PRELOAD) into every test process. Where $VALKEYADDON_CAPTURE_DIR is
 * set, in each process that calls libvalkeyaddon through its dynamic
 * symbols, it:
 *
 * - gives every context a log callback at VALKEYADDON_LOG_DEBUG that appends
 *   each line to DIR/<pid>.log, and passes the line on to the caller's own
 *   callback at the caller's level (valkeyaddon_ctx_new and _set_log are
 *   wrapped, so a test that sets its own callback still gets its lines);
 * - appends each non-empty valkeyaddon_ctx_error_message() to DIR/<pid>.log;
 * - in the command-line tool, appends what it writes to stderr to DIR/<pid>.log;
 * - records the secrets that pass through, hex-encoded, in DIR/<pid>.secrets
 *   (mode 0600): the Secret data that a transport writes or reads (password,
 *   uri, REDIS_URL), valkeyaddon_redis_url() results, and the database
 *   password from a conninfo or URL.
 *
 * tests/hygiene/test_hygiene.py runs last and scans all of this, and every
 * test log, for those secrets. Nothing here prints a secret.
 *
 * The real functions are found with dlvsym(RTLD_NEXT, name, "VALKEYADDON_1.0").
 * If the library was opened RTLD_LOCAL (Python's ctypes), RTLD_NEXT does not
 * see it. The shim then opens the loaded copy again with RTLD_NOLOAD. Programs
 * that link libvalkeyaddon-internal.la statically are not covered: their calls
 * never go through the dynamic linker.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include <valkeyaddon.h>

#define VERSION_NODE "VALKEYADDON_1.0"
#define MIN_SECRET 8 /* shorter values (ports, "default") are not secrets worth matching */

static char capture_dir[512];
static int capture_on;
static int in_cli; /* this process is tools/valkeyaddon: its stderr is captured too */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- finding the real functions ---- */

static int find_library(struct dl_phdr_info *info, size_t size, void *data)
{
    const char *name = info->dlpi_name;
    (void)size;
    if (name && strstr(name, "libvalkeyaddon.so")) {
        snprintf(data, 512, "%s", name);
        return 1;
    }
    return 0;
}

static void *real(const char *name)
{
    char path[512] = "";
    void *p = dlvsym(RTLD_NEXT, name, VERSION_NODE), *h;

    if (p)
        return p;
    if ((p = dlsym(RTLD_NEXT, name)) && p != dlsym(RTLD_DEFAULT, name))
        return p;
    dl_iterate_phdr(find_library, path);
    if (path[0] && (h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD))) {
        p = dlvsym(h, name, VERSION_NODE);
        dlclose(h);
        return p;
    }
    return NULL;
}

#define REAL(var, name)                                                        \
    do {                                                                       \
        if (!var)                                                              \
            *(void **)&var = real(name);                                       \
    } while (0)

/* ---- files ---- */

static void append(const char *suffix, const char *text, size_t len)
{
    char path[600];
    int fd, saved = errno;

    snprintf(path, sizeof(path), "%s/%ld.%s", capture_dir, (long)getpid(), suffix);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        while (len) {
            ssize_t n = write(fd, text, len);
            if (n <= 0)
                break;
            text += n;
            len -= (size_t)n;
        }
        close(fd);
    }
    errno = saved;
}

static void capture_line(const char *tag, const char *message)
{
    size_t len = strlen(tag) + strlen(message) + 3;
    char *line = malloc(len);

    if (!line)
        return;
    snprintf(line, len, "%s\t%s\n", tag, message);
    append("log", line, strlen(line));
    free(line);
}

static void record_secret(const char *value, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *line;
    size_t i;

    if (!capture_on || len < MIN_SECRET)
        return;
    if (!(line = malloc(len * 2 + 2)))
        return;
    for (i = 0; i < len; i++) {
        line[2 * i] = hex[(unsigned char)value[i] >> 4];
        line[2 * i + 1] = hex[(unsigned char)value[i] & 15];
    }
    line[2 * len] = '\n';
    append("secrets", line, len * 2 + 1);
    memset(line, 0, len * 2 + 1);
    free(line);
}

/* A redis:// URL and the password inside it (between "user:" and "@"). */
static void record_url(const char *url, size_t len)
{
    const char *scheme = memchr(url, ':', len), *at, *colon;

    record_secret(url, len);
    if (!scheme || (size_t)(scheme - url) + 3 > len || memcmp(scheme, "://", 3) != 0)
        return;
    scheme += 3;
    at = memchr(scheme, '@', len - (size_t)(scheme - url));
    if (!at)
        return;
    colon = memchr(scheme, ':', (size_t)(at - scheme));
    if (colon)
        record_secret(colon + 1, (size_t)(at - colon - 1));
}

/* ---- Secret objects ---- */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

static size_t b64_decode(char *out, const char *in)
{
    unsigned int acc = 0;
    int bits = 0, v;
    size_t n = 0;

    for (; *in; in++) {
        if ((v = b64_value((unsigned char)*in)) < 0)
            continue;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return n;
}

static int secret_key(const char *key)
{
    return !strcmp(key, "password") || !strcmp(key, "uri") || !strcmp(key, "REDIS_URL");
}

static void record_value(const char *key, const char *value, int encoded)
{
    size_t len = strlen(value);
    char *plain;

    if (!(plain = malloc(len + 1)))
        return;
    if (encoded)
        len = b64_decode(plain, value);
    else
        memcpy(plain, value, len + 1);
    if (secret_key(key) || strstr(plain, "://"))
        record_url(plain, len); /* a bare password has no "://": recorded whole */
    memset(plain, 0, len);
    free(plain);
}

static void record_map(yajl_val root, const char *field, int encoded)
{
    const char *path[] = { field, NULL };
    yajl_val map = yajl_tree_get(root, path, yajl_t_object);
    size_t i;

    if (!map)
        return;
    for (i = 0; i < map->u.object.len; i++)
        if (YAJL_IS_STRING(map->u.object.values[i]))
            record_value(map->u.object.keys[i], YAJL_GET_STRING(map->u.object.values[i]), encoded);
}

static void record_secret_object(const valkeyaddon_resource *r, const char *json, size_t len)
{
    char *copy;
    yajl_val root;

    if (!capture_on || !r || !r->kind || strcmp(r->kind, "Secret") != 0 || !json || !len)
        return;
    if (!(copy = malloc(len + 1)))
        return;
    memcpy(copy, json, len);
    copy[len] = '\0';
    if ((root = yajl_tree_parse(copy, NULL, 0))) {
        record_map(root, "data", 1);
        record_map(root, "stringData", 0);
        yajl_tree_free(root);
    }
    memset(copy, 0, len);
    free(copy);
}

/* ---- contexts: log callbacks ---- */

struct ctx_entry {
    valkeyaddon_ctx *ctx;
    valkeyaddon_log_cb cb; /* the caller's callback, or NULL */
    void *payload;
    int level;             /* the caller's level */
    struct ctx_entry *next;
};

static struct ctx_entry *contexts;

static void shim_log(int level, const char *message, void *payload)
{
    struct ctx_entry *e = payload;
    char tag[8];

    snprintf(tag, sizeof(tag), "L%d", level);
    capture_line(tag, message);
    if (e->cb && level <= e->level)
        e->cb(level, message, e->payload);
}

static struct ctx_entry *find_ctx(const valkeyaddon_ctx *ctx)
{
    struct ctx_entry *e;

    for (e = contexts; e; e = e->next)
        if (e->ctx == ctx)
            return e;
    return NULL;
}

static int (*real_ctx_new)(valkeyaddon_ctx **, const valkeyaddon_ctx_options *);
static int (*real_set_log)(valkeyaddon_ctx *, int, valkeyaddon_log_cb, void *);
static void (*real_ctx_free)(valkeyaddon_ctx *);
static const char *(*real_error_message)(const valkeyaddon_ctx *);

int valkeyaddon_ctx_new(valkeyaddon_ctx **out, const valkeyaddon_ctx_options *options)
{
    struct ctx_entry *e;
    int rc;

    REAL(real_ctx_new, "valkeyaddon_ctx_new");
    REAL(real_set_log, "valkeyaddon_ctx_set_log");
    if (!real_ctx_new)
        return VALKEYADDON_ERROR;
    rc = real_ctx_new(out, options);
    if (rc != 0 || !capture_on || !real_set_log || !(e = calloc(1, sizeof(*e))))
        return rc;
    e->ctx = *out;
    if (options && options->version >= 1) {
        e->cb = options->log_cb;
        e->payload = options->log_payload;
        e->level = options->log_level;
    }
    pthread_mutex_lock(&lock);
    e->next = contexts;
    contexts = e;
    pthread_mutex_unlock(&lock);
    real_set_log(*out, VALKEYADDON_LOG_DEBUG, shim_log, e);
    return rc;
}

int valkeyaddon_ctx_set_log(valkeyaddon_ctx *ctx, int level, valkeyaddon_log_cb cb, void *payload)
{
    struct ctx_entry *e;
    int rc;

    REAL(real_set_log, "valkeyaddon_ctx_set_log");
    if (!real_set_log)
        return VALKEYADDON_ERROR;
    rc = real_set_log(ctx, level, cb, payload); /* the library validates, as without the shim */
    if (rc != 0 || !capture_on)
        return rc;
    pthread_mutex_lock(&lock);
    e = find_ctx(ctx);
    if (e) {
        e->cb = cb;
        e->payload = payload;
        e->level = level;
    }
    pthread_mutex_unlock(&lock);
    if (e)
        real_set_log(ctx, VALKEYADDON_LOG_DEBUG, shim_log, e);
    return rc;
}

void valkeyaddon_ctx_free(valkeyaddon_ctx *ctx)
{
    struct ctx_entry **p, *gone = NULL;

    REAL(real_ctx_free, "valkeyaddon_ctx_free");
    if (real_ctx_free)
        real_ctx_free(ctx); /* may still log (a transport's free): the entry stays until after */
    if (!ctx || !capture_on)
        return;
    pthread_mutex_lock(&lock);
    for (p = &contexts; *p; p = &(*p)->next)
        if ((*p)->ctx == ctx) {
            gone = *p;
            *p = gone->next;
            break;
        }
    pthread_mutex_unlock(&lock);
    free(gone);
}

const char *valkeyaddon_ctx_error_message(const valkeyaddon_ctx *ctx)
{
    const char *m;

    REAL(real_error_message, "valkeyaddon_ctx_error_message");
    m = real_error_message ? real_error_message(ctx) : "";
    if (capture_on && m && *m)
        capture_line("E", m);
    return m;
}

/* ---- transports: the Secret data they carry ---- */

struct transport_entry {
    valkeyaddon_transport *t;
    valkeyaddon_transport orig; /* the members as the caller set them */
    struct transport_entry *next;
};

static struct transport_entry *transports;
static int (*real_set_transport)(valkeyaddon_ctx *, valkeyaddon_transport *);
static const char *(*real_buffer_data)(const valkeyaddon_buffer *, size_t *);

static struct transport_entry *find_transport(const valkeyaddon_transport *t)
{
    struct transport_entry *e;

    pthread_mutex_lock(&lock);
    for (e = transports; e && e->t != t; e = e->next)
        ;
    pthread_mutex_unlock(&lock);
    return e;
}

static void record_buffer(const valkeyaddon_resource *r, const valkeyaddon_buffer *out)
{
    const char *data;
    size_t len = 0;

    REAL(real_buffer_data, "valkeyaddon_buffer_data");
    if (out && real_buffer_data && (data = real_buffer_data(out, &len)))
        record_secret_object(r, data, len);
}

static int shim_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                    const valkeyaddon_resource *r, const char *ns, const char *name)
{
    struct transport_entry *e = find_transport(self);
    int rc = e->orig.get(out, self, ctx, r, ns, name);

    if (rc == 0)
        record_buffer(r, out);
    return rc;
}

static int shim_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                       const valkeyaddon_resource *r, const char *ns, const char *json, size_t len)
{
    struct transport_entry *e = find_transport(self);

    record_secret_object(r, json, len);
    return e->orig.create(out, self, ctx, r, ns, json, len);
}

static int shim_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *r, const char *ns, const char *name, const char *json, size_t len,
                      const char *field_manager, int force)
{
    struct transport_entry *e = find_transport(self);

    record_secret_object(r, json, len);
    return e->orig.apply(out, self, ctx, r, ns, name, json, len, field_manager, force);
}

static void shim_transport_free(valkeyaddon_transport *self)
{
    struct transport_entry **p, *e = NULL;

    pthread_mutex_lock(&lock);
    for (p = &transports; *p; p = &(*p)->next)
        if ((*p)->t == self) {
            e = *p;
            *p = e->next;
            break;
        }
    pthread_mutex_unlock(&lock);
    if (!e)
        return;
    /* Give the transport its own members back: its free may compare them (kube_free does). */
    self->get = e->orig.get;
    self->create = e->orig.create;
    self->apply = e->orig.apply;
    self->free = e->orig.free;
    free(e);
    self->free(self);
}

int valkeyaddon_ctx_set_transport(valkeyaddon_ctx *ctx, valkeyaddon_transport *transport)
{
    struct transport_entry *e = NULL;
    int rc;

    REAL(real_set_transport, "valkeyaddon_ctx_set_transport");
    if (!real_set_transport)
        return VALKEYADDON_ERROR;
    /* Only a transport the library will accept, and not one wrapped already. */
    if (capture_on && transport && transport->version >= 1 && transport->get && transport->create &&
        transport->apply && transport->free && transport->free != shim_transport_free &&
        (e = calloc(1, sizeof(*e)))) {
        e->t = transport;
        e->orig = *transport;
        pthread_mutex_lock(&lock);
        e->next = transports;
        transports = e;
        pthread_mutex_unlock(&lock);
        transport->get = shim_get;
        transport->create = shim_create;
        transport->apply = shim_apply;
        transport->free = shim_transport_free;
    }
    rc = real_set_transport(ctx, transport);
    if (rc != 0 && e) {
        /* The caller keeps the transport: as it was. */
        struct transport_entry **p;
        *transport = e->orig;
        pthread_mutex_lock(&lock);
        for (p = &transports; *p; p = &(*p)->next)
            if (*p == e) {
                *p = e->next;
                break;
            }
        pthread_mutex_unlock(&lock);
        free(e);
    }
    return rc;
}

/* The Kubernetes transport recognises itself by its free member: answer with it restored. */
static const char *(*real_kube_namespace)(const valkeyaddon_transport *);

const char *valkeyaddon_transport_kubernetes_namespace(const valkeyaddon_transport *transport)
{
    struct transport_entry *e;
    const char *ns;

    REAL(real_kube_namespace, "valkeyaddon_transport_kubernetes_namespace");
    if (!real_kube_namespace)
        return NULL;
    if (!capture_on || !transport || !(e = find_transport(transport)))
        return real_kube_namespace(transport);
    ((valkeyaddon_transport *)transport)->free = e->orig.free;
    ns = real_kube_namespace(transport);
    ((valkeyaddon_transport *)transport)->free = shim_transport_free;
    return ns;
}

/* ---- functions that hand out secrets ---- */

static int (*real_redis_url)(valkeyaddon_buffer *, valkeyaddon_ctx *, const char *, const char *, const char *);

int valkeyaddon_redis_url(valkeyaddon_buffer *out, valkeyaddon_ctx *ctx, const char *namespace_,
                          const char *tenant_id, const char *app_id)
{
    const char *data;
    size_t len = 0;
    int rc;

    REAL(real_redis_url, "valkeyaddon_redis_url");
    REAL(real_buffer_data, "valkeyaddon_buffer_data");
    if (!real_redis_url)
        return VALKEYADDON_ERROR;
    rc = real_redis_url(out, ctx, namespace_, tenant_id, app_id);
    if (rc == 0 && capture_on && real_buffer_data && (data = real_buffer_data(out, &len)))
        record_url(data, len);
    return rc;
}

/* The password of a libpq conninfo: keyword form (password=...) or URL (user:pass@, ?password=). */
static void record_conninfo(const char *conninfo)
{
    const char *p;
    size_t len;

    if (!capture_on || !conninfo)
        return;
    if (strstr(conninfo, "://")) {
        const char *rest = strstr(conninfo, "://") + 3, *at = strchr(rest, '@'), *colon;
        if (at && (colon = memchr(rest, ':', (size_t)(at - rest))))
            record_secret(colon + 1, (size_t)(at - colon - 1));
    }
    for (p = conninfo; (p = strstr(p, "password=")); p += 9) {
        const char *v = p + 9;
        if (*v == '\'') {
            v++;
            len = strcspn(v, "'");
        } else {
            len = strcspn(v, " &");
        }
        record_secret(v, len);
    }
}

static int (*real_postgres_new)(valkeyaddon_storage **, valkeyaddon_ctx *, const valkeyaddon_postgres_options *);
static int (*real_storage_open)(valkeyaddon_storage **, valkeyaddon_ctx *, const char *);

int valkeyaddon_storage_postgres_new(valkeyaddon_storage **out, valkeyaddon_ctx *ctx,
                                     const valkeyaddon_postgres_options *options)
{
    REAL(real_postgres_new, "valkeyaddon_storage_postgres_new");
    if (!real_postgres_new)
        return VALKEYADDON_ERROR;
    if (options && options->version >= 1)
        record_conninfo(options->conninfo);
    return real_postgres_new(out, ctx, options);
}

int valkeyaddon_storage_open(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, const char *url)
{
    REAL(real_storage_open, "valkeyaddon_storage_open");
    if (!real_storage_open)
        return VALKEYADDON_ERROR;
    record_conninfo(url);
    return real_storage_open(out, ctx, url);
}

/* ---- the command-line tool's stderr ---- */

static void capture_stderr(FILE *stream, const char *text, size_t len)
{
    if (in_cli && stream == stderr && len) {
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, text, len);
            copy[len] = '\0';
            capture_line("S", copy);
            free(copy);
        }
    }
}

int vfprintf(FILE *stream, const char *fmt, va_list ap)
{
    static int (*next)(FILE *, const char *, va_list);
    char buf[2048];
    va_list copy;

    if (!next)
        *(void **)&next = dlsym(RTLD_NEXT, "vfprintf");
    if (in_cli && stream == stderr) {
        va_copy(copy, ap);
        vsnprintf(buf, sizeof(buf), fmt, copy);
        va_end(copy);
        capture_stderr(stream, buf, strlen(buf));
    }
    return next(stream, fmt, ap);
}

int fprintf(FILE *stream, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfprintf(stream, fmt, ap);
    va_end(ap);
    return rc;
}

int fputs(const char *s, FILE *stream)
{
    static int (*next)(const char *, FILE *);

    if (!next)
        *(void **)&next = dlsym(RTLD_NEXT, "fputs");
    capture_stderr(stream, s, strlen(s));
    return next(s, stream);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *stream)
{
    static size_t (*next)(const void *, size_t, size_t, FILE *);

    if (!next)
        *(void **)&next = dlsym(RTLD_NEXT, "fwrite");
    capture_stderr(stream, p, size * n);
    return next(p, size, n, stream);
}

/* ---- start ---- */

__attribute__((constructor)) static void shim_init(void)
{
    const char *dir = getenv("VALKEYADDON_CAPTURE_DIR");
    char exe[512];
    ssize_t n;

    if (!dir || !*dir || strlen(dir) >= sizeof(capture_dir))
        return;
    snprintf(capture_dir, sizeof(capture_dir), "%s", dir);
    capture_on = 1;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        const char *base;
        exe[n] = '\0';
        base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
        in_cli = !strcmp(base, "valkeyaddon") || !strcmp(base, "lt-valkeyaddon");
    }
}
