/* The local transport's object JSON: names, equality, the stored and the read-back form (local.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "objects/json.h"
#include "transport/local/local.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

yajl_val valkeyaddon__local_parse(const char *json, size_t len)
{
    char *text = valkeyaddon__malloc(len + 1);
    yajl_val root;

    if (!text)
        return NULL;
    memcpy(text, json, len);
    text[len] = '\0';
    root = valkeyaddon__json_parse(text);
    OPENSSL_cleanse(text, len);
    valkeyaddon__free(text);
    return root;
}

int valkeyaddon__local_body_name(char *name, size_t size, const char *json, size_t len)
{
    const char *path[] = { "metadata", "name", NULL };
    yajl_val root = valkeyaddon__local_parse(json, len), node;
    int rc = VALKEYADDON_EREJECTED;

    node = root ? yajl_tree_get(root, path, yajl_t_string) : NULL;
    if (node && strlen(node->u.string) < size) {
        strcpy(name, node->u.string);
        rc = VALKEYADDON_OK;
    }
    valkeyaddon__json_free_secret(root);
    return rc;
}

static yajl_val member(yajl_val object, const char *key)
{
    size_t i;

    for (i = 0; i < object->u.object.len; i++)
        if (strcmp(object->u.object.keys[i], key) == 0)
            return object->u.object.values[i];
    return NULL;
}

int valkeyaddon__local_json_equal(yajl_val a, yajl_val b)
{
    size_t i;

    if (!a || !b)
        return a == b;
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case yajl_t_string: return strcmp(a->u.string, b->u.string) == 0;
    case yajl_t_number: return strcmp(a->u.number.r, b->u.number.r) == 0;
    case yajl_t_object:
        if (a->u.object.len != b->u.object.len)
            return 0;
        for (i = 0; i < a->u.object.len; i++)
            if (!valkeyaddon__local_json_equal(a->u.object.values[i], member(b, a->u.object.keys[i])))
                return 0;
        return 1;
    case yajl_t_array:
        if (a->u.array.len != b->u.array.len)
            return 0;
        for (i = 0; i < a->u.array.len; i++)
            if (!valkeyaddon__local_json_equal(a->u.array.values[i], b->u.array.values[i]))
                return 0;
        return 1;
    default: return 1; /* true, false, null: the types matched */
    }
}

int valkeyaddon__local_same_content(yajl_val a, yajl_val b)
{
    size_t i, na = 0, nb = 0;

    for (i = 0; i < a->u.object.len; i++) {
        const char *key = a->u.object.keys[i];
        if (strcmp(key, "metadata") == 0 || strcmp(key, "status") == 0)
            continue;
        na++;
        if (!valkeyaddon__local_json_equal(a->u.object.values[i], member(b, key)))
            return 0;
    }
    for (i = 0; i < b->u.object.len; i++)
        nb += strcmp(b->u.object.keys[i], "metadata") != 0 && strcmp(b->u.object.keys[i], "status") != 0;
    return na == nb;
}

/* Copy a node; 0, or -1 for a number that is not an integer (the library writes none). */
static int copy(struct valkeyaddon__jw *j, yajl_val v)
{
    size_t i;

    switch (v->type) {
    case yajl_t_string: valkeyaddon__jw_string(j, v->u.string); return 0;
    case yajl_t_number:
        if (!YAJL_IS_INTEGER(v))
            return -1;
        valkeyaddon__jw_int(j, v->u.number.i);
        return 0;
    case yajl_t_object:
        valkeyaddon__jw_map_open(j);
        for (i = 0; i < v->u.object.len; i++) {
            valkeyaddon__jw_key(j, v->u.object.keys[i]);
            if (copy(j, v->u.object.values[i]) < 0)
                return -1;
        }
        valkeyaddon__jw_map_close(j);
        return 0;
    case yajl_t_array:
        valkeyaddon__jw_array_open(j);
        for (i = 0; i < v->u.array.len; i++)
            if (copy(j, v->u.array.values[i]) < 0)
                return -1;
        valkeyaddon__jw_array_close(j);
        return 0;
    case yajl_t_true: valkeyaddon__jw_bool(j, 1); return 0;
    case yajl_t_false: valkeyaddon__jw_bool(j, 0); return 0;
    default:
        /* jw has no null event; the library never writes null. */
        return -1;
    }
}

static void gen_status(struct valkeyaddon__jw *j, const struct valkeyaddon__local_status *s, long long generation,
                       const char *name)
{
    char revision[300];

    /* One revision per generation: realising is synchronous, so current is always the update revision. */
    snprintf(revision, sizeof(revision), "%s-%lld", name, generation);
    valkeyaddon__jw_key_map(j, "status");
    valkeyaddon__jw_kv_int(j, "observedGeneration", generation);
    valkeyaddon__jw_kv_int(j, "replicas", s->replicas);
    valkeyaddon__jw_kv_int(j, "readyReplicas", s->ready);
    valkeyaddon__jw_kv_int(j, "availableReplicas", s->ready);
    valkeyaddon__jw_kv_int(j, "currentReplicas", s->updated);
    valkeyaddon__jw_kv_int(j, "updatedReplicas", s->updated);
    valkeyaddon__jw_kv_string(j, "currentRevision", revision);
    valkeyaddon__jw_kv_string(j, "updateRevision", revision);
    valkeyaddon__jw_map_close(j);
}

int valkeyaddon__local_render(char **out, size_t *out_len, yajl_val root, long long generation,
                              const struct valkeyaddon__local_status *status, const char *name)
{
    struct valkeyaddon__jw j;
    size_t i, k;
    int bad = 0, rc;

    *out = NULL;
    *out_len = 0;
    if (!YAJL_IS_OBJECT(root))
        return VALKEYADDON_EREJECTED;
    if (valkeyaddon__jw_begin(&j) < 0)
        return VALKEYADDON_ENOMEM;
    valkeyaddon__jw_map_open(&j);
    for (i = 0; i < root->u.object.len && !bad; i++) {
        const char *key = root->u.object.keys[i];
        yajl_val v = root->u.object.values[i];
        /* status is the server's to write, never the client's. */
        if (strcmp(key, "status") == 0)
            continue;
        valkeyaddon__jw_key(&j, key);
        if (strcmp(key, "metadata") != 0 || !YAJL_IS_OBJECT(v)) {
            bad = copy(&j, v) < 0;
            continue;
        }
        valkeyaddon__jw_map_open(&j);
        for (k = 0; k < v->u.object.len && !bad; k++) {
            if (strcmp(v->u.object.keys[k], "generation") == 0)
                continue;
            valkeyaddon__jw_key(&j, v->u.object.keys[k]);
            bad = copy(&j, v->u.object.values[k]) < 0;
        }
        valkeyaddon__jw_kv_int(&j, "generation", generation);
        valkeyaddon__jw_map_close(&j);
    }
    if (bad) {
        valkeyaddon__jw_abort(&j);
        return VALKEYADDON_EREJECTED;
    }
    if (status)
        gen_status(&j, status, generation, name);
    valkeyaddon__jw_map_close(&j);
    rc = valkeyaddon__jw_finish(&j, out, out_len);
    return rc == VALKEYADDON_ENOMEM ? rc : rc < 0 ? VALKEYADDON_EREJECTED : VALKEYADDON_OK;
}
