package emaillogin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

// RequestCode asks for a sign-in code to be mailed to email. It answers
// nil, at once, whether or not the address has an account (see the
// package doc); only a malformed address (usermgmt.ErrInvalidEmail) is
// refused.
func (f *EmailLogin) RequestCode(ctx context.Context, email string) error {
	if f.cfg.DisableCodes {
		return ErrCodesDisabled
	}
	addr, err := usermgmt.NormalizeEmail(email)
	if err != nil {
		return err
	}
	f.enqueue(ctx, MailEmailCode, func(ctx context.Context) error { return f.sendCode(ctx, addr) })
	return nil
}

// sendCode is the background half of RequestCode.
func (f *EmailLogin) sendCode(ctx context.Context, addr string) error {
	if !f.m.HasMailer() {
		return nil
	}
	u, err := f.m.UserByLogin(ctx, addr)
	switch {
	case errors.Is(err, usermgmt.ErrUserNotFound):
		return nil
	case err != nil:
		return err
	case !u.IsActive || u.Email != addr:
		return nil
	}
	code, err := f.newCode()
	if err != nil {
		return err
	}
	if err := f.put(ctx, secretstore.KindCode, addr, u.UUID, f.codeMAC(f.codeKeys[0], addr, code), "", f.cfg.CodeTTL); err != nil {
		return err
	}
	if err := f.m.AppendAudit(ctx, f.m.Store(), usermgmt.AuditEntry{SubjectUUID: u.UUID, Action: AuditCodeSent}); err != nil {
		return err
	}
	return f.send(ctx, u, MailEmailCode, "", code, f.cfg.CodeTTL)
}

// newCode draws a code of CodeDigits digits, uniformly (rejection
// sampling: no digit is likelier than another).
func (f *EmailLogin) newCode() (string, error) {
	const space = 1_000_000 // 10^CodeDigits
	const limit = (1 << 32) / space * space
	for {
		b, err := f.random(4)
		if err != nil {
			return "", err
		}
		if n := binary.BigEndian.Uint32(b); n < limit {
			return fmt.Sprintf("%0*d", CodeDigits, n%space), nil
		}
	}
}

// ValidCode reports whether s has the shape of a sign-in code: exactly
// CodeDigits ASCII digits.
func ValidCode(s string) bool {
	if len(s) != CodeDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// codeMAC is the stored hash of a code: keyed, so that a copy of the
// database alone cannot be searched for the codes, and bound to the
// address.
func (f *EmailLogin) codeMAC(key []byte, addr, code string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(addr))
	mac.Write([]byte{0})
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

// codeMatches compares stored with the MAC of code under every key, each
// in constant time.
func (f *EmailLogin) codeMatches(stored []byte, addr, code string) bool {
	ok := false
	for _, k := range f.codeKeys {
		if subtle.ConstantTimeCompare(stored, f.codeMAC(k, addr, code)) == 1 {
			ok = true
		}
	}
	return ok
}

// VerifyCode signs in with the code mailed to email. Every guess is
// counted twice: against the code (MaxCodeAttempts, then the code is
// void) and by the login lockout (usermgmt.Manager.CheckSignInProof).
// A right code is spent, the address marked verified and the session
// opened with the login rules (usermgmt.Manager.SignIn: an account with
// two-factor login gets the OTP-REQUIRED challenge). A wrong, used,
// voided or expired code, an address without a code and an unknown
// address are all ErrCodeInvalid; a malformed code reaches no store.
func (f *EmailLogin) VerifyCode(ctx context.Context, email, code string) (*usermgmt.Tokens, error) {
	if f.cfg.DisableCodes {
		return nil, ErrCodesDisabled
	}
	addr, err := usermgmt.NormalizeEmail(email)
	if err != nil || !ValidCode(code) {
		return nil, ErrCodeInvalid
	}
	st, err := f.store()
	if err != nil {
		return nil, err
	}
	u, err := f.m.UserByLogin(ctx, addr)
	if err != nil && !errors.Is(err, usermgmt.ErrUserNotFound) {
		return nil, err
	}
	if u != nil && u.Email != addr { // a username that looks like an address
		u = nil
	}
	ok, err := f.m.CheckSignInProof(ctx, u, MethodEmailCode, func(ctx context.Context) (bool, error) {
		return f.checkCode(ctx, st, u, addr, code)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrCodeInvalid
	}
	t, _, err := f.signIn(ctx, u, addr, MethodEmailCode)
	return t, err
}

// checkCode counts a guess at the code of addr and, when it is right,
// spends it; the last wrong guess voids it. For an unknown account (u
// nil) it does the same MAC work and finds nothing.
func (f *EmailLogin) checkCode(ctx context.Context, st secretstore.Store, u *usermgmt.User, addr, code string) (bool, error) {
	now := f.now()
	s, err := st.SecretByEmail(ctx, secretstore.KindCode, addr, now)
	if errors.Is(err, usermgmt.ErrNotFound) {
		f.codeMatches(make([]byte, sha256.Size), addr, code)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if u == nil || s.UserUUID != u.UUID {
		f.codeMatches(make([]byte, sha256.Size), addr, code)
		return false, nil
	}
	n, err := st.CountSecretAttempt(ctx, s.ID, f.cfg.MaxCodeAttempts, now)
	if errors.Is(err, usermgmt.ErrNotFound) { // out of attempts, expired or spent meanwhile
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !f.codeMatches(s.Hash, addr, code) {
		if n >= f.cfg.MaxCodeAttempts {
			if _, err := st.DeleteSecret(ctx, s.ID); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	return st.DeleteSecret(ctx, s.ID) // false: a parallel guess spent it first
}
