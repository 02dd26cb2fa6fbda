/* Shared by the cmocka unit tests: cmocka's includes and a log capture. */
#ifndef VALKEYADDON_TESTS_HELPERS_H
#define VALKEYADDON_TESTS_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <valkeyaddon.h>

/* Everything a context logged, for assertions. */
struct log_capture {
    int count;
    int last_level;
    char all[8192];
};

static inline void capture_log(int level, const char *message, void *payload)
{
    struct log_capture *c = payload;
    size_t used = strlen(c->all);

    c->count++;
    c->last_level = level;
    snprintf(c->all + used, sizeof(c->all) - used, "%d:%s\n", level, message);
}

static inline valkeyaddon_ctx *new_capturing_ctx(struct log_capture *capture, int level)
{
    valkeyaddon_ctx_options options = VALKEYADDON_CTX_OPTIONS_INIT;
    valkeyaddon_ctx *ctx = NULL;

    memset(capture, 0, sizeof(*capture));
    options.log_level = level;
    options.log_cb = capture_log;
    options.log_payload = capture;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, &options), 0);
    assert_non_null(ctx);
    return ctx;
}

#endif
