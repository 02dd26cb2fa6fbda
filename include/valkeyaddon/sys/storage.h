/**
 * @file valkeyaddon/sys/storage.h
 * @brief For storage authors: the versioned vtable behind the `app_addons` records.
 *
 * The provision flow (valkeyaddon/provision.h) records every add-on as one row
 * keyed by (app_id, addon_type), as the control plane's `app_addons` table
 * does. The library ships PostgreSQL (libpq), SQLite and in-memory backends
 * (valkeyaddon/storages.h); a service with its own store fills this struct the
 * way an SQLite VFS or a libgit2 ODB backend is filled, and registers it with
 * valkeyaddon_ctx_set_storage().
 *
 * Every member receives the calling context: report failures with
 * valkeyaddon_ctx_set_error() (never with secret material, never a
 * connection string) and return the negative code.
 */
#ifndef VALKEYADDON_SYS_STORAGE_H
#define VALKEYADDON_SYS_STORAGE_H

#include "../common.h"
#include "../context.h"
#include "../naming.h"

VALKEYADDON_BEGIN_DECL

/** The longest addon_type (`valkey`, `postgres`, ...) plus its terminating NUL. */
#define VALKEYADDON_ADDON_TYPE_BUFSIZE 32
/** A DNS label (namespace, id) plus its terminating NUL. */
#define VALKEYADDON_LABEL_BUFSIZE 64
/** The longest status message kept in a row, NUL included (longer ones are cut). */
#define VALKEYADDON_STATUS_MESSAGE_BUFSIZE 512

/**
 * One row of `app_addons`. Strings are NUL-terminated and always fit their
 * arrays. Storages store and return every member; timestamps are set by the
 * storage, never by the caller.
 */
typedef struct valkeyaddon_addon_row {
    unsigned int version;                                /**< VALKEYADDON_ADDON_ROW_VERSION */
    char app_id[VALKEYADDON_LABEL_BUFSIZE];              /**< key, part 1 */
    char addon_type[VALKEYADDON_ADDON_TYPE_BUFSIZE];     /**< key, part 2: "valkey" */
    char tenant_id[VALKEYADDON_LABEL_BUFSIZE];           /**< the tenant the app belongs to */
    char plan[16];                                       /**< the plan actually used (after any fall-back) */
    int status;                                          /**< a valkeyaddon_status: CREATING, READY or FAILED */
    char status_message[VALKEYADDON_STATUS_MESSAGE_BUFSIZE]; /**< for the operator; never a secret */
    char resource_name[VALKEYADDON_NAME_BUFSIZE];        /**< the StatefulSet name (valkey_name()) */
    char namespace_[VALKEYADDON_LABEL_BUFSIZE];          /**< the tenant namespace */
    int64_t created_at;                                  /**< Unix time in ms, set once by the storage */
    int64_t updated_at;                                  /**< Unix time in ms, set by the storage on every write */
    /* members above are valid for version 1; append only */
} valkeyaddon_addon_row;

/** The row version these headers describe. */
#define VALKEYADDON_ADDON_ROW_VERSION 1

/**
 * Called once per row by `list`, in (app_id, addon_type) order.
 * @return 0 to continue; non-zero stops the listing and is returned by it
 */
typedef int (*valkeyaddon_row_cb)(const valkeyaddon_addon_row *row, void *payload);

typedef struct valkeyaddon_storage valkeyaddon_storage;

/**
 * A storage backend. Fill with VALKEYADDON_STORAGE_INIT, then set the
 * members. On successful registration the context owns it and calls `free`
 * once; when registration fails the caller still owns it.
 */
struct valkeyaddon_storage {
    /** VALKEYADDON_STORAGE_VERSION when the storage was compiled. */
    unsigned int version;
    /** For the storage's own state (a Go cgo.Handle, a Python object). The library never touches it. */
    void *user_data;

    /**
     * Optional (NULL: nothing to do): create the schema if it is missing.
     * Idempotent; safe to call on every start and from several processes.
     * @return 0; a negative code
     */
    int (*migrate)(valkeyaddon_storage *self, valkeyaddon_ctx *ctx);

    /**
     * Insert the row or, when (app_id, addon_type) exists, update every other
     * member in place, as `INSERT ... ON CONFLICT (app_id, addon_type) DO
     * UPDATE` does: one row per key whatever the concurrency, `created_at`
     * kept, `updated_at` set. Atomic: the row is written whole or not at all.
     * @param[out] out may be NULL; receives the row as stored (timestamps filled)
     * @return 0; a negative code (VALKEYADDON_ESTORAGE for a store failure)
     */
    int (*upsert)(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx,
                  const valkeyaddon_addon_row *row);

    /**
     * Read one row.
     * @param[out] out receives the row
     * @return 0; VALKEYADDON_ENOTFOUND when there is none; a negative code
     */
    int (*get)(valkeyaddon_addon_row *out, valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id,
               const char *addon_type);

    /**
     * Set status and status_message of an existing row (and `updated_at`).
     * @param message may be NULL (stored as "")
     * @return 0; VALKEYADDON_ENOTFOUND when the row does not exist (nothing is inserted)
     */
    int (*set_status)(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type,
                      int status, const char *message);

    /**
     * Delete one row.
     * @return 0 when a row was deleted; VALKEYADDON_ENOTFOUND when there was none
     */
    int (*remove)(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, const char *addon_type);

    /**
     * Call back once per row of an app, or of every app when app_id is NULL,
     * in (app_id, addon_type) order.
     * @return 0 after the last row; the callback's non-zero value; a negative code
     */
    int (*list)(valkeyaddon_storage *self, valkeyaddon_ctx *ctx, const char *app_id, valkeyaddon_row_cb callback,
                void *payload);

    /** Release the storage. Called once, by the context that owns it. */
    void (*free)(valkeyaddon_storage *self);

    /* members above are valid for version 1; append only */
};

/** The storage version these headers describe. */
#define VALKEYADDON_STORAGE_VERSION 1
/** Static initialiser for valkeyaddon_storage. */
#define VALKEYADDON_STORAGE_INIT { VALKEYADDON_STORAGE_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/**
 * Give the context a storage. The context owns it from then on (and frees a
 * storage it held before).
 * @return 0; VALKEYADDON_EINVAL when a required member (upsert, get,
 *         set_status, remove, list, free) is NULL; VALKEYADDON_EVERSION for
 *         version 0 or a version newer than this library knows. On failure
 *         the caller still owns the storage.
 */
VALKEYADDON_API int valkeyaddon_ctx_set_storage(valkeyaddon_ctx *ctx, valkeyaddon_storage *storage);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_SYS_STORAGE_H */
