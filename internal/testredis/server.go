package testredis

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Server is a Redis server of one test's own (127.0.0.1, a free port, no
// persistence), started as scripts/test starts the shared one, for a test
// that stops it and starts it again. It is stopped when the test ends.
//
// Its binary is REDIS_SERVER when set, else redis-server on PATH; without
// it the test skips, except in CI (CI=true), where it fails.
type Server struct {
	t    testing.TB
	bin  string
	port int
	cmd  *exec.Cmd
}

// StartServer starts a Server.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("REDIS_SERVER")
	if bin == "" {
		bin, _ = exec.LookPath("redis-server")
	}
	if bin == "" {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal("testredis: redis-server not found: in CI the tests that need their own Redis must run (set REDIS_SERVER)")
		}
		t.Skip("testredis: redis-server not found (set REDIS_SERVER)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testredis: free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{t: t, bin: bin, port: port}
	t.Cleanup(s.stop)
	s.Start()
	return s
}

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (s *Server) Start() {
	s.t.Helper()
	dir := s.t.TempDir()
	cmd := exec.Command(s.bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(s.port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testredis: start: %v", err)
	}
	s.cmd = cmd
	addr := fmt.Sprintf("127.0.0.1:%d", s.port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	s.t.Fatalf("testredis: the server did not listen on %s", addr)
}

// Stop stops the server (as its service manager would: SIGTERM) and
// waits until it has exited; its clients' connections are closed.
func (s *Server) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("testredis: Stop of a stopped server")
	}
	s.stop()
}

func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}
