/*
 * The PostgreSQL storage against a real server. Run by test_postgres.sh,
 * which starts the server (tests/support/pg.sh) and passes:
 *   PG_CONNINFO, PG_ADMIN_CONNINFO, PG_DEAD_CONNINFO, PG_PASSWORD, PG_TEST_DIR, PG_PORT
 *   VALKEYADDON_TEST_PG_SH   pg.sh, run as `bash pg.sh restart|stop|start` for the restart tests
 * Every log line is printed on stdout so that the script can check the
 * password never appears in it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include <valkeyaddon.h>
#include <valkeyaddon/storages.h>
#include <valkeyaddon/sys/storage.h>

#include "conformance.h"

/* Everything the library logged during one test. */
struct log_capture {
    int warnings;
    char all[16384];
};

static struct log_capture captured;
static PGconn *admin;

static void capture_log(int level, const char *message, void *payload)
{
    struct log_capture *c = payload;
    size_t used = strlen(c->all);

    if (level == VALKEYADDON_LOG_WARNING)
        c->warnings++;
    snprintf(c->all + used, sizeof(c->all) - used, "%d:%s\n", level, message);
    printf("log %d: %s\n", level, message);
    fflush(stdout);
}

static const char *env(const char *name)
{
    const char *value = getenv(name);

    if (!value || !*value)
        fail_msg("%s is not set: run this program through tests/storage/test_postgres.sh", name);
    return value;
}

static valkeyaddon_ctx *new_ctx(void)
{
    valkeyaddon_ctx_options options = VALKEYADDON_CTX_OPTIONS_INIT;
    valkeyaddon_ctx *ctx = NULL;

    memset(&captured, 0, sizeof(captured));
    options.log_level = VALKEYADDON_LOG_DEBUG;
    options.log_cb = capture_log;
    options.log_payload = &captured;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, &options), 0);
    return ctx;
}

/* No message, log line or error may hold the password. */
static void assert_no_password(valkeyaddon_ctx *ctx)
{
    const char *password = env("PG_PASSWORD");

    assert_null(strstr(valkeyaddon_ctx_error_message(ctx), password));
    assert_null(strstr(captured.all, password));
}

static void admin_connect(void)
{
    if (admin && PQstatus(admin) == CONNECTION_OK)
        return;
    if (admin)
        PQfinish(admin);
    admin = PQconnectdb(env("PG_ADMIN_CONNINFO"));
    if (PQstatus(admin) != CONNECTION_OK)
        fail_msg("admin connection failed: %s", PQerrorMessage(admin));
}

/* Run SQL as the superuser; returns the first column of the first row as a number (or 0). */
static long long admin_query(const char *sql)
{
    PGresult *res;
    long long value = 0;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        admin_connect();
        res = PQexec(admin, sql);
        if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK) {
            if (PQntuples(res) > 0 && PQnfields(res) > 0)
                value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
            return value;
        }
        if (PQstatus(admin) == CONNECTION_OK)
            fail_msg("admin query failed: %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res); /* the server restarted under the admin connection: reconnect once */
    }
    fail_msg("admin query failed twice: %s", sql);
    return 0;
}

static int pg_sh(const char *action)
{
    char command[1024];

    snprintf(command, sizeof(command), "bash '%s' %s", env("VALKEYADDON_TEST_PG_SH"), action);
    return system(command);
}

static int open_storage_with(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, const char *conninfo,
                             const char *application_name)
{
    valkeyaddon_postgres_options options = VALKEYADDON_POSTGRES_OPTIONS_INIT;

    options.conninfo = conninfo;
    options.application_name = application_name;
    options.connect_timeout_s = 5;
    return valkeyaddon_storage_postgres_new(out, ctx, &options);
}

/* A migrated storage over an empty table. */
static valkeyaddon_storage *fresh_storage(valkeyaddon_ctx *ctx)
{
    valkeyaddon_storage *s = NULL;

    assert_int_equal(open_storage_with(&s, ctx, env("PG_CONNINFO"), NULL), 0);
    assert_int_equal(s->migrate(s, ctx), 0);
    admin_query("TRUNCATE app_addons");
    return s;
}

