package valkeyaddon_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"valkeyaddon"
)

// The shared vectors (tests/vectors/vectors.json): the C test, the Python
// binding and this one check the same file, so they cannot drift.
type vectors struct {
	Names []struct {
		TenantID       string `json:"tenant_id"`
		AppID          string `json:"app_id"`
		Name           string `json:"name"`
		Shortened      bool   `json:"shortened"`
		AuthSecret     string `json:"auth_secret"`
		RedisURLSecret string `json:"redis_url_secret"`
	} `json:"names"`
	InvalidIDs []struct {
		TenantID string `json:"tenant_id"`
		AppID    string `json:"app_id"`
		Why      string `json:"why"`
	} `json:"invalid_ids"`
	Plans []struct {
		Requested        string `json:"requested"`
		Plan             string `json:"plan"`
		FellBack         bool   `json:"fell_back"`
		Replicas         int32  `json:"replicas"`
		MemoryLimit      string `json:"memory_limit"`
		MemoryLimitBytes int64  `json:"memory_limit_bytes"`
		Persistence      string `json:"persistence"`
		AppendOnly       bool   `json:"appendonly"`
		MaxmemoryPercent int32  `json:"maxmemory_percent"`
		MaxmemoryPolicy  string `json:"maxmemory_policy"`
		VolumeSize       string `json:"volume_size"`
	} `json:"plans"`
	Statuses []struct {
		Ready   int32  `json:"ready"`
		Desired int32  `json:"desired"`
		Status  string `json:"status"`
	} `json:"statuses"`
}

func loadVectors(t *testing.T) *vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(topSrcdir(), "tests", "vectors", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Names) == 0 || len(v.InvalidIDs) == 0 || len(v.Plans) == 0 || len(v.Statuses) == 0 {
		t.Fatal("vectors.json: a section is empty or missing")
	}
	return &v
}

func TestVectorsNames(t *testing.T) {
	for _, v := range loadVectors(t).Names {
		n, err := valkeyaddon.Names(v.TenantID, v.AppID)
		if err != nil {
			t.Fatalf("Names(%q, %q): %v", v.TenantID, v.AppID, err)
		}
		want := valkeyaddon.AddonNames{StatefulSet: v.Name, AuthSecret: v.AuthSecret,
			RedisURLSecret: v.RedisURLSecret, Shortened: v.Shortened}
		if n != want {
			t.Errorf("Names(%q, %q) = %+v, want %+v", v.TenantID, v.AppID, n, want)
		}
		if name, err := valkeyaddon.ValkeyName(v.TenantID, v.AppID); err != nil || name != v.Name {
			t.Errorf("ValkeyName(%q, %q) = %q, %v", v.TenantID, v.AppID, name, err)
		}
		if len(n.StatefulSet) > valkeyaddon.NameMax {
			t.Errorf("%q is longer than NameMax", n.StatefulSet)
		}
	}
}

func TestVectorsInvalidIDs(t *testing.T) {
	for _, v := range loadVectors(t).InvalidIDs {
		_, err := valkeyaddon.ValkeyName(v.TenantID, v.AppID)
		if !errors.Is(err, valkeyaddon.ErrInvalid) {
			t.Errorf("ValkeyName(%q, %q) (%s) = %v, want ErrInvalid", v.TenantID, v.AppID, v.Why, err)
			continue
		}
		var e *valkeyaddon.Error
		if !errors.As(err, &e) || e.Message == "" || e.Code != valkeyaddon.CodeInvalid {
			t.Errorf("ValkeyName(%q, %q): error %#v carries no message", v.TenantID, v.AppID, err)
		}
	}
}

func TestVectorsPlans(t *testing.T) {
	for _, v := range loadVectors(t).Plans {
		p, err := valkeyaddon.ValkeyPlanConfig(v.Requested)
		if err != nil {
			t.Fatalf("ValkeyPlanConfig(%q): %v", v.Requested, err)
		}
		got := [...]interface{}{p.Plan, p.FellBack, p.Replicas, p.MemoryLimit, p.MemoryLimitBytes, p.PersistenceName,
			p.AppendOnly, p.MaxmemoryPercent, p.MaxmemoryPolicy, p.VolumeSize}
		want := [...]interface{}{v.Plan, v.FellBack, v.Replicas, v.MemoryLimit, v.MemoryLimitBytes, v.Persistence,
			v.AppendOnly, v.MaxmemoryPercent, v.MaxmemoryPolicy, v.VolumeSize}
		if got != want {
			t.Errorf("ValkeyPlanConfig(%q) = %v, want %v", v.Requested, got, want)
		}
	}
	if got := valkeyaddon.Plans(); len(got) != 3 || got[0] != "free" || got[1] != "standard" || got[2] != "pro" {
		t.Errorf("Plans() = %v", got)
	}
}

func TestVectorsStatuses(t *testing.T) {
	for _, v := range loadVectors(t).Statuses {
		s, err := valkeyaddon.ParseValkeyStatus(v.Ready, v.Desired)
		if err != nil || s.String() != v.Status {
			t.Errorf("ParseValkeyStatus(%d, %d) = %v, %v, want %s", v.Ready, v.Desired, s, err, v.Status)
		}
	}
	if _, err := valkeyaddon.ParseValkeyStatus(-1, 1); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("ParseValkeyStatus(-1, 1) = %v, want ErrInvalid", err)
	}
	if valkeyaddon.Status(0).String() != "" || valkeyaddon.StatusReady.String() != "Ready" {
		t.Error("Status.String")
	}
}
