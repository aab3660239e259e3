package usermgmt_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
)

// hookLog records the calls of Config.Hooks.
type hookLog struct {
	mu     sync.Mutex
	calls  []string
	users  []*usermgmt.User
	newU   []usermgmt.NewUser
	sessID []string
}

func (l *hookLog) add(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
}

func (l *hookLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// allowListed is a BeforeRegister that admits example.com addresses
// only, refusing others with a plain error.
func allowListed(l *hookLog) func(context.Context, usermgmt.NewUser) error {
	return func(_ context.Context, nu usermgmt.NewUser) error {
		l.mu.Lock()
		l.newU = append(l.newU, nu)
		l.mu.Unlock()
		l.add("register:" + nu.Email)
		if !strings.HasSuffix(nu.Email, "@example.com") {
			return errors.New("domain not on the allow-list")
		}
		return nil
	}
}

func hookedManager(t *testing.T, h usermgmt.Hooks) *usermgmt.Manager {
	t.Helper()
	st := openStore(t)
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, Logger: quiet, Hooks: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestHooksBeforeRegister: the hook sees the normalised input without
// the password, a plain error refuses with registration_refused (403), an
// *Error keeps its status and code, a refusal writes nothing and comes
// before the taken-name checks, and the host's CreateUser is not asked.
func TestHooksBeforeRegister(t *testing.T) {
	ctx := context.Background()
	l := &hookLog{}
	m := hookedManager(t, usermgmt.Hooks{BeforeRegister: allowListed(l)})
	nu := func(name, email string) usermgmt.NewUser {
		return usermgmt.NewUser{Username: name, Email: email, Password: goodPassword, ConfirmPassword: goodPassword}
	}

	_, err := m.Register(ctx, nu("jane_doe", "Jane@Other.org"))
	if e := usermgmt.AsError(err); !errors.Is(err, usermgmt.ErrRegistrationRefused) || e.Status != http.StatusForbidden ||
		strings.Contains(e.Message, "allow-list") {
		t.Fatalf("refused Register: %v", err)
	}
	if len(l.newU) != 1 || l.newU[0].Email != "jane@other.org" || l.newU[0].Password != "" || l.newU[0].ConfirmPassword != "" ||
		l.newU[0].DisplayName != "jane_doe" {
		t.Errorf("the hook saw %+v", l.newU)
	}
	if _, err := m.UserByLogin(ctx, "jane_doe"); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("a refused registration left a user: %v", err)
	}
	if entries, err := m.Store().Audit(ctx, usermgmt.AuditQuery{}); err != nil || len(entries) != 0 {
		t.Errorf("a refused registration audited %d entries (%v)", len(entries), err)
	}

	// Invalid input is answered before the hook is asked.
	if _, err := m.Register(ctx, nu("x", "jane@other.org")); !errors.Is(err, usermgmt.ErrInvalidUsername) || len(l.list()) != 1 {
		t.Errorf("invalid input: %v, calls %v", err, l.list())
	}

	// The host's own CreateUser does not pass the hook.
	if _, err := m.CreateUser(ctx, nu("host_made", "host@other.org")); err != nil {
		t.Fatal(err)
	}
	// A refusal comes before the taken checks: it tells nothing of them.
	if _, err := m.Register(ctx, nu("host_made", "host@other.org")); !errors.Is(err, usermgmt.ErrRegistrationRefused) {
		t.Errorf("taken name, refused domain: %v", err)
	}

	tok, err := m.Register(ctx, nu("john_doe", "john@example.com"))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("allowed Register: %v", err)
	}

	// An *Error is answered as the hook said.
	custom := usermgmt.NewError(http.StatusUnprocessableEntity, "domain_not_allowed", "Sign up with your work address.")
	m2 := hookedManager(t, usermgmt.Hooks{BeforeRegister: func(context.Context, usermgmt.NewUser) error {
		return errors.Join(errors.New("context"), custom)
	}})
	_, err = m2.Register(ctx, nu("jane_doe", "jane@other.org"))
	if e := usermgmt.AsError(err); e == nil || e.Status != 422 || e.Code != "domain_not_allowed" || e.Message != custom.Message {
		t.Fatalf("custom refusal: %v", err)
	}
}

