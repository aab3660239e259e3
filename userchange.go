package usermgmt

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Changes to an existing user — update, delete, ban, unban, rehash — all go
// through changeUser: one transaction that locks the user's row, checks the
// change against that fresh copy, writes it with its audit entries, and then
// drops what the caches hold of the user. No change can be lost to a
// concurrent one, and every path invalidates the same way.

// auditNote is an audit entry a change writes about its user.
type auditNote struct{ action, detail string }

// userEdit turns the locked user into its next state. A nil next deletes the
// user; endSessions revokes every session of the user.
type userEdit func(u *User) (next *User, endSessions bool, notes []auditNote, err error)

// changeUser applies edit to the user with the given UUID, after authorize
// (when not nil) accepts the locked row as the target.
func (m *Manager) changeUser(ctx context.Context, uuid, actorUUID string, authorize func(target *User) error, edit userEdit) (*User, error) {
	id, err := canonicalUUID(uuid)
	if err != nil {
		return nil, ErrUserNotFound // no such user can exist
	}
	var (
		next    *User
		revoked []string
	)
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		u, err := tx.LockUser(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if authorize != nil {
			if err := authorize(u); err != nil {
				return err
			}
		}
		n, endSessions, notes, err := edit(u)
		if err != nil {
			return err
		}
		if n == nil || endSessions {
			if revoked, err = tx.RevokeUserSessions(ctx, id, m.now()); err != nil {
				return err
			}
		}
		if n == nil {
			// The features' rows of the user go first (or refuse), then
			// the user's files go with the row (foreign key); their
			// folder is recorded for deletion in the same transaction.
			if err = m.beforeDeleteUser(ctx, tx, u, actorUUID); err != nil {
				return err
			}
			if err = m.recordFolderDeletion(ctx, tx, id); err == nil {
				err = tx.DeleteUser(ctx, id)
			}
		} else {
			n.UpdatedAt = m.now()
			err = tx.UpdateUser(ctx, n)
		}
		if err != nil {
			return takenError(err)
		}
		for _, note := range notes {
			if err := m.audit(ctx, tx, actorUUID, id, note.action, note.detail); err != nil {
				return err
			}
		}
		next = n
		return nil
	})
	m.cache.invalidateUser(id)
	m.cache.invalidateSessions(revoked...)
	if err != nil {
		return nil, err
	}
	if next == nil {
		m.purge(ctx, userFolderDeletion(id, m.now()))
	}
	return next, nil
}

// patchFields lists the JSON names of the fields a patch sets.
func (p UserPatch) patchFields() []string {
	var f []string
	for _, field := range []struct {
		name string
		set  bool
	}{
		{"username", p.Username != nil},
		{"display_name", p.DisplayName != nil},
		{"email", p.Email != nil},
		{"password", p.Password != nil},
		{"description", p.Description != nil},
		{"roles", p.Roles != nil},
		{"is_active", p.IsActive != nil},
		{"email_verified", p.EmailVerified != nil},
		{"otp_method", p.OTPMethod != nil},
	} {
		if field.set {
			f = append(f, field.name)
		}
	}
	return f
}

// withoutUnchanged returns p without the roles, state, verification and
// second-factor values that u already has, so that a client sending back
// what it read (its own roles, say) asks the policy only about what it
// changes, as the reference did.
func (p UserPatch) withoutUnchanged(u *User) UserPatch {
	if p.Roles != nil && len(*p.Roles) > 0 && sameRoles(*p.Roles, u.Roles) {
		p.Roles = nil
	}
	if p.IsActive != nil && *p.IsActive == u.IsActive {
		p.IsActive = nil
	}
	if p.EmailVerified != nil && *p.EmailVerified == u.EmailVerified && (p.Email == nil || *p.Email == u.Email) {
		p.EmailVerified = nil
	}
	if p.OTPMethod != nil && *p.OTPMethod == u.OTPMethod {
		p.OTPMethod = nil
	}
	return p
}

// sameRoles reports whether a and b hold the same roles, in any order.
func sameRoles(a, b []string) bool {
	for _, r := range a {
		if !slices.Contains(b, r) {
			return false
		}
	}
	for _, r := range b {
		if !slices.Contains(a, r) {
			return false
		}
	}
	return true
}

