/*
 * The SQLite storage: the conformance suite on ":memory:" and on files, then
 * what only a file can show (mode, WAL, persistence, two processes, locks,
 * the installed schema file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "conformance.h"
#include "../support/files.h"

static char tmpdir[256];

static int memory_factory(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, void *payload)
{
    (void)payload;
    return valkeyaddon_storage_sqlite_new(out, ctx, ":memory:");
}

/* A new file per case, so each starts empty. */
static int file_factory(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, void *payload)
{
    static int n;
    char path[512];

    (void)payload;
    snprintf(path, sizeof(path), "%s/conformance-%d.db", tmpdir, ++n);
    return valkeyaddon_storage_sqlite_new(out, ctx, path);
}

static void path_in_tmp(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", tmpdir, name);
}

static valkeyaddon_ctx *open_ctx(const char *path)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;

    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    if (valkeyaddon_storage_sqlite_new(&s, ctx, path) != 0)
        fail_msg("opening %s: %s", path, valkeyaddon_ctx_error_message(ctx));
    assert_int_equal(valkeyaddon_ctx_set_storage(ctx, s), 0);
    return ctx;
}

static void fill(valkeyaddon_addon_row *row, const char *app_id, const char *plan, const char *message)
{
    memset(row, 0, sizeof(*row));
    row->version = VALKEYADDON_ADDON_ROW_VERSION;
    snprintf(row->app_id, sizeof(row->app_id), "%s", app_id);
    snprintf(row->addon_type, sizeof(row->addon_type), "valkey");
    snprintf(row->tenant_id, sizeof(row->tenant_id), "acme");
    snprintf(row->plan, sizeof(row->plan), "%s", plan);
    row->status = VALKEYADDON_STATUS_CREATING;
    snprintf(row->status_message, sizeof(row->status_message), "%s", message);
    snprintf(row->resource_name, sizeof(row->resource_name), "valkey-acme-%s", app_id);
    snprintf(row->namespace_, sizeof(row->namespace_), "tenant-acme");
}

/* Open a storage the test owns (not given to a context) on ctx. */
static valkeyaddon_storage *open_storage(valkeyaddon_ctx *ctx, const char *path)
{
    valkeyaddon_storage *s = NULL;

    if (valkeyaddon_storage_sqlite_new(&s, ctx, path) != 0)
        fail_msg("opening %s: %s", path, valkeyaddon_ctx_error_message(ctx));
    return s;
}

static int count_cb(const valkeyaddon_addon_row *row, void *payload)
{
    (void)row;
    ++*(int *)payload;
    return 0;
}

static void test_storage_sqlite__file_created_0600(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s;
    valkeyaddon_addon_row row;
    char path[512], wal[600];
    struct stat st;
    mode_t old = umask(0); /* 0600 comes from the library, not from the umask */

    (void)state;
    path_in_tmp(path, sizeof(path), "mode.db");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    s = open_storage(ctx, path);
    fill(&row, "web", "free", "");
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
    umask(old);
}

static void test_storage_sqlite__wal_mode(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char path[512];

    (void)state;
    path_in_tmp(path, sizeof(path), "wal.db");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    s = open_storage(ctx, path);
    /* WAL is a property of the file: another connection sees it. */
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_sqlite__rows_persist(void **state)
{
    valkeyaddon_addon_row row, first, got;
    valkeyaddon_storage *s;
    valkeyaddon_ctx *ctx = NULL;
    char path[512];
    int count = 0;

    (void)state;
    path_in_tmp(path, sizeof(path), "persist.db");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    s = open_storage(ctx, path);
    fill(&row, "web", "pro", "kept across opens");
    assert_int_equal(s->upsert(&first, s, ctx, &row), 0);
    s->free(s);
    valkeyaddon_ctx_free(ctx);

    ctx = open_ctx(path);
    memset(&got, 0, sizeof(got));
    got.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&got, ctx, "web", "valkey"), 0);
    assert_string_equal(got.plan, "pro");
    assert_string_equal(got.status_message, "kept across opens");
    assert_true(got.created_at == first.created_at);
    assert_int_equal(valkeyaddon_addon_list(ctx, NULL, count_cb, &count), 0);
    assert_int_equal(count, 1);
    valkeyaddon_ctx_free(ctx);
}

