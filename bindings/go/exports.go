package valkeyaddon

// The Go functions the C side calls: vtable members of Go transports and
// storages, and the log, progress and row callbacks. cgo allows only
// declarations in the preamble of a file with //export, so the C half of each
// trampoline lives in shim.c.
//
// Every trampoline recovers panics: a Go panic must never unwind through C
// frames. A panic or an error becomes a negative code and a message on the
// context (valkeyaddon_ctx_set_error), and the Go caller gets it back as an
// *Error that unwraps to the callback's own error (or *PanicError).

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"sort"
	"time"
	"unsafe"
)

// guard runs fn and turns a panic into a *PanicError.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// report records err on the context and returns the code for C.
func report(ctx *C.valkeyaddon_ctx, calls *callState, who, what string, err error, fallback Code) C.int {
	code := codeOf(err, fallback)
	var msg string
	var p *PanicError
	var e *Error
	switch {
	case errors.As(err, &p):
		msg = fmt.Sprintf("%s: %s panicked: %v (a bug in the Go %s)", what, who, p.Value, who)
	case errors.As(err, &e) && e.Message != "":
		msg = what + ": " + e.Message
	case errors.As(err, &e):
		msg = what + ": " + e.Code.String()
	default:
		msg = what + ": " + err.Error()
	}
	if calls != nil {
		calls.err, calls.code = err, code
	}
	cmsg := C.CString(msg)
	defer C.free(unsafe.Pointer(cmsg))
	return C.valkeyaddon_ctx_set_error(ctx, C.int(code), cmsg)
}

func transportOf(h C.uintptr_t) *transportAdapter {
	return cgo.Handle(h).Value().(*transportAdapter)
}

func storageOf(h C.uintptr_t) *storageAdapter {
	return cgo.Handle(h).Value().(*storageAdapter)
}

func describe(verb string, r Resource, namespace, name string) string {
	return fmt.Sprintf("%s %s %s/%s", verb, r.Kind, namespace, name)
}

// setBuffer copies b into a library buffer (b may hold a Secret: the buffer
// wipes it when freed).
func setBuffer(out *C.valkeyaddon_buffer, b []byte) C.int {
	if out == nil {
		return 0
	}
	if len(b) == 0 {
		return C.valkeyaddon_buffer_set(out, nil, 0)
	}
	return C.valkeyaddon_buffer_set(out, (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b)))
}

// transportCall runs one transport member: find the adapter, call, report.
func transportCall(h C.uintptr_t, ctx *C.valkeyaddon_ctx, what func() string,
	call func(t Transport) ([]byte, error), out *C.valkeyaddon_buffer) C.int {
	var a *transportAdapter
	var body []byte
	err := guard(func() error {
		a = transportOf(h)
		var err error
		body, err = call(a.impl)
		return err
	})
	var calls *callState
	if a != nil {
		calls = a.calls
	}
	if err != nil {
		return report(ctx, calls, "transport", what(), err, CodeError)
	}
	if body != nil {
		if rc := setBuffer(out, body); rc < 0 {
			return report(ctx, calls, "transport", what(), &Error{Code: Code(rc), Message: "out of memory"}, CodeError)
		}
	}
	return 0
}

//export goTransportGet
func goTransportGet(h C.uintptr_t, out *C.valkeyaddon_buffer, ctx *C.valkeyaddon_ctx, r *C.valkeyaddon_resource,
	ns, name *C.char) C.int {
	res, namespace, n := resourceFromC(r), C.GoString(ns), C.GoString(name)
	return transportCall(h, ctx, func() string { return describe("get", res, namespace, n) },
		func(t Transport) ([]byte, error) {
			b, err := t.Get(res, namespace, n)
			if err == nil && b == nil {
				b = []byte{}
			}
			return b, err
		}, out)
}

//export goTransportCreate
func goTransportCreate(h C.uintptr_t, out *C.valkeyaddon_buffer, ctx *C.valkeyaddon_ctx, r *C.valkeyaddon_resource,
	ns, json *C.char, n C.size_t) C.int {
	res, namespace, body := resourceFromC(r), C.GoString(ns), bytesOf(json, n)
	return transportCall(h, ctx, func() string { return describe("create", res, namespace, "") },
		func(t Transport) ([]byte, error) { return t.Create(res, namespace, body) }, out)
}

//export goTransportApply
func goTransportApply(h C.uintptr_t, out *C.valkeyaddon_buffer, ctx *C.valkeyaddon_ctx, r *C.valkeyaddon_resource,
	ns, name, json *C.char, n C.size_t, manager *C.char, force C.int) C.int {
	res, namespace, nm, body, fm := resourceFromC(r), C.GoString(ns), C.GoString(name), bytesOf(json, n),
		C.GoString(manager)
	return transportCall(h, ctx, func() string { return describe("apply", res, namespace, nm) },
		func(t Transport) ([]byte, error) { return t.Apply(res, namespace, nm, body, fm, force != 0) }, out)
}

