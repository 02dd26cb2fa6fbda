/*
 * The storage conformance suite (conformance.h). Each case gets a context
 * that owns a fresh, empty storage, drives it through the vtable, and reads
 * back through the public accessors (valkeyaddon_addon_get/list,
 * valkeyaddon_storage_migrate) where they apply: the accessors accept only
 * DNS-label app ids, so the hostile-id cases stay on the vtable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "conformance.h"
#include "../support/rows.h"

/* The factory of the running group: cmocka's setup takes only the state. */
static storage_factory current_factory;
static void *current_payload;

struct fixture {
    valkeyaddon_ctx *ctx;
    valkeyaddon_storage *s; /* owned by ctx */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    valkeyaddon_storage *s = NULL;
    int r;

    if (!f || valkeyaddon_ctx_new(&f->ctx, NULL) != 0) {
        free(f);
        return -1;
    }
    if ((r = current_factory(&s, f->ctx, current_payload)) < 0 || !s) {
        fprintf(stderr, "storage factory failed: %d %s\n", r, valkeyaddon_ctx_error_message(f->ctx));
        valkeyaddon_ctx_free(f->ctx);
        free(f);
        return -1;
    }
    if (valkeyaddon_ctx_set_storage(f->ctx, s) != 0) {
        fprintf(stderr, "valkeyaddon_ctx_set_storage: %s\n", valkeyaddon_ctx_error_message(f->ctx));
        if (s->free)
            s->free(s);
        valkeyaddon_ctx_free(f->ctx);
        free(f);
        return -1;
    }
    f->s = s;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    valkeyaddon_ctx_free(f->ctx);
    free(f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void fill_row(valkeyaddon_addon_row *row, const char *app_id, const char *addon_type, const char *tenant_id,
                     const char *plan, int status, const char *message)
{
    memset(row, 0, sizeof(*row));
    row->version = VALKEYADDON_ADDON_ROW_VERSION;
    snprintf(row->app_id, sizeof(row->app_id), "%s", app_id);
    snprintf(row->addon_type, sizeof(row->addon_type), "%s", addon_type);
    snprintf(row->tenant_id, sizeof(row->tenant_id), "%s", tenant_id);
    snprintf(row->plan, sizeof(row->plan), "%s", plan);
    row->status = status;
    snprintf(row->status_message, sizeof(row->status_message), "%s", message);
    snprintf(row->resource_name, sizeof(row->resource_name), "valkey-%s-%s", tenant_id, app_id);
    snprintf(row->namespace_, sizeof(row->namespace_), "tenant-%s", tenant_id);
}

static void basic_row(valkeyaddon_addon_row *row, const char *app_id, const char *addon_type)
{
    fill_row(row, app_id, addon_type, "acme", "standard", VALKEYADDON_STATUS_CREATING, "provisioning");
}

static int upsert(struct fixture *f, valkeyaddon_addon_row *out, const valkeyaddon_addon_row *row)
{
    return f->s->upsert(out, f->s, f->ctx, row);
}

static int get(struct fixture *f, valkeyaddon_addon_row *out, const char *app_id, const char *addon_type)
{
    memset(out, 0, sizeof(*out));
    out->version = VALKEYADDON_ADDON_ROW_VERSION;
    return f->s->get(out, f->s, f->ctx, app_id, addon_type);
}

/* A failure through the vtable returns code and leaves a message on the context. */
#define assert_fails(f, code, call)                                                                                  \
    do {                                                                                                             \
        valkeyaddon_ctx_clear_error((f)->ctx);                                                                       \
        assert_int_equal((call), (code));                                                                            \
        assert_true(valkeyaddon_ctx_error_message((f)->ctx)[0] != '\0');                                            \
    } while (0)

#define assert_ok(f, call)                                                                                           \
    do {                                                                                                             \
        int r_ = (call);                                                                                             \
        if (r_ != 0)                                                                                                 \
            fail_msg("%s returned %d: %s", #call, r_, valkeyaddon_ctx_error_message((f)->ctx));                      \
    } while (0)

static void assert_same_row(const valkeyaddon_addon_row *a, const valkeyaddon_addon_row *b)
{
    assert_row_content_equal(a, b);
    assert_true(a->created_at == b->created_at);
    assert_true(a->updated_at == b->updated_at);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* What a listing saw. */
struct seen {
    int count;
    int stop_at;    /* stop after this many rows (0: never) */
    int stop_value; /* returned when stopping */
    char keys[16][128];
    valkeyaddon_addon_row last;
};

static int collect(const valkeyaddon_addon_row *row, void *payload)
{
    struct seen *seen = payload;

    if (seen->count < 16)
        snprintf(seen->keys[seen->count], sizeof(seen->keys[0]), "%s/%s", row->app_id, row->addon_type);
    seen->last = *row;
    seen->count++;
    return seen->stop_at && seen->count == seen->stop_at ? seen->stop_value : 0;
}

static int list(struct fixture *f, struct seen *seen, const char *app_id)
{
    int stop_at = seen->stop_at, stop_value = seen->stop_value;

    memset(seen, 0, sizeof(*seen));
    seen->stop_at = stop_at;
    seen->stop_value = stop_value;
    return f->s->list(f->s, f->ctx, app_id, collect, seen);
}

static int list_public(struct fixture *f, struct seen *seen, const char *app_id)
{
    int stop_at = seen->stop_at, stop_value = seen->stop_value;

    memset(seen, 0, sizeof(*seen));
    seen->stop_at = stop_at;
    seen->stop_value = stop_value;
    return valkeyaddon_addon_list(f->ctx, app_id, collect, seen);
}

static int count_rows(struct fixture *f)
{
    struct seen seen = { 0 };

    assert_ok(f, list(f, &seen, NULL));
    return seen.count;
}

/* ---- cases -------------------------------------------------------------- */

static void test_conformance__upsert_inserts(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, out, got, pub;
    int64_t before = now_ms();

    basic_row(&row, "web", "valkey");
    row.created_at = 1; /* the storage sets timestamps, never the caller */
    row.updated_at = 2;
    memset(&out, 0, sizeof(out));
    assert_ok(f, upsert(f, &out, &row));
    assert_row_content_equal(&out, &row);
    assert_int_equal(out.version, VALKEYADDON_ADDON_ROW_VERSION);
    /* Unix milliseconds, now: not seconds, not the caller's values. */
    assert_true(out.created_at >= before - 1000 && out.created_at <= now_ms() + 1000);
    assert_true(out.updated_at == out.created_at);

    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_same_row(&got, &out);

    memset(&pub, 0, sizeof(pub));
    pub.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_ok(f, valkeyaddon_addon_get(&pub, f->ctx, "web", NULL)); /* NULL addon_type: "valkey" */
    assert_same_row(&pub, &out);
    assert_int_equal(count_rows(f), 1);

    /* out may be NULL. */
    basic_row(&row, "api", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    assert_ok(f, get(f, &got, "api", "valkey"));
    assert_row_content_equal(&got, &row);
    assert_int_equal(count_rows(f), 2);
}

static void test_conformance__upsert_updates_in_place(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, first, second, got;
    struct seen seen = { 0 };

    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, &first, &row));
    sleep_ms(5);
    fill_row(&row, "web", "valkey", "other-tenant", "pro", VALKEYADDON_STATUS_READY, "all 3 replicas ready");
    snprintf(row.resource_name, sizeof(row.resource_name), "valkey-renamed");
    snprintf(row.namespace_, sizeof(row.namespace_), "ns-renamed");
    row.created_at = 7;
    assert_ok(f, upsert(f, &second, &row));
    assert_row_content_equal(&second, &row);
    assert_true(second.created_at == first.created_at);
    assert_true(second.updated_at >= first.updated_at);

    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_same_row(&got, &second);
    assert_ok(f, list_public(f, &seen, NULL));
    assert_int_equal(seen.count, 1);
    assert_same_row(&seen.last, &second);

    /* The same row again is still one row. */
    assert_ok(f, upsert(f, NULL, &row));
    assert_int_equal(count_rows(f), 1);
}

static void test_conformance__get_missing(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;

    assert_fails(f, VALKEYADDON_ENOTFOUND, get(f, &got, "web", "valkey"));
    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    assert_fails(f, VALKEYADDON_ENOTFOUND, get(f, &got, "web", "postgres"));
    assert_fails(f, VALKEYADDON_ENOTFOUND, get(f, &got, "we", "valkey"));
    assert_fails(f, VALKEYADDON_ENOTFOUND, get(f, &got, "web2", "valkey"));

    memset(&got, 0, sizeof(got));
    got.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&got, f->ctx, "api", "valkey"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(valkeyaddon_ctx_error_code(f->ctx), VALKEYADDON_ENOTFOUND);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "api"));
}

static void test_conformance__set_status(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, first, got;

    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, &first, &row));
    sleep_ms(5);
    assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", VALKEYADDON_STATUS_FAILED,
                                  "1 of 3 replicas ready: re-run provision"));
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_int_equal(got.status, VALKEYADDON_STATUS_FAILED);
    assert_string_equal(got.status_message, "1 of 3 replicas ready: re-run provision");
    /* Nothing else changed. */
    row.status = got.status;
    snprintf(row.status_message, sizeof(row.status_message), "%s", got.status_message);
    assert_row_content_equal(&got, &row);
    assert_true(got.created_at == first.created_at);
    assert_true(got.updated_at >= first.updated_at);

    /* Through the accessor too. */
    memset(&got, 0, sizeof(got));
    got.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_ok(f, valkeyaddon_addon_get(&got, f->ctx, "web", "valkey"));
    assert_int_equal(got.status, VALKEYADDON_STATUS_FAILED);

    /* A missing row is not created. */
    assert_fails(f, VALKEYADDON_ENOTFOUND,
                 f->s->set_status(f->s, f->ctx, "api", "valkey", VALKEYADDON_STATUS_READY, "ready"));
    assert_fails(f, VALKEYADDON_ENOTFOUND,
                 f->s->set_status(f->s, f->ctx, "web", "postgres", VALKEYADDON_STATUS_READY, "ready"));
    assert_int_equal(count_rows(f), 1);
    assert_fails(f, VALKEYADDON_ENOTFOUND, get(f, &got, "api", "valkey"));
}