static valkeyaddon_addon_row make_row(const char *app_id, const char *addon_type, const char *plan, int status)
{
    valkeyaddon_addon_row row;

    memset(&row, 0, sizeof(row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION;
    snprintf(row.app_id, sizeof(row.app_id), "%s", app_id);
    snprintf(row.addon_type, sizeof(row.addon_type), "%s", addon_type);
    snprintf(row.tenant_id, sizeof(row.tenant_id), "tenant-%s", plan);
    snprintf(row.plan, sizeof(row.plan), "%s", plan);
    row.status = status;
    snprintf(row.status_message, sizeof(row.status_message), "message for %s", plan);
    snprintf(row.resource_name, sizeof(row.resource_name), "valkey-t-%s", plan);
    snprintf(row.namespace_, sizeof(row.namespace_), "ns-%s", plan);
    return row;
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- arguments and connection failures (no table needed) --- */

static void test_storage_postgres__arguments(void **state)
{
    valkeyaddon_postgres_options options = VALKEYADDON_POSTGRES_OPTIONS_INIT;
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = (valkeyaddon_storage *)&options; /* must be reset to NULL on failure */

    (void)state;
    assert_int_equal(valkeyaddon_storage_postgres_new(NULL, ctx, &options), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_storage_postgres_new(&s, ctx, NULL), VALKEYADDON_EINVAL);
    assert_null(s);
    assert_int_equal(valkeyaddon_storage_postgres_new(&s, ctx, &options), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "options->conninfo"));
    options.conninfo = env("PG_CONNINFO");
    options.version = 0;
    assert_int_equal(valkeyaddon_storage_postgres_new(&s, ctx, &options), VALKEYADDON_EVERSION);
    options.version = VALKEYADDON_POSTGRES_OPTIONS_VERSION + 1;
    assert_int_equal(valkeyaddon_storage_postgres_new(&s, ctx, &options), VALKEYADDON_EVERSION);
    options.version = VALKEYADDON_POSTGRES_OPTIONS_VERSION;
    options.connect_timeout_s = -1;
    assert_int_equal(valkeyaddon_storage_postgres_new(&s, ctx, &options), VALKEYADDON_EINVAL);
    /* libpq's parse error would quote "secret words" back: the message must not. */
    options.connect_timeout_s = 0;
    options.conninfo = "host=/nowhere password=secret words";
    assert_int_equal(valkeyaddon_storage_postgres_new(&s, ctx, &options), VALKEYADDON_EINVAL);
    assert_null(strstr(valkeyaddon_ctx_error_message(ctx), "secret"));
    assert_null(strstr(captured.all, "secret"));
    assert_null(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__dead_socket_fails_fast(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = NULL;
    int64_t start = now_ms();

    (void)state;
    assert_int_equal(open_storage_with(&s, ctx, env("PG_DEAD_CONNINFO"), NULL), VALKEYADDON_ESTORAGE);
    assert_null(s);
    assert_true(now_ms() - start < 5000); /* the connect timeout */
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "postgres storage: cannot connect"));
    assert_no_password(ctx);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__wrong_password(void **state)
{
    char conninfo[1024];
    const char *wrong = "wrong-Pa55word-x";
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = NULL;

    (void)state;
    snprintf(conninfo, sizeof(conninfo), "host=%s port=%s dbname=valkeyaddon user=valkeyaddon_test password=%s",
             env("PG_TEST_DIR"), env("PG_PORT"), wrong);
    assert_int_equal(open_storage_with(&s, ctx, conninfo, NULL), VALKEYADDON_ESTORAGE);
    assert_null(s);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "password authentication failed"));
    assert_null(strstr(valkeyaddon_ctx_error_message(ctx), wrong));
    assert_null(strstr(captured.all, wrong));
    assert_no_password(ctx);
    valkeyaddon_ctx_free(ctx);
}

/* The URL form, with the password percent-free, and the socket dir as a query parameter. */
static void test_storage_postgres__url_conninfo(void **state)
{
    char url[1024];
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = NULL;

    (void)state;
    snprintf(url, sizeof(url), "postgresql://valkeyaddon_test:%s@/valkeyaddon?host=%s&port=%s", env("PG_PASSWORD"),
             env("PG_TEST_DIR"), env("PG_PORT"));
    assert_int_equal(open_storage_with(&s, ctx, url, "vka-url-test"), 0);
    assert_int_equal(s->migrate(s, ctx), 0);
    assert_int_equal(admin_query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vka-url-test'"),
                     1);
    s->free(s);
    assert_no_password(ctx);
    valkeyaddon_ctx_free(ctx);
}

/* --- schema --- */

static void test_storage_postgres__statements_before_migrate(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = NULL;
    valkeyaddon_addon_row row;

    (void)state;
    admin_query("DROP TABLE IF EXISTS app_addons");
    assert_int_equal(open_storage_with(&s, ctx, env("PG_CONNINFO"), NULL), 0);
    /* An SQL error (42P01) is reported at once, never retried. */
    assert_int_equal(s->get(&row, s, ctx, "a", "valkey"), VALKEYADDON_ESTORAGE);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "42P01"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "migrate"));
    assert_int_equal(captured.warnings, 0);
    /* Once migrated, the same storage prepares its statements and works. */
    assert_int_equal(s->migrate(s, ctx), 0);
    assert_int_equal(s->get(&row, s, ctx, "a", "valkey"), VALKEYADDON_ENOTFOUND);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__migrate_twice(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app", "valkey", "free", VALKEYADDON_STATUS_CREATING);

    (void)state;
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(s->migrate(s, ctx), 0);
    assert_int_equal(s->migrate(s, ctx), 0);
    /* The rows survive, and the server's "already exists, skipping" notice went to the log, not stderr. */
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), 1);
    assert_non_null(strstr(captured.all, "server notice"));
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

