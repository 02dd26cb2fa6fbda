/*
 * kubeconfig loading with client-go's rules (config.h, docs/kubeconfig.md).
 *
 * Each file is parsed by libyaml into a document (JSON kubeconfigs are YAML
 * too) and read in place by following node indices: nothing is copied but
 * the fields used, so an alias bomb costs nothing and merging is a lookup in
 * file order (the first file defining a name wins). Scalars are wiped before
 * a document is freed: tokens and keys live there. Messages name files,
 * entries and keys, never values.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "util/base64.h"
#include "transport/kubernetes/kubeconfig.h"

/* Kubeconfigs with many embedded certificates reach a few MiB; 16 MiB is plenty. */
#define KUBECONFIG_MAX (16u * 1024u * 1024u)

/* One file of the list, parsed. */
struct kfile {
    const char *path;  /* into loader.list */
    char *dir;         /* absolute directory of the file, for its relative paths */
    yaml_document_t doc;
    int has_doc;
    yaml_node_t *root; /* a mapping, or NULL for an empty file */
};

struct loader {
    valkeyaddon_ctx *ctx;
    char *list; /* the path list, split in place */
    struct kfile *files;
    size_t count;
};

/* Where a lookup happens, for messages: `kubeconfig <path>: <kind> "<name>"`. */
struct where {
    struct kfile *kf;
    const char *kind; /* "cluster", "user", "context", or NULL for the top level */
    const char *name;
};

static int oom(valkeyaddon_ctx *ctx)
{
    return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory loading the Kubernetes configuration");
}

int valkeyaddon__kube_read_file(char **out, size_t *out_len, valkeyaddon_ctx *ctx, const char *path,
                                const char *what, size_t max, int missing_ok)
{
    char *buf = NULL, *grown;
    size_t cap = 0, len = 0;
    struct stat st;
    ssize_t n;
    int fd, e;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        e = errno;
        if (missing_ok && (e == ENOENT || e == ENOTDIR))
            return 1;
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "cannot read the %s %s: %s", what, path, strerror(e));
    }
    e = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e) {
        close(fd);
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "cannot read the %s %s: %s", what, path, strerror(e));
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0 && (unsigned long long)st.st_size <= max)
        cap = (size_t)st.st_size + 1;
    else
        cap = 4096;
    for (;;) {
        if (len + 1 >= cap) {
            size_t bigger = cap * 2;
            if (len > max)
                break;
            /* Grow by copy so the old buffer (maybe a secret) can be wiped. */
            if (!(grown = valkeyaddon__malloc(bigger))) {
                close(fd);
                valkeyaddon__free_secret(buf, cap);
                return oom(ctx);
            }
            if (buf)
                memcpy(grown, buf, len);
            valkeyaddon__free_secret(buf, cap);
            buf = grown;
            cap = bigger;
        }
        if (!buf && !(buf = valkeyaddon__malloc(cap))) {
            close(fd);
            return oom(ctx);
        }
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            valkeyaddon__free_secret(buf, cap);
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "cannot read the %s %s: %s", what, path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len > max) {
        valkeyaddon__free_secret(buf, cap);
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "the %s %s is larger than %lu bytes", what, path,
                                  (unsigned long)max);
    }
    buf[len] = '\0';
    *out = buf;
    if (out_len)
        *out_len = len;
    return VALKEYADDON_OK;
}

/* Paths. */

static char *dup_n(const char *s, size_t n)
{
    char *copy = valkeyaddon__malloc(n + 1);

    if (copy) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* dir + "/" + rest; NULL on ENOMEM. */
static char *join(const char *dir, size_t dir_len, const char *rest)
{
    size_t rest_len = strlen(rest);
    int slash = !(dir_len && dir[dir_len - 1] == '/');
    char *path = valkeyaddon__malloc(dir_len + (size_t)slash + rest_len + 1);

    if (!path)
        return NULL;
    memcpy(path, dir, dir_len);
    if (slash)
        path[dir_len] = '/';
    memcpy(path + dir_len + slash, rest, rest_len + 1);
    return path;
}

static int current_dir(char **out, valkeyaddon_ctx *ctx)
{
    size_t size = 256;
    char *buf;

    for (;;) {
        if (!(buf = valkeyaddon__malloc(size)))
            return oom(ctx);
        if (getcwd(buf, size)) {
            *out = buf;
            return VALKEYADDON_OK;
        }
        valkeyaddon__free(buf);
        if (errno != ERANGE || size >= 1u << 20)
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "cannot find the current directory: %s",
                                      strerror(errno));
        size *= 2;
    }
}

