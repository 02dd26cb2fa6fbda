/**
 * @file valkeyaddon/storages.h
 * @brief The built-in storages: PostgreSQL (libpq), SQLite, in-memory.
 *
 * Each constructor returns a storage the caller owns until it is given to a
 * context with valkeyaddon_ctx_set_storage() (valkeyaddon/sys/storage.h).
 * All three keep the same `app_addons` schema and semantics; the SQL lives in
 * `sql/` (installed under `$(datadir)/libvalkeyaddon/`).
 */
#ifndef VALKEYADDON_STORAGES_H
#define VALKEYADDON_STORAGES_H

#include "common.h"
#include "context.h"
#include "sys/storage.h"

VALKEYADDON_BEGIN_DECL

/**
 * An in-memory storage, for tests and short-lived tools: rows live as long as
 * the storage.
 * @param[out] out receives the storage
 * @return 0; VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_storage_memory_new(valkeyaddon_storage **out);

/**
 * An SQLite storage: the embedded default for single-machine use. The
 * database file is created when missing (mode 0600; the directory must
 * exist), opened in WAL mode with a busy timeout, and its schema is migrated
 * on open.
 * @param[out] out receives the storage
 * @param ctx receives the error message on failure
 * @param path the database file; ":memory:" for a private in-memory database
 * @return 0; VALKEYADDON_EINVAL; VALKEYADDON_ESTORAGE; VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_storage_sqlite_new(valkeyaddon_storage **out, valkeyaddon_ctx *ctx,
                                                   const char *path);

/** Options of valkeyaddon_storage_postgres_new(). */
typedef struct valkeyaddon_postgres_options {
    unsigned int version;         /**< VALKEYADDON_POSTGRES_OPTIONS_VERSION */
    const char *conninfo;         /**< a postgres:// or postgresql:// URL, or libpq keyword=value pairs; required.
                                       Never logged, never in an error message (it may hold a password) */
    const char *application_name; /**< NULL: "libvalkeyaddon" (pg_stat_activity shows it) */
    int32_t connect_timeout_s;    /**< 0: 10 seconds */
    /* members above are valid for version 1; append only */
} valkeyaddon_postgres_options;

/** The options version these headers describe. */
#define VALKEYADDON_POSTGRES_OPTIONS_VERSION 1
/** Static initialiser for valkeyaddon_postgres_options. */
#define VALKEYADDON_POSTGRES_OPTIONS_INIT { VALKEYADDON_POSTGRES_OPTIONS_VERSION, NULL, NULL, 0 }

/**
 * A PostgreSQL storage over libpq. Connects at once (so a wrong URL fails
 * here); when the connection is later lost, the storage reconnects once,
 * prepares its statements again and repeats the statement; SQL errors are
 * never retried. The schema is not created here: call
 * valkeyaddon_storage_migrate() (or run `sql/app_addons.postgres.sql` with
 * your own migration tool).
 * @param[out] out receives the storage
 * @param ctx receives the error message on failure (never the conninfo)
 * @return 0; VALKEYADDON_EINVAL; VALKEYADDON_EVERSION; VALKEYADDON_ESTORAGE; VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_storage_postgres_new(valkeyaddon_storage **out, valkeyaddon_ctx *ctx,
                                                     const valkeyaddon_postgres_options *options);

/**
 * Open a storage by URL, as the command line's `--database` does:
 * `sqlite:PATH` (or `sqlite::memory:`), `memory:`, `postgres://...`,
 * `postgresql://...`, or libpq `keyword=value` pairs (anything with '=').
 * The schema is migrated (for PostgreSQL too: a tool opening by URL expects
 * a usable store).
 * @param[out] out receives the storage
 * @return 0; VALKEYADDON_EINVAL for a URL of no known kind; the backend's codes
 */
VALKEYADDON_API int valkeyaddon_storage_open(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, const char *url);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_STORAGES_H */