/* Children connect, wait at a barrier (a pipe the parent closes), then migrate together. */
static int migrate_child(int barrier)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;
    char byte;
    int error;

    if (valkeyaddon_ctx_new(&ctx, NULL) < 0 || open_storage_with(&s, ctx, getenv("PG_CONNINFO"), NULL) < 0)
        return 2;
    while (read(barrier, &byte, 1) < 0 && errno == EINTR)
        ;
    error = s->migrate(s, ctx);
    if (error < 0)
        fprintf(stderr, "child migrate: %s\n", valkeyaddon_ctx_error_message(ctx));
    s->free(s);
    valkeyaddon_ctx_free(ctx);
    return error < 0 ? 1 : 0;
}

static void test_storage_postgres__migrate_concurrently(void **state)
{
    enum { CHILDREN = 4, ROUNDS = 5 };
    int round, i, status, fds[2];
    pid_t pids[CHILDREN];

    (void)state;
    for (round = 0; round < ROUNDS; round++) {
        admin_query("DROP TABLE IF EXISTS app_addons");
        assert_int_equal(pipe(fds), 0);
        for (i = 0; i < CHILDREN; i++) {
            fflush(stdout);
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(fds[1]);
                _exit(migrate_child(fds[0]));
            }
        }
        close(fds[0]);
        sleep_ms(200); /* every child connected and blocked on the barrier */
        close(fds[1]);
        for (i = 0; i < CHILDREN; i++) {
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        assert_int_equal(admin_query("SELECT count(*) FROM pg_tables WHERE tablename = 'app_addons'"), 1);
    }
}

/* --- rows --- */

