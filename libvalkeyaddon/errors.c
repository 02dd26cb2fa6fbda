/* Static descriptions of the error codes. */
#include "config.h"

#include "valkeyaddon/errors.h"

const char *valkeyaddon_strerror(int code)
{
    /* No default: -Wswitch names any code added to the enum but not here. */
    switch ((valkeyaddon_error)code) {
    case VALKEYADDON_OK: return "success";
    case VALKEYADDON_ERROR: return "operation failed";
    case VALKEYADDON_EINVAL: return "invalid argument";
    case VALKEYADDON_ENOMEM: return "out of memory";
    case VALKEYADDON_EVERSION: return "unsupported struct or plugin version";
    case VALKEYADDON_ENOTFOUND: return "not found";
    case VALKEYADDON_EEXISTS: return "already exists";
    case VALKEYADDON_ECONFLICT: return "conflicting change";
    case VALKEYADDON_ETIMEOUT: return "timed out";
    case VALKEYADDON_EUNAUTHORIZED: return "unauthorized";
    case VALKEYADDON_EFORBIDDEN: return "forbidden";
    case VALKEYADDON_EUNAVAILABLE: return "server unavailable";
    case VALKEYADDON_ETHROTTLED: return "throttled by the server";
    case VALKEYADDON_EREJECTED: return "rejected by the server as invalid";
    case VALKEYADDON_ESTORAGE: return "storage failure";
    case VALKEYADDON_EFAILED: return "the add-on failed";
    case VALKEYADDON_EIO: return "input/output error";
    case VALKEYADDON_ECONFIG: return "unusable configuration";
    case VALKEYADDON_ETLS: return "TLS failure";
    case VALKEYADDON_ESERVER: return "server error";
    case VALKEYADDON_ENOTSUPPORTED: return "not supported";
    case VALKEYADDON_EDATALOSS: return "the change would delete data";
    }
    return "unknown error code";
}
