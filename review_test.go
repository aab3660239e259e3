package usermgmt_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// Every spent refresh token, not only the last one, revokes the session when
// it comes back: a thief who rotated a stolen token twice is caught when the
// victim presents it.
func TestRefreshReuseOfAnyOlderToken(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := newManager(t, openStore(t), clock)
	mustCreate(t, m, "jane_doe")
	t0 := mustLogin(t, m, "jane_doe")
	t1, err := m.Refresh(ctx, t0.RefreshToken) // the thief
	if err != nil {
		t.Fatal(err)
	}
	t2, err := m.Refresh(ctx, t1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := m.Refresh(ctx, t0.RefreshToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Fatalf("token two rotations back = %v, want ErrSessionRevoked", err)
	}
	if _, err := m.Refresh(ctx, t2.RefreshToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("the thief's current token still works: %v", err)
	}
	// A forged "old" token naming the session (its ID is in every access
	// token) is refused without harming anyone.
	m2 := newManager(t, openStore(t), clock)
	mustCreate(t, m2, "jane_doe")
	v, _ := m2.Login(ctx, "jane_doe", goodPassword)
	forged := v.SessionID + "." + strings.Repeat("A", 64)
	if _, err := m2.Refresh(ctx, forged); !errors.Is(err, usermgmt.ErrInvalidToken) {
		t.Errorf("forged token = %v, want ErrInvalidToken", err)
	}
	if _, err := m2.Refresh(ctx, v.RefreshToken); err != nil {
		t.Errorf("the forged token hurt the real session: %v", err)
	}
}

// A key rotation between a refresh and its parallel twin breaks nothing.
func TestRefreshGraceAcrossKeyRotation(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clock := newFakeClock()
	old := newManager(t, st, clock)
	mustCreate(t, old, "jane_doe")
	t0 := mustLogin(t, old, "jane_doe")
	t1, err := old.Refresh(ctx, t0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a-brand-new-secret-of-32-bytes!!"),
		JWTPreviousSecrets: [][]byte{testSecret}, BcryptCost: 4, Issuer: "test", Clock: clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	again, err := rotated.Refresh(ctx, t0.RefreshToken)
	if err != nil {
		t.Fatalf("parallel refresh on a rotated instance: %v", err)
	}
	if again.RefreshToken != t1.RefreshToken {
		t.Error("the rotated instance gave another successor")
	}
	if _, err := rotated.Refresh(ctx, t1.RefreshToken); err != nil {
		t.Errorf("a token made under the previous key: %v", err)
	}
}

// A change read before a ban and written after it cannot undo the ban.
func TestConcurrentPatchCannotUndoBan(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	for i := range 10 {
		u := mustCreate(t, m, "victim_"+string(rune('a'+i)))
		desc := "edited"
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{Description: &desc}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := m.Ban(ctx, u.UUID, "spam"); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		got, err := m.User(ctx, u.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IsActive || got.Description != "edited" {
			t.Fatalf("after a concurrent ban and edit: active=%v description=%q", got.IsActive, got.Description)
		}
	}
}

// A moderator can neither unban nor set another user's password through a
// PATCH; an admin can.
func TestPatchCannotBypassBanRules(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	admin := mustCreate(t, m, "admin_one", "admin")
	mod := mustCreate(t, m, "moder_one", "moderator", "user")
	bob := mustCreate(t, m, "bob_the_user")
	if _, err := m.As(admin).Ban(ctx, bob.UUID, "spam"); err != nil {
		t.Fatal(err)
	}
	yes, pw := true, "Taken-Over-99"
	if _, err := m.As(mod).UpdateUser(ctx, bob.UUID, usermgmt.UserPatch{IsActive: &yes}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("moderator unban by PATCH = %v, want ErrForbidden", err)
	}
	if _, err := m.As(mod).UpdateUser(ctx, bob.UUID, usermgmt.UserPatch{Password: &pw}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("moderator password by PATCH = %v, want ErrForbidden", err)
	}
	if u, err := m.As(admin).UpdateUser(ctx, bob.UUID, usermgmt.UserPatch{IsActive: &yes, Password: &pw}); err != nil || !u.IsActive {
		t.Fatalf("admin PATCH: %v", err)
	}
	if _, err := m.Login(ctx, "bob_the_user", pw); err != nil {
		t.Errorf("login with the admin-set password: %v", err)
	}
}

// Free text with control characters is a 400, never a database error.
func TestControlCharactersRefused(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	u := mustCreate(t, m, "jane_doe")
	bad := "a\x00b"
	if _, err := m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{Description: &bad}); !errors.Is(err, usermgmt.ErrInvalidDescription) {
		t.Errorf("description with NUL = %v", err)
	}
	if _, err := m.Ban(ctx, u.UUID, "x\x00"); !errors.Is(err, usermgmt.ErrInvalidInput) {
		t.Errorf("ban reason with NUL = %v", err)
	}
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "other_one", Email: "o@example.com", Password: goodPassword, Description: bad}); !errors.Is(err, usermgmt.ErrInvalidDescription) {
		t.Errorf("new user with NUL = %v", err)
	}
}

