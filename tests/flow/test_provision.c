/*
 * The provision flow (provision.h) over the in-memory transport, wrapped by
 * tests/support/counting_transport so that StatefulSets report a chosen
 * readiness, and over a storage written here in C, as a service with its own
 * store would write one.
 */
#include "../unit/helpers.h"

#include <stdlib.h>

#include <valkeyaddon/sys/storage.h>
#include <valkeyaddon/sys/transport.h>

#include "../support/counting_transport.h"

/* ---- a user-written storage: an array of rows, with call counts and injected failures ---- */

#define MAX_ROWS 8

struct user_storage {
    valkeyaddon_storage base;
    valkeyaddon_addon_row rows[MAX_ROWS];
    int n;
    int upserts, set_statuses, removes, gets;
    int fail_upsert; /* returned by the next upsert when non-zero */
    int64_t clock;
};

static int find(struct user_storage *s, const char *app_id, const char *type)
{
    int i;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].app_id, app_id) == 0 && strcmp(s->rows[i].addon_type, type) == 0)
            return i;
    return -1;
}

static int us_upsert(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                     const valkeyaddon_addon_row *row)
{
    struct user_storage *s = (struct user_storage *)self;
    int i = find(s, row->app_id, row->addon_type);
    int64_t created;

    s->upserts++;
    if (s->fail_upsert) {
        int code = s->fail_upsert;
        s->fail_upsert = 0;
        return valkeyaddon_ctx_set_error(ctx, code, "injected: the store is down");
    }
    if (i < 0) {
        assert_true(s->n < MAX_ROWS);
        i = s->n++;
        created = ++s->clock;
    } else {
        created = s->rows[i].created_at;
    }
    s->rows[i] = *row;
    s->rows[i].created_at = created;
    s->rows[i].updated_at = ++s->clock;
    if (out)
        *out = s->rows[i];
    return 0;
}

static int us_get(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                  const char *type)
{
    struct user_storage *s = (struct user_storage *)self;
    int i = find(s, app_id, type);

    (void)ctx;
    s->gets++;
    if (i < 0)
        return VALKEYADDON_ENOTFOUND;
    *out = s->rows[i];
    return 0;
}

static int us_set_status(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *type,
                         int status, const char *message)
{
    struct user_storage *s = (struct user_storage *)self;
    int i = find(s, app_id, type);

    (void)ctx;
    s->set_statuses++;
    if (i < 0)
        return VALKEYADDON_ENOTFOUND;
    s->rows[i].status = status;
    snprintf(s->rows[i].status_message, sizeof(s->rows[i].status_message), "%s", message ? message : "");
    s->rows[i].updated_at = ++s->clock;
    return 0;
}

static int us_remove(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *type)
{
    struct user_storage *s = (struct user_storage *)self;
    int i = find(s, app_id, type);

    (void)ctx;
    s->removes++;
    if (i < 0)
        return VALKEYADDON_ENOTFOUND;
    memmove(&s->rows[i], &s->rows[i + 1], sizeof(s->rows[0]) * (size_t)(s->n - i - 1));
    s->n--;
    return 0;
}

static int us_list(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, valkeyaddon_row_cb cb,
                   void *payload)
{
    struct user_storage *s = (struct user_storage *)self;
    int i, rc;

    (void)ctx;
    for (i = 0; i < s->n; i++)
        if (!app_id || strcmp(s->rows[i].app_id, app_id) == 0)
            if ((rc = cb(&s->rows[i], payload)) != 0)
                return rc;
    return 0;
}

static void us_free(valkeyaddon_storage *self)
{
    free(self);
}

static struct user_storage *user_storage_new(void)
{
    valkeyaddon_storage init = VALKEYADDON_STORAGE_INIT;
    struct user_storage *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    s->base = init;
    s->base.upsert = us_upsert;
    s->base.get = us_get;
    s->base.set_status = us_set_status;
    s->base.remove = us_remove;
    s->base.list = us_list;
    s->base.free = us_free;
    return s;
}

/* ---- fixture ---- */