/* The absolute directory of a file (client-go resolves a file's relative paths against it). */
static int file_dir(char **out, valkeyaddon_ctx *ctx, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *cwd = NULL;
    int error;

    if (path[0] == '/') {
        if (!(*out = dup_n(path, slash == path ? 1 : (size_t)(slash - path))))
            return oom(ctx);
        return VALKEYADDON_OK;
    }
    if ((error = current_dir(&cwd, ctx)) < 0)
        return error;
    if (!slash) {
        *out = cwd;
        return VALKEYADDON_OK;
    }
    {
        char *rel = dup_n(path, (size_t)(slash - path));
        *out = rel ? join(cwd, strlen(cwd), rel) : NULL;
        valkeyaddon__free(rel);
    }
    valkeyaddon__free(cwd);
    return *out ? VALKEYADDON_OK : oom(ctx);
}

static int resolve(char **out, valkeyaddon_ctx *ctx, const struct kfile *kf, const char *path)
{
    *out = path[0] == '/' ? valkeyaddon__strdup(path) : join(kf->dir, strlen(kf->dir), path);
    return *out ? VALKEYADDON_OK : oom(ctx);
}

/* client-go checks that referenced files can be read when it loads a kubeconfig. */
static int check_readable(const struct where *w, valkeyaddon_ctx *ctx, const char *key, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EIO, "kubeconfig %s: %s \"%s\": cannot read %s %s: %s",
                                  w->kf->path, w->kind, w->name, key, path, strerror(errno));
    close(fd);
    return VALKEYADDON_OK;
}

/* YAML nodes. */

static yaml_node_t *node_at(struct kfile *kf, int index)
{
    return yaml_document_get_node(&kf->doc, index);
}

static int is_null(const yaml_node_t *n)
{
    const char *v;

    if (!n)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static int where_error(valkeyaddon_ctx *ctx, const struct where *w, const char *key, const char *problem)
{
    if (w->kind)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "kubeconfig %s: %s \"%s\": %s %s", w->kf->path,
                                  w->kind, w->name, key, problem);
    return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "kubeconfig %s: %s %s", w->kf->path, key, problem);
}

/* The value of key in a mapping (NULL map: empty), or NULL; a repeated key is ambiguous. */
static int map_get(yaml_node_t **out, valkeyaddon_ctx *ctx, const struct where *w, yaml_node_t *map,
                   const char *key)
{
    size_t key_len = strlen(key);
    yaml_node_pair_t *pair;

    *out = NULL;
    if (!map)
        return VALKEYADDON_OK;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(w->kf, pair->key);
        if (!k || k->type != YAML_SCALAR_NODE || k->data.scalar.length != key_len ||
            memcmp(k->data.scalar.value, key, key_len) != 0)
            continue;
        if (*out)
            return where_error(ctx, w, key, "is repeated");
        *out = node_at(w->kf, pair->value);
    }
    return VALKEYADDON_OK;
}

/* A string field: NULL when absent, null or empty (client-go treats "" as unset). */
static int get_str(const char **out, valkeyaddon_ctx *ctx, const struct where *w, yaml_node_t *map,
                   const char *key)
{
    yaml_node_t *n;
    int error;

    *out = NULL;
    if ((error = map_get(&n, ctx, w, map, key)) < 0)
        return error;
    if (is_null(n))
        return VALKEYADDON_OK;
    if (n->type != YAML_SCALAR_NODE)
        return where_error(ctx, w, key, "must be a string");
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return where_error(ctx, w, key, "contains a NUL character");
    if (n->data.scalar.length)
        *out = (const char *)n->data.scalar.value;
    return VALKEYADDON_OK;
}

static int get_bool(int *out, valkeyaddon_ctx *ctx, const struct where *w, yaml_node_t *map, const char *key)
{
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL };
    yaml_node_t *n;
    const char *v;
    int error, i;

    *out = 0;
    if ((error = map_get(&n, ctx, w, map, key)) < 0)
        return error;
    if (is_null(n))
        return VALKEYADDON_OK;
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        v = (const char *)n->data.scalar.value;
        for (i = 0; yes[i]; i++)
            if (!strcmp(v, yes[i])) {
                *out = 1;
                return VALKEYADDON_OK;
            }
        for (i = 0; no[i]; i++)
            if (!strcmp(v, no[i]))
                return VALKEYADDON_OK;
    }
    return where_error(ctx, w, key, "must be true or false");
}

