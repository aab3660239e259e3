package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LockoutPolicy locks an account after repeated failed logins. Attempts
// are counted in the store, atomically and before the password is checked,
// so parallel guesses (from any number of instances) cannot check more
// than Threshold passwords per Window.
//
// By default a locked account answers every login, even with the right
// password, exactly as an unknown account does (ErrInvalidLogin after a
// dummy password comparison): the lock then caps the passwords a guesser
// can try at Threshold per Window, whatever the rate limits allow. With
// TellOwner set, a locked account's own password answers ErrAccountLocked
// instead. Its owner gets back in when the lock ends, by resetting the
// password, or when an admin (Actor.UnlockAccount) or the host
// (Manager.UnlockAccount) lifts the lock.
//
// The lock is the same for every account, privileged or not: a progressive
// delay would lock an admin out just as well (a guesser keeps it at its
// longest with one request per delay), so the remedies for a locked-out
// admin are the unlock calls and the reset mail, not a softer lock.
type LockoutPolicy struct {
	// Threshold is how many failed logins within Window lock the account.
	// Default 5; negative turns lockout off.
	Threshold int
	// Window is the period failures are counted over. Default 15 minutes.
	Window time.Duration
	// Duration is how long the account stays locked. Default 15 minutes.
	Duration time.Duration
	// TellOwner makes a locked account check the password it is given and
	// answer the right one with ErrAccountLocked (429, with the time left)
	// rather than ErrInvalidLogin, so that its owner learns why the login
	// fails and when to come back. The answer proves the password right:
	// during a lock, guesses are then capped by the rate limits only. Off
	// by default.
	TellOwner bool
}

// loginAttempt is what beginLoginAttempt learned about an account.
type loginAttempt struct {
	counted  bool // the attempt was counted (lockout on, account known)
	locked   bool // the account is locked: the login fails whatever the password
	until    time.Time
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
	a := loginAttempt{counted: true, failures: st.Failures}
	switch {
	case st.LockedUntil.After(now):
		a.locked, a.until = true, st.LockedUntil
	case st.Failures > p.Threshold: // the attempt that locks it has not yet done so
		a.locked, a.until = true, now.Add(p.Duration)
	}
	return a, nil
}

// checksPassword reports whether a login compares the password given with
// the account's own hash (rather than the dummy hash).
func (a loginAttempt) checksPassword(p LockoutPolicy) bool { return !a.locked || p.TellOwner }

// lockedError is the answer to the owner's right password on a locked
// account (LockoutPolicy.TellOwner).
func (m *Manager) lockedError(a loginAttempt) error {
	left := max(a.until.Sub(m.now()), time.Second)
	minutes := int((left + time.Minute - 1) / time.Minute)
	msg := fmt.Sprintf("This account is locked after too many failed logins; try again in %d minute%s or reset your password.",
		minutes, plural(minutes))
	return ErrAccountLocked.WithMessage(msg).WithParam("retry_after", int((left+time.Second-1)/time.Second))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
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
	m.tel.count(ctx, m.tel.lockouts)
	return m.audit(ctx, m.store, "", u.UUID, AuditAccountLocked, "until "+until.Format(time.RFC3339))
}

// UnlockAccount lifts the locks of a user: that of failed logins
// (LockoutPolicy) and that of failed second-step codes, forgetting their
// failures, with an audit entry. It is the host's trusted call (an
// operator's command line, say); Actor.UnlockAccount is an admin's.
func (m *Manager) UnlockAccount(ctx context.Context, uuid string) error {
	_, err := m.unlockAccount(ctx, uuid, "", nil)
	return err
}

// unlockAccount lifts the locks of a user after authorize (when not nil)
// allows it, and returns the user.
func (m *Manager) unlockAccount(ctx context.Context, uuid, actorUUID string, authorize func(*User) error) (*User, error) {
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(u); err != nil {
			return nil, err
		}
	}
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if err := tx.ClearLoginFailures(ctx, u.UUID); err != nil {
			return err
		}
		st, err := tx.OTPState(ctx, u.UUID)
		if err != nil {
			return err
		}
		if st.Failures != 0 || st.LockedUntil != nil {
			st.Failures, st.LockedUntil = 0, nil
			if err := tx.SaveOTPState(ctx, st); err != nil {
				return err
			}
		}
		return m.audit(ctx, tx, actorUUID, u.UUID, AuditAccountUnlock, "")
	})
	if err != nil {
		return nil, err
	}
	m.cache.invalidateUser(u.UUID) // its history changed
	m.log.InfoContext(ctx, "account unlocked", "user", u.UUID, "by", actorUUID)
	return u, nil
}

// endLoginLockout ends the password lockout of a user whose password reset
// proved the address (not the second-step lock: the reset proves nothing of
// the second factor).
func (m *Manager) endLoginLockout(ctx context.Context, uuid string) error {
	if err := m.store.ClearLoginFailures(ctx, uuid); err != nil {
		return err
	}
	return m.audit(ctx, m.store, "", uuid, AuditAccountUnlock, "password reset")
}