static void test_conformance__empty_message(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;

    fill_row(&row, "web", "valkey", "acme", "free", VALKEYADDON_STATUS_CREATING, "");
    assert_ok(f, upsert(f, NULL, &row));
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_string_equal(got.status_message, "");

    assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", VALKEYADDON_STATUS_READY, "was set"));
    assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", VALKEYADDON_STATUS_READY, NULL));
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_string_equal(got.status_message, "");
    assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", VALKEYADDON_STATUS_READY, "was set"));
    assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", VALKEYADDON_STATUS_READY, ""));
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_string_equal(got.status_message, "");
    /* Empty non-key members are stored as empty strings. */
    row.tenant_id[0] = row.plan[0] = row.resource_name[0] = row.namespace_[0] = '\0';
    assert_ok(f, upsert(f, NULL, &row));
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_row_content_equal(&got, &row);
}

static void test_conformance__long_message_cut_at_utf8_boundary(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;
    char message[VALKEYADDON_STATUS_MESSAGE_BUFSIZE * 2];
    size_t i, len;

    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    /* "xy" then 3-byte characters: a cut at 511 bytes would split one; 2 + 3 * 169 = 509 is whole. */
    memcpy(message, "xy", 2);
    for (i = 2; i + 3 < sizeof(message); i += 3)
        memcpy(message + i, "\xe2\x82\xac", 3); /* U+20AC EURO SIGN */
    message[i] = '\0';
    assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", VALKEYADDON_STATUS_FAILED, message));
    assert_ok(f, get(f, &got, "web", "valkey"));
    len = strlen(got.status_message);
    assert_int_equal(len, 509);
    assert_memory_equal(got.status_message, message, len);
}

