/*
 * The PostgreSQL storage (storages.h): the app_addons rows over libpq, one
 * connection per storage, every data statement prepared and parameterised.
 * Not thread-safe: one storage serves one thread at a time, as a PGconn does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storage/pg.h"
#include "storage/row.h"
#include "alloc.h"

#define WHO "postgres storage"

static int pg_migrate(valkeyaddon_storage *self, valkeyaddon_ctx *ctx)
{
    return valkeyaddon__pg_migrate((struct pg_storage *)self, ctx);
}

static int pg_upsert(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                     const valkeyaddon_addon_row *row)
{
    const char *values[8];
    PGresult *res;
    int error;

    if ((error = valkeyaddon__row_check(ctx, WHO, row)) < 0)
        return error;
    values[0] = row->app_id;
    values[1] = row->addon_type;
    values[2] = row->tenant_id;
    values[3] = row->plan;
    values[4] = valkeyaddon__row_status_text(row->status);
    values[5] = row->status_message;
    values[6] = row->resource_name;
    values[7] = row->namespace_;
    if ((error = valkeyaddon__pg_run(&res, (struct pg_storage *)self, ctx, PG_UPSERT, values, "upsert")) < 0)
        return error;
    /* out may be row itself: it is written only now that the parameters are sent. */
    if (PQntuples(res) != 1)
        error = valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, "postgres storage: upsert returned %d rows, not 1",
                                   PQntuples(res));
    else if (out)
        error = valkeyaddon__pg_decode_row(out, ctx, res, 0);
    PQclear(res);
    return error;
}

static int pg_get(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
                  const char *addon_type)
{
    const char *values[2];
    PGresult *res;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    values[0] = app_id;
    values[1] = addon_type;
    if ((error = valkeyaddon__pg_run(&res, (struct pg_storage *)self, ctx, PG_GET, values, "get")) < 0)
        return error;
    if (PQntuples(res) == 0)
        error = valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "no %s add-on recorded for app %s", addon_type,
                                   app_id);
    else
        error = valkeyaddon__pg_decode_row(out, ctx, res, 0);
    PQclear(res);
    return error;
}

/* "0" rows affected is ENOTFOUND, for set_status and remove. */
static int affected(PGresult *res, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    int rows = atoi(PQcmdTuples(res));

    PQclear(res);
    if (rows == 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOTFOUND, "no %s add-on recorded for app %s", addon_type, app_id);
    return VALKEYADDON_OK;
}

static int pg_set_status(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type,
                         int status, const char *message)
{
    char cut[VALKEYADDON_STATUS_MESSAGE_BUFSIZE];
    const char *values[4];
    PGresult *res;
    int error;

    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    if ((error = valkeyaddon__row_check_status(ctx, WHO, status)) < 0)
        return error;
    /* A message is for the operator: a long one is cut on a character boundary, as the row's array would. */
    valkeyaddon__row_copy_message(cut, sizeof(cut), message);
    values[0] = app_id;
    values[1] = addon_type;
    values[2] = valkeyaddon__row_status_text(status);
    values[3] = cut;
    if ((error = valkeyaddon__pg_run(&res, (struct pg_storage *)self, ctx, PG_SET_STATUS, values, "set_status")) < 0)
        return error;
    return affected(res, ctx, app_id, addon_type);
}

static int pg_remove(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type)
{
    const char *values[2];
    PGresult *res;
    int error;

    if ((error = valkeyaddon__row_check_key(ctx, WHO, app_id, addon_type)) < 0)
        return error;
    values[0] = app_id;
    values[1] = addon_type;
    if ((error = valkeyaddon__pg_run(&res, (struct pg_storage *)self, ctx, PG_DELETE, values, "remove")) < 0)
        return error;
    return affected(res, ctx, app_id, addon_type);
}

static int pg_list(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, valkeyaddon_row_cb callback,
                   void *payload)
{
    valkeyaddon_addon_row row;
    const char *values[1];
    PGresult *res;
    int error, i, n;

    if (!callback)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "callback: must not be NULL");
    if ((error = valkeyaddon__row_check_app(ctx, WHO, app_id)) < 0)
        return error;
    values[0] = app_id;
    /*
     * The whole result is fetched before the first callback, so a reconnect
     * never repeats rows the caller has seen (the table holds one row per app).
     */
    if ((error = valkeyaddon__pg_run(&res, (struct pg_storage *)self, ctx, app_id ? PG_LIST_APP : PG_LIST_ALL, values,
                                     "list")) < 0)
        return error;
    n = PQntuples(res);
    for (i = 0, error = 0; i < n && error == 0; i++) {
        if ((error = valkeyaddon__pg_decode_row(&row, ctx, res, i)) < 0)
            break;
        error = callback(&row, payload);
    }
    PQclear(res);
    return error;
}

static void pg_free(valkeyaddon_storage *self)
{
    struct pg_storage *s = (struct pg_storage *)self;

    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    valkeyaddon__free_secret(s->password, (size_t)-1);
    valkeyaddon__free(s);
}

int valkeyaddon_storage_postgres_new(valkeyaddon_storage **out, valkeyaddon_ctx *ctx,
                                     const valkeyaddon_postgres_options *options)
{
    struct pg_storage *s;
    int error;

    valkeyaddon__begin(ctx);
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    *out = NULL;
    if (!options)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options: must not be NULL");
    if (options->version == 0 || options->version > VALKEYADDON_POSTGRES_OPTIONS_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "options->version: %u is not a postgres options version this library knows (1 to %d)",
                                  options->version, VALKEYADDON_POSTGRES_OPTIONS_VERSION);
    if (!options->conninfo || !*options->conninfo)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->conninfo: must be a postgres:// URL or libpq keyword=value pairs");
    if (options->connect_timeout_s < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "options->connect_timeout_s: must not be negative (0: 10 s)");
    if (!(s = valkeyaddon__calloc(1, sizeof(*s))))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "postgres storage: out of memory");
    s->base.version = VALKEYADDON_STORAGE_VERSION;
    s->base.migrate = pg_migrate;
    s->base.upsert = pg_upsert;
    s->base.get = pg_get;
    s->base.set_status = pg_set_status;
    s->base.remove = pg_remove;
    s->base.list = pg_list;
    s->base.free = pg_free;
    if ((error = valkeyaddon__pg_connect(s, ctx, options)) < 0) {
        pg_free(&s->base);
        return error;
    }
    *out = &s->base;
    return VALKEYADDON_OK;
}
