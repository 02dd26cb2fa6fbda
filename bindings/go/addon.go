package valkeyaddon

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"strings"
	"time"
)

// ProgressFunc is called as a wait sees the add-on's status change. Return
// nil to go on waiting; a non-nil error stops the wait, and the method that
// waited returns that error. It runs while the Context is locked.
type ProgressFunc func(StatusInfo) error

// ProvisionOptions are the arguments of Provision.
type ProvisionOptions struct {
	Namespace string // the tenant namespace; required
	TenantID  string // required
	AppID     string // required
	AddonType string // "" or "valkey"
	Plan      string // "": free; unknown: an existing add-on keeps its plan, a new one gets free (the row says so)
	NoWait    bool   // record `creating` once the objects are written and return
	Timeout   time.Duration
	Progress  ProgressFunc // may be nil
	// AllowDataLoss lets a plan change drop persistence or shrink the volume;
	// without it such a change is ErrDataLoss and nothing is written.
	AllowDataLoss bool
}

// ProvisionResult is what Provision recorded and did.
type ProvisionResult struct {
	Row     Row          // the row as last recorded (also on ErrTimeout and ErrAddonFailed)
	Ensured EnsureResult // what ensure_valkey did
}

// progressState carries a ProgressFunc through the C call as a cgo.Handle.
type progressState struct {
	fn  ProgressFunc
	err error
}

func (p *progressState) handle() (cgo.Handle, func()) {
	if p.fn == nil {
		return 0, func() {}
	}
	h := cgo.NewHandle(p)
	return h, h.Delete
}

func timeoutMS(d time.Duration) C.long {
	if d > 0 && d < time.Millisecond {
		return 1
	}
	return C.long(d / time.Millisecond)
}

func addonArgs(namespace, tenantID, appID string) error {
	return checkArgs("namespace", namespace, "tenant_id", tenantID, "app_id", appID)
}

// EnsureValkey ensures the add-on's objects (ensure_valkey): the auth Secret
// (created once, never rotated), the Services, the StatefulSet and the
// enabled extras, by server-side apply. Idempotent.
func (c *Context) EnsureValkey(namespace, tenantID, appID, plan string) (EnsureResult, error) {
	var res EnsureResult
	if err := checkArgs("namespace", namespace, "tenant_id", tenantID, "app_id", appID, "plan", plan); err != nil {
		return res, err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var out C.valkeyaddon_ensure_result
		out.version = C.VALKEYADDON_ENSURE_RESULT_VERSION
		rc := C.ensure_valkey(&out, ctx, s.str(namespace), s.str(tenantID), s.str(appID), s.str(plan))
		if rc >= 0 {
			res = ensureResultFromC(&out)
		}
		return rc
	})
	return res, err
}

// EnsureRedisURLSecret ensures the app-side Secret `app-{appID}-redis-url`
// (ensure_redis_url_secret): ErrNotFound when the auth Secret does not exist.
func (c *Context) EnsureRedisURLSecret(namespace, tenantID, appID string) error {
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return err
	}
	return c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		return C.ensure_redis_url_secret(ctx, s.str(namespace), s.str(tenantID), s.str(appID))
	})
}

// Provision runs the whole provision flow (valkeyaddon_provision) over the
// Context's transport and storage. It returns nil when the add-on is Ready
// (or, with NoWait, its objects are written); ErrTimeout or ErrAddonFailed at
// the deadline (the result still holds the row, which says `failed`); the
// ProgressFunc's error when it stopped the wait (the row stays `creating`).
func (c *Context) Provision(o ProvisionOptions) (ProvisionResult, error) {
	var res ProvisionResult
	if err := checkArgs("namespace", o.Namespace, "tenant_id", o.TenantID, "app_id", o.AppID,
		"addon_type", o.AddonType, "plan", o.Plan); err != nil {
		return res, err
	}
	if o.Timeout < 0 {
		return res, &Error{Code: CodeInvalid, Message: "Timeout: must not be negative"}
	}
	p := &progressState{fn: o.Progress}
	h, release := p.handle()
	defer release()
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var opts C.valkeyaddon_provision_options
		var row C.valkeyaddon_addon_row
		var ens C.valkeyaddon_ensure_result
		opts.version = C.VALKEYADDON_PROVISION_OPTIONS_VERSION
		opts.namespace_ = s.str(o.Namespace)
		opts.tenant_id = s.str(o.TenantID)
		opts.app_id = s.str(o.AppID)
		opts.addon_type = s.opt(o.AddonType)
		opts.plan = s.opt(o.Plan)
		if o.NoWait {
			opts.no_wait = 1
		}
		if o.AllowDataLoss {
			opts.allow_data_loss = 1
		}
		opts.timeout_ms = timeoutMS(o.Timeout)
		C.vgo_provision_set_progress(&opts, C.uintptr_t(h))
		row.version = C.VALKEYADDON_ADDON_ROW_VERSION
		ens.version = C.VALKEYADDON_ENSURE_RESULT_VERSION
		rc := C.valkeyaddon_provision(&row, &ens, ctx, &opts)
		res.Row = rowFromC(&row)
		res.Ensured = ensureResultFromC(&ens)
		return rc
	})
	if err == nil && p.err != nil {
		return res, p.err
	}
	return res, err
}

