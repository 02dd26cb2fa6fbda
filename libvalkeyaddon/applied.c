/* Stamping and comparing applied objects (applied.h, docs/request-economy.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include "alloc.h"
#include "applied.h"
#include "ctx.h"
#include "objects/json.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"
#include "util/base64.h"

/* Copy a parsed node. Our builders emit only strings, integers, booleans, maps and arrays. */
static void copy(struct valkeyaddon__jw *j, yajl_val v)
{
    size_t i;

    if (YAJL_IS_STRING(v)) {
        valkeyaddon__jw_string(j, v->u.string);
    } else if (YAJL_IS_INTEGER(v)) {
        valkeyaddon__jw_int(j, v->u.number.i);
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        valkeyaddon__jw_bool(j, YAJL_IS_TRUE(v));
    } else if (YAJL_IS_OBJECT(v)) {
        valkeyaddon__jw_map_open(j);
        for (i = 0; i < v->u.object.len; i++) {
            valkeyaddon__jw_key(j, v->u.object.keys[i]);
            copy(j, v->u.object.values[i]);
        }
        valkeyaddon__jw_map_close(j);
    } else if (YAJL_IS_ARRAY(v)) {
        valkeyaddon__jw_array_open(j);
        for (i = 0; i < v->u.array.len; i++)
            copy(j, v->u.array.values[i]);
        valkeyaddon__jw_array_close(j);
    } else {
        j->invalid = 1; /* a double or a null: no builder makes one */
    }
}

/*
 * The body again, with Secret data values blanked (blank_data) and/or the
 * hash annotation added to metadata.annotations (hash not NULL).
 */
static int rewrite(char **out, size_t *len, yajl_val root, int blank_data, const char *hash)
{
    struct valkeyaddon__jw j;
    size_t i, k, a;

    if (valkeyaddon__jw_begin(&j) < 0)
        return VALKEYADDON_ENOMEM;
    valkeyaddon__jw_map_open(&j);
    for (i = 0; i < root->u.object.len; i++) {
        const char *key = root->u.object.keys[i];
        yajl_val v = root->u.object.values[i];
        valkeyaddon__jw_key(&j, key);
        if (blank_data && strcmp(key, "data") == 0 && YAJL_IS_OBJECT(v)) {
            valkeyaddon__jw_map_open(&j);
            for (k = 0; k < v->u.object.len; k++)
                valkeyaddon__jw_kv_string(&j, v->u.object.keys[k], "");
            valkeyaddon__jw_map_close(&j);
        } else if (hash && strcmp(key, "metadata") == 0 && YAJL_IS_OBJECT(v)) {
            int annotated = 0;
            valkeyaddon__jw_map_open(&j);
            for (k = 0; k < v->u.object.len; k++) {
                yajl_val m = v->u.object.values[k];
                valkeyaddon__jw_key(&j, v->u.object.keys[k]);
                if (strcmp(v->u.object.keys[k], "annotations") != 0 || !YAJL_IS_OBJECT(m)) {
                    copy(&j, m);
                    continue;
                }
                valkeyaddon__jw_map_open(&j);
                for (a = 0; a < m->u.object.len; a++) {
                    valkeyaddon__jw_key(&j, m->u.object.keys[a]);
                    copy(&j, m->u.object.values[a]);
                }
                valkeyaddon__jw_kv_string(&j, VALKEYADDON__APPLIED_HASH, hash);
                valkeyaddon__jw_map_close(&j);
                annotated = 1;
            }
            if (!annotated) {
                valkeyaddon__jw_key_map(&j, "annotations");
                valkeyaddon__jw_kv_string(&j, VALKEYADDON__APPLIED_HASH, hash);
                valkeyaddon__jw_map_close(&j);
            }
            valkeyaddon__jw_map_close(&j);
        } else {
            copy(&j, v);
        }
    }
    valkeyaddon__jw_map_close(&j);
    return valkeyaddon__jw_finish(&j, out, len);
}

