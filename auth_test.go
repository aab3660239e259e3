package usermgmt_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/usermgmt/usermgmt"
)

func TestLogin(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	u := mustCreate(t, m, "jane_doe")

	for _, login := range []string{"jane_doe", "jane_doe@example.com", "JANE_DOE@Example.com"} {
		tok, err := m.Login(ctx, login, goodPassword)
		if err != nil {
			t.Fatalf("Login(%q): %v", login, err)
		}
		if tok.TokenType != "bearer" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 900 || tok.User.UUID != u.UUID {
			t.Errorf("Login(%q) tokens = %+v", login, tok)
		}
	}
	for _, tt := range []struct{ login, password string }{
		{"jane_doe", "Wrong-Password-1"},
		{"nobody_here", goodPassword},
		{"nobody@example.com", goodPassword},
		{"not a username", goodPassword},
		{"jane_doe", strings.Repeat("x", 100)},
		{"", ""},
	} {
		if _, err := m.Login(ctx, tt.login, tt.password); !errors.Is(err, usermgmt.ErrInvalidLogin) {
			t.Errorf("Login(%q, %q) = %v, want ErrInvalidLogin", tt.login, tt.password, err)
		}
	}
	h, err := m.History(ctx, u.UUID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var logins, failures int
	for _, e := range h {
		switch e.Action {
		case usermgmt.AuditLogin:
			logins++
		case usermgmt.AuditLoginFailed:
			failures++
		}
	}
	if logins != 3 || failures != 2 {
		t.Errorf("history has %d logins and %d failures, want 3 and 2", logins, failures)
	}
}

// An unknown account must cost what a wrong password costs: one password
// comparison and one audit write, and the same error.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	h := &countingHasher{Hasher: usermgmt.NewBcryptHasher(4, 2)}
	m := newManager(t, st, nil, usermgmt.WithHasher(h))
	mustCreate(t, m, "jane_doe")

	measure := func(login string) (int64, int, error) {
		before := h.compares.Load()
		entries, _ := st.Audit(ctx, usermgmt.AuditQuery{Limit: 1000})
		_, err := m.Login(ctx, login, "Wrong-Password-1")
		after, _ := st.Audit(ctx, usermgmt.AuditQuery{Limit: 1000})
		return h.compares.Load() - before, len(after) - len(entries), err
	}
	c1, a1, err1 := measure("jane_doe")
	c2, a2, err2 := measure("ghost_user")
	if c1 != 1 || c2 != 1 {
		t.Errorf("compares: wrong password %d, unknown user %d; want 1 each", c1, c2)
	}
	if a1 != 1 || a2 != 1 {
		t.Errorf("audit writes: wrong password %d, unknown user %d; want 1 each", a1, a2)
	}
	if err1.Error() != err2.Error() {
		t.Errorf("errors differ: %q vs %q", err1, err2)
	}
}

func TestInactiveReasonOnlyAfterCorrectPassword(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, ContactEmail: "help@example.com", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	u := mustCreate(t, m, "jane_doe")
	if _, err := m.Ban(ctx, u.UUID, "spamming"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Login(ctx, "jane_doe", "Wrong-Password-1"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Errorf("wrong password on a banned account = %v, want ErrInvalidLogin", err)
	}
	_, err = m.Login(ctx, "jane_doe", goodPassword)
	if !errors.Is(err, usermgmt.ErrInactiveUser) {
		t.Fatalf("correct password on a banned account = %v, want ErrInactiveUser", err)
	}
	if msg := usermgmt.AsError(err).Message; !strings.Contains(msg, "spamming") || !strings.Contains(msg, "help@example.com") {
		t.Errorf("message %q lacks the reason or the contact", msg)
	}
	if _, err := m.Unban(ctx, u.UUID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Login(ctx, "jane_doe", goodPassword); err != nil {
		t.Errorf("login after unban: %v", err)
	}
}

func TestAuthenticateRevocation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		revoke func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error
	}{
		{"logout", func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error { return m.Logout(ctx, p) }},
		{"ban", func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error {
			_, err := m.Ban(ctx, u.UUID, "spam")
			return err
		}},
		{"delete", func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error {
			return m.DeleteUser(ctx, u.UUID)
		}},
		{"password change", func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error {
			pw := "Another-Pass-2"
			_, err := m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{Password: &pw})
			return err
		}},
		{"deactivation", func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error {
			f := false
			_, err := m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{IsActive: &f})
			return err
		}},
		{"session revoked", func(m *usermgmt.Manager, u *usermgmt.User, p *usermgmt.Principal) error {
			return m.RevokeSession(ctx, u.UUID, p.SessionID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, openStore(t), nil)
			u := mustCreate(t, m, "jane_doe")
			tok := mustLogin(t, m, "jane_doe")
			p, err := m.Authenticate(ctx, tok.AccessToken) // warms the cache
			if err != nil {
				t.Fatal(err)
			}
			if p.User().UUID != u.UUID || p.SessionID != tok.SessionID {
				t.Fatalf("principal = %+v", p)
			}
			if err := tt.revoke(m, u, p); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
				t.Errorf("after %s: Authenticate = %v, want ErrSessionRevoked", tt.name, err)
			}
			if _, err := m.Refresh(ctx, tok.RefreshToken); err == nil {
				t.Errorf("after %s: Refresh succeeded", tt.name)
			}
		})
	}
}

