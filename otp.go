package usermgmt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strconv"
	"time"

	"github.com/pquerna/otp"
)

// OTPChallengeError is the error Login returns for an account with
// two-factor login on, after a correct password: it matches
// ErrOTPRequired (401 otp_required) and carries the challenge to present,
// with the code, to LoginOTP. For the email method the code is mailed.
type OTPChallengeError struct {
	// Token is the challenge: single-use, valid OTPChallengeTTL.
	Token string
	// Method is the user's second factor (OTPAuthenticator or OTPEmail).
	Method    string
	ExpiresAt time.Time
}

// Error implements error.
func (e *OTPChallengeError) Error() string { return ErrOTPRequired.Error() }

// Unwrap returns ErrOTPRequired, so errors.Is and AsError see it.
func (e *OTPChallengeError) Unwrap() error { return ErrOTPRequired }

// errOTPAlreadyOn refuses enrolling a factor while another is on.
var errOTPAlreadyOn = ErrConflict.WithMessage("Two-factor login is already on; disable it first (PATCH /auth/OTP/none) to enrol another factor.")

// OTPSetup is what an authenticator app needs to enrol: the provisioning
// URI (for a QR code) and the base32 secret (for typing in).
type OTPSetup struct {
	URI    string
	Secret string
}

// loginSecondStep runs after a correct password for an active user: it
// refuses an unverified address when Config.RequireVerifiedEmail is on,
// and answers an OTPChallengeError when two-factor login is on.
func (m *Manager) loginSecondStep(ctx context.Context, u *User) error {
	if m.cfg.RequireVerifiedEmail && !u.EmailVerified {
		return m.emailNotVerified()
	}
	if u.OTPMethod == "" || u.OTPMethod == OTPNone {
		return nil
	}
	token, err := m.issueToken(ctx, m.store, u.UUID, PurposeOTPChallenge, u.OTPMethod, OTPChallengeTTL)
	if err != nil {
		return err
	}
	if u.OTPMethod == OTPEmail {
		if err := m.sendEmailCode(ctx, u); err != nil {
			return err
		}
	}
	return &OTPChallengeError{Token: token, Method: u.OTPMethod, ExpiresAt: m.now().Add(OTPChallengeTTL)}
}

// LoginOTP completes a two-factor login: challenge is the token of the
// OTPChallengeError Login returned, code a current code of the user's
// method or one of their recovery codes. It answers like Login. Wrong
// codes count towards the lock of the second step (ErrOTPLocked).
func (m *Manager) LoginOTP(ctx context.Context, challenge, code string) (*Tokens, error) {
	ctx, span := m.tel.start(ctx, "usermgmt.LoginOTP")
	t, err := m.loginOTP(ctx, challenge, code)
	m.tel.login(ctx, "otp", err)
	m.tel.end(span, err)
	return t, err
}

// loginOTP is LoginOTP without its span and metric.
func (m *Manager) loginOTP(ctx context.Context, challenge, code string) (*Tokens, error) {
	tok, ok := parseToken(challenge)
	if !ok {
		return nil, ErrInvalidToken
	}
	t, err := m.liveToken(ctx, m.store, PurposeOTPChallenge, tok)
	if err != nil {
		return nil, err
	}
	u, err := m.User(ctx, t.UserUUID)
	if errors.Is(err, ErrUserNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if u.OTPMethod == OTPNone {
		return nil, ErrInvalidToken
	}
	if err := m.verifySecondFactor(ctx, u, u.OTPMethod, code, true); err != nil {
		if errors.Is(err, ErrOTPLocked) {
			_ = m.store.DeleteOneTimeTokens(ctx, u.UUID, PurposeOTPChallenge)
		}
		return nil, err
	}
	if _, err := m.consumeToken(ctx, m.store, PurposeOTPChallenge, tok); err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, m.inactiveError(ctx, u)
	}
	return m.openSession(ctx, u, MethodOTP, AuditLogin, "", "")
}

// SetupOTP returns the authenticator enrolment of a user, creating and
// storing their secret first when they have none. A user whose two-factor
// login is already on gets ErrConflict: the secret is shown only while
// enrolling.
func (m *Manager) SetupOTP(ctx context.Context, uuid string) (*OTPSetup, error) {
	if err := RequireSession(ctx); err != nil { // second factors are a session's
		return nil, err
	}
	if err := RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if u.OTPMethod != OTPNone {
		return nil, errOTPAlreadyOn
	}
	secret, err := m.openOTPSecret(u.UUID, u.OTPSecret)
	if err != nil {
		return nil, err
	}
	if secret == "" {
		if secret, err = m.newOTPSecret(); err != nil {
			return nil, err
		}
		sealed, err := m.sealOTPSecret(u.UUID, secret)
		if err != nil {
			return nil, err
		}
		u, err = m.changeUser(ctx, u.UUID, u.UUID, nil, func(cur *User) (*User, bool, []auditNote, error) {
			if cur.OTPSecret != "" { // a concurrent setup won: use its secret
				return cur, false, nil, nil
			}
			n := cur.clone()
			n.OTPSecret = sealed
			return n, false, nil, nil
		})
		if err != nil {
			return nil, err
		}
		if secret, err = m.openOTPSecret(u.UUID, u.OTPSecret); err != nil {
			return nil, err
		}
	}
	return &OTPSetup{URI: m.provisioningURI(u.Username, secret), Secret: secret}, nil
}