static int is_secret(const struct valkeyaddon__object *object)
{
    return strcmp(object->resource->kind, "Secret") == 0 && strcmp(object->resource->api_version, "v1") == 0;
}

/*
 * The builder's output, stamped where the builder marked (objects.h): the same
 * bytes rewrite() makes from the parsed body, without parsing it. The claim
 * is checked for every object of every plan by tests/unit/test_applied.c.
 */
static int splice(char **out, size_t *out_len, const struct valkeyaddon__object *object, const char *hash)
{
    static const char in_annotations[] = ",\"" VALKEYADDON__APPLIED_HASH "\":\"";
    static const char in_metadata[] = ",\"annotations\":{\"" VALKEYADDON__APPLIED_HASH "\":\"";
    const char *open = object->stamp_where == VALKEYADDON__STAMP_IN_ANNOTATIONS ? in_annotations : in_metadata;
    const char *close = object->stamp_where == VALKEYADDON__STAMP_IN_ANNOTATIONS ? "\"" : "\"}";
    size_t open_len = strlen(open), hash_len = strlen(hash), close_len = strlen(close), at = object->stamp_at;
    size_t len = object->json_len + open_len + hash_len + close_len;
    char *text = valkeyaddon__malloc(len + 1), *p;

    if (!text)
        return VALKEYADDON_ENOMEM;
    p = text;
    memcpy(p, object->json, at);
    memcpy(p += at, open, open_len);
    memcpy(p += open_len, hash, hash_len);
    memcpy(p += hash_len, close, close_len);
    memcpy(p += close_len, object->json + at, object->json_len - at + 1); /* with the NUL */
    *out = text;
    *out_len = len;
    return VALKEYADDON_OK;
}

int valkeyaddon__stamp_object_by(valkeyaddon_ctx *ctx, struct valkeyaddon__object *object, int reparse)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0, i;
    char hash[2 * EVP_MAX_MD_SIZE + 1];
    char *form = NULL, *stamped = NULL;
    size_t form_len = 0, stamped_len = 0;
    int marked = !reparse && object->stamp_where != VALKEYADDON__STAMP_UNKNOWN;
    yajl_val root = NULL;
    int error = VALKEYADDON_OK;

    /* A marked non-Secret body is its own hashed form, and is stamped by splicing: no parse at all. */
    if (!marked || is_secret(object)) {
        root = yajl_tree_parse(object->json, NULL, 0); /* our builder's body: not outside input */
        if (!root || !YAJL_IS_OBJECT(root)) {
            valkeyaddon__json_free_secret(root);
            return valkeyaddon__error(ctx, VALKEYADDON_ERROR, "%s %s: the built body is not a JSON object",
                                      object->resource->kind, object->name);
        }
        /* The hashed form: the body itself, or for a Secret its keys without their values. */
        error = rewrite(&form, &form_len, root, is_secret(object), NULL);
    }
    if (error == VALKEYADDON_OK &&
        !EVP_Digest(form ? form : object->json, form ? form_len : object->json_len, digest, &digest_len,
                    EVP_sha256(), NULL))
        error = VALKEYADDON_ERROR;
    if (form)
        valkeyaddon__free_secret(form, form_len);
    if (error == VALKEYADDON_OK) {
        for (i = 0; i < digest_len; i++)
            snprintf(hash + 2 * i, 3, "%02x", digest[i]);
        error = marked ? splice(&stamped, &stamped_len, object, hash) : rewrite(&stamped, &stamped_len, root, 0, hash);
    }
    valkeyaddon__json_free_secret(root);
    if (error < 0)
        return valkeyaddon__error(ctx, error, "%s %s: %s while stamping the body with its hash",
                                  object->resource->kind, object->name,
                                  error == VALKEYADDON_ENOMEM ? "out of memory" : "a failure");
    valkeyaddon__free_secret(object->json, object->json_len);
    object->json = stamped;
    object->json_len = stamped_len;
    object->stamp_where = VALKEYADDON__STAMP_UNKNOWN; /* the mark pointed into the old body */
    return VALKEYADDON_OK;
}