/* A child: open the shared file when told, upsert the same key `rounds` times; exit 0 when every call worked. */
static void upsert_child(const char *path, int start_fd, int id, int rounds)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;
    valkeyaddon_addon_row row;
    char go, message[64];
    int i;

    if (read(start_fd, &go, 1) < 0)
        _exit(3);
    if (valkeyaddon_ctx_new(&ctx, NULL) != 0)
        _exit(4);
    if (valkeyaddon_storage_sqlite_new(&s, ctx, path) != 0) {
        fprintf(stderr, "child %d: open: %s\n", id, valkeyaddon_ctx_error_message(ctx));
        _exit(1);
    }
    for (i = 0; i < rounds; i++) {
        snprintf(message, sizeof(message), "child %d round %d", id, i);
        fill(&row, "web", id ? "pro" : "standard", message);
        if (s->upsert(NULL, s, ctx, &row) != 0) {
            fprintf(stderr, "child %d: upsert %d: %s\n", id, i, valkeyaddon_ctx_error_message(ctx));
            _exit(2);
        }
    }
    s->free(s);
    valkeyaddon_ctx_free(ctx);
    _exit(0);
}

static void test_storage_sqlite__two_processes_upsert_one_key(void **state)
{
    valkeyaddon_addon_row got;
    valkeyaddon_ctx *ctx;
    char path[512];
    int start[2], i, status, count = 0;
    pid_t pids[2];

    (void)state;
    path_in_tmp(path, sizeof(path), "concurrent.db"); /* new: both children also create and migrate it at once */
    assert_int_equal(pipe(start), 0);
    for (i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(start[1]);
            upsert_child(path, start[0], i, 200);
        }
    }
    close(start[0]);
    close(start[1]); /* both reads return now: the children start together */
    for (i = 0; i < 2; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    ctx = open_ctx(path);
    assert_int_equal(valkeyaddon_addon_list(ctx, NULL, count_cb, &count), 0);
    assert_int_equal(count, 1);
    memset(&got, 0, sizeof(got));
    got.version = VALKEYADDON_ADDON_ROW_VERSION;
    assert_int_equal(valkeyaddon_addon_get(&got, ctx, "web", NULL), 0);
    /* The last write of one child, whole: plan and message from the same writer. */
    assert_true((strcmp(got.plan, "standard") == 0 && strcmp(got.status_message, "child 0 round 199") == 0) ||
                (strcmp(got.plan, "pro") == 0 && strcmp(got.status_message, "child 1 round 199") == 0));
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_sqlite__missing_directory(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = (valkeyaddon_storage *)&s;
    char path[512];
    int r;

    (void)state;
    path_in_tmp(path, sizeof(path), "no-such-dir/sub/app.db");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    r = valkeyaddon_storage_sqlite_new(&s, ctx, path);
    assert_true(r == VALKEYADDON_ESTORAGE || r == VALKEYADDON_EIO);
    assert_ptr_equal(s, (valkeyaddon_storage *)&s); /* untouched */
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), path));
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "directory must exist"));
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_sqlite__not_a_database(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;
    char path[512];
    FILE *f;
    int i;

    (void)state;
    path_in_tmp(path, sizeof(path), "garbage.db");
    assert_non_null(f = fopen(path, "w"));
    for (i = 0; i < 200; i++)
        fputs("this is not an SQLite database\n", f);
    fclose(f);
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_storage_sqlite_new(&s, ctx, path), VALKEYADDON_ESTORAGE);
    assert_null(s);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "not a database"));
    valkeyaddon_ctx_free(ctx);
}

static void test_storage_sqlite__bad_arguments(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s = NULL;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    assert_int_equal(valkeyaddon_storage_sqlite_new(&s, ctx, NULL), VALKEYADDON_EINVAL);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "path"));
    assert_int_equal(valkeyaddon_storage_sqlite_new(&s, ctx, ""), VALKEYADDON_EINVAL);
    assert_int_equal(valkeyaddon_storage_sqlite_new(NULL, ctx, ":memory:"), VALKEYADDON_EINVAL);
    assert_null(s);
    assert_int_equal(valkeyaddon_storage_sqlite_new(NULL, NULL, ":memory:"), VALKEYADDON_EINVAL);
    valkeyaddon_ctx_free(ctx);
}

