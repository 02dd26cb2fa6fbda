package valkeyaddon_test

import (
	"errors"
	"strings"
	"testing"

	"valkeyaddon"
)

// A Go storage carries the flow's rows: provision writes one, Addon and
// Addons read it, deprovision removes it.
func TestGoStorage(t *testing.T) {
	c := newContext(t)
	store := newMapStorage()
	if err := c.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStorage(store); err != nil {
		t.Fatal(err)
	}
	if err := c.MigrateStorage(); err != nil || store.migrated != 1 {
		t.Fatalf("MigrateStorage = %v, migrated %d", err, store.migrated)
	}
	for _, app := range []string{"web", "api"} {
		res, err := c.Provision(valkeyaddon.ProvisionOptions{Namespace: "ns", TenantID: "acme", AppID: app,
			Plan: "nonsense", NoWait: true})
		if err != nil {
			t.Fatalf("Provision %s: %v", app, err)
		}
		if res.Row.Status != valkeyaddon.StatusCreating || res.Row.Plan != "free" || res.Row.CreatedAt.IsZero() ||
			!res.Ensured.PasswordCreated || res.Ensured.Name != "valkey-acme-"+app {
			t.Errorf("Provision %s = %+v", app, res)
		}
	}
	row, err := c.Addon("web", "")
	if err != nil || row.AppID != "web" || row.AddonType != valkeyaddon.AddonType || row.Namespace != "ns" ||
		row.ResourceName != "valkey-acme-web" {
		t.Fatalf("Addon(web) = %+v, %v", row, err)
	}
	rows, err := c.Addons("")
	if err != nil || len(rows) != 2 || rows[0].AppID != "api" || rows[1].AppID != "web" {
		t.Fatalf("Addons() = %+v, %v", rows, err)
	}
	if rows, err = c.Addons("web"); err != nil || len(rows) != 1 {
		t.Fatalf("Addons(web) = %+v, %v", rows, err)
	}
	if _, err := c.Addon("nope", ""); !errors.Is(err, valkeyaddon.ErrNotFound) {
		t.Errorf("Addon(nope) = %v, want ErrNotFound", err)
	}
	deleted, err := c.Deprovision("ns", "acme", "web")
	if err != nil || deleted == 0 {
		t.Fatalf("Deprovision = %d, %v", deleted, err)
	}
	if _, err := store.Get("web", valkeyaddon.AddonType); err == nil {
		t.Error("the row survived deprovision")
	}
	if deleted, err = c.Deprovision("ns", "acme", "web"); err != nil || deleted != 0 {
		t.Errorf("second Deprovision = %d, %v", deleted, err)
	}
}

// A Go storage's error reaches the Go caller with its code, and unwraps to
// the storage's own error; a plain Go error becomes CodeStorage.
func TestGoStorageErrors(t *testing.T) {
	c := newContext(t)
	store := newMapStorage()
	down := errors.New("the store is down")
	store.failWith = down
	if err := c.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStorage(store); err != nil {
		t.Fatal(err)
	}
	_, err := c.Provision(valkeyaddon.ProvisionOptions{Namespace: "ns", TenantID: "acme", AppID: "web", NoWait: true})
	var e *valkeyaddon.Error
	if !errors.As(err, &e) || e.Code != valkeyaddon.CodeStorage || !strings.Contains(e.Message, "the store is down") {
		t.Fatalf("Provision with a failing store = %#v", err)
	}
	if !errors.Is(err, down) || !errors.Is(err, valkeyaddon.ErrStorage) {
		t.Errorf("the error does not unwrap to the storage's own: %v", err)
	}
	// Nothing reached the cluster: the row comes first.
	if _, err := c.Status("ns", "acme", "web"); !errors.Is(err, valkeyaddon.ErrNotFound) {
		t.Errorf("objects were written although the store failed: %v", err)
	}
	if err := c.SetStorage(nil); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("SetStorage(nil) = %v", err)
	}
	if err := c.SetTransport(nil); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("SetTransport(nil) = %v", err)
	}
}

// The built-in storages: memory, SQLite and open-by-URL.
func TestBuiltinStorages(t *testing.T) {
	c := newContext(t)
	if err := c.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	if err := c.UsePostgresStorage(valkeyaddon.PostgresOptions{}); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("UsePostgresStorage without ConnInfo = %v, want ErrInvalid", err)
	}
	db := t.TempDir() + "/addons.db"
	for _, use := range []func() error{
		func() error { return c.UseSQLiteStorage(db) },
		func() error { return c.OpenStorage("sqlite:" + db) },
		func() error { return c.OpenStorage("memory:") },
	} {
		if err := use(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Provision(valkeyaddon.ProvisionOptions{Namespace: "ns", TenantID: "acme", AppID: "web",
			NoWait: true}); err != nil {
			t.Fatal(err)
		}
		if row, err := c.Addon("web", ""); err != nil || row.Status != valkeyaddon.StatusCreating {
			t.Fatalf("Addon = %+v, %v", row, err)
		}
	}
	if err := c.OpenStorage("gopher://x"); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("OpenStorage(gopher://) = %v, want ErrInvalid", err)
	}
}

// Day-2 safety (1.1): a typo keeps the plan, a data-losing change needs
// AllowDataLoss, and DeprovisionWith reports what it kept.
func TestDayTwoSafety(t *testing.T) {
	c := newContext(t)
	if err := c.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStorage(newMapStorage()); err != nil {
		t.Fatal(err)
	}
	opts := valkeyaddon.ProvisionOptions{Namespace: "ns", TenantID: "acme", AppID: "web", Plan: "standard", NoWait: true}
	if _, err := c.Provision(opts); err != nil {
		t.Fatal(err)
	}
	opts.Plan = "standrad"
	res, err := c.Provision(opts)
	if err != nil || !res.Ensured.PlanKept || res.Ensured.Plan != "standard" || res.Row.Plan != "standard" {
		t.Fatalf("Provision(standrad) = %+v, %v", res, err)
	}
	opts.Plan = "free"
	if _, err := c.Provision(opts); !errors.Is(err, valkeyaddon.ErrDataLoss) {
		t.Fatalf("Provision(free) = %v, want ErrDataLoss", err)
	}
	opts.AllowDataLoss = true
	if res, err := c.Provision(opts); err != nil || res.Ensured.Plan != "free" {
		t.Fatalf("Provision(free, AllowDataLoss) = %+v, %v", res, err)
	}
	out, err := c.DeprovisionWith("ns", "acme", "web", true)
	if err != nil || out.Deleted == 0 || len(out.KeptClaims) != 0 {
		t.Fatalf("DeprovisionWith = %+v, %v", out, err)
	}
}