// Another instance over the same database trusts its cache at most CacheTTL.
func TestRevocationReachesOtherInstances(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clock := newFakeClock()
	a := newManager(t, st, clock)
	b := newManager(t, st, clock)
	mustCreate(t, a, "jane_doe")
	tok := mustLogin(t, a, "jane_doe")
	pa, err := a.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, pa); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("same instance after logout: %v", err)
	}
	clock.Advance(usermgmt.DefaultCacheTTL)
	if _, err := b.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("other instance after the cache TTL: %v", err)
	}
}

func TestAuthenticateRejectsBadTokens(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := openStore(t)
	m := newManager(t, st, clock)
	u := mustCreate(t, m, "jane_doe")
	tok := mustLogin(t, m, "jane_doe")
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
		tk := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid := parsed.Header["kid"].(string)
	now := clock.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": u.UUID, "sid": tok.SessionID, "jti": "x", "iss": "test", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	if _, err := m.Authenticate(ctx, sign(jwt.SigningMethodHS256, testSecret, claims(nil), kid)); err != nil {
		t.Fatalf("a well-formed forged-with-the-real-key token was refused: %v", err)
	}
	bad := map[string]string{
		"empty":          "",
		"garbage":        "not.a.jwt",
		"wrong key":      sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-!!"), claims(nil), kid),
		"no kid":         sign(jwt.SigningMethodHS256, testSecret, claims(nil), ""),
		"unknown kid":    sign(jwt.SigningMethodHS256, testSecret, claims(nil), "nope"),
		"alg none":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil), kid),
		"HS512":          sign(jwt.SigningMethodHS512, testSecret, claims(nil), kid),
		"wrong issuer":   sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), kid),
		"expired":        sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), kid),
		"no exp":         sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") }), kid),
		"string exp":     sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["exp"] = "1800" }), kid),
		"issued later":   sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), kid),
		"no sid":         sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "sid") }), kid),
		"unknown sid":    sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["sid"] = "123e4567-e89b-42d3-a456-426614174000" }), kid),
		"sub not owner":  sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["sub"] = "123e4567-e89b-42d3-a456-426614174000" }), kid),
		"huge":           strings.Repeat("a", 10000),
		"tampered claim": tok.AccessToken[:len(tok.AccessToken)-2] + "xx",
	}
	for name, token := range bad {
		if _, err := m.Authenticate(ctx, token); err == nil {
			t.Errorf("%s: token accepted", name)
		} else if e := usermgmt.AsError(err); e.Status != 401 {
			t.Errorf("%s: status %d (%v), want 401", name, e.Status, err)
		}
	}
	clock.Advance(16 * time.Minute)
	if _, err := m.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrInvalidToken) {
		t.Errorf("token past its 15 minutes: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	old := newManager(t, st, nil)
	mustCreate(t, old, "jane_doe")
	tok := mustLogin(t, old, "jane_doe")
	newSecret := []byte("a-brand-new-secret-of-32-bytes!!")
	rotated, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: newSecret, JWTPreviousSecrets: [][]byte{testSecret}, BcryptCost: 4, Issuer: "test", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Errorf("token signed with the previous key: %v", err)
	}
	fresh, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: newSecret, BcryptCost: 4, Issuer: "test", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrInvalidToken) {
		t.Errorf("token of a retired key: %v", err)
	}
}

