/* Object names: the spec's pattern, the 52-character limit, hashing, validation. */
#include "helpers.h"

#include <stdlib.h>

#define UUID_T "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UUID_A "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

/* A StatefulSet name whose pods can start: DNS-1035 label, 1 to 52 characters. */
static int is_valid_statefulset_name(const char *s)
{
    size_t len = strlen(s), i;

    if (len == 0 || len > 52 || s[0] < 'a' || s[0] > 'z' || s[len - 1] == '-')
        return 0;
    for (i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static void repeat(char *out, char c, size_t n)
{
    memset(out, c, n);
    out[n] = '\0';
}

static void test_naming__exact_when_it_fits(void **state)
{
    static const struct { const char *tenant, *app, *expected; } cases[] = {
        { "acme", "web", "valkey-acme-web" },
        { "t1", "a1", "valkey-t1-a1" },
        { "acme-corp", "shop-api", "valkey-acme-corp-shop-api" },
        { "0", "9", "valkey-0-9" },
    };
    char name[VALKEYADDON_NAME_BUFSIZE];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(valkey_name(name, sizeof(name), NULL, cases[i].tenant, cases[i].app), 0);
        assert_string_equal(name, cases[i].expected);
    }
}

/* Full lengths 51 and 52 are kept exactly; 53 and 54 are shortened to 52 with a hash. */
static void test_naming__boundaries(void **state)
{
    char app[64], name[VALKEYADDON_NAME_BUFSIZE], expected[128];
    size_t full;

    (void)state;
    for (full = 51; full <= 54; full++) {
        /* "valkey-acme-" is 12 characters. */
        repeat(app, 'x', full - 12);
        snprintf(expected, sizeof(expected), "valkey-acme-%s", app);
        assert_int_equal(strlen(expected), full);
        if (full <= 52) {
            assert_int_equal(valkey_name(name, sizeof(name), NULL, "acme", app), 0);
            assert_string_equal(name, expected);
        } else {
            assert_int_equal(valkey_name(name, sizeof(name), NULL, "acme", app), VALKEYADDON_NAME_SHORTENED);
            assert_int_equal(strlen(name), 52);
            assert_true(is_valid_statefulset_name(name));
            assert_memory_equal(name, expected, 37);
            assert_memory_equal(name + 37, "--", 2);
        }
    }
}

static void test_naming__uuid_ids(void **state)
{
    char name[VALKEYADDON_NAME_BUFSIZE], again[VALKEYADDON_NAME_BUFSIZE];

    (void)state;
    assert_int_equal(valkey_name(name, sizeof(name), NULL, UUID_T, UUID_A), VALKEYADDON_NAME_SHORTENED);
    /* Pinned: a change here would rename every existing add-on. Computed independently
     * (Python: base32 of SHA-256 over the length-prefixed ids). */
    assert_string_equal(name, "valkey-1b4e28ba-2fa1-11d2-883f-0016d3--r3qfri7yliuf3");
    assert_true(is_valid_statefulset_name(name));
    assert_int_equal(valkey_name(again, sizeof(again), NULL, UUID_T, UUID_A), VALKEYADDON_NAME_SHORTENED);
    assert_string_equal(name, again);
    /* Swapping tenant and app gives another name. */
    assert_int_equal(valkey_name(again, sizeof(again), NULL, UUID_A, UUID_T), VALKEYADDON_NAME_SHORTENED);
    assert_string_not_equal(name, again);
}

static void test_naming__pinned_short_form(void **state)
{
    char app[64], name[VALKEYADDON_NAME_BUFSIZE];

    (void)state;
    repeat(app, 'x', 46);
    assert_int_equal(valkey_name(name, sizeof(name), NULL, "acme", app), VALKEYADDON_NAME_SHORTENED);
    assert_string_equal(name, "valkey-acme-xxxxxxxxxxxxxxxxxxxxxxxxx--s7n4jxtcir5wu");
}

static void test_naming__prefix_never_ends_in_a_hyphen(void **state)
{
    char app[64], name[VALKEYADDON_NAME_BUFSIZE];

    (void)state;
    /* Characters 35 to 37 of the full name are '-', where the spec's truncation would cut. */
    strcpy(app, "abcdefghijklmnopqrstuvw---x-yyyyyyyyyyyyyyyyyyyyyyyy");
    assert_int_equal(valkey_name(name, sizeof(name), NULL, "acme", app), VALKEYADDON_NAME_SHORTENED);
    assert_true(is_valid_statefulset_name(name));
    assert_null(strstr(name, "---"));
    assert_memory_equal(name, "valkey-acme-abcdefghijklmnopqrstuvw--", 37);
}

static void test_naming__double_hyphen_ids_are_hashed(void **state)
{
    char name[VALKEYADDON_NAME_BUFSIZE];

    (void)state;
    /* An exact name never contains "--", so it cannot equal a shortened one. */
    assert_int_equal(valkey_name(name, sizeof(name), NULL, "a--b", "c"), VALKEYADDON_NAME_SHORTENED);
    assert_true(is_valid_statefulset_name(name));
    assert_int_equal(valkey_name(name, sizeof(name), NULL, "a", "b--c"), VALKEYADDON_NAME_SHORTENED);
    assert_true(is_valid_statefulset_name(name));
}

static void test_naming__spec_ambiguity_is_kept_when_exact(void **state)
{
    char one[VALKEYADDON_NAME_BUFSIZE], two[VALKEYADDON_NAME_BUFSIZE];

    (void)state;
    /* Documented in naming.h: the spec's own format joins these to the same string. */
    assert_int_equal(valkey_name(one, sizeof(one), NULL, "a-b", "c"), 0);
    assert_int_equal(valkey_name(two, sizeof(two), NULL, "a", "b-c"), 0);
    assert_string_equal(one, two);
}

static void test_naming__hashed_names_tell_pairs_apart(void **state)
{
    char tenant[64], app[64], one[VALKEYADDON_NAME_BUFSIZE], two[VALKEYADDON_NAME_BUFSIZE];

    (void)state;
    /* Long ids that join to the same string still hash differently. */
    repeat(tenant, 'a', 30);
    repeat(app, 'b', 30);
    strcat(tenant, "-x");
    assert_int_equal(valkey_name(one, sizeof(one), NULL, tenant, app), VALKEYADDON_NAME_SHORTENED);
    repeat(tenant, 'a', 30);
    snprintf(app, sizeof(app), "x-%s", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_int_equal(valkey_name(two, sizeof(two), NULL, tenant, app), VALKEYADDON_NAME_SHORTENED);
    assert_string_not_equal(one, two);
}

static void test_naming__invalid_ids(void **state)
{
    static const struct { const char *tenant, *app, *message; } cases[] = {
        { "", "web", "tenant_id: must not be empty" },
        { "acme", "", "app_id: must not be empty" },
        { "Acme", "web", "tenant_id: character 'A' at position 1 is not allowed" },
        { "acme", "we_b", "app_id: character '_' at position 3 is not allowed" },
        { "acme", "web.app", "app_id: character '.' at position 4 is not allowed" },
        { "ac me", "web", "tenant_id: byte 0x20 at position 3 is not allowed" },
        { "acme", "web\n", "app_id: byte 0x0a at position 4 is not allowed" },
        { "acm\xc3\xa9", "web", "tenant_id: byte 0xc3 at position 4 is not allowed" },
        { "-acme", "web", "tenant_id: must not start with '-'" },
        { "acme-", "web", "tenant_id: must not end with '-'" },
        { "acme", "-", "app_id: must not start with '-'" },
        { "acme", "0123456789012345678901234567890123456789012345678901234567890123",
          "app_id: is 64 characters long; at most 63 are allowed" },
    };
    char name[VALKEYADDON_NAME_BUFSIZE] = "untouched";
    valkeyaddon_ctx *ctx = NULL;
    size_t i;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(valkey_name(name, sizeof(name), ctx, cases[i].tenant, cases[i].app), VALKEYADDON_EINVAL);
        if (!strstr(valkeyaddon_ctx_error_message(ctx), cases[i].message))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, valkeyaddon_ctx_error_message(ctx), cases[i].message);
        assert_string_equal(name, "untouched");
    }
    assert_int_equal(valkey_name(name, sizeof(name), ctx, NULL, "web"), VALKEYADDON_EINVAL);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "tenant_id: must not be NULL");
    assert_int_equal(valkey_name(name, sizeof(name), ctx, "acme", NULL), VALKEYADDON_EINVAL);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "app_id: must not be NULL");
    /* A 63-character id is the longest allowed. */
    assert_int_equal(valkey_name(name, sizeof(name), ctx, "acme",
                                 "012345678901234567890123456789012345678901234567890123456789012"),
                     VALKEYADDON_NAME_SHORTENED);
    valkeyaddon_ctx_free(ctx);
}

