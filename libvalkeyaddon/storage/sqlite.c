/*
 * The SQLite storage (storages.h), the embedded default for one machine.
 *
 * Thread contract: one storage belongs to one context, and a context is used
 * by one thread at a time, so the connection is opened NOMUTEX (SQLite's
 * multi-thread mode: no lock of its own around every call). Several
 * processes, or several contexts each with its own storage, may share one
 * file: WAL lets readers run beside the writer, every write takes the write
 * lock up front (BEGIN IMMEDIATE) so it waits in the busy handler instead of
 * failing on a stale snapshot, and the busy timeout bounds that wait.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "valkeyaddon/storages.h"
#include "alloc.h"
#include "ctx.h"
#include "storage/row.h"

#define WHO "sqlite storage"
/* How long a write waits for another connection's write to finish. */
#define BUSY_TIMEOUT_MS 5000
/* Rows read per statement by list: bounded memory, and the statement is done before any callback runs. */
#define LIST_PAGE 32
#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)

/* sql/app_addons.sqlite.sql, compiled in at build time (sql2c.sh). */
extern const char valkeyaddon__sqlite_schema[];

#define COLUMNS \
    "app_id, addon_type, tenant_id, plan, status, status_message, resource_name, namespace, created_at, updated_at"

enum statement { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_UPSERT, ST_GET, ST_SET_STATUS, ST_REMOVE, ST_LIST_ALL,
                 ST_LIST_APP, ST_COUNT };

/* updated_at never goes back, even when the clock does (max of the stored value and now). */
static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_UPSERT] = "INSERT INTO app_addons (" COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
                  " ON CONFLICT (app_id, addon_type) DO UPDATE SET"
                  " tenant_id = excluded.tenant_id, plan = excluded.plan, status = excluded.status,"
                  " status_message = excluded.status_message, resource_name = excluded.resource_name,"
                  " namespace = excluded.namespace,"
                  " updated_at = max(app_addons.updated_at, excluded.updated_at)",
    [ST_GET] = "SELECT " COLUMNS " FROM app_addons WHERE app_id = ?1 AND addon_type = ?2",
    [ST_SET_STATUS] = "UPDATE app_addons SET status = ?3, status_message = ?4, updated_at = max(updated_at, ?5)"
                      " WHERE app_id = ?1 AND addon_type = ?2",
    [ST_REMOVE] = "DELETE FROM app_addons WHERE app_id = ?1 AND addon_type = ?2",
    /* Keyset paging: the rows after the last one seen. */
    [ST_LIST_ALL] = "SELECT " COLUMNS " FROM app_addons WHERE app_id > ?1 OR (app_id = ?1 AND addon_type > ?2)"
                    " ORDER BY app_id, addon_type LIMIT " TEXT_OF(LIST_PAGE),
    [ST_LIST_APP] = "SELECT " COLUMNS " FROM app_addons WHERE app_id = ?1 AND addon_type > ?2"
                    " ORDER BY app_id, addon_type LIMIT " TEXT_OF(LIST_PAGE),
};

struct sqlite_storage {
    valkeyaddon_storage base; /* first: the vtable pointer is the object pointer */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT]; /* prepared once, after the schema exists */
};

/* Report a failed SQLite call: what failed and SQLite's own words. */
static int fail(struct sqlite_storage *s, valkeyaddon_ctx *ctx, int rc, const char *what)
{
    int primary = rc & 0xff;

    if (primary == SQLITE_NOMEM)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, WHO ": %s: out of memory", what);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                  WHO ": %s: the database is locked (another connection kept it busy for more "
                                      "than %d ms); retry, or find the process holding it",
                                  what, BUSY_TIMEOUT_MS);
    return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, WHO ": %s failed: %s", what,
                              s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* Run one prepared statement that returns no rows. */
static int run(struct sqlite_storage *s, valkeyaddon_ctx *ctx, enum statement which, const char *what)
{
    int rc = sqlite3_step(s->st[which]);

    sqlite3_reset(s->st[which]);
    return rc == SQLITE_DONE ? VALKEYADDON_OK : fail(s, ctx, rc, what);
}

static void rollback(struct sqlite_storage *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->st[ST_ROLLBACK]);
        sqlite3_reset(s->st[ST_ROLLBACK]);
    }
}

static int bind_text(sqlite3_stmt *st, int index, const char *text)
{
    return sqlite3_bind_text(st, index, text, -1, SQLITE_STATIC);
}

static int bind_key(sqlite3_stmt *st, const char *app_id, const char *addon_type)
{
    int rc = bind_text(st, 1, app_id);

    return rc == SQLITE_OK ? bind_text(st, 2, addon_type) : rc;
}

