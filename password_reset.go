package usermgmt

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// ForgotPassword mails a password reset link (valid 30 minutes,
// single-use) to the account named by username and/or email; when both
// are given they must name the same account. It answers nil whether or not
// such an active account exists, and changes nothing on the account.
func (m *Manager) ForgotPassword(ctx context.Context, username, email string) error {
	if username == "" && email == "" {
		return ErrInvalidInput.WithMessage("A username or an email is required.")
	}
	var u *User
	var err error
	if username != "" {
		u, err = m.UserByLogin(ctx, username)
	} else {
		u, err = m.UserByLogin(ctx, email)
	}
	if errors.Is(err, ErrUserNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if email != "" {
		if norm, nerr := NormalizeEmail(email); nerr != nil || norm != u.Email {
			return nil
		}
	}
	if !u.IsActive {
		return nil
	}
	return m.sendReset(ctx, u)
}

// RequestPasswordReset mails a reset link to an authenticated user.
func (m *Manager) RequestPasswordReset(ctx context.Context, p *Principal) error {
	if p.Credential != nil {
		return ErrSessionRequired
	}
	return m.sendReset(ctx, p.User())
}

// SendPasswordReset mails the user a password reset link, as
// RequestPasswordReset does for a signed-in user: the trusted call, for a
// host's or a feature's own tools. It does nothing without a mailer.
func (m *Manager) SendPasswordReset(ctx context.Context, uuid string) error {
	u, err := m.User(ctx, uuid)
	if err != nil {
		return err
	}
	return m.sendReset(ctx, u)
}

func (m *Manager) sendReset(ctx context.Context, u *User) error {
	if m.mailer == nil {
		return nil
	}
	token, err := m.issueToken(ctx, m.store, u.UUID, PurposeResetPassword, "", resetPasswordTTL)
	if err != nil {
		return err
	}
	if err := m.audit(ctx, m.store, "", u.UUID, AuditPasswordResetReq, ""); err != nil {
		return err
	}
	d := m.MailData(ctx, u)
	d.Link = strings.ReplaceAll(m.cfg.ResetURLTemplate, "{token}", url.QueryEscape(token))
	m.expiry(&d, resetPasswordTTL)
	return m.sendMail(ctx, u, MailResetPassword, d)
}

// ResetPassword sets a new password with a reset token, ends a lockout of
// the account, revokes every session of the user, voids their pending
// login challenges and reset links, and mails a notice. The password is checked before the token is
// spent, so a refused password leaves the link usable.
func (m *Manager) ResetPassword(ctx context.Context, token, newPassword, confirm string) error {
	if err := m.checkPassword(newPassword, confirm, true); err != nil {
		return err
	}
	tok, ok := parseToken(token)
	if !ok {
		return ErrInvalidToken
	}
	live, err := m.liveToken(ctx, m.store, PurposeResetPassword, tok)
	if err != nil {
		return err
	}
	// A link mailed before a ban or a deactivation does not reopen the
	// account.
	if u, err := m.store.UserByUUID(ctx, live.UserUUID); err == nil && !u.IsActive {
		return m.inactiveError(ctx, u)
	}
	hash, err := m.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	t, err := m.consumeToken(ctx, m.store, PurposeResetPassword, tok)
	if err != nil {
		return err
	}
	u, err := m.changeUser(ctx, t.UserUUID, t.UserUUID, nil, func(u *User) (*User, bool, []auditNote, error) {
		n := u.clone()
		n.PasswordHash = hash
		n.IsExternalOnly = false
		return n, true, []auditNote{{AuditPasswordReset, ""}}, nil
	})
	if errors.Is(err, ErrUserNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return err
	}
	// The reset proved the address: a lockout of the account ends with it.
	if err := m.endLoginLockout(ctx, u.UUID); err != nil {
		m.log.WarnContext(ctx, "unlock after password reset failed", "user", u.UUID, "err", err)
	}
	m.afterPasswordChange(ctx, u)
	return nil
}

// ChangePassword changes the caller's password after checking the old
// one, revokes every other session of the caller and mails a notice. A
// wrong old password counts as a failed login (LockoutPolicy), so a stolen
// access token cannot guess the password faster than a login could; a
// locked account gets ErrRateLimited.
func (m *Manager) ChangePassword(ctx context.Context, p *Principal, oldPassword, newPassword, confirm string) error {
	if p.Credential != nil {
		return ErrSessionRequired // passwords are a signed-in session's to change
	}
	if err := m.checkPassword(newPassword, confirm, true); err != nil {
		return err
	}
	u, err := m.User(ctx, p.User().UUID)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return ErrWrongPasswordChange
	}
	attempt, err := m.beginLoginAttempt(ctx, u)
	if err != nil {
		return err
	}
	if attempt.locked {
		return ErrRateLimited.WithMessage("Too many wrong passwords; try again later.")
	}
	cmpErr := m.comparePassword(ctx, u.PasswordHash, oldPassword)
	if err := m.endLoginAttempt(ctx, u, attempt, cmpErr == nil); err != nil {
		return err
	}
	if cmpErr != nil {
		if errors.Is(cmpErr, ErrWrongPassword) {
			return ErrWrongPasswordChange
		}
		return cmpErr
	}
	if oldPassword == newPassword {
		return ErrSamePassword
	}
	hash, err := m.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	u, err = m.changeUser(ctx, u.UUID, u.UUID, nil, func(cur *User) (*User, bool, []auditNote, error) {
		if cur.PasswordHash != u.PasswordHash { // changed meanwhile
			return nil, false, nil, ErrWrongPasswordChange
		}
		n := cur.clone()
		n.PasswordHash = hash
		return n, false, []auditNote{{AuditPasswordChange, ""}}, nil
	})
	if err != nil {
		return err
	}
	if err := m.revokeOtherSessions(ctx, u.UUID, p.SessionID); err != nil {
		return err
	}
	m.afterPasswordChange(ctx, u)
	return nil
}

// revokeOtherSessions revokes every live session of a user but keep.
func (m *Manager) revokeOtherSessions(ctx context.Context, userUUID, keep string) error {
	var revoked []string
	err := m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		ss, err := tx.SessionsByUser(ctx, userUUID, m.now())
		if err != nil {
			return err
		}
		for _, s := range ss {
			if s.ID == keep {
				continue
			}
			if err := tx.RevokeSession(ctx, s.ID, m.now()); err != nil {
				return err
			}
			revoked = append(revoked, s.ID)
		}
		return nil
	})
	m.cache.invalidateSessions(revoked...)
	return err
}

// afterPasswordChange voids the user's reset links and login challenges
// and mails the notice; failures are logged.
func (m *Manager) afterPasswordChange(ctx context.Context, u *User) {
	if err := m.store.DeleteOneTimeTokens(ctx, u.UUID, PurposeResetPassword, PurposeOTPChallenge); err != nil {
		m.log.ErrorContext(ctx, "void tokens after password change", "user", u.UUID, "err", err)
	}
	if err := m.sendMail(ctx, u, MailPasswordChanged, m.MailData(ctx, u)); err != nil {
		m.log.ErrorContext(ctx, "password notice not queued", "user", u.UUID, "err", err)
	}
}

// CheckResetToken reports whether token is a live password-reset token
// (ErrInvalidToken when it is unknown, used or expired, all alike),
// without spending it: a page can say that a mailed link is dead before
// it asks for a new password.
func (m *Manager) CheckResetToken(ctx context.Context, token string) error {
	tok, ok := parseToken(token)
	if !ok {
		return ErrInvalidToken
	}
	_, err := m.liveToken(ctx, m.store, PurposeResetPassword, tok)
	return err
}