static void test_naming__buffer_too_small(void **state)
{
    char name[16] = "untouched";
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkey_name(name, 15, ctx, "acme", "web"), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "out_size"));
    assert_string_equal(name, "untouched");
    assert_int_equal(valkey_name(name, 16, ctx, "acme", "web"), 0);
    assert_string_equal(name, "valkey-acme-web");
    assert_int_equal(valkey_name(NULL, 16, ctx, "acme", "web"), VALKEYADDON_EINVAL);
    assert_int_equal(valkey_name(name, sizeof(name), ctx, UUID_T, UUID_A), VALKEYADDON_EINVAL);
    valkeyaddon_ctx_free(ctx);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    /* xorshift64*: reproducible, so a failure can be replayed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void random_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int i;

    for (i = 0; i < 36; i++)
        out[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[next_random() & 15];
    out[14] = '4';
    out[36] = '\0';
}

#define PAIRS 100000

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void check_all_distinct_and_valid(char (*names)[VALKEYADDON_NAME_MAX + 1], size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (!is_valid_statefulset_name(names[i]))
            fail_msg("invalid name \"%s\"", names[i]);
    qsort(names, count, sizeof(names[0]), compare_names);
    for (i = 1; i < count; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            fail_msg("two pairs share the name \"%s\"", names[i]);
}

static void test_naming__no_collisions_over_random_uuid_pairs(void **state)
{
    char (*names)[VALKEYADDON_NAME_MAX + 1] = calloc(PAIRS, sizeof(*names));
    char tenant[37], app[37], name[VALKEYADDON_NAME_BUFSIZE];
    size_t i;

    (void)state;
    assert_non_null(names);
    for (i = 0; i < PAIRS; i++) {
        random_uuid(tenant);
        random_uuid(app);
        assert_int_equal(valkey_name(name, sizeof(name), NULL, tenant, app), VALKEYADDON_NAME_SHORTENED);
        strcpy(names[i], name);
    }
    check_all_distinct_and_valid(names, PAIRS);
    free(names);
}

/* The hard case: one tenant, many apps, so every name shares its readable prefix. */
static void test_naming__no_collisions_within_one_tenant(void **state)
{
    char (*names)[VALKEYADDON_NAME_MAX + 1] = calloc(PAIRS, sizeof(*names));
    char app[37], name[VALKEYADDON_NAME_BUFSIZE];
    size_t i;

    (void)state;
    assert_non_null(names);
    for (i = 0; i < PAIRS; i++) {
        random_uuid(app);
        assert_int_equal(valkey_name(name, sizeof(name), NULL, UUID_T, app), VALKEYADDON_NAME_SHORTENED);
        strcpy(names[i], name);
    }
    check_all_distinct_and_valid(names, PAIRS);
    free(names);
}