static int get_typed(yaml_node_t **out, valkeyaddon_ctx *ctx, const struct where *w, yaml_node_t *map,
                     const char *key, yaml_node_type_t type)
{
    int error;

    if ((error = map_get(out, ctx, w, map, key)) < 0)
        return error;
    if (is_null(*out)) {
        *out = NULL;
        return VALKEYADDON_OK;
    }
    if ((*out)->type != type) {
        *out = NULL;
        return where_error(ctx, w, key, type == YAML_MAPPING_NODE ? "must be a mapping" : "must be a list");
    }
    return VALKEYADDON_OK;
}

/* Files. */

static void wipe_document(yaml_document_t *doc)
{
    yaml_node_t *n;

    for (n = doc->nodes.start; n < doc->nodes.top; n++)
        if (n->type == YAML_SCALAR_NODE && n->data.scalar.value)
            OPENSSL_cleanse(n->data.scalar.value, n->data.scalar.length);
}

/* libyaml frees without wiping; clear what it still holds of the input. */
static void wipe_parser(yaml_parser_t *p)
{
    yaml_token_t *t;

    if (p->raw_buffer.start)
        OPENSSL_cleanse(p->raw_buffer.start, (size_t)(p->raw_buffer.end - p->raw_buffer.start));
    if (p->buffer.start)
        OPENSSL_cleanse(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
    for (t = p->tokens.head; t && t < p->tokens.tail; t++)
        if (t->type == YAML_SCALAR_TOKEN && t->data.scalar.value)
            OPENSSL_cleanse(t->data.scalar.value, t->data.scalar.length);
}

static int parse_file(struct kfile *kf, valkeyaddon_ctx *ctx, const char *text, size_t len)
{
    yaml_parser_t parser;
    int error = VALKEYADDON_OK;

    if (!yaml_parser_initialize(&parser))
        return oom(ctx);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &kf->doc)) {
        /* libyaml's problem texts are constants: they never quote the input. */
        if (parser.error == YAML_MEMORY_ERROR)
            error = oom(ctx);
        else
            error = valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                       "kubeconfig %s is not valid YAML: %s (line %lu, column %lu)", kf->path,
                                       parser.problem ? parser.problem : "syntax error",
                                       (unsigned long)parser.problem_mark.line + 1,
                                       (unsigned long)parser.problem_mark.column + 1);
    } else {
        kf->has_doc = 1;
    }
    wipe_parser(&parser);
    yaml_parser_delete(&parser);
    if (error < 0)
        return error;
    kf->root = yaml_document_get_root_node(&kf->doc);
    if (kf->root && kf->root->type != YAML_MAPPING_NODE) {
        if (is_null(kf->root))
            kf->root = NULL;
        else
            return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "kubeconfig %s is not a YAML mapping", kf->path);
    }
    return VALKEYADDON_OK;
}

static void loader_free(struct loader *l)
{
    size_t i;

    for (i = 0; i < l->count; i++) {
        if (l->files[i].has_doc) {
            wipe_document(&l->files[i].doc);
            yaml_document_delete(&l->files[i].doc);
        }
        valkeyaddon__free(l->files[i].dir);
    }
    valkeyaddon__free(l->files);
    valkeyaddon__free(l->list);
    memset(l, 0, sizeof(*l));
}

enum source { FROM_ARGUMENT, FROM_ENV, FROM_HOME };

static int add_file(struct loader *l, const char *path, enum source source)
{
    struct kfile *kf;
    char *text;
    size_t len, i;
    int error;

    for (i = 0; i < l->count; i++)
        if (!strcmp(l->files[i].path, path))
            return VALKEYADDON_OK; /* client-go ignores a repeated entry */
    error = valkeyaddon__kube_read_file(&text, &len, l->ctx, path, "kubeconfig", KUBECONFIG_MAX,
                                        source != FROM_ARGUMENT);
    if (error == 1 && source == FROM_ENV) {
        valkeyaddon__log(l->ctx, VALKEYADDON_LOG_DEBUG, "kubeconfig %s (from KUBECONFIG) does not exist; skipped",
                         path);
        return VALKEYADDON_OK;
    }
    if (error == 1)
        return valkeyaddon__error(l->ctx, VALKEYADDON_ECONFIG,
                                  "no Kubernetes configuration: %s does not exist and KUBECONFIG is not set", path);
    if (error < 0)
        return error;
    kf = &l->files[l->count++];
    memset(kf, 0, sizeof(*kf));
    kf->path = path;
    if ((error = file_dir(&kf->dir, l->ctx, path)) >= 0)
        error = parse_file(kf, l->ctx, text, len);
    valkeyaddon__free_secret(text, len + 1);
    return error;
}

