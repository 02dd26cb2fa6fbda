/*
 * A thin layer over yajl_gen for the object builder: compact JSON, every
 * allocation through the library's allocator, and a sticky failure flag so a
 * builder can emit a whole object and check once at the end.
 *
 * Two yajl behaviours shape it (yajl 2.1, src/yajl_gen.c and yajl_buf.c):
 * - yajl's own output buffer never checks its allocations (a failed realloc
 *   is dereferenced), so output goes through a print callback into a buffer
 *   of ours that does;
 * - yajl_gen_alloc() does not check the allocation of that (unused)
 *   buffer's struct either: begin() keeps a small reserve to answer that one
 *   allocation if it fails (json.c), then reports the failure itself.
 *
 * The output may hold a password (the Secrets): growing the buffer copies and
 * wipes instead of realloc(), and abort()/failures wipe before freeing.
 */
#ifndef VALKEYADDON_OBJECTS_JSON_H
#define VALKEYADDON_OBJECTS_JSON_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

struct valkeyaddon__jw {
    yajl_gen gen;           /* its allocation hooks point here: the struct must not move */
    void *reserve;          /* only during begin(): see json.c */
    char *data;             /* NUL-terminated output so far */
    size_t len;
    size_t cap;
    int oom;     /* an allocation failed: finish() gives VALKEYADDON_ENOMEM */
    int invalid; /* yajl refused an event (a builder bug): finish() gives VALKEYADDON_ERROR */
    /* Where the applied-hash annotation goes (objects.h, struct valkeyaddon__object); set by labels.c. */
    size_t stamp_at;
    int stamp_where;
};

/*
 * Start a document. 0 or VALKEYADDON_ENOMEM; after a failure nothing is
 * allocated, later events do nothing and finish() reports VALKEYADDON_ENOMEM,
 * so a caller may ignore the result and check once at the end.
 */
int valkeyaddon__jw_begin(struct valkeyaddon__jw *j);

/*
 * End the document: on success *out (valkeyaddon__malloc'd, NUL-terminated,
 * compact) and *out_len receive it and 0 is returned; otherwise
 * VALKEYADDON_ENOMEM or VALKEYADDON_ERROR, with nothing allocated. Either way
 * the generator is released.
 */
int valkeyaddon__jw_finish(struct valkeyaddon__jw *j, char **out, size_t *out_len);

/* Release everything, wiping the output. Safe after a failed begin() and after finish(). */
void valkeyaddon__jw_abort(struct valkeyaddon__jw *j);

/* Events. After a failure they do nothing. */
void valkeyaddon__jw_map_open(struct valkeyaddon__jw *j);
void valkeyaddon__jw_map_close(struct valkeyaddon__jw *j);
void valkeyaddon__jw_array_open(struct valkeyaddon__jw *j);
void valkeyaddon__jw_array_close(struct valkeyaddon__jw *j);
void valkeyaddon__jw_key(struct valkeyaddon__jw *j, const char *key);
void valkeyaddon__jw_string(struct valkeyaddon__jw *j, const char *value);
void valkeyaddon__jw_stringn(struct valkeyaddon__jw *j, const char *value, size_t len);
void valkeyaddon__jw_int(struct valkeyaddon__jw *j, long long value);
void valkeyaddon__jw_bool(struct valkeyaddon__jw *j, int value);
void valkeyaddon__jw_null(struct valkeyaddon__jw *j);
/* A number as parsed text ("1.5", "-3e2"), written as is. */
void valkeyaddon__jw_number(struct valkeyaddon__jw *j, const char *text, size_t len);

/* key: value pairs, the common case. */
void valkeyaddon__jw_kv_string(struct valkeyaddon__jw *j, const char *key, const char *value);
void valkeyaddon__jw_kv_int(struct valkeyaddon__jw *j, const char *key, long long value);
void valkeyaddon__jw_kv_bool(struct valkeyaddon__jw *j, const char *key, int value);
/* key: { (the caller closes the map) */
void valkeyaddon__jw_key_map(struct valkeyaddon__jw *j, const char *key);
/* key: [ (the caller closes the array) */
void valkeyaddon__jw_key_array(struct valkeyaddon__jw *j, const char *key);

#endif
