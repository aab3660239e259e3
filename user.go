package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is an account. Values returned by the Manager are snapshots: a *User
// handed out by the authentication path is shared and must be treated as
// read-only.
type User struct {
	UUID           string
	Username       string
	DisplayName    string
	Email          string
	EmailVerified  bool
	PasswordHash   string `json:"-"` // empty for an account that has no password (external-only)
	OTPMethod      string // OTPNone, OTPAuthenticator or OTPEmail
	OTPSecret      string `json:"-"`
	Roles          []string
	Description    string
	IsExternalOnly bool
	IsActive       bool
	BlockedUUIDs   []string
	// ProfilePictureID is the files row of the user's picture, when set.
	ProfilePictureID *int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Two-factor methods.
const (
	OTPNone          = "none"
	OTPAuthenticator = "authenticator"
	OTPEmail         = "email"
)

// HasRole reports whether u has the role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Blocks reports whether u has blocked the user with the given UUID.
func (u *User) Blocks(uuid string) bool {
	for _, b := range u.BlockedUUIDs {
		if b == uuid {
			return true
		}
	}
	return false
}

// clone returns a deep copy of u.
func (u *User) clone() *User {
	c := *u
	c.Roles = append([]string(nil), u.Roles...)
	c.BlockedUUIDs = append([]string(nil), u.BlockedUUIDs...)
	if u.ProfilePictureID != nil {
		id := *u.ProfilePictureID
		c.ProfilePictureID = &id
	}
	return &c
}

// NewUser is the input to CreateUser and Register.
type NewUser struct {
	Username    string
	DisplayName string // optional; defaults to Username
	Email       string
	Password    string
	// ConfirmPassword, when not empty, must equal Password.
	ConfirmPassword string
	Roles           []string // optional; defaults to ["user"]
	Description     string
	EmailVerified   bool
	// Inactive creates the account disabled.
	Inactive bool
	// PasswordHash, when set, is stored as the password instead of hashing
	// Password, and the password policy is not applied: for importing users
	// from another system or seeding an account whose password the operator
	// chose. Only Manager.CreateUser honours it; Register and Actor.CreateUser
	// refuse it.
	PasswordHash string
}

// UserPatch changes some fields of a user; nil fields are left as they are.
type UserPatch struct {
	Username    *string
	DisplayName *string
	Email       *string
	Password    *string
	Description *string
	Roles       *[]string
	IsActive    *bool
}

// Profile is a user together with what their own profile page shows: the
// most recent entries of the audit log about them.
type Profile struct {
	User    *User
	History []*AuditEntry
}

// validateRoles checks roles against the policy and returns them without
// duplicates; empty means the default ["user"].
func (m *Manager) validateRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return []string{RoleUser}, nil
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if !m.cfg.Policy.HasRole(r) {
			return nil, ErrInvalidRole.WithMessage(fmt.Sprintf("Unknown role %q; roles are %s.", r, strings.Join(m.cfg.Policy.Roles(), ", "))).WithParam("role", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// checkPassword applies the password policy and the confirmation.
func (m *Manager) checkPassword(password, confirm string, confirmGiven bool) error {
	if err := m.cfg.PasswordPolicy.Check(password); err != nil {
		return err
	}
	if confirmGiven && confirm != password {
		return ErrPasswordMismatch
	}
	return nil
}

// prepareNewUser validates nu and returns the user to insert (without its
// password hash).
func (m *Manager) prepareNewUser(nu NewUser) (*User, error) {
	if err := ValidateUsername(nu.Username); err != nil {
		return nil, err
	}
	display := nu.DisplayName
	if display == "" {
		display = nu.Username
	}
	if err := ValidateDisplayName(display, nu.Username); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	if err := ValidateDescription(nu.Description); err != nil {
		return nil, err
	}
	roles, err := m.validateRoles(nu.Roles)
	if err != nil {
		return nil, err
	}
	if nu.PasswordHash == "" {
		if err := m.checkPassword(nu.Password, nu.ConfirmPassword, nu.ConfirmPassword != ""); err != nil {
			return nil, err
		}
	}
	id, err := m.newUUID()
	if err != nil {
		return nil, err
	}
	now := m.now()
	return &User{
		UUID: id, Username: nu.Username, DisplayName: display, Email: email,
		EmailVerified: nu.EmailVerified, OTPMethod: OTPNone, Roles: roles,
		Description: nu.Description, IsActive: !nu.Inactive, BlockedUUIDs: []string{},
		CreatedAt: now, UpdatedAt: now,
	}, nil
}

// takenError maps a store conflict on users to the error a client sees.
func takenError(err error) error {
	switch conflictField(err) {
	case "username":
		return ErrUsernameTaken.Wrap(err)
	case "email":
		return ErrEmailTaken.Wrap(err)
	}
	return err
}

// checkAvailable answers 409 early, before the expensive hash, when the
// username or email is already taken. The unique constraints still decide
// races.
func (m *Manager) checkAvailable(ctx context.Context, u *User) error {
	if _, err := m.store.UserByUsername(ctx, u.Username); err == nil {
		return ErrUsernameTaken
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := m.store.UserByEmail(ctx, u.Email); err == nil {
		return ErrEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// createUser validates, hashes and stores a new user with an audit entry.
// authorize, when not nil, is checked after validation and before the hash.
func (m *Manager) createUser(ctx context.Context, nu NewUser, actorUUID, action string, authorize func(u *User) error) (*User, error) {
	u, err := m.prepareNewUser(nu)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(u); err != nil {
			return nil, err
		}
	}
	if err := m.checkAvailable(ctx, u); err != nil {
		return nil, err
	}
	u.PasswordHash = nu.PasswordHash
	if u.PasswordHash == "" {
		if u.PasswordHash, err = m.hasher.Hash(ctx, nu.Password); err != nil {
			return nil, err
		}
	}
	err = m.store.InTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return takenError(err)
		}
		return m.audit(ctx, tx, actorUUID, u.UUID, action, "")
	})
	if err != nil {
		return nil, err
	}
	m.log.InfoContext(ctx, "user created", "user", u.UUID, "by", actorUUID, "action", action)
	return u, nil
}

// CreateUser creates an account. It is the trusted call for the host's own
// code: no policy applies (see Actor.CreateUser for that).
func (m *Manager) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	return m.createUser(ctx, nu, "", AuditUserCreated, nil)
}

// User returns the user with the given UUID, or ErrUserNotFound.
func (m *Manager) User(ctx context.Context, uuid string) (*User, error) {
	id, err := canonicalUUID(uuid)
	if err != nil {
		return nil, err
	}
	u, err := m.store.UserByUUID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	return u, err
}

// UserByLogin finds a user by username, or by email when login contains an
// @ (without regard to case). It returns ErrUserNotFound when none matches.
func (m *Manager) UserByLogin(ctx context.Context, login string) (*User, error) {
	var (
		u   *User
		err error
	)
	if strings.Contains(login, "@") {
		email, nerr := NormalizeEmail(login)
		if nerr != nil {
			return nil, ErrUserNotFound
		}
		u, err = m.store.UserByEmail(ctx, email)
	} else {
		if ValidateUsername(login) != nil {
			return nil, ErrUserNotFound
		}
		u, err = m.store.UserByUsername(ctx, login)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	return u, err
}

// ListUsers returns a page of users, oldest first.
func (m *Manager) ListUsers(ctx context.Context, q UserQuery) ([]*User, error) {
	if q.Offset < 0 || q.Limit < 0 || q.Limit > 1000 {
		return nil, ErrInvalidInput.WithMessage("skip must be at least 0 and limit between 0 and 1000.")
	}
	return m.store.ListUsers(ctx, q)
}

// UsersByUUIDs returns the users among uuids that exist; unknown ones are
// left out. At most 1000 UUIDs.
func (m *Manager) UsersByUUIDs(ctx context.Context, uuids []string) ([]*User, error) {
	if len(uuids) > 1000 {
		return nil, ErrInvalidInput.WithMessage("At most 1000 users at a time.")
	}
	ids := make([]string, 0, len(uuids))
	for _, u := range uuids {
		id, err := canonicalUUID(u)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return m.store.UsersByUUIDs(ctx, ids)
}

// CountUsers returns the number of users.
func (m *Manager) CountUsers(ctx context.Context) (int, error) { return m.store.CountUsers(ctx) }

// patchFields lists the JSON names of the fields a patch sets.
func (p UserPatch) patchFields() []string {
	var f []string
	if p.Username != nil {
		f = append(f, "username")
	}
	if p.DisplayName != nil {
		f = append(f, "display_name")
	}
	if p.Email != nil {
		f = append(f, "email")
	}
	if p.Password != nil {
		f = append(f, "password")
	}
	if p.Description != nil {
		f = append(f, "description")
	}
	if p.Roles != nil {
		f = append(f, "roles")
	}
	if p.IsActive != nil {
		f = append(f, "is_active")
	}
	return f
}

// applyPatch validates p and applies it to a copy of u. It reports whether
// the change must end the user's sessions (a new password, a deactivation).
func (m *Manager) applyPatch(ctx context.Context, u *User, p UserPatch) (*User, bool, error) {
	n := u.clone()
	revoke := false
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
		if !strings.EqualFold(email, u.Email) {
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
		revoke = revoke || !n.IsActive
	}
	if p.Password != nil {
		if err := m.checkPassword(*p.Password, "", false); err != nil {
			return nil, false, err
		}
		h, err := m.hasher.Hash(ctx, *p.Password)
		if err != nil {
			return nil, false, err
		}
		n.PasswordHash = h
		n.IsExternalOnly = false
		revoke = true
	}
	n.UpdatedAt = m.now()
	return n, revoke, nil
}

// updateUser loads the user, authorizes the change (when authorize is not
// nil), applies and stores it.
func (m *Manager) updateUser(ctx context.Context, uuid string, p UserPatch, actorUUID string, authorize func(target *User) error) (*User, error) {
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(u); err != nil {
			return nil, err
		}
	}
	n, revoke, err := m.applyPatch(ctx, u, p)
	if err != nil {
		return nil, err
	}
	var revoked []string
	err = m.store.InTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.UpdateUser(ctx, n); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrUserNotFound
			}
			return takenError(err)
		}
		if revoke {
			if revoked, err = tx.RevokeUserSessions(ctx, n.UUID, n.UpdatedAt); err != nil {
				return err
			}
		}
		if p.Password != nil {
			if err := m.audit(ctx, tx, actorUUID, n.UUID, AuditPasswordChange, ""); err != nil {
				return err
			}
		}
		return m.audit(ctx, tx, actorUUID, n.UUID, AuditUserUpdated, strings.Join(p.patchFields(), ","))
	})
	m.cache.invalidateUser(n.UUID)
	m.cache.invalidateSessions(revoked...)
	if err != nil {
		return nil, err
	}
	return n, nil
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
	u, err := m.User(ctx, uuid)
	if err != nil {
		return err
	}
	if authorize != nil {
		if err := authorize(u); err != nil {
			return err
		}
	}
	var revoked []string
	err = m.store.InTx(ctx, func(ctx context.Context, tx Store) error {
		var err error
		if revoked, err = tx.RevokeUserSessions(ctx, u.UUID, m.now()); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, u.UUID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrUserNotFound
			}
			return err
		}
		return m.audit(ctx, tx, actorUUID, u.UUID, AuditUserDeleted, u.Username)
	})
	m.cache.invalidateUser(u.UUID)
	m.cache.invalidateSessions(revoked...)
	if err == nil {
		m.log.InfoContext(ctx, "user deleted", "user", u.UUID, "by", actorUUID)
	}
	return err
}