// TestHooksBeforeLogin: every sign-in path through the Manager asks the
// hook, after the password and before a session opens, with its method;
// a refusal opens no session; the session of a registration passes
// neither login hook.
func TestHooksBeforeLogin(t *testing.T) {
	ctx := context.Background()
	l := &hookLog{}
	refuse := map[string]error{}
	m := hookedManager(t, usermgmt.Hooks{
		BeforeLogin: func(_ context.Context, u *usermgmt.User, method string) error {
			l.add("before:" + u.Username + ":" + method)
			if u.PasswordHash != "" || u.OTPSecret != "" {
				t.Errorf("BeforeLogin saw the secrets of %s", u.Username)
			}
			return refuse[u.Username]
		},
		AfterLogin: func(_ context.Context, u *usermgmt.User, s *usermgmt.Session, method string) {
			l.add("after:" + u.Username + ":" + method)
			if s.ID == "" || s.UserUUID != u.UUID || s.RefreshHash != nil || u.PasswordHash != "" {
				t.Errorf("AfterLogin saw %+v %+v", s, u)
			}
		},
	})
	if _, err := m.Register(ctx, usermgmt.NewUser{Username: "new_user", Email: "new@example.com", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if calls := l.list(); len(calls) != 0 {
		t.Errorf("Register called %v", calls)
	}
	jane := mustCreate(t, m, "jane_doe")
	mustCreate(t, m, "john_doe")
	refuse["john_doe"] = errors.New("tenant suspended")
	refuse["jim_doe"] = usermgmt.NewError(http.StatusLocked, "tenant_suspended", "Your organisation is suspended.")
	jim := mustCreate(t, m, "jim_doe")

	// A wrong password never reaches the hook.
	if _, err := m.Login(ctx, "jane_doe", "wrong-password-1"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Fatal(err)
	}
	tok, err := m.Login(ctx, "jane_doe@example.com", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SignIn(ctx, jane, "passkey", true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenSession(ctx, jane, usermgmt.AuthMethod("sso")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenSession(ctx, jane); err != nil {
		t.Fatal(err)
	}
	want := []string{"before:jane_doe:password", "after:jane_doe:password", "before:jane_doe:passkey", "after:jane_doe:passkey",
		"before:jane_doe:sso", "after:jane_doe:sso", "before:jane_doe:session", "after:jane_doe:session"}
	if got := l.list(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("calls\n got %v\nwant %v", got, want)
	}

	_, err = m.Login(ctx, "john_doe", goodPassword)
	if e := usermgmt.AsError(err); !errors.Is(err, usermgmt.ErrLoginRefused) || e.Status != http.StatusForbidden ||
		strings.Contains(e.Message, "tenant") {
		t.Fatalf("refused login: %v", err)
	}
	_, err = m.SignIn(ctx, jim, "magic_link", false)
	if e := usermgmt.AsError(err); e == nil || e.Status != http.StatusLocked || e.Code != "tenant_suspended" {
		t.Fatalf("refused SignIn: %v", err)
	}
	for _, u := range []string{"john_doe", "jim_doe"} {
		uu, _ := m.UserByLogin(ctx, u)
		if ss, err := m.Sessions(ctx, uu.UUID); err != nil || len(ss) != 0 {
			t.Errorf("a refused sign-in of %s opened %d sessions (%v)", u, len(ss), err)
		}
	}
	if got := l.list(); strings.Contains(strings.Join(got, " "), "after:j"+"ohn") || strings.Contains(strings.Join(got, " "), "after:jim") {
		t.Errorf("AfterLogin called for a refused sign-in: %v", got)
	}
}

// TestHooksAfterLoginPanic: a panicking AfterLogin does not fail the
// login, whose tokens work.
func TestHooksAfterLoginPanic(t *testing.T) {
	ctx := context.Background()
	called := 0
	m := hookedManager(t, usermgmt.Hooks{AfterLogin: func(context.Context, *usermgmt.User, *usermgmt.Session, string) {
		called++
		panic("the host's bug")
	}})
	mustCreate(t, m, "jane_doe")
	tok, err := m.Login(ctx, "jane_doe", goodPassword)
	if err != nil || called != 1 {
		t.Fatalf("Login: %v (AfterLogin called %d times)", err, called)
	}
	if p, err := m.Authenticate(ctx, tok.AccessToken); err != nil || p.SessionID != tok.SessionID {
		t.Fatalf("Authenticate: %v", err)
	}
	if _, err := m.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
}

// TestHooksBoundedByContext: a hook that waits is stopped by the
// request's context, the login refused, no session open.
func TestHooksBoundedByContext(t *testing.T) {
	m := hookedManager(t, usermgmt.Hooks{BeforeLogin: func(ctx context.Context, _ *usermgmt.User, _ string) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	u := mustCreate(t, m, "jane_doe")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := m.Login(ctx, "jane_doe", goodPassword); err == nil {
		t.Fatal("a login whose hook timed out succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the hook held the login %v", d)
	}
	if ss, err := m.Sessions(context.Background(), u.UUID); err != nil || len(ss) != 0 {
		t.Errorf("%d sessions (%v)", len(ss), err)
	}
}

// TestHooksBeforeLoginOTP: with two-factor login on, BeforeLogin is asked
// once, when LoginOTP has the second factor (method "otp"), not at the
// password's challenge.
func TestHooksBeforeLoginOTP(t *testing.T) {
	ctx := context.Background()
	l := &hookLog{}
	m := hookedManager(t, usermgmt.Hooks{BeforeLogin: func(_ context.Context, u *usermgmt.User, method string) error {
		l.add(method)
		return nil
	}})
	u := mustCreate(t, m, "jane_doe")
	setup, err := m.SetupOTP(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(setup.Secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	_, recovery, err := m.ChangeOTPMethod(ctx, u.UUID, usermgmt.OTPAuthenticator, code, "")
	if err != nil || len(recovery) == 0 {
		t.Fatalf("enable: %v", err)
	}
	_, err = m.Login(ctx, "jane_doe", goodPassword)
	var c *usermgmt.OTPChallengeError
	if !errors.As(err, &c) || len(l.list()) != 0 {
		t.Fatalf("login: %v, calls %v", err, l.list())
	}
	if _, err := m.LoginOTP(ctx, c.Token, recovery[0]); err != nil {
		t.Fatal(err)
	}
	if got := l.list(); len(got) != 1 || got[0] != usermgmt.MethodOTP {
		t.Errorf("calls %v", got)
	}
}
