/**
 * @file valkeyaddon/context.h
 * @brief The context: error detail, logging and (later) plugins live here.
 *
 * Thread safety (docs/threads.md):
 *
 * - One context per thread at a time: calls taking the same context must not
 *   overlap, but a context may move between threads (with the usual
 *   happens-before, such as a mutex or a channel, between its users).
 *   Different contexts may be used concurrently from any number of threads.
 * - A transport or storage belongs to the one context it was given to
 *   (valkeyaddon_ctx_set_transport(), valkeyaddon_ctx_set_storage()): never
 *   give one object to two contexts, and do not call its members while its
 *   context is in use elsewhere. Give each context its own; several may reach
 *   the same cluster, the same PostgreSQL database, the same SQLite file or
 *   the same local state directory (those serialise through the server or
 *   through file locks).
 * - Before any thread uses the library: valkeyaddon_replace_allocator(), if
 *   called at all. Everything else initialises itself once, safely (libcurl
 *   and OpenSSL included).
 * - Calls without a context, or with a NULL one (valkeyaddon_strerror(),
 *   valkeyaddon_version(), valkey_name(), the plan functions, ...), are safe
 *   from any thread at any time.
 * - The library starts no threads and installs no signal handlers: the log,
 *   progress, render and row callbacks run on the calling thread, during the
 *   call. A callback shared by several contexts must be thread-safe itself.
 * - While library calls run, other threads must not change the environment
 *   (setenv(), putenv()) or the locale (setlocale()): the library reads
 *   KUBECONFIG, HOME, PATH and the like.
 *
 * The error detail lives on the context, not in thread-local storage,
 * because a Go goroutine may move to another OS thread between the failing
 * call and reading the message.
 */
#ifndef VALKEYADDON_CONTEXT_H
#define VALKEYADDON_CONTEXT_H

#include "common.h"

VALKEYADDON_BEGIN_DECL

/** An opaque context. Create with valkeyaddon_ctx_new(), release with valkeyaddon_ctx_free(). */
typedef struct valkeyaddon_ctx valkeyaddon_ctx;

/** Log levels, most severe first. A context logs messages at or above its level's severity. */
typedef enum valkeyaddon_log_level {
    VALKEYADDON_LOG_NONE = 0,    /**< log nothing */
    VALKEYADDON_LOG_ERROR = 1,   /**< failures reported to the caller */
    VALKEYADDON_LOG_WARNING = 2, /**< recoverable surprises (a plan fell back, a retry) */
    VALKEYADDON_LOG_INFO = 3,    /**< one line per operation */
    VALKEYADDON_LOG_DEBUG = 4    /**< requests and decisions; still never a secret */
} valkeyaddon_log_level;

/**
 * A log callback. The library never writes to stdout or stderr; it hands each
 * message to this callback instead. No message ever contains a password, a
 * REDIS_URL or a database password.
 *
 * @param level one of valkeyaddon_log_level
 * @param message a NUL-terminated line without a trailing newline, valid only
 *        during the call
 * @param payload the pointer given with the callback, untouched by the library
 */
typedef void (*valkeyaddon_log_cb)(int level, const char *message, void *payload);

/**
 * Options for valkeyaddon_ctx_new(). Initialise with VALKEYADDON_CTX_OPTIONS_INIT
 * so that `version` is set; fields added in later versions are appended, and
 * the library reads only the fields of the version the caller declares.
 */
typedef struct valkeyaddon_ctx_options {
    unsigned int version;      /**< VALKEYADDON_CTX_OPTIONS_VERSION at compile time */
    int log_level;             /**< a valkeyaddon_log_level; 0 logs nothing */
    valkeyaddon_log_cb log_cb; /**< may be NULL: no logging */
    void *log_payload;         /**< passed to log_cb; the library never touches it */
    /* members above are valid for version 1; append only */
} valkeyaddon_ctx_options;

/** The options version these headers describe. */
#define VALKEYADDON_CTX_OPTIONS_VERSION 1
/** Static initialiser for valkeyaddon_ctx_options. */
#define VALKEYADDON_CTX_OPTIONS_INIT { VALKEYADDON_CTX_OPTIONS_VERSION, 0, NULL, NULL }

/**
 * Initialise an options struct at run time (for bindings that cannot use the macro).
 *
 * @param[out] options the struct to fill with defaults
 * @param version VALKEYADDON_CTX_OPTIONS_VERSION
 * @return 0, VALKEYADDON_EINVAL if options is NULL, VALKEYADDON_EVERSION if the
 *         version is 0 or newer than this library knows
 */
VALKEYADDON_API int valkeyaddon_ctx_options_init(valkeyaddon_ctx_options *options, unsigned int version);

/**
 * Create a context.
 *
 * @param[out] out receives the new context on success (left untouched on
 *        failure); the caller owns it and releases it with valkeyaddon_ctx_free()
 * @param options may be NULL for defaults; copied, not retained
 * @return 0; VALKEYADDON_EINVAL if out is NULL or a field is out of range;
 *         VALKEYADDON_EVERSION for an unknown options version;
 *         VALKEYADDON_ENOMEM
 */
VALKEYADDON_API int valkeyaddon_ctx_new(valkeyaddon_ctx **out, const valkeyaddon_ctx_options *options);

/**
 * Release a context and everything it owns. NULL is a no-op.
 *
 * @param ctx the context; invalid after the call
 */
VALKEYADDON_API void valkeyaddon_ctx_free(valkeyaddon_ctx *ctx);

/**
 * The message describing the last failure on this context.
 *
 * @param ctx the context; NULL gives ""
 * @return a NUL-terminated string owned by the context, valid until the next
 *         call that takes this context; "" when the last call succeeded or set
 *         no detail. Never contains a secret.
 */
VALKEYADDON_API const char *valkeyaddon_ctx_error_message(const valkeyaddon_ctx *ctx);

/**
 * The code of the last failure on this context.
 *
 * @param ctx the context; NULL gives 0
 * @return the negative code of the last failure, or 0
 */
VALKEYADDON_API int valkeyaddon_ctx_error_code(const valkeyaddon_ctx *ctx);

/**
 * Forget the last failure.
 *
 * @param ctx the context; NULL is a no-op
 */
VALKEYADDON_API void valkeyaddon_ctx_clear_error(valkeyaddon_ctx *ctx);

/**
 * Replace the log callback and level of a context.
 *
 * @param ctx the context
 * @param level a valkeyaddon_log_level
 * @param cb the callback, or NULL to stop logging
 * @param payload passed to cb, untouched by the library
 * @return 0, or VALKEYADDON_EINVAL for a NULL ctx or a level out of range
 */
VALKEYADDON_API int valkeyaddon_ctx_set_log(valkeyaddon_ctx *ctx, int level, valkeyaddon_log_cb cb, void *payload);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_CONTEXT_H */
