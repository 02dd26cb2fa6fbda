/* Secret data lookup: yajl's tree, then strict base64. */
#include "config.h"

#include <string.h>

#include <yajl/yajl_tree.h>

#include "valkeyaddon/errors.h"
#include "secret_data.h"
#include "util/base64.h"
#include "util/json_tree.h"
#include "util/json_wipe.h"

int valkeyaddon__secret_data(unsigned char **value, size_t *len, const char *json, const char *key)
{
    const char *path[3];
    yajl_val root, node;
    int error;

    /* No error buffer: parser messages may quote the input, which holds secrets. */
    if (!(root = valkeyaddon__json_parse(json)))
        return VALKEYADDON_EINVAL;
    if (!YAJL_IS_OBJECT(root)) {
        valkeyaddon__json_free_secret(root);
        return VALKEYADDON_EINVAL;
    }
    path[0] = "data";
    path[1] = key;
    path[2] = NULL;
    node = yajl_tree_get(root, path, yajl_t_any);
    if (!node)
        error = VALKEYADDON_ENOTFOUND;
    else if (!YAJL_IS_STRING(node))
        error = VALKEYADDON_EINVAL;
    else
        error = valkeyaddon__base64_decode(value, len, node->u.string, strlen(node->u.string));
    valkeyaddon__json_free_secret(root);
    return error;
}