static void test_naming__auth_secret_name(void **state)
{
    static const char *const invalid[] = {
        "", "1abc", "abc-", "ABC", "a_b", "a.b",
        "a2345678901234567890123456789012345678901234567890123", /* 53 */
    };
    char out[VALKEYADDON_NAME_BUFSIZE], name[VALKEYADDON_NAME_BUFSIZE];
    valkeyaddon_ctx *ctx = NULL;
    size_t i;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_auth_secret_name(out, sizeof(out), ctx, "valkey-acme-web"), 0);
    assert_string_equal(out, "valkey-acme-web-auth");
    assert_int_equal(valkey_name(name, sizeof(name), ctx, UUID_T, UUID_A), VALKEYADDON_NAME_SHORTENED);
    assert_int_equal(valkeyaddon_auth_secret_name(out, sizeof(out), ctx, name), 0);
    assert_int_equal(strlen(out), 57);
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        assert_int_equal(valkeyaddon_auth_secret_name(out, sizeof(out), ctx, invalid[i]), VALKEYADDON_EINVAL);
        assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "name"));
    }
    assert_int_equal(valkeyaddon_auth_secret_name(out, sizeof(out), ctx, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_auth_secret_name(out, 20, ctx, "valkey-acme-web"), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_auth_secret_name(out, 21, ctx, "valkey-acme-web"), 0);
    valkeyaddon_ctx_free(ctx);
}

static void test_naming__redis_url_secret_name(void **state)
{
    char out[VALKEYADDON_NAME_BUFSIZE];
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_redis_url_secret_name(out, sizeof(out), ctx, "web"), 0);
    assert_string_equal(out, "app-web-redis-url");
    assert_int_equal(valkeyaddon_redis_url_secret_name(out, sizeof(out), ctx, UUID_A), 0);
    assert_string_equal(out, "app-" UUID_A "-redis-url");
    assert_int_equal(valkeyaddon_redis_url_secret_name(out, sizeof(out), ctx, "Web"), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "app_id"));
    assert_int_equal(valkeyaddon_redis_url_secret_name(out, 17, ctx, "web"), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_redis_url_secret_name(out, 18, ctx, "web"), 0);
    valkeyaddon_ctx_free(ctx);
}

static void test_naming__check_id(void **state)
{
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_check_id(ctx, "tenant_id", UUID_T), 0);
    assert_int_equal(valkeyaddon_check_id(ctx, NULL, "x"), 0);
    assert_int_equal(valkeyaddon_check_id(ctx, NULL, "X"), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "id: character 'X'"));
    valkeyaddon_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naming__exact_when_it_fits),
        cmocka_unit_test(test_naming__boundaries),
        cmocka_unit_test(test_naming__uuid_ids),
        cmocka_unit_test(test_naming__pinned_short_form),
        cmocka_unit_test(test_naming__prefix_never_ends_in_a_hyphen),
        cmocka_unit_test(test_naming__double_hyphen_ids_are_hashed),
        cmocka_unit_test(test_naming__spec_ambiguity_is_kept_when_exact),
        cmocka_unit_test(test_naming__hashed_names_tell_pairs_apart),
        cmocka_unit_test(test_naming__invalid_ids),
        cmocka_unit_test(test_naming__buffer_too_small),
        cmocka_unit_test(test_naming__no_collisions_over_random_uuid_pairs),
        cmocka_unit_test(test_naming__no_collisions_within_one_tenant),
        cmocka_unit_test(test_naming__auth_secret_name),
        cmocka_unit_test(test_naming__redis_url_secret_name),
        cmocka_unit_test(test_naming__check_id),
    };
    return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
