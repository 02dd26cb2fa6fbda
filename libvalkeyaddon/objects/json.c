/* Compact JSON through yajl_gen, allocation-failure safe (json.h says why it is built this way). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "objects/json.h"

/*
 * yajl_gen_alloc() allocates the generator (hundreds of bytes: its state
 * stack), then its buffer struct (a few pointers) without checking the result.
 * A failure of that small allocation is answered from a reserve taken before
 * the call, so yajl never sees NULL where it cannot cope; begin() then
 * reports VALKEYADDON_ENOMEM all the same.
 */
#define RESERVE_SIZE 256

static void *hook_malloc(void *ctx, size_t size)
{
    struct valkeyaddon__jw *j = ctx;
    void *p = valkeyaddon__malloc(size);

    if (!p) {
        j->oom = 1;
        if (j->reserve && size <= RESERVE_SIZE) {
            p = j->reserve;
            j->reserve = NULL;
        }
    }
    return p;
}

static void *hook_realloc(void *ctx, void *ptr, size_t size)
{
    void *p = valkeyaddon__realloc(ptr, size);

    if (!p)
        ((struct valkeyaddon__jw *)ctx)->oom = 1;
    return p;
}

static void hook_free(void *ctx, void *ptr)
{
    (void)ctx;
    valkeyaddon__free(ptr);
}

static void wipe_output(struct valkeyaddon__jw *j)
{
    if (j->data) {
        OPENSSL_cleanse(j->data, j->cap);
        valkeyaddon__free(j->data);
    }
    j->data = NULL;
    j->len = j->cap = 0;
}

/* yajl's print callback: append, growing by copy-and-wipe so no stale copy of a Secret is left behind. */
static void print(void *ctx, const char *str, size_t len)
{
    struct valkeyaddon__jw *j = ctx;
    size_t cap, used;
    char *grown;

    if (j->oom || j->invalid)
        return;
    if (len >= ((size_t)-1) / 4 - j->len) {
        j->oom = 1;
        return;
    }
    if (j->len + len + 1 > j->cap) {
        cap = j->cap ? j->cap : 1024;
        while (cap < j->len + len + 1)
            cap *= 2;
        if (!(grown = valkeyaddon__malloc(cap))) {
            j->oom = 1;
            return;
        }
        used = j->len;
        if (used)
            memcpy(grown, j->data, used);
        wipe_output(j);
        j->data = grown;
        j->len = used;
        j->cap = cap;
    }
    memcpy(j->data + j->len, str, len);
    j->len += len;
    j->data[j->len] = '\0';
}

int valkeyaddon__jw_begin(struct valkeyaddon__jw *j)
{
    yajl_alloc_funcs funcs;

    memset(j, 0, sizeof(*j));
    if (!(j->reserve = valkeyaddon__malloc(RESERVE_SIZE))) {
        j->oom = 1;
        return VALKEYADDON_ENOMEM;
    }
    funcs.malloc = hook_malloc;
    funcs.realloc = hook_realloc;
    funcs.free = hook_free;
    funcs.ctx = j;
    j->gen = yajl_gen_alloc(&funcs);
    valkeyaddon__free(j->reserve); /* NULL when it was handed to yajl */
    j->reserve = NULL;
    if (j->gen && j->oom) {
        yajl_gen_free(j->gen);
        j->gen = NULL;
    }
    if (!j->gen) {
        j->oom = 1; /* stays set: events do nothing, finish() reports it */
        return VALKEYADDON_ENOMEM;
    }
    /* Frees the default buffer; output goes to print() from now on. */
    yajl_gen_config(j->gen, yajl_gen_print_callback, print, j);
    yajl_gen_config(j->gen, yajl_gen_beautify, 0);
    return VALKEYADDON_OK;
}

void valkeyaddon__jw_abort(struct valkeyaddon__jw *j)
{
    if (j->gen)
        yajl_gen_free(j->gen);
    j->gen = NULL;
    wipe_output(j);
}