static void test_conformance__remove(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;

    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    basic_row(&row, "web", "postgres");
    assert_ok(f, upsert(f, NULL, &row));
    assert_ok(f, f->s->remove(f->s, f->ctx, "web", "valkey"));
    assert_fails(f, VALKEYADDON_ENOTFOUND, f->s->remove(f->s, f->ctx, "web", "valkey"));
    assert_fails(f, VALKEYADDON_ENOTFOUND, get(f, &got, "web", "valkey"));
    memset(&got, 0, sizeof(got));
    got.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&got, f->ctx, "web", "valkey"), VALKEYADDON_ENOTFOUND);
    /* The other add-on of the app stays. */
    assert_ok(f, get(f, &got, "web", "postgres"));
    assert_int_equal(count_rows(f), 1);
    /* Removed rows can come back, as new rows. */
    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    assert_int_equal(count_rows(f), 2);
}

static void test_conformance__list_ordered(void **state)
{
    struct fixture *f = *state;
    static const char *keys[][2] = {
        { "b", "valkey" }, { "a", "postgres" }, { "a-b", "valkey" }, { "a", "valkey" },
        { "c", "valkey" }, { "a", "kafka" },    { "ab", "mysql" },
    };
    static const char *all[] = { "a/kafka", "a/postgres", "a/valkey", "a-b/valkey", "ab/mysql", "b/valkey",
                                 "c/valkey" };
    struct seen seen = { 0 };
    valkeyaddon_addon_row row;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        basic_row(&row, keys[i][0], keys[i][1]);
        assert_ok(f, upsert(f, NULL, &row));
    }
    /* Every row, in (app_id, addon_type) byte order, through the vtable and the accessor. */
    assert_ok(f, list(f, &seen, NULL));
    assert_int_equal(seen.count, 7);
    for (i = 0; i < 7; i++)
        assert_string_equal(seen.keys[i], all[i]);
    assert_ok(f, list_public(f, &seen, NULL));
    assert_int_equal(seen.count, 7);
    for (i = 0; i < 7; i++)
        assert_string_equal(seen.keys[i], all[i]);

    /* One app: not its prefix-sharing neighbours. */
    assert_ok(f, list(f, &seen, "a"));
    assert_int_equal(seen.count, 3);
    assert_string_equal(seen.keys[0], "a/kafka");
    assert_string_equal(seen.keys[1], "a/postgres");
    assert_string_equal(seen.keys[2], "a/valkey");
    assert_ok(f, list_public(f, &seen, "a"));
    assert_int_equal(seen.count, 3);
    assert_ok(f, list(f, &seen, "nope"));
    assert_int_equal(seen.count, 0);

    /* The callback's non-zero value stops the listing and is returned. */
    seen.stop_at = 2;
    seen.stop_value = 42;
    assert_int_equal(list(f, &seen, NULL), 42);
    assert_int_equal(seen.count, 2);
    assert_int_equal(list_public(f, &seen, "a"), 42);
    assert_int_equal(seen.count, 2);
    seen.stop_at = 1;
    seen.stop_value = -1000; /* any non-zero value, negative ones too */
    assert_int_equal(list(f, &seen, NULL), -1000);
    assert_int_equal(seen.count, 1);
}

