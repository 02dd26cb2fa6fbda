package valkeyaddon

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

// AddonType is the addon_type this library provisions.
const AddonType = C.VALKEYADDON_ADDON_TYPE

// Row is one record of the `app_addons` table (valkeyaddon_addon_row), keyed
// by (AppID, AddonType).
type Row struct {
	AppID         string
	AddonType     string // "valkey"
	TenantID      string
	Plan          string // the plan actually used (after any fall-back)
	Status        Status
	StatusMessage string // for the operator; never a secret
	ResourceName  string // the StatefulSet name
	Namespace     string
	CreatedAt     time.Time // set once by the storage
	UpdatedAt     time.Time // set by the storage on every write
}

// StatusInfo is an add-on's live status (valkeyaddon_status_info).
type StatusInfo struct {
	Status             Status
	RolloutComplete    bool // the controller caught up with the latest spec
	Desired            int32
	Ready              int32
	Updated            int32
	Generation         int64
	ObservedGeneration int64
	Message            string // what an operator should know or do; never a secret
}

// EnsureResult is what EnsureValkey did (valkeyaddon_ensure_result).
type EnsureResult struct {
	Name            string // StatefulSet and ClusterIP Service
	AuthSecret      string
	Plan            string
	FellBack        bool // the plan was unknown: "free" for a new add-on, else PlanKept
	PasswordCreated bool // this call created the auth Secret
	ObjectsWritten  int32
	PlanKept        bool // the plan was unknown and the existing add-on kept Plan
	PasswordRollout bool // a re-created auth Secret: the pods roll to the new password
}

func str(p *C.char) string { return C.GoString(p) }

func millis(ms C.int64_t) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}

func rowFromC(r *C.valkeyaddon_addon_row) Row {
	return Row{
		AppID:         str(&r.app_id[0]),
		AddonType:     str(&r.addon_type[0]),
		TenantID:      str(&r.tenant_id[0]),
		Plan:          str(&r.plan[0]),
		Status:        Status(r.status),
		StatusMessage: str(&r.status_message[0]),
		ResourceName:  str(&r.resource_name[0]),
		Namespace:     str(&r.namespace_[0]),
		CreatedAt:     millis(r.created_at),
		UpdatedAt:     millis(r.updated_at),
	}
}

// setChars copies s with its NUL into a fixed C array; a string that does
// not fit (or holds a NUL) is an error, never silently cut, except for
// cut (the status message, which the C storages cut too).
func setChars(dst []C.char, field, s string, cut bool) error {
	if len(s) >= len(dst) {
		if !cut {
			return fmt.Errorf("%s: %d bytes do not fit in %d", field, len(s), len(dst)-1)
		}
		s = s[:len(dst)-1]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%s: must not contain a NUL byte", field)
		}
		dst[i] = C.char(s[i])
	}
	dst[len(s)] = 0
	return nil
}

func rowToC(r Row, out *C.valkeyaddon_addon_row) error {
	*out = C.valkeyaddon_addon_row{}
	out.version = C.VALKEYADDON_ADDON_ROW_VERSION
	for _, f := range []struct {
		dst   []C.char
		name  string
		value string
		cut   bool
	}{
		{out.app_id[:], "app_id", r.AppID, false},
		{out.addon_type[:], "addon_type", r.AddonType, false},
		{out.tenant_id[:], "tenant_id", r.TenantID, false},
		{out.plan[:], "plan", r.Plan, false},
		{out.status_message[:], "status_message", r.StatusMessage, true},
		{out.resource_name[:], "resource_name", r.ResourceName, false},
		{out.namespace_[:], "namespace", r.Namespace, false},
	} {
		if err := setChars(f.dst, f.name, f.value, f.cut); err != nil {
			return err
		}
	}
	out.status = C.int(r.Status)
	if !r.CreatedAt.IsZero() {
		out.created_at = C.int64_t(r.CreatedAt.UnixMilli())
	}
	if !r.UpdatedAt.IsZero() {
		out.updated_at = C.int64_t(r.UpdatedAt.UnixMilli())
	}
	return nil
}

func statusInfoFromC(i *C.valkeyaddon_status_info) StatusInfo {
	return StatusInfo{
		Status:             Status(i.status),
		RolloutComplete:    i.rollout_complete != 0,
		Desired:            int32(i.desired),
		Ready:              int32(i.ready),
		Updated:            int32(i.updated),
		Generation:         int64(i.generation),
		ObservedGeneration: int64(i.observed_generation),
		Message:            str(&i.message[0]),
	}
}

func ensureResultFromC(e *C.valkeyaddon_ensure_result) EnsureResult {
	return EnsureResult{
		Name:            str(&e.name[0]),
		AuthSecret:      str(&e.auth_secret[0]),
		Plan:            str(&e.plan[0]),
		FellBack:        e.fell_back != 0,
		PasswordCreated: e.password_created != 0,
		ObjectsWritten:  int32(e.objects_written),
		PlanKept:        e.plan_kept != 0,
		PasswordRollout: e.password_rollout != 0,
	}
}

func bytesOf(p *C.char, n C.size_t) []byte {
	if p == nil || n == 0 {
		return []byte{}
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}