int valkeyaddon__stamp_object(valkeyaddon_ctx *ctx, struct valkeyaddon__object *object)
{
    return valkeyaddon__stamp_object_by(ctx, object, 0);
}

/* Kubernetes omits empty values: an absent or null field equals our false, 0, "", {} or []. */
static int is_zero(yajl_val v)
{
    return !v || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v) || (YAJL_IS_INTEGER(v) && v->u.number.i == 0) ||
           (YAJL_IS_STRING(v) && v->u.string[0] == '\0') || (YAJL_IS_OBJECT(v) && v->u.object.len == 0) ||
           (YAJL_IS_ARRAY(v) && v->u.array.len == 0);
}

/* A resource quantity ("256Mi", "100m", "1.5G") as a number; 0 when s is not one. */
int valkeyaddon__quantity(const char *s, long double *out)
{
    static const struct { const char *suffix; long double scale; } suffixes[] = {
        { "", 1.0L }, { "n", 1e-9L }, { "u", 1e-6L }, { "m", 1e-3L }, { "k", 1e3L }, { "M", 1e6L },
        { "G", 1e9L }, { "T", 1e12L }, { "P", 1e15L }, { "E", 1e18L }, { "Ki", 1024.0L },
        { "Mi", 1048576.0L }, { "Gi", 1073741824.0L }, { "Ti", 1099511627776.0L },
        { "Pi", 1125899906842624.0L }, { "Ei", 1152921504606846976.0L },
    };
    long double value = 0, scale = 1;
    int digits = 0;
    size_t i;

    /* Parsed by hand: strtold would follow the caller's locale. */
    for (; *s >= '0' && *s <= '9'; s++, digits++)
        value = value * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++, digits++)
            value += (*s - '0') * (scale /= 10);
    if (!digits)
        return 0;
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        if (strcmp(s, suffixes[i].suffix) == 0) {
            *out = value * suffixes[i].scale;
            return 1;
        }
    return 0;
}

static int same_quantity(const char *a, const char *b)
{
    long double x, y, difference;

    if (!valkeyaddon__quantity(a, &x) || !valkeyaddon__quantity(b, &y))
        return 0;
    /* Both are non-negative (no sign is parsed); a relative tolerance absorbs the scaling's rounding. */
    difference = x > y ? x - y : y - x;
    return difference <= 1e-12L * (x > y ? x : y);
}

/* Secret data: the decoded bytes, compared in constant time and wiped. */
static int same_secret_value(const char *ours, const char *live)
{
    unsigned char *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    int same;

    if (valkeyaddon__base64_decode(&a, &a_len, ours, strlen(ours)) < 0 ||
        valkeyaddon__base64_decode(&b, &b_len, live, strlen(live)) < 0)
        same = 0;
    else
        same = a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
    if (a)
        valkeyaddon__free_secret(a, a_len);
    if (b)
        valkeyaddon__free_secret(b, b_len);
    return same;
}

enum { PLAIN, QUANTITIES, SECRET_DATA };

/* Where covers() is in the body: the list semantics of a field depend on it. */
struct place {
    const char *kind;   /* the object's kind */
    const char *parent; /* the field holding the map (or list item) being compared, NULL at the top */
    const char *field;  /* the field being compared */
};

static int is_container_list(const char *field)
{
    return field && (strcmp(field, "containers") == 0 || strcmp(field, "initContainers") == 0);
}

/*
 * The map keys of the list at `at`, NULL for an atomic list: the lists we write
 * whose schema says x-kubernetes-list-type: map (Kubernetes v1.32 OpenAPI,
 * transcripts 02 and 03). Server-side apply merges such a list item by item, so
 * the live list may hold items another field manager added, in any order.
 */