/* A listing callback that removes the row it is shown: every row is still seen once. */
struct remover {
    struct fixture *f;
    int count;
};

static int remove_each(const valkeyaddon_addon_row *row, void *payload)
{
    struct remover *r = payload;

    r->count++;
    return r->f->s->remove(r->f->s, r->f->ctx, row->app_id, row->addon_type);
}

static void test_conformance__list_callback_may_write(void **state)
{
    struct fixture *f = *state;
    struct remover r = { f, 0 };
    valkeyaddon_addon_row row;
    char app[16];
    int i;

    for (i = 0; i < 70; i++) { /* more than one page for a paging backend */
        snprintf(app, sizeof(app), "app-%02d", i);
        basic_row(&row, app, "valkey");
        assert_ok(f, upsert(f, NULL, &row));
    }
    assert_ok(f, f->s->list(f->s, f->ctx, NULL, remove_each, &r));
    assert_int_equal(r.count, 70);
    assert_int_equal(count_rows(f), 0);
}

static void test_conformance__hostile_values_stored_verbatim(void **state)
{
    struct fixture *f = *state;
    static const char *drop = "'); DROP TABLE app_addons; --";
    valkeyaddon_addon_row row, got;
    struct seen seen = { 0 };

    fill_row(&row, "a'b\"c;d\\e", drop, drop, "%s%n'", VALKEYADDON_STATUS_READY,
             "quote ' double \" semicolon ; percent %s %n backslash \\ \xc3\xa9t\xc3\xa9 -- /* */");
    snprintf(row.resource_name, sizeof(row.resource_name), "%s", "\"; DELETE FROM app_addons; --");
    snprintf(row.namespace_, sizeof(row.namespace_), "%s", "x' OR '1'='1");
    assert_ok(f, upsert(f, NULL, &row));
    assert_ok(f, get(f, &got, "a'b\"c;d\\e", drop));
    assert_row_content_equal(&got, &row);
    assert_ok(f, list(f, &seen, "a'b\"c;d\\e"));
    assert_int_equal(seen.count, 1);
    assert_row_content_equal(&seen.last, &row);
    /* A pattern is not a pattern. */
    assert_ok(f, list(f, &seen, "a%"));
    assert_int_equal(seen.count, 0);
    assert_ok(f, list(f, &seen, "a_b\"c;d\\e"));
    assert_int_equal(seen.count, 0);

    assert_ok(f, f->s->set_status(f->s, f->ctx, "a'b\"c;d\\e", drop, VALKEYADDON_STATUS_FAILED, drop));
    assert_ok(f, get(f, &got, "a'b\"c;d\\e", drop));
    assert_string_equal(got.status_message, drop);

    /* The table is still there and works. */
    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    assert_int_equal(count_rows(f), 2);
    assert_ok(f, f->s->remove(f->s, f->ctx, "a'b\"c;d\\e", drop));
    assert_int_equal(count_rows(f), 1);
}

