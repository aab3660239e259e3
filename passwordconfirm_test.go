package usermgmt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestCheckPassword: the right password passes and clears the failures,
// a wrong one is ErrWrongPasswordChange and counts in the lockout, and a
// locked account refuses even the right password, each with one hash
// comparison (a decoy while locked), as Login.
func TestCheckPassword(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	h := &realCompares{Hasher: usermgmt.NewBcryptHasher(4, 4)}
	all := &countingHasher{Hasher: h}
	m := newManager(t, openStore(t), clock, usermgmt.WithHasher(all))
	u := mustCreate(t, m, "check_user")
	h.hash = u.PasswordHash
	threshold := usermgmt.DefaultLockout.Threshold

	if err := m.CheckPassword(ctx, u.UUID, goodPassword); err != nil {
		t.Fatalf("right password: %v", err)
	}
	// Failures below the threshold, then the right password clears them:
	// threshold-1 more wrong tries still do not lock.
	for range threshold - 1 {
		if err := m.CheckPassword(ctx, u.UUID, "Wrong-pass-1"); !errors.Is(err, usermgmt.ErrWrongPasswordChange) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if err := m.CheckPassword(ctx, u.UUID, goodPassword); err != nil {
		t.Fatalf("right password after failures: %v", err)
	}
	for i := range threshold {
		if err := m.CheckPassword(ctx, u.UUID, "Wrong-pass-2"); !errors.Is(err, usermgmt.ErrWrongPasswordChange) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	// Now locked: the right password is refused, with a decoy comparison,
	// and login is locked too (the tries counted as logins).
	real0, all0 := h.count, all.compares.Load()
	err := m.CheckPassword(ctx, u.UUID, goodPassword)
	if e := usermgmt.AsError(err); !errors.Is(err, usermgmt.ErrRateLimited) || e.Status != 429 {
		t.Fatalf("locked: %v", err)
	}
	if h.count != real0 || all.compares.Load() != all0+1 {
		t.Fatalf("locked: %d real and %d compares, want 0 and 1", h.count-real0, all.compares.Load()-all0)
	}
	if _, err := m.Login(ctx, "check_user", goodPassword); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Fatalf("login while locked: %v", err)
	}
	clock.Advance(usermgmt.DefaultLockout.Duration + 1)
	if err := m.CheckPassword(ctx, u.UUID, goodPassword); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if err := m.CheckPassword(ctx, "no-such-uuid", goodPassword); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

// TestCheckPasswordImpersonated: an impersonating caller cannot try the
// owner's password, and its tries are not counted against the owner.
func TestCheckPasswordImpersonated(t *testing.T) {
	ctx := context.Background()
	all := &countingHasher{Hasher: usermgmt.NewBcryptHasher(4, 4)}
	m := newManager(t, openStore(t), newFakeClock(), usermgmt.WithHasher(all))
	admin := mustCreate(t, m, "admin_user", usermgmt.RoleAdmin)
	jane := mustCreate(t, m, "jane_doe")
	tk, err := m.OpenSession(ctx, jane, usermgmt.ActingParty(admin.UUID))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Authenticate(ctx, tk.AccessToken)
	if err != nil || p.Impersonator != admin.UUID {
		t.Fatalf("Authenticate: %+v, %v", p, err)
	}
	ictx := usermgmt.ContextWithCaller(ctx, p)
	compares := all.compares.Load()
	for range usermgmt.DefaultLockout.Threshold + 1 {
		if err := m.CheckPassword(ictx, jane.UUID, "Wrong-pass-1"); !errors.Is(err, usermgmt.ErrImpersonated) {
			t.Fatalf("impersonated: %v", err)
		}
	}
	if n := all.compares.Load() - compares; n != 0 {
		t.Fatalf("%d comparisons for an impersonated caller", n)
	}
	if err := m.CheckPassword(ctx, jane.UUID, goodPassword); err != nil {
		t.Fatalf("the owner afterwards: %v", err)
	}
}
