/* Plan configurations: the spec's table, the derived numbers, the fall-back signal. */
#include "helpers.h"

#define MIB (INT64_C(1024) * 1024)

static void load(valkeyaddon_plan_config *out, const char *plan, int expected_rc)
{
    memset(out, 0x5a, sizeof(*out));
    out->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    assert_int_equal(valkey_plan_config(out, NULL, plan), expected_rc);
}

static void test_plans__spec_table(void **state)
{
    valkeyaddon_plan_config p;

    (void)state;
    load(&p, "free", 0);
    assert_string_equal(p.plan, "free");
    assert_int_equal(p.fell_back, 0);
    assert_int_equal(p.replicas, 1);
    assert_string_equal(p.memory_limit, "64Mi");
    assert_int_equal(p.memory_limit_bytes, 64 * MIB);
    assert_string_equal(p.persistence_name, "none");
    assert_int_equal(p.persistence, VALKEYADDON_PERSISTENCE_NONE);

    load(&p, "standard", 0);
    assert_string_equal(p.plan, "standard");
    assert_int_equal(p.replicas, 1);
    assert_string_equal(p.memory_limit, "256Mi");
    assert_int_equal(p.memory_limit_bytes, 256 * MIB);
    assert_string_equal(p.persistence_name, "rdb_daily");
    assert_int_equal(p.persistence, VALKEYADDON_PERSISTENCE_RDB_DAILY);

    load(&p, "pro", 0);
    assert_string_equal(p.plan, "pro");
    assert_int_equal(p.replicas, 3);
    assert_string_equal(p.memory_limit, "1Gi");
    assert_int_equal(p.memory_limit_bytes, 1024 * MIB);
    assert_string_equal(p.persistence_name, "rdb_aof");
    assert_int_equal(p.persistence, VALKEYADDON_PERSISTENCE_RDB_AOF);
}

static void test_plans__derived_configuration(void **state)
{
    valkeyaddon_plan_config p;

    (void)state;
    load(&p, "free", 0);
    assert_int_equal(p.maxmemory_percent, 80);
    assert_string_equal(p.maxmemory_policy, "noeviction");
    assert_string_equal(p.save, "");
    assert_int_equal(p.appendonly, 0);
    assert_string_equal(p.appendfsync, "");
    assert_int_equal(p.volume_size_bytes, 0);
    assert_string_equal(p.volume_size, "");
    assert_int_equal(p.memory_request_bytes, p.memory_limit_bytes);
    assert_string_equal(p.memory_request, p.memory_limit);
    assert_true(p.cpu_request_millis > 0 && p.cpu_request_millis <= p.cpu_limit_millis);

    load(&p, "standard", 0);
    assert_int_equal(p.maxmemory_percent, 60);
    assert_string_equal(p.maxmemory_policy, "noeviction");
    assert_string_equal(p.save, "86400 1");
    assert_int_equal(p.appendonly, 0);
    assert_string_equal(p.volume_size, "1Gi");
    assert_int_equal(p.volume_size_bytes, 1024 * MIB);
    assert_true(p.cpu_request_millis > 0 && p.cpu_request_millis <= p.cpu_limit_millis);

    load(&p, "pro", 0);
    assert_int_equal(p.maxmemory_percent, 50);
    assert_string_equal(p.maxmemory_policy, "noeviction");
    assert_int_equal(p.appendonly, 1);
    assert_string_equal(p.appendfsync, "everysec");
    assert_string_not_equal(p.save, "");
    assert_string_equal(p.volume_size, "4Gi");
    /* The volume holds the RDB, the AOF and a rewrite's second copy. */
    assert_true(p.volume_size_bytes >= 2 * p.memory_limit_bytes);
    assert_true(p.cpu_request_millis > 0 && p.cpu_request_millis <= p.cpu_limit_millis);
}

static void test_plans__unknown_falls_back_to_free_and_says_so(void **state)
{
    static const char *const unknown[] = { "Pro", "FREE", "premium", "", " free", "free ", "standard\n" };
    valkeyaddon_plan_config p, free_plan;
    size_t i;

    (void)state;
    load(&free_plan, "free", 0);
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        load(&p, unknown[i], VALKEYADDON_PLAN_FELL_BACK);
        assert_int_equal(p.fell_back, 1);
        p.fell_back = 0;
        assert_memory_equal(&p, &free_plan, sizeof(p));
    }
}

static void test_plans__fall_back_is_logged_without_echoing_garbage(void **state)
{
    struct log_capture capture;
    valkeyaddon_plan_config p = VALKEYADDON_PLAN_CONFIG_INIT;
    valkeyaddon_ctx *ctx = new_capturing_ctx(&capture, VALKEYADDON_LOG_DEBUG);

    (void)state;
    assert_int_equal(valkey_plan_config(&p, ctx, "Pro"), VALKEYADDON_PLAN_FELL_BACK);
    assert_non_null(strstr(capture.all, "unknown plan \"Pro\"; using \"free\""));
    assert_int_equal(capture.last_level, VALKEYADDON_LOG_WARNING);
    assert_int_equal(valkey_plan_config(&p, ctx, "pro\x1b[2J"), VALKEYADDON_PLAN_FELL_BACK);
    assert_null(strstr(capture.all, "\x1b"));
    assert_non_null(strstr(capture.all, "7 bytes, not printable"));
    /* A fall-back is not an error: no detail is left on the context. */
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), 0);
    valkeyaddon_ctx_free(ctx);
}

static void test_plans__bad_arguments(void **state)
{
    valkeyaddon_plan_config p = VALKEYADDON_PLAN_CONFIG_INIT;
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkey_plan_config(NULL, ctx, "free"), VALKEYADDON_EINVAL);
    assert_int_equal(valkey_plan_config(&p, ctx, NULL), VALKEYADDON_EINVAL);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "plan: must not be NULL");
    p.version = 0;
    assert_int_equal(valkey_plan_config(&p, ctx, "free"), VALKEYADDON_EVERSION);
    p.version = VALKEYADDON_PLAN_CONFIG_VERSION + 1;
    assert_int_equal(valkey_plan_config(&p, ctx, "free"), VALKEYADDON_EVERSION);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "version"));
    /* Untouched on failure. */
    assert_int_equal(p.version, VALKEYADDON_PLAN_CONFIG_VERSION + 1);
    valkeyaddon_ctx_free(ctx);
}

static void test_plans__listing(void **state)
{
    valkeyaddon_plan_config p;
    size_t i;

    (void)state;
    assert_int_equal(valkeyaddon_plan_count(), 3);
    assert_string_equal(valkeyaddon_plan_name(0), "free");
    assert_string_equal(valkeyaddon_plan_name(1), "standard");
    assert_string_equal(valkeyaddon_plan_name(2), "pro");
    assert_null(valkeyaddon_plan_name(3));
    for (i = 0; i < valkeyaddon_plan_count(); i++) {
        load(&p, valkeyaddon_plan_name(i), 0);
        assert_string_equal(p.plan, valkeyaddon_plan_name(i));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans__spec_table),
        cmocka_unit_test(test_plans__derived_configuration),
        cmocka_unit_test(test_plans__unknown_falls_back_to_free_and_says_so),
        cmocka_unit_test(test_plans__fall_back_is_logged_without_echoing_garbage),
        cmocka_unit_test(test_plans__bad_arguments),
        cmocka_unit_test(test_plans__listing),
    };
    return cmocka_run_group_tests_name("plans", tests, NULL, NULL);
}
