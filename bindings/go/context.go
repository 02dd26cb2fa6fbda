package valkeyaddon

/*
#cgo pkg-config: libvalkeyaddon
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"
)

// LogLevel is a valkeyaddon_log_level: a context logs messages at or above
// its level's severity.
type LogLevel int

// Log levels, most severe first.
const (
	LogNone    LogLevel = C.VALKEYADDON_LOG_NONE
	LogError   LogLevel = C.VALKEYADDON_LOG_ERROR
	LogWarning LogLevel = C.VALKEYADDON_LOG_WARNING
	LogInfo    LogLevel = C.VALKEYADDON_LOG_INFO
	LogDebug   LogLevel = C.VALKEYADDON_LOG_DEBUG
)

// LogFunc receives the library's log lines. It runs on the goroutine that
// called into the library, while the Context is locked: it must not call
// methods of the same Context. No line ever carries a secret.
type LogFunc func(level LogLevel, message string)

// callState records, for the call in progress on a Context, the last error
// a Go transport or storage callback reported, so the Go caller can unwrap it.
type callState struct {
	err  error
	code Code
}

// Context is a library context (valkeyaddon_ctx) with its transport and
// storage.
//
// Goroutines: the C library allows one call at a time on a context. Each
// Context holds a mutex for the whole of every call, so concurrent use from
// several goroutines is safe but serialized; for parallelism use one Context
// per goroutine (contexts are independent). Callbacks (LogFunc, ProgressFunc,
// Go transports and storages) run while the Context is locked and must not
// call methods of the same Context: that would deadlock.
//
// The error message of a failure is read from the context before the lock is
// released, on the same goroutine, so it always belongs to that call.
type Context struct {
	mu        sync.Mutex
	ptr       *C.valkeyaddon_ctx
	logHandle cgo.Handle
	calls     *callState
}

// NewContext creates a context without transport or storage (add them with
// the Use* and Set* methods) and without logging (SetLog). Release it with Close.
func NewContext() (*Context, error) {
	var ptr *C.valkeyaddon_ctx
	if rc := C.vgo_ctx_new(&ptr, 0, 0); rc < 0 {
		return nil, &Error{Code: Code(rc), Message: "valkeyaddon_ctx_new failed"}
	}
	c := &Context{ptr: ptr, calls: &callState{}}
	// A forgotten Close must not leak the C context or the handles of its plugins.
	runtime.SetFinalizer(c, (*Context).Close)
	return c, nil
}

// Close releases the context, its transport and its storage (their Close
// is not called: Go plugins are simply dropped). Calling it again does nothing.
func (c *Context) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return nil
	}
	C.valkeyaddon_ctx_free(c.ptr)
	c.ptr = nil
	if c.logHandle != 0 {
		c.logHandle.Delete()
		c.logHandle = 0
	}
	runtime.SetFinalizer(c, nil)
	return nil
}

// SetLog sends the library's log lines at or above level to fn (nil stops logging).
func (c *Context) SetLog(level LogLevel, fn LogFunc) error {
	return c.do(func(ctx *C.valkeyaddon_ctx, _ *cstrings) C.int {
		var h cgo.Handle
		if fn != nil {
			h = cgo.NewHandle(fn)
		}
		rc := C.vgo_ctx_set_log(ctx, C.int(level), C.uintptr_t(h))
		if rc < 0 {
			if h != 0 {
				h.Delete()
			}
			return rc
		}
		if c.logHandle != 0 {
			c.logHandle.Delete()
		}
		c.logHandle = h
		return rc
	})
}

// do runs one library call with the context locked and turns a negative
// result into an *Error read from the context at once.
func (c *Context) do(call func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int) error {
	_, err := c.doRC(call)
	return err
}

func (c *Context) doRC(call func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return 0, &Error{Code: CodeInvalid, Message: "the Context is closed"}
	}
	var s cstrings
	defer s.free()
	c.calls.err, c.calls.code = nil, 0
	rc := call(c.ptr, &s)
	if rc < 0 {
		return int(rc), c.errorLocked(rc)
	}
	return int(rc), nil
}

func (c *Context) errorLocked(rc C.int) error {
	e := lastError(c.ptr, rc)
	if c.calls.err != nil && c.calls.code == e.Code {
		e.cause = c.calls.err
	}
	return e
}

// lastError reads the failure of the call that returned rc from ctx.
func lastError(ctx *C.valkeyaddon_ctx, rc C.int) *Error {
	e := &Error{Code: Code(rc)}
	if ctx != nil && C.valkeyaddon_ctx_error_code(ctx) == rc {
		e.Message = C.GoString(C.valkeyaddon_ctx_error_message(ctx))
	}
	return e
}

// oneShot runs a call that takes an optional context on a fresh one, so its
// error carries the library's message.
func oneShot(call func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int) (int, error) {
	var ctx *C.valkeyaddon_ctx
	if rc := C.valkeyaddon_ctx_new(&ctx, nil); rc < 0 {
		return 0, &Error{Code: Code(rc), Message: "valkeyaddon_ctx_new failed"}
	}
	defer C.valkeyaddon_ctx_free(ctx)
	var s cstrings
	defer s.free()
	rc := call(ctx, &s)
	if rc < 0 {
		return int(rc), lastError(ctx, rc)
	}
	return int(rc), nil
}

// checkArgs refuses strings with a NUL byte, which C would silently cut;
// pairs are (argument name, value). Methods call it before any C call.
func checkArgs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.IndexByte(pairs[i+1], 0) >= 0 {
			return &Error{Code: CodeInvalid, Message: pairs[i] + ": must not contain a NUL byte"}
		}
	}
	return nil
}

// cstrings converts Go strings for one call and frees them afterwards.
type cstrings struct {
	list []*C.char
}

func (s *cstrings) str(value string) *C.char {
	p := C.CString(value)
	s.list = append(s.list, p)
	return p
}

// opt is str, with "" meaning NULL (the library's default).
func (s *cstrings) opt(value string) *C.char {
	if value == "" {
		return nil
	}
	return s.str(value)
}

func (s *cstrings) free() {
	for _, p := range s.list {
		C.free(unsafe.Pointer(p))
	}
	s.list = nil
}
