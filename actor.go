package usermgmt

import (
	"context"
	"slices"
)

// Actor is the Manager seen by one user: every call is checked against the
// access policy as that user, with the same rules and errors as over HTTP.
// Get one with Manager.As.
type Actor struct {
	m    *Manager
	user *User
}

// As returns the Manager acting as user. A nil user is refused everything.
func (m *Manager) As(user *User) *Actor { return &Actor{m: m, user: user} }

// Self returns the acting user.
func (a *Actor) Self() *User { return a.user }

func (a *Actor) uuid() string {
	if a.user == nil {
		return ""
	}
	return a.user.UUID
}

func (a *Actor) authorize(ctx context.Context, req AccessRequest) error {
	req.Actor = a.user
	return a.m.Authorize(ctx, req)
}

// User returns a user the actor may read (policy user.read).
func (a *Actor) User(ctx context.Context, uuid string) (*User, error) {
	u, err := a.m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, AccessRequest{Resource: "user", Action: "read", Target: u}); err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers returns a page of users (policy user.read on no one in
// particular: admins and moderators by default).
func (a *Actor) ListUsers(ctx context.Context, q UserQuery) ([]*User, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "user", Action: "read"}); err != nil {
		return nil, err
	}
	return a.m.ListUsers(ctx, q)
}

// UsersByUUIDs returns the users among uuids that exist (policy user.read on
// no one in particular).
func (a *Actor) UsersByUUIDs(ctx context.Context, uuids []string) ([]*User, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "user", Action: "read"}); err != nil {
		return nil, err
	}
	return a.m.UsersByUUIDs(ctx, uuids)
}

// CountUsers returns the number of users (policy user.read on no one in
// particular).
func (a *Actor) CountUsers(ctx context.Context) (int, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "user", Action: "read"}); err != nil {
		return 0, err
	}
	return a.m.CountUsers(ctx)
}

// CreateUser creates an account (policy user.create, which sees the roles
// asked for).
func (a *Actor) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	if nu.PasswordHash != "" {
		return nil, ErrInvalidInput.WithMessage("A password hash cannot be given here.")
	}
	return a.m.createUser(ctx, nu, a.uuid(), AuditUserCreated, func(u *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "user", Action: "create", Target: u, Roles: u.Roles})
	})
}

// UpdateUser changes a user (policy user.update, which sees the target, the
// roles asked for and the fields changed; a roles, is_active,
// email_verified or otp_method value the target already has is no change). Changing is_active is also a ban
// or an unban, so it needs admin.ban or admin.unban on the target too.
func (a *Actor) UpdateUser(ctx context.Context, uuid string, p UserPatch) (*User, error) {
	return a.m.updateUser(ctx, uuid, p, a.uuid(), func(t *User) error {
		// Values the target already has change nothing, so the policy
		// is not asked about them.
		p := p.withoutUnchanged(t)
		var roles []string
		if p.Roles != nil {
			roles = slices.Clone(*p.Roles)
			if roles == nil {
				roles = []string{}
			}
		}
		err := a.authorize(ctx, AccessRequest{Resource: "user", Action: "update", Target: t, Roles: roles, Fields: p.patchFields()})
		if err != nil || p.IsActive == nil || *p.IsActive == t.IsActive {
			return err
		}
		action := "unban"
		if !*p.IsActive {
			action = "ban"
		}
		return a.authorize(ctx, AccessRequest{Resource: "admin", Action: action, Target: t})
	})
}

// DeleteUser removes an account (policy user.delete).
func (a *Actor) DeleteUser(ctx context.Context, uuid string) error {
	return a.m.deleteUser(ctx, uuid, a.uuid(), func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "user", Action: "delete", Target: t})
	})
}

// Ban deactivates a user and ends their sessions (policy admin.ban). Nobody
// can ban themself.
func (a *Actor) Ban(ctx context.Context, uuid, reason string) (*User, error) {
	if id, err := canonicalUUID(uuid); err == nil && id == a.uuid() {
		return nil, ErrCannotBanSelf
	}
	return a.m.setActive(ctx, uuid, a.uuid(), false, reason, func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "admin", Action: "ban", Target: t})
	})
}

// Unban reactivates a user, with an optional reason (policy admin.unban).
func (a *Actor) Unban(ctx context.Context, uuid, reason string) (*User, error) {
	return a.m.setActive(ctx, uuid, a.uuid(), true, reason, func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "admin", Action: "unban", Target: t})
	})
}

// UnlockAccount lifts a user's lockouts, of failed logins and of failed
// second-step codes (policy admin.unlock: admins by default), with an
// audit entry naming the actor. It returns the user.
func (a *Actor) UnlockAccount(ctx context.Context, uuid string) (*User, error) {
	return a.m.unlockAccount(ctx, uuid, a.uuid(), func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "admin", Action: "unlock", Target: t})
	})
}

// Sessions returns the actor's own live sessions.
func (a *Actor) Sessions(ctx context.Context) ([]*Session, error) {
	if err := RequireSession(ctx); err != nil {
		return nil, err
	}
	if a.user == nil {
		return nil, ErrForbidden
	}
	return a.m.Sessions(ctx, a.user.UUID)
}

// RevokeSession ends one of the actor's own sessions.
func (a *Actor) RevokeSession(ctx context.Context, sessionID string) error {
	if err := RequireSession(ctx); err != nil {
		return err
	}
	if a.user == nil {
		return ErrForbidden
	}
	return a.m.revokeSession(ctx, a.user.UUID, sessionID, a.user.UUID, AuditSessionRevoked)
}
