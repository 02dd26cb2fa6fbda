package valkeyaddon

/*
#include <valkeyaddon.h>
*/
import "C"

import (
	"errors"
	"fmt"
)

// Code is one of the library's result codes (valkeyaddon/errors.h): negative
// for a failure. The values are append-only in the C library and never
// renumbered.
type Code int

// The failure codes, with the values of include/valkeyaddon/errors.h.
const (
	CodeError        Code = C.VALKEYADDON_ERROR
	CodeInvalid      Code = C.VALKEYADDON_EINVAL
	CodeNoMemory     Code = C.VALKEYADDON_ENOMEM
	CodeVersion      Code = C.VALKEYADDON_EVERSION
	CodeNotFound     Code = C.VALKEYADDON_ENOTFOUND
	CodeExists       Code = C.VALKEYADDON_EEXISTS
	CodeConflict     Code = C.VALKEYADDON_ECONFLICT
	CodeTimeout      Code = C.VALKEYADDON_ETIMEOUT
	CodeUnauthorized Code = C.VALKEYADDON_EUNAUTHORIZED
	CodeForbidden    Code = C.VALKEYADDON_EFORBIDDEN
	CodeUnavailable  Code = C.VALKEYADDON_EUNAVAILABLE
	CodeThrottled    Code = C.VALKEYADDON_ETHROTTLED
	CodeRejected     Code = C.VALKEYADDON_EREJECTED
	CodeStorage      Code = C.VALKEYADDON_ESTORAGE
	CodeAddonFailed  Code = C.VALKEYADDON_EFAILED
	CodeIO           Code = C.VALKEYADDON_EIO
	CodeConfig       Code = C.VALKEYADDON_ECONFIG
	CodeTLS          Code = C.VALKEYADDON_ETLS
	CodeServer       Code = C.VALKEYADDON_ESERVER
	CodeNotSupported Code = C.VALKEYADDON_ENOTSUPPORTED
	// CodeDataLoss: the change would delete data and the caller did not allow it (1.1).
	CodeDataLoss Code = C.VALKEYADDON_EDATALOSS
)

// String is the library's short description of the code (valkeyaddon_strerror).
func (c Code) String() string {
	return C.GoString(C.valkeyaddon_strerror(C.int(c)))
}

// Sentinels for errors.Is: errors.Is(err, ErrNotFound) is true for every
// *Error whose Code is CodeNotFound, whatever its message.
var (
	ErrError        error = &Error{Code: CodeError}
	ErrInvalid      error = &Error{Code: CodeInvalid}
	ErrNoMemory     error = &Error{Code: CodeNoMemory}
	ErrVersion      error = &Error{Code: CodeVersion}
	ErrNotFound     error = &Error{Code: CodeNotFound}
	ErrExists       error = &Error{Code: CodeExists}
	ErrConflict     error = &Error{Code: CodeConflict}
	ErrTimeout      error = &Error{Code: CodeTimeout}
	ErrUnauthorized error = &Error{Code: CodeUnauthorized}
	ErrForbidden    error = &Error{Code: CodeForbidden}
	ErrUnavailable  error = &Error{Code: CodeUnavailable}
	ErrThrottled    error = &Error{Code: CodeThrottled}
	ErrRejected     error = &Error{Code: CodeRejected}
	ErrStorage      error = &Error{Code: CodeStorage}
	ErrAddonFailed  error = &Error{Code: CodeAddonFailed}
	ErrIO           error = &Error{Code: CodeIO}
	ErrConfig       error = &Error{Code: CodeConfig}
	ErrTLS          error = &Error{Code: CodeTLS}
	ErrServer       error = &Error{Code: CodeServer}
	ErrNotSupported error = &Error{Code: CodeNotSupported}
	ErrDataLoss     error = &Error{Code: CodeDataLoss}
)

// Error is a failure reported by the library: its code and the context's
// message (which names what failed and what to do, and never holds a
// secret). When the failure came from a Go transport or storage callback,
// Unwrap returns the error (or *PanicError) the callback produced.
type Error struct {
	Code    Code
	Message string
	cause   error
}

// NewError makes an *Error, for Go transports and storages that want to
// choose the code the library sees (for example CodeNotFound from Get).
func NewError(code Code, format string, args ...interface{}) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "valkeyaddon: " + e.Code.String()
	}
	return "valkeyaddon: " + e.Message
}

// Is makes errors.Is(err, ErrNotFound) (and every other sentinel) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.cause == nil && t.Code == e.Code
}

// Unwrap returns the Go callback's own error behind this failure, if any.
func (e *Error) Unwrap() error { return e.cause }

// PanicError is what a Go transport or storage callback that panicked turns
// into: the library sees CodeError and a message; the Go caller can
// errors.As the returned error to a *PanicError.
type PanicError struct {
	Value interface{} // what was passed to panic
	Stack []byte      // the panicking goroutine's stack
}

func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// codeOf chooses the code the library sees for a Go callback's error: an
// *Error's own code, else fallback.
func codeOf(err error, fallback Code) Code {
	var e *Error
	if errors.As(err, &e) && e.Code < 0 {
		return e.Code
	}
	return fallback
}
