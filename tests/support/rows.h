/* Row comparisons shared by the C tests (header only: cmocka's includes come first). */
#ifndef VALKEYADDON_TESTS_SUPPORT_ROWS_H
#define VALKEYADDON_TESTS_SUPPORT_ROWS_H

#include <valkeyaddon.h>

/* Every member a caller writes is equal (not the timestamps, which the storage sets). */
static inline void assert_row_content_equal(const valkeyaddon_addon_row *a, const valkeyaddon_addon_row *b)
{
    assert_string_equal(a->app_id, b->app_id);
    assert_string_equal(a->addon_type, b->addon_type);
    assert_string_equal(a->tenant_id, b->tenant_id);
    assert_string_equal(a->plan, b->plan);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->status_message, b->status_message);
    assert_string_equal(a->resource_name, b->resource_name);
    assert_string_equal(a->namespace_, b->namespace_);
}

#endif
