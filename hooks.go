package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Hooks are the host's in-process callbacks around sign-up and sign-in
// (Config.Hooks). Every field is optional. They run on the request's
// goroutine, outside any store transaction, under the request's context:
// a slow hook delays its request (up to the context's deadline), never
// another one, and holds no database lock meanwhile. They see copies of
// the user and session without the password hash, OTP secret or refresh
// hashes.
//
// A refusal (BeforeRegister, BeforeLogin) is answered as the hook says
// when it is an *Error (NewError, or a sentinel such as ErrForbidden,
// found with errors.As through wrapping): its status, code and message
// reach the client. Any other error refuses with ErrRegistrationRefused
// or ErrLoginRefused (403), its text logged and never sent: an error is
// a refusal, so a broken hook fails closed, never with a 500 (unless it
// returns a 5xx *Error itself).
//
// The stream of what changed (accounts created, sessions opened, ...)
// after commit is not a hook here: WithEventHandler receives every audit
// entry, and the webhook package's Hooks.OnEvent turns them into the
// events its webhooks deliver (docs/webhooks.md). See docs/hooks.md.
type Hooks struct {
	// BeforeRegister decides whether a visitor may create an account:
	// Register, a third-party (OAuth) login that would create one, and a
	// feature's self-service sign-up (emaillogin's, through
	// Manager.CheckRegistration). Not the host's or an admin's
	// CreateUser. It is called once the input is valid (username and
	// email normalised; Password cleared) and before anything is looked
	// up or written, so that its refusal tells nothing about which names
	// are taken and leaves no trace.
	BeforeRegister func(ctx context.Context, nu NewUser) error
	// BeforeLogin decides whether u may sign in, once every factor is
	// proven (the password and the second factor, a provider, a passkey,
	// a link or a mailed code) and just before the session opens: every
	// path to a session calls it, method naming the path (see the
	// Method... constants, a feature's SignIn method such as "passkey",
	// "magic_link" or "email_code", or OpenSession's AuthMethod). The
	// session a registration opens does not pass it: BeforeRegister
	// decided about that account.
	BeforeLogin func(ctx context.Context, u *User, method string) error
	// AfterLogin is told of each session BeforeLogin let open, after its
	// transaction committed and before the tokens are returned. It cannot
	// fail the login: a panic is recovered and logged. A host that has
	// slow work to do queues it.
	AfterLogin func(ctx context.Context, u *User, s *Session, method string)
}

// The methods BeforeLogin and AfterLogin name for the core's own sign-in
// paths.
const (
	// MethodPassword is Login's username-or-email and password.
	MethodPassword = "password"
	// MethodOTP is LoginOTP: the second factor that completes a password
	// or third-party login of an account with two-factor login on.
	MethodOTP = "otp"
	// MethodOAuth is a third-party login that needs no second factor
	// (OAuthCallback); "oauth:<provider>" names the provider.
	MethodOAuth = "oauth"
	// MethodSession is OpenSession without an AuthMethod.
	MethodSession = "session"
)

var (
	// ErrRegistrationRefused is the answer to a registration that
	// Config.Hooks.BeforeRegister refused with an error that is no *Error.
	ErrRegistrationRefused = newError(http.StatusForbidden, "registration_refused", "This account cannot be created.")
	// ErrLoginRefused is the answer to a sign-in that
	// Config.Hooks.BeforeLogin refused with an error that is no *Error.
	ErrLoginRefused = newError(http.StatusForbidden, "login_refused", "This sign-in is not allowed.")
)

// CheckRegistration asks Config.Hooks.BeforeRegister whether a visitor may
// create the account nu: the seam for a feature whose self-service
// sign-up creates accounts through CreateUser (emaillogin). It returns nil
// when there is no hook, and the refusal (see Hooks) otherwise. nu is
// validated and normalised first; invalid input is answered as
// CreateUser would.
func (m *Manager) CheckRegistration(ctx context.Context, nu NewUser) error {
	if m.cfg.Hooks.BeforeRegister == nil {
		return nil
	}
	if nu.PasswordHash == "" && nu.Password == "" {
		nu.PasswordHash = "-" // checked by its own caller; not the hook's concern
	}
	u, err := m.prepareNewUser(nu)
	if err != nil {
		return err
	}
	return m.beforeRegister(ctx, u)
}

// beforeRegister calls BeforeRegister for the prepared new user u.
func (m *Manager) beforeRegister(ctx context.Context, u *User) error {
	h := m.cfg.Hooks.BeforeRegister
	if h == nil {
		return nil
	}
	nu := NewUser{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Roles: append([]string(nil), u.Roles...), Description: u.Description,
		EmailVerified: u.EmailVerified, Inactive: !u.IsActive}
	return m.hookRefusal(ctx, "BeforeRegister", h(ctx, nu), ErrRegistrationRefused)
}

// beforeLogin calls BeforeLogin; method "" (a registration's session)
// skips it.
func (m *Manager) beforeLogin(ctx context.Context, u *User, method string) error {
	h := m.cfg.Hooks.BeforeLogin
	if h == nil || method == "" {
		return nil
	}
	return m.hookRefusal(ctx, "BeforeLogin", h(ctx, hookUser(u), method), ErrLoginRefused)
}

// afterLogin calls AfterLogin, recovering its panic.
func (m *Manager) afterLogin(ctx context.Context, u *User, s *Session, method string) {
	h := m.cfg.Hooks.AfterLogin
	if h == nil || method == "" {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			m.log.ErrorContext(ctx, "AfterLogin hook panicked", "user", u.UUID, "panic", fmt.Sprint(r))
		}
	}()
	sc := *s
	sc.RefreshHash, sc.PrevRefreshHash, sc.SealedSuccessor = nil, nil, nil
	h(ctx, hookUser(u), &sc, method)
}

// hookRefusal turns a hook's error into the answer (see Hooks).
func (m *Manager) hookRefusal(ctx context.Context, hook string, err error, refused *Error) error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e
	}
	m.log.InfoContext(ctx, "hook refused", "hook", hook, "err", err)
	return refused.Wrap(err)
}

// hookUser is a copy of u without the secrets a hook has no use for.
func hookUser(u *User) *User {
	c := u.clone()
	c.PasswordHash, c.OTPSecret = "", ""
	return c
}
