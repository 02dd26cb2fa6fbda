package valkeyaddon_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"valkeyaddon"
)

// memTransport is a minimal Go transport that is not a cluster: it answers
// Address, so the add-on's URL points where it says.
type memTransport struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func key(r valkeyaddon.Resource, ns, name string) string { return r.Kind + "/" + ns + "/" + name }

func nameOf(object []byte) string {
	// The library's JSON always carries "name" in metadata first; a real transport would decode it.
	s := string(object)
	i := strings.Index(s, `"name":"`)
	if i < 0 {
		return ""
	}
	s = s[i+8:]
	return s[:strings.IndexByte(s, '"')]
}

func (m *memTransport) Get(r valkeyaddon.Resource, ns, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.objects[key(r, ns, name)]; ok {
		return b, nil
	}
	return nil, valkeyaddon.NewError(valkeyaddon.CodeNotFound, "not found")
}

func (m *memTransport) Create(r valkeyaddon.Resource, ns string, object []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key(r, ns, nameOf(object))
	if _, ok := m.objects[k]; ok {
		return nil, valkeyaddon.NewError(valkeyaddon.CodeExists, "exists")
	}
	m.objects[k] = append([]byte(nil), object...)
	return object, nil
}

func (m *memTransport) Apply(r valkeyaddon.Resource, ns, name string, object []byte, _ string, _ bool) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key(r, ns, name)] = append([]byte(nil), object...)
	return nil, nil
}

func (m *memTransport) Remove(r valkeyaddon.Resource, ns, name string, _ valkeyaddon.RemoveOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key(r, ns, name)]; !ok {
		return valkeyaddon.NewError(valkeyaddon.CodeNotFound, "not found")
	}
	delete(m.objects, key(r, ns, name))
	return nil
}

func (m *memTransport) Address(ns, service string) (string, int, error) {
	if service == "" {
		return "", 0, errors.New("no service")
	}
	return "127.0.0.1", 16379, nil
}

func TestGoTransportAddress(t *testing.T) {
	c := newContext(t)
	m := &memTransport{objects: map[string][]byte{}}
	if err := c.SetTransport(m); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureValkey("ns", "acme", "web", "free"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureRedisURLSecret("ns", "acme", "web"); err != nil {
		t.Fatal(err)
	}
	url, err := c.RedisURL("ns", "acme", "web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(url, "@127.0.0.1:16379") && !strings.Contains(url, "@127.0.0.1:16379/") {
		t.Error("REDIS_URL does not point at the Go transport's address (the URL is not printed)")
	}
	// Without Watch the library polls; the memory objects never become Ready.
	if _, err := c.WaitReady("ns", "acme", "web", 0, nil); !errors.Is(err, valkeyaddon.ErrTimeout) {
		t.Errorf("WaitReady = %v, want ErrTimeout", err)
	}
}