// A hash of another cost is replaced at the next login, and an unreadable
// (imported) hash fails like a wrong password rather than with a 500.
func TestLoginRehashAndForeignHashes(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := newManager(t, st, nil) // cost 4
	h5, err := usermgmt.NewBcryptHasher(5, 1).Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "old_hash", Email: "old@example.com", PasswordHash: h5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Login(ctx, "old_hash", goodPassword); err != nil {
		t.Fatal(err)
	}
	got, _ := st.UserByUUID(ctx, u.UUID)
	if !strings.HasPrefix(got.PasswordHash, "$2a$04$") {
		t.Errorf("hash after login = %.7s, want cost 4", got.PasswordHash)
	}
	if _, err := m.Login(ctx, "old_hash", goodPassword); err != nil {
		t.Errorf("login after the rehash: %v", err)
	}
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "argon_user", Email: "ar@example.com", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Login(ctx, "argon_user", goodPassword); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Errorf("login on an unreadable hash = %v, want ErrInvalidLogin", err)
	}
}

// A string that is no UUID names no user: 404 like an unknown one, and
// lists skip it. An unban's optional reason reaches the audit log.
func TestMalformedUUIDsAndUnbanReason(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	u := mustCreate(t, m, "jane_doe")
	for _, bad := range []string{"nope", "../../etc/passwd", ""} {
		if _, err := m.User(ctx, bad); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Errorf("User(%q) = %v, want ErrUserNotFound", bad, err)
		}
		if _, err := m.Ban(ctx, bad, "spam"); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Errorf("Ban(%q) = %v, want ErrUserNotFound", bad, err)
		}
	}
	got, err := m.UsersByUUIDs(ctx, []string{"nope", u.UUID, strings.ToUpper(u.UUID)})
	if err != nil || len(got) != 1 || got[0].UUID != u.UUID {
		t.Errorf("UsersByUUIDs = %v, %v; want jane alone", got, err)
	}
	if _, err := m.Ban(ctx, u.UUID, "spam"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Unban(ctx, u.UUID, "bad\x00reason"); !errors.Is(err, usermgmt.ErrInvalidInput) {
		t.Errorf("unban reason with NUL = %v", err)
	}
	if _, err := m.Unban(ctx, u.UUID, "  appeal accepted "); err != nil {
		t.Fatal(err)
	}
	h, err := m.History(ctx, u.UUID, 1)
	if err != nil || len(h) != 1 || h[0].Action != usermgmt.AuditUnban || h[0].Detail != "appeal accepted" {
		t.Errorf("latest history = %+v, %v", h, err)
	}
}

// hookHasher runs a hook once, during the first password comparison.
type hookHasher struct {
	usermgmt.Hasher
	once sync.Once
	hook func()
}

func (h *hookHasher) Compare(ctx context.Context, hash, pw string) error {
	err := h.Hasher.Compare(ctx, hash, pw)
	h.once.Do(h.hook)
	return err
}

// A login whose password check straddles a password change (or a ban)
// opens no session after it.
func TestLoginRacingAPasswordChange(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		change func(m *usermgmt.Manager, uuid string) error
		want   error
	}{
		{"password change", func(m *usermgmt.Manager, uuid string) error {
			pw := "Brand-New-Pass-7"
			_, err := m.UpdateUser(ctx, uuid, usermgmt.UserPatch{Password: &pw})
			return err
		}, usermgmt.ErrInvalidLogin},
		{"ban", func(m *usermgmt.Manager, uuid string) error {
			_, err := m.Ban(ctx, uuid, "spam")
			return err
		}, usermgmt.ErrInactiveUser},
		{"deletion", func(m *usermgmt.Manager, uuid string) error { return m.DeleteUser(ctx, uuid) }, usermgmt.ErrInvalidLogin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &hookHasher{Hasher: usermgmt.NewBcryptHasher(4, 4)}
			st := openStore(t)
			m := newManager(t, st, nil, usermgmt.WithHasher(h))
			h.once.Do(func() {}) // not during setup
			u := mustCreate(t, m, "jane_doe")
			h.once = sync.Once{}
			h.hook = func() {
				if err := tt.change(m, u.UUID); err != nil {
					t.Errorf("change during login: %v", err)
				}
			}
			if _, err := m.Login(ctx, "jane_doe", goodPassword); !errors.Is(err, tt.want) {
				t.Fatalf("login racing a %s = %v, want %v", tt.name, err, tt.want)
			}
			if ss, _ := st.SessionsByUser(ctx, u.UUID, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); len(ss) != 0 {
				t.Errorf("%d sessions were opened", len(ss))
			}
		})
	}
}

// With the cache off, another instance sees a logout on its very next
// request; with no grace, any reuse of a spent refresh token ends the
// session.
func TestCacheAndGraceCanBeTurnedOff(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg := usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, Logger: quiet, CacheTTL: -1, RefreshReuseGrace: -1}
	a, err := usermgmt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := usermgmt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, a, "jane_doe")
	tok := mustLogin(t, a, "jane_doe")
	p, err := b.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("other instance right after logout, cache off = %v", err)
	}

	t2 := mustLogin(t, a, "jane_doe")
	if _, err := a.Refresh(ctx, t2.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, t2.RefreshToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("immediate reuse with no grace = %v, want ErrSessionRevoked", err)
	}
}