// DeleteUser removes an account (trusted: no policy applies). Afterwards the
// account answers exactly like one that never existed, and its username and
// email are free again.
func (m *Manager) DeleteUser(ctx context.Context, uuid string) error {
	return m.deleteUser(ctx, uuid, "", nil)
}

// MaxBanReasonLength bounds a ban's reason.
const MaxBanReasonLength = 256

// setActive bans (active=false, with a reason) or unbans a user.
func (m *Manager) setActive(ctx context.Context, uuid, actorUUID string, active bool, reason string, authorize func(target *User) error) (*User, error) {
	if !active {
		reason = strings.TrimSpace(reason)
		if reason == "" || len([]rune(reason)) > MaxBanReasonLength {
			return nil, ErrInvalidInput.WithMessage("A reason of 1 to 256 characters is required.")
		}
	}
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(u); err != nil {
			return nil, err
		}
	}
	n := u.clone()
	n.IsActive = active
	n.UpdatedAt = m.now()
	action := AuditUnban
	if !active {
		action = AuditBan
	}
	var revoked []string
	err = m.store.InTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.UpdateUser(ctx, n); err != nil {
			return err
		}
		if !active {
			var err error
			if revoked, err = tx.RevokeUserSessions(ctx, n.UUID, n.UpdatedAt); err != nil {
				return err
			}
		}
		return m.audit(ctx, tx, actorUUID, n.UUID, action, reason)
	})
	m.cache.invalidateUser(n.UUID)
	m.cache.invalidateSessions(revoked...)
	if err != nil {
		return nil, err
	}
	m.log.WarnContext(ctx, "user "+action, "user", n.UUID, "by", actorUUID)
	return n, nil
}