// provisioningURI is the otpauth:// URI of a secret, with the configured
// digits and period.
func (m *Manager) provisioningURI(username, secret string) string {
	issuer := m.cfg.ProjectName
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", strconv.Itoa(m.cfg.OTPLength))
	q.Set("period", strconv.Itoa(int(m.cfg.OTPInterval/time.Second)))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + username, RawQuery: q.Encode()}
	return u.String()
}

// OTPQRCode returns the PNG QR code of the user's provisioning URI (see
// SetupOTP).
func (m *Manager) OTPQRCode(ctx context.Context, uuid string) ([]byte, error) {
	if err := RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	s, err := m.SetupOTP(ctx, uuid)
	if err != nil {
		return nil, err
	}
	key, err := otp.NewKeyFromURL(s.URI)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: provisioning URI: %w", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("usermgmt: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// SendEmailOTP mails the user a code (valid OTPEmailInterval, single-use,
// voiding the previous one), to enrol the email method or to disable
// two-factor.
func (m *Manager) SendEmailOTP(ctx context.Context, uuid string) error {
	if err := RequireSession(ctx); err != nil { // second factors are a session's
		return err
	}
	if err := RefuseImpersonated(ctx); err != nil {
		return err
	}
	u, err := m.User(ctx, uuid)
	if err != nil {
		return err
	}
	return m.sendEmailCode(ctx, u)
}

func (m *Manager) sendEmailCode(ctx context.Context, u *User) error {
	code, err := m.randomDigits(m.cfg.OTPLength)
	if err != nil {
		return err
	}
	if err := m.storeToken(ctx, m.store, u.UUID, PurposeEmailOTP, "", m.codeMAC(PurposeEmailOTP, u.UUID, code), m.cfg.OTPEmailInterval); err != nil {
		return err
	}
	d := m.MailData(ctx, u)
	d.Code = code
	m.expiry(&d, m.cfg.OTPEmailInterval)
	return m.sendMail(ctx, u, MailEmailOTP, d)
}

// randomDigits returns n uniformly random decimal digits.
func (m *Manager) randomDigits(n int) (string, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		b, err := m.randomBytes(n)
		if err != nil {
			return "", err
		}
		for _, c := range b {
			if c < 250 && len(out) < n { // 250 = 25*10: no modulo bias
				out = append(out, '0'+c%10)
			}
		}
	}
	return string(out), nil
}

// ChangeOTPMethod switches a user's second factor. A user whose two-factor
// login is on must turn it off before enrolling another factor
// (ErrConflict); enabling the same factor again with a valid code renews
// the recovery codes. Enabling OTPAuthenticator
// needs a current code of the secret from SetupOTP; enabling OTPEmail needs
// the code SendEmailOTP mailed; both answer ten fresh recovery codes, shown
// this once. OTPNone needs a code of the current method, a recovery code or
// the password, and removes the secret and the recovery codes. Wrong codes
// and passwords count towards the lock of the second step.
func (m *Manager) ChangeOTPMethod(ctx context.Context, uuid, method, code, password string) (*User, []string, error) {
	if err := RequireSession(ctx); err != nil { // second factors are a session's
		return nil, nil, err
	}
	if err := RefuseImpersonated(ctx); err != nil {
		return nil, nil, err
	}
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, nil, err
	}
	switch method {
	case OTPAuthenticator, OTPEmail:
		if u.OTPMethod != OTPNone && u.OTPMethod != method {
			// Switching would replace the factor without proving it.
			return nil, nil, errOTPAlreadyOn
		}
		if err := m.verifySecondFactor(ctx, u, method, code, false); err != nil {
			return nil, nil, err
		}
	case OTPNone:
		if u.OTPMethod == OTPNone {
			return u, nil, nil
		}
		if err := m.verifyDisable(ctx, u, code, password); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, ErrInvalidOTPMethod
	}
	var codes []string
	var hashed []*RecoveryCode
	if method != OTPNone {
		if codes, hashed, err = m.newRecoveryCodes(u.UUID); err != nil {
			return nil, nil, err
		}
	}
	next, err := m.changeUser(ctx, u.UUID, u.UUID, nil, func(cur *User) (*User, bool, []auditNote, error) {
		n := cur.clone()
		n.OTPMethod = method
		if method != OTPAuthenticator {
			n.OTPSecret = ""
		}
		return n, false, []auditNote{{AuditOTPChanged, method}}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if err := tx.ReplaceRecoveryCodes(ctx, u.UUID, hashed); err != nil {
			return err
		}
		return tx.DeleteOneTimeTokens(ctx, u.UUID, PurposeEmailOTP, PurposeOTPChallenge)
	})
	if err != nil {
		return nil, nil, err
	}
	return next, codes, nil
}

// verifyDisable accepts a code of the current method, a recovery code or
// the password, counting a failure otherwise.
func (m *Manager) verifyDisable(ctx context.Context, u *User, code, password string) error {
	if password != "" && u.PasswordHash != "" {
		if err := m.checkLock(ctx, u.UUID); err != nil {
			return err
		}
		err := m.comparePassword(ctx, u.PasswordHash, password)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrWrongPassword) {
			return err
		}
		if code == "" {
			return m.recordFailure(ctx, u.UUID)
		}
	}
	return m.verifySecondFactor(ctx, u, u.OTPMethod, code, true)
}
