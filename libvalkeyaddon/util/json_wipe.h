/* Wiping yajl trees that may hold a Secret before they are freed. */
#ifndef VALKEYADDON_UTIL_JSON_WIPE_H
#define VALKEYADDON_UTIL_JSON_WIPE_H

#include <yajl/yajl_tree.h>

/*
 * Overwrite every string, key and number text of a tree with zeros (lengths
 * kept, so the tree stays well-formed but empty). yajl_tree_free() does not
 * wipe: a tree parsed from a Secret would leave its data in freed memory.
 * The recursion is bounded: every tree comes from valkeyaddon__json_parse's
 * depth guard, yajl over our own output, or the library's own objects.
 */
void valkeyaddon__json_wipe(yajl_val node);
/* valkeyaddon__json_wipe(), then yajl_tree_free(): for any tree that may hold a Secret. NULL is a no-op. */
void valkeyaddon__json_free_secret(yajl_val node);

#endif