static void test_storage_postgres__upsert_inserts_then_updates(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING), first, second, got;
    int64_t before = now_ms();

    (void)state;
    assert_int_equal(s->upsert(&first, s, ctx, &row), 0);
    assert_string_equal(first.app_id, "app-1");
    assert_string_equal(first.plan, "free");
    assert_int_equal(first.status, VALKEYADDON_STATUS_CREATING);
    assert_int_equal(first.version, VALKEYADDON_ADDON_ROW_VERSION);
    assert_true(first.created_at >= before - 2000 && first.created_at <= now_ms() + 2000);
    assert_true(first.updated_at == first.created_at);

    sleep_ms(20);
    row = make_row("app-1", "valkey", "pro", VALKEYADDON_STATUS_READY);
    assert_int_equal(s->upsert(&second, s, ctx, &row), 0);
    assert_string_equal(second.plan, "pro");
    assert_string_equal(second.tenant_id, "tenant-pro");
    assert_string_equal(second.status_message, "message for pro");
    assert_string_equal(second.resource_name, "valkey-t-pro");
    assert_string_equal(second.namespace_, "ns-pro");
    assert_int_equal(second.status, VALKEYADDON_STATUS_READY);
    assert_true(second.created_at == first.created_at);
    assert_true(second.updated_at > first.updated_at);

    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), 1);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), 0);
    assert_memory_equal(&got, &second, sizeof(got));
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__upsert_out_may_be_row(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "standard", VALKEYADDON_STATUS_FAILED);

    (void)state;
    assert_int_equal(s->upsert(&row, s, ctx, &row), 0);
    assert_string_equal(row.plan, "standard");
    assert_true(row.created_at > 0);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__upsert_rejects_bad_rows(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING);

    (void)state;
    assert_int_equal(s->upsert(NULL, s, ctx, NULL), VALKEYADDON_EINVAL);
    memset(row.app_id, 'a', sizeof(row.app_id)); /* no NUL: a longer key is refused, never cut */
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "row->app_id"));
    row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING);
    memset(row.plan, 'p', sizeof(row.plan));
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_EINVAL);
    row = make_row("", "valkey", "free", VALKEYADDON_STATUS_CREATING);
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_EINVAL);
    row = make_row("app-1", "valkey", "free", 0);
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_EINVAL);
    row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING);
    row.version = VALKEYADDON_ADDON_ROW_VERSION + 1;
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_EVERSION);
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), 0);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

/* An SQL error from the server (invalid UTF-8: 22021) is reported with its SQLSTATE and never retried. */
static void test_storage_postgres__sql_error_not_retried(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING);

    (void)state;
    snprintf(row.status_message, sizeof(row.status_message), "bad \xff\xfe bytes");
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_ESTORAGE);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "upsert failed"));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "SQLSTATE 22021"));
    assert_int_equal(captured.warnings, 0);
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), 0);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__get_set_status_remove(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING), got, stored;

    (void)state;
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(s->set_status(s, ctx, "app-1", "valkey", VALKEYADDON_STATUS_READY, "up"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), 0); /* nothing inserted */
    assert_int_equal(s->remove(s, ctx, "app-1", "valkey"), VALKEYADDON_ENOTFOUND);

    assert_int_equal(s->upsert(&stored, s, ctx, &row), 0);
    sleep_ms(10);
    assert_int_equal(s->set_status(s, ctx, "app-1", "valkey", VALKEYADDON_STATUS_READY, "all replicas ready"), 0);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), 0);
    assert_int_equal(got.status, VALKEYADDON_STATUS_READY);
    assert_string_equal(got.status_message, "all replicas ready");
    assert_string_equal(got.plan, "free");
    assert_true(got.created_at == stored.created_at);
    assert_true(got.updated_at > stored.updated_at);
    assert_int_equal(s->set_status(s, ctx, "app-1", "valkey", VALKEYADDON_STATUS_FAILED, NULL), 0);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), 0);
    assert_int_equal(got.status, VALKEYADDON_STATUS_FAILED);
    assert_string_equal(got.status_message, "");
    assert_int_equal(s->set_status(s, ctx, "app-1", "valkey", 42, "x"), VALKEYADDON_EINVAL);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "other"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(s->get(&got, s, ctx, NULL, "valkey"), VALKEYADDON_EINVAL);

    assert_int_equal(s->remove(s, ctx, "app-1", "valkey"), 0);
    assert_int_equal(s->remove(s, ctx, "app-1", "valkey"), VALKEYADDON_ENOTFOUND);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), VALKEYADDON_ENOTFOUND);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__long_status_message_is_cut(void **state)
{
    char message[1200];
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING), got;
    size_t i;

    (void)state;
    /* "é" is two bytes: 511 bytes would end inside the 256th, so the cut keeps 255 of them. */
    for (i = 0; i + 2 < sizeof(message); i += 2) {
        message[i] = (char)0xc3;
        message[i + 1] = (char)0xa9;
    }
    message[i] = '\0';
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(s->set_status(s, ctx, "app-1", "valkey", VALKEYADDON_STATUS_FAILED, message), 0);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), 0);
    assert_int_equal(strlen(got.status_message), 510);
    assert_memory_equal(got.status_message, message, 510);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