func TestRefreshRotation(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := newManager(t, openStore(t), clock)
	mustCreate(t, m, "jane_doe")
	t0 := mustLogin(t, m, "jane_doe")
	t1, err := m.Refresh(ctx, t0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if t1.RefreshToken == t0.RefreshToken || t1.SessionID != t0.SessionID {
		t.Fatalf("rotation gave %+v", t1)
	}
	if _, err := m.Authenticate(ctx, t1.AccessToken); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	// Within the grace window the previous token yields the same successor.
	clock.Advance(time.Second)
	again, err := m.Refresh(ctx, t0.RefreshToken)
	if err != nil {
		t.Fatalf("reuse within grace: %v", err)
	}
	if again.RefreshToken != t1.RefreshToken {
		t.Errorf("reuse within grace gave another successor")
	}
	// The current token keeps rotating.
	t2, err := m.Refresh(ctx, t1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// After the window, the previous token revokes the session.
	clock.Advance(3 * time.Second)
	if _, err := m.Refresh(ctx, t1.RefreshToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Fatalf("reuse after grace = %v, want ErrSessionRevoked", err)
	}
	if _, err := m.Refresh(ctx, t2.RefreshToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("current token after the family was revoked = %v", err)
	}
	if _, err := m.Authenticate(ctx, t2.AccessToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("access token after the family was revoked = %v", err)
	}
	for _, bad := range []string{"", "x", "abc.def", t0.SessionID + ".short", strings.Repeat("z", 5000), t2.RefreshToken[:len(t2.RefreshToken)-1] + "A"} {
		if _, err := m.Refresh(ctx, bad); err == nil {
			t.Errorf("Refresh(%q) succeeded", bad)
		}
	}
}

// Parallel refreshes of one token (two tabs) all get the same successor,
// and the session stays alive.
func TestParallelRefreshAgrees(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	mustCreate(t, m, "jane_doe")
	t0 := mustLogin(t, m, "jane_doe")
	const n = 10
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := m.Refresh(ctx, t0.RefreshToken)
			errs[i] = err
			if err == nil {
				got[i] = tk.RefreshToken
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("refresh %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("refresh %d got another successor", i)
		}
	}
	if _, err := m.Refresh(ctx, got[0]); err != nil {
		t.Errorf("the agreed successor does not work: %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := usermgmt.WithClientInfo(context.Background(), usermgmt.ClientInfo{IP: "203.0.113.7", UserAgent: "test-agent"})
	m := newManager(t, openStore(t), nil)
	u := mustCreate(t, m, "jane_doe")
	other := mustCreate(t, m, "other_user")
	a, _ := m.Login(ctx, "jane_doe", goodPassword)
	b, _ := m.Login(ctx, "jane_doe", goodPassword)
	ob, _ := m.Login(ctx, "other_user", goodPassword)
	ss, err := m.As(u).Sessions(ctx)
	if err != nil || len(ss) != 2 {
		t.Fatalf("sessions = %d, %v", len(ss), err)
	}
	if ss[0].IP != "203.0.113.7" || ss[0].UserAgent != "test-agent" {
		t.Errorf("session client info = %q %q", ss[0].IP, ss[0].UserAgent)
	}
	if err := m.As(u).RevokeSession(ctx, ob.SessionID); !errors.Is(err, usermgmt.ErrSessionNotFound) {
		t.Errorf("revoking another user's session = %v", err)
	}
	if err := m.As(u).RevokeSession(ctx, "not-a-uuid"); !errors.Is(err, usermgmt.ErrSessionNotFound) {
		t.Errorf("revoking a malformed id = %v", err)
	}
	if err := m.As(u).RevokeSession(ctx, a.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, a.AccessToken); !errors.Is(err, usermgmt.ErrSessionRevoked) {
		t.Errorf("revoked session still authenticates: %v", err)
	}
	if _, err := m.Authenticate(ctx, b.AccessToken); err != nil {
		t.Errorf("the other session died: %v", err)
	}
	if ss, _ := m.As(u).Sessions(ctx); len(ss) != 1 || ss[0].ID != b.SessionID {
		t.Errorf("after revocation sessions = %v", ss)
	}
	if _, err := m.Authenticate(ctx, ob.AccessToken); err != nil {
		t.Errorf("%s's session died: %v", other.Username, err)
	}
}

func TestBcryptHasher(t *testing.T) {
	ctx := context.Background()
	h := usermgmt.NewBcryptHasher(usermgmt.DefaultBcryptCost, 1)
	hash, err := h.Hash(ctx, "pässwörd-123")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$12$") {
		t.Errorf("hash %q is not bcrypt cost 12", hash)
	}
	if err := h.Compare(ctx, hash, "pässwörd-123"); err != nil {
		t.Errorf("matching password: %v", err)
	}
	if err := h.Compare(ctx, hash, "pässwörd-124"); !errors.Is(err, usermgmt.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := h.Hash(ctx, strings.Repeat("x", 73)); !errors.Is(err, usermgmt.ErrPasswordTooLong) {
		t.Errorf("73-byte password: %v", err)
	}
	if err := h.Compare(ctx, "not a hash", "x"); err == nil || errors.Is(err, usermgmt.ErrWrongPassword) {
		t.Errorf("corrupt hash: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	st := openStore(t)
	tests := []struct {
		name string
		cfg  usermgmt.Config
		want string
	}{
		{"ok", usermgmt.Config{Store: st, JWTSecret: testSecret}, ""},
		{"no store", usermgmt.Config{JWTSecret: testSecret}, "Store is required"},
		{"short secret", usermgmt.Config{Store: st, JWTSecret: []byte("short")}, "JWTSecret"},
		{"bad cost", usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 40}, "BcryptCost"},
		{"negative token ttl", usermgmt.Config{Store: st, JWTSecret: testSecret, AccessTokenTTL: -1}, "negative"},
		{"cache off", usermgmt.Config{Store: st, JWTSecret: testSecret, CacheTTL: -1}, ""},
		{"no grace", usermgmt.Config{Store: st, JWTSecret: testSecret, RefreshReuseGrace: -1}, ""},
		{"grace too long", usermgmt.Config{Store: st, JWTSecret: testSecret, RefreshReuseGrace: time.Hour}, "at most"},
		{"session shorter than token", usermgmt.Config{Store: st, JWTSecret: testSecret, SessionTTL: time.Minute}, "SessionTTL"},
		{"bad policy", usermgmt.Config{Store: st, JWTSecret: testSecret, Policy: usermgmt.NewPolicy()}, "no roles"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// OpenSession gives a host that authenticated a user by its own means the
// same session and tokens as a login; an inactive user gets none.
func TestOpenSession(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	u := mustCreate(t, m, "jane_doe")
	tok, err := m.OpenSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := m.Authenticate(ctx, tok.AccessToken); err != nil || p.User().UUID != u.UUID {
		t.Fatalf("Authenticate = %v, %v", p, err)
	}
	if _, err := m.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Errorf("Refresh: %v", err)
	}
	banned, err := m.Ban(ctx, u.UUID, "spam")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenSession(ctx, banned); !errors.Is(err, usermgmt.ErrInactiveUser) {
		t.Errorf("OpenSession of a banned user = %v", err)
	}
	if _, err := m.OpenSession(ctx, u); !errors.Is(err, usermgmt.ErrInactiveUser) { // a stale copy
		t.Errorf("OpenSession of a stale copy of a banned user = %v", err)
	}
}

// Header text stored on a session is cleaned of control characters and cut
// to its limit without splitting a character.
func TestSessionClientInfoIsCleaned(t *testing.T) {
	ua := "Mozilla\x00\x1b[31m" + strings.Repeat("é", 200) // 400 bytes of é
	ctx := usermgmt.WithClientInfo(context.Background(), usermgmt.ClientInfo{IP: "198.51.100.4\n", UserAgent: ua})
	m := newManager(t, openStore(t), nil)
	u := mustCreate(t, m, "jane_doe")
	if _, err := m.Login(ctx, "jane_doe", goodPassword); err != nil {
		t.Fatal(err)
	}
	ss, err := m.Sessions(ctx, u.UUID)
	if err != nil || len(ss) != 1 {
		t.Fatalf("sessions = %v, %v", ss, err)
	}
	got := ss[0].UserAgent
	if strings.ContainsAny(got, "\x00\x1b") || len(got) > 256 || !utf8.ValidString(got) || !strings.HasPrefix(got, "Mozilla[31mé") {
		t.Errorf("stored user agent %q (%d bytes)", got, len(got))
	}
	if ss[0].IP != "198.51.100.4" {
		t.Errorf("stored IP %q", ss[0].IP)
	}
}
