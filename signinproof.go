package usermgmt

import "context"

// CheckSignInProof runs check, a feature's check of a first factor that
// can be guessed (a mailed sign-in code), under the login lockout
// (LockoutPolicy), as Login checks a password: the attempt on u is counted
// before check runs, a right proof clears u's failures, and a wrong one is
// audited as a failed login (detail "method=<method>") and may lock the
// account. u is nil for an unknown account: check still runs (so that the
// work is the same) and the failure is audited without a subject.
//
// It returns true only for a right proof on an account that is not
// locked. While the account is locked check does not run and the answer
// is false, as for a wrong proof; with LockoutPolicy.TellOwner check runs,
// and a right proof gets ErrAccountLocked with the time left. An error of
// check is returned as it is.
func (m *Manager) CheckSignInProof(ctx context.Context, u *User, method string, check func(ctx context.Context) (bool, error)) (bool, error) {
	attempt, err := m.beginLoginAttempt(ctx, u) // lockout.go
	if err != nil {
		return false, err
	}
	right := false
	if attempt.checksPassword(m.cfg.Lockout) {
		if right, err = check(ctx); err != nil {
			return false, err
		}
	}
	failed := !right || attempt.locked
	if err := m.endLoginAttempt(ctx, u, attempt, !failed); err != nil {
		return false, err
	}
	if !failed {
		return true, nil
	}
	subject, detail := "", "method="+cleanText(method, 64)
	if u != nil {
		subject = u.UUID
		m.cache.invalidateUser(u.UUID)
	}
	if right {
		detail += ", account locked"
	}
	if err := m.audit(ctx, m.store, "", subject, AuditLoginFailed, detail); err != nil {
		return false, err
	}
	if right { // the owner's proof on a locked account (TellOwner)
		return false, m.lockedError(attempt)
	}
	return false, nil
}
