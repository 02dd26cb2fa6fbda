/**
 * @file valkeyaddon/errors.h
 * @brief Error codes and their descriptions.
 *
 * Every fallible function returns an int: negative is failure (one of the
 * codes below), zero is success, and a documented positive value may carry
 * information (for example "fell back" or "changed"). The codes are
 * append-only: a value is never renumbered or reused, so bindings may hard-code
 * them. The detail of the last failure (which argument, which rule, what the
 * server said) is kept on the context: see valkeyaddon_ctx_error_message().
 */
#ifndef VALKEYADDON_ERRORS_H
#define VALKEYADDON_ERRORS_H

#include "common.h"

VALKEYADDON_BEGIN_DECL

/** Result codes. Append only; never renumber. */
typedef enum valkeyaddon_error {
    VALKEYADDON_OK = 0,             /**< success */
    VALKEYADDON_ERROR = -1,         /**< a failure with no more specific code */
    VALKEYADDON_EINVAL = -2,        /**< an argument broke a documented rule */
    VALKEYADDON_ENOMEM = -3,        /**< an allocation failed; nothing was changed */
    VALKEYADDON_EVERSION = -4,      /**< a struct or plugin version this library does not know */
    VALKEYADDON_ENOTFOUND = -5,     /**< the object or record does not exist */
    VALKEYADDON_EEXISTS = -6,       /**< the object already exists */
    VALKEYADDON_ECONFLICT = -7,     /**< a concurrent writer or field manager owns the change */
    VALKEYADDON_ETIMEOUT = -8,      /**< the deadline passed before the operation completed */
    VALKEYADDON_EUNAUTHORIZED = -9, /**< the server did not accept the credentials */
    VALKEYADDON_EFORBIDDEN = -10,   /**< the credentials lack permission */
    VALKEYADDON_EUNAVAILABLE = -11, /**< the server could not be reached or kept failing */
    VALKEYADDON_ETHROTTLED = -12,   /**< the server kept asking to slow down (HTTP 429) */
    VALKEYADDON_EREJECTED = -13,    /**< the server rejected the object as invalid */
    VALKEYADDON_ESTORAGE = -14,     /**< the storage backend failed */
    VALKEYADDON_EFAILED = -15,      /**< the add-on reached the Failed status */
    VALKEYADDON_EIO = -16,          /**< reading or writing a local file failed */
    VALKEYADDON_ECONFIG = -17,      /**< a configuration (kubeconfig, service account) is unusable */
    VALKEYADDON_ETLS = -18,         /**< TLS verification or a certificate failed */
    VALKEYADDON_ESERVER = -19,      /**< the server reported an internal error */
    VALKEYADDON_ENOTSUPPORTED = -20, /**< the plugin or build does not support the operation */
    VALKEYADDON_EDATALOSS = -21      /**< the change would delete data and the caller did not allow it (1.1) */
} valkeyaddon_error;

/**
 * A short, static description of an error code.
 *
 * @param code a value returned by any libvalkeyaddon function
 * @return a static string owned by the library, never NULL; unknown codes give
 *         "unknown error code"
 */
VALKEYADDON_API const char *valkeyaddon_strerror(int code);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_ERRORS_H */