/* One text column into a row member; a value that does not fit means the file was written by something else. */
static int read_text(struct sqlite_storage *s, valkeyaddon_ctx *ctx, sqlite3_stmt *st, int column,
                     const char *member, char *dst, size_t size)
{
    const char *text = (const char *)sqlite3_column_text(st, column);
    int len = sqlite3_column_bytes(st, column);

    if (!text && sqlite3_errcode(s->db) == SQLITE_NOMEM)
        return fail(s, ctx, SQLITE_NOMEM, "reading a row");
    if (valkeyaddon__row_copy(NULL, WHO, member, dst, size, text, text ? (size_t)len : 0) < 0 ||
        (text && memchr(text, '\0', (size_t)len)))
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                  WHO ": a row of app_addons has a %s this library cannot hold (%d bytes, at most "
                                      "%zu); was the table written by another program?",
                                  member, len, size - 1);
    return VALKEYADDON_OK;
}

/* The current result row of a SELECT COLUMNS statement. */
static int read_row(valkeyaddon_addon_row *out, struct sqlite_storage *s, valkeyaddon_ctx *ctx, sqlite3_stmt *st)
{
    char status[16];
    int error;

    memset(out, 0, sizeof(*out));
    out->version = VALKEYADDON_ADDON_ROW_VERSION;
    if ((error = read_text(s, ctx, st, 0, "app_id", out->app_id, sizeof(out->app_id))) < 0 ||
        (error = read_text(s, ctx, st, 1, "addon_type", out->addon_type, sizeof(out->addon_type))) < 0 ||
        (error = read_text(s, ctx, st, 2, "tenant_id", out->tenant_id, sizeof(out->tenant_id))) < 0 ||
        (error = read_text(s, ctx, st, 3, "plan", out->plan, sizeof(out->plan))) < 0 ||
        (error = read_text(s, ctx, st, 4, "status", status, sizeof(status))) < 0 ||
        (error = read_text(s, ctx, st, 5, "status_message", out->status_message, sizeof(out->status_message))) <
            0 ||
        (error = read_text(s, ctx, st, 6, "resource_name", out->resource_name, sizeof(out->resource_name))) < 0 ||
        (error = read_text(s, ctx, st, 7, "namespace", out->namespace_, sizeof(out->namespace_))) < 0)
        return error;
    if ((out->status = valkeyaddon__row_status_parse(status)) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, WHO ": a row of app_addons has the unknown status '%s'",
                                  status);
    out->created_at = sqlite3_column_int64(st, 8);
    out->updated_at = sqlite3_column_int64(st, 9);
    return VALKEYADDON_OK;
}

/* Read one row by key with the GET statement: 0, ENOTFOUND (no message: the caller words it), or a failure. */
static int select_row(valkeyaddon_addon_row *out, struct sqlite_storage *s, valkeyaddon_ctx *ctx,
                      const char *app_id, const char *addon_type)
{
    sqlite3_stmt *st = s->st[ST_GET];
    int rc, error;

    if ((rc = bind_key(st, app_id, addon_type)) != SQLITE_OK)
        error = fail(s, ctx, rc, "get");
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        error = read_row(out, s, ctx, st);
    else if (rc == SQLITE_DONE)
        error = VALKEYADDON_ENOTFOUND;
    else
        error = fail(s, ctx, rc, "get");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return error;
}

static int not_found(valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, WHO ": no %s row for app %s", addon_type, app_id);
}

static int bind_upsert(sqlite3_stmt *st, const valkeyaddon_addon_row *row, int64_t now)
{
    int rc = bind_key(st, row->app_id, row->addon_type);

    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, row->tenant_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, row->plan);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, valkeyaddon__row_status_text(row->status));
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, row->status_message);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 7, row->resource_name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 8, row->namespace_);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 9, now);
    return rc;
}

/* The write and the read-back share one transaction, so out is the row this call wrote. */
static int sqlite_upsert(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                         const valkeyaddon_addon_row *row)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    sqlite3_stmt *st = s->st[ST_UPSERT];
    valkeyaddon_addon_row stored;
    int rc, error;

    if ((error = valkeyaddon__row_check(ctx, WHO, row)) < 0)
        return error;
    if ((error = run(s, ctx, ST_BEGIN, "upsert: begin")) < 0)
        return error;
    if ((rc = bind_upsert(st, row, valkeyaddon__row_now_ms())) != SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_DONE)
        error = fail(s, ctx, rc, "upsert");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (error == 0 && out && (error = select_row(&stored, s, ctx, row->app_id, row->addon_type)) == VALKEYADDON_ENOTFOUND)
        error = valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, WHO ": upsert: the row was not there to read back");
    if (error == 0)
        error = run(s, ctx, ST_COMMIT, "upsert: commit");
    if (error < 0) {
        rollback(s);
        return error;
    }
    if (out)
        *out = stored;
    return VALKEYADDON_OK;
}

