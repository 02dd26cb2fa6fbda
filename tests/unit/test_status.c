/* parse_valkey_status: the spec's table and the corners it leaves open. */
#include "helpers.h"

struct status_case {
    int32_t ready, desired;
    int expected;
};

static void test_status__spec_table(void **state)
{
    static const struct status_case cases[] = {
        /* ready == desired (both > 0): Ready */
        { 1, 1, VALKEYADDON_STATUS_READY },
        { 3, 3, VALKEYADDON_STATUS_READY },
        /* ready == 0: Creating */
        { 0, 1, VALKEYADDON_STATUS_CREATING },
        { 0, 3, VALKEYADDON_STATUS_CREATING },
        /* 0 < ready < desired: Failed */
        { 1, 3, VALKEYADDON_STATUS_FAILED },
        { 2, 3, VALKEYADDON_STATUS_FAILED },
        { 1, 2, VALKEYADDON_STATUS_FAILED },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(parse_valkey_status(cases[i].ready, cases[i].desired), cases[i].expected);
}

static void test_status__corners(void **state)
{
    (void)state;
    /* Scaled to zero: nothing serves, nothing died. */
    assert_int_equal(parse_valkey_status(0, 0), VALKEYADDON_STATUS_CREATING);
    assert_int_equal(parse_valkey_status(2, 0), VALKEYADDON_STATUS_CREATING);
    /* Scale-down in progress: every desired replica is ready. */
    assert_int_equal(parse_valkey_status(3, 1), VALKEYADDON_STATUS_READY);
    assert_int_equal(parse_valkey_status(INT32_MAX, 3), VALKEYADDON_STATUS_READY);
    /* Negative counts are a caller bug. */
    assert_int_equal(parse_valkey_status(-1, 1), VALKEYADDON_EINVAL);
    assert_int_equal(parse_valkey_status(1, -1), VALKEYADDON_EINVAL);
    assert_int_equal(parse_valkey_status(INT32_MIN, INT32_MIN), VALKEYADDON_EINVAL);
}

static void test_status__names(void **state)
{
    (void)state;
    assert_string_equal(valkeyaddon_status_name(VALKEYADDON_STATUS_CREATING), "Creating");
    assert_string_equal(valkeyaddon_status_name(VALKEYADDON_STATUS_READY), "Ready");
    assert_string_equal(valkeyaddon_status_name(VALKEYADDON_STATUS_FAILED), "Failed");
    assert_null(valkeyaddon_status_name(0));
    assert_null(valkeyaddon_status_name(4));
    assert_null(valkeyaddon_status_name(VALKEYADDON_EINVAL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status__spec_table),
        cmocka_unit_test(test_status__corners),
        cmocka_unit_test(test_status__names),
    };
    return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
