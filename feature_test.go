package usermgmt_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
)

// events records the event stream.
type events struct {
	mu      sync.Mutex
	actions []string
}

func (e *events) handle(_ context.Context, a usermgmt.AuditEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.actions = append(e.actions, a.Action)
}

func (e *events) got() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.actions)
}

func TestEventsAfterCommit(t *testing.T) {
	ev := &events{}
	m := newManager(t, openStore(t), newFakeClock(), usermgmt.WithEventHandler(ev.handle))
	ctx := context.Background()
	mustCreate(t, m, "jane_doe")
	if got := ev.got(); !slices.Equal(got, []string{usermgmt.AuditUserCreated}) {
		t.Fatalf("events after CreateUser: %v", got)
	}

	// Inside InTx an entry is published once the transaction commits, and
	// never when it rolls back.
	boom := errors.New("boom")
	err := m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := m.AppendAudit(ctx, tx, usermgmt.AuditEntry{Action: "feature-rolled-back"}); err != nil {
			return err
		}
		if n := len(ev.got()); n != 1 {
			t.Errorf("published before the commit: %v", ev.got())
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	err = m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		return m.InTx(ctx, func(ctx context.Context, inner usermgmt.Store) error { // nested: joins
			return m.AppendAudit(ctx, inner, usermgmt.AuditEntry{Action: "feature-committed", Detail: "d"})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.got(); !slices.Equal(got, []string{usermgmt.AuditUserCreated, "feature-committed"}) {
		t.Fatalf("events: %v", got)
	}
	es, err := m.Audit(ctx, usermgmt.AuditQuery{Actions: []string{"feature-committed", "feature-rolled-back"}})
	if err != nil || len(es) != 1 || es[0].Detail != "d" || es[0].Time.IsZero() {
		t.Fatalf("audit log: %+v, %v", es, err)
	}
}

// A feature is initialised once by New, after the core; its error fails New.
type testFeature struct {
	inits int
	err   error
	m     *usermgmt.Manager
}

func (f *testFeature) FeatureName() string { return "test" }
func (f *testFeature) InitFeature(m *usermgmt.Manager) error {
	f.inits++
	f.m = m
	return f.err
}

func TestFeatureInit(t *testing.T) {
	f := &testFeature{}
	m := newManager(t, openStore(t), newFakeClock(), usermgmt.WithFeature(f))
	if f.inits != 1 || f.m != m || len(m.Features()) != 1 || m.Features()[0] != f {
		t.Fatalf("inits %d, features %v", f.inits, m.Features())
	}
	bad := &testFeature{err: errors.New("no")}
	_, err := usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4},
		usermgmt.WithFeature(bad))
	if !errors.Is(err, bad.err) {
		t.Fatalf("New with a failing feature: %v", err)
	}
}

func TestOpenSessionAuthMethod(t *testing.T) {
	m := newManager(t, openStore(t), newFakeClock())
	ctx := context.Background()
	u := mustCreate(t, m, "jane_doe")
	tok, err := m.OpenSession(ctx, u, usermgmt.AuthMethod("passkey"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	es, err := m.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID, Actions: []string{usermgmt.AuditLogin}})
	if err != nil || len(es) != 1 || es[0].Detail != "method=passkey" {
		t.Fatalf("login audit: %+v, %v", es, err)
	}
}

func TestSignIn(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, openStore(t), clock)
	ctx := context.Background()
	u := mustCreate(t, m, "jane_doe")
	tok, err := m.SignIn(ctx, u, "magic_link", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	es, err := m.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID, Actions: []string{usermgmt.AuditLogin}})
	if err != nil || len(es) != 1 || es[0].Detail != "method=magic_link" {
		t.Fatalf("login audit: %+v, %v", es, err)
	}

	// With two-factor login on, the second step is still due after a
	// first factor, and skipped after a proof of both.
	setup, err := m.SetupOTP(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(setup.Secret, clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.ChangeOTPMethod(ctx, u.UUID, usermgmt.OTPAuthenticator, code, ""); err != nil {
		t.Fatalf("enable TOTP: %v", err)
	}
	u, _ = m.User(ctx, u.UUID)
	_, err = m.SignIn(ctx, u, "magic_link", false)
	var ch *usermgmt.OTPChallengeError
	if !errors.As(err, &ch) || !errors.Is(err, usermgmt.ErrOTPRequired) || ch.Token == "" {
		t.Fatalf("SignIn with TOTP on: %v, want the OTP challenge", err)
	}
	if _, err := m.SignIn(ctx, u, "passkey", true); err != nil {
		t.Fatalf("SignIn with both factors: %v", err)
	}

	// An inactive account is refused.
	if _, err := m.Ban(ctx, u.UUID, "spam"); err != nil {
		t.Fatal(err)
	}
	u, _ = m.User(ctx, u.UUID)
	if _, err := m.SignIn(ctx, u, "passkey", true); !errors.Is(err, usermgmt.ErrInactiveUser) {
		t.Fatalf("SignIn of a banned account: %v", err)
	}
}

// TestCheckSignInProof: a feature's guessable proof counts toward the
// lockout as passwords do, and a locked account's proofs are not checked.
func TestCheckSignInProof(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := newManager(t, openStore(t), clock)
	u := mustCreate(t, m, "jane_doe")
	checks := 0
	proof := func(right bool) func(context.Context) (bool, error) {
		return func(context.Context) (bool, error) { checks++; return right, nil }
	}
	if ok, err := m.CheckSignInProof(ctx, u, "email_code", proof(true)); !ok || err != nil {
		t.Fatalf("right proof: %v, %v", ok, err)
	}
	if ok, err := m.CheckSignInProof(ctx, nil, "email_code", proof(false)); ok || err != nil || checks != 2 {
		t.Fatalf("unknown account: %v, %v (checks %d); want false, nil and the check run", ok, err, checks)
	}
	for i := range usermgmt.DefaultLockout.Threshold {
		if ok, err := m.CheckSignInProof(ctx, u, "email_code", proof(false)); ok || err != nil {
			t.Fatalf("wrong proof %d: %v, %v", i, ok, err)
		}
	}
	// Locked: even a right proof fails, unchecked, and so does a password.
	checks = 0
	if ok, err := m.CheckSignInProof(ctx, u, "email_code", proof(true)); ok || err != nil || checks != 0 {
		t.Fatalf("locked account: %v, %v (checks %d); want false, nil, unchecked", ok, err, checks)
	}
	if _, err := m.Login(ctx, "jane_doe", goodPassword); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Fatalf("password login on the account the proofs locked: %v", err)
	}
	entries, err := m.History(ctx, u.UUID, 50)
	if err != nil {
		t.Fatal(err)
	}
	failed, locked := 0, 0
	for _, e := range entries {
		switch {
		case e.Action == usermgmt.AuditLoginFailed && e.Detail == "method=email_code":
			failed++
		case e.Action == usermgmt.AuditAccountLocked:
			locked++
		}
	}
	if failed != usermgmt.DefaultLockout.Threshold+1 || locked != 1 {
		t.Errorf("audit: %d failed sign-ins by code, %d locks; want %d and 1", failed, locked, usermgmt.DefaultLockout.Threshold+1)
	}

	// TellOwner: the right proof on a locked account learns of the lock.
	mt, err := usermgmt.New(usermgmt.Config{Store: m.Store(), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet,
		Clock: clock.Now, Lockout: usermgmt.LockoutPolicy{TellOwner: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mt.Close() })
	if ok, err := mt.CheckSignInProof(ctx, u, "email_code", proof(true)); ok || !errors.Is(err, usermgmt.ErrAccountLocked) {
		t.Errorf("TellOwner, right proof on a locked account: %v, %v; want ErrAccountLocked", ok, err)
	}
	if ok, err := mt.CheckSignInProof(ctx, u, "email_code", proof(false)); ok || err != nil {
		t.Errorf("TellOwner, wrong proof on a locked account: %v, %v; want false, nil", ok, err)
	}
}

// TestRenderFeatureMail: a feature's template renders in the core's
// layout, and a value it names that the data lacks is an error.
func TestRenderFeatureMail(t *testing.T) {
	m := newManager(t, openStore(t), newFakeClock())
	ctx := context.Background()
	d := m.MailData(ctx, &usermgmt.User{Username: "jane_doe", Email: "jane@example.com"})
	d.Code = "123456"
	subject, text, html, err := m.RenderFeatureMail(ctx, "feature_code", `{{define "subject"}}Code   for {{.Username}}{{end}}Your code: {{.Code}}`,
		`{{define "content"}}<p>{{.Code}}</p>{{end}}`, d)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Code for jane_doe" || text != "Your code: 123456\n" || !strings.Contains(html, "<p>123456</p>") || !strings.Contains(html, "<html") {
		t.Errorf("rendered %q %q %q", subject, text, html)
	}
	if _, _, _, err := m.RenderFeatureMail(ctx, "bad", `{{define "subject"}}x{{end}}{{.Nope}}`, `{{define "content"}}{{end}}`, d); err == nil {
		t.Error("a template naming an unknown field rendered")
	}
	if _, _, _, err := m.RenderFeatureMail(ctx, "nosubject", `no subject`, `{{define "content"}}{{end}}`, d); err == nil {
		t.Error("a template without a subject rendered")
	}
}