int valkeyaddon__jw_finish(struct valkeyaddon__jw *j, char **out, size_t *out_len)
{
    int error = VALKEYADDON_OK;

    if (j->oom)
        error = VALKEYADDON_ENOMEM;
    else if (j->invalid || !j->data)
        error = VALKEYADDON_ERROR;
    if (error < 0) {
        valkeyaddon__jw_abort(j);
        return error;
    }
    yajl_gen_free(j->gen);
    j->gen = NULL;
    *out = j->data;
    *out_len = j->len;
    j->data = NULL;
    j->len = j->cap = 0;
    return VALKEYADDON_OK;
}

static void check(struct valkeyaddon__jw *j, yajl_gen_status status)
{
    if (status != yajl_gen_status_ok)
        j->invalid = 1;
}

#define LIVE(j) ((j)->gen && !(j)->oom && !(j)->invalid)

void valkeyaddon__jw_map_open(struct valkeyaddon__jw *j)
{
    if (LIVE(j))
        check(j, yajl_gen_map_open(j->gen));
}

void valkeyaddon__jw_map_close(struct valkeyaddon__jw *j)
{
    if (LIVE(j))
        check(j, yajl_gen_map_close(j->gen));
}

void valkeyaddon__jw_array_open(struct valkeyaddon__jw *j)
{
    if (LIVE(j))
        check(j, yajl_gen_array_open(j->gen));
}

void valkeyaddon__jw_array_close(struct valkeyaddon__jw *j)
{
    if (LIVE(j))
        check(j, yajl_gen_array_close(j->gen));
}

void valkeyaddon__jw_stringn(struct valkeyaddon__jw *j, const char *value, size_t len)
{
    if (LIVE(j))
        check(j, yajl_gen_string(j->gen, (const unsigned char *)value, len));
}

void valkeyaddon__jw_string(struct valkeyaddon__jw *j, const char *value)
{
    valkeyaddon__jw_stringn(j, value, strlen(value));
}

void valkeyaddon__jw_key(struct valkeyaddon__jw *j, const char *key)
{
    valkeyaddon__jw_stringn(j, key, strlen(key));
}

void valkeyaddon__jw_int(struct valkeyaddon__jw *j, long long value)
{
    if (LIVE(j))
        check(j, yajl_gen_integer(j->gen, value));
}

void valkeyaddon__jw_bool(struct valkeyaddon__jw *j, int value)
{
    if (LIVE(j))
        check(j, yajl_gen_bool(j->gen, value != 0));
}

void valkeyaddon__jw_null(struct valkeyaddon__jw *j)
{
    if (LIVE(j))
        check(j, yajl_gen_null(j->gen));
}

void valkeyaddon__jw_number(struct valkeyaddon__jw *j, const char *text, size_t len)
{
    if (LIVE(j))
        check(j, yajl_gen_number(j->gen, text, len));
}

void valkeyaddon__jw_kv_string(struct valkeyaddon__jw *j, const char *key, const char *value)
{
    valkeyaddon__jw_key(j, key);
    valkeyaddon__jw_string(j, value);
}

void valkeyaddon__jw_kv_int(struct valkeyaddon__jw *j, const char *key, long long value)
{
    valkeyaddon__jw_key(j, key);
    valkeyaddon__jw_int(j, value);
}

void valkeyaddon__jw_kv_bool(struct valkeyaddon__jw *j, const char *key, int value)
{
    valkeyaddon__jw_key(j, key);
    valkeyaddon__jw_bool(j, value);
}

void valkeyaddon__jw_key_map(struct valkeyaddon__jw *j, const char *key)
{
    valkeyaddon__jw_key(j, key);
    valkeyaddon__jw_map_open(j);
}

void valkeyaddon__jw_key_array(struct valkeyaddon__jw *j, const char *key)
{
    valkeyaddon__jw_key(j, key);
    valkeyaddon__jw_array_open(j);
}