// RefreshStatus reads the add-on's status from the cluster and records it in
// its row (valkeyaddon_refresh_status): ErrNotFound when there is no row.
func (c *Context) RefreshStatus(namespace, tenantID, appID string) (Row, StatusInfo, error) {
	var row Row
	var info StatusInfo
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return row, info, err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var r C.valkeyaddon_addon_row
		var i C.valkeyaddon_status_info
		r.version = C.VALKEYADDON_ADDON_ROW_VERSION
		i.version = C.VALKEYADDON_STATUS_INFO_VERSION
		rc := C.valkeyaddon_refresh_status(&r, &i, ctx, s.str(namespace), s.str(tenantID), s.str(appID))
		if rc >= 0 {
			row, info = rowFromC(&r), statusInfoFromC(&i)
		}
		return rc
	})
	return row, info, err
}

// Deprovision deletes the add-on's objects and, when the Context has a
// storage, its row (valkeyaddon_deprovision); it reports how many objects this
// call deleted. Objects already gone count as deleted: calling it again succeeds.
func (c *Context) Deprovision(namespace, tenantID, appID string) (int, error) {
	var deleted C.int
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return 0, err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		return C.valkeyaddon_deprovision(&deleted, ctx, s.str(namespace), s.str(tenantID), s.str(appID))
	})
	return int(deleted), err
}

// DeprovisionResult is what DeprovisionWith deleted and kept.
type DeprovisionResult struct {
	Deleted       int      // objects deleted, volume claims included
	ClaimsDeleted int      // volume claims deleted
	KeptClaims    []string // volume claims left in place, labelled with the add-on's ids
}

// DeprovisionWith deletes the add-on (valkeyaddon_deprovision_with): every
// object must be this add-on's (else ErrConflict and nothing is deleted); the
// data volume claims are kept unless deleteData.
func (c *Context) DeprovisionWith(namespace, tenantID, appID string, deleteData bool) (DeprovisionResult, error) {
	var res DeprovisionResult
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return res, err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var opts C.valkeyaddon_deprovision_options
		var out C.valkeyaddon_deprovision_result
		opts.version = C.VALKEYADDON_DEPROVISION_OPTIONS_VERSION
		opts.namespace_ = s.str(namespace)
		opts.tenant_id = s.str(tenantID)
		opts.app_id = s.str(appID)
		if deleteData {
			opts.delete_data = 1
		}
		out.version = C.VALKEYADDON_DEPROVISION_RESULT_VERSION
		rc := C.valkeyaddon_deprovision_with(&out, ctx, &opts)
		if rc >= 0 {
			res.Deleted, res.ClaimsDeleted = int(out.deleted), int(out.claims_deleted)
			if kept := C.GoString(&out.kept_claims[0]); kept != "" {
				res.KeptClaims = strings.Split(kept, ",")
			}
		}
		return rc
	})
	return res, err
}

// RedisURL is the REDIS_URL the app receives (valkeyaddon_redis_url). It is a
// secret: never log it. (A Go string cannot be wiped; the C copy is.)
func (c *Context) RedisURL(namespace, tenantID, appID string) (string, error) {
	var url string
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return "", err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var buf *C.valkeyaddon_buffer
		if rc := C.valkeyaddon_buffer_new(&buf); rc < 0 {
			return rc
		}
		defer C.valkeyaddon_buffer_free(buf)
		rc := C.valkeyaddon_redis_url(buf, ctx, s.str(namespace), s.str(tenantID), s.str(appID))
		if rc >= 0 {
			var n C.size_t
			url = string(bytesOf(C.valkeyaddon_buffer_data(buf, &n), n))
		}
		return rc
	})
	return url, err
}

// Status reads the add-on's StatefulSet and reports its live status
// (valkeyaddon_addon_status): ErrNotFound when the add-on does not exist.
func (c *Context) Status(namespace, tenantID, appID string) (StatusInfo, error) {
	var info StatusInfo
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return info, err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var i C.valkeyaddon_status_info
		i.version = C.VALKEYADDON_STATUS_INFO_VERSION
		rc := C.valkeyaddon_addon_status(&i, ctx, s.str(namespace), s.str(tenantID), s.str(appID))
		if rc >= 0 {
			info = statusInfoFromC(&i)
		}
		return rc
	})
	return info, err
}

