package usermgmt

import (
	"context"
	"errors"
	"fmt"
)

// A PasswordChecker is a rule a new password must pass beyond
// PasswordPolicy: a breached-password lookup (package breach), a rule on
// the account's own name (package passwordrules), a host's own list. It is
// the core's seam for password checks, so that the core links none of
// them.
//
// The Manager asks every checker of WithPasswordChecker, in order, each
// time a password is set: on register and CreateUser, on a password
// reset, on a password change, and on a patch that sets a password. It
// asks after PasswordPolicy and its own checks of the request (the reset
// token, the old password), and before hashing. An imported hash
// (NewUser.PasswordHash) is not checked: there is no password to ask
// about.
//
// CheckPassword returns nil to accept the password, and an *Error made
// with NewError (a 4xx status and a stable code) to refuse it; any other
// error fails the request. A checker that depends on a remote service
// decides itself whether to fail open.
type PasswordChecker interface {
	CheckPassword(ctx context.Context, c PasswordCheck) error
}

// PasswordCheckFunc adapts a function to PasswordChecker.
type PasswordCheckFunc func(ctx context.Context, c PasswordCheck) error

// CheckPassword implements PasswordChecker.
func (f PasswordCheckFunc) CheckPassword(ctx context.Context, c PasswordCheck) error {
	return f(ctx, c)
}

// PasswordCheck is what a PasswordChecker is asked about: the new password
// and the account it is for, as the account will be after the change.
type PasswordCheck struct {
	// Password is the new password, already within PasswordPolicy.
	Password string
	// Username and Email are the account's (the new ones when the same
	// request changes them); Email is normalized, "" when unknown.
	Username, Email string
	// UserUUID is the account's, "" on register and CreateUser.
	UserUUID string
	// Action is the audit action of the change: AuditRegister,
	// AuditUserCreated, AuditPasswordReset or AuditPasswordChange (a
	// change by the user or a patch by an admin).
	Action string
}

// WithPasswordChecker adds checkers that every new password must pass
// (see PasswordChecker), asked in order.
func WithPasswordChecker(cs ...PasswordChecker) Option {
	return func(m *Manager) { m.pwCheckers = append(m.pwCheckers, cs...) }
}

// runPasswordCheckers asks every checker about c; the first refusal wins.
func (m *Manager) runPasswordCheckers(ctx context.Context, c PasswordCheck) error {
	for _, pc := range m.pwCheckers {
		if err := pc.CheckPassword(ctx, c); err != nil {
			var e *Error
			if errors.As(err, &e) || ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("usermgmt: password check: %w", err)
		}
	}
	return nil
}

// checkUserPassword runs the checkers for a new password of u.
func (m *Manager) checkUserPassword(ctx context.Context, u *User, password, action string) error {
	if len(m.pwCheckers) == 0 {
		return nil
	}
	return m.runPasswordCheckers(ctx, PasswordCheck{
		Password: password, Username: u.Username, Email: u.Email, UserUUID: u.UUID, Action: action,
	})
}

// patched is the account a PasswordChecker is asked about for a patch of
// u: u with the username and email p sets (when valid; an invalid one is
// refused by the patch itself).
func (p UserPatch) patched(u *User) *User {
	n := &User{UUID: u.UUID, Username: u.Username, Email: u.Email}
	if p.Username != nil && ValidateUsername(*p.Username) == nil {
		n.Username = *p.Username
	}
	if p.Email != nil {
		if e, err := NormalizeEmail(*p.Email); err == nil {
			n.Email = e
		}
	}
	return n
}
