package valkeyaddon

/*
#include "shim.h"
*/
import "C"

import (
	"runtime/cgo"
	"time"
)

// Resource describes the kind of object a transport call is about
// (valkeyaddon_resource): every kind is described generically, so later kinds
// need no new method.
type Resource struct {
	APIVersion string // "v1", "apps/v1", "policy/v1", ...
	Kind       string // "Secret", "StatefulSet", ...
	Plural     string // "secrets", "statefulsets", ... (the URL path segment)
	Namespaced bool
}

// RemoveOptions are the options of Transport.Remove.
type RemoveOptions struct {
	// Orphan leaves the object's dependents (a StatefulSet's pods and volume
	// claims) in place, as `propagationPolicy: Orphan` does.
	Orphan bool
}

// Transport is a transport written in Go: how the library reads and writes
// Kubernetes-like objects (valkeyaddon/sys/transport.h). Objects travel as
// JSON. Report "absent" with an error matching ErrNotFound (NewError(CodeNotFound,
// ...)), "already exists" with ErrExists, a field manager conflict with
// ErrConflict; any other error becomes CodeError unless it is an *Error.
// Error messages must never contain Secret data. Methods run on the
// goroutine that called into the Context, while it is locked: they must not
// call methods of the same Context.
type Transport interface {
	// Get returns the object; ErrNotFound when it is absent.
	Get(r Resource, namespace, name string) ([]byte, error)
	// Create creates an object that must not exist yet (the body names it)
	// and returns it as created (or nil).
	Create(r Resource, namespace string, object []byte) ([]byte, error)
	// Apply is server-side apply with fieldManager (force: take fields other
	// managers own) and returns the resulting object (or nil).
	Apply(r Resource, namespace, name string, object []byte, fieldManager string, force bool) ([]byte, error)
	// Remove deletes the object; ErrNotFound when it is absent.
	Remove(r Resource, namespace, name string, opts RemoveOptions) error
}

// WatchEvent is a watch event type, as the Kubernetes API names them.
type WatchEvent int

// Watch event types.
const (
	WatchAdded    WatchEvent = C.VALKEYADDON_WATCH_ADDED
	WatchModified WatchEvent = C.VALKEYADDON_WATCH_MODIFIED
	WatchDeleted  WatchEvent = C.VALKEYADDON_WATCH_DELETED
	WatchBookmark WatchEvent = C.VALKEYADDON_WATCH_BOOKMARK
)

func (e WatchEvent) String() string {
	switch e {
	case WatchAdded:
		return "ADDED"
	case WatchModified:
		return "MODIFIED"
	case WatchDeleted:
		return "DELETED"
	case WatchBookmark:
		return "BOOKMARK"
	}
	return "UNKNOWN"
}

// WatchFunc receives one watch event. A non-nil result ends the watch: the
// Watch method must then return that error as it is (wrapping is fine).
type WatchFunc func(event WatchEvent, object []byte) error

// Watcher is an optional Transport method: deliver the changes of one object
// after resourceVersion ("" for its current state first) until fn returns an
// error (return it) or timeout passes (return nil or ErrTimeout). Without it
// the library polls with Get once a second.
type Watcher interface {
	Watch(r Resource, namespace, name, resourceVersion string, timeout time.Duration, fn WatchFunc) error
}

// Addresser is an optional Transport method for transports that are not a
// Kubernetes cluster: where clients reach the add-on's Service (host, port).
// It must give the same answer for the same Service every time.
type Addresser interface {
	Address(namespace, service string) (host string, port int, err error)
}

// Storage is a storage written in Go: where the `app_addons` rows live
// (valkeyaddon/sys/storage.h). Report a missing row with ErrNotFound and a
// store failure with CodeStorage (NewError); messages must never contain a
// secret or a connection string. Methods run while the Context is locked.
type Storage interface {
	// Migrate creates the schema if it is missing (idempotent).
	Migrate() error
	// Upsert inserts the row or updates every other member of the row with
	// the same (AppID, AddonType), keeping CreatedAt and setting UpdatedAt,
	// and returns the row as stored.
	Upsert(row Row) (Row, error)
	// Get reads one row; ErrNotFound when there is none.
	Get(appID, addonType string) (Row, error)
	// SetStatus sets Status and StatusMessage (and UpdatedAt) of an existing
	// row; ErrNotFound when there is none (nothing is inserted).
	SetStatus(appID, addonType string, status Status, message string) error
	// Remove deletes one row; ErrNotFound when there was none.
	Remove(appID, addonType string) error
	// List returns the rows of one app, or of every app when appID is "".
	List(appID string) ([]Row, error)
}

// transportAdapter is what the vtable's user_data handle points to.
type transportAdapter struct {
	impl  Transport
	calls *callState
}

type storageAdapter struct {
	impl  Storage
	calls *callState
}

// SetTransport gives the context a transport written in Go. The context
// owns it from then on (it drops it when replaced or closed).
func (c *Context) SetTransport(t Transport) error {
	if t == nil {
		return &Error{Code: CodeInvalid, Message: "transport: must not be nil"}
	}
	_, watch := t.(Watcher)
	_, address := t.(Addresser)
	return c.do(func(ctx *C.valkeyaddon_ctx, _ *cstrings) C.int {
		h := cgo.NewHandle(&transportAdapter{impl: t, calls: c.calls})
		vt := C.vgo_transport_new(C.uintptr_t(h), cbool(watch), cbool(address))
		if vt == nil {
			h.Delete()
			return C.valkeyaddon_ctx_set_error(ctx, C.VALKEYADDON_ENOMEM, nil)
		}
		if rc := C.valkeyaddon_ctx_set_transport(ctx, vt); rc < 0 {
			C.vgo_transport_dispose(vt)
			h.Delete()
			return rc
		}
		return 0
	})
}

// SetStorage gives the context a storage written in Go. The context owns it
// from then on.
func (c *Context) SetStorage(s Storage) error {
	if s == nil {
		return &Error{Code: CodeInvalid, Message: "storage: must not be nil"}
	}
	return c.do(func(ctx *C.valkeyaddon_ctx, _ *cstrings) C.int {
		h := cgo.NewHandle(&storageAdapter{impl: s, calls: c.calls})
		vt := C.vgo_storage_new(C.uintptr_t(h))
		if vt == nil {
			h.Delete()
			return C.valkeyaddon_ctx_set_error(ctx, C.VALKEYADDON_ENOMEM, nil)
		}
		if rc := C.valkeyaddon_ctx_set_storage(ctx, vt); rc < 0 {
			C.vgo_storage_dispose(vt)
			h.Delete()
			return rc
		}
		return 0
	})
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func resourceFromC(r *C.valkeyaddon_resource) Resource {
	return Resource{
		APIVersion: C.GoString(r.api_version),
		Kind:       C.GoString(r.kind),
		Plural:     C.GoString(r.plural),
		Namespaced: r.namespaced != 0,
	}
}
