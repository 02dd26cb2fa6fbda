/*
 * The in-memory storage (storages.h): rows in an array kept sorted by
 * (app_id, addon_type), so get is a binary search and list is already in
 * order. strcmp order is byte order, the order SQLite's BINARY collation and
 * PostgreSQL's "C" collation give, so every backend lists alike.
 */
#include "config.h"

#include <string.h>

#include "valkeyaddon/storages.h"
#include "alloc.h"
#include "ctx.h"
#include "storage/row.h"

#define WHO "memory storage"

struct memory_storage {
    valkeyaddon_storage base; /* first: the vtable pointer is the object pointer */
    valkeyaddon_addon_row *rows;
    size_t count, capacity;
};

static int key_cmp(const valkeyaddon_addon_row *row, const char *app_id, const char *addon_type)
{
    int c = strcmp(row->app_id, app_id);

    return c ? c : strcmp(row->addon_type, addon_type);
}

/* The index of the first row whose key is >= (app_id, addon_type), or > it when `after` is set. */
static size_t lower_bound(const struct memory_storage *m, const char *app_id, const char *addon_type, int after)
{
    size_t lo = 0, hi = m->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(&m->rows[mid], app_id, addon_type);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The row's index, or m->count when there is none. */
static size_t find(const struct memory_storage *m, const char *app_id, const char *addon_type)
{
    size_t i = lower_bound(m, app_id, addon_type, 0);

    return i < m->count && key_cmp(&m->rows[i], app_id, addon_type) == 0 ? i : m->count;
}

static int not_found(valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, WHO ": no %s row for app %s", addon_type, app_id);
}

/* Later of now and the row's last write, so updated_at never goes back when the clock does. */
static int64_t stamp(const valkeyaddon_addon_row *row)
{
    int64_t now = valkeyaddon__row_now_ms();

    return now > row->updated_at ? now : row->updated_at;
}

static int memory_upsert(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                         const valkeyaddon_addon_row *row)
{
    struct memory_storage *m = (struct memory_storage *)self;
    valkeyaddon_addon_row stored;
    size_t i;
    int error;

    if ((error = valkeyaddon__row_check(ctx, WHO, row)) < 0)
        return error;
    /* A v1 row is stored whatever version the caller's struct has: only v1 members exist. */
    memcpy(&stored, row, sizeof(stored));
    stored.version = VALKEYADDON_ADDON_ROW_VERSION;
    i = lower_bound(m, row->app_id, row->addon_type, 0);
    if (i < m->count && key_cmp(&m->rows[i], row->app_id, row->addon_type) == 0) {
        stored.created_at = m->rows[i].created_at;
        stored.updated_at = stamp(&m->rows[i]);
        m->rows[i] = stored;
    } else {
        if (m->count == m->capacity) {
            size_t capacity = m->capacity ? m->capacity * 2 : 8;
            valkeyaddon_addon_row *grown;
            if (capacity > (size_t)-1 / sizeof(*grown) ||
                !(grown = valkeyaddon__realloc(m->rows, capacity * sizeof(*grown))))
                return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, WHO ": out of memory adding a row");
            m->rows = grown;
            m->capacity = capacity;
        }
        stored.created_at = stored.updated_at = valkeyaddon__row_now_ms();
        memmove(&m->rows[i + 1], &m->rows[i], (m->count - i) * sizeof(*m->rows));
        m->rows[i] = stored;
        m->count++;
    }
    if (out)
        *out = m->rows[i];
    return VALKEYADDON_OK;
}

static int memory_get(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                      const char *app_id, const char *addon_type)
{
    struct memory_storage *m = (struct memory_storage *)self;
    size_t i;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, WHO ": out must not be NULL");
    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    if ((i = find(m, app_id, addon_type)) == m->count)
        return not_found(ctx, app_id, addon_type);
    *out = m->rows[i];
    return VALKEYADDON_OK;
}

static int memory_set_status(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                             const char *addon_type, int status, const char *message)
{
    struct memory_storage *m = (struct memory_storage *)self;
    valkeyaddon_addon_row *row;
    size_t i;
    int error;

    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0 ||
        (error = valkeyaddon__row_check_status(ctx, WHO, status)) < 0)
        return error;
    if ((i = find(m, app_id, addon_type)) == m->count)
        return not_found(ctx, app_id, addon_type);
    row = &m->rows[i];
    row->status = status;
    valkeyaddon__row_copy_message(row->status_message, sizeof(row->status_message), message);
    row->updated_at = stamp(row);
    return VALKEYADDON_OK;
}

static int memory_remove(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                         const char *addon_type)
{
    struct memory_storage *m = (struct memory_storage *)self;
    size_t i;
    int error;

    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    if ((i = find(m, app_id, addon_type)) == m->count)
        return not_found(ctx, app_id, addon_type);
    memmove(&m->rows[i], &m->rows[i + 1], (m->count - i - 1) * sizeof(*m->rows));
    m->count--;
    return VALKEYADDON_OK;
}

/*
 * The callback gets a copy and the next row is looked up by key after it
 * returns, so a callback may upsert or remove rows of this same storage
 * (the array moves under it) without a row being skipped or seen twice.
 */
static int memory_list(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                       valkeyaddon_row_cb callback, void *payload)
{
    struct memory_storage *m = (struct memory_storage *)self;
    valkeyaddon_addon_row current;
    size_t i;
    int error;

    if (!callback)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, WHO ": callback must not be NULL");
    if ((error = valkeyaddon__row_check_app(ctx, WHO, app_id)) < 0)
        return error;
    i = app_id ? lower_bound(m, app_id, "", 0) : 0;
    while (i < m->count && (!app_id || strcmp(m->rows[i].app_id, app_id) == 0)) {
        current = m->rows[i];
        if ((error = callback(&current, payload)) != 0)
            return error;
        i = lower_bound(m, current.app_id, current.addon_type, 1);
    }
    return VALKEYADDON_OK;
}

static void memory_free(valkeyaddon_storage *self)
{
    struct memory_storage *m = (struct memory_storage *)self;

    valkeyaddon__free(m->rows);
    valkeyaddon__free(m);
}

int valkeyaddon_storage_memory_new(valkeyaddon_storage **out)
{
    struct memory_storage *m;

    if (!out)
        return VALKEYADDON_EINVAL;
    if (!(m = valkeyaddon__calloc(1, sizeof(*m))))
        return VALKEYADDON_ENOMEM;
    m->base.version = VALKEYADDON_STORAGE_VERSION;
    m->base.migrate = NULL; /* nothing to create */
    m->base.upsert = memory_upsert;
    m->base.get = memory_get;
    m->base.set_status = memory_set_status;
    m->base.remove = memory_remove;
    m->base.list = memory_list;
    m->base.free = memory_free;
    *out = &m->base;
    return VALKEYADDON_OK;
}
