package usermgmt

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Recovery codes: ten per user, each 10 characters of the lower-case
// base32 alphabet (50 bits), shown as "xxxxx-xxxxx".
const (
	recoveryCodeCount = 10
	recoveryCodeLen   = 10
	recoveryAlphabet  = "abcdefghijklmnopqrstuvwxyz234567"
)

// ParseOTPCode checks a one-time code from a client: exactly digits
// decimal digits (surrounding spaces and inner spaces or dashes, as users
// copy them, are ignored).
func ParseOTPCode(s string, digits int) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-':
		default:
			return "", false
		}
	}
	if b.Len() != digits {
		return "", false
	}
	return b.String(), true
}

// ParseRecoveryCode checks a recovery code from a client and returns its
// canonical form (lower case, no dash or spaces).
func ParseRecoveryCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c == '-' || c == ' ':
		case strings.ContainsRune(recoveryAlphabet, c):
			b.WriteRune(c)
		default:
			return "", false
		}
	}
	if b.Len() != recoveryCodeLen {
		return "", false
	}
	return b.String(), true
}

// newRecoveryCodes returns ten codes to show and their hashed records.
func (m *Manager) newRecoveryCodes(userUUID string) ([]string, []*RecoveryCode, error) {
	codes := make([]string, recoveryCodeCount)
	records := make([]*RecoveryCode, recoveryCodeCount)
	now := m.now()
	for i := range codes {
		raw, err := m.randomBytes(recoveryCodeLen)
		if err != nil {
			return nil, nil, err
		}
		c := make([]byte, recoveryCodeLen)
		for j, r := range raw {
			c[j] = recoveryAlphabet[r%32] // 256 is a multiple of 32: no bias
		}
		id, err := m.newUUID()
		if err != nil {
			return nil, nil, err
		}
		codes[i] = string(c[:5]) + "-" + string(c[5:])
		records[i] = &RecoveryCode{ID: id, UserUUID: userUUID, CodeHash: m.codeMAC("recovery", userUUID, string(c)), CreatedAt: now}
	}
	return codes, records, nil
}

// verifySecondFactor checks code for method (and, when allowRecovery, as
// a recovery code) in one transaction that also keeps the user's failure
// count: ErrOTPLocked while the second step is locked, ErrInvalidOTP for a
// wrong code (the failure that reaches OTPMaxFailures answers ErrOTPLocked).
func (m *Manager) verifySecondFactor(ctx context.Context, u *User, method, code string, allowRecovery bool) error {
	var outcome error
	err := m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		cur, err := tx.LockUser(ctx, u.UUID)
		if err != nil {
			return err
		}
		st, err := tx.OTPState(ctx, u.UUID)
		if err != nil {
			return err
		}
		now := m.now()
		if st.LockedUntil != nil && now.Before(*st.LockedUntil) {
			outcome = ErrOTPLocked
			return nil
		}
		ok, err := m.matchCode(ctx, tx, cur, st, method, code, allowRecovery, now)
		if err != nil {
			return err
		}
		outcome = m.countOutcome(ctx, tx, st, ok, now)
		return tx.SaveOTPState(ctx, st)
	})
	if err != nil {
		return err
	}
	return outcome
}

// countOutcome updates st after a check and returns what to answer.
func (m *Manager) countOutcome(ctx context.Context, tx Store, st *OTPState, ok bool, now time.Time) error {
	if ok {
		st.Failures, st.LockedUntil = 0, nil
		return nil
	}
	st.Failures++
	if st.Failures >= m.cfg.OTPMaxFailures {
		until := now.Add(m.cfg.OTPLockout)
		st.Failures, st.LockedUntil = 0, &until
		m.log.WarnContext(ctx, "second step locked", "user", st.UserUUID)
		if err := m.audit(ctx, tx, "", st.UserUUID, AuditOTPLocked, ""); err != nil {
			return err
		}
		return ErrOTPLocked
	}
	if err := m.audit(ctx, tx, "", st.UserUUID, AuditOTPFailed, ""); err != nil {
		return err
	}
	return ErrInvalidOTP
}

// checkLock answers ErrOTPLocked while the user's second step is locked.
func (m *Manager) checkLock(ctx context.Context, userUUID string) error {
	st, err := m.store.OTPState(ctx, userUUID)
	if err != nil {
		return err
	}
	if st.LockedUntil != nil && m.now().Before(*st.LockedUntil) {
		return ErrOTPLocked
	}
	return nil
}

// recordFailure counts one failure of the second step.
func (m *Manager) recordFailure(ctx context.Context, userUUID string) error {
	var outcome error
	err := m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if _, err := tx.LockUser(ctx, userUUID); err != nil {
			return err
		}
		st, err := tx.OTPState(ctx, userUUID)
		if err != nil {
			return err
		}
		outcome = m.countOutcome(ctx, tx, st, false, m.now())
		return tx.SaveOTPState(ctx, st)
	})
	if err != nil {
		return err
	}
	return outcome
}

// matchCode reports whether code is valid, spending what it matched (the
// TOTP step, the email code, the recovery code).
func (m *Manager) matchCode(ctx context.Context, tx Store, u *User, st *OTPState, method, code string, allowRecovery bool, now time.Time) (bool, error) {
	if digits, ok := ParseOTPCode(code, m.cfg.OTPLength); ok {
		switch method {
		case OTPAuthenticator:
			return m.matchTOTP(u, st, digits, now)
		case OTPEmail:
			return m.matchEmailCode(ctx, tx, u, digits, now)
		}
		return false, nil
	}
	rc, ok := ParseRecoveryCode(code)
	if !ok || !allowRecovery {
		return false, nil
	}
	codes, err := tx.RecoveryCodes(ctx, u.UUID)
	if err != nil {
		return false, err
	}
	for _, c := range codes {
		if m.codeMatches(c.CodeHash, "recovery", u.UUID, rc) {
			return tx.UseRecoveryCode(ctx, c.ID, now)
		}
	}
	return false, nil
}

// matchTOTP accepts a code of the current step or one step either side,
// never a step at or before the last one accepted.
func (m *Manager) matchTOTP(u *User, st *OTPState, code string, now time.Time) (bool, error) {
	secret, err := m.openOTPSecret(u.UUID, u.OTPSecret)
	if err != nil || secret == "" {
		return false, err
	}
	period := int64(m.cfg.OTPInterval / time.Second)
	digits := otp.DigitsSix
	if m.cfg.OTPLength == 8 {
		digits = otp.DigitsEight
	}
	opts := totp.ValidateOpts{Period: uint(period), Digits: digits, Algorithm: otp.AlgorithmSHA1}
	cur := now.Unix() / period
	match := int64(-1)
	for step := cur - 1; step <= cur+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*period, 0), opts)
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > st.LastStep && match < 0 {
			match = step
		}
	}
	if match < 0 {
		return false, nil
	}
	st.LastStep = match
	return true, nil
}

// matchEmailCode accepts the user's live mailed code, spending it.
func (m *Manager) matchEmailCode(ctx context.Context, tx Store, u *User, code string, now time.Time) (bool, error) {
	ts, err := tx.OneTimeTokensByUser(ctx, u.UUID, PurposeEmailOTP)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if now.Before(t.ExpiresAt) && m.codeMatches(t.TokenHash, PurposeEmailOTP, u.UUID, code) {
			return tx.UseOneTimeToken(ctx, t.ID, now)
		}
	}
	return false, nil
}