static int load_files(struct loader *l, const char *paths)
{
    enum source source = FROM_ARGUMENT;
    const char *env = getenv("KUBECONFIG");
    size_t entries = 1;
    char *p, *next;
    int error;

    if (!paths || !*paths) {
        if (env && *env) {
            paths = env;
            source = FROM_ENV;
        } else {
            const char *home = getenv("HOME");
            if (!home || !*home)
                return valkeyaddon__error(l->ctx, VALKEYADDON_ECONFIG,
                                          "no Kubernetes configuration: neither KUBECONFIG nor HOME is set");
            source = FROM_HOME;
            if (!(l->list = join(home, strlen(home), ".kube/config")))
                return oom(l->ctx);
        }
    }
    if (!l->list && !(l->list = valkeyaddon__strdup(paths)))
        return oom(l->ctx);
    for (p = l->list; *p; p++)
        entries += *p == ':';
    if (!(l->files = valkeyaddon__calloc(entries, sizeof(*l->files))))
        return oom(l->ctx);
    /* FROM_HOME is one path, which may itself contain ':'. */
    for (p = l->list; p; p = next) {
        next = source == FROM_HOME ? NULL : strchr(p, ':');
        if (next)
            *next++ = '\0';
        if (*p && (error = add_file(l, p, source)) < 0)
            return error;
    }
    if (!l->count)
        return valkeyaddon__error(l->ctx, VALKEYADDON_ECONFIG,
                                  source == FROM_ENV
                                      ? "no Kubernetes configuration: none of the files in KUBECONFIG exists"
                                      : "no Kubernetes configuration: the kubeconfig path list is empty");
    return VALKEYADDON_OK;
}

/*
 * Find the entry called name in one file's list (clusters, users, contexts).
 * 1 when found (*out: its inner mapping, NULL when empty), 0 when not.
 */
static int find_in_file(yaml_node_t **out, struct loader *l, struct kfile *kf, const char *list_key,
                        const char *item_key, const char *name)
{
    struct where top = { NULL, NULL, NULL };
    yaml_node_item_t *item;
    yaml_node_t *list;
    int found = 0, error;

    *out = NULL;
    top.kf = kf;
    if ((error = get_typed(&list, l->ctx, &top, kf->root, list_key, YAML_SEQUENCE_NODE)) < 0 || !list)
        return error;
    for (item = list->data.sequence.items.start; item < list->data.sequence.items.top; item++) {
        yaml_node_t *entry = node_at(kf, *item), *inner;
        const char *entry_name;

        if (!entry || entry->type != YAML_MAPPING_NODE)
            return where_error(l->ctx, &top, list_key, "must be a list of mappings");
        if ((error = get_str(&entry_name, l->ctx, &top, entry, "name")) < 0)
            return error;
        if (!entry_name || strcmp(entry_name, name) != 0)
            continue;
        if (found)
            return valkeyaddon__error(l->ctx, VALKEYADDON_ECONFIG, "kubeconfig %s: %s \"%s\" is defined twice",
                                      kf->path, item_key, name);
        {
            struct where w = { NULL, NULL, NULL };
            w.kf = kf;
            w.kind = item_key;
            w.name = name;
            if ((error = get_typed(&inner, l->ctx, &w, entry, item_key, YAML_MAPPING_NODE)) < 0)
                return error;
        }
        *out = inner;
        found = 1;
    }
    return found;
}

/* The first file defining name wins (client-go's merge). 1 found, 0 not. */
static int find(yaml_node_t **out, struct kfile **kf_out, struct loader *l, const char *list_key,
                const char *item_key, const char *name)
{
    size_t i;
    int r;

    for (i = 0; i < l->count; i++) {
        if ((r = find_in_file(out, l, &l->files[i], list_key, item_key, name)) != 0) {
            *kf_out = &l->files[i];
            return r;
        }
    }
    return 0;
}