struct fixture {
    valkeyaddon_ctx *ctx;
    struct counting_transport *cluster; /* StatefulSets report the readiness a test chooses */
    struct user_storage *store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_int_equal(valkeyaddon_ctx_new(&f->ctx, NULL), 0);
    f->cluster = counting_transport_new(sizeof(*f->cluster));
    f->cluster->readiness = COUNTING_ALL_READY;
    f->store = user_storage_new();
    assert_int_equal(valkeyaddon_ctx_set_transport(f->ctx, &f->cluster->base), 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(f->ctx, &f->store->base), 0);
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

#define NS "tenant-ns"

static valkeyaddon_provision_options options_for(const char *plan)
{
    valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;

    o.namespace_ = NS;
    o.tenant_id = "acme";
    o.app_id = "web";
    o.plan = plan;
    o.timeout_ms = 1500;
    return o;
}

static valkeyaddon_addon_row empty_row(void)
{
    valkeyaddon_addon_row row;

    memset(&row, 0, sizeof(row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION;
    return row;
}

static char *redis_url(struct fixture *f)
{
    valkeyaddon_buffer *buf = NULL;
    char *copy;

    assert_int_equal(valkeyaddon_buffer_new(&buf), 0);
    assert_int_equal(valkeyaddon_redis_url(buf, f->ctx, NS, "acme", "web"), 0);
    copy = strdup(valkeyaddon_buffer_data(buf, NULL));
    valkeyaddon_buffer_free(buf);
    return copy;
}

static void test_provision__records_ready_with_the_plan_used(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("standard");
    valkeyaddon_addon_row row = empty_row();
    char *url;

    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_READY);
    assert_string_equal(row.app_id, "web");
    assert_string_equal(row.addon_type, "valkey");
    assert_string_equal(row.tenant_id, "acme");
    assert_string_equal(row.plan, "standard");
    assert_string_equal(row.resource_name, "valkey-acme-web");
    assert_string_equal(row.namespace_, NS);
    assert_string_equal(row.status_message, "1 of 1 replicas ready");
    assert_true(row.created_at > 0 && row.updated_at > row.created_at);
    assert_int_equal(f->store->n, 1);
    assert_int_equal(f->store->upserts, 1);
    url = redis_url(f);
    assert_non_null(strstr(url, "@valkey-acme-web." NS ".svc.cluster.local:6379"));
    free(url);
}

static void test_provision__unknown_plan_falls_back_and_the_row_says_so(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("enterprise");
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_addon_row row = empty_row();

    assert_int_equal(valkeyaddon_provision(&row, &ensured, f->ctx, &o), 0);
    assert_int_equal(ensured.fell_back, 1);
    assert_string_equal(ensured.plan, "free");
    assert_string_equal(row.plan, "free");
    assert_int_equal(row.status, VALKEYADDON_STATUS_READY);
    assert_non_null(strstr(row.status_message, "plan \"enterprise\" is unknown"));
}

static void test_provision__repeat_converges_on_one_row_and_one_password(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row first = empty_row(), second = empty_row();
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;
    char *url1, *url2;

    assert_int_equal(valkeyaddon_provision(&first, NULL, f->ctx, &o), 0);
    url1 = redis_url(f);
    o.plan = "pro";
    assert_int_equal(valkeyaddon_provision(&second, &ensured, f->ctx, &o), 0);
    url2 = redis_url(f);
    assert_string_equal(url1, url2);
    assert_int_equal(f->store->n, 1);
    assert_int_equal(second.created_at, first.created_at);
    assert_string_equal(second.plan, "pro");
    assert_string_equal(second.status_message, "3 of 3 replicas ready");
    assert_int_equal(ensured.password_created, 0);
    assert_string_equal(ensured.plan, "pro");
    free(url1);
    free(url2);
}

static void test_provision__stalled_creating_is_recorded_failed_with_advice(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row row = empty_row();

    f->cluster->readiness = COUNTING_NONE_READY;
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_ETIMEOUT);
    assert_int_equal(row.status, VALKEYADDON_STATUS_FAILED);
    assert_non_null(strstr(row.status_message, "still Creating after 1500ms"));
    assert_non_null(strstr(row.status_message, "describe statefulset valkey-acme-web"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "not Ready within 1500 ms"));
}

/* Issue 14 item 6: no progress for the progress deadline is Failed before the wait's own timeout. */
static void test_provision__stalled_rollout_is_failed_at_the_progress_deadline(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row row = empty_row();

    o.timeout_ms = 20000;
    f->cluster->readiness = COUNTING_NONE_READY;
    assert_int_equal(valkeyaddon_ctx_set_progress_deadline(f->ctx, 1000), 0);
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EFAILED);
    assert_int_equal(row.status, VALKEYADDON_STATUS_FAILED);
    assert_non_null(strstr(row.status_message, "rollout stalled"));
    assert_non_null(strstr(row.status_message, "kubectl -n " NS " describe"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "rollout stalled"));
}

