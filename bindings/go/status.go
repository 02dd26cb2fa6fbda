package valkeyaddon

/*
#include "shim.h"
*/
import "C"

// Status is an add-on's status (valkeyaddon_status). The zero value is no status.
type Status int

// The statuses of the spec.
const (
	StatusCreating Status = C.VALKEYADDON_STATUS_CREATING // no replica ready yet
	StatusReady    Status = C.VALKEYADDON_STATUS_READY    // every desired replica ready
	StatusFailed   Status = C.VALKEYADDON_STATUS_FAILED   // some but not all replicas ready
)

// String is the display name: "Creating", "Ready" or "Failed" ("" for any other value).
func (s Status) String() string {
	p := C.valkeyaddon_status_name(C.int(s))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// ParseValkeyStatus projects StatefulSet readiness (status.readyReplicas,
// spec.replicas) into a Status, as the spec's table says; a negative count
// is an ErrInvalid.
func ParseValkeyStatus(ready, desired int32) (Status, error) {
	rc := C.parse_valkey_status(C.int32_t(ready), C.int32_t(desired))
	if rc < 0 {
		return 0, &Error{Code: Code(rc), Message: "parse_valkey_status: replica counts must not be negative"}
	}
	return Status(rc), nil
}
