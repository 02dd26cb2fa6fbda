/*
 * Allocation failure (issue #9, item 2): every exported function, with its
 * 1st, 2nd, 3rd... allocation failing (once, then that one and every later
 * one), returns VALKEYADDON_ENOMEM with a message, leaks nothing, and leaves
 * no half-written state: a retry converges to what a call that never failed
 * gives. The driver is sweep.c; docs/allocation-failure.md explains it.
 */
#include "sweep.h"

#include <stdlib.h>

#include <yajl/yajl_tree.h>

#include "util/json_tree.h"

/* The reference a converging case compares with: what a run that never failed left. */
static struct {
    char *snapshot;
    valkeyaddon_addon_row row;
    int have_row;
} ref;

static void ref_clear(void)
{
    free(ref.snapshot);
    memset(&ref, 0, sizeof(ref));
}

static void sweep_both(const struct oom_case *c)
{
    long once = oom_sweep(c, OOM_ONCE);
    long sticky = oom_sweep(c, OOM_STICKY);

    assert_int_equal(once, sticky);
    print_message("%s: %ld allocation(s), each failed in turn, twice\n", c->name, once);
}

/* Take the reference from one clean run of the case (setup, call, then what check reads). */
static void take_reference(const struct oom_case *c)
{
    struct fx f;
    long before = oom_live();

    ref_clear();
    memset(&f, 0, sizeof(f));
    c->setup(&f);
    assert_int_equal(c->call(&f), c->final_rc);
    if (f.cluster)
        ref.snapshot = cluster_snapshot(f.cluster);
    ref.row.version = VALKEYADDON_ADDON_ROW_VERSION;
    if (f.ctx && valkeyaddon_addon_get(&ref.row, f.ctx, APP, NULL) == 0)
        ref.have_row = 1;
    fx_teardown(&f);
    assert_int_equal(oom_live(), before);
}

static void check_against_reference(struct fx *f)
{
    char *now = cluster_snapshot(f->cluster);

    if (strcmp(now, ref.snapshot) != 0)
        fail_msg("the objects differ from a run that never failed:\n--- never failed\n%s--- failed, then retried\n%s",
                 ref.snapshot, now);
    free(now);
    if (ref.have_row) {
        valkeyaddon_addon_row row;
        memset(&row, 0, sizeof(row));
        row.version = VALKEYADDON_ADDON_ROW_VERSION;
        assert_int_equal(valkeyaddon_addon_get(&row, f->ctx, APP, NULL), 0);
        assert_row_content_equal(&row, &ref.row);
    }
}

/* ====================================================================== */
/* Functions that never allocate: each call is made with every allocation failing. */

static int call_parse_status(struct fx *f)
{
    (void)f;
    return parse_valkey_status(1, 3);
}

static int call_status_name(struct fx *f)
{
    (void)f;
    return strcmp(valkeyaddon_status_name(VALKEYADDON_STATUS_READY), "Ready");
}

static int call_strerror(struct fx *f)
{
    (void)f;
    return strcmp(valkeyaddon_strerror(VALKEYADDON_ENOMEM), "") == 0;
}

static int call_version(struct fx *f)
{
    int major = -1;

    (void)f;
    return valkeyaddon_version(&major, NULL, NULL) && major >= 0 ? 0 : -1;
}

static int call_plan_count_name(struct fx *f)
{
    (void)f;
    return valkeyaddon_plan_count() == 3 && strcmp(valkeyaddon_plan_name(2), "pro") == 0 ? 0 : -1;
}

static int call_plan_config(struct fx *f)
{
    valkeyaddon_plan_config config = VALKEYADDON_PLAN_CONFIG_INIT;

    /* An unknown plan: the fall-back is logged (into a stack buffer). */
    return valkey_plan_config(&config, f->ctx, "Pro");
}

static int call_check_id(struct fx *f)
{
    return valkeyaddon_check_id(f->ctx, "tenant_id", "Not-Valid");
}

static int call_valkey_name(struct fx *f)
{
    char out[VALKEYADDON_NAME_BUFSIZE];
    /* Long ids: shortened with a SHA-256 hash (OpenSSL's allocator, not ours). */
    return valkey_name(out, sizeof(out), f->ctx, "0b7e3d1c-4b9a-4f0e-9d3c-6a1f2e8b7c55",
                       "8f14e45f-ceea-467f-a0e6-7b4c1d2e3f40");
}

static int call_secret_names(struct fx *f)
{
    char a[VALKEYADDON_NAME_BUFSIZE], b[VALKEYADDON_NAME_BUFSIZE];
    int rc = valkeyaddon_auth_secret_name(a, sizeof(a), f->ctx, "valkey-acme-web");

    return rc ? rc : valkeyaddon_redis_url_secret_name(b, sizeof(b), f->ctx, APP);
}

