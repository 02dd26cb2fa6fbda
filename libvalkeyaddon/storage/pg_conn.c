/*
 * The PostgreSQL storage's connection: connect, prepare, run a statement with
 * the one-reconnect policy, and report failures without secrets
 * (docs/storage-postgres.md says why each rule is what it is).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "storage/pg.h"
#include "alloc.h"

/* Timestamps leave the server as Unix milliseconds, so no client-side date parsing. */
#define ROW_COLUMNS                                                                                               \
    "app_id, addon_type, tenant_id, plan, status, status_message, resource_name, namespace, "                   \
    "floor(extract(epoch FROM created_at) * 1000)::bigint, floor(extract(epoch FROM updated_at) * 1000)::bigint"
/* Byte order whatever the database's collation, as the other storages list. */
#define ROW_ORDER " ORDER BY app_id COLLATE \"C\", addon_type COLLATE \"C\""

static const struct {
    const char *name;
    const char *sql;
    int nparams;
} statements[PG_STATEMENT_COUNT] = {
    [PG_UPSERT] = { "valkeyaddon_upsert",
                    "INSERT INTO app_addons (app_id, addon_type, tenant_id, plan, status, status_message,"
                    " resource_name, namespace) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    " ON CONFLICT (app_id, addon_type) DO UPDATE SET tenant_id = EXCLUDED.tenant_id,"
                    " plan = EXCLUDED.plan, status = EXCLUDED.status, status_message = EXCLUDED.status_message,"
                    " resource_name = EXCLUDED.resource_name, namespace = EXCLUDED.namespace, updated_at = now()"
                    " RETURNING " ROW_COLUMNS,
                    8 },
    [PG_GET] = { "valkeyaddon_get",
                 "SELECT " ROW_COLUMNS " FROM app_addons WHERE app_id = $1 AND addon_type = $2", 2 },
    [PG_SET_STATUS] = { "valkeyaddon_set_status",
                        "UPDATE app_addons SET status = $3, status_message = $4, updated_at = now()"
                        " WHERE app_id = $1 AND addon_type = $2",
                        4 },
    [PG_DELETE] = { "valkeyaddon_delete", "DELETE FROM app_addons WHERE app_id = $1 AND addon_type = $2", 2 },
    [PG_LIST_APP] = { "valkeyaddon_list_app",
                      "SELECT " ROW_COLUMNS " FROM app_addons WHERE app_id = $1" ROW_ORDER, 1 },
    [PG_LIST_ALL] = { "valkeyaddon_list_all", "SELECT " ROW_COLUMNS " FROM app_addons" ROW_ORDER, 0 },
};

/* Not a statement index: run the schema script. */
#define PG_MIGRATE (-1)

/*
 * Copy src into dst (size bytes, always NUL-terminated), replacing every
 * occurrence of a secret with "[redacted]" and runs of whitespace (libpq's
 * messages span lines) with one space. Matching runs on the source, so
 * cutting the output short never leaves a piece of a secret behind.
 */
static void scrub(char *dst, size_t size, const char *src, const char *const *secrets, size_t nsecrets)
{
    static const char redacted[] = "[redacted]";
    size_t used = 0, i, len = 0;
    int space = 0;

    while (*src && used + 1 < size) {
        for (i = 0; i < nsecrets; i++) {
            if (secrets[i] && *secrets[i] && strncmp(src, secrets[i], (len = strlen(secrets[i]))) == 0)
                break;
        }
        if (i < nsecrets) {
            if (space && used > 0 && used + 1 < size)
                dst[used++] = ' ';
            space = 0;
            for (i = 0; redacted[i] && used + 1 < size; i++)
                dst[used++] = redacted[i];
            src += len;
            continue;
        }
        if (*src == ' ' || *src == '\n' || *src == '\t' || *src == '\r') {
            space = 1;
            src++;
            continue;
        }
        if (space && used > 0 && used + 1 < size)
            dst[used++] = ' ';
        space = 0;
        if (used + 1 < size)
            dst[used++] = *src;
        src++;
    }
    dst[used] = '\0';
}

static void scrub_for(struct pg_storage *s, char *dst, size_t size, const char *src, const char *conninfo)
{
    const char *secrets[3];

    secrets[0] = s->password;
    secrets[1] = getenv("PGPASSWORD");
    secrets[2] = conninfo;
    scrub(dst, size, src, secrets, 3);
}