//export goTransportRemove
func goTransportRemove(h C.uintptr_t, ctx *C.valkeyaddon_ctx, r *C.valkeyaddon_resource, ns, name *C.char,
	flags C.uint) C.int {
	res, namespace, nm := resourceFromC(r), C.GoString(ns), C.GoString(name)
	opts := RemoveOptions{Orphan: flags&C.VALKEYADDON_REMOVE_ORPHAN != 0}
	return transportCall(h, ctx, func() string { return describe("delete", res, namespace, nm) },
		func(t Transport) ([]byte, error) { return nil, t.Remove(res, namespace, nm, opts) }, nil)
}

// watchEnd carries the library callback's own non-zero result back out of
// the Go Watch method: positive stops the watch successfully, negative
// aborts it with an error already described on the context.
type watchEnd struct{ rc C.int }

func (w *watchEnd) Error() string { return fmt.Sprintf("watch ended by its callback (%d)", int(w.rc)) }

//export goTransportWatch
func goTransportWatch(h C.uintptr_t, ctx *C.valkeyaddon_ctx, r *C.valkeyaddon_resource, ns, name, rv *C.char,
	timeoutMS C.long, cb C.valkeyaddon_watch_cb, payload unsafe.Pointer) C.int {
	res, namespace, nm, version := resourceFromC(r), C.GoString(ns), C.GoString(name), C.GoString(rv)
	fn := func(event WatchEvent, object []byte) error {
		// The library parses the object as a C string: hand it a NUL-terminated copy.
		buf := make([]byte, len(object)+1)
		copy(buf, object)
		if rc := C.vgo_call_watch(cb, C.int(event), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(object)),
			payload); rc != 0 {
			return &watchEnd{rc: rc}
		}
		return nil
	}
	var a *transportAdapter
	err := guard(func() error {
		a = transportOf(h)
		w, ok := a.impl.(Watcher)
		if !ok {
			return &Error{Code: CodeNotSupported, Message: "the Go transport has no Watch method"}
		}
		return w.Watch(res, namespace, nm, version, time.Duration(timeoutMS)*time.Millisecond, fn)
	})
	var end *watchEnd
	switch {
	case errors.As(err, &end):
		return end.rc
	case err == nil || errors.Is(err, ErrTimeout):
		return C.valkeyaddon_ctx_set_error(ctx, C.VALKEYADDON_ETIMEOUT, nil)
	}
	var calls *callState
	if a != nil {
		calls = a.calls
	}
	return report(ctx, calls, "transport", describe("watch", res, namespace, nm), err, CodeError)
}

//export goTransportAddress
func goTransportAddress(h C.uintptr_t, host *C.valkeyaddon_buffer, port *C.int32_t, ctx *C.valkeyaddon_ctx,
	ns, service *C.char) C.int {
	namespace, svc := C.GoString(ns), C.GoString(service)
	var a *transportAdapter
	var hostname string
	var p int
	err := guard(func() error {
		a = transportOf(h)
		ad, ok := a.impl.(Addresser)
		if !ok {
			return &Error{Code: CodeNotSupported, Message: "the Go transport has no Address method"}
		}
		var err error
		hostname, p, err = ad.Address(namespace, svc)
		if err == nil && (p < 1 || p > 65535 || hostname == "") {
			err = &Error{Code: CodeInvalid, Message: fmt.Sprintf("Address returned %q port %d: want a host and a port from 1 to 65535", hostname, p)}
		}
		return err
	})
	var calls *callState
	if a != nil {
		calls = a.calls
	}
	what := "address of Service " + namespace + "/" + svc
	if err != nil {
		return report(ctx, calls, "transport", what, err, CodeError)
	}
	if rc := setBuffer(host, []byte(hostname)); rc < 0 {
		return report(ctx, calls, "transport", what, &Error{Code: Code(rc), Message: "out of memory"}, CodeError)
	}
	*port = C.int32_t(p)
	return 0
}

//export goHandleDelete
func goHandleDelete(h C.uintptr_t) {
	// Called from C while the context frees a plugin: never let a panic escape.
	_ = guard(func() error { cgo.Handle(h).Delete(); return nil })
}

// storageCall runs one storage member: find the adapter, call, report.
func storageCall(h C.uintptr_t, ctx *C.valkeyaddon_ctx, what string, call func(s Storage) error) C.int {
	var a *storageAdapter
	err := guard(func() error {
		a = storageOf(h)
		return call(a.impl)
	})
	if err == nil {
		return 0
	}
	var calls *callState
	if a != nil {
		calls = a.calls
	}
	return report(ctx, calls, "storage", what, err, CodeStorage)
}

