/* yajl tree helpers (json_tree.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_gen.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "util/json_tree.h"

/* 1 when arrays and objects nest deeper than limit (strings skipped). */
static int too_deep(const char *s, int limit)
{
    int depth = 0, in_string = 0;

    for (; *s; s++) {
        if (in_string) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == '"')
                in_string = 0;
        } else if (*s == '"') {
            in_string = 1;
        } else if (*s == '[' || *s == '{') {
            if (++depth > limit)
                return 1;
        } else if ((*s == ']' || *s == '}') && depth) {
            depth--;
        }
    }
    return 0;
}

yajl_val valkeyaddon__json_parse(const char *text)
{
    if (!text || too_deep(text, VALKEYADDON__JSON_MAX_DEPTH))
        return NULL;
    return yajl_tree_parse(text, NULL, 0);
}

static void *gen_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return valkeyaddon__malloc(size);
}

static void *gen_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return valkeyaddon__realloc(ptr, size);
}

static void gen_free(void *ctx, void *ptr)
{
    (void)ctx;
    valkeyaddon__free(ptr);
}

static int gen_node(yajl_gen g, yajl_val v)
{
    size_t i;

    if (YAJL_IS_OBJECT(v)) {
        if (yajl_gen_map_open(g) != yajl_gen_status_ok)
            return -1;
        for (i = 0; i < v->u.object.len; i++)
            if (yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i], strlen(v->u.object.keys[i])) !=
                    yajl_gen_status_ok ||
                gen_node(g, v->u.object.values[i]) < 0)
                return -1;
        return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
    }
    if (YAJL_IS_ARRAY(v)) {
        if (yajl_gen_array_open(g) != yajl_gen_status_ok)
            return -1;
        for (i = 0; i < v->u.array.len; i++)
            if (gen_node(g, v->u.array.values[i]) < 0)
                return -1;
        return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
    }
    if (YAJL_IS_STRING(v))
        return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string)) == yajl_gen_status_ok
                   ? 0 : -1;
    if (YAJL_IS_NUMBER(v))
        return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)) == yajl_gen_status_ok ? 0 : -1;
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        return yajl_gen_bool(g, YAJL_IS_TRUE(v)) == yajl_gen_status_ok ? 0 : -1;
    return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
}

int valkeyaddon__json_tree_to_text(char **out, size_t *len, yajl_val node)
{
    static const yajl_alloc_funcs funcs = { gen_malloc, gen_realloc, gen_free, NULL };
    yajl_gen g = yajl_gen_alloc(&funcs);
    const unsigned char *buf;
    size_t buf_len;
    int rc = VALKEYADDON_ENOMEM;

    if (!g)
        return VALKEYADDON_ENOMEM;
    if (gen_node(g, node) == 0 && yajl_gen_get_buf(g, &buf, &buf_len) == yajl_gen_status_ok &&
        (*out = valkeyaddon__malloc(buf_len + 1))) {
        memcpy(*out, buf, buf_len);
        (*out)[buf_len] = '\0';
        if (len)
            *len = buf_len;
        OPENSSL_cleanse((void *)buf, buf_len);
        rc = VALKEYADDON_OK;
    }
    yajl_gen_free(g);
    return rc;
}

static yajl_val at(yajl_val root, const char *a, const char *b, const char *c, yajl_type type)
{
    const char *path[4];

    path[0] = a;
    path[1] = b;
    path[2] = b ? c : NULL;
    path[3] = NULL;
    return root ? yajl_tree_get(root, path, type) : NULL;
}

const char *valkeyaddon__json_string(yajl_val root, const char *a, const char *b, const char *c)
{
    yajl_val v = at(root, a, b, c, yajl_t_string);

    return v ? v->u.string : NULL;
}

int64_t valkeyaddon__json_int(yajl_val root, int64_t fallback, const char *a, const char *b, const char *c)
{
    yajl_val v = at(root, a, b, c, yajl_t_number);

    return v && YAJL_IS_INTEGER(v) ? (int64_t)v->u.number.i : fallback;
}
