package valkeyaddon_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"valkeyaddon"
)

// httpTransport is a Transport written in Go over net/http: what a Go
// service that already has its own Kubernetes client would plug in. It
// speaks to the API server's real paths and maps Status errors to codes as
// the C transport does.
type httpTransport struct {
	base   string
	token  string
	client *http.Client
	calls  map[string]int // "METHOD plural" -> count, for the tests
}

func newHTTPTransport(s *kubeServer) (*httpTransport, error) {
	ca, err := os.ReadFile(s.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("no certificate in the CA file")
	}
	return &httpTransport{
		base:  s.URL,
		token: s.Token,
		client: &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}},
		calls: map[string]int{},
	}, nil
}

func (h *httpTransport) path(r valkeyaddon.Resource, namespace, name string) string {
	prefix := "/api/" + r.APIVersion
	if strings.Contains(r.APIVersion, "/") {
		prefix = "/apis/" + r.APIVersion
	}
	p := prefix + "/namespaces/" + url.PathEscape(namespace) + "/" + r.Plural
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

func (h *httpTransport) do(ctx context.Context, method string, r valkeyaddon.Resource, path, query, contentType string,
	body []byte) (*http.Response, error) {
	h.calls[method+" "+r.Plural]++
	u := h.base + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, valkeyaddon.NewError(valkeyaddon.CodeUnavailable, "%s %s: %v", method, path, err)
	}
	return resp, nil
}

// roundTrip sends one request and returns the body of a 2xx answer.
func (h *httpTransport) roundTrip(method string, r valkeyaddon.Resource, path, query, contentType string,
	body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := h.do(ctx, method, r, path, query, contentType, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, valkeyaddon.NewError(valkeyaddon.CodeUnavailable, "%s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return out, nil
	}
	return nil, statusError(resp.StatusCode, out, method, r)
}

// statusError maps a metav1.Status answer to a code. Messages about Secrets
// are left out: the server may quote data in them.
func statusError(code int, body []byte, method string, r valkeyaddon.Resource) error {
	var st struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &st)
	c := valkeyaddon.CodeRejected
	switch {
	case code == 404:
		c = valkeyaddon.CodeNotFound
	case code == 409 && st.Reason == "AlreadyExists":
		c = valkeyaddon.CodeExists
	case code == 409:
		c = valkeyaddon.CodeConflict
	case code == 401:
		c = valkeyaddon.CodeUnauthorized
	case code == 403:
		c = valkeyaddon.CodeForbidden
	case code == 429:
		c = valkeyaddon.CodeThrottled
	case code >= 500:
		c = valkeyaddon.CodeServer
	}
	msg := st.Message
	if r.Kind == "Secret" {
		msg = ""
	}
	return valkeyaddon.NewError(c, "HTTP %d %s %s", code, st.Reason, msg)
}

func (h *httpTransport) Get(r valkeyaddon.Resource, namespace, name string) ([]byte, error) {
	return h.roundTrip("GET", r, h.path(r, namespace, name), "", "", nil)
}

func (h *httpTransport) Create(r valkeyaddon.Resource, namespace string, object []byte) ([]byte, error) {
	return h.roundTrip("POST", r, h.path(r, namespace, ""), "", "application/json", object)
}

func (h *httpTransport) Apply(r valkeyaddon.Resource, namespace, name string, object []byte, fieldManager string,
	force bool) ([]byte, error) {
	q := url.Values{"fieldManager": {fieldManager}}
	if force {
		q.Set("force", "true")
	}
	return h.roundTrip("PATCH", r, h.path(r, namespace, name), q.Encode(), "application/apply-patch+yaml", object)
}

func (h *httpTransport) Remove(r valkeyaddon.Resource, namespace, name string, opts valkeyaddon.RemoveOptions) error {
	policy := "Background"
	if opts.Orphan {
		policy = "Orphan"
	}
	_, err := h.roundTrip("DELETE", r, h.path(r, namespace, name), "propagationPolicy="+policy, "", nil)
	return err
}

// watchingTransport adds Watch (a streaming GET ?watch=true), so the library
// waits for Ready through events instead of polling.
type watchingTransport struct{ *httpTransport }

func (w watchingTransport) Watch(r valkeyaddon.Resource, namespace, name, resourceVersion string, timeout time.Duration,
	fn valkeyaddon.WatchFunc) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	q := url.Values{
		"watch":          {"true"},
		"fieldSelector":  {"metadata.name=" + name},
		"timeoutSeconds": {fmt.Sprint(int(timeout/time.Second) + 1)},
	}
	if resourceVersion != "" {
		q.Set("resourceVersion", resourceVersion)
	}
	resp, err := w.do(ctx, "GET", r, w.path(r, namespace, ""), q.Encode(), "", nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return statusError(resp.StatusCode, b, "WATCH", r)
	}
	events := map[string]valkeyaddon.WatchEvent{"ADDED": valkeyaddon.WatchAdded,
		"MODIFIED": valkeyaddon.WatchModified, "DELETED": valkeyaddon.WatchDeleted,
		"BOOKMARK": valkeyaddon.WatchBookmark}
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil // the timeout passed (or the server ended the stream at it)
			}
			return valkeyaddon.NewError(valkeyaddon.CodeUnavailable, "watch %s: %v", name, err)
		}
		if ev.Type == "ERROR" {
			return valkeyaddon.NewError(valkeyaddon.CodeConflict, "watch %s: the server ended it", name)
		}
		if err := fn(events[ev.Type], ev.Object); err != nil {
			return err
		}
	}
}
