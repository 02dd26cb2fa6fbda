/* The PostgreSQL storage's rows: decoding result rows (the checks are the shared ones in row.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storage/pg.h"
#include "storage/row.h"

/* Copy column col into dst; a value that does not fit is an error, except for the message, which is cut. */
static int copy_column(char *dst, size_t size, valkeyaddon_ctx *ctx, const PGresult *res, int i, int col,
                       const char *name, int may_cut)
{
    const char *value = PQgetvalue(res, i, col);
    size_t len = (size_t)PQgetlength(res, i, col);

    if (may_cut) {
        valkeyaddon__row_copy_message(dst, size, value);
        return VALKEYADDON_OK;
    }
    if (len >= size)
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                  "postgres storage: a stored row has a %s of %zu bytes, longer than the %zu "
                                  "this library keeps (was it written by another tool?)",
                                  name, len, size - 1);
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
    if ((row.status = valkeyaddon__row_status_parse(PQgetvalue(res, i, 4))) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                  "postgres storage: the row of app %s has an unknown status (not creating, ready "
                                  "or failed)",
                                  row.app_id);
    row.created_at = strtoll(PQgetvalue(res, i, 8), NULL, 10);
    row.updated_at = strtoll(PQgetvalue(res, i, 9), NULL, 10);
    *out = row;
    return VALKEYADDON_OK;
}
