/* Error codes: explicit, stable values and a description for each. */
#include "helpers.h"

static void test_errors__values_are_stable(void **state)
{
    (void)state;
    /* Bindings hard-code these; a renumbering must fail here. */
    assert_int_equal(VALKEYADDON_OK, 0);
    assert_int_equal(VALKEYADDON_ERROR, -1);
    assert_int_equal(VALKEYADDON_EINVAL, -2);
    assert_int_equal(VALKEYADDON_ENOMEM, -3);
    assert_int_equal(VALKEYADDON_EVERSION, -4);
    assert_int_equal(VALKEYADDON_ENOTFOUND, -5);
    assert_int_equal(VALKEYADDON_EEXISTS, -6);
    assert_int_equal(VALKEYADDON_ECONFLICT, -7);
    assert_int_equal(VALKEYADDON_ETIMEOUT, -8);
    assert_int_equal(VALKEYADDON_EUNAUTHORIZED, -9);
    assert_int_equal(VALKEYADDON_EFORBIDDEN, -10);
    assert_int_equal(VALKEYADDON_EUNAVAILABLE, -11);
    assert_int_equal(VALKEYADDON_ETHROTTLED, -12);
    assert_int_equal(VALKEYADDON_EREJECTED, -13);
    assert_int_equal(VALKEYADDON_ESTORAGE, -14);
    assert_int_equal(VALKEYADDON_EFAILED, -15);
    assert_int_equal(VALKEYADDON_EIO, -16);
    assert_int_equal(VALKEYADDON_ECONFIG, -17);
    assert_int_equal(VALKEYADDON_ETLS, -18);
    assert_int_equal(VALKEYADDON_ESERVER, -19);
    assert_int_equal(VALKEYADDON_ENOTSUPPORTED, -20);
    assert_int_equal(VALKEYADDON_EDATALOSS, -21);
}

static void test_errors__every_code_has_its_own_description(void **state)
{
    int a, b;

    (void)state;
    for (a = VALKEYADDON_EDATALOSS; a <= VALKEYADDON_OK; a++) {
        const char *text = valkeyaddon_strerror(a);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        assert_string_not_equal(text, "unknown error code");
        for (b = a + 1; b <= VALKEYADDON_OK; b++)
            assert_string_not_equal(text, valkeyaddon_strerror(b));
    }
    assert_string_equal(valkeyaddon_strerror(VALKEYADDON_OK), "success");
    assert_string_equal(valkeyaddon_strerror(VALKEYADDON_EINVAL), "invalid argument");
}

static void test_errors__unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(valkeyaddon_strerror(VALKEYADDON_EDATALOSS - 1), "unknown error code");
    assert_string_equal(valkeyaddon_strerror(1), "unknown error code");
    assert_string_equal(valkeyaddon_strerror(-1000), "unknown error code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors__values_are_stable),
        cmocka_unit_test(test_errors__every_code_has_its_own_description),
        cmocka_unit_test(test_errors__unknown_codes),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