static int set_str(char **field, valkeyaddon_ctx *ctx, const char *value)
{
    if (!value)
        return VALKEYADDON_OK;
    if (!(*field = valkeyaddon__strdup(value)))
        return oom(ctx);
    return VALKEYADDON_OK;
}

/* A *-data field: base64 (newlines tolerated, as Go's decoder does) to bytes. */
static int decode_data(unsigned char **out, size_t *out_len, valkeyaddon_ctx *ctx, const struct where *w,
                       const char *key, const char *text)
{
    size_t len = strlen(text), i, j = 0;
    char *compact;
    int error;

    if (!(compact = valkeyaddon__malloc(len + 1)))
        return oom(ctx);
    for (i = 0; i < len; i++)
        if (text[i] != '\n' && text[i] != '\r')
            compact[j++] = text[i];
    compact[j] = '\0';
    error = valkeyaddon__base64_decode(out, out_len, compact, j);
    valkeyaddon__free_secret(compact, len + 1);
    if (error == VALKEYADDON_ENOMEM)
        return oom(ctx);
    if (error < 0)
        return where_error(ctx, w, key, "is not valid base64");
    if (!*out_len) {
        valkeyaddon__free_secret(*out, 1);
        *out = NULL;
        return where_error(ctx, w, key, "is empty");
    }
    return VALKEYADDON_OK;
}

static int reject_if_set(valkeyaddon_ctx *ctx, const struct where *w, yaml_node_t *map, const char *key,
                         const char *why)
{
    yaml_node_t *n;
    int error;

    if ((error = map_get(&n, ctx, w, map, key)) < 0)
        return error;
    if (is_null(n) || (n->type == YAML_SCALAR_NODE && !n->data.scalar.length))
        return VALKEYADDON_OK;
    return where_error(ctx, w, key, why);
}

static int load_cluster(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx, const struct where *w,
                        yaml_node_t *c)
{
    const char *server, *ca, *ca_data, *sni;
    int error;

    if ((error = get_str(&server, ctx, w, c, "server")) < 0 ||
        (error = get_str(&ca, ctx, w, c, "certificate-authority")) < 0 ||
        (error = get_str(&ca_data, ctx, w, c, "certificate-authority-data")) < 0 ||
        (error = get_str(&sni, ctx, w, c, "tls-server-name")) < 0 ||
        (error = get_bool(&cfg->insecure_skip_tls_verify, ctx, w, c, "insecure-skip-tls-verify")) < 0 ||
        (error = reject_if_set(ctx, w, c, "proxy-url",
                               "is set: proxies are not supported (connecting directly would bypass it)")) < 0)
        return error;
    if (!server)
        return where_error(ctx, w, "server", "is not set");
    {
        const char *scheme_end = strstr(server, "://");
        size_t len = strlen(server);
        const char *prefix = "";

        if (!scheme_end)
            prefix = "https://"; /* as client-go does for a bare host:port */
        else if (!((scheme_end - server == 5 && !strncmp(server, "https", 5)) ||
                   (scheme_end - server == 4 && !strncmp(server, "http", 4))))
            return where_error(ctx, w, "server", "must be an https:// (or http://) URL");
        while (len && server[len - 1] == '/')
            len--;
        if (!(cfg->server = valkeyaddon__malloc(strlen(prefix) + len + 1)))
            return oom(ctx);
        memcpy(cfg->server, prefix, strlen(prefix));
        memcpy(cfg->server + strlen(prefix), server, len);
        cfg->server[strlen(prefix) + len] = '\0';
    }
    if (ca && ca_data)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "kubeconfig %s: cluster \"%s\": certificate-authority and "
                                  "certificate-authority-data are both set; keep one",
                                  w->kf->path, w->name);
    if (cfg->insecure_skip_tls_verify && (ca || ca_data))
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "kubeconfig %s: cluster \"%s\": insecure-skip-tls-verify cannot be combined with "
                                  "a certificate authority",
                                  w->kf->path, w->name);
    if (ca) {
        if ((error = resolve(&cfg->ca_file, ctx, w->kf, ca)) < 0 ||
            (error = check_readable(w, ctx, "certificate-authority", cfg->ca_file)) < 0)
            return error;
    }
    if (ca_data && (error = decode_data(&cfg->ca_data, &cfg->ca_data_len, ctx, w, "certificate-authority-data",
                                        ca_data)) < 0)
        return error;
    return set_str(&cfg->tls_server_name, ctx, sni);
}

