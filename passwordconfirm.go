package usermgmt

import (
	"context"
	"errors"
)

// CheckPassword checks the password of the account userUUID without
// opening a session, for a host that asks a signed-in user to confirm an
// action with their password (deleting the account, say). It follows the
// rules of Login: the try counts in the lockout (LockoutPolicy) before the
// hash is compared, a right password clears the account's failures, a
// wrong one is audited as a failed login (detail "method=password-check")
// and may lock the account, and a hash is compared in every case (a
// decoy hash for an account without a password, or a locked one unless
// the policy tells the owner), so the answer's time does not tell them
// apart.
//
// It returns nil for the right password; ErrWrongPasswordChange for a
// wrong one or an account without a password; on a locked account
// ErrRateLimited, or with LockoutPolicy.TellOwner and the right password
// ErrAccountLocked with the time left; ErrUserNotFound for an unknown
// account. An impersonating caller (ContextWithCaller) gets
// ErrImpersonated and nothing is counted: the password is the owner's to
// type.
func (m *Manager) CheckPassword(ctx context.Context, userUUID, password string) error {
	if err := RefuseImpersonated(ctx); err != nil {
		return err
	}
	u, err := m.User(ctx, userUUID)
	if err != nil {
		return err
	}
	attempt, err := m.beginLoginAttempt(ctx, u) // lockout.go
	if err != nil {
		return err
	}
	checks := u.PasswordHash != "" && attempt.checksPassword(m.cfg.Lockout)
	hash := m.dummyHash
	if checks {
		hash = u.PasswordHash
	}
	cmpErr := m.comparePassword(ctx, hash, password)
	if cmpErr != nil && !errors.Is(cmpErr, ErrWrongPassword) {
		return cmpErr // the end of ctx
	}
	right := checks && cmpErr == nil
	failed := !right || attempt.locked
	if err := m.endLoginAttempt(ctx, u, attempt, !failed); err != nil {
		return err
	}
	if !failed {
		return nil
	}
	detail := "method=password-check"
	if right {
		detail += ", account locked"
	}
	m.cache.invalidateUser(u.UUID)
	if err := m.audit(ctx, m.store, "", u.UUID, AuditLoginFailed, detail); err != nil {
		return err
	}
	switch {
	case right: // the owner's password on a locked account (TellOwner)
		return m.lockedError(attempt)
	case attempt.locked:
		return ErrRateLimited.WithMessage("Too many wrong passwords; try again later.")
	}
	return ErrWrongPasswordChange
}