// applyPatch validates p and applies it to a copy of u; passwordHash is the
// hash of p.Password, computed beforehand. It reports whether the change
// must end the user's sessions (a new password, a deactivation).
func (m *Manager) applyPatch(u *User, p UserPatch, passwordHash string) (*User, bool, error) {
	n := u.clone()
	endSessions := false
	if p.Username != nil && *p.Username != u.Username {
		if err := ValidateUsername(*p.Username); err != nil {
			return nil, false, err
		}
		n.Username = *p.Username
		if p.DisplayName == nil && ValidateDisplayName(n.DisplayName, n.Username) != nil {
			n.DisplayName = n.Username
		}
	}
	if p.DisplayName != nil {
		if err := ValidateDisplayName(*p.DisplayName, n.Username); err != nil {
			return nil, false, err
		}
		n.DisplayName = *p.DisplayName
	}
	if p.Email != nil {
		email, err := NormalizeEmail(*p.Email)
		if err != nil {
			return nil, false, err
		}
		if email != u.Email {
			n.EmailVerified = false
		}
		n.Email = email
	}
	if p.Description != nil {
		if err := ValidateDescription(*p.Description); err != nil {
			return nil, false, err
		}
		n.Description = *p.Description
	}
	if p.Roles != nil {
		if len(*p.Roles) == 0 {
			return nil, false, ErrInvalidRole.WithMessage("A user needs at least one role.")
		}
		roles, err := m.validateRoles(*p.Roles)
		if err != nil {
			return nil, false, err
		}
		n.Roles = roles
	}
	if p.IsActive != nil {
		n.IsActive = *p.IsActive
		endSessions = !n.IsActive
	}
	if p.EmailVerified != nil {
		n.EmailVerified = *p.EmailVerified
	}
	if p.OTPMethod != nil && *p.OTPMethod != u.OTPMethod {
		switch *p.OTPMethod {
		case OTPNone:
			n.OTPMethod, n.OTPSecret = OTPNone, ""
		case OTPAuthenticator, OTPEmail:
			return nil, false, ErrOTPProofRequired
		default:
			return nil, false, ErrInvalidOTPMethod
		}
	}
	if p.Password != nil {
		n.PasswordHash = passwordHash
		n.IsExternalOnly = false
		endSessions = true
	}
	return n, endSessions, nil
}

// updateUser applies a patch, authorized (when authorize is not nil) on the
// user as stored. A new password is checked and hashed before the
// transaction, after a first authorization, so that neither a refused caller
// nor a slow hash holds the row.
func (m *Manager) updateUser(ctx context.Context, uuid string, p UserPatch, actorUUID string, authorize func(target *User) error) (*User, error) {
	if p.Password != nil || p.Email != nil || p.OTPMethod != nil {
		if err := RefuseImpersonated(ctx); err != nil {
			return nil, err
		}
	}
	var hash string
	if p.Password != nil {
		if err := m.checkPassword(*p.Password, "", false); err != nil {
			return nil, err
		}
		if authorize != nil || len(m.pwCheckers) > 0 {
			u, err := m.User(ctx, uuid)
			if err != nil {
				return nil, err
			}
			if authorize != nil {
				if err := authorize(u); err != nil {
					return nil, err
				}
			}
			if err := m.checkUserPassword(ctx, p.patched(u), *p.Password, AuditPasswordChange); err != nil {
				return nil, err
			}
		}
		var err error
		if hash, err = m.hasher.Hash(ctx, *p.Password); err != nil {
			return nil, err
		}
	}
	if p.Email != nil {
		if email, err := NormalizeEmail(*p.Email); err == nil {
			if err := m.checkDeliverable(ctx, email); err != nil {
				return nil, err
			}
		}
	}
	emailChanged, otpOff := false, false
	n, err := m.changeUser(ctx, uuid, actorUUID, authorize, func(u *User) (*User, bool, []auditNote, error) {
		n, endSessions, err := m.applyPatch(u, p, hash)
		if err != nil {
			return nil, false, nil, err
		}
		emailChanged = n.Email != u.Email
		otpOff = n.OTPMethod == OTPNone && u.OTPMethod != OTPNone
		notes := []auditNote{{AuditUserUpdated, strings.Join(p.patchFields(), ",")}}
		if p.Password != nil {
			notes = append(notes, auditNote{AuditPasswordChange, ""})
		}
		return n, endSessions, notes, nil
	})
	if err == nil && (emailChanged || p.Password != nil) {
		// Links and codes mailed to the old address, or issued for the
		// old password, no longer stand for the account.
		if derr := m.store.DeleteOneTimeTokens(ctx, n.UUID, PurposeVerifyEmail, PurposeResetPassword,
			PurposeEmailOTP, PurposeOTPChallenge); derr != nil {
			m.log.WarnContext(ctx, "pending one-time tokens not voided", "user", n.UUID, "err", derr)
		}
	}
	if err == nil && otpOff {
		// The factor is gone, and so are the codes that stood in for it.
		if derr := m.store.ReplaceRecoveryCodes(ctx, n.UUID, nil); derr != nil {
			m.log.WarnContext(ctx, "recovery codes not removed", "user", n.UUID, "err", derr)
		}
	}
	if err == nil && emailChanged {
		m.sendVerificationAfter(ctx, n)
	}
	return n, err
}

