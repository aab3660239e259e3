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
	// UUID identifies the user for good (a random version 4 UUID).
	UUID string `json:"uuid"`
	// Username is unique: 5 to 32 of [a-z0-9_].
	Username string `json:"username"`
	// DisplayName spells Username, with capitals and spaces allowed.
	DisplayName string `json:"display_name"`
	// Email is unique and stored lower-cased.
	Email string `json:"email"`
	// EmailVerified records that the owner proved the address.
	EmailVerified bool `json:"email_verified"`
	// PasswordHash is empty for an account that has no password
	// (external-only).
	PasswordHash string `json:"-"`
	// OTPMethod is the second factor: OTPNone, OTPAuthenticator or OTPEmail.
	OTPMethod string `json:"otp_method"`
	// OTPSecret is the second factor's shared secret.
	OTPSecret string `json:"-"`
	// Roles are names of the access policy's roles.
	Roles []string `json:"roles"`
	// Description is free text about the user, at most 256 characters.
	Description string `json:"description"`
	// IsExternalOnly marks an account created by a third-party login that
	// has no password of its own.
	IsExternalOnly bool `json:"is_external_only"`
	// IsActive is false for a banned or deactivated account, which can
	// neither log in nor use its tokens.
	IsActive bool `json:"is_active"`
	// BlockedUUIDs are the users this user has blocked.
	BlockedUUIDs []string `json:"blocked_uuids"`
	// ProfilePictureID is the files row of the user's picture, when set.
	ProfilePictureID *int64 `json:"profile_picture_id"`
	// CreatedAt and UpdatedAt are in UTC.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
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
	// EmailVerified marks the email as proven (or not) on the owner's
	// behalf. It applies after Email, so a patch may set a new address and
	// vouch for it at once.
	EmailVerified *bool
	// OTPMethod may only turn the second factor off (OTPNone), removing its
	// secret and recovery codes: turning one on needs the owner's code
	// (Manager.ChangeOTPMethod), so any other change is ErrOTPProofRequired.
	// The current method is accepted as a no-op.
	OTPMethod *string
}

// Profile is a user together with what their own profile page shows: the
// most recent entries of the audit log about them.
type Profile struct {
	User    *User
	History []*AuditEntry
	// Picture is the user's uploaded profile picture, nil when they have
	// none.
	Picture *File
	// Files are the user's files, oldest first (at most 100).
	Files []*File
	// Identities are the user's third-party logins, by provider.
	Identities []*ExternalIdentity
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
	} else if err := m.ValidatePasswordHash(nu.PasswordHash); err != nil {
		return nil, err
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
	if action == AuditRegister {
		if err := m.beforeRegister(ctx, u); err != nil { // hooks.go
			return nil, err
		}
	}
	if err := m.checkAvailable(ctx, u); err != nil {
		return nil, err
	}
	// An address that the host's own trusted call (CreateUser) marks
	// verified is the host's word (a seeded admin, an import): it is not
	// looked up in DNS, so that an operator's placeholder such as
	// admin@example.com (whose domain takes no mail) never stops a start.
	hostVouches := authorize == nil && action == AuditUserCreated && nu.EmailVerified
	if !hostVouches {
		if err := m.checkDeliverable(ctx, u.Email); err != nil {
			return nil, err
		}
	}
	u.PasswordHash = nu.PasswordHash
	if u.PasswordHash == "" {
		if err := m.checkUserPassword(ctx, &User{Username: u.Username, Email: u.Email}, nu.Password, action); err != nil {
			return nil, err
		}
		if u.PasswordHash, err = m.hasher.Hash(ctx, nu.Password); err != nil {
			return nil, err
		}
	}
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return takenError(err)
		}
		return m.audit(ctx, tx, actorUUID, u.UUID, action, "")
	})
	if err != nil {
		return nil, err
	}
	m.log.InfoContext(ctx, "user created", "user", u.UUID, "by", actorUUID, "action", action)
	m.sendVerificationAfter(ctx, u)
	return u, nil
}

// CreateUser creates an account. It is the trusted call for the host's own
// code: no policy applies (see Actor.CreateUser for that). An account it
// creates with EmailVerified set skips the deliverability check of its
// address: the host vouches for it.
func (m *Manager) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	return m.createUser(ctx, nu, "", AuditUserCreated, nil)
}

// User returns the user with the given UUID, or ErrUserNotFound (also for
// a string that is no UUID: no such user can exist).
func (m *Manager) User(ctx context.Context, uuid string) (*User, error) {
	id, err := canonicalUUID(uuid)
	if err != nil {
		return nil, ErrUserNotFound
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
	q, err := checkUserSearch(q)
	if err != nil {
		return nil, err
	}
	return m.store.ListUsers(ctx, q)
}

// UsersByUUIDs returns the users among uuids that exist; unknown ones (and
// strings that are no UUID) are left out. At most 1000 UUIDs.
func (m *Manager) UsersByUUIDs(ctx context.Context, uuids []string) ([]*User, error) {
	if len(uuids) > 1000 {
		return nil, ErrInvalidInput.WithMessage("At most 1000 users at a time.")
	}
	ids := make([]string, 0, len(uuids))
	for _, u := range uuids {
		if id, err := canonicalUUID(u); err == nil {
			ids = append(ids, id)
		}
	}
	return m.store.UsersByUUIDs(ctx, ids)
}

// CountUsers returns the number of users.
func (m *Manager) CountUsers(ctx context.Context) (int, error) { return m.store.CountUsers(ctx) }

// historyLimit is how many audit entries a Profile carries.
const historyLimit = 50

// profileFilesLimit is how many files a Profile lists.
const profileFilesLimit = 100

// History returns the most recent audit entries about a user, newest first.
func (m *Manager) History(ctx context.Context, uuid string, limit int) ([]*AuditEntry, error) {
	id, err := canonicalUUID(uuid)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = historyLimit
	}
	return m.store.Audit(ctx, AuditQuery{SubjectUUID: id, Limit: limit})
}

// Profile returns a user with their recent history: what /user/me shows. It
// is served from the in-process cache when fresh; the returned value is
// shared and must not be modified.
func (m *Manager) Profile(ctx context.Context, uuid string) (*Profile, error) {
	// One spelling of the UUID, so that the cache entry is the one
	// invalidateUser clears.
	uuid, err := canonicalUUID(uuid)
	if err != nil {
		return nil, ErrUserNotFound
	}
	now := m.now()
	if p, ok := m.cache.profile(uuid, now); ok {
		return p, nil
	}
	epoch := m.cache.begin(uuid)
	u, err := m.store.UserByUUID(ctx, uuid)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	h, err := m.History(ctx, uuid, historyLimit)
	if err != nil {
		return nil, err
	}
	p := &Profile{User: u, History: h}
	if p.Files, err = m.store.ListFiles(ctx, FileQuery{OwnerUUID: uuid, Limit: profileFilesLimit}); err != nil {
		return nil, err
	}
	// The picture is one of the user's files: read it again only when it
	// is not among those listed.
	for _, f := range p.Files {
		if u.ProfilePictureID != nil && f.ID == *u.ProfilePictureID {
			p.Picture = f
		}
	}
	if p.Picture == nil {
		if p.Picture, err = m.pictureOf(ctx, u); err != nil {
			return nil, err
		}
	}
	if p.Identities, err = m.store.ExternalIdentitiesByUser(ctx, uuid); err != nil {
		return nil, err
	}
	m.cache.putProfile(epoch, uuid, p, now)
	return p, nil
}
