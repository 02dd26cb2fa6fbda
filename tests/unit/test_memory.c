/* The replaceable allocator: routing, partial sets, failure. */
#define _GNU_SOURCE /* memmem */
#include "helpers.h"

#include <stdlib.h>

#include <openssl/evp.h>

static int mallocs, frees, fail_after = -1;

static void *counting_malloc(size_t size)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    mallocs++;
    return malloc(size);
}

static void *counting_realloc(void *ptr, size_t size)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(ptr, size);
}

static void *counting_calloc(size_t count, size_t size)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    mallocs++;
    return calloc(count, size);
}

static void counting_free(void *ptr)
{
    frees++;
    free(ptr);
}

static int restore(void **state)
{
    (void)state;
    fail_after = -1;
    return valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL);
}

static void test_memory__contexts_use_the_replacement(void **state)
{
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    mallocs = frees = 0;
    assert_int_equal(valkeyaddon_replace_allocator(counting_malloc, counting_realloc, counting_calloc,
                                                   counting_free), 0);
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_true(mallocs >= 1);
    valkeyaddon_ctx_free(ctx);
    /* Every allocation is released through the same allocator. */
    assert_int_equal(frees, mallocs);
}

static void test_memory__allocation_failure_is_enomem(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    int n, rc;

    (void)state;
    assert_int_equal(valkeyaddon_replace_allocator(counting_malloc, counting_realloc, counting_calloc,
                                                   counting_free), 0);
    /* Fail the Nth allocation, N rising until the call succeeds; nothing may leak meanwhile. */
    for (n = 0;; n++) {
        mallocs = frees = 0;
        fail_after = n;
        rc = valkeyaddon_ctx_new(&ctx, NULL);
        if (rc == 0)
            break;
        assert_int_equal(rc, VALKEYADDON_ENOMEM);
        assert_null(ctx);
        assert_int_equal(frees, mallocs);
        assert_true(n < 100);
    }
    fail_after = -1;
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(frees, mallocs);
}

static void test_memory__partial_replacement_is_refused(void **state)
{
    (void)state;
    assert_int_equal(valkeyaddon_replace_allocator(counting_malloc, NULL, NULL, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_replace_allocator(counting_malloc, counting_realloc, counting_calloc, NULL),
                     VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL), 0);
    valkeyaddon_free(NULL);
}

/*
 * A recording allocator: each block carries its size in a header, and its
 * content is copied aside when it is freed (a realloc frees the old block:
 * the copy is what a realloc that moves leaves behind, unwiped, in the heap).
 * The copies are searched afterwards for the password, once it is known.
 */
union header {
    size_t size;
    long double align;
};

static struct freed {
    char *bytes;
    size_t len;
} *freed;
static size_t n_freed, cap_freed;

static void *recording_malloc(size_t size)
{
    /* Zeroed: the free-time copy reads whole blocks, the bytes the library never wrote too (valgrind). */
    union header *h = calloc(1, sizeof(*h) + size);

    if (!h)
        return NULL;
    h->size = size;
    return h + 1;
}

static void *recording_calloc(size_t count, size_t size)
{
    void *p = count && size > ((size_t)-1) / count ? NULL : recording_malloc(count * size);

    if (p)
        memset(p, 0, count * size);
    return p;
}

static void recording_free(void *ptr)
{
    union header *h = ptr ? (union header *)ptr - 1 : NULL;

    if (!h)
        return;
    if (n_freed == cap_freed) {
        cap_freed = cap_freed ? 2 * cap_freed : 1024;
        freed = realloc(freed, cap_freed * sizeof(*freed));
        assert_non_null(freed);
    }
    freed[n_freed].bytes = malloc(h->size ? h->size : 1);
    assert_non_null(freed[n_freed].bytes);
    memcpy(freed[n_freed].bytes, ptr, h->size);
    freed[n_freed++].len = h->size;
    free(h);
}