func rowKey(app, typ *C.char) (string, string, string) {
	a, t := C.GoString(app), C.GoString(typ)
	return a, t, a + "/" + t
}

// storedRow copies a row the Go storage returned into the library's struct.
func storedRow(r Row, out *C.valkeyaddon_addon_row) error {
	if out == nil {
		return nil
	}
	if err := rowToC(r, out); err != nil {
		return &Error{Code: CodeStorage, Message: "the Go storage returned a row that does not fit: " + err.Error()}
	}
	return nil
}

//export goStorageMigrate
func goStorageMigrate(h C.uintptr_t, ctx *C.valkeyaddon_ctx) C.int {
	return storageCall(h, ctx, "storage migrate", func(s Storage) error { return s.Migrate() })
}

//export goStorageUpsert
func goStorageUpsert(h C.uintptr_t, out *C.valkeyaddon_addon_row, ctx *C.valkeyaddon_ctx,
	row *C.valkeyaddon_addon_row) C.int {
	in := rowFromC(row)
	return storageCall(h, ctx, "storage upsert "+in.AppID+"/"+in.AddonType, func(s Storage) error {
		stored, err := s.Upsert(in)
		if err != nil {
			return err
		}
		return storedRow(stored, out)
	})
}

//export goStorageGet
func goStorageGet(h C.uintptr_t, out *C.valkeyaddon_addon_row, ctx *C.valkeyaddon_ctx, app, typ *C.char) C.int {
	appID, addonType, key := rowKey(app, typ)
	return storageCall(h, ctx, "storage get "+key, func(s Storage) error {
		r, err := s.Get(appID, addonType)
		if err != nil {
			return err
		}
		return storedRow(r, out)
	})
}

//export goStorageSetStatus
func goStorageSetStatus(h C.uintptr_t, ctx *C.valkeyaddon_ctx, app, typ *C.char, status C.int, msg *C.char) C.int {
	appID, addonType, key := rowKey(app, typ)
	message := ""
	if msg != nil {
		message = C.GoString(msg)
	}
	return storageCall(h, ctx, "storage set_status "+key, func(s Storage) error {
		return s.SetStatus(appID, addonType, Status(status), message)
	})
}

//export goStorageRemove
func goStorageRemove(h C.uintptr_t, ctx *C.valkeyaddon_ctx, app, typ *C.char) C.int {
	appID, addonType, key := rowKey(app, typ)
	return storageCall(h, ctx, "storage remove "+key, func(s Storage) error { return s.Remove(appID, addonType) })
}

//export goStorageList
func goStorageList(h C.uintptr_t, ctx *C.valkeyaddon_ctx, app *C.char, cb C.valkeyaddon_row_cb,
	payload unsafe.Pointer) C.int {
	appID := ""
	if app != nil {
		appID = C.GoString(app)
	}
	var stop C.int
	rc := storageCall(h, ctx, "storage list "+appID, func(s Storage) error {
		rows, err := s.List(appID)
		if err != nil {
			return err
		}
		// The contract is (app_id, addon_type) order; do not rely on every Go storage keeping it.
		sort.SliceStable(rows, func(i, j int) bool {
			if rows[i].AppID != rows[j].AppID {
				return rows[i].AppID < rows[j].AppID
			}
			return rows[i].AddonType < rows[j].AddonType
		})
		for _, r := range rows {
			var cr C.valkeyaddon_addon_row
			if err := storedRow(r, &cr); err != nil {
				return err
			}
			if rc := C.vgo_call_row(cb, &cr, payload); rc != 0 {
				stop = rc
				return nil
			}
		}
		return nil
	})
	if rc == 0 {
		return stop
	}
	return rc
}

//export goLog
func goLog(h C.uintptr_t, level C.int, message *C.char) {
	msg := C.GoString(message)
	// A panicking LogFunc loses its line; it must not take the call down with it.
	_ = guard(func() error {
		cgo.Handle(h).Value().(LogFunc)(LogLevel(level), msg)
		return nil
	})
}

//export goProgress
func goProgress(h C.uintptr_t, info *C.valkeyaddon_status_info) C.int {
	si := statusInfoFromC(info)
	var p *progressState
	err := guard(func() error {
		p = cgo.Handle(h).Value().(*progressState)
		return p.fn(si)
	})
	if err == nil {
		return 0
	}
	if p != nil {
		p.err = err
	}
	// Not 1: to the waiter that means Ready. Any other positive value stops the wait.
	return 2
}

//export goRow
func goRow(h C.uintptr_t, row *C.valkeyaddon_addon_row) C.int {
	r := rowFromC(row)
	err := guard(func() error {
		col := cgo.Handle(h).Value().(*rowCollector)
		col.rows = append(col.rows, r)
		return nil
	})
	if err != nil {
		return C.VALKEYADDON_ERROR
	}
	return 0
}
