package usermgmt

import (
	"context"
	"errors"
	"time"
)

// LockoutPolicy locks an account after repeated failed logins. Attempts
// are counted in the store, atomically and before the password is checked,
// so parallel guesses (from any number of instances) cannot check more
// than Threshold passwords per Window.
//
// A locked account answers every login, even with the right password,
// exactly as an unknown account does (ErrInvalidLogin after a dummy
// password comparison): telling "locked" apart would confirm to a guesser
// that the account exists. Its owner gets back in when the lock ends or by
// resetting the password (UnlockAccount).
type LockoutPolicy struct {
	// Threshold is how many failed logins within Window lock the account.
	// Default 5; negative turns lockout off.
	Threshold int
	// Window is the period failures are counted over. Default 15 minutes.
	Window time.Duration
	// Duration is how long the account stays locked. Default 15 minutes.
	Duration time.Duration
}

// loginAttempt is what beginLoginAttempt learned about an account.
type loginAttempt struct {
	counted  bool // the attempt was counted (lockout on, account known)
	locked   bool // refuse without checking the password
	failures int
}

// beginLoginAttempt counts an attempt on u before its password is checked.
func (m *Manager) beginLoginAttempt(ctx context.Context, u *User) (loginAttempt, error) {
	p := m.cfg.Lockout
	if u == nil || p.Threshold < 0 {
		return loginAttempt{}, nil
	}
	now := m.now()
	st, err := m.store.CountLoginAttempt(ctx, u.UUID, now, now.Add(-p.Window))
	if errors.Is(err, ErrNotFound) { // deleted meanwhile
		return loginAttempt{}, nil
	}
	if err != nil {
		return loginAttempt{}, err
	}
	locked := st.LockedUntil.After(now) || st.Failures > p.Threshold
	return loginAttempt{counted: true, locked: locked, failures: st.Failures}, nil
}

// endLoginAttempt records the outcome of a counted attempt: a success
// clears the count; the failure that reaches the threshold locks the
// account.
func (m *Manager) endLoginAttempt(ctx context.Context, u *User, a loginAttempt, ok bool) error {
	if !a.counted {
		return nil
	}
	if ok {
		return m.store.ClearLoginFailures(ctx, u.UUID)
	}
	if a.locked || a.failures < m.cfg.Lockout.Threshold {
		return nil
	}
	until := m.now().Add(m.cfg.Lockout.Duration)
	if err := m.store.LockAccount(ctx, u.UUID, until); err != nil {
		return err
	}
	m.log.WarnContext(ctx, "account locked after failed logins", "user", u.UUID, "until", until)
	return m.audit(ctx, m.store, "", u.UUID, AuditAccountLocked, "until "+until.Format(time.RFC3339))
}

// UnlockAccount ends a lockout and forgets the failed logins of a user. A
// successful password reset calls it.
func (m *Manager) UnlockAccount(ctx context.Context, uuid string) error {
	if err := m.store.ClearLoginFailures(ctx, uuid); err != nil {
		return err
	}
	return m.audit(ctx, m.store, "", uuid, AuditAccountUnlock, "")
}