static int sqlite_get(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                      const char *app_id, const char *addon_type)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    valkeyaddon_addon_row row;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, WHO ": out must not be NULL");
    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    if ((error = select_row(&row, s, ctx, app_id, addon_type)) == VALKEYADDON_ENOTFOUND)
        return not_found(ctx, app_id, addon_type);
    if (error < 0)
        return error;
    *out = row;
    return VALKEYADDON_OK;
}

/* A statement that changes at most the row with the key; ENOTFOUND when it changed none. */
static int change_row(struct sqlite_storage *s, valkeyaddon_ctx *ctx, sqlite3_stmt *st, const char *what,
                      const char *app_id, const char *addon_type)
{
    int rc = sqlite3_step(st), error = VALKEYADDON_OK;

    if (rc != SQLITE_DONE)
        error = fail(s, ctx, rc, what);
    else if (sqlite3_changes(s->db) == 0)
        error = not_found(ctx, app_id, addon_type);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return error;
}

static int sqlite_set_status(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                             const char *addon_type, int status, const char *message)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    sqlite3_stmt *st = s->st[ST_SET_STATUS];
    char text[VALKEYADDON_STATUS_MESSAGE_BUFSIZE];
    int rc, error;

    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0 ||
        (error = valkeyaddon__row_check_status(ctx, WHO, status)) < 0)
        return error;
    valkeyaddon__row_copy_message(text, sizeof(text), message);
    rc = bind_key(st, app_id, addon_type);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, valkeyaddon__row_status_text(status));
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, text);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, valkeyaddon__row_now_ms());
    if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(st);
        return fail(s, ctx, rc, "set_status");
    }
    return change_row(s, ctx, st, "set_status", app_id, addon_type);
}

static int sqlite_remove(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                         const char *addon_type)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    sqlite3_stmt *st = s->st[ST_REMOVE];
    int rc, error;

    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    if ((rc = bind_key(st, app_id, addon_type)) != SQLITE_OK) {
        sqlite3_clear_bindings(st);
        return fail(s, ctx, rc, "remove");
    }
    return change_row(s, ctx, st, "remove", app_id, addon_type);
}

/* Read the page of rows after (app_id, addon_type) into page; *count receives how many. */
static int read_page(valkeyaddon_addon_row *page, size_t *count, struct sqlite_storage *s, valkeyaddon_ctx *ctx,
                     sqlite3_stmt *st, const char *app_id, const char *addon_type)
{
    int rc, error = VALKEYADDON_OK;

    *count = 0;
    if ((rc = bind_key(st, app_id, addon_type)) != SQLITE_OK)
        error = fail(s, ctx, rc, "list");
    while (error == 0 && *count < LIST_PAGE && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((error = read_row(&page[*count], s, ctx, st)) == 0)
            ++*count;
    if (error == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        error = fail(s, ctx, rc, "list");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return error;
}

/*
 * Page by key and call back only once a page is read and its statement reset:
 * a callback may then use this same storage (upsert, remove, even list)
 * without disturbing the listing, and a write never waits on our own read.
 */
static int sqlite_list(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                       valkeyaddon_row_cb callback, void *payload)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    sqlite3_stmt *st = s->st[app_id ? ST_LIST_APP : ST_LIST_ALL];
    char after_app[VALKEYADDON_LABEL_BUFSIZE], after_type[VALKEYADDON_ADDON_TYPE_BUFSIZE];
    valkeyaddon_addon_row *page;
    size_t count, i;
    int error;

    if (!callback)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, WHO ": callback must not be NULL");
    if ((error = valkeyaddon__row_check_app(ctx, WHO, app_id)) < 0)
        return error;
    if (!(page = valkeyaddon__malloc(LIST_PAGE * sizeof(*page))))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, WHO ": list: out of memory");
    /* Keys are never empty, so ("", "") comes before every row. */
    strcpy(after_app, app_id ? app_id : "");
    after_type[0] = '\0';
    do {
        if ((error = read_page(page, &count, s, ctx, st, after_app, after_type)) < 0)
            break;
        for (i = 0; i < count && error == 0; i++)
            error = callback(&page[i], payload);
        if (count > 0) {
            strcpy(after_app, page[count - 1].app_id);
            strcpy(after_type, page[count - 1].addon_type);
        }
    } while (error == 0 && count == LIST_PAGE);
    valkeyaddon__free(page);
    return error;
}

