package valkeyaddon

/*
#include "shim.h"
*/
import "C"

// Persistence is a plan's persistence mode.
type Persistence int

// Persistence modes, as the spec names them.
const (
	PersistenceNone     Persistence = C.VALKEYADDON_PERSISTENCE_NONE      // "none"
	PersistenceRDBDaily Persistence = C.VALKEYADDON_PERSISTENCE_RDB_DAILY // "rdb_daily"
	PersistenceRDBAOF   Persistence = C.VALKEYADDON_PERSISTENCE_RDB_AOF   // "rdb_aof"
)

// PlanConfig is what a plan gives an add-on (valkeyaddon_plan_config).
type PlanConfig struct {
	Plan               string // the plan used: "free", "standard" or "pro"
	FellBack           bool   // the plan asked for was unknown and "free" was used
	Replicas           int32
	MemoryLimitBytes   int64
	MemoryLimit        string // a Kubernetes quantity, e.g. "64Mi"
	MemoryRequestBytes int64
	MemoryRequest      string
	Persistence        Persistence
	PersistenceName    string // "none", "rdb_daily" or "rdb_aof"
	Save               string // the `save` directive; "" disables RDB snapshots
	AppendOnly         bool
	AppendFsync        string // "everysec" with AOF, "" without
	MaxmemoryPercent   int32  // maxmemory as a percentage of the memory limit
	MaxmemoryPolicy    string // "noeviction"
	CPURequestMillis   int32
	CPULimitMillis     int32
	VolumeSizeBytes    int64  // 0 when the plan has no volume
	VolumeSize         string // "" when the plan has no volume
}

// ValkeyPlanConfig is the configuration of a plan. An unknown plan
// (including "") gives the "free" plan with FellBack set, not an error.
func ValkeyPlanConfig(plan string) (PlanConfig, error) {
	var p PlanConfig
	if err := checkArgs("plan", plan); err != nil {
		return p, err
	}
	_, err := oneShot(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var c C.valkeyaddon_plan_config
		c.version = C.VALKEYADDON_PLAN_CONFIG_VERSION
		rc := C.valkey_plan_config(&c, ctx, s.str(plan))
		if rc < 0 {
			return rc
		}
		p = PlanConfig{
			Plan:               C.GoString(&c.plan[0]),
			FellBack:           c.fell_back != 0,
			Replicas:           int32(c.replicas),
			MemoryLimitBytes:   int64(c.memory_limit_bytes),
			MemoryLimit:        C.GoString(&c.memory_limit[0]),
			MemoryRequestBytes: int64(c.memory_request_bytes),
			MemoryRequest:      C.GoString(&c.memory_request[0]),
			Persistence:        Persistence(c.persistence),
			PersistenceName:    C.GoString(&c.persistence_name[0]),
			Save:               C.GoString(&c.save[0]),
			AppendOnly:         c.appendonly != 0,
			AppendFsync:        C.GoString(&c.appendfsync[0]),
			MaxmemoryPercent:   int32(c.maxmemory_percent),
			MaxmemoryPolicy:    C.GoString(&c.maxmemory_policy[0]),
			CPURequestMillis:   int32(c.cpu_request_millis),
			CPULimitMillis:     int32(c.cpu_limit_millis),
			VolumeSizeBytes:    int64(c.volume_size_bytes),
			VolumeSize:         C.GoString(&c.volume_size[0]),
		}
		return rc
	})
	return p, err
}

// Plans lists the plans the library knows, in the spec's order.
func Plans() []string {
	n := int(C.valkeyaddon_plan_count())
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, C.GoString(C.valkeyaddon_plan_name(C.size_t(i))))
	}
	return out
}