static int load_exec(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx, const struct where *w,
                     yaml_node_t *e)
{
    struct valkeyaddon__kube_exec *x = &cfg->exec;
    const char *api_version, *command, *mode;
    yaml_node_t *args, *env;
    yaml_node_item_t *item;
    size_t n, i;
    int provide, error;

    cfg->has_exec = 1;
    if ((error = get_str(&api_version, ctx, w, e, "apiVersion")) < 0 ||
        (error = get_str(&command, ctx, w, e, "command")) < 0 ||
        (error = get_str(&mode, ctx, w, e, "interactiveMode")) < 0 ||
        (error = get_bool(&provide, ctx, w, e, "provideClusterInfo")) < 0 ||
        (error = get_typed(&args, ctx, w, e, "args", YAML_SEQUENCE_NODE)) < 0 ||
        (error = get_typed(&env, ctx, w, e, "env", YAML_SEQUENCE_NODE)) < 0)
        return error;
    if (!api_version)
        return where_error(ctx, w, "exec.apiVersion", "is not set");
    if (strcmp(api_version, VALKEYADDON__KUBE_EXEC_V1) != 0 && strcmp(api_version, VALKEYADDON__KUBE_EXEC_V1BETA1) != 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "kubeconfig %s: user \"%s\": exec.apiVersion %s is not supported (use "
                                  VALKEYADDON__KUBE_EXEC_V1 " or " VALKEYADDON__KUBE_EXEC_V1BETA1 ")",
                                  w->kf->path, w->name, api_version);
    if (!command)
        return where_error(ctx, w, "exec.command", "is not set");
    if (mode && !strcmp(mode, "Always"))
        return where_error(ctx, w, "exec.interactiveMode",
                           "is Always: a library cannot give the plugin a terminal (use Never or IfAvailable)");
    if (mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0)
        return where_error(ctx, w, "exec.interactiveMode", "must be Never, IfAvailable or Always");
    if (provide)
        return where_error(ctx, w, "exec.provideClusterInfo", "is true, which is not supported");
    if ((error = set_str(&x->api_version, ctx, api_version)) < 0)
        return error;
    /* client-go resolves a command containing a '/' against the kubeconfig; a bare name goes to PATH. */
    error = strchr(command, '/') ? resolve(&x->command, ctx, w->kf, command) : set_str(&x->command, ctx, command);
    if (error < 0)
        return error;

    n = args ? (size_t)(args->data.sequence.items.top - args->data.sequence.items.start) : 0;
    if (!(x->args = valkeyaddon__calloc(n + 1, sizeof(char *))))
        return oom(ctx);
    for (i = 0; i < n; i++) {
        yaml_node_t *a = node_at(w->kf, args->data.sequence.items.start[i]);
        const char *v = "";
        if (a && !is_null(a)) {
            if (a->type != YAML_SCALAR_NODE)
                return where_error(ctx, w, "exec.args", "must be a list of strings");
            v = (const char *)a->data.scalar.value;
        }
        if (!(x->args[i] = valkeyaddon__strdup(v)))
            return oom(ctx);
    }

    n = env ? (size_t)(env->data.sequence.items.top - env->data.sequence.items.start) : 0;
    if (!(x->env = valkeyaddon__calloc(n + 1, sizeof(char *))))
        return oom(ctx);
    i = 0;
    for (item = env ? env->data.sequence.items.start : NULL; env && item < env->data.sequence.items.top; item++) {
        yaml_node_t *entry = node_at(w->kf, *item);
        const char *name, *value;
        size_t name_len, value_len;

        if (!entry || entry->type != YAML_MAPPING_NODE)
            return where_error(ctx, w, "exec.env", "must be a list of {name, value} mappings");
        if ((error = get_str(&name, ctx, w, entry, "name")) < 0 || (error = get_str(&value, ctx, w, entry, "value")) < 0)
            return error;
        if (!name || strchr(name, '='))
            return where_error(ctx, w, "exec.env", "has an entry without a valid name");
        if (!value)
            value = "";
        name_len = strlen(name);
        value_len = strlen(value);
        if (!(x->env[i] = valkeyaddon__malloc(name_len + value_len + 2)))
            return oom(ctx);
        memcpy(x->env[i], name, name_len);
        x->env[i][name_len] = '=';
        memcpy(x->env[i] + name_len + 1, value, value_len + 1);
        i++;
    }
    return VALKEYADDON_OK;
}

