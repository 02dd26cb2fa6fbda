package valkeyaddon_test

import (
	"errors"
	"strings"
	"testing"

	"valkeyaddon"
)

func newContext(t *testing.T) *valkeyaddon.Context {
	t.Helper()
	c, err := valkeyaddon.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestErrorsCarryCodeAndMessage(t *testing.T) {
	_, err := valkeyaddon.ValkeyName("Bad_Tenant", "web")
	var e *valkeyaddon.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Code != valkeyaddon.CodeInvalid || !strings.Contains(e.Message, "tenant_id") {
		t.Errorf("got code %d message %q, want CodeInvalid naming tenant_id", e.Code, e.Message)
	}
	if !errors.Is(err, valkeyaddon.ErrInvalid) || errors.Is(err, valkeyaddon.ErrNotFound) {
		t.Error("errors.Is matches by code only")
	}
	if !strings.HasPrefix(err.Error(), "valkeyaddon: ") {
		t.Errorf("Error() = %q", err.Error())
	}
	if valkeyaddon.CodeNotFound.String() == "" || valkeyaddon.ErrTimeout.Error() == "" {
		t.Error("codes have descriptions")
	}
	if err := valkeyaddon.CheckID("app_id", "ok-id"); err != nil {
		t.Errorf("CheckID: %v", err)
	}
	if err := valkeyaddon.CheckID("app_id", "-bad"); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("CheckID(-bad) = %v", err)
	}
}

func TestContextErrors(t *testing.T) {
	c := newContext(t)
	// No transport: the library's EINVAL, with its message, read before the lock is released.
	_, err := c.EnsureValkey("ns", "acme", "web", "free")
	var e *valkeyaddon.Error
	if !errors.As(err, &e) || e.Code != valkeyaddon.CodeInvalid || e.Message == "" {
		t.Fatalf("EnsureValkey without transport = %#v", err)
	}
	// A NUL byte would be cut silently by C: refused before the call.
	if _, err := c.EnsureValkey("ns\x00x", "acme", "web", "free"); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("NUL in namespace = %v", err)
	}
	if err := c.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status("ns", "acme", "web"); !errors.Is(err, valkeyaddon.ErrNotFound) {
		t.Errorf("Status of a missing add-on = %v, want ErrNotFound", err)
	}
	if err := c.UseLocalTransport(valkeyaddon.LocalOptions{}); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("UseLocalTransport without StateDir = %v, want ErrInvalid", err)
	}
	if _, err := c.UseKubernetesTransport(valkeyaddon.KubernetesOptions{Kubeconfig: t.TempDir() + "/missing"}); err == nil {
		t.Error("UseKubernetesTransport with a missing kubeconfig succeeded")
	}
	c.Close()
	c.Close()
	if _, err := c.Status("ns", "acme", "web"); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("a closed Context = %v, want ErrInvalid", err)
	}
}

func TestLogCallback(t *testing.T) {
	c := newContext(t)
	var lines []string
	if err := c.SetLog(valkeyaddon.LogDebug, func(level valkeyaddon.LogLevel, msg string) {
		lines = append(lines, msg)
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.UseMemoryTransport(); err != nil {
		t.Fatal(err)
	}
	if err := c.UseMemoryStorage(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Provision(valkeyaddon.ProvisionOptions{Namespace: "ns", TenantID: "acme", AppID: "web",
		Plan: "Pro", NoWait: true}); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Error("no log line reached the LogFunc")
	}
	if err := c.SetLog(valkeyaddon.LogNone, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLog(valkeyaddon.LogLevel(99), func(valkeyaddon.LogLevel, string) {}); !errors.Is(err, valkeyaddon.ErrInvalid) {
		t.Errorf("SetLog(99) = %v", err)
	}
}

func TestVersion(t *testing.T) {
	if v := valkeyaddon.Version(); v == "" || v != valkeyaddon.HeaderVersion {
		t.Errorf("Version() = %q, headers %q", v, valkeyaddon.HeaderVersion)
	}
}
