package usermgmt_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
)

// recordingChecker refuses the password "Refused-Password-1" and records
// what it was asked.
type recordingChecker struct {
	mu    sync.Mutex
	asked []usermgmt.PasswordCheck
}

var errRefused = usermgmt.NewError(http.StatusUnprocessableEntity, "password_refused_by_test", "refused")

func (r *recordingChecker) CheckPassword(_ context.Context, c usermgmt.PasswordCheck) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, c)
	if c.Password == "Refused-Password-1" {
		return errRefused
	}
	return nil
}

func (r *recordingChecker) last(t *testing.T) usermgmt.PasswordCheck {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.asked) == 0 {
		t.Fatal("the checker was not asked")
	}
	return r.asked[len(r.asked)-1]
}

func (r *recordingChecker) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.asked)
}

// TestPasswordCheckerSeam: every way of setting a password asks the
// checkers, with the account as it will be, and their refusal is the
// answer; an imported hash is not asked about.
func TestPasswordCheckerSeam(t *testing.T) {
	rec := &recordingChecker{}
	m := newManager(t, openStore(t), nil, usermgmt.WithPasswordChecker(rec), usermgmt.WithMailer(&mail.Memory{}), usermgmt.WithResolver(okResolver{}))
	ctx := context.Background()

	_, err := m.Register(ctx, usermgmt.NewUser{Username: "new_user", Email: "New@Example.com", Password: "Refused-Password-1"})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Register = %v, want the checker's refusal", err)
	}
	if c := rec.last(t); c.Username != "new_user" || c.Email != "new@example.com" || c.UserUUID != "" || c.Action != usermgmt.AuditRegister {
		t.Fatalf("Register asked %+v", c)
	}
	tok, err := m.Register(ctx, usermgmt.NewUser{Username: "new_user", Email: "new@example.com", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "made_user", Email: "made@example.com", Password: "Refused-Password-1"}); !errors.Is(err, errRefused) {
		t.Fatalf("CreateUser = %v", err)
	}
	if c := rec.last(t); c.Action != usermgmt.AuditUserCreated || c.Username != "made_user" {
		t.Fatalf("CreateUser asked %+v", c)
	}

	// The policy comes first: a weak password never reaches the checkers.
	n := rec.count()
	if _, err := m.Register(ctx, usermgmt.NewUser{Username: "weak_user", Email: "weak@example.com", Password: "short"}); !errors.Is(err, usermgmt.ErrWeakPassword) {
		t.Fatalf("weak: %v", err)
	}
	// An imported hash has no password to ask about.
	hash, err := m.Hasher().Hash(ctx, "Refused-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "imported", Email: "imp@example.com", PasswordHash: hash}); err != nil {
		t.Fatalf("import: %v", err)
	}
	if rec.count() != n {
		t.Fatal("the checker was asked about a weak password or an imported hash")
	}

	p, err := m.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// A wrong old password is answered before the checkers are asked.
	if err := m.ChangePassword(ctx, p, "not-it", "Refused-Password-1", "Refused-Password-1"); !errors.Is(err, usermgmt.ErrWrongPasswordChange) {
		t.Fatalf("ChangePassword with a wrong old password = %v", err)
	}
	if rec.count() != n {
		t.Fatal("asked before the old password was checked")
	}
	if err := m.ChangePassword(ctx, p, goodPassword, "Refused-Password-1", "Refused-Password-1"); !errors.Is(err, errRefused) {
		t.Fatalf("ChangePassword = %v", err)
	}
	if c := rec.last(t); c.Action != usermgmt.AuditPasswordChange || c.UserUUID != p.User().UUID || c.Username != "new_user" {
		t.Fatalf("ChangePassword asked %+v", c)
	}

	// A patch: the checker sees the username and email the patch sets.
	name, email, pw := "renamed_user", "Renamed@Example.com", "Refused-Password-1"
	if _, err := m.UpdateUser(ctx, p.User().UUID, usermgmt.UserPatch{Username: &name, Email: &email, Password: &pw}); !errors.Is(err, errRefused) {
		t.Fatalf("UpdateUser = %v", err)
	}
	if c := rec.last(t); c.Username != name || c.Email != "renamed@example.com" || c.Action != usermgmt.AuditPasswordChange {
		t.Fatalf("UpdateUser asked %+v", c)
	}
	if u, err := m.User(ctx, p.User().UUID); err != nil || u.Username != "new_user" {
		t.Fatalf("the refused patch changed the user: %v %v", u, err)
	}
	if _, err := m.Login(ctx, "new_user", goodPassword); err != nil {
		t.Fatalf("the old password stopped working: %v", err)
	}
}

// A checker's error that is not an *Error fails the request (wrapped, so
// errors.Is still finds it), it is not a refusal of the password.
func TestPasswordCheckerFailure(t *testing.T) {
	boom := errors.New("checker broke")
	m := newManager(t, openStore(t), nil, usermgmt.WithResolver(okResolver{}),
		usermgmt.WithPasswordChecker(usermgmt.PasswordCheckFunc(func(context.Context, usermgmt.PasswordCheck) error { return boom })))
	_, err := m.Register(context.Background(), usermgmt.NewUser{Username: "some_user", Email: "s@example.com", Password: goodPassword})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "password check") {
		t.Fatalf("Register = %v", err)
	}
	var e *usermgmt.Error
	if errors.As(err, &e) {
		t.Fatalf("a broken checker answered %d %s", e.Status, e.Code)
	}
}