// Ban deactivates a user, with a reason, and ends their sessions (trusted:
// no policy applies).
func (m *Manager) Ban(ctx context.Context, uuid, reason string) (*User, error) {
	return m.setActive(ctx, uuid, "", false, reason, nil)
}

// Unban reactivates a user (trusted: no policy applies).
func (m *Manager) Unban(ctx context.Context, uuid string) (*User, error) {
	return m.setActive(ctx, uuid, "", true, "", nil)
}

// HistoryLimit is how many audit entries a Profile carries.
const HistoryLimit = 50

// History returns the most recent audit entries about a user, newest first.
func (m *Manager) History(ctx context.Context, uuid string, limit int) ([]*AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = HistoryLimit
	}
	return m.store.Audit(ctx, AuditQuery{SubjectUUID: uuid, Limit: limit})
}

// Profile returns a user with their recent history: what /user/me shows. It
// is served from the in-process cache when fresh; the returned value is
// shared and must not be modified.
func (m *Manager) Profile(ctx context.Context, uuid string) (*Profile, error) {
	now := m.now()
	if p, ok := m.cache.profile(uuid, now); ok {
		return p, nil
	}
	epoch := m.cache.begin()
	u, err := m.store.UserByUUID(ctx, uuid)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	h, err := m.History(ctx, uuid, HistoryLimit)
	if err != nil {
		return nil, err
	}
	p := &Profile{User: u, History: h}
	m.cache.putProfile(epoch, uuid, p, now)
	return p, nil
}

// audit appends an entry through s (a transaction, usually), stamping the
// time and the client's IP from ctx.
func (m *Manager) audit(ctx context.Context, s Store, actorUUID, subjectUUID, action, detail string) error {
	return s.AppendAudit(ctx, &AuditEntry{
		Time: m.now(), ActorUUID: actorUUID, SubjectUUID: subjectUUID,
		Action: action, Detail: detail, IP: ClientInfoFrom(ctx).IP,
	})
}