/* Always moves, as a realloc may: the old block is freed (and recorded) with its content. */
static void *recording_realloc(void *ptr, size_t size)
{
    void *p;
    size_t old;

    if (!ptr)
        return recording_malloc(size);
    if (!(p = recording_malloc(size)))
        return NULL;
    old = ((union header *)ptr - 1)->size;
    memcpy(p, ptr, old < size ? old : size);
    recording_free(ptr);
    return p;
}

static void record_start(void)
{
    n_freed = 0;
    assert_int_equal(valkeyaddon_replace_allocator(recording_malloc, recording_realloc, recording_calloc,
                                                   recording_free), 0);
}

/* How many recorded blocks hold the secret or its base64 (as a Secret's data has it); frees the records. */
static int record_count(const char *secret)
{
    unsigned char b64[256];
    size_t i, slen = strlen(secret);
    int found = 0, blen;

    assert_int_equal(valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL), 0);
    assert_true(slen > 8 && slen < 180);
    blen = EVP_EncodeBlock(b64, (const unsigned char *)secret, (int)slen);
    for (i = 0; i < n_freed; i++) {
        if (memmem(freed[i].bytes, freed[i].len, secret, slen) ||
            memmem(freed[i].bytes, freed[i].len, b64, (size_t)blen - 2))
            found++;
        free(freed[i].bytes);
    }
    free(freed);
    freed = NULL;
    n_freed = cap_freed = 0;
    return found;
}

#define WATCHED "Wiped0Before0Free0123456789abcdefXY"

/* A plugin handing the library a Secret in small pieces (as libcurl does): growth leaves no copy. */
static void test_memory__grown_buffers_leave_no_copy_of_a_secret(void **state)
{
    valkeyaddon_buffer *buf = NULL;
    char chunk[64];
    int i;

    (void)state;
    record_start();
    assert_int_equal(valkeyaddon_buffer_new(&buf), 0);
    assert_int_equal(valkeyaddon_buffer_append(buf, "{\"data\":{\"password\":\"" WATCHED "\"},", 56), 0);
    for (i = 0; i < 200; i++) {
        snprintf(chunk, sizeof(chunk), "\"padding-%03d\":\"%s\",", i, "xxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(valkeyaddon_buffer_append(buf, chunk, strlen(chunk)), 0);
    }
    valkeyaddon_buffer_free(buf);
    assert_int_equal(record_count(WATCHED), 0);
}

/* Provision, read back, print the URL (memory transport): no freed block holds the password. */
static void test_memory__blocks_freed_after_a_provision_hold_no_password(void **state)
{
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_transport *t = NULL;
    valkeyaddon_buffer *url = NULL;
    valkeyaddon_ctx *ctx = NULL;
    char password[128];
    const char *text, *colon, *at;

    (void)state;
    record_start();
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_transport_memory_new(&t), 0);
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, t), 0);
    assert_int_equal(ensure_valkey(&result, ctx, "ns", "acme", "web", "standard"), 0);
    assert_int_equal(ensure_redis_url_secret(ctx, "ns", "acme", "web"), 0);
    assert_int_equal(ensure_valkey(&result, ctx, "ns", "acme", "web", "standard"), 0);
    assert_int_equal(valkeyaddon_buffer_new(&url), 0);
    assert_int_equal(valkeyaddon_redis_url(url, ctx, "ns", "acme", "web"), 0);
    text = valkeyaddon_buffer_data(url, NULL);
    colon = strchr(text + strlen("redis://"), ':');
    at = strrchr(text, '@');
    assert_non_null(colon);
    assert_non_null(at);
    assert_true(at > colon && (size_t)(at - colon) < sizeof(password));
    memcpy(password, colon + 1, (size_t)(at - colon - 1));
    password[at - colon - 1] = '\0';
    valkeyaddon_buffer_free(url);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(record_count(password), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_memory__contexts_use_the_replacement, restore),
        cmocka_unit_test_teardown(test_memory__allocation_failure_is_enomem, restore),
        cmocka_unit_test_teardown(test_memory__partial_replacement_is_refused, restore),
        cmocka_unit_test_teardown(test_memory__grown_buffers_leave_no_copy_of_a_secret, restore),
        cmocka_unit_test_teardown(test_memory__blocks_freed_after_a_provision_hold_no_password, restore),
    };
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
