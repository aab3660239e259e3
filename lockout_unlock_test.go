package usermgmt_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// lockOut fails threshold logins of username, which locks it.
func lockOut(t *testing.T, m *usermgmt.Manager, username string) {
	t.Helper()
	for range usermgmt.DefaultLockout.Threshold {
		if _, err := m.Login(context.Background(), username, "Wrong-guess-1"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
			t.Fatalf("wrong password: %v", err)
		}
	}
}

// Issue 15 item 1: an admin can lift a lockout (policy admin.unlock), the
// second-step lock with it, and the audit names the admin.
func TestActorUnlockAccount(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clock := newFakeClock()
	m := newManager(t, st, clock)
	admin := mustCreate(t, m, "the_admin", usermgmt.RoleAdmin, usermgmt.RoleUser)
	mod := mustCreate(t, m, "the_moderator", usermgmt.RoleModerator, usermgmt.RoleUser)
	victim := mustCreate(t, m, "victim_user")

	lockOut(t, m, "victim_user")
	if _, err := m.Login(ctx, "victim_user", goodPassword); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Fatalf("locked account with its password: %v", err)
	}
	until := clock.Now().Add(time.Hour)
	if err := st.SaveOTPState(ctx, &usermgmt.OTPState{UserUUID: victim.UUID, LastStep: 42, Failures: 2, LockedUntil: &until}); err != nil {
		t.Fatal(err)
	}

	for _, who := range []*usermgmt.User{mod, victim, nil} {
		if _, err := m.As(who).UnlockAccount(ctx, victim.UUID); !errors.Is(err, usermgmt.ErrForbidden) {
			t.Errorf("unlock as %v: %v, want ErrForbidden", who, err)
		}
	}
	if _, err := m.As(admin).UnlockAccount(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("unlock of nobody: %v", err)
	}
	u, err := m.As(admin).UnlockAccount(ctx, victim.UUID)
	if err != nil || u.UUID != victim.UUID {
		t.Fatalf("admin unlock: %v, %v", u, err)
	}
	mustLogin(t, m, "victim_user")
	otp, err := st.OTPState(ctx, victim.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if otp.LockedUntil != nil || otp.Failures != 0 || otp.LastStep != 42 {
		t.Errorf("second-step state after unlock: %+v (the lock and failures go, the last step stays)", otp)
	}
	entries, err := st.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: victim.UUID, Actions: []string{usermgmt.AuditAccountUnlock}})
	if err != nil || len(entries) != 1 || entries[0].ActorUUID != admin.UUID {
		t.Fatalf("unlock audit: %+v, %v", entries, err)
	}
}

// Issue 15 item 1: with TellOwner, the owner's password on a locked account
// answers account_locked with the time left; wrong guesses keep getting
// the unknown-account answer and do not lengthen the lock.
func TestLockoutTellOwner(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m, err := usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet,
		Clock: clock.Now, Lockout: usermgmt.LockoutPolicy{TellOwner: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	mustCreate(t, m, "jane_doe")
	lockOut(t, m, "jane_doe")

	clock.Advance(5*time.Minute + 30*time.Second)
	if _, err := m.Login(ctx, "jane_doe", "Wrong-guess-2"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Fatalf("wrong password on a locked account: %v", err)
	}
	_, err = m.Login(ctx, "jane_doe", goodPassword)
	e, ok := errors.AsType[*usermgmt.Error](err)
	if !ok || !errors.Is(err, usermgmt.ErrAccountLocked) || e.Status != 429 {
		t.Fatalf("right password on a locked account: %v", err)
	}
	left := usermgmt.DefaultLockout.Duration - 5*time.Minute - 30*time.Second
	if got := e.Params["retry_after"]; got != int(left/time.Second) {
		t.Errorf("retry_after = %v, want %d", got, int(left/time.Second))
	}
	if want := "try again in 10 minutes"; !strings.Contains(e.Message, want) {
		t.Errorf("message %q lacks %q", e.Message, want)
	}
	clock.Advance(left + time.Second)
	mustLogin(t, m, "jane_doe")
}
