/* The PostgreSQL storage's rows: argument checks, status text, and decoding result rows. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "valkeyaddon/status.h"
#include "storage/pg.h"

const char *valkeyaddon__pg_status_text(int status)
{
    switch (status) {
    case VALKEYADDON_STATUS_CREATING:
        return "creating";
    case VALKEYADDON_STATUS_READY:
        return "ready";
    case VALKEYADDON_STATUS_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

static int status_from_text(const char *text)
{
    if (strcmp(text, "creating") == 0)
        return VALKEYADDON_STATUS_CREATING;
    if (strcmp(text, "ready") == 0)
        return VALKEYADDON_STATUS_READY;
    if (strcmp(text, "failed") == 0)
        return VALKEYADDON_STATUS_FAILED;
    return 0;
}

size_t valkeyaddon__pg_utf8_cut(const char *message, size_t size)
{
    size_t n = strlen(message);

    if (n < size)
        return n;
    n = size - 1;
    /* Back up over continuation bytes so the cut never splits a character (the server rejects broken UTF-8). */
    while (n > 0 && ((unsigned char)message[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* A member must hold its NUL: a full array is a longer string, which is refused, never cut. */
static int check_member(valkeyaddon_ctx *ctx, const char *name, const char *value, size_t size, int required)
{
    if (!memchr(value, '\0', size))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "row->%s: is not NUL-terminated within its %zu bytes (at most %zu bytes fit)", name,
                                  size, size - 1);
    if (required && !*value)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "row->%s: must not be empty", name);
    return VALKEYADDON_OK;
}

int valkeyaddon__pg_check_row(valkeyaddon_ctx *ctx, const valkeyaddon_addon_row *row)
{
    int error;

    if (!row)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "row: must not be NULL");
    if (row->version == 0 || row->version > VALKEYADDON_ADDON_ROW_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "row->version: %u is not a row version this library knows (1 to %d)", row->version,
                                  VALKEYADDON_ADDON_ROW_VERSION);
    if ((error = check_member(ctx, "app_id", row->app_id, sizeof(row->app_id), 1)) < 0 ||
        (error = check_member(ctx, "addon_type", row->addon_type, sizeof(row->addon_type), 1)) < 0 ||
        (error = check_member(ctx, "tenant_id", row->tenant_id, sizeof(row->tenant_id), 0)) < 0 ||
        (error = check_member(ctx, "plan", row->plan, sizeof(row->plan), 0)) < 0 ||
        (error = check_member(ctx, "status_message", row->status_message, sizeof(row->status_message), 0)) < 0 ||
        (error = check_member(ctx, "resource_name", row->resource_name, sizeof(row->resource_name), 0)) < 0 ||
        (error = check_member(ctx, "namespace_", row->namespace_, sizeof(row->namespace_), 0)) < 0)
        return error;
    if (!valkeyaddon__pg_status_text(row->status))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "row->status: %d is not VALKEYADDON_STATUS_CREATING, READY or FAILED", row->status);
    return VALKEYADDON_OK;
}

static int check_key_part(valkeyaddon_ctx *ctx, const char *name, const char *value, size_t size)
{
    if (!value)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: must not be NULL", name);
    if (!*value)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: must not be empty", name);
    if (strlen(value) >= size)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: is longer than %zu bytes", name, size - 1);
    return VALKEYADDON_OK;
}

int valkeyaddon__pg_check_key(valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    int error;

    if ((error = check_key_part(ctx, "app_id", app_id, VALKEYADDON_LABEL_BUFSIZE)) < 0)
        return error;
    if (addon_type && (error = check_key_part(ctx, "addon_type", addon_type, VALKEYADDON_ADDON_TYPE_BUFSIZE)) < 0)
        return error;
    return VALKEYADDON_OK;
}

/* Copy column col into dst; a value that does not fit is an error, except for the message, which is cut. */
static int copy_column(char *dst, size_t size, valkeyaddon_ctx *ctx, const PGresult *res, int i, int col,
                       const char *name, int may_cut)
{
    const char *value = PQgetvalue(res, i, col);
    size_t len = (size_t)PQgetlength(res, i, col);

    if (len >= size) {
        if (!may_cut)
            return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                      "postgres storage: a stored row has a %s of %zu bytes, longer than the %zu "
                                      "this library keeps (was it written by another tool?)",
                                      name, len, size - 1);
        len = valkeyaddon__pg_utf8_cut(value, size);
    }
    memcpy(dst, value, len);
    dst[len] = '\0';
    return VALKEYADDON_OK;
}

int valkeyaddon__pg_decode_row(valkeyaddon_addon_row *out, valkeyaddon_ctx *ctx, const PGresult *res, int i)
{
    valkeyaddon_addon_row row;
    int error;

    if (PQnfields(res) != 10)
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, "postgres storage: a result has %d columns, not 10",
                                  PQnfields(res));
    memset(&row, 0, sizeof(row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION;
    if ((error = copy_column(row.app_id, sizeof(row.app_id), ctx, res, i, 0, "app_id", 0)) < 0 ||
        (error = copy_column(row.addon_type, sizeof(row.addon_type), ctx, res, i, 1, "addon_type", 0)) < 0 ||
        (error = copy_column(row.tenant_id, sizeof(row.tenant_id), ctx, res, i, 2, "tenant_id", 0)) < 0 ||
        (error = copy_column(row.plan, sizeof(row.plan), ctx, res, i, 3, "plan", 0)) < 0 ||
        (error = copy_column(row.status_message, sizeof(row.status_message), ctx, res, i, 5, "status_message", 1)) <
            0 ||
        (error = copy_column(row.resource_name, sizeof(row.resource_name), ctx, res, i, 6, "resource_name", 0)) < 0 ||
        (error = copy_column(row.namespace_, sizeof(row.namespace_), ctx, res, i, 7, "namespace", 0)) < 0)
        return error;
    if (!(row.status = status_from_text(PQgetvalue(res, i, 4))))
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                  "postgres storage: the row of app %s has an unknown status (not creating, ready "
                                  "or failed)",
                                  row.app_id);
    row.created_at = strtoll(PQgetvalue(res, i, 8), NULL, 10);
    row.updated_at = strtoll(PQgetvalue(res, i, 9), NULL, 10);
    *out = row;
    return VALKEYADDON_OK;
}
