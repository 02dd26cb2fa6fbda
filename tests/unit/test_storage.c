/*
 * Storage registration and the row accessors, over a storage written the way
 * a user would write one in C: a struct embedding the vtable, counting calls.
 */
#include <stdlib.h>

#include "helpers.h"

struct fake {
    valkeyaddon_storage base; /* first, so the vtable pointer is the fake */
    int migrate_calls, upsert_calls, get_calls, set_status_calls, remove_calls, list_calls, free_calls;
    int result;          /* what the next call returns */
    int set_message;     /* whether a failure leaves its own message */
    char last_app[64], last_type[32];
    valkeyaddon_addon_row row; /* what get returns and list shows */
};

static struct fake *fake_of(valkeyaddon_storage *self)
{
    return (struct fake *)self;
}

static int finish(struct fake *f, valkeyaddon_ctx *ctx)
{
    if (f->result < 0 && f->set_message)
        return valkeyaddon_ctx_set_error(ctx, f->result, "fake storage: the backend says no");
    return f->result;
}

static int fake_migrate(valkeyaddon_storage *self, valkeyaddon_ctx *ctx)
{
    fake_of(self)->migrate_calls++;
    return finish(fake_of(self), ctx);
}

static int fake_upsert(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                       const valkeyaddon_addon_row *row)
{
    (void)out;
    (void)row;
    fake_of(self)->upsert_calls++;
    return finish(fake_of(self), ctx);
}

static int fake_get(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                    const char *addon_type)
{
    struct fake *f = fake_of(self);

    f->get_calls++;
    snprintf(f->last_app, sizeof(f->last_app), "%s", app_id);
    snprintf(f->last_type, sizeof(f->last_type), "%s", addon_type);
    if (f->result == 0)
        *out = f->row;
    return finish(f, ctx);
}

static int fake_set_status(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                           const char *addon_type, int status, const char *message)
{
    (void)app_id;
    (void)addon_type;
    (void)status;
    (void)message;
    fake_of(self)->set_status_calls++;
    return finish(fake_of(self), ctx);
}

static int fake_remove(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    (void)app_id;
    (void)addon_type;
    fake_of(self)->remove_calls++;
    return finish(fake_of(self), ctx);
}

/* Shows its one row three times, stopping when the callback says so. */
static int fake_list(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                     valkeyaddon_row_cb callback, void *payload)
{
    struct fake *f = fake_of(self);
    int i, r;

    f->list_calls++;
    snprintf(f->last_app, sizeof(f->last_app), "%s", app_id ? app_id : "(all)");
    if (f->result < 0)
        return finish(f, ctx);
    for (i = 0; i < 3; i++)
        if ((r = callback(&f->row, payload)) != 0)
            return r;
    return 0;
}

static void fake_free(valkeyaddon_storage *self)
{
    fake_of(self)->free_calls++; /* the fakes live on the test's stack: count, never free */
}

static void fake_init(struct fake *f)
{
    valkeyaddon_storage init = VALKEYADDON_STORAGE_INIT;

    memset(f, 0, sizeof(*f));
    f->base = init;
    f->base.migrate = fake_migrate;
    f->base.upsert = fake_upsert;
    f->base.get = fake_get;
    f->base.set_status = fake_set_status;
    f->base.remove = fake_remove;
    f->base.list = fake_list;
    f->base.free = fake_free;
    f->row.version = VALKEYADDON_ADDON_ROW_VERSION;
    strcpy(f->row.app_id, "web");
    strcpy(f->row.addon_type, "valkey");
    strcpy(f->row.plan, "pro");
    f->row.status = VALKEYADDON_STATUS_READY;
    f->row.created_at = 1700000000000;
    f->row.updated_at = 1700000000123;
}

static void test_storage__rejects_bad_versions(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    struct fake f;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    fake_init(&f);
    f.base.version = 0;
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), VALKEYADDON_EVERSION);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "version"));
    f.base.version = VALKEYADDON_STORAGE_VERSION + 1;
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), VALKEYADDON_EVERSION);
    /* Not registered: the context neither uses nor frees it. */
    assert_int_equal(valkeyaddon_storage_migrate(ctx), VALKEYADDON_EINVAL);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(f.free_calls, 0);
    assert_int_equal(f.migrate_calls, 0);
}

static void test_storage__rejects_missing_members(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    struct fake f;
    int member;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    for (member = 0; member < 6; member++) {
        fake_init(&f);
        switch (member) {
        case 0: f.base.upsert = NULL; break;
        case 1: f.base.get = NULL; break;
        case 2: f.base.set_status = NULL; break;
        case 3: f.base.remove = NULL; break;
        case 4: f.base.list = NULL; break;
        case 5: f.base.free = NULL; break;
        }
        assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), VALKEYADDON_EINVAL);
        assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "required"));
        assert_int_equal(f.free_calls, 0);
    }
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_ctx_set_storage(NULL, &f.base), VALKEYADDON_EINVAL);
    /* migrate is optional. */
    fake_init(&f);
    f.base.migrate = NULL;
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), 0);
    assert_int_equal(valkeyaddon_storage_migrate(ctx), 0);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(f.free_calls, 1);
}