static int load_user(struct valkeyaddon__kube_config *cfg, valkeyaddon_ctx *ctx, const struct where *w,
                     yaml_node_t *u)
{
    const char *token, *token_file, *cert, *cert_data, *key, *key_data, *user, *password;
    yaml_node_t *exec;
    int error;

    if ((error = get_str(&user, ctx, w, u, "username")) < 0 || (error = get_str(&password, ctx, w, u, "password")) < 0)
        return error;
    if (user || password)
        return where_error(ctx, w, "username/password",
                           "(basic authentication) is not supported: Kubernetes removed it in 1.19; use a token, "
                           "a client certificate or an exec plugin");
    if ((error = reject_if_set(ctx, w, u, "auth-provider",
                               "is set: auth-provider plugins are not supported (use an exec plugin, such as "
                               "kubelogin or gke-gcloud-auth-plugin)")) < 0 ||
        (error = reject_if_set(ctx, w, u, "as", "is set: impersonation is not supported")) < 0 ||
        (error = reject_if_set(ctx, w, u, "as-uid", "is set: impersonation is not supported")) < 0 ||
        (error = reject_if_set(ctx, w, u, "as-groups", "is set: impersonation is not supported")) < 0 ||
        (error = reject_if_set(ctx, w, u, "as-user-extra", "is set: impersonation is not supported")) < 0)
        return error;
    if ((error = get_str(&token, ctx, w, u, "token")) < 0 || (error = get_str(&token_file, ctx, w, u, "tokenFile")) < 0 ||
        (error = get_str(&cert, ctx, w, u, "client-certificate")) < 0 ||
        (error = get_str(&cert_data, ctx, w, u, "client-certificate-data")) < 0 ||
        (error = get_str(&key, ctx, w, u, "client-key")) < 0 ||
        (error = get_str(&key_data, ctx, w, u, "client-key-data")) < 0 ||
        (error = get_typed(&exec, ctx, w, u, "exec", YAML_MAPPING_NODE)) < 0)
        return error;
    if (cert && cert_data)
        return where_error(ctx, w, "client-certificate and client-certificate-data", "are both set; keep one");
    if (key && key_data)
        return where_error(ctx, w, "client-key and client-key-data", "are both set; keep one");
    if ((cert || cert_data) && !(key || key_data))
        return where_error(ctx, w, "client-certificate", "is set without client-key");
    if ((key || key_data) && !(cert || cert_data))
        return where_error(ctx, w, "client-key", "is set without client-certificate");
    if ((cert && key_data) || (cert_data && key))
        return where_error(ctx, w, "client-certificate and client-key",
                           "must both be files or both be data (-data)");
    if ((error = set_str(&cfg->token, ctx, token)) < 0)
        return error;
    if (token_file && ((error = resolve(&cfg->token_file, ctx, w->kf, token_file)) < 0 ||
                       (error = check_readable(w, ctx, "tokenFile", cfg->token_file)) < 0))
        return error;
    if (cert && ((error = resolve(&cfg->client_cert_file, ctx, w->kf, cert)) < 0 ||
                 (error = check_readable(w, ctx, "client-certificate", cfg->client_cert_file)) < 0))
        return error;
    if (key && ((error = resolve(&cfg->client_key_file, ctx, w->kf, key)) < 0 ||
                (error = check_readable(w, ctx, "client-key", cfg->client_key_file)) < 0))
        return error;
    if (cert_data && (error = decode_data(&cfg->client_cert_data, &cfg->client_cert_data_len, ctx, w,
                                          "client-certificate-data", cert_data)) < 0)
        return error;
    if (key_data && (error = decode_data(&cfg->client_key_data, &cfg->client_key_data_len, ctx, w,
                                         "client-key-data", key_data)) < 0)
        return error;
    if (exec && (error = load_exec(cfg, ctx, w, exec)) < 0)
        return error;
    return VALKEYADDON_OK;
}

