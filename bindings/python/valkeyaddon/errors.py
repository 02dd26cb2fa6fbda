"""valkeyaddon.Error and one subclass per code family of include/valkeyaddon/errors.h.

A failed call raises the subclass of its code with the context's message (never a
secret). Plugins written in Python raise the same classes to return a code.
"""

from . import _lib

OK = 0
ERROR = -1
EINVAL = -2
ENOMEM = -3
EVERSION = -4
ENOTFOUND = -5
EEXISTS = -6
ECONFLICT = -7
ETIMEOUT = -8
EUNAUTHORIZED = -9
EFORBIDDEN = -10
EUNAVAILABLE = -11
ETHROTTLED = -12
EREJECTED = -13
ESTORAGE = -14
EFAILED = -15
EIO = -16
ECONFIG = -17
ETLS = -18
ESERVER = -19
ENOTSUPPORTED = -20
EDATALOSS = -21


def strerror(code):
    """The library's short description of a code ("unknown error code" for others)."""
    return _lib.text(_lib.fn.valkeyaddon_strerror(int(code)))


class Error(Exception):
    """A libvalkeyaddon failure: `.code` (a negative VALKEYADDON_E* value) and `.message`.

    Raise it (or a subclass) from a Python transport or storage to return that code;
    `Error("...")` itself is VALKEYADDON_ERROR. Failures of provision() carry `.row`,
    the add-on's row as last recorded, when the library filled one.
    """

    code = ERROR

    def __init__(self, message=None, code=None):
        if code is not None:
            self.code = int(code)
        self.message = message if message else strerror(self.code)
        self.row = None
        super().__init__(self.message)

    def __str__(self):
        return f"{self.message} ({strerror(self.code)}, code {self.code})"

    @staticmethod
    def from_code(code, message=None):
        """The Error subclass instance for a code (Error itself for unknown codes)."""
        return _BY_CODE.get(code, Error)(message, code=code)


def _family(name, code, doc, *bases):
    cls = type(name, (Error, *bases), {"code": code, "__doc__": doc})
    cls.__module__ = __name__
    return cls


InvalidArgument = _family("InvalidArgument", EINVAL, "An argument broke a documented rule.", ValueError)
OutOfMemory = _family("OutOfMemory", ENOMEM, "An allocation failed; nothing was changed.")
VersionMismatch = _family("VersionMismatch", EVERSION, "A struct or plugin version the library does not know.")
NotFound = _family("NotFound", ENOTFOUND, "The object or record does not exist.")
Exists = _family("Exists", EEXISTS, "The object already exists.")
Conflict = _family("Conflict", ECONFLICT, "A concurrent writer or field manager owns the change.")
Timeout = _family("Timeout", ETIMEOUT, "The deadline passed before the operation completed.", TimeoutError)
Unauthorized = _family("Unauthorized", EUNAUTHORIZED, "The server did not accept the credentials.")
Forbidden = _family("Forbidden", EFORBIDDEN, "The credentials lack permission.")
Unavailable = _family("Unavailable", EUNAVAILABLE, "The server could not be reached or kept failing.")
Throttled = _family("Throttled", ETHROTTLED, "The server kept asking to slow down (HTTP 429).")
Rejected = _family("Rejected", EREJECTED, "The server rejected the object as invalid.")
StorageError = _family("StorageError", ESTORAGE, "The storage backend failed.")
AddonFailed = _family("AddonFailed", EFAILED, "The add-on reached the Failed status.")
FileError = _family("FileError", EIO, "Reading or writing a local file failed.")
ConfigError = _family("ConfigError", ECONFIG, "A configuration (kubeconfig, service account) is unusable.")
TLSError = _family("TLSError", ETLS, "TLS verification or a certificate failed.")
ServerError = _family("ServerError", ESERVER, "The server reported an internal error.")
NotSupported = _family("NotSupported", ENOTSUPPORTED, "The plugin or build does not support the operation.")
DataLoss = _family("DataLoss", EDATALOSS, "The change would delete data and the caller did not allow it.")

_BY_CODE = {cls.code: cls for cls in (
    InvalidArgument, OutOfMemory, VersionMismatch, NotFound, Exists, Conflict, Timeout, Unauthorized,
    Forbidden, Unavailable, Throttled, Rejected, StorageError, AddonFailed, FileError, ConfigError,
    TLSError, ServerError, NotSupported, DataLoss)}

__all__ = ["Error", "strerror"] + [cls.__name__ for cls in _BY_CODE.values()]
