// Package valkeyaddon is the Go binding of libvalkeyaddon: the names, plans,
// statuses, Kubernetes objects and provision flow of a Valkey add-on per
// app, through the library's stable C ABI (cgo, `pkg-config libvalkeyaddon`).
// A Go service gets exactly what a C caller gets, and may plug in its own
// transport (Transport) and storage (Storage) written in Go.
//
// # Errors
//
// Every failure is an *Error with the library's Code and the context's
// message (never a secret). errors.Is(err, ErrNotFound) and the other
// sentinels match by code. When a Go transport or storage caused the failure,
// the *Error unwraps to that callback's own error, or to a *PanicError when
// it panicked: panics in callbacks are recovered, never crash the process.
//
// # Ownership
//
// A Context owns its transport and storage: the built-in ones are C objects
// it frees; a Go one is reached from C only through a runtime/cgo.Handle in a
// C-allocated vtable, which the context releases (deleting the handle) when
// the plugin is replaced or the Context closed. Close a Context when done (a
// finalizer frees a forgotten one).
//
// # Goroutines
//
// A Context serializes its calls with a mutex, as the C library requires
// (one call at a time per context); different Contexts run in parallel.
// Callbacks run on the calling goroutine while the Context is locked and
// must not call the same Context. Package-level functions are safe from any
// goroutine.
package valkeyaddon
