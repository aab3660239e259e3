package testpg

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// Server is a PostgreSQL server of one test's own, started as scripts/test
// starts the shared one (a temporary data directory, 127.0.0.1 and a free
// port, trust authentication, fsync off), for a test that stops it and
// starts it again. It is stopped and removed when the test ends.
//
// Its binaries are those of PG_BIN when set, else initdb and pg_ctl on
// PATH, else the highest /usr/lib/postgresql/<major>/bin. Without them
// the test skips, except in CI (CI=true), where it fails. As root, the
// server runs as the postgres user (PostgreSQL refuses root).
type Server struct {
	t       testing.TB
	bin     string
	dir     string // the data directory's parent, reachable by the server's user
	port    int
	asOwner []string // the command prefix that runs a program as the server's user
}

// StartServer initialises and starts a Server.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := findBin()
	if bin == "" {
		if inCI() {
			t.Fatal("testpg: PostgreSQL's initdb and pg_ctl not found: in CI the tests that need their own PostgreSQL must run (set PG_BIN)")
		}
		t.Skip("testpg: PostgreSQL's initdb and pg_ctl not found (set PG_BIN)")
	}
	s := &Server{t: t, bin: bin}
	parent := ""
	if os.Geteuid() == 0 {
		parent = "/tmp" // not $TMPDIR: the postgres user must reach it
		s.asOwner = []string{"runuser", "-u", "postgres", "--"}
	}
	dir, err := os.MkdirTemp(parent, "usermgmt-pg-")
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	s.dir = dir
	t.Cleanup(func() {
		_ = s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "socket"), 0o755); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	if s.asOwner != nil {
		if out, err := exec.Command("chown", "-R", "postgres:", dir).CombinedOutput(); err != nil {
			t.Fatalf("testpg: chown: %v: %s", err, out)
		}
	}
	if err := s.run("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		t.Fatalf("testpg: initdb: %v", err)
	}
	s.port = freePort(t)
	s.Start()
	return s
}

// DSN returns the admin DSN of the server (its postgres database).
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (s *Server) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
		s.port, filepath.Join(s.dir, "socket"))
	if err := s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "postgres.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
		s.t.Fatalf("testpg: start: %v\n%s", err, log)
	}
}

// Stop stops the server as an operator would (pg_ctl's fast mode: open
// sessions are told the server is shutting down and closed) and waits
// until it is down.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.run("pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop"); err != nil {
		s.t.Fatalf("testpg: stop: %v", err)
	}
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// run runs one of the server's programs as its user.
func (s *Server) run(prog string, args ...string) error {
	argv := append(append(append([]string(nil), s.asOwner...), filepath.Join(s.bin, prog)), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, out)
	}
	return nil
}

// findBin returns the directory of initdb and pg_ctl, "" when none is
// found.
func findBin() string {
	has := func(dir string) bool {
		for _, p := range []string{"initdb", "pg_ctl"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if has(dir) {
			return dir
		}
		return ""
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	return ""
}

// major returns the version number in /usr/lib/postgresql/<major>/bin.
func major(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// freePort returns a TCP port of 127.0.0.1 that nothing listened on a
// moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testpg: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// inCI reports whether the CI variable says the tests run in CI.
func inCI() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}