static int call_ctx_accessors(struct fx *f)
{
    valkeyaddon_ctx_options options;
    int rc = valkeyaddon_ctx_options_init(&options, VALKEYADDON_CTX_OPTIONS_VERSION);

    if (rc)
        return rc;
    if (valkeyaddon_ctx_set_error(f->ctx, VALKEYADDON_EIO, "a plugin's failure") != VALKEYADDON_EIO ||
        valkeyaddon_ctx_error_code(f->ctx) != VALKEYADDON_EIO ||
        strcmp(valkeyaddon_ctx_error_message(f->ctx), "a plugin's failure") != 0)
        return -1;
    valkeyaddon_ctx_clear_error(f->ctx);
    if (valkeyaddon_ctx_error_code(f->ctx) != 0)
        return -1;
    return valkeyaddon_ctx_set_log(f->ctx, VALKEYADDON_LOG_INFO, NULL, NULL);
}

static void setup_plugins(struct fx *f)
{
    fx_ctx(f);
    assert_int_equal(valkeyaddon_transport_memory_new(&f->transport), 0);
    assert_int_equal(valkeyaddon_storage_memory_new(&f->storage), 0);
}

static int call_set_plugins(struct fx *f)
{
    int rc = valkeyaddon_ctx_set_transport(f->ctx, f->transport);

    if (rc)
        return rc;
    f->transport = NULL; /* the context owns it */
    if ((rc = valkeyaddon_ctx_set_storage(f->ctx, f->storage)) != 0)
        return rc;
    f->storage = NULL;
    return 0;
}

static int call_frees(struct fx *f)
{
    /* Release calls allocate nothing either. */
    valkeyaddon_ctx_free(f->ctx);
    f->ctx = NULL;
    valkeyaddon_buffer_free(f->buf);
    f->buf = NULL;
    valkeyaddon_free(NULL);
    return 0;
}

static void setup_frees(struct fx *f)
{
    fx_cluster(f);
    assert_int_equal(valkeyaddon_buffer_new(&f->buf), 0);
    assert_int_equal(valkeyaddon_buffer_set(f->buf, "x", 1), 0);
}

static int call_replace_allocator_refusal(struct fx *f)
{
    (void)f;
    /* A partial set is refused without touching the installed allocator. */
    return valkeyaddon_replace_allocator(malloc, NULL, NULL, free);
}

static int call_buffer_data(struct fx *f)
{
    size_t len;

    return strcmp(valkeyaddon_buffer_data(f->buf, &len), "x") == 0 && len == 1 ? 0 : -1;
}

static int call_set_progress_deadline(struct fx *f)
{
    return valkeyaddon_ctx_set_progress_deadline(f->ctx, 1000);
}