static void test_storage__replacing_frees_the_old_once(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    struct fake a, b;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    fake_init(&a);
    fake_init(&b);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &a.base), 0);
    /* Registering the same storage again keeps it. */
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &a.base), 0);
    assert_int_equal(a.free_calls, 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &b.base), 0);
    assert_int_equal(a.free_calls, 1);
    assert_int_equal(b.free_calls, 0);
    /* A failed registration leaves the current storage in place. */
    a.base.version = 0;
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &a.base), VALKEYADDON_EVERSION);
    assert_int_equal(valkeyaddon_storage_migrate(ctx), 0);
    assert_int_equal(b.migrate_calls, 1);
    assert_int_equal(a.migrate_calls, 0);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(a.free_calls, 1);
    assert_int_equal(b.free_calls, 1);
}

static void test_storage__ctx_free_frees_once(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    struct fake f;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    fake_init(&f);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), 0);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(f.free_calls, 1);
}

static void test_storage__built_in_storages_register(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_storage_memory_new(NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_storage_memory_new(&s), 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, s), 0);
    assert_int_equal(valkeyaddon_storage_sqlite_new(&s, ctx, ":memory:"), 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, s), 0); /* frees the memory storage */
    assert_int_equal(valkeyaddon_storage_migrate(ctx), 0);
    valkeyaddon_ctx_free(ctx); /* frees the SQLite storage: a leak checker sees both go */
}

static void test_storage__accessors_drive_the_vtable(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_addon_row out;
    struct fake f;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    fake_init(&f);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), 0);

    assert_int_equal(valkeyaddon_storage_migrate(ctx), 0);
    assert_int_equal(f.migrate_calls, 1);

    memset(&out, 0, sizeof(out));
    out.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), 0);
    assert_int_equal(f.get_calls, 1);
    assert_string_equal(f.last_app, "web");
    assert_string_equal(f.last_type, "valkey"); /* NULL addon_type means valkey */
    assert_string_equal(out.plan, "pro");
    assert_true(out.updated_at == 1700000000123);
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", "postgres"), 0);
    assert_string_equal(f.last_type, "postgres");

    assert_int_equal(valkeyaddon_addon_list(ctx, NULL, NULL, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(f.list_calls, 0);
    valkeyaddon_ctx_free(ctx);
    assert_int_equal(f.free_calls, 1);
}

static int stop_after_two(const valkeyaddon_addon_row *row, void *payload)
{
    int *seen = payload;

    (void)row;
    return ++*seen == 2 ? 17 : 0;
}

static int count_all(const valkeyaddon_addon_row *row, void *payload)
{
    (void)row;
    ++*(int *)payload;
    return 0;
}

static void test_storage__list_through_accessor(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    struct fake f;
    int seen = 0;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    fake_init(&f);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), 0);
    assert_int_equal(valkeyaddon_addon_list(ctx, NULL, count_all, &seen), 0);
    assert_int_equal(seen, 3);
    assert_string_equal(f.last_app, "(all)");
    seen = 0;
    assert_int_equal(valkeyaddon_addon_list(ctx, "web", stop_after_two, &seen), 17);
    assert_int_equal(seen, 2);
    assert_string_equal(f.last_app, "web");
    /* The accessor checks the app id before the storage sees it. */
    assert_int_equal(valkeyaddon_addon_list(ctx, "Web!", count_all, &seen), VALKEYADDON_EINVAL);
    assert_int_equal(f.list_calls, 2);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage__accessors_check_arguments(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_addon_row out;
    struct fake f;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    memset(&out, 0, sizeof(out));
    out.version = VALKEYADDON_ADDON_ROW_VERSION;
    /* No storage yet. */
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "storage"));
    assert_int_equal(valkeyaddon_storage_migrate(NULL), VALKEYADDON_EINVAL);
    fake_init(&f);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), 0);
    assert_int_equal(valkeyaddon_addon_get(NULL, ctx, "web", NULL), VALKEYADDON_EINVAL);
    out.version = 0;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), VALKEYADDON_EVERSION);
    out.version = VALKEYADDON_ADDON_ROW_VERSION + 1;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), VALKEYADDON_EVERSION);
    out.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "'); DROP TABLE app_addons; --", NULL), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, NULL, NULL), VALKEYADDON_EINVAL);
    assert_int_equal(f.get_calls, 0);
    valkeyaddon_ctx_free(ctx);
}