// WaitReady waits until the add-on is Ready (valkeyaddon_wait_ready), through
// the transport's watch when it has one. It returns the last status seen,
// and ErrTimeout at the deadline or progress's error when it stopped the wait.
func (c *Context) WaitReady(namespace, tenantID, appID string, timeout time.Duration,
	progress ProgressFunc) (StatusInfo, error) {
	var info StatusInfo
	if err := addonArgs(namespace, tenantID, appID); err != nil {
		return info, err
	}
	p := &progressState{fn: progress}
	h, release := p.handle()
	defer release()
	rc, err := c.doRC(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var i C.valkeyaddon_status_info
		i.version = C.VALKEYADDON_STATUS_INFO_VERSION
		rc := C.vgo_wait_ready(&i, ctx, s.str(namespace), s.str(tenantID), s.str(appID), timeoutMS(timeout),
			C.uintptr_t(h))
		info = statusInfoFromC(&i)
		return rc
	})
	if p.err != nil {
		return info, p.err
	}
	if err == nil && rc != 0 {
		return info, fmt.Errorf("valkeyaddon: wait ended with unexpected result %d", rc)
	}
	return info, err
}

// Addon reads the add-on's row from the Context's storage
// (valkeyaddon_addon_get); addonType "" means "valkey".
func (c *Context) Addon(appID, addonType string) (Row, error) {
	var row Row
	if err := checkArgs("app_id", appID, "addon_type", addonType); err != nil {
		return row, err
	}
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var r C.valkeyaddon_addon_row
		r.version = C.VALKEYADDON_ADDON_ROW_VERSION
		rc := C.valkeyaddon_addon_get(&r, ctx, s.str(appID), s.opt(addonType))
		if rc >= 0 {
			row = rowFromC(&r)
		}
		return rc
	})
	return row, err
}

// rowCollector gathers the rows of Addons through a cgo.Handle.
type rowCollector struct{ rows []Row }

// Addons lists the rows of one app, or of every app when appID is "", in
// (app_id, addon_type) order (valkeyaddon_addon_list).
func (c *Context) Addons(appID string) ([]Row, error) {
	if err := checkArgs("app_id", appID); err != nil {
		return nil, err
	}
	col := &rowCollector{}
	h := cgo.NewHandle(col)
	defer h.Delete()
	err := c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		return C.vgo_addon_list(ctx, s.opt(appID), C.uintptr_t(h))
	})
	return col.rows, err
}

// MigrateStorage creates the Context's storage schema if it is missing.
func (c *Context) MigrateStorage() error {
	return c.do(func(ctx *C.valkeyaddon_ctx, _ *cstrings) C.int {
		return C.valkeyaddon_storage_migrate(ctx)
	})
}

// ObjectOptions are the options of the add-on's Kubernetes objects
// (valkeyaddon_object_options); zero values mean the library's defaults.
type ObjectOptions struct {
	Image               string
	ExporterImage       string
	ClusterDomain       string
	StorageClass        string
	FieldManager        string // server-side apply field manager; "": "paas-control-plane"
	AppLabel            string
	MonitoringNamespace string
	NoExporter          bool
	PodDisruptionBudget bool
	NetworkPolicy       bool
	ServiceMonitor      bool
}

// SetObjectOptions sets the object options for every later call.
func (c *Context) SetObjectOptions(o ObjectOptions) error {
	if err := checkArgs("Image", o.Image, "ExporterImage", o.ExporterImage, "ClusterDomain", o.ClusterDomain,
		"StorageClass", o.StorageClass, "FieldManager", o.FieldManager, "AppLabel", o.AppLabel,
		"MonitoringNamespace", o.MonitoringNamespace); err != nil {
		return err
	}
	flag := func(b bool) C.int {
		if b {
			return 1
		}
		return 0
	}
	return c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var opts C.valkeyaddon_object_options
		opts.version = C.VALKEYADDON_OBJECT_OPTIONS_VERSION
		opts.image = s.opt(o.Image)
		opts.exporter_image = s.opt(o.ExporterImage)
		opts.cluster_domain = s.opt(o.ClusterDomain)
		opts.storage_class = s.opt(o.StorageClass)
		opts.field_manager = s.opt(o.FieldManager)
		opts.app_label = s.opt(o.AppLabel)
		opts.monitoring_namespace = s.opt(o.MonitoringNamespace)
		opts.no_exporter = flag(o.NoExporter)
		opts.pod_disruption_budget = flag(o.PodDisruptionBudget)
		opts.network_policy = flag(o.NetworkPolicy)
		opts.service_monitor = flag(o.ServiceMonitor)
		return C.valkeyaddon_ctx_set_object_options(ctx, &opts)
	})
}