struct listing {
    int count;
    int stop_after;
    char keys[16][128];
};

static int collect(const valkeyaddon_addon_row *row, void *payload)
{
    struct listing *l = payload;

    if (l->count < 16)
        snprintf(l->keys[l->count], sizeof(l->keys[0]), "%s/%s", row->app_id, row->addon_type);
    l->count++;
    return l->stop_after && l->count == l->stop_after ? 7 : 0;
}

static void test_storage_postgres__list_in_order(void **state)
{
    static const char *const keys[][2] = { { "b", "valkey" }, { "a", "valkey" }, { "c", "postgres" },
                                           { "a", "postgres" }, { "B", "valkey" }, { "c", "valkey" } };
    static const char *const sorted[] = { "B/valkey", "a/postgres", "a/valkey", "b/valkey", "c/postgres", "c/valkey" };
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    struct listing l;
    size_t i;

    (void)state;
    memset(&l, 0, sizeof(l));
    assert_int_equal(s->list(s, ctx, NULL, collect, &l), 0);
    assert_int_equal(l.count, 0);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        valkeyaddon_addon_row row = make_row(keys[i][0], keys[i][1], "free", VALKEYADDON_STATUS_CREATING);
        assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    }
    /* Byte order ("B" before "a"), whatever the database's collation. */
    assert_int_equal(s->list(s, ctx, NULL, collect, &l), 0);
    assert_int_equal(l.count, 6);
    for (i = 0; i < 6; i++)
        assert_string_equal(l.keys[i], sorted[i]);
    memset(&l, 0, sizeof(l));
    assert_int_equal(s->list(s, ctx, "a", collect, &l), 0);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.keys[0], "a/postgres");
    assert_string_equal(l.keys[1], "a/valkey");
    memset(&l, 0, sizeof(l));
    assert_int_equal(s->list(s, ctx, "nobody", collect, &l), 0);
    assert_int_equal(l.count, 0);
    /* A callback's non-zero value stops the listing and is returned. */
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    assert_int_equal(s->list(s, ctx, NULL, collect, &l), 7);
    assert_int_equal(l.count, 2);
    assert_int_equal(s->list(s, ctx, NULL, NULL, NULL), VALKEYADDON_EINVAL);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__hostile_ids_stored_verbatim(void **state)
{
    static const char *const ids[] = { "x'); DROP TABLE app_addons; --", "O'Brien \"quoted\"", "back\\slash\\'",
                                       "$1 $$ %s %n", "ünïcødé-日本-🚀", "semi;colon\ttab" };
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row, got;
    struct listing l;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        row = make_row(ids[i], "valkey'--", "free", VALKEYADDON_STATUS_CREATING);
        snprintf(row.status_message, sizeof(row.status_message), "%s", ids[i]);
        assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
        assert_int_equal(s->get(&got, s, ctx, ids[i], "valkey'--"), 0);
        assert_string_equal(got.app_id, ids[i]);
        assert_string_equal(got.addon_type, "valkey'--");
        assert_string_equal(got.status_message, ids[i]);
        memset(&l, 0, sizeof(l));
        assert_int_equal(s->list(s, ctx, ids[i], collect, &l), 0);
        assert_int_equal(l.count, 1);
        assert_int_equal(s->set_status(s, ctx, ids[i], "valkey'--", VALKEYADDON_STATUS_READY, ids[i]), 0);
    }
    assert_int_equal(admin_query("SELECT count(*) FROM pg_tables WHERE tablename = 'app_addons'"), 1);
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), (long long)(sizeof(ids) / sizeof(ids[0])));
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons WHERE app_id = 'x''); DROP TABLE app_addons; --'"),
                     1);
    assert_int_equal(s->remove(s, ctx, ids[0], "valkey'--"), 0);
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), (long long)(sizeof(ids) / sizeof(ids[0])) - 1);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

