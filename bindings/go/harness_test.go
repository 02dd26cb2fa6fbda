package valkeyaddon_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// topSrcdir is the source tree: make check exports top_srcdir (the module
// may run from a copy), and a plain `go test` in bindings/go finds it two up.
func topSrcdir() string {
	if d := os.Getenv("top_srcdir"); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join("..", ".."))
	return d
}

// kubeServer is one tests/support/kube_api_server.py for the whole test
// binary, started on first use and stopped by TestMain.
type kubeServer struct {
	URL        string `json:"url"`
	CA         string `json:"ca"`
	Token      string `json:"token"`
	Kubeconfig string `json:"kubeconfig"`
	cmd        *exec.Cmd
	dir        string
}

var (
	serverOnce sync.Once
	server     *kubeServer
	serverErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.stop()
	}
	os.Exit(code)
}

func kube(t *testing.T) *kubeServer {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = startKube() })
	if serverErr != nil {
		t.Fatalf("kube_api_server.py: %v", serverErr)
	}
	return server
}

func startKube() (*kubeServer, error) {
	dir, err := os.MkdirTemp("", "valkeyaddon-go-kube-")
	if err != nil {
		return nil, err
	}
	python := os.Getenv("PYTHON3")
	if python == "" {
		python = "python3"
	}
	cmd := exec.Command(python, filepath.Join(topSrcdir(), "tests", "support", "kube_api_server.py"),
		"--state-dir", dir, "--auto-ready", "0.05")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &kubeServer{cmd: cmd, dir: dir}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && !strings.HasPrefix(line, "READY https://127.0.0.1:") {
			err = fmt.Errorf("unexpected first line %q", line)
		}
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("no READY line within 30 s")
	}
	if err == nil {
		var b []byte
		if b, err = os.ReadFile(filepath.Join(dir, "server.json")); err == nil {
			err = json.Unmarshal(b, s)
		}
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *kubeServer) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(s.dir)
}
