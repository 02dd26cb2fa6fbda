/* Small helpers over yajl's tree: serialise a node, read typed fields. */
#ifndef VALKEYADDON_UTIL_JSON_TREE_H
#define VALKEYADDON_UTIL_JSON_TREE_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

/*
 * Deepest nesting valkeyaddon__json_parse accepts. yajl builds trees of any
 * depth and frees them recursively, so a body of a few MB of '[' from a
 * server (or a file) would overflow the stack; the objects the library reads
 * are never nested more than a few tens deep.
 */
#define VALKEYADDON__JSON_MAX_DEPTH 1000

/*
 * yajl_tree_parse(text, NULL, 0) for outside input (API server answers, watch
 * events, plugin output, files): NULL also when nested deeper than the limit.
 * Every parse of such text goes through here; a bare yajl_tree_parse() is
 * only for text the library built itself.
 */
yajl_val valkeyaddon__json_parse(const char *text);

/* Compact JSON text of a node; *out is valkeyaddon__malloc'd. 0 or VALKEYADDON_ENOMEM. */
int valkeyaddon__json_tree_to_text(char **out, size_t *len, yajl_val node);

/* The string at a path (NULL-terminated keys), or NULL. */
const char *valkeyaddon__json_string(yajl_val root, const char *a, const char *b, const char *c);
/* The integer at a path, or fallback when absent or not an integer. */
int64_t valkeyaddon__json_int(yajl_val root, int64_t fallback, const char *a, const char *b, const char *c);

#endif
