/* The PostgreSQL storage's private parts, shared by postgres.c, pg_conn.c and pg_row.c. */
#ifndef VALKEYADDON_INTERNAL_STORAGE_PG_H
#define VALKEYADDON_INTERNAL_STORAGE_PG_H

#include <libpq-fe.h>

#include "valkeyaddon/storages.h"
#include "ctx.h"

/* sql/app_addons.postgres.sql, compiled in by storage.am (pg_schema.c is generated). */
extern const char valkeyaddon__pg_schema_sql[];

/* The prepared statements, by index into the table in pg_conn.c. */
enum pg_statement {
    PG_UPSERT,
    PG_GET,
    PG_SET_STATUS,
    PG_DELETE,
    PG_LIST_APP,
    PG_LIST_ALL,
    PG_STATEMENT_COUNT
};

struct pg_storage {
    valkeyaddon_storage base; /* first: the vtable pointer is the object pointer */
    PGconn *conn;
    int prepared;   /* 1 once every statement is prepared on this connection */
    char *password; /* from the conninfo, only to scrub it out of messages; wiped on free */
    valkeyaddon_ctx *ctx; /* the caller's, during a call only: server notices go to its log */
};

/* Connect with the caller's conninfo (copied into libpq, not kept by us). */
int valkeyaddon__pg_connect(struct pg_storage *s, valkeyaddon_ctx *ctx, const valkeyaddon_postgres_options *options);

/*
 * Run a prepared statement. A lost connection is reset once, the statements
 * are prepared again and the statement is repeated once; any other failure is
 * reported at once. On success *out is a PGRES_TUPLES_OK or PGRES_COMMAND_OK
 * result the caller PQclear()s. `what` names the operation for messages.
 */
int valkeyaddon__pg_run(PGresult **out, struct pg_storage *s, valkeyaddon_ctx *ctx, enum pg_statement statement,
                        const char *const *values, const char *what);

/* Run the schema script (not prepared: it is a constant with no parameters), same reset policy. */
int valkeyaddon__pg_migrate(struct pg_storage *s, valkeyaddon_ctx *ctx);

/* Report `what` failed with the server's message and SQLSTATE (scrubbed); returns VALKEYADDON_ESTORAGE. */
int valkeyaddon__pg_fail(struct pg_storage *s, valkeyaddon_ctx *ctx, const char *what, const PGresult *res);

/* Fill out from row i of a result of the row columns (see pg_conn.c's ROW_COLUMNS). */
int valkeyaddon__pg_decode_row(valkeyaddon_addon_row *out, valkeyaddon_ctx *ctx, const PGresult *res, int i);

#endif
