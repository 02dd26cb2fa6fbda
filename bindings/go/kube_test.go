package valkeyaddon_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"valkeyaddon"
)

var (
	secrets      = valkeyaddon.Resource{APIVersion: "v1", Kind: "Secret", Plural: "secrets", Namespaced: true}
	statefulSets = valkeyaddon.Resource{APIVersion: "apps/v1", Kind: "StatefulSet", Plural: "statefulsets", Namespaced: true}
	services     = valkeyaddon.Resource{APIVersion: "v1", Kind: "Service", Plural: "services", Namespaced: true}
)

func goTransport(t *testing.T, watch bool) (valkeyaddon.Transport, *httpTransport) {
	t.Helper()
	h, err := newHTTPTransport(kube(t))
	if err != nil {
		t.Fatal(err)
	}
	if watch {
		return watchingTransport{h}, h
	}
	return h, h
}

// countSecrets lists the namespace's Secrets and counts those named name.
func countSecrets(t *testing.T, h *httpTransport, ns, name string) int {
	t.Helper()
	body, err := h.roundTrip("GET", secrets, h.path(secrets, ns, ""), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range list.Items {
		if it.Metadata.Name == name {
			n++
		}
	}
	return n
}

// The acceptance test: a transport written in Go (net/http) carries the
// whole provision flow against the Kubernetes API test server, with a Go
// storage; repeat and deprovision behave as with the C transport.
func TestGoTransportProvisionsAgainstKubeAPI(t *testing.T) {
	tr, h := goTransport(t, true)
	store := newMapStorage()
	c := newContext(t)
	if err := c.SetTransport(tr); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStorage(store); err != nil {
		t.Fatal(err)
	}
	const ns, tenant, app = "go-accept", "acme", "web"
	names, err := valkeyaddon.Names(tenant, app)
	if err != nil {
		t.Fatal(err)
	}
	var seen []valkeyaddon.StatusInfo
	opts := valkeyaddon.ProvisionOptions{Namespace: ns, TenantID: tenant, AppID: app, Plan: "standard",
		Timeout: 30 * time.Second, Progress: func(i valkeyaddon.StatusInfo) error { seen = append(seen, i); return nil }}
	res, err := c.Provision(opts)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if res.Row.Status != valkeyaddon.StatusReady || res.Row.Plan != "standard" || !res.Ensured.PasswordCreated ||
		res.Ensured.Name != names.StatefulSet || res.Row.ResourceName != names.StatefulSet {
		t.Fatalf("Provision = %+v", res)
	}
	if len(seen) == 0 || seen[len(seen)-1].Status != valkeyaddon.StatusReady {
		t.Errorf("progress saw %+v", seen)
	}
	if h.calls["PATCH statefulsets"] == 0 || h.calls["GET statefulsets"] == 0 {
		t.Errorf("the Go transport was not used for apply and watch: %v", h.calls)
	}
	if row, err := store.Get(app, valkeyaddon.AddonType); err != nil || row.Status != valkeyaddon.StatusReady {
		t.Errorf("the Go storage holds %+v, %v", row, err)
	}
	if n := countSecrets(t, h, ns, names.AuthSecret); n != 1 {
		t.Errorf("%d auth Secrets, want 1", n)
	}
	url1, err := c.RedisURL(ns, tenant, app)
	if err != nil || !strings.HasPrefix(url1, "redis://") {
		t.Fatalf("RedisURL: %v (the URL itself is not printed)", err)
	}

	// Again: converges, keeps the password, creates no second Secret.
	opts.Progress = nil
	res, err = c.Provision(opts)
	if err != nil || res.Row.Status != valkeyaddon.StatusReady || res.Ensured.PasswordCreated {
		t.Fatalf("repeat Provision = %+v, %v", res, err)
	}
	if url2, err := c.RedisURL(ns, tenant, app); err != nil || url2 != url1 {
		t.Errorf("the repeat provision changed REDIS_URL (err %v; values not printed)", err)
	}
	if n := countSecrets(t, h, ns, names.AuthSecret); n != 1 {
		t.Errorf("%d auth Secrets after a repeat, want 1", n)
	}
	row, info, err := c.RefreshStatus(ns, tenant, app)
	if err != nil || row.Status != valkeyaddon.StatusReady || info.Ready != 1 || !info.RolloutComplete {
		t.Errorf("RefreshStatus = %+v, %+v, %v", row, info, err)
	}

	deleted, err := c.Deprovision(ns, tenant, app)
	if err != nil || deleted < 4 {
		t.Fatalf("Deprovision = %d, %v", deleted, err)
	}
	for _, o := range []struct {
		r    valkeyaddon.Resource
		name string
	}{{statefulSets, names.StatefulSet}, {secrets, names.AuthSecret}, {secrets, names.RedisURLSecret},
		{services, names.StatefulSet}} {
		if _, err := h.Get(o.r, ns, o.name); !errors.Is(err, valkeyaddon.ErrNotFound) {
			t.Errorf("%s %s after deprovision: %v", o.r.Kind, o.name, err)
		}
	}
	if _, err := store.Get(app, valkeyaddon.AddonType); err == nil {
		t.Error("the row survived deprovision")
	}
}

// The built-in C transport against the same server gives the same names and outcome.
func TestBuiltinKubernetesTransport(t *testing.T) {
	s := kube(t)
	c := newContext(t)
	ns, err := c.UseKubernetesTransport(valkeyaddon.KubernetesOptions{Kubeconfig: s.Kubeconfig,
		RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ns != "default" {
		t.Errorf("namespace %q, want default", ns)
	}
	if err := c.UseMemoryStorage(); err != nil {
		t.Fatal(err)
	}
	res, err := c.Provision(valkeyaddon.ProvisionOptions{Namespace: "go-builtin", TenantID: "acme", AppID: "web",
		Timeout: 30 * time.Second})
	if err != nil || res.Row.Status != valkeyaddon.StatusReady || res.Ensured.Name != "valkey-acme-web" {
		t.Fatalf("Provision = %+v, %v", res, err)
	}
	if _, err := c.Deprovision("go-builtin", "acme", "web"); err != nil {
		t.Fatal(err)
	}
}

// panicTransport panics in the middle of a provision (applying the StatefulSet).
type panicTransport struct{ valkeyaddon.Transport }

func (p panicTransport) Apply(r valkeyaddon.Resource, namespace, name string, object []byte, fieldManager string,
	force bool) ([]byte, error) {
	if r.Kind == "StatefulSet" {
		panic("transport bug")
	}
	return p.Transport.Apply(r, namespace, name, object, fieldManager, force)
}

func TestPanickingTransportIsAnError(t *testing.T) {
	tr, _ := goTransport(t, false)
	store := newMapStorage()
	c := newContext(t)
	if err := c.SetTransport(panicTransport{tr}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStorage(store); err != nil {
		t.Fatal(err)
	}
	opts := valkeyaddon.ProvisionOptions{Namespace: "go-panic", TenantID: "acme", AppID: "web",
		Timeout: 30 * time.Second}
	res, err := c.Provision(opts)
	var e *valkeyaddon.Error
	var p *valkeyaddon.PanicError
	if !errors.As(err, &e) || e.Code != valkeyaddon.CodeError || !strings.Contains(e.Message, "panicked") ||
		!strings.Contains(e.Message, "transport bug") {
		t.Fatalf("Provision with a panicking transport = %#v", err)
	}
	if !errors.As(err, &p) || p.Value != "transport bug" || len(p.Stack) == 0 {
		t.Errorf("the error does not unwrap to the *PanicError: %v", err)
	}
	if res.Row.Status != valkeyaddon.StatusFailed {
		t.Errorf("row after the panic: %+v", res.Row)
	}
	// The context is intact: with a sound transport the same flow converges.
	if err := c.SetTransport(tr); err != nil {
		t.Fatal(err)
	}
	if res, err = c.Provision(opts); err != nil || res.Row.Status != valkeyaddon.StatusReady {
		t.Fatalf("Provision after the panic = %+v, %v", res, err)
	}
	if _, err := c.Deprovision("go-panic", "acme", "web"); err != nil {
		t.Fatal(err)
	}
}

func TestWaitReadyProgressStops(t *testing.T) {
	tr, _ := goTransport(t, true)
	c := newContext(t)
	if err := c.SetTransport(tr); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureValkey("go-wait", "acme", "web", "free"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureRedisURLSecret("go-wait", "acme", "web"); err != nil {
		t.Fatal(err)
	}
	enough := errors.New("enough")
	calls := 0
	_, err := c.WaitReady("go-wait", "acme", "web", 30*time.Second, func(valkeyaddon.StatusInfo) error {
		calls++
		return enough
	})
	if err != enough || calls != 1 {
		t.Errorf("WaitReady with a stopping progress = %v after %d calls", err, calls)
	}
	// A panicking progress func stops the wait too, as an error.
	_, err = c.WaitReady("go-wait", "acme", "web", 30*time.Second, func(valkeyaddon.StatusInfo) error { panic("boom") })
	var p *valkeyaddon.PanicError
	if !errors.As(err, &p) {
		t.Errorf("WaitReady with a panicking progress = %v", err)
	}
	if info, err := c.WaitReady("go-wait", "acme", "web", 30*time.Second, nil); err != nil ||
		info.Status != valkeyaddon.StatusReady {
		t.Errorf("WaitReady = %+v, %v", info, err)
	}
	if _, err := c.Deprovision("go-wait", "acme", "web"); err != nil {
		t.Fatal(err)
	}
}

// Several Contexts provision concurrently from goroutines (one each, with
// their own Go transport and storage; half poll, half watch), while two
// goroutines share one more Context, which its mutex serializes.
func TestConcurrentContexts(t *testing.T) {
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n+2)
	for i := 0; i < n; i++ {
		tr, _ := goTransport(t, i%2 == 0)
		wg.Add(1)
		go func(i int, tr valkeyaddon.Transport) {
			defer wg.Done()
			errs <- func() error {
				c, err := valkeyaddon.NewContext()
				if err != nil {
					return err
				}
				defer c.Close()
				if err := c.SetTransport(tr); err != nil {
					return err
				}
				if err := c.SetStorage(newMapStorage()); err != nil {
					return err
				}
				app := fmt.Sprintf("app%d", i)
				res, err := c.Provision(valkeyaddon.ProvisionOptions{Namespace: "go-concurrent", TenantID: "acme",
					AppID: app, Plan: "pro", Timeout: 30 * time.Second})
				if err != nil {
					return fmt.Errorf("%s: %w", app, err)
				}
				if res.Row.Status != valkeyaddon.StatusReady {
					return fmt.Errorf("%s: %+v", app, res.Row)
				}
				_, err = c.Deprovision("go-concurrent", "acme", app)
				return err
			}()
		}(i, tr)
	}
	shared := newContext(t)
	if err := shared.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			errs <- func() error {
				for k := 0; k < 20; k++ {
					app := fmt.Sprintf("s%d-%d", g, k)
					if _, err := shared.EnsureValkey("shared", "acme", app, "free"); err != nil {
						return err
					}
					if _, err := shared.Status("shared", "acme", app); err != nil {
						return err
					}
				}
				return nil
			}()
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
