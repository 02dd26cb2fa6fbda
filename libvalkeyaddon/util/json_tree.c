/* yajl tree helpers (json_tree.h). */
#include "config.h"

#include <string.h>

#include "valkeyaddon/errors.h"
#include "objects/json.h"
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

/* Through the allocation-safe writer: yajl's own output buffer dereferences a failed allocation (json.h). */
static void gen_node(struct valkeyaddon__jw *j, yajl_val v)
{
    size_t i;

    if (YAJL_IS_OBJECT(v)) {
        valkeyaddon__jw_map_open(j);
        for (i = 0; i < v->u.object.len; i++) {
            valkeyaddon__jw_key(j, v->u.object.keys[i]);
            gen_node(j, v->u.object.values[i]);
        }
        valkeyaddon__jw_map_close(j);
    } else if (YAJL_IS_ARRAY(v)) {
        valkeyaddon__jw_array_open(j);
        for (i = 0; i < v->u.array.len; i++)
            gen_node(j, v->u.array.values[i]);
        valkeyaddon__jw_array_close(j);
    } else if (YAJL_IS_STRING(v)) {
        valkeyaddon__jw_string(j, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        valkeyaddon__jw_number(j, v->u.number.r, strlen(v->u.number.r));
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        valkeyaddon__jw_bool(j, YAJL_IS_TRUE(v));
    } else {
        valkeyaddon__jw_null(j);
    }
}

int valkeyaddon__json_tree_to_text(char **out, size_t *len, yajl_val node)
{
    struct valkeyaddon__jw j;
    size_t ignored;

    valkeyaddon__jw_begin(&j); /* a failure here makes finish() report it */
    gen_node(&j, node);
    return valkeyaddon__jw_finish(&j, out, len ? len : &ignored) == VALKEYADDON_OK ? VALKEYADDON_OK
                                                                                    : VALKEYADDON_ENOMEM;
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