/* Each child writes rows whose members all name the child; any mix would show a torn write. */
static int upsert_child(int barrier, const char *plan, int count)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;
    valkeyaddon_addon_row row = make_row("contended", "valkey", plan, VALKEYADDON_STATUS_CREATING);
    char byte;
    int i, failures = 0;

    if (valkeyaddon_ctx_new(&ctx, NULL) < 0 || open_storage_with(&s, ctx, getenv("PG_CONNINFO"), NULL) < 0)
        return 2;
    while (read(barrier, &byte, 1) < 0 && errno == EINTR)
        ;
    for (i = 0; i < count; i++) {
        row.status = i % 2 ? VALKEYADDON_STATUS_READY : VALKEYADDON_STATUS_CREATING;
        if (s->upsert(NULL, s, ctx, &row) < 0) {
            fprintf(stderr, "child upsert: %s\n", valkeyaddon_ctx_error_message(ctx));
            failures++;
        }
    }
    s->free(s);
    valkeyaddon_ctx_free(ctx);
    return failures ? 1 : 0;
}

static void test_storage_postgres__concurrent_upserts_one_row(void **state)
{
    static const char *const plans[] = { "standard", "pro" };
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row got, expected;
    int i, status, fds[2];
    pid_t pids[2];

    (void)state;
    assert_int_equal(pipe(fds), 0);
    for (i = 0; i < 2; i++) {
        fflush(stdout);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[1]);
            _exit(upsert_child(fds[0], plans[i], 300));
        }
    }
    close(fds[0]);
    sleep_ms(200);
    close(fds[1]);
    for (i = 0; i < 2; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(admin_query("SELECT count(*) FROM app_addons"), 1);
    assert_int_equal(s->get(&got, s, ctx, "contended", "valkey"), 0);
    assert_true(strcmp(got.plan, "standard") == 0 || strcmp(got.plan, "pro") == 0);
    expected = make_row("contended", "valkey", got.plan, got.status);
    assert_string_equal(got.tenant_id, expected.tenant_id);
    assert_string_equal(got.status_message, expected.status_message);
    assert_string_equal(got.resource_name, expected.resource_name);
    assert_string_equal(got.namespace_, expected.namespace_);
    assert_int_equal(got.status, VALKEYADDON_STATUS_READY); /* each child's last write */
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

/* --- lost connections --- */

static void test_storage_postgres__server_restart_reconnects(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING), got;

    (void)state;
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(pg_sh("restart"), 0);
    /* The same storage: it reconnects, prepares its statements again and repeats the statement. */
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), 0);
    assert_string_equal(got.plan, "free");
    assert_int_equal(captured.warnings, 1);
    assert_non_null(strstr(captured.all, "reconnecting once"));
    row = make_row("app-1", "valkey", "pro", VALKEYADDON_STATUS_READY);
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(captured.warnings, 1);
    assert_no_password(ctx);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

/* With the server down, a call fails after its one reconnect; once it is back, the next call works. */
static void test_storage_postgres__server_down_then_back(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row got;
    struct listing l;
    int64_t start;

    (void)state;
    assert_int_equal(pg_sh("stop"), 0);
    start = now_ms();
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), VALKEYADDON_ESTORAGE);
    assert_true(now_ms() - start < 5000);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "reconnecting failed"));
    assert_int_equal(captured.warnings, 1);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), VALKEYADDON_ESTORAGE);
    assert_int_equal(pg_sh("start"), 0);
    memset(&l, 0, sizeof(l));
    assert_int_equal(s->list(s, ctx, NULL, collect, &l), 0);
    assert_int_equal(l.count, 0);
    assert_no_password(ctx);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_postgres__terminated_backend_reconnects(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = NULL;
    valkeyaddon_addon_row row = make_row("app-1", "valkey", "free", VALKEYADDON_STATUS_CREATING), got;
    int i;

    (void)state;
    assert_int_equal(open_storage_with(&s, ctx, env("PG_CONNINFO"), "vka-terminate-test"), 0);
    assert_int_equal(s->migrate(s, ctx), 0);
    admin_query("TRUNCATE app_addons");
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(admin_query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                 " WHERE application_name = 'vka-terminate-test'"),
                     1);
    for (i = 0; i < 100 && admin_query("SELECT count(*) FROM pg_stat_activity"
                                       " WHERE application_name = 'vka-terminate-test'") > 0;
         i++)
        sleep_ms(20);
    assert_int_equal(s->get(&got, s, ctx, "app-1", "valkey"), 0);
    assert_string_equal(got.plan, "free");
    assert_int_equal(captured.warnings, 1);
    assert_int_equal(admin_query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vka-terminate-test'"),
                     1);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