/* The schema, in one write transaction: two processes opening a new file at once both succeed. */
static int sqlite_migrate(valkeyaddon_storage *self, valkeyaddon_ctx *ctx)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    int rc;

    if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        return fail(s, ctx, rc, "migrate: begin");
    if ((rc = sqlite3_exec(s->db, valkeyaddon__sqlite_schema, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        int error = fail(s, ctx, rc, "migrate: creating the app_addons table");
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return error;
    }
    return VALKEYADDON_OK;
}

static void sqlite_free(valkeyaddon_storage *self)
{
    struct sqlite_storage *s = (struct sqlite_storage *)self;
    int i;

    for (i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db); /* every statement is finalized, so this closes */
    valkeyaddon__free(s);
}

/*
 * Create a missing file with mode 0600 before SQLite opens it: SQLite would
 * create it 0644 (less the umask), and the -wal and -shm files take the
 * database file's mode. An existing file keeps the mode its owner gave it.
 */
static int create_file(valkeyaddon_ctx *ctx, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        int err = errno;
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, WHO ": cannot open or create %s: %s%s", path,
                                  strerror(err),
                                  err == ENOENT ? " (the directory must exist: create it first)" : "");
    }
    close(fd);
    return VALKEYADDON_OK;
}

/*
 * journal_mode answers with the mode in force: "wal", or "memory" for
 * ":memory:" (which cannot use WAL). Switching a new file to WAL needs a lock
 * that SQLite does not wait for in the busy handler, so when two processes
 * open a new file at once one of them is told SQLITE_BUSY at once: retry it
 * for as long as the busy timeout.
 */
static int enable_wal(struct sqlite_storage *s, valkeyaddon_ctx *ctx, int in_memory)
{
    int64_t deadline = valkeyaddon__row_now_ms() + BUSY_TIMEOUT_MS;
    sqlite3_stmt *st = NULL;
    const char *mode;
    int rc, error = VALKEYADDON_OK;

    if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL)) != SQLITE_OK)
        return fail(s, ctx, rc, "setting WAL mode");
    while ((rc = sqlite3_step(st)) == SQLITE_BUSY && valkeyaddon__row_now_ms() < deadline) {
        sqlite3_reset(st);
        sqlite3_sleep(10);
    }
    if (rc != SQLITE_ROW)
        error = fail(s, ctx, rc, "setting WAL mode");
    else if (!(mode = (const char *)sqlite3_column_text(st, 0)) || (!in_memory && strcmp(mode, "wal") != 0))
        error = valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                   WHO ": the database refused WAL mode (it stays in '%s' mode); is the file on a "
                                       "network file system?",
                                   mode ? mode : "unknown");
    sqlite3_finalize(st);
    return error;
}

static int open_db(struct sqlite_storage *s, valkeyaddon_ctx *ctx, const char *path)
{
    int in_memory = strcmp(path, ":memory:") == 0, rc, i, error;

    if (!in_memory && (error = create_file(ctx, path)) < 0)
        return error;
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (!s->db || rc == SQLITE_NOMEM)
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, WHO ": out of memory opening %s", path);
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, WHO ": cannot open %s: %s", path, sqlite3_errmsg(s->db));
    }
    if ((rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS)) != SQLITE_OK)
        return fail(s, ctx, rc, "setting the busy timeout");
    /* A file that is not a database fails here, on the first read. */
    if ((error = enable_wal(s, ctx, in_memory)) < 0)
        return error;
    if ((rc = sqlite3_exec(s->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL)) != SQLITE_OK)
        return fail(s, ctx, rc, "enabling foreign keys");
    if ((error = sqlite_migrate(&s->base, ctx)) < 0)
        return error;
    for (i = 0; i < ST_COUNT; i++)
        if ((rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL)) !=
            SQLITE_OK)
            return fail(s, ctx, rc, "preparing a statement");
    return VALKEYADDON_OK;
}

int valkeyaddon_storage_sqlite_new(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, const char *path)
{
    struct sqlite_storage *s;
    int error;

    valkeyaddon__begin(ctx);
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if (!path || !*path)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "path: must be a database file name or \":memory:\" (got %s)",
                                  path ? "an empty string" : "NULL");
    if (!(s = valkeyaddon__calloc(1, sizeof(*s))))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, WHO ": out of memory");
    s->base.version = VALKEYADDON_STORAGE_VERSION;
    s->base.migrate = sqlite_migrate;
    s->base.upsert = sqlite_upsert;
    s->base.get = sqlite_get;
    s->base.set_status = sqlite_set_status;
    s->base.remove = sqlite_remove;
    s->base.list = sqlite_list;
    s->base.free = sqlite_free;
    if ((error = open_db(s, ctx, path)) < 0) {
        sqlite_free(&s->base);
        return error;
    }
    *out = &s->base;
    return VALKEYADDON_OK;
}
