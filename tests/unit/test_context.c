/* The context: lifecycle, versioned options, error detail, logging. */
#include "helpers.h"

static void test_context__new_and_free(void **state)
{
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_non_null(ctx);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "");
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), 0);
    valkeyaddon_ctx_free(ctx);
    valkeyaddon_ctx_free(NULL);
    assert_int_equal(valkeyaddon_ctx_new(NULL, NULL), VALKEYADDON_EINVAL);
}

static void test_context__options_versions(void **state)
{
    valkeyaddon_ctx_options options = VALKEYADDON_CTX_OPTIONS_INIT;
    valkeyaddon_ctx *ctx = (valkeyaddon_ctx *)&options; /* must stay untouched on failure */

    (void)state;
    options.version = 0;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, &options), VALKEYADDON_EVERSION);
    options.version = VALKEYADDON_CTX_OPTIONS_VERSION + 1;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, &options), VALKEYADDON_EVERSION);
    options.version = VALKEYADDON_CTX_OPTIONS_VERSION;
    options.log_level = VALKEYADDON_LOG_DEBUG + 1;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, &options), VALKEYADDON_EINVAL);
    options.log_level = -1;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, &options), VALKEYADDON_EINVAL);
    assert_ptr_equal(ctx, (valkeyaddon_ctx *)&options);
}

static void test_context__options_init(void **state)
{
    valkeyaddon_ctx_options options;

    (void)state;
    memset(&options, 0xff, sizeof(options));
    assert_int_equal(valkeyaddon_ctx_options_init(&options, VALKEYADDON_CTX_OPTIONS_VERSION), 0);
    assert_int_equal(options.version, VALKEYADDON_CTX_OPTIONS_VERSION);
    assert_int_equal(options.log_level, 0);
    assert_null(options.log_cb);
    assert_null(options.log_payload);
    assert_int_equal(valkeyaddon_ctx_options_init(&options, 0), VALKEYADDON_EVERSION);
    assert_int_equal(valkeyaddon_ctx_options_init(&options, 99), VALKEYADDON_EVERSION);
    assert_int_equal(valkeyaddon_ctx_options_init(NULL, 1), VALKEYADDON_EINVAL);
}

static void test_context__error_detail_is_kept_then_cleared(void **state)
{
    char name[VALKEYADDON_NAME_BUFSIZE];
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkey_name(name, sizeof(name), ctx, "Acme", "web"), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "tenant_id"));
    /* The next successful call on the context leaves no stale detail behind. */
    assert_int_equal(valkey_name(name, sizeof(name), ctx, "acme", "web"), 0);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "");
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), 0);
    assert_int_equal(valkey_name(name, sizeof(name), ctx, "acme", ""), VALKEYADDON_EINVAL);
    valkeyaddon_ctx_clear_error(ctx);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "");
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), 0);
    valkeyaddon_ctx_clear_error(NULL);
    assert_string_equal(valkeyaddon_ctx_error_message(NULL), "");
    assert_int_equal(valkeyaddon_ctx_error_code(NULL), 0);
    valkeyaddon_ctx_free(ctx);
}

static void test_context__errors_are_logged_at_their_level(void **state)
{
    struct log_capture capture;
    char name[VALKEYADDON_NAME_BUFSIZE];
    valkeyaddon_ctx *ctx = new_capturing_ctx(&capture, VALKEYADDON_LOG_ERROR);

    (void)state;
    assert_int_equal(valkey_name(name, sizeof(name), ctx, "acme", "-web"), VALKEYADDON_EINVAL);
    assert_int_equal(capture.count, 1);
    assert_int_equal(capture.last_level, VALKEYADDON_LOG_ERROR);
    assert_non_null(strstr(capture.all, "app_id: must not start with '-'"));
    valkeyaddon_ctx_free(ctx);
}

static void test_context__level_filters_messages(void **state)
{
    struct log_capture capture;
    valkeyaddon_plan_config plan = VALKEYADDON_PLAN_CONFIG_INIT;
    valkeyaddon_ctx *ctx = new_capturing_ctx(&capture, VALKEYADDON_LOG_ERROR);

    (void)state;
    /* A fall-back is a warning: below the ERROR threshold, so not delivered. */
    assert_int_equal(valkey_plan_config(&plan, ctx, "premium"), VALKEYADDON_PLAN_FELL_BACK);
    assert_int_equal(capture.count, 0);
    assert_int_equal(valkeyaddon_ctx_set_log(ctx, VALKEYADDON_LOG_WARNING, capture_log, &capture), 0);
    assert_int_equal(valkey_plan_config(&plan, ctx, "premium"), VALKEYADDON_PLAN_FELL_BACK);
    assert_int_equal(capture.count, 1);
    assert_int_equal(capture.last_level, VALKEYADDON_LOG_WARNING);
    /* Level NONE silences everything, errors included. */
    assert_int_equal(valkeyaddon_ctx_set_log(ctx, VALKEYADDON_LOG_NONE, capture_log, &capture), 0);
    assert_int_equal(valkeyaddon_check_id(ctx, "app_id", ""), VALKEYADDON_EINVAL);
    assert_int_equal(capture.count, 1);
    valkeyaddon_ctx_free(ctx);
}

static void test_context__set_log_rejects_bad_arguments(void **state)
{
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_set_log(NULL, VALKEYADDON_LOG_INFO, NULL, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_ctx_set_log(ctx, 17, NULL, NULL), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "level"));
    assert_int_equal(valkeyaddon_ctx_set_log(ctx, VALKEYADDON_LOG_DEBUG, NULL, NULL), 0);
    valkeyaddon_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context__new_and_free),
        cmocka_unit_test(test_context__options_versions),
        cmocka_unit_test(test_context__options_init),
        cmocka_unit_test(test_context__error_detail_is_kept_then_cleared),
        cmocka_unit_test(test_context__errors_are_logged_at_their_level),
        cmocka_unit_test(test_context__level_filters_messages),
        cmocka_unit_test(test_context__set_log_rejects_bad_arguments),
    };
    return cmocka_run_group_tests_name("context", tests, NULL, NULL);
}
