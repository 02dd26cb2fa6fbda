/* Wiping yajl trees (json_wipe.h). Its own file: the CLI compiles it with json_yaml.c. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "json_wipe.h"

static void wipe_text(const char *s)
{
    if (s)
        OPENSSL_cleanse((char *)s, strlen(s));
}

void valkeyaddon__json_wipe(yajl_val v)
{
    size_t i;

    if (!v)
        return;
    if (YAJL_IS_OBJECT(v)) {
        for (i = 0; i < v->u.object.len; i++) {
            wipe_text(v->u.object.keys[i]);
            valkeyaddon__json_wipe(v->u.object.values[i]);
        }
    } else if (YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len; i++)
            valkeyaddon__json_wipe(v->u.array.values[i]);
    } else if (YAJL_IS_STRING(v)) {
        wipe_text(v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        wipe_text(v->u.number.r);
    }
}

void valkeyaddon__json_free_secret(yajl_val node)
{
    valkeyaddon__json_wipe(node);
    yajl_tree_free(node);
}
