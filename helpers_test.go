package usermgmt_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// testSecret is a JWT secret for tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fakeClock is a controllable Config.Clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openStore opens a SQLite store in a file of the test's temp dir.
func openStore(t testing.TB) *store.DB {
	t.Helper()
	st, err := anydb.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newManager builds a Manager over st with a low bcrypt cost and the clock.
func newManager(t testing.TB, st usermgmt.Store, clock *fakeClock, opts ...usermgmt.Option) *usermgmt.Manager {
	t.Helper()
	cfg := usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, Issuer: "test", Logger: quiet}
	if clock != nil {
		cfg.Clock = clock.Now
	}
	m, err := usermgmt.New(cfg, opts...)
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

const goodPassword = "Correct-Horse-9"

// mustCreate creates a user with goodPassword and the given roles.
func mustCreate(t testing.TB, m *usermgmt.Manager, username string, roles ...string) *usermgmt.User {
	t.Helper()
	u, err := m.CreateUser(context.Background(), usermgmt.NewUser{
		Username: username, Email: username + "@example.com", Password: goodPassword, Roles: roles,
	})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return u
}

// countingHasher wraps a Hasher and counts its calls.
type countingHasher struct {
	usermgmt.Hasher
	hashes, compares atomic.Int64
}

func (h *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(ctx, pw)
}

func (h *countingHasher) Compare(ctx context.Context, hash, pw string) error {
	h.compares.Add(1)
	return h.Hasher.Compare(ctx, hash, pw)
}

// mustLogin logs username in with goodPassword.
func mustLogin(t testing.TB, m *usermgmt.Manager, username string) *usermgmt.Tokens {
	t.Helper()
	tok, err := m.Login(context.Background(), username, goodPassword)
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return tok
}
