package usermgmt

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// ForgotPassword mails a password reset link (valid 30 minutes,
// single-use) to the account named by username and/or email; when both
// are given they must name the same account. It answers nil whether or not
// such an active account exists, and changes nothing on the account.
//
// A request that names no active account does the same work as one that
// does, so that its time does not tell them apart either: it makes and
// hashes a token, runs a transaction of as many statements (which records
// the request in the audit log as AuditPasswordResetNotSent), renders the
// mail and queues it, and the mail queue drops it unsent.
func (m *Manager) ForgotPassword(ctx context.Context, username, email string) error {
	if username == "" && email == "" {
		return ErrInvalidInput.WithMessage("A username or an email is required.")
	}
	login := username
	if login == "" {
		login = email
	}
	u, err := m.UserByLogin(ctx, login)
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return err
	}
	var why string
	switch {
	case u == nil:
		why = "no-account"
	case email != "" && !sameEmail(email, u.Email):
		why = "email-mismatch"
	case !u.IsActive:
		why = "inactive"
	default:
		return m.sendReset(ctx, u)
	}
	return m.decoyReset(ctx, u, username, email, why)
}

// sameEmail reports whether a client's address normalises to stored.
func sameEmail(given, stored string) bool {
	norm, err := NormalizeEmail(given)
	return err == nil && norm == stored
}

// RequestPasswordReset mails a reset link to an authenticated user.
func (m *Manager) RequestPasswordReset(ctx context.Context, p *Principal) error {
	if p.Credential != nil {
		return ErrSessionRequired
	}
	if err := RefuseImpersonated(ctx); err != nil || p.Impersonator != "" {
		return ErrImpersonated
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

// sendReset stores a new reset token of u and its audit entry in one
// transaction, then renders the mail and queues it. decoyReset mirrors it
// step for step: keep the two in step.
func (m *Manager) sendReset(ctx context.Context, u *User) error {
	if m.mailer == nil {
		return nil
	}
	var token string
	err := m.InTx(ctx, func(ctx context.Context, tx Store) error {
		var err error
		if token, err = m.issueToken(ctx, tx, u.UUID, PurposeResetPassword, "", resetPasswordTTL); err != nil {
			return err
		}
		return m.audit(ctx, tx, "", u.UUID, AuditPasswordResetReq, "")
	})
	if err != nil {
		return err
	}
	return m.queueMail(ctx, u.Email, u.UUID, MailResetPassword, m.resetMailData(ctx, u, token), false)
}

// decoyReset does the work of sendReset for a forgot-password request
// that names no active account (why says what it named), and mails
// nothing: it makes and hashes a token as issueToken does; runs one
// transaction of three statements, as sendReset does (a delete that
// matches no row, a look-up of the new hash in place of its insert, and the
// audit entry, so that both commit one write); renders the reset mail and
// queues it as a decoy, which the queue's worker drops. u is the account
// found, if any (inactive, or not at the address given).
func (m *Manager) decoyReset(ctx context.Context, u *User, username, email, why string) error {
	if m.mailer == nil {
		return nil
	}
	raw, err := m.randomBytes(tokenBytes)
	if err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	hash := hashToken(token)
	nobody, err := m.newUUID() // sendReset's token ID; here a user who does not exist
	if err != nil {
		return err
	}
	to := &User{Username: username, Email: email}
	subject := ""
	if u != nil {
		to, subject = u, u.UUID
	}
	err = m.InTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.DeleteOneTimeTokens(ctx, nobody, PurposeResetPassword); err != nil {
			return err
		}
		if _, err := tx.OneTimeTokenByHash(ctx, PurposeResetPassword, hash); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return m.audit(ctx, tx, "", subject, AuditPasswordResetNotSent, why)
	})
	if err != nil {
		return err
	}
	return m.queueMail(ctx, to.Email, subject, MailResetPassword, m.resetMailData(ctx, to, token), true)
}

// resetMailData is the data of the reset mail to u with token's link.
func (m *Manager) resetMailData(ctx context.Context, u *User, token string) MailData {
	d := m.MailData(ctx, u)
	d.Link = strings.ReplaceAll(m.cfg.ResetURLTemplate, "{token}", url.QueryEscape(token))
	m.expiry(&d, resetPasswordTTL)
	return d
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
	if u, err := m.store.UserByUUID(ctx, live.UserUUID); err == nil {
		if !u.IsActive {
			return m.inactiveError(ctx, u)
		}
		// Checked before the token is spent, as the policy.
		if err := m.checkUserPassword(ctx, u, newPassword, AuditPasswordReset); err != nil {
			return err
		}
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
	if err := RefuseImpersonated(ctx); err != nil || p.Impersonator != "" {
		return ErrImpersonated
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
	if err := m.checkUserPassword(ctx, u, newPassword, AuditPasswordChange); err != nil {
		return err
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