/* Fill a member without its NUL: one byte more than fits. */
#define OVERFILL(member) memset((member), 'a', sizeof(member))

static void test_conformance__overlong_values_rejected(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;
    char long_app[VALKEYADDON_LABEL_BUFSIZE + 1], long_type[VALKEYADDON_ADDON_TYPE_BUFSIZE + 1];
    int member;

    for (member = 0; member < 7; member++) {
        basic_row(&row, "web", "valkey");
        switch (member) {
        case 0: OVERFILL(row.app_id); break;
        case 1: OVERFILL(row.addon_type); break;
        case 2: OVERFILL(row.tenant_id); break;
        case 3: OVERFILL(row.plan); break;
        case 4: OVERFILL(row.status_message); break;
        case 5: OVERFILL(row.resource_name); break;
        case 6: OVERFILL(row.namespace_); break;
        }
        assert_fails(f, VALKEYADDON_EINVAL, upsert(f, NULL, &row));
        assert_int_equal(count_rows(f), 0);
    }

    /* Keys one byte longer than fits are refused, never cut to a key that may exist. */
    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    memset(long_app, 'a', sizeof(long_app) - 1);
    long_app[sizeof(long_app) - 2] = '\0'; /* exactly the longest that fits: 63 bytes */
    basic_row(&row, long_app, "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    assert_ok(f, get(f, &got, long_app, "valkey"));
    long_app[sizeof(long_app) - 2] = 'a';
    long_app[sizeof(long_app) - 1] = '\0'; /* 64 bytes */
    memset(long_type, 'v', sizeof(long_type) - 1);
    long_type[sizeof(long_type) - 1] = '\0'; /* 32 bytes */
    assert_fails(f, VALKEYADDON_EINVAL, get(f, &got, long_app, "valkey"));
    assert_fails(f, VALKEYADDON_EINVAL, get(f, &got, "web", long_type));
    assert_fails(f, VALKEYADDON_EINVAL,
                 f->s->set_status(f->s, f->ctx, long_app, "valkey", VALKEYADDON_STATUS_READY, "x"));
    assert_fails(f, VALKEYADDON_EINVAL,
                 f->s->set_status(f->s, f->ctx, "web", long_type, VALKEYADDON_STATUS_READY, "x"));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->remove(f->s, f->ctx, long_app, "valkey"));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->remove(f->s, f->ctx, "web", long_type));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->list(f->s, f->ctx, long_app, collect, &(struct seen){ 0 }));
    assert_int_equal(count_rows(f), 2);
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_int_equal(got.status, VALKEYADDON_STATUS_CREATING);
}