// UpdateUser changes a user (trusted: no policy applies). A new password or
// a deactivation ends every session of the user; a new email must be
// verified again.
func (m *Manager) UpdateUser(ctx context.Context, uuid string, p UserPatch) (*User, error) {
	return m.updateUser(ctx, uuid, p, "", nil)
}

// deleteUser removes a user and their sessions; the audit log keeps what
// happened.
func (m *Manager) deleteUser(ctx context.Context, uuid, actorUUID string, authorize func(target *User) error) error {
	if err := RefuseImpersonated(ctx); err != nil {
		return err
	}
	_, err := m.changeUser(ctx, uuid, actorUUID, authorize, func(u *User) (*User, bool, []auditNote, error) {
		return nil, true, []auditNote{{AuditUserDeleted, u.Username}}, nil
	})
	if err == nil {
		m.log.InfoContext(ctx, "user deleted", "user", uuid, "by", actorUUID)
	}
	return err
}

// DeleteUser removes an account (trusted: no policy applies). Afterwards the
// account answers exactly like one that never existed, and its username and
// email are free again.
func (m *Manager) DeleteUser(ctx context.Context, uuid string) error {
	return m.deleteUser(ctx, uuid, "", nil)
}

// maxBanReasonLength bounds a ban's reason, in characters.
const maxBanReasonLength = 256

// setActive bans (active=false, with a required reason) or unbans (the
// reason optional) a user.
func (m *Manager) setActive(ctx context.Context, uuid, actorUUID string, active bool, reason string, authorize func(target *User) error) (*User, error) {
	action := AuditUnban
	reason = strings.TrimSpace(reason)
	if !active {
		action = AuditBan
		if reason == "" {
			return nil, ErrInvalidInput.WithMessage("A reason of 1 to 256 printable characters is required.")
		}
	}
	if !validText(reason, maxBanReasonLength) {
		return nil, ErrInvalidInput.WithMessage("A reason must be at most 256 printable characters.")
	}
	n, err := m.changeUser(ctx, uuid, actorUUID, authorize, func(u *User) (*User, bool, []auditNote, error) {
		n := u.clone()
		n.IsActive = active
		return n, !active, []auditNote{{action, reason}}, nil
	})
	if err == nil {
		m.log.WarnContext(ctx, "user "+action, "user", n.UUID, "by", actorUUID)
	}
	return n, err
}

// Ban deactivates a user, with a reason, and ends their sessions (trusted:
// no policy applies).
func (m *Manager) Ban(ctx context.Context, uuid, reason string) (*User, error) {
	return m.setActive(ctx, uuid, "", false, reason, nil)
}

// Unban reactivates a user, with an optional reason for the audit log
// (trusted: no policy applies).
func (m *Manager) Unban(ctx context.Context, uuid, reason string) (*User, error) {
	return m.setActive(ctx, uuid, "", true, reason, nil)
}