static void test_oom__functions_that_never_allocate(void **state)
{
    static const struct oom_case cases[] = {
        { "parse_valkey_status", NULL, call_parse_status, NULL, VALKEYADDON_STATUS_FAILED, 0, 1 },
        { "valkeyaddon_status_name", NULL, call_status_name, NULL, 0, 0, 1 },
        { "valkeyaddon_strerror", NULL, call_strerror, NULL, 0, 0, 1 },
        { "valkeyaddon_version", NULL, call_version, NULL, 0, 0, 1 },
        { "valkeyaddon_plan_count, valkeyaddon_plan_name", NULL, call_plan_count_name, NULL, 0, 0, 1 },
        { "valkey_plan_config", fx_ctx, call_plan_config, NULL, VALKEYADDON_PLAN_FELL_BACK, 0, 0 },
        { "valkeyaddon_check_id", fx_ctx, call_check_id, NULL, VALKEYADDON_EINVAL, 0, 0 },
        { "valkey_name", fx_ctx, call_valkey_name, NULL, VALKEYADDON_NAME_SHORTENED, 0, 0 },
        { "valkeyaddon_auth_secret_name, valkeyaddon_redis_url_secret_name", fx_ctx, call_secret_names, NULL, 0,
          0, 0 },
        { "valkeyaddon_ctx_options_init, _set_error, _error_code, _error_message, _clear_error, _set_log", fx_ctx,
          call_ctx_accessors, NULL, 0, 0, 0 },
        { "valkeyaddon_ctx_set_transport, valkeyaddon_ctx_set_storage", setup_plugins, call_set_plugins, NULL, 0, 0,
          0 },
        { "valkeyaddon_ctx_free, valkeyaddon_buffer_free, valkeyaddon_free", setup_frees, call_frees, NULL, 0, 0,
          0 },
        { "valkeyaddon_buffer_data", setup_frees, call_buffer_data, NULL, 0, 0, 0 },
        { "valkeyaddon_replace_allocator", NULL, call_replace_allocator_refusal, NULL, VALKEYADDON_EINVAL, 0, 1 },
        { "valkeyaddon_ctx_set_progress_deadline", fx_ctx, call_set_progress_deadline, NULL, 0, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        oom_expect_no_allocation(&cases[i]);
}

/* ====================================================================== */
/* Context and buffer */

static int call_ctx_new(struct fx *f)
{
    valkeyaddon_ctx_options options = VALKEYADDON_CTX_OPTIONS_INIT;

    options.log_level = VALKEYADDON_LOG_DEBUG;
    options.log_cb = capture_log;
    options.log_payload = &f->log;
    return valkeyaddon_ctx_new(&f->ctx, &options);
}

static void check_ctx_new(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_null(f->ctx); /* untouched on failure */
    else
        assert_non_null(f->ctx);
}

static void test_oom__valkeyaddon_ctx_new(void **state)
{
    static const struct oom_case c = { "valkeyaddon_ctx_new", NULL, call_ctx_new, check_ctx_new, 0, 0, 1 };

    (void)state;
    sweep_both(&c);
}

static int call_set_object_options(struct fx *f)
{
    valkeyaddon_object_options o = VALKEYADDON_OBJECT_OPTIONS_INIT;

    o.image = "registry.example/valkey:8.1.4";
    o.exporter_image = "registry.example/exporter:1";
    o.cluster_domain = "cluster.example";
    o.storage_class = "fast";
    o.field_manager = "sweeper";
    o.app_label = "app";
    o.monitoring_namespace = "mon";
    o.pod_disruption_budget = 1;
    o.network_policy = 1;
    o.service_monitor = 1;
    return valkeyaddon_ctx_set_object_options(f->ctx, &o);
}

static int count_image(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    struct fx *f = payload;

    (void)name;
    (void)len;
    if (strcmp(kind, "StatefulSet") == 0)
        f->count = strstr(text, "registry.example/valkey") ? 2 : strstr(text, VALKEYADDON_DEFAULT_IMAGE) ? 1 : 0;
    return 0;
}

static void check_set_object_options(struct fx *f, int rc, int failed)
{
    valkeyaddon_render_options o = VALKEYADDON_RENDER_OPTIONS_INIT;

    (void)rc;
    o.format = VALKEYADDON_RENDER_JSON;
    o.password = "0123456789abcdef0123456789abcdef";
    /* The previous options stay on failure: the default image, not half of the new options. */
    assert_int_equal(valkeyaddon_render(f->ctx, NS, TENANT, APP, "free", &o, count_image, f), 0);
    assert_int_equal(f->count, failed ? 1 : 2);
}

static void test_oom__valkeyaddon_ctx_set_object_options(void **state)
{
    static const struct oom_case c = { "valkeyaddon_ctx_set_object_options", fx_ctx, call_set_object_options,
                                       check_set_object_options, 0, 0, 0 };

    (void)state;
    sweep_both(&c);
}

static int call_buffer_new(struct fx *f)
{
    return valkeyaddon_buffer_new(&f->buf);
}

static void check_buffer_new(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_null(f->buf);
    else
        assert_string_equal(valkeyaddon_buffer_data(f->buf, NULL), "");
}

static void setup_buffer(struct fx *f)
{
    assert_int_equal(valkeyaddon_buffer_new(&f->buf), 0);
    assert_int_equal(valkeyaddon_buffer_set(f->buf, "old", 3), 0);
}

static char big[5000];

static int call_buffer_set(struct fx *f)
{
    return valkeyaddon_buffer_set(f->buf, big, sizeof(big));
}

static int call_buffer_append(struct fx *f)
{
    int rc = valkeyaddon_buffer_append(f->buf, big, 100);

    return rc ? rc : valkeyaddon_buffer_append(f->buf, big, sizeof(big));
}

static void check_buffer_content(struct fx *f, int rc, int failed)
{
    size_t len;
    const char *data = valkeyaddon_buffer_data(f->buf, &len);

    (void)rc;
    if (failed) {
        /* The old content stays (append: the first append may have gone through). */
        assert_true(len == 3 || len == 103);
        assert_memory_equal(data, "old", 3);
    } else {
        assert_true(len == sizeof(big) || len == 3 + 100 + sizeof(big));
    }
    assert_int_equal(data[len], '\0');
}

static void test_oom__valkeyaddon_buffer(void **state)
{
    static const struct oom_case cases[] = {
        { "valkeyaddon_buffer_new", NULL, call_buffer_new, check_buffer_new, 0, 0, 1 },
        { "valkeyaddon_buffer_set", setup_buffer, call_buffer_set, check_buffer_content, 0, 0, 1 },
        { "valkeyaddon_buffer_append", setup_buffer, call_buffer_append, check_buffer_content, 0, 0, 1 },
    };
    size_t i;

    (void)state;
    memset(big, 'b', sizeof(big));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        sweep_both(&cases[i]);
}

/* ====================================================================== */
/* Transports: construction */

static int call_memory_transport(struct fx *f)
{
    return valkeyaddon_transport_memory_new(&f->transport);
}

static int ignore_rendered(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    struct fx *f = payload;

    (void)kind;
    (void)name;
    (void)text;
    (void)len;
    f->count++;
    return 0;
}

static int call_render_transport(struct fx *f)
{
    return valkeyaddon_transport_render_new(&f->transport, VALKEYADDON_RENDER_YAML, ignore_rendered, f);
}

static void check_transport(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_null(f->transport);
    else
        assert_non_null(f->transport);
}

static void setup_local(struct fx *f)
{
    fx_ctx(f);
    fx_tempdir(f);
    snprintf(f->path, sizeof(f->path), "%s/state", f->dir);
}

static int call_local_transport(struct fx *f)
{
    valkeyaddon_local_options o = VALKEYADDON_LOCAL_OPTIONS_INIT;

    o.state_dir = f->path;
    o.server_path = "/bin/true"; /* never started: construction only */
    return valkeyaddon_transport_local_new(&f->transport, f->ctx, &o);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void setup_kubeconfig(struct fx *f)
{
    char text[2048];

    fx_ctx(f);
    fx_tempdir(f);
    snprintf(f->path, sizeof(f->path), "%s/kubeconfig", f->dir);
    /* Two clusters, users and contexts; the CA inline (base64 of a PEM header: never parsed here). */
    snprintf(text, sizeof(text),
             "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
             "clusters:\n"
             "- name: c\n  cluster: {server: \"https://127.0.0.1:6443\", "
             "certificate-authority-data: \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\"}\n"
             "- name: other\n  cluster: {server: \"https://127.0.0.2:6443\"}\n"
             "users:\n- name: u\n  user: {token: \"sweep-token\"}\n"
             "- name: v\n  user: {tokenFile: \"%s/token\"}\n"
             "contexts:\n- name: t\n  context: {cluster: c, user: u, namespace: " NS "}\n"
             "- name: o\n  context: {cluster: other, user: v}\n",
             f->dir);
    write_file(f->path, text);
}

static int call_kubernetes_transport(struct fx *f)
{
    valkeyaddon_kubernetes_options o = VALKEYADDON_KUBERNETES_OPTIONS_INIT;

    o.kubeconfig = f->path;
    return valkeyaddon_transport_kubernetes_new(&f->transport, f->ctx, &o);
}

static void check_kubernetes_transport(struct fx *f, int rc, int failed)
{
    check_transport(f, rc, failed);
    if (!failed)
        assert_string_equal(valkeyaddon_transport_kubernetes_namespace(f->transport), NS);
}

static void test_oom__transport_constructors(void **state)
{
    static const struct oom_case cases[] = {
        { "valkeyaddon_transport_memory_new", NULL, call_memory_transport, check_transport, 0, 0, 1 },
        { "valkeyaddon_transport_render_new", NULL, call_render_transport, check_transport, 0, 0, 1 },
        { "valkeyaddon_transport_local_new", setup_local, call_local_transport, check_transport, 0, 0, 0 },
        { "valkeyaddon_transport_kubernetes_new, valkeyaddon_transport_kubernetes_namespace", setup_kubeconfig,
          call_kubernetes_transport, check_kubernetes_transport, 0, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        sweep_both(&cases[i]);
}

/* ====================================================================== */
/* Storages: construction, open, migrate */

static int call_memory_storage(struct fx *f)
{
    return valkeyaddon_storage_memory_new(&f->storage);
}

static void check_storage(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_null(f->storage);
    else
        assert_non_null(f->storage);
}

static void setup_db_path(struct fx *f)
{
    fx_ctx(f);
    fx_tempdir(f);
    snprintf(f->path, sizeof(f->path), "%s/addons.db", f->dir);
}

static int call_sqlite_storage(struct fx *f)
{
    return valkeyaddon_storage_sqlite_new(&f->storage, f->ctx, f->path);
}

/* A failed open leaves a database a later open (and the flow) can use. */
static void check_sqlite_reopen(struct fx *f, int rc, int failed)
{
    check_storage(f, rc, failed);
    if (failed) {
        assert_int_equal(valkeyaddon_storage_sqlite_new(&f->storage, f->ctx, f->path), 0);
        assert_int_equal(f->storage->migrate(f->storage, f->ctx), 0);
    }
}

static int call_open_sqlite(struct fx *f)
{
    char url[300];

    snprintf(url, sizeof(url), "sqlite:%s", f->path);
    return valkeyaddon_storage_open(&f->storage, f->ctx, url);
}

static int call_open_sqlite_memory(struct fx *f)
{
    return valkeyaddon_storage_open(&f->storage, f->ctx, "sqlite::memory:");
}

static int call_open_memory(struct fx *f)
{
    return valkeyaddon_storage_open(&f->storage, f->ctx, "memory:");
}

/* No server on this socket directory: the option handling runs, the connection fails at once. */
#define BAD_CONNINFO "host=/nonexistent-valkeyaddon-oom port=1 dbname=x user=u password=sweep-secret connect_timeout=1"

static int call_open_postgres(struct fx *f)
{
    return valkeyaddon_storage_open(&f->storage, f->ctx, BAD_CONNINFO);
}

static int call_postgres_storage(struct fx *f)
{
    valkeyaddon_postgres_options o = VALKEYADDON_POSTGRES_OPTIONS_INIT;

    o.conninfo = "postgresql://u:sweep-secret@localhost/x?host=/nonexistent-valkeyaddon-oom&port=1";
    o.application_name = "oom-sweep";
    o.connect_timeout_s = 1;
    return valkeyaddon_storage_postgres_new(&f->storage, f->ctx, &o);
}

static void check_no_conninfo(struct fx *f, int rc, int failed)
{
    (void)rc;
    (void)failed;
    assert_null(f->storage);
    assert_null(strstr(valkeyaddon_ctx_error_message(f->ctx), "sweep-secret"));
    assert_null(strstr(f->log.all, "sweep-secret"));
}

static void setup_sqlite_ctx(struct fx *f)
{
    fx_sqlite_storage(f);
}

static int call_migrate(struct fx *f)
{
    return valkeyaddon_storage_migrate(f->ctx);
}

static void test_oom__storage_constructors(void **state)
{
    static const struct oom_case cases[] = {
        { "valkeyaddon_storage_memory_new", NULL, call_memory_storage, check_storage, 0, 0, 1 },
        { "valkeyaddon_storage_sqlite_new", setup_db_path, call_sqlite_storage, check_sqlite_reopen, 0, 0, 0 },
        { "valkeyaddon_storage_open(sqlite:PATH)", setup_db_path, call_open_sqlite, check_sqlite_reopen, 0, 0, 0 },
        { "valkeyaddon_storage_open(sqlite::memory:)", fx_ctx, call_open_sqlite_memory, check_storage, 0, 0, 0 },
        { "valkeyaddon_storage_open(memory:)", fx_ctx, call_open_memory, check_storage, 0, 0, 0 },
        { "valkeyaddon_storage_open(keyword=value, no server)", fx_ctx, call_open_postgres, check_no_conninfo,
          VALKEYADDON_ESTORAGE, 0, 0 },
        { "valkeyaddon_storage_postgres_new(no server)", fx_ctx, call_postgres_storage, check_no_conninfo,
          VALKEYADDON_ESTORAGE, 0, 0 },
        { "valkeyaddon_storage_migrate(sqlite)", setup_sqlite_ctx, call_migrate, NULL, 0, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        sweep_both(&cases[i]);
}

/* ====================================================================== */
/* render */

static int call_render_yaml(struct fx *f)
{
    valkeyaddon_render_options o = VALKEYADDON_RENDER_OPTIONS_INIT;

    f->count = 0;
    return valkeyaddon_render(f->ctx, NS, TENANT, APP, "pro", &o, ignore_rendered, f);
}

static int call_render_json(struct fx *f)
{
    valkeyaddon_render_options o = VALKEYADDON_RENDER_OPTIONS_INIT;

    o.format = VALKEYADDON_RENDER_JSON;
    o.secrets = VALKEYADDON_RENDER_SECRETS_EXCLUDE;
    o.password = "0123456789abcdef0123456789abcdef";
    f->count = 0;
    return valkeyaddon_render(f->ctx, NS, TENANT, APP, "standard", &o, ignore_rendered, f);
}

static void setup_render(struct fx *f)
{
    fx_ctx(f);
    assert_int_equal(call_set_object_options(f), 0);
}

static void test_oom__valkeyaddon_render(void **state)
{
    static const struct oom_case cases[] = {
        { "valkeyaddon_render(yaml)", setup_render, call_render_yaml, NULL, 0, 0, 0 },
        { "valkeyaddon_render(json)", setup_render, call_render_json, NULL, 0, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        sweep_both(&cases[i]);
}

/* ====================================================================== */
/* ensure_valkey, ensure_redis_url_secret, redis_url, status, deprovision over the cluster */

static int call_ensure(struct fx *f)
{
    valkeyaddon_ensure_result r = VALKEYADDON_ENSURE_RESULT_INIT;

    f->ensured = r;
    return ensure_valkey(&f->ensured, f->ctx, NS, TENANT, APP, f->plan ? f->plan : "pro");
}

static void check_ensure(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_ensure(f), 0); /* the retry converges */
    check_against_reference(f);
}

static void setup_ensure_fresh(struct fx *f)
{
    fx_cluster(f);
    assert_int_equal(call_set_object_options(f), 0);
}

static void setup_ensure_existing(struct fx *f)
{
    setup_ensure_fresh(f);
    f->plan = "free";
    assert_int_equal(call_ensure(f), 0);
    f->plan = "pro"; /* a plan change: every object but the Secret is rewritten */
}

static void setup_ensured(struct fx *f)
{
    fx_cluster(f);
    assert_int_equal(call_ensure(f), 0);
}

static int call_ensure_url(struct fx *f)
{
    return ensure_redis_url_secret(f->ctx, NS, TENANT, APP);
}

static void check_ensure_url(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_ensure_url(f), 0);
    check_against_reference(f);
    assert_redis_url_consistent(f);
}

static void setup_wired(struct fx *f)
{
    setup_ensured(f);
    assert_int_equal(call_ensure_url(f), 0);
    assert_int_equal(valkeyaddon_buffer_new(&f->buf), 0);
}

static int call_redis_url(struct fx *f)
{
    return valkeyaddon_redis_url(f->buf, f->ctx, NS, TENANT, APP);
}

static void check_redis_url(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (!failed)
        assert_non_null(strstr(valkeyaddon_buffer_data(f->buf, NULL), "redis://default:"));
}

static int call_addon_status(struct fx *f)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;

    f->info = info;
    return valkeyaddon_addon_status(&f->info, f->ctx, NS, TENANT, APP);
}

static int call_wait_ready(struct fx *f)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;

    f->info = info;
    return valkeyaddon_wait_ready(&f->info, f->ctx, NS, TENANT, APP, 3000, NULL, NULL);
}

static void check_ready(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (!failed)
        assert_int_equal(f->info.status, VALKEYADDON_STATUS_READY);
}

static int call_deprovision(struct fx *f)
{
    return valkeyaddon_deprovision(&f->deleted, f->ctx, NS, TENANT, APP);
}

static void check_deprovision(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_deprovision(f), 0);
    assert_int_equal(cluster_objects(f->cluster), 0);
}

static void setup_render_transport(struct fx *f)
{
    valkeyaddon_transport *t = NULL;

    fx_ctx(f);
    assert_int_equal(valkeyaddon_transport_render_new(&t, VALKEYADDON_RENDER_YAML, ignore_rendered, f), 0);
    assert_int_equal(valkeyaddon_ctx_set_transport(f->ctx, t), 0);
}

static void check_render_transport(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_ensure(f), 0);
}

static void test_oom__ensure_valkey(void **state)
{
    static const struct oom_case cases[] = {
        { "ensure_valkey(new add-on, every extra)", setup_ensure_fresh, call_ensure, check_ensure, 0, 0, 0, 1 },
        { "ensure_valkey(plan change)", setup_ensure_existing, call_ensure, check_ensure, 0, 0, 0, 1 },
        { "ensure_valkey(nothing to do)", setup_ensured, call_ensure, check_ensure, 0, 0, 0, 1 },
    };
    static const struct oom_case render = { "ensure_valkey(render transport)", setup_render_transport, call_ensure,
                                            check_render_transport, 0, 0, 0, 1 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        take_reference(&cases[i]);
        sweep_both(&cases[i]);
    }
    sweep_both(&render);
    ref_clear();
}

static void test_oom__ensure_redis_url_secret(void **state)
{
    static const struct oom_case c = { "ensure_redis_url_secret", setup_ensured, call_ensure_url, check_ensure_url,
                                       0, 0, 0, 1 };

    (void)state;
    take_reference(&c);
    sweep_both(&c);
    ref_clear();
}

static void test_oom__reads(void **state)
{
    static const struct oom_case cases[] = {
        { "valkeyaddon_redis_url", setup_wired, call_redis_url, check_redis_url, 0, 0, 0 },
        { "valkeyaddon_addon_status", setup_wired, call_addon_status, check_ready, 0, 0, 0 },
        { "valkeyaddon_wait_ready", setup_wired, call_wait_ready, check_ready, 0, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        sweep_both(&cases[i]);
}

static void test_oom__valkeyaddon_deprovision(void **state)
{
    static const struct oom_case c = { "valkeyaddon_deprovision", setup_wired, call_deprovision, check_deprovision,
                                       0, 0, 0 };

    (void)state;
    sweep_both(&c);
}

/* A claim kept from this add-on (owner labels), so deprovision_with has one to delete. */
static void setup_wired_with_claim(struct fx *f)
{
    static const char claim[] = "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":"
                                "\"data-valkey-acme-web-0\",\"namespace\":\"" NS "\",\"labels\":{"
                                "\"app.kubernetes.io/instance\":\"valkey-acme-web\"}}}";
    static const valkeyaddon_resource pvc = { "v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1 };

    setup_wired(f);
    cluster_put(f->cluster, &pvc, NS, claim);
}

static int call_deprovision_with(struct fx *f)
{
    valkeyaddon_deprovision_options o = VALKEYADDON_DEPROVISION_OPTIONS_INIT;
    valkeyaddon_deprovision_result r = VALKEYADDON_DEPROVISION_RESULT_INIT;

    o.namespace_ = NS;
    o.tenant_id = TENANT;
    o.app_id = APP;
    o.delete_data = 1;
    return valkeyaddon_deprovision_with(&r, f->ctx, &o);
}

static void check_deprovision_with(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_deprovision_with(f), 0);
    assert_int_equal(cluster_objects(f->cluster), 0);
}

static void test_oom__valkeyaddon_deprovision_with(void **state)
{
    static const struct oom_case c = { "valkeyaddon_deprovision_with", setup_wired_with_claim, call_deprovision_with,
                                       check_deprovision_with, 0, 0, 0 };

    (void)state;
    sweep_both(&c);
}

/* standard -> free with allow_data_loss: the refused change, allowed. */
static int call_ensure_with(struct fx *f)
{
    valkeyaddon_ensure_options o = VALKEYADDON_ENSURE_OPTIONS_INIT;
    valkeyaddon_ensure_result r = VALKEYADDON_ENSURE_RESULT_INIT;

    o.namespace_ = NS;
    o.tenant_id = TENANT;
    o.app_id = APP;
    o.plan = "free";
    o.allow_data_loss = 1;
    f->ensured = r;
    return valkeyaddon_ensure_valkey_with(&f->ensured, f->ctx, &o);
}

static void setup_standard(struct fx *f)
{
    fx_cluster(f);
    f->plan = "standard";
    assert_int_equal(call_ensure(f), 0);
}

static void check_ensure_with(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_ensure_with(f), 0);
    check_against_reference(f);
}

static void test_oom__valkeyaddon_ensure_valkey_with(void **state)
{
    /* may_absorb: as for ensure_valkey, the comparison's out of memory means "apply" (applied.h). */
    static const struct oom_case c = { "valkeyaddon_ensure_valkey_with", setup_standard, call_ensure_with,
                                       check_ensure_with, 0, 0, 0, 1 };

    (void)state;
    take_reference(&c);
    sweep_both(&c);
}

/* ====================================================================== */
/* The provision flow and the row functions, over memory and SQLite storages */

static int call_provision(struct fx *f)
{
    valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;

    o.namespace_ = NS;
    o.tenant_id = TENANT;
    o.app_id = APP;
    o.plan = f->plan ? f->plan : "standard";
    o.timeout_ms = 3000;
    memset(&f->row, 0, sizeof(f->row));
    f->row.version = VALKEYADDON_ADDON_ROW_VERSION;
    f->ensured = ensured;
    return valkeyaddon_provision(&f->row, &f->ensured, f->ctx, &o);
}

static void check_provision(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_provision(f), 0);
    assert_int_equal(f->row.status, VALKEYADDON_STATUS_READY);
    check_against_reference(f);
    assert_redis_url_consistent(f);
}

static void setup_flow_memory(struct fx *f)
{
    fx_cluster(f);
    fx_memory_storage(f);
}

static void setup_flow_sqlite(struct fx *f)
{
    fx_cluster(f);
    fx_sqlite_storage(f);
}

static void setup_flow_provisioned(struct fx *f)
{
    setup_flow_memory(f);
    f->plan = "free";
    assert_int_equal(call_provision(f), 0);
    f->plan = "pro";
}

static void setup_flow_sqlite_provisioned(struct fx *f)
{
    setup_flow_sqlite(f);
    assert_int_equal(call_provision(f), 0);
}

static int call_refresh(struct fx *f)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;

    memset(&f->row, 0, sizeof(f->row));
    f->row.version = VALKEYADDON_ADDON_ROW_VERSION;
    f->info = info;
    return valkeyaddon_refresh_status(&f->row, &f->info, f->ctx, NS, TENANT, APP);
}

static void check_refresh(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (failed)
        assert_int_equal(call_refresh(f), 0);
    assert_int_equal(f->row.status, VALKEYADDON_STATUS_READY);
    check_against_reference(f);
}

static int call_addon_get(struct fx *f)
{
    memset(&f->row, 0, sizeof(f->row));
    f->row.version = VALKEYADDON_ADDON_ROW_VERSION;
    return valkeyaddon_addon_get(&f->row, f->ctx, APP, "valkey");
}

static int count_row(const valkeyaddon_addon_row *row, void *payload)
{
    struct fx *f = payload;

    (void)row;
    f->count++;
    return 0;
}

static int call_addon_list(struct fx *f)
{
    int rc;

    f->count = 0;
    if ((rc = valkeyaddon_addon_list(f->ctx, APP, count_row, f)) != 0)
        return rc;
    return valkeyaddon_addon_list(f->ctx, NULL, count_row, f);
}

static void check_list(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (!failed)
        assert_int_equal(f->count, 2);
}

static void test_oom__valkeyaddon_provision(void **state)
{
    static const struct oom_case cases[] = {
        { "valkeyaddon_provision(memory storage)", setup_flow_memory, call_provision, check_provision, 0, 0, 0, 1 },
        { "valkeyaddon_provision(sqlite storage)", setup_flow_sqlite, call_provision, check_provision, 0, 0, 0, 1 },
        { "valkeyaddon_provision(plan change)", setup_flow_provisioned, call_provision, check_provision, 0, 0, 0, 1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        take_reference(&cases[i]);
        sweep_both(&cases[i]);
    }
    ref_clear();
}

static void test_oom__rows(void **state)
{
    static const struct oom_case refresh[] = {
        { "valkeyaddon_refresh_status(memory storage)", setup_flow_provisioned, call_refresh, check_refresh, 0, 0,
          0 },
        { "valkeyaddon_refresh_status(sqlite storage)", setup_flow_sqlite_provisioned, call_refresh, check_refresh,
          0, 0, 0 },
    };
    static const struct oom_case reads[] = {
        { "valkeyaddon_addon_get(memory storage)", setup_flow_provisioned, call_addon_get, NULL, 0, 0, 0 },
        { "valkeyaddon_addon_get(sqlite storage)", setup_flow_sqlite_provisioned, call_addon_get, NULL, 0, 0, 0 },
        { "valkeyaddon_addon_list(memory storage)", setup_flow_provisioned, call_addon_list, check_list, 0, 0, 0 },
        { "valkeyaddon_addon_list(sqlite storage)", setup_flow_sqlite_provisioned, call_addon_list, check_list, 0,
          0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(refresh) / sizeof(refresh[0]); i++) {
        take_reference(&refresh[i]);
        sweep_both(&refresh[i]);
    }
    ref_clear();
    for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        sweep_both(&reads[i]);
}

/* ====================================================================== */
/* Internal: the watch re-serialises each event's object (kubernetes/watch.c), which only a live
 * Kubernetes API server reaches through the public functions. */

static yajl_val watched;

static int call_json_tree_to_text(struct fx *f)
{
    char *text = NULL;
    size_t len = 0;
    int rc = valkeyaddon__json_tree_to_text(&text, &len, watched);

    if (rc == 0) {
        f->count = strcmp(text, "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"valkey-acme-web\","
                               "\"generation\":3,\"labels\":{\"a\":\"b\"}},\"spec\":{\"replicas\":3,"
                               "\"ratio\":1.5,\"paused\":false,\"x\":null,\"list\":[1,true,\"s\"]}}") == 0 &&
                   len == strlen(text);
        valkeyaddon_free(text);
    }
    return rc;
}

static void check_text(struct fx *f, int rc, int failed)
{
    (void)rc;
    if (!failed)
        assert_int_equal(f->count, 1);
}

static void test_oom__json_tree_to_text(void **state)
{
    static const struct oom_case c = { "valkeyaddon__json_tree_to_text", NULL, call_json_tree_to_text, check_text,
                                       0, 0, 1 };
    static const char json[] = "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"valkey-acme-web\","
                               "\"generation\":3,\"labels\":{\"a\":\"b\"}},\"spec\":{\"replicas\":3,"
                               "\"ratio\":1.5,\"paused\":false,\"x\":null,\"list\":[1,true,\"s\"]}}";

    (void)state;
    watched = yajl_tree_parse(json, NULL, 0);
    assert_non_null(watched);
    sweep_both(&c);
    yajl_tree_free(watched);
}

/* ====================================================================== */
/* Every exported function is covered above: this list must match libvalkeyaddon.sym. */

static const char *const covered[] = {
    "ensure_redis_url_secret", "ensure_valkey", "parse_valkey_status", "valkey_name", "valkey_plan_config",
    "valkeyaddon_addon_get", "valkeyaddon_addon_list", "valkeyaddon_addon_status", "valkeyaddon_auth_secret_name",
    "valkeyaddon_buffer_append", "valkeyaddon_buffer_data", "valkeyaddon_buffer_free", "valkeyaddon_buffer_new",
    "valkeyaddon_buffer_set", "valkeyaddon_check_id", "valkeyaddon_ctx_clear_error", "valkeyaddon_ctx_error_code",
    "valkeyaddon_ctx_error_message", "valkeyaddon_ctx_free", "valkeyaddon_ctx_new", "valkeyaddon_ctx_options_init",
    "valkeyaddon_ctx_set_error", "valkeyaddon_ctx_set_log", "valkeyaddon_ctx_set_object_options",
    "valkeyaddon_ctx_set_storage", "valkeyaddon_ctx_set_transport", "valkeyaddon_deprovision", "valkeyaddon_free",
    "valkeyaddon_plan_count", "valkeyaddon_plan_name", "valkeyaddon_provision", "valkeyaddon_redis_url",
    "valkeyaddon_redis_url_secret_name", "valkeyaddon_refresh_status", "valkeyaddon_render",
    "valkeyaddon_replace_allocator", "valkeyaddon_status_name", "valkeyaddon_storage_memory_new",
    "valkeyaddon_storage_migrate", "valkeyaddon_storage_open", "valkeyaddon_storage_postgres_new",
    "valkeyaddon_storage_sqlite_new", "valkeyaddon_strerror", "valkeyaddon_transport_kubernetes_namespace",
    "valkeyaddon_transport_kubernetes_new", "valkeyaddon_transport_local_new", "valkeyaddon_transport_memory_new",
    "valkeyaddon_transport_render_new", "valkeyaddon_version", "valkeyaddon_wait_ready",
    "valkeyaddon_deprovision_with", "valkeyaddon_ensure_valkey_with", "valkeyaddon_ctx_set_progress_deadline",
};

static void test_oom__covers_every_exported_function(void **state)
{
    const char *srcdir = getenv("top_srcdir");
    char path[1024], line[256], name[256];
    size_t i, exported = 0;
    FILE *fp;

    (void)state;
    snprintf(path, sizeof(path), "%s/libvalkeyaddon/libvalkeyaddon.sym", srcdir ? srcdir : ".");
    fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot read %s (top_srcdir is set by make check)", path);
    while (fgets(line, sizeof(line), fp)) {
        int found = 0;
        /* Exported names are the "    name;" lines of the global: sections. */
        if (sscanf(line, " %255[a-z0-9_];", name) != 1 || !strchr(line, ';') || strchr(line, '*') ||
            strchr(line, ':'))
            continue;
        exported++;
        for (i = 0; i < sizeof(covered) / sizeof(covered[0]); i++)
            found |= strcmp(covered[i], name) == 0;
        if (!found)
            fail_msg("%s is exported but the allocation-failure sweep does not cover it (tests/oom/test_oom.c; "
                     "docs/allocation-failure.md says how to add it)", name);
    }
    fclose(fp);
    assert_int_equal(exported, sizeof(covered) / sizeof(covered[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom__covers_every_exported_function),
        cmocka_unit_test(test_oom__functions_that_never_allocate),
        cmocka_unit_test(test_oom__valkeyaddon_ctx_new),
        cmocka_unit_test(test_oom__valkeyaddon_ctx_set_object_options),
        cmocka_unit_test(test_oom__valkeyaddon_buffer),
        cmocka_unit_test(test_oom__transport_constructors),
        cmocka_unit_test(test_oom__storage_constructors),
        cmocka_unit_test(test_oom__valkeyaddon_render),
        cmocka_unit_test(test_oom__ensure_valkey),
        cmocka_unit_test(test_oom__ensure_redis_url_secret),
        cmocka_unit_test(test_oom__reads),
        cmocka_unit_test(test_oom__valkeyaddon_deprovision),
        cmocka_unit_test(test_oom__valkeyaddon_deprovision_with),
        cmocka_unit_test(test_oom__valkeyaddon_ensure_valkey_with),
        cmocka_unit_test(test_oom__valkeyaddon_provision),
        cmocka_unit_test(test_oom__rows),
        cmocka_unit_test(test_oom__json_tree_to_text),
    };

    /* Before any other library call, as valkeyaddon_replace_allocator() requires. */
    oom_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