/* Two ":memory:" storages are two databases. */
static void test_storage_sqlite__memory_databases_are_private(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *a, *b;
    valkeyaddon_addon_row row, got;

    (void)state;
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    a = open_storage(ctx, ":memory:");
    b = open_storage(ctx, ":memory:");
    fill(&row, "web", "free", "");
    assert_int_equal(a->upsert(NULL, a, ctx, &row), 0);
    assert_int_equal(a->get(&got, a, ctx, "web", "valkey"), 0);
    assert_int_equal(b->get(&got, b, ctx, "web", "valkey"), VALKEYADDON_ENOTFOUND);
    a->free(a);
    b->free(b);
    valkeyaddon_ctx_free(ctx);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A writer that holds the lock past the busy timeout: a clear "locked" error, then the store works again. */
static void test_storage_sqlite__locked_beyond_timeout(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s;
    valkeyaddon_addon_row row;
    sqlite3 *db = NULL;
    char path[512];
    int64_t start;

    (void)state;
    path_in_tmp(path, sizeof(path), "locked.db");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    s = open_storage(ctx, path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fill(&row, "web", "free", "");
    start = now_ms();
    assert_int_equal(s->upsert(NULL, s, ctx, &row), VALKEYADDON_ESTORAGE);
    assert_true(now_ms() - start >= 4500); /* it waited the busy timeout (5 s) first */
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "database is locked"));
    assert_int_equal(s->set_status(s, ctx, "web", "valkey", VALKEYADDON_STATUS_READY, NULL) < 0, 1);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

static char *table_sql(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    char *sql = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = "
                                            "'app_addons'", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        sql = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return sql;
}

/*
 * The installed sql/app_addons.sqlite.sql makes exactly the table the library
 * makes, and a database made with it (by another tool) is one the library
 * opens and uses. Its CHECK refuses a status outside the vocabulary.
 */
static void test_storage_sqlite__schema_file_matches(void **state)
{
    const char *srcdir = getenv("top_srcdir");
    char sql_path[1024], path[512], *file_text, *from_file, *from_library;
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s;
    valkeyaddon_addon_row row, got;
    sqlite3 *db = NULL;

    (void)state;
    snprintf(sql_path, sizeof(sql_path), "%s/sql/app_addons.sqlite.sql", srcdir ? srcdir : ".");
    assert_non_null(file_text = read_file(sql_path));
    path_in_tmp(path, sizeof(path), "by-tool.db");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, file_text, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, file_text, NULL, NULL, NULL), SQLITE_OK); /* idempotent */
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO app_addons (app_id, addon_type, status, created_at, "
                                          "updated_at) VALUES ('a', 'valkey', 'Ready', 1, 1)", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_non_null(from_file = table_sql(db));
    sqlite3_close(db);

    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    s = open_storage(ctx, path);
    fill(&row, "web", "free", "");
    assert_int_equal(s->upsert(NULL, s, ctx, &row), 0);
    assert_int_equal(s->get(&got, s, ctx, "web", "valkey"), 0);
    s->free(s);
    s = open_storage(ctx, ":memory:");
    s->free(s);
    path_in_tmp(path, sizeof(path), "by-library.db");
    s = open_storage(ctx, path);
    s->free(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_non_null(from_library = table_sql(db));
    sqlite3_close(db);
    assert_string_equal(from_library, from_file);
    free(from_library);
    free(from_file);
    free(file_text);
    valkeyaddon_ctx_free(ctx);
}

/* A value written by another program that does not fit the row is an error, never silently cut. */
static void test_storage_sqlite__foreign_overlong_value(void **state)
{
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_storage *s;
    valkeyaddon_addon_row got;
    sqlite3 *db = NULL;
    char path[512];
    int count = 0;

    (void)state;
    path_in_tmp(path, sizeof(path), "foreign.db");
    assert_int_equal(valkeyaddon_ctx_new(&ctx, NULL), 0);
    s = open_storage(ctx, path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO app_addons (app_id, addon_type, plan, status, created_at, "
                                      "updated_at) VALUES ('web', 'valkey', 'a-plan-name-far-too-long', 'ready', "
                                      "1, 1)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(s->get(&got, s, ctx, "web", "valkey"), VALKEYADDON_ESTORAGE);
    assert_non_null(strstr(valkeyaddon_ctx_error_message(ctx), "plan"));
    assert_int_equal(s->list(s, ctx, NULL, count_cb, &count), VALKEYADDON_ESTORAGE);
    assert_int_equal(count, 0);
    s->free(s);
    valkeyaddon_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_sqlite__file_created_0600),
        cmocka_unit_test(test_storage_sqlite__wal_mode),
        cmocka_unit_test(test_storage_sqlite__rows_persist),
        cmocka_unit_test(test_storage_sqlite__two_processes_upsert_one_key),
        cmocka_unit_test(test_storage_sqlite__missing_directory),
        cmocka_unit_test(test_storage_sqlite__not_a_database),
        cmocka_unit_test(test_storage_sqlite__bad_arguments),
        cmocka_unit_test(test_storage_sqlite__memory_databases_are_private),
        cmocka_unit_test(test_storage_sqlite__locked_beyond_timeout),
        cmocka_unit_test(test_storage_sqlite__schema_file_matches),
        cmocka_unit_test(test_storage_sqlite__foreign_overlong_value),
    };
    const char *base = getenv("TMPDIR");
    int failures = 0;

    snprintf(tmpdir, sizeof(tmpdir), "%s/valkeyaddon-sqlite-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    failures += storage_conformance_run("storage_sqlite_memory", memory_factory, NULL);
    failures += storage_conformance_run("storage_sqlite_file", file_factory, NULL);
    failures += cmocka_run_group_tests_name("storage_sqlite", tests, NULL, NULL);
    remove_tree(tmpdir);
    return failures ? 1 : 0;
}
