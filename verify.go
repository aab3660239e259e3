package usermgmt

import (
	"context"
	"errors"
	"net/url"
)

// Audit actions of account security.
const (
	AuditEmailVerified    = "email-verified"
	AuditPasswordReset    = "password-reset"
	AuditPasswordResetReq = "password-reset-requested"
	// AuditPasswordResetNotSent records a forgot-password request that
	// named no active account, so no link was mailed; its detail says
	// why: "no-account", "email-mismatch" or "inactive" (its subject is
	// the account found, for the last two).
	AuditPasswordResetNotSent = "password-reset-not-sent"
	AuditOTPChanged           = "otp-method-changed"
	AuditOTPFailed            = "otp-failed"
	AuditOTPLocked            = "otp-locked"
)

// emailNotVerified is ErrEmailNotVerified, whose message points to the
// verification mail, or says that none was sent when the Manager has no
// mailer.
func (m *Manager) emailNotVerified() error {
	if m.mailer == nil {
		return ErrEmailNotVerified.WithMessage("Email not verified; this service sends no mail, so ask its administrator to verify the address.")
	}
	return ErrEmailNotVerified
}

// SendVerification mails the user a new email verification link (valid 24
// hours, single-use), voiding the links sent before. It does nothing for
// an address already verified, or without a mailer.
func (m *Manager) SendVerification(ctx context.Context, uuid string) error {
	u, err := m.User(ctx, uuid)
	if err != nil {
		return err
	}
	return m.sendVerification(ctx, u)
}

func (m *Manager) sendVerification(ctx context.Context, u *User) error {
	if u.EmailVerified || m.mailer == nil {
		return nil
	}
	token, err := m.issueToken(ctx, m.store, u.UUID, PurposeVerifyEmail, u.Email, verifyEmailTTL)
	if err != nil {
		return err
	}
	d := m.MailData(ctx, u)
	d.Link = m.cfg.BaseURL + m.cfg.APIPrefix + "/auth/email/verify?token=" + url.QueryEscape(token)
	m.expiry(&d, verifyEmailTTL)
	return m.sendMail(ctx, u, MailVerifyEmail, d)
}

// sendVerificationAfter sends the verification of a user just created or
// just given a new address; a failure is logged, the change stands.
func (m *Manager) sendVerificationAfter(ctx context.Context, u *User) {
	if err := m.sendVerification(ctx, u); err != nil {
		m.log.ErrorContext(ctx, "verification mail not queued", "user", u.UUID, "err", err)
	}
}

// VerifyEmail marks the address a verification token was sent to as
// verified, and returns the user. The token is single-use, and void once
// the user's address has changed. Any bad token is ErrInvalidToken.
func (m *Manager) VerifyEmail(ctx context.Context, token string) (*User, error) {
	t, err := m.consumeToken(ctx, m.store, PurposeVerifyEmail, token)
	if err != nil {
		return nil, err
	}
	u, err := m.changeUser(ctx, t.UserUUID, t.UserUUID, nil, func(u *User) (*User, bool, []auditNote, error) {
		if u.Email != t.Detail {
			return nil, false, nil, ErrInvalidToken
		}
		n := u.clone()
		n.EmailVerified = true
		return n, false, []auditNote{{AuditEmailVerified, u.Email}}, nil
	})
	if errors.Is(err, ErrUserNotFound) {
		return nil, ErrInvalidToken
	}
	return u, err
}

// ResendVerification sends a new verification link to the account named
// by login (a username or an email address) when it exists, is active and
// is not verified yet. It answers nil in every case, so that it reveals
// nothing about which accounts exist.
func (m *Manager) ResendVerification(ctx context.Context, login string) error {
	u, err := m.UserByLogin(ctx, login)
	if errors.Is(err, ErrUserNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !u.IsActive {
		return nil
	}
	return m.sendVerification(ctx, u)
}
