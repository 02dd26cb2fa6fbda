/* Version macros and the run-time version agree. */
#include "helpers.h"

#include "config.h"

static void test_version__runtime_matches_headers(void **state)
{
    int major = -1, minor = -1, patch = -1;
    char expected[32];

    (void)state;
    assert_string_equal(valkeyaddon_version(&major, &minor, &patch), VALKEYADDON_VERSION);
    assert_int_equal(major, VALKEYADDON_VERSION_MAJOR);
    assert_int_equal(minor, VALKEYADDON_VERSION_MINOR);
    assert_int_equal(patch, VALKEYADDON_VERSION_PATCH);
    snprintf(expected, sizeof(expected), "%d.%d.%d", major, minor, patch);
    assert_string_equal(expected, VALKEYADDON_VERSION);
    /* The package version (configure.ac) and the header must not drift apart. */
    assert_string_equal(PACKAGE_VERSION, VALKEYADDON_VERSION);
    assert_non_null(valkeyaddon_version(NULL, NULL, NULL));
}

static void test_version__num_and_at_least(void **state)
{
    (void)state;
    assert_int_equal(VALKEYADDON_VERSION_NUM,
                     (VALKEYADDON_VERSION_MAJOR << 16) | (VALKEYADDON_VERSION_MINOR << 8) | VALKEYADDON_VERSION_PATCH);
    assert_true(VALKEYADDON_AT_LEAST_VERSION(0, 0, 0));
    assert_true(VALKEYADDON_AT_LEAST_VERSION(VALKEYADDON_VERSION_MAJOR, VALKEYADDON_VERSION_MINOR,
                                             VALKEYADDON_VERSION_PATCH));
    assert_false(VALKEYADDON_AT_LEAST_VERSION(VALKEYADDON_VERSION_MAJOR, VALKEYADDON_VERSION_MINOR,
                                              VALKEYADDON_VERSION_PATCH + 1));
    assert_false(VALKEYADDON_AT_LEAST_VERSION(VALKEYADDON_VERSION_MAJOR + 1, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version__runtime_matches_headers),
        cmocka_unit_test(test_version__num_and_at_least),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