static void test_conformance__bad_arguments_rejected(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;
    static const int bad[] = { 0, 4, -1, 99 };
    size_t i;

    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        basic_row(&row, "api", "valkey");
        row.status = bad[i];
        assert_fails(f, VALKEYADDON_EINVAL, upsert(f, NULL, &row));
        assert_fails(f, VALKEYADDON_EINVAL, f->s->set_status(f->s, f->ctx, "web", "valkey", bad[i], "x"));
    }
    basic_row(&row, "api", "valkey");
    row.version = 0;
    assert_fails(f, VALKEYADDON_EVERSION, upsert(f, NULL, &row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION + 1;
    assert_fails(f, VALKEYADDON_EVERSION, upsert(f, NULL, &row));
    basic_row(&row, "", "valkey");
    assert_fails(f, VALKEYADDON_EINVAL, upsert(f, NULL, &row));
    basic_row(&row, "api", "");
    assert_fails(f, VALKEYADDON_EINVAL, upsert(f, NULL, &row));
    assert_fails(f, VALKEYADDON_EINVAL, upsert(f, NULL, NULL));
    assert_fails(f, VALKEYADDON_EINVAL, get(f, &got, "", "valkey"));
    assert_fails(f, VALKEYADDON_EINVAL, get(f, &got, NULL, "valkey"));
    assert_fails(f, VALKEYADDON_EINVAL, get(f, &got, "web", NULL));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->get(NULL, f->s, f->ctx, "web", "valkey"));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->remove(f->s, f->ctx, NULL, "valkey"));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->remove(f->s, f->ctx, "web", ""));
    assert_fails(f, VALKEYADDON_EINVAL,
                 f->s->set_status(f->s, f->ctx, NULL, "valkey", VALKEYADDON_STATUS_READY, "x"));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->list(f->s, f->ctx, "", collect, &(struct seen){ 0 }));
    assert_fails(f, VALKEYADDON_EINVAL, f->s->list(f->s, f->ctx, NULL, NULL, NULL));
    /* Nothing was written or changed. */
    assert_int_equal(count_rows(f), 1);
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_int_equal(got.status, VALKEYADDON_STATUS_CREATING);
    assert_string_equal(got.status_message, "provisioning");
}

static void test_conformance__migrate_is_idempotent(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_addon_row row, got;

    basic_row(&row, "web", "valkey");
    assert_ok(f, upsert(f, NULL, &row));
    if (f->s->migrate) {
        assert_ok(f, f->s->migrate(f->s, f->ctx));
        assert_ok(f, f->s->migrate(f->s, f->ctx));
    }
    assert_ok(f, valkeyaddon_storage_migrate(f->ctx));
    assert_ok(f, valkeyaddon_storage_migrate(f->ctx));
    assert_ok(f, get(f, &got, "web", "valkey"));
    assert_row_content_equal(&got, &row);
    assert_int_equal(count_rows(f), 1);
}

/* Every status value round-trips. */
static void test_conformance__statuses_round_trip(void **state)
{
    struct fixture *f = *state;
    static const int statuses[] = { VALKEYADDON_STATUS_CREATING, VALKEYADDON_STATUS_READY,
                                    VALKEYADDON_STATUS_FAILED };
    valkeyaddon_addon_row row, got;
    size_t i;

    for (i = 0; i < 3; i++) {
        fill_row(&row, "web", "valkey", "acme", "free", statuses[i], "m");
        assert_ok(f, upsert(f, NULL, &row));
        assert_ok(f, get(f, &got, "web", "valkey"));
        assert_int_equal(got.status, statuses[i]);
        assert_ok(f, f->s->set_status(f->s, f->ctx, "web", "valkey", statuses[(i + 1) % 3], "n"));
        assert_ok(f, get(f, &got, "web", "valkey"));
        assert_int_equal(got.status, statuses[(i + 1) % 3]);
    }
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int storage_conformance_run(const char *group_name, storage_factory factory, void *payload)
{
    const struct CMUnitTest tests[] = {
        CASE(test_conformance__upsert_inserts),
        CASE(test_conformance__upsert_updates_in_place),
        CASE(test_conformance__get_missing),
        CASE(test_conformance__set_status),
        CASE(test_conformance__empty_message),
        CASE(test_conformance__long_message_cut_at_utf8_boundary),
        CASE(test_conformance__remove),
        CASE(test_conformance__list_ordered),
        CASE(test_conformance__list_callback_may_write),
        CASE(test_conformance__hostile_values_stored_verbatim),
        CASE(test_conformance__overlong_values_rejected),
        CASE(test_conformance__bad_arguments_rejected),
        CASE(test_conformance__migrate_is_idempotent),
        CASE(test_conformance__statuses_round_trip),
    };

    current_factory = factory;
    current_payload = payload;
    return cmocka_run_group_tests_name(group_name, tests, NULL, NULL);
}
