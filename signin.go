package usermgmt

import "context"

// SignIn finishes a sign-in whose proof a feature package has checked (a
// magic link, a mailed code, a passkey), with the rules of a password
// login after its correct password: an inactive account gets its reason
// (ErrInactiveUser), an unverified address ErrEmailNotVerified when
// Config.RequireVerifiedEmail is on, and an account with two-factor login
// on the same *OTPChallengeError (matching ErrOTPRequired) as Login, which
// LoginOTP completes. bothFactors skips the second step, for a proof that
// is already two factors (a passkey with user verification). Otherwise it
// opens a session, the login's audit entry naming method ("passkey",
// "magic_link" ...) as OpenSession's AuthMethod does.
func (m *Manager) SignIn(ctx context.Context, u *User, method string, bothFactors bool) (*Tokens, error) {
	ctx, span := m.tel.start(ctx, "usermgmt.SignIn")
	t, err := m.signIn(ctx, u, method, bothFactors)
	m.tel.login(ctx, cleanText(method, 64), err)
	m.tel.end(span, err)
	return t, err
}

// signIn is SignIn without its span and metric.
func (m *Manager) signIn(ctx context.Context, u *User, method string, bothFactors bool) (*Tokens, error) {
	if !u.IsActive {
		return nil, m.inactiveError(ctx, u)
	}
	if bothFactors {
		if m.cfg.RequireVerifiedEmail && !u.EmailVerified {
			return nil, m.emailNotVerified()
		}
	} else if err := m.loginSecondStep(ctx, u); err != nil { // otp.go
		return nil, err
	}
	method = cleanText(method, 64)
	return m.openSession(ctx, u, method, AuditLogin, "method="+method, "")
}