static void test_provision__partial_readiness_is_failed(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("pro");
    valkeyaddon_addon_row row = empty_row();

    f->cluster->readiness = COUNTING_ONE_READY;
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EFAILED);
    assert_int_equal(row.status, VALKEYADDON_STATUS_FAILED);
    assert_non_null(strstr(row.status_message, "partial readiness after 1500ms: 1 of 3 replicas ready"));
    assert_int_equal(valkeyaddon_ctx_error_code(f->ctx), VALKEYADDON_EFAILED);
    /* The spec's recovery: once the replicas come up, calling again converges. */
    f->cluster->readiness = COUNTING_ALL_READY;
    row = empty_row();
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_READY);
    assert_int_equal(f->store->n, 1);
}

static void test_provision__no_wait_leaves_creating(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row row = empty_row();

    f->cluster->readiness = COUNTING_NONE_READY;
    o.no_wait = 1;
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_CREATING);
    assert_non_null(strstr(row.status_message, "not waiting"));
}

static void test_provision__failed_step_is_recorded_and_a_retry_recovers(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row row = empty_row();

    counting_transport_fail(f->cluster, COUNTING_APPLY, 1, VALKEYADDON_EUNAVAILABLE,
                            "injected: admission webhook unavailable");
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EUNAVAILABLE);
    /* The caller sees the cause, not the bookkeeping after it. */
    assert_string_equal(valkeyaddon_ctx_error_message(f->ctx), "injected: admission webhook unavailable");
    assert_int_equal(row.status, VALKEYADDON_STATUS_FAILED);
    assert_non_null(strstr(row.status_message, "ensure_valkey failed: injected: admission webhook unavailable"));
    assert_non_null(strstr(row.status_message, "re-run provision"));
    row = empty_row();
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_READY);
}

static int progress_seen;
static int stop_after;

static int progress(const valkeyaddon_status_info *info, void *payload)
{
    assert_ptr_equal(payload, &progress_seen);
    assert_true(info->status >= VALKEYADDON_STATUS_CREATING && info->status <= VALKEYADDON_STATUS_FAILED);
    progress_seen++;
    return stop_after && progress_seen >= stop_after;
}

static void test_provision__progress_is_reported_and_can_stop_the_wait(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row row = empty_row();

    o.progress = progress;
    o.progress_payload = &progress_seen;
    progress_seen = 0;
    stop_after = 0;
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), 0);
    assert_true(progress_seen >= 1);

    f->cluster->readiness = COUNTING_NONE_READY;
    progress_seen = 0;
    stop_after = 1;
    o.timeout_ms = 60000;
    row = empty_row();
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), 0);
    assert_int_equal(progress_seen, 1);
    assert_int_equal(row.status, VALKEYADDON_STATUS_CREATING);
}

static void test_provision__bad_input_writes_nothing(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_addon_row row = empty_row();

    o.addon_type = "postgres";
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "addon_type"));
    o = options_for("free");
    o.app_id = "Web_App";
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EINVAL);
    o = options_for("free");
    o.namespace_ = "Bad Namespace";
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EINVAL);
    o = options_for("free");
    o.timeout_ms = -1;
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EINVAL);
    o = options_for("free");
    o.version = 99;
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EVERSION);
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, NULL), VALKEYADDON_EINVAL);
    row.version = 0;
    o = options_for("free");
    assert_int_equal(valkeyaddon_provision(&row, NULL, f->ctx, &o), VALKEYADDON_EVERSION);
    assert_int_equal(f->store->upserts, 0);
    assert_int_equal(f->cluster->writes, 0);
}