/* Server notices (CREATE TABLE IF NOT EXISTS says "skipping") go to the log, never to stderr. */
static void notice_receiver(void *arg, const PGresult *res)
{
    struct pg_storage *s = arg;
    char line[512];
    const char *text = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    if (!s->ctx || !text)
        return;
    scrub_for(s, line, sizeof(line), text, NULL);
    valkeyaddon__log(s->ctx, VALKEYADDON_LOG_DEBUG, "postgres storage: server notice: %s", line);
}

static int looks_like_conninfo(const char *conninfo)
{
    return strchr(conninfo, '=') || strncmp(conninfo, "postgres://", 11) == 0 ||
           strncmp(conninfo, "postgresql://", 13) == 0;
}

/* Keep the password (to scrub it from messages later) and learn whether the conninfo sets connect_timeout. */
static int parse_conninfo(struct pg_storage *s, valkeyaddon_ctx *ctx, const char *conninfo, int *has_timeout)
{
    PQconninfoOption *options, *o;
    char *message = NULL;
    int error = VALKEYADDON_OK;

    *has_timeout = 0;
    if (!(options = PQconninfoParse(conninfo, &message))) {
        /* libpq's parse message quotes pieces of the string, which may be the password: not reported. */
        PQfreemem(message);
        if (!looks_like_conninfo(conninfo))
            return VALKEYADDON_OK; /* a bare database name, as libpq also accepts */
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "options->conninfo: is neither a postgres:// URL nor valid libpq keyword=value "
                                  "pairs (check the keywords and quote values holding spaces as 'a b')");
    }
    for (o = options; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "password") == 0 && *o->val && !(s->password = valkeyaddon__strdup(o->val)))
            error = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "postgres storage: out of memory");
        if (strcmp(o->keyword, "connect_timeout") == 0 && *o->val)
            *has_timeout = 1;
        if (strcmp(o->keyword, "password") == 0)
            OPENSSL_cleanse(o->val, strlen(o->val));
    }
    PQconninfoFree(options);
    return error;
}

static void add_param(const char **keywords, const char **values, int *n, const char *keyword, const char *value)
{
    keywords[*n] = keyword;
    values[*n] = value;
    (*n)++;
}

int valkeyaddon__pg_connect(struct pg_storage *s, valkeyaddon_ctx *ctx, const valkeyaddon_postgres_options *options)
{
    const char *keywords[8], *values[8];
    char timeout[16], detail[VALKEYADDON__MESSAGE_SIZE - 64];
    int n = 0, has_timeout, error;

    if ((error = parse_conninfo(s, ctx, options->conninfo, &has_timeout)) < 0)
        return error;
    snprintf(timeout, sizeof(timeout), "%ld", (long)(options->connect_timeout_s > 0 ? options->connect_timeout_s : 10));
    /*
     * libpq applies the entries in order and the expanded dbname (the
     * caller's URL or keyword string) overrides those before it: our
     * defaults come first, explicit options after.
     */
    add_param(keywords, values, &n, "client_encoding", "UTF8");
    add_param(keywords, values, &n, "fallback_application_name", "libvalkeyaddon");
    if (!has_timeout || options->connect_timeout_s > 0)
        add_param(keywords, values, &n, "connect_timeout", timeout);
    add_param(keywords, values, &n, "dbname", options->conninfo);
    if (options->connect_timeout_s > 0)
        add_param(keywords, values, &n, "connect_timeout", timeout);
    if (options->application_name)
        add_param(keywords, values, &n, "application_name", options->application_name);
    add_param(keywords, values, &n, NULL, NULL);

    if (!(s->conn = PQconnectdbParams(keywords, values, 1)))
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "postgres storage: out of memory");
    PQsetNoticeReceiver(s->conn, notice_receiver, s);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        scrub_for(s, detail, sizeof(detail), PQerrorMessage(s->conn),
                  looks_like_conninfo(options->conninfo) ? options->conninfo : NULL);
        PQfinish(s->conn);
        s->conn = NULL;
        return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, "postgres storage: cannot connect: %s", detail);
    }
    return VALKEYADDON_OK;
}

/* What the server (or libpq) said about a failed result, scrubbed, on one line. */
static void describe(struct pg_storage *s, char *detail, size_t size, const PGresult *res)
{
    const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (!text && res)
        text = PQresultErrorMessage(res);
    if ((!text || !*text) && s->conn)
        text = PQerrorMessage(s->conn);
    if (!text || !*text)
        text = "no result from the server";
    scrub_for(s, detail, size, text, NULL);
}

