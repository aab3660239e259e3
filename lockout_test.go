package usermgmt_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// realCompares counts the comparisons against one stored hash (not the
// dummy hash of unknown or locked accounts).
type realCompares struct {
	usermgmt.Hasher
	mu    sync.Mutex
	hash  string
	count int
}

func (h *realCompares) Compare(ctx context.Context, hash, pw string) error {
	h.mu.Lock()
	if hash == h.hash {
		h.count++
	}
	h.mu.Unlock()
	return h.Hasher.Compare(ctx, hash, pw)
}

func TestLockoutParallelGuesses(t *testing.T) {
	backends := map[string]func(t testing.TB) string{
		"sqlite":   func(t testing.TB) string { return "sqlite://" + t.TempDir() + "/db.sqlite" },
		"postgres": testpg.DSN,
	}
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := anydb.Open(ctx, dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			clock := newFakeClock()
			h := &realCompares{Hasher: usermgmt.NewBcryptHasher(4, 4)}
			m := newManager(t, st, clock, usermgmt.WithHasher(h))
			u := mustCreate(t, m, "victim_user")
			h.hash = u.PasswordHash
			threshold := usermgmt.DefaultLockout.Threshold

			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Go(func() {
					_, err := m.Login(ctx, "victim_user", "Wrong-guess-"+strings.Repeat("x", i%7))
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, usermgmt.ErrInvalidLogin) {
					t.Fatalf("guess: %v, want ErrInvalidLogin", err)
				}
			}
			if h.count > threshold {
				t.Fatalf("%d passwords were checked, want at most %d", h.count, threshold)
			}

			// Locked: the right password is refused like an unknown account.
			h.count = 0
			_, err = m.Login(ctx, "victim_user", goodPassword)
			_, errUnknown := m.Login(ctx, "nobody_here", goodPassword)
			if !errors.Is(err, usermgmt.ErrInvalidLogin) || err.Error() != errUnknown.Error() || h.count != 0 {
				t.Fatalf("locked login: %v (unknown: %v), %d checks", err, errUnknown, h.count)
			}
			locks, _ := st.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID, Actions: []string{usermgmt.AuditAccountLocked}})
			if len(locks) != 1 {
				t.Fatalf("%d lock audit entries, want 1", len(locks))
			}

			// The lock ends by itself...
			clock.Advance(usermgmt.DefaultLockout.Duration + time.Second)
			mustLogin(t, m, "victim_user")

			// ... or by UnlockAccount (a password reset).
			for range threshold {
				_, _ = m.Login(ctx, "victim_user", "Wrong-guess-1")
			}
			if _, err := m.Login(ctx, "victim_user", goodPassword); !errors.Is(err, usermgmt.ErrInvalidLogin) {
				t.Fatalf("not locked after %d failures: %v", threshold, err)
			}
			if err := m.UnlockAccount(ctx, u.UUID); err != nil {
				t.Fatal(err)
			}
			mustLogin(t, m, "victim_user")
		})
	}
}

func TestLockoutWindowAndSuccessReset(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := openStore(t)
	m := newManager(t, st, clock)
	mustCreate(t, m, "jane_doe")
	fail := func(n int) {
		for range n {
			if _, err := m.Login(ctx, "jane_doe", "Wrong-pass-1"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
				t.Fatal(err)
			}
		}
	}
	// Failures then a success: the count restarts.
	fail(4)
	mustLogin(t, m, "jane_doe")
	fail(4)
	mustLogin(t, m, "jane_doe")
	// Failures spread beyond the window do not add up.
	fail(4)
	clock.Advance(usermgmt.DefaultLockout.Window + time.Second)
	fail(4)
	mustLogin(t, m, "jane_doe")

	// Lockout off.
	cfgOff := usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, Logger: quiet, Clock: clock.Now,
		Lockout: usermgmt.LockoutPolicy{Threshold: -1}}
	mOff, err := usermgmt.New(cfgOff)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, _ = mOff.Login(ctx, "jane_doe", "Wrong-pass-1")
	}
	if _, err := mOff.Login(ctx, "jane_doe", goodPassword); err != nil {
		t.Fatalf("lockout off still locked: %v", err)
	}
}