/* A storage that fails without a word still leaves the caller a message; one that explains is not overwritten. */
static void test_storage__errors_without_a_message_get_one(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_addon_row out;
    struct fake f;
    int seen = 0;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    fake_init(&f);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, &f.base), 0);
    memset(&out, 0, sizeof(out));
    out.version = VALKEYADDON_ADDON_ROW_VERSION;
    strcpy(out.plan, "untouched");

    f.result = VALKEYADDON_ESTORAGE;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), VALKEYADDON_ESTORAGE);
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), VALKEYADDON_ESTORAGE);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "get"));
    assert_string_equal(out.plan, "untouched");
    assert_int_equal(valkeyaddon_addon_list(ctx, NULL, count_all, &seen), VALKEYADDON_ESTORAGE);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "list"));
    assert_int_equal(valkeyaddon_storage_migrate(ctx), VALKEYADDON_ESTORAGE);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "migrate"));

    f.result = VALKEYADDON_ENOTFOUND;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), VALKEYADDON_ENOTFOUND);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "no valkey add-on recorded for app web"));

    f.result = VALKEYADDON_ESTORAGE;
    f.set_message = 1;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), VALKEYADDON_ESTORAGE);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "fake storage: the backend says no");

    /* And a success after a failure leaves no stale message. */
    f.result = 0;
    assert_int_equal(valkeyaddon_addon_get(&out, ctx, "web", NULL), 0);
    assert_string_equal(valkeyaddon_ctx_error_message(ctx), "");
    valkeyaddon_ctx_free(ctx);
}

/* An allocator that fails once `fail_after` reaches 0 and counts live blocks. */
static int fail_after = -1;
static long live_blocks;

static int should_fail(void)
{
    if (fail_after == 0)
        return 1;
    if (fail_after > 0)
        fail_after--;
    return 0;
}

static void *failing_malloc(size_t size)
{
    void *p = should_fail() ? NULL : malloc(size);

    live_blocks += p != NULL;
    return p;
}

static void *failing_calloc(size_t count, size_t size)
{
    void *p = should_fail() ? NULL : calloc(count, size);

    live_blocks += p != NULL;
    return p;
}

static void *failing_realloc(void *ptr, size_t size)
{
    void *p = should_fail() ? NULL : realloc(ptr, size);

    live_blocks += p != NULL && ptr == NULL;
    return p;
}

static void failing_free(void *ptr)
{
    live_blocks -= ptr != NULL;
    free(ptr);
}

static void upsert_app(valkeyaddon_storage *s, valkeyaddon_ctx *ctx, int i, int expect)
{
    valkeyaddon_addon_row row;

    memset(&row, 0, sizeof(row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION;
    snprintf(row.app_id, sizeof(row.app_id), "app-%d", i);
    strcpy(row.addon_type, "valkey");
    row.status = VALKEYADDON_STATUS_CREATING;
    assert_int_equal(s->upsert(NULL, s, ctx, &row), expect);
}

/* Every allocation failure in the built-in storages is ENOMEM, writes nothing and leaks nothing. */
static void test_storage__out_of_memory(void **state)
{
    valkeyaddon_storage *mem = NULL, *lite = NULL;
    valkeyaddon_ctx *ctx = NULL;
    int i, seen = 0;

    (void)state;
    assert_int_equal(valkeyaddon_replace_allocator(failing_malloc, failing_realloc, failing_calloc, failing_free), 0);
    live_blocks = 0;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);

    fail_after = 0;
    assert_int_equal(valkeyaddon_storage_memory_new(&mem), VALKEYADDON_ENOMEM);
    assert_null(mem);
    assert_int_equal(valkeyaddon_storage_sqlite_new(&lite, ctx, ":memory:"), VALKEYADDON_ENOMEM);
    assert_null(lite);
    fail_after = -1;

    assert_int_equal(valkeyaddon_storage_memory_new(&mem), 0);
    upsert_app(mem, ctx, 0, 0); /* room for 8 rows */
    for (i = 1; i < 8; i++)
        upsert_app(mem, ctx, i, 0);
    fail_after = 0;
    upsert_app(mem, ctx, 8, VALKEYADDON_ENOMEM); /* the 9th needs a larger array */
    assert_int_equal(valkeyaddon_ctx_error_code(ctx), VALKEYADDON_ENOMEM);
    upsert_app(mem, ctx, 3, 0);                  /* an update needs no memory */
    fail_after = -1;
    assert_int_equal(mem->list(mem, ctx, NULL, count_all, &seen), 0);
    assert_int_equal(seen, 8);
    mem->free(mem);

    assert_int_equal(valkeyaddon_storage_sqlite_new(&lite, ctx, ":memory:"), 0);
    upsert_app(lite, ctx, 0, 0);
    fail_after = 0;
    assert_int_equal(lite->list(lite, ctx, NULL, count_all, &seen), VALKEYADDON_ENOMEM);
    fail_after = -1;
    lite->free(lite);

    valkeyaddon_ctx_free(ctx);
    assert_int_equal(live_blocks, 0);
    assert_int_equal(valkeyaddon_replace_allocator(NULL, NULL, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage__rejects_bad_versions),
        cmocka_unit_test(test_storage__rejects_missing_members),
        cmocka_unit_test(test_storage__replacing_frees_the_old_once),
        cmocka_unit_test(test_storage__ctx_free_frees_once),
        cmocka_unit_test(test_storage__built_in_storages_register),
        cmocka_unit_test(test_storage__accessors_drive_the_vtable),
        cmocka_unit_test(test_storage__list_through_accessor),
        cmocka_unit_test(test_storage__accessors_check_arguments),
        cmocka_unit_test(test_storage__errors_without_a_message_get_one),
        cmocka_unit_test(test_storage__out_of_memory),
    };

    return cmocka_run_group_tests_name("storage", tests, NULL, NULL);
}