static const char *const *merge_keys(const struct place *at)
{
    static const char *const by_name[] = { "name", NULL };
    static const char *const by_mount_path[] = { "mountPath", NULL };
    static const char *const by_container_port[] = { "containerPort", "protocol", NULL };
    static const char *const by_port[] = { "port", "protocol", NULL };
    const char *f = at->field;

    if (!f)
        return NULL;
    if (is_container_list(f) || strcmp(f, "env") == 0 || strcmp(f, "volumes") == 0 ||
        strcmp(f, "imagePullSecrets") == 0)
        return by_name;
    if (strcmp(f, "volumeMounts") == 0)
        return by_mount_path;
    if (strcmp(f, "ports") == 0 && is_container_list(at->parent))
        return by_container_port;
    if (strcmp(f, "ports") == 0 && strcmp(at->kind, "Service") == 0 && at->parent &&
        strcmp(at->parent, "spec") == 0)
        return by_port;
    return NULL; /* atomic: NetworkPolicy rules and their ports, args, command, volumeClaimTemplates, ... */
}

/* One key field of a list item; the schema's default stands in for an omitted protocol. */
static const char *key_text(yajl_val item, const char *key, char *buf, size_t size)
{
    const char *path[2] = { NULL, NULL };
    yajl_val v;

    path[0] = key;
    v = YAJL_IS_OBJECT(item) ? yajl_tree_get(item, path, yajl_t_any) : NULL;
    if (v && YAJL_IS_STRING(v))
        return v->u.string;
    if (v && YAJL_IS_INTEGER(v)) {
        snprintf(buf, size, "#%lld", (long long)v->u.number.i); /* "#" keeps 80 apart from "80" */
        return buf;
    }
    if ((!v || YAJL_IS_NULL(v)) && strcmp(key, "protocol") == 0)
        return "TCP";
    return NULL;
}

static int same_key(yajl_val a, yajl_val b, const char *const *keys)
{
    char abuf[32], bbuf[32];
    const char *x, *y;

    for (; *keys; keys++) {
        x = key_text(a, *keys, abuf, sizeof(abuf));
        y = key_text(b, *keys, bbuf, sizeof(bbuf));
        if (!x || !y || strcmp(x, y) != 0)
            return 0;
    }
    return 1;
}

static int covers(yajl_val ours, yajl_val live, int mode, const struct place *at);

/* A list of maps with map keys: each of our items is in live, found by its key, with our fields. */
static int covers_keyed(yajl_val ours, yajl_val live, int mode, const struct place *at, const char *const *keys)
{
    size_t i, k;

    for (i = 0; i < ours->u.array.len; i++) {
        yajl_val mine = ours->u.array.values[i], match = NULL;
        for (k = 0; k < live->u.array.len && !match; k++)
            if (same_key(mine, live->u.array.values[k], keys))
                match = live->u.array.values[k];
        if (!match || !covers(mine, match, mode, at))
            return 0;
    }
    return 1;
}