static void test_provision__store_down_writes_no_objects(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("free");

    f->store->fail_upsert = VALKEYADDON_ESTORAGE;
    assert_int_equal(valkeyaddon_provision(NULL, NULL, f->ctx, &o), VALKEYADDON_ESTORAGE);
    assert_string_equal(valkeyaddon_ctx_error_message(f->ctx), "injected: the store is down");
    assert_int_equal(f->cluster->writes, 0);
}

static void test_provision__needs_a_storage(void **state)
{
    valkeyaddon_provision_options o = options_for("free");
    valkeyaddon_transport *t = NULL;
    valkeyaddon_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_transport_memory_new(&t), 0);
    assert_int_equal(valkeyaddon_ctx_set_transport(ctx, t), 0);
    assert_int_equal(valkeyaddon_provision(NULL, NULL, ctx, &o), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "no storage"));
    valkeyaddon_ctx_free(ctx);
}

static void test_provision__deprovision_removes_the_row_and_is_idempotent(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("standard");
    valkeyaddon_addon_row row = empty_row();
    int deleted = -1;

    assert_int_equal(valkeyaddon_provision(NULL, NULL, f->ctx, &o), 0);
    assert_int_equal(valkeyaddon_deprovision(&deleted, f->ctx, NS, "acme", "web"), 0);
    assert_true(deleted >= 5);
    assert_int_equal(f->store->n, 0);
    assert_int_equal(valkeyaddon_addon_get(&row, f->ctx, "web", NULL), VALKEYADDON_ENOTFOUND);
    assert_int_equal(valkeyaddon_deprovision(&deleted, f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(deleted, 0);
}

static void test_provision__refresh_reads_the_cluster_into_the_row(void **state)
{
    struct fixture *f = *state;
    valkeyaddon_provision_options o = options_for("pro");
    valkeyaddon_status_info info = { VALKEYADDON_STATUS_INFO_VERSION, 0, 0, 0, 0, 0, 0, 0, "" };
    valkeyaddon_addon_row row = empty_row();
    const valkeyaddon_resource sts = { "apps/v1", "StatefulSet", "statefulsets", 1 };

    assert_int_equal(valkeyaddon_refresh_status(&row, NULL, f->ctx, NS, "acme", "web"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(valkeyaddon_provision(NULL, NULL, f->ctx, &o), 0);

    f->cluster->readiness = COUNTING_ONE_READY;
    assert_int_equal(valkeyaddon_refresh_status(&row, &info, f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_FAILED);
    assert_int_equal(info.ready, 1);
    assert_int_equal(info.desired, 3);
    assert_non_null(strstr(row.status_message, "1 of 3 replicas ready"));

    f->cluster->readiness = COUNTING_ALL_READY;
    assert_int_equal(valkeyaddon_refresh_status(&row, NULL, f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_READY);

    /* Someone deleted the StatefulSet: the row says so and says what to do. */
    assert_int_equal(f->cluster->inner->remove(f->cluster->inner, f->ctx, &sts, NS, "valkey-acme-web", 0), 0);
    assert_int_equal(valkeyaddon_refresh_status(&row, NULL, f->ctx, NS, "acme", "web"), 0);
    assert_int_equal(row.status, VALKEYADDON_STATUS_FAILED);
    assert_non_null(strstr(row.status_message, "is missing: re-run provision"));

    assert_int_equal(valkeyaddon_refresh_status(&row, NULL, f->ctx, NS, "other", "web"), VALKEYADDON_ECONFLICT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_provision__records_ready_with_the_plan_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provision__unknown_plan_falls_back_and_the_row_says_so, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__repeat_converges_on_one_row_and_one_password, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__stalled_creating_is_recorded_failed_with_advice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__stalled_rollout_is_failed_at_the_progress_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__partial_readiness_is_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provision__no_wait_leaves_creating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provision__failed_step_is_recorded_and_a_retry_recovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__progress_is_reported_and_can_stop_the_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__bad_input_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provision__store_down_writes_no_objects, setup, teardown),
        cmocka_unit_test(test_provision__needs_a_storage),
        cmocka_unit_test_setup_teardown(test_provision__deprovision_removes_the_row_and_is_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision__refresh_reads_the_cluster_into_the_row, setup, teardown),
    };

    return cmocka_run_group_tests_name("provision", tests, NULL, NULL);
}
