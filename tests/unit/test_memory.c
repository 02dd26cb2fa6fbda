/* The replaceable allocator: routing, partial sets, failure. */
#include "helpers.h"

#include <stdlib.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_memory__contexts_use_the_replacement, restore),
        cmocka_unit_test_teardown(test_memory__allocation_failure_is_enomem, restore),
        cmocka_unit_test_teardown(test_memory__partial_replacement_is_refused, restore),
    };
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