/* --- through the context --- */

static void test_storage_postgres__through_the_context(void **state)
{
    valkeyaddon_ctx *ctx = new_ctx();
    valkeyaddon_storage *s = fresh_storage(ctx);
    valkeyaddon_addon_row row = make_row("app-1", VALKEYADDON_ADDON_TYPE, "free", VALKEYADDON_STATUS_CREATING), got;

    (void)state;
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, s), 0);
    assert_int_equal(valkeyaddon_storage_migrate(ctx), 0);
    memset(&got, 0, sizeof(got));
    got.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&got, ctx, "app-1", NULL), 0);
    assert_string_equal(got.plan, "free");
    assert_int_equal(valkeyaddon_addon_get(&got, ctx, "app-2", NULL), VALKEYADDON_ENOTFOUND);
    valkeyaddon_ctx_free(ctx); /* frees the storage */
}

static int group_teardown(void **state)
{
    (void)state;
    if (admin)
        PQfinish(admin);
    admin = NULL;
    return 0;
}

/* The shared conformance suite: each case gets a migrated storage over an emptied table. */
static int postgres_factory(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, void *payload)
{
    int error;

    (void)payload;
    if ((error = open_storage_with(out, ctx, getenv("PG_CONNINFO"), "vka-conformance")) < 0)
        return error;
    if ((error = (*out)->migrate(*out, ctx)) < 0) {
        (*out)->free(*out);
        *out = NULL;
        return error;
    }
    admin_query("TRUNCATE app_addons");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_postgres__arguments),
        cmocka_unit_test(test_storage_postgres__dead_socket_fails_fast),
        cmocka_unit_test(test_storage_postgres__wrong_password),
        cmocka_unit_test(test_storage_postgres__url_conninfo),
        cmocka_unit_test(test_storage_postgres__statements_before_migrate),
        cmocka_unit_test(test_storage_postgres__migrate_twice),
        cmocka_unit_test(test_storage_postgres__migrate_concurrently),
        cmocka_unit_test(test_storage_postgres__upsert_inserts_then_updates),
        cmocka_unit_test(test_storage_postgres__upsert_out_may_be_row),
        cmocka_unit_test(test_storage_postgres__upsert_rejects_bad_rows),
        cmocka_unit_test(test_storage_postgres__sql_error_not_retried),
        cmocka_unit_test(test_storage_postgres__get_set_status_remove),
        cmocka_unit_test(test_storage_postgres__long_status_message_is_cut),
        cmocka_unit_test(test_storage_postgres__list_in_order),
        cmocka_unit_test(test_storage_postgres__hostile_ids_stored_verbatim),
        cmocka_unit_test(test_storage_postgres__concurrent_upserts_one_row),
        cmocka_unit_test(test_storage_postgres__server_restart_reconnects),
        cmocka_unit_test(test_storage_postgres__server_down_then_back),
        cmocka_unit_test(test_storage_postgres__terminated_backend_reconnects),
        cmocka_unit_test(test_storage_postgres__through_the_context),
    };

    int failures = cmocka_run_group_tests_name("storage_postgres", tests, NULL, NULL);

    failures += storage_conformance_run("storage_postgres_conformance", postgres_factory, NULL);
    group_teardown(NULL);
    return failures ? 1 : 0;
}
