package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// newTestManager opens a Manager over a SQLite file in dir, hashing at the
// lowest bcrypt cost.
func newTestManager(t *testing.T, dir string) *usermgmt.Manager {
	t.Helper()
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m, err := usermgmt.New(usermgmt.Config{
		Store:      st,
		JWTSecret:  []byte("test-secret-0123456789abcdef0123"),
		BcryptCost: 4,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("usermgmt.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (loggers).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestEnsureAdminWithPassword(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newTestManager(t, dir)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	// The operator's password is taken as given, policy or not.
	const pw = "letmein"
	if err := ensureAdmin(ctx, m, Config{DataDir: dir, AdminPassword: pw}, log); err != nil {
		t.Fatalf("ensureAdmin: %v", err)
	}
	for _, login := range []string{"admin", "admin@example.com"} {
		tok, err := m.Login(ctx, login, pw)
		if err != nil {
			t.Fatalf("Login(%s): %v", login, err)
		}
		u := tok.User
		if u.Username != "admin" || u.DisplayName != "Admin" || u.Email != "admin@example.com" || !u.EmailVerified || !u.IsActive {
			t.Errorf("admin = %s %q %s verified=%v active=%v", u.Username, u.DisplayName, u.Email, u.EmailVerified, u.IsActive)
		}
		roles := slices.Sorted(slices.Values(u.Roles))
		if !slices.Equal(roles, []string{"admin", "moderator", "user"}) {
			t.Errorf("admin roles = %v", u.Roles)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, adminPasswordFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin_password file exists (%v) although ADMIN_PASSWORD was given", err)
	}
	if strings.Contains(logs.String(), pw) {
		t.Errorf("logs contain the password: %s", logs.String())
	}

	// A second start creates nothing and keeps the first password.
	if err := ensureAdmin(ctx, m, Config{DataDir: dir, AdminPassword: "another-pass"}, log); err != nil {
		t.Fatalf("second ensureAdmin: %v", err)
	}
	if n, err := m.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
	if _, err := m.Login(ctx, "admin", "another-pass"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Errorf("second start changed the password: Login with the new one = %v", err)
	}
}

func TestEnsureAdminRandomPassword(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newTestManager(t, dir)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	if err := ensureAdmin(ctx, m, Config{DataDir: dir}, log); err != nil {
		t.Fatalf("ensureAdmin: %v", err)
	}
	path := filepath.Join(dir, adminPasswordFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, mode)
	}
	pw, err := readSecretFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := usermgmt.DefaultPasswordPolicy.Check(pw); err != nil {
		t.Errorf("generated password fails the policy: %v", err)
	}
	if _, err := m.Login(ctx, "admin", pw); err != nil {
		t.Errorf("Login with the generated password: %v", err)
	}
	if out := logs.String(); strings.Contains(out, pw) || !strings.Contains(out, path) {
		t.Errorf("logs must name the file, never the password:\n%s", out)
	}

	// Second start: nothing created, file untouched.
	if err := ensureAdmin(ctx, m, Config{DataDir: dir}, log); err != nil {
		t.Fatalf("second ensureAdmin: %v", err)
	}
	if n, _ := m.CountUsers(ctx); n != 1 {
		t.Errorf("CountUsers = %d after a second start, want 1", n)
	}
	if again, _ := readSecretFile(path); again != pw {
		t.Errorf("second start rewrote the password file")
	}
}

// Two instances starting at once over the same database both start, and
// exactly one admin exists, whose password is the one in the file.
func TestEnsureAdminConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ms := []*usermgmt.Manager{newTestManager(t, dir), newTestManager(t, dir), newTestManager(t, dir)}
	log := slog.New(slog.DiscardHandler)

	var wg sync.WaitGroup
	errs := make([]error, len(ms))
	for i, m := range ms {
		wg.Go(func() { errs[i] = ensureAdmin(ctx, m, Config{DataDir: dir}, log) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if n, err := ms[0].CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
	pw, err := readSecretFile(filepath.Join(dir, adminPasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ms[1].Login(ctx, "admin", pw); err != nil {
		t.Errorf("Login with the file's password: %v", err)
	}
}

func TestLoadOrCreateSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "secret")
	calls := 0
	gen := func() (string, error) { calls++; return "value-one", nil }

	v, created, err := loadOrCreateSecretFile(path, gen)
	if err != nil || v != "value-one" || !created {
		t.Fatalf("first call = %q, %v, %v", v, created, err)
	}
	v, created, err = loadOrCreateSecretFile(path, func() (string, error) { return "value-two", nil })
	if err != nil || v != "value-one" || created {
		t.Fatalf("second call = %q, %v, %v; want the stored value", v, created, err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the secret", len(entries))
	}

	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateSecretFile(empty, gen); err == nil {
		t.Errorf("an empty secret file was accepted")
	}
}