/* Every path of ours is in live with the same value. */
static int covers(yajl_val ours, yajl_val live, int mode, const struct place *at)
{
    const char *const *keys;
    size_t i;

    if (YAJL_IS_OBJECT(ours)) {
        if (!live || YAJL_IS_NULL(live))
            return is_zero(ours);
        if (!YAJL_IS_OBJECT(live))
            return 0;
        for (i = 0; i < ours->u.object.len; i++) {
            const char *key = ours->u.object.keys[i], *path[2] = { NULL, NULL };
            yajl_val mine = ours->u.object.values[i], theirs;
            int child = mode; /* the values of limits/requests, and of a Secret's data, keep their mode */
            struct place below;
            below.kind = at->kind;
            below.parent = at->field;
            below.field = key;
            path[0] = key;
            theirs = yajl_tree_get(live, path, yajl_t_any);
            if (mode == PLAIN && (strcmp(key, "limits") == 0 || strcmp(key, "requests") == 0))
                child = QUANTITIES;
            if (!theirs || YAJL_IS_NULL(theirs)) {
                if (!is_zero(mine))
                    return 0;
            } else if (!covers(mine, theirs, child, &below)) {
                return 0;
            }
        }
        return 1;
    }
    if (YAJL_IS_ARRAY(ours)) {
        if (!live || YAJL_IS_NULL(live))
            return is_zero(ours);
        if (!YAJL_IS_ARRAY(live))
            return 0;
        keys = mode == PLAIN ? merge_keys(at) : NULL;
        if (keys)
            return covers_keyed(ours, live, mode, at, keys);
        if (live->u.array.len != ours->u.array.len)
            return 0;
        for (i = 0; i < ours->u.array.len; i++)
            if (!covers(ours->u.array.values[i], live->u.array.values[i], mode == SECRET_DATA ? PLAIN : mode, at))
                return 0;
        return 1;
    }
    if (YAJL_IS_STRING(ours)) {
        if (!YAJL_IS_STRING(live))
            return 0;
        if (mode == SECRET_DATA)
            return same_secret_value(ours->u.string, live->u.string);
        if (strcmp(ours->u.string, live->u.string) == 0)
            return 1;
        return mode == QUANTITIES && same_quantity(ours->u.string, live->u.string);
    }
    if (YAJL_IS_INTEGER(ours)) {
        if (YAJL_IS_INTEGER(live))
            return ours->u.number.i == live->u.number.i;
        /* A quantity field may come back as a string ("2" for our 2). */
        if (mode == QUANTITIES && YAJL_IS_STRING(live)) {
            char text[32];
            snprintf(text, sizeof(text), "%lld", (long long)ours->u.number.i);
            return same_quantity(text, live->u.string);
        }
        return 0;
    }
    if (YAJL_IS_TRUE(ours))
        return live && YAJL_IS_TRUE(live);
    if (YAJL_IS_FALSE(ours))
        return !live || YAJL_IS_FALSE(live) || YAJL_IS_NULL(live);
    return 0;
}

int valkeyaddon__object_is_current(const struct valkeyaddon__object *object, const char *live)
{
    yajl_val ours, theirs;
    size_t i;
    int same = 1;

    if (!live || !object->json)
        return 0;
    ours = yajl_tree_parse(object->json, NULL, 0); /* our builder's body: not outside input */
    /* The live object comes from the server: through the depth guard (json_tree.h), or its free overflows the stack. */
    theirs = valkeyaddon__json_parse(live);
    if (!ours || !theirs || !YAJL_IS_OBJECT(ours) || !YAJL_IS_OBJECT(theirs)) {
        same = 0;
    } else {
        for (i = 0; i < ours->u.object.len && same; i++) {
            const char *key = ours->u.object.keys[i], *path[2] = { NULL, NULL };
            yajl_val mine = ours->u.object.values[i], there;
            struct place at;
            at.kind = object->resource->kind;
            at.parent = NULL;
            at.field = key;
            path[0] = key;
            there = yajl_tree_get(theirs, path, yajl_t_any);
            if (!there || YAJL_IS_NULL(there))
                same = is_zero(mine);
            else
                same = covers(mine, there, is_secret(object) && strcmp(key, "data") == 0 ? SECRET_DATA : PLAIN, &at);
        }
    }
    valkeyaddon__json_free_secret(ours);
    valkeyaddon__json_free_secret(theirs);
    return same;
}

int valkeyaddon__statefulset_unrealised(const char *live)
{
    yajl_val root = live ? valkeyaddon__json_parse(live) : NULL;
    int unrealised = !root || valkeyaddon__json_int(root, 0, "status", "readyReplicas", NULL) <
                                  valkeyaddon__json_int(root, 1, "spec", "replicas", NULL);

    yajl_tree_free(root);
    return unrealised;
}