int valkeyaddon__pg_fail(struct pg_storage *s, valkeyaddon_ctx *ctx, const char *what, const PGresult *res)
{
    char detail[VALKEYADDON__MESSAGE_SIZE - 128];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    describe(s, detail, sizeof(detail), res);
    return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE, "postgres storage: %s failed: %s%s%s%s%s", what, detail,
                              state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "",
                              state && strcmp(state, "42P01") == 0
                                  ? "; create the schema first (valkeyaddon_storage_migrate())"
                                  : "");
}

/*
 * Did the statement fail because the connection went away? Class 08
 * (connection exception), 57P01-57P03 (the server is shutting down or
 * starting), no result at all, or a connection libpq has marked bad. Anything
 * else is an SQL error and is never retried.
 */
static int connection_lost(PGconn *conn, const PGresult *res)
{
    const char *state;

    if (!res || PQstatus(conn) == CONNECTION_BAD)
        return 1;
    if (!(state = PQresultErrorField(res, PG_DIAG_SQLSTATE)))
        return 0;
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
           strcmp(state, "57P03") == 0;
}

static int result_ok(const PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);

    return res && (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK);
}

/* Prepare every statement on this connection; NULL when done, else the failing result (or NULL result: lost). */
static int prepare_all(PGresult **failed, struct pg_storage *s)
{
    PGresult *res;
    int i;

    *failed = NULL;
    for (i = 0; i < PG_STATEMENT_COUNT; i++) {
        res = PQprepare(s->conn, statements[i].name, statements[i].sql, statements[i].nparams, NULL);
        if (!result_ok(res)) {
            *failed = res;
            return -1;
        }
        PQclear(res);
    }
    s->prepared = 1;
    return 0;
}

/* One try; returns 0 with *res the result, or -1 with *res the failing result (NULL: none). */
static int try_once(PGresult **res, struct pg_storage *s, int statement, const char *const *values)
{
    if (statement == PG_MIGRATE) {
        *res = PQexec(s->conn, valkeyaddon__pg_schema_sql);
        if (!result_ok(*res) && PQstatus(s->conn) == CONNECTION_OK &&
            PQtransactionStatus(s->conn) != PQTRANS_IDLE)
            PQclear(PQexec(s->conn, "ROLLBACK")); /* the script's BEGIN must not outlive its failure */
        return result_ok(*res) ? 0 : -1;
    }
    if (!s->prepared && prepare_all(res, s) < 0)
        return -1;
    *res = PQexecPrepared(s->conn, statements[statement].name, statements[statement].nparams, values, NULL, NULL, 0);
    return result_ok(*res) ? 0 : -1;
}

static int run(PGresult **out, struct pg_storage *s, valkeyaddon_ctx *ctx, int statement,
               const char *const *values, const char *what)
{
    char detail[VALKEYADDON__MESSAGE_SIZE - 128];
    PGresult *res = NULL;
    int attempt, error;

    s->ctx = ctx;
    for (attempt = 0;; attempt++) {
        int lost;

        if (PQstatus(s->conn) != CONNECTION_OK)
            lost = 1;
        else if (try_once(&res, s, statement, values) == 0) {
            *out = res;
            s->ctx = NULL;
            return VALKEYADDON_OK;
        } else
            lost = connection_lost(s->conn, res);
        if (!lost || attempt > 0) {
            error = valkeyaddon__pg_fail(s, ctx, what, res);
            PQclear(res);
            s->ctx = NULL;
            return error;
        }
        describe(s, detail, sizeof(detail), res);
        PQclear(res);
        res = NULL;
        /* The statement may or may not have run: each one is safe to repeat (docs/storage-postgres.md). */
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                         "postgres storage: %s: the connection was lost (%s); reconnecting once", what, detail);
        s->prepared = 0;
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK) {
            scrub_for(s, detail, sizeof(detail), PQerrorMessage(s->conn), NULL);
            s->ctx = NULL;
            return valkeyaddon__error(ctx, VALKEYADDON_ESTORAGE,
                                      "postgres storage: %s failed: the connection was lost and reconnecting "
                                      "failed: %s",
                                      what, detail);
        }
    }
}

int valkeyaddon__pg_run(PGresult **out, struct pg_storage *s, valkeyaddon_ctx *ctx, enum pg_statement statement,
                        const char *const *values, const char *what)
{
    return run(out, s, ctx, (int)statement, values, what);
}

int valkeyaddon__pg_migrate(struct pg_storage *s, valkeyaddon_ctx *ctx)
{
    PGresult *res = NULL;
    int error;

    if ((error = run(&res, s, ctx, PG_MIGRATE, NULL, "migrate")) < 0)
        return error;
    PQclear(res);
    return VALKEYADDON_OK;
}