static int build(struct valkeyaddon__kube_config *cfg, struct loader *l, const char *context)
{
    valkeyaddon_ctx *ctx = l->ctx;
    const char *cluster_name, *user_name, *ns;
    struct kfile *ckf = NULL, *kf = NULL;
    yaml_node_t *c = NULL, *n = NULL;
    struct where w = { NULL, NULL, NULL };
    size_t i;
    int r;

    if (!context || !*context) {
        context = NULL;
        for (i = 0; i < l->count && !context; i++) {
            w.kf = &l->files[i];
            if ((r = get_str(&context, ctx, &w, l->files[i].root, "current-context")) < 0)
                return r;
        }
        if (!context)
            return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                      "kubeconfig %s: current-context is not set and no context was named",
                                      l->files[0].path);
    }
    if ((r = find(&c, &ckf, l, "contexts", "context", context)) < 0)
        return r;
    if (!r)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG, "kubeconfig %s: context \"%s\" is not defined%s",
                                  l->files[0].path, context, l->count > 1 ? " in any of the KUBECONFIG files" : "");
    w.kf = ckf;
    w.kind = "context";
    w.name = context;
    if ((r = get_str(&cluster_name, ctx, &w, c, "cluster")) < 0 || (r = get_str(&user_name, ctx, &w, c, "user")) < 0 ||
        (r = get_str(&ns, ctx, &w, c, "namespace")) < 0)
        return r;
    if (!cluster_name)
        return where_error(ctx, &w, "cluster", "is not set");
    if (!user_name)
        return where_error(ctx, &w, "user", "is not set");
    if ((r = set_str(&cfg->context_name, ctx, context)) < 0 || (r = set_str(&cfg->namespace_, ctx, ns ? ns : "default")) < 0)
        return r;

    if ((r = find(&n, &kf, l, "clusters", "cluster", cluster_name)) < 0)
        return r;
    if (!r)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "kubeconfig %s: cluster \"%s\" (of context \"%s\") is not defined", ckf->path,
                                  cluster_name, context);
    w.kf = kf;
    w.kind = "cluster";
    w.name = cluster_name;
    if ((r = load_cluster(cfg, ctx, &w, n)) < 0)
        return r;

    if ((r = find(&n, &kf, l, "users", "user", user_name)) < 0)
        return r;
    if (!r)
        return valkeyaddon__error(ctx, VALKEYADDON_ECONFIG,
                                  "kubeconfig %s: user \"%s\" (of context \"%s\") is not defined", ckf->path,
                                  user_name, context);
    w.kf = kf;
    w.kind = "user";
    w.name = user_name;
    if ((r = load_user(cfg, ctx, &w, n)) < 0)
        return r;
    valkeyaddon__log(ctx, VALKEYADDON_LOG_DEBUG, "kubeconfig: context \"%s\" from %s, cluster \"%s\", user \"%s\"",
                     context, ckf->path, cluster_name, user_name);
    return VALKEYADDON_OK;
}

int valkeyaddon__kube_config_load(struct valkeyaddon__kube_config *out, valkeyaddon_ctx *ctx, const char *paths,
                                  const char *context)
{
    struct valkeyaddon__kube_config cfg;
    struct loader l;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    memset(&cfg, 0, sizeof(cfg));
    memset(&l, 0, sizeof(l));
    l.ctx = ctx;
    if ((error = load_files(&l, paths)) >= 0)
        error = build(&cfg, &l, context);
    loader_free(&l);
    if (error < 0) {
        valkeyaddon__kube_config_clear(&cfg);
        return error;
    }
    *out = cfg;
    return VALKEYADDON_OK;
}

static void free_list(char **list, int wipe)
{
    size_t i;

    if (!list)
        return;
    for (i = 0; list[i]; i++) {
        if (wipe)
            valkeyaddon__free_secret(list[i], (size_t)-1);
        else
            valkeyaddon__free(list[i]);
    }
    valkeyaddon__free(list);
}

void valkeyaddon__kube_config_clear(struct valkeyaddon__kube_config *config)
{
    if (!config)
        return;
    valkeyaddon__free(config->server);
    valkeyaddon__free(config->namespace_);
    valkeyaddon__free(config->ca_file);
    valkeyaddon__free(config->ca_data);
    valkeyaddon__free(config->client_cert_file);
    valkeyaddon__free(config->client_key_file);
    valkeyaddon__free_secret(config->client_cert_data, config->client_cert_data_len);
    valkeyaddon__free_secret(config->client_key_data, config->client_key_data_len);
    valkeyaddon__free_secret(config->token, (size_t)-1);
    valkeyaddon__free(config->token_file);
    valkeyaddon__free(config->tls_server_name);
    valkeyaddon__free(config->exec.api_version);
    valkeyaddon__free(config->exec.command);
    free_list(config->exec.args, 0);
    /* exec env values may be secrets (an API key for the plugin). */
    free_list(config->exec.env, 1);
    valkeyaddon__free(config->context_name);
    memset(config, 0, sizeof(*config));
}
