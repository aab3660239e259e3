package usermgmt

import (
	"context"
	"fmt"
	"slices"
)

// Blocked users: each user keeps a list of the users they have blocked.
// A block hides the two users from each other (policy user.read for plain
// users) in both directions.

// maxBlockedUsers bounds a user's blocked list.
const maxBlockedUsers = 1000

// AuditBlockedUsers is the audit action of a change to a blocked list; its
// detail lists what was added and removed.
const AuditBlockedUsers = "blocked-users-changed"

// BlockChange is a change to a blocked list: Remove is applied first, then
// Add (whose UUIDs must name existing users other than the owner). Either
// may be empty.
type BlockChange struct {
	Remove []string
	Add    []string
}

// canonicalUUIDs checks and lower-cases every UUID of ids.
func canonicalUUIDs(ids []string) ([]string, error) {
	if len(ids) > maxBlockedUsers {
		return nil, ErrInvalidInput.WithMessage(fmt.Sprintf("At most %d users at a time.", maxBlockedUsers))
	}
	out := make([]string, 0, len(ids))
	for _, s := range ids {
		id, err := canonicalUUID(s)
		if err != nil {
			return nil, ErrInvalidUUID.WithMessage(fmt.Sprintf("%q is not a UUID.", s)).WithParam("uuid", s)
		}
		out = append(out, id)
	}
	return out, nil
}

// BlockedUsers returns the UUIDs a user has blocked.
func (m *Manager) BlockedUsers(ctx context.Context, uuid string) ([]string, error) {
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	return orEmptyList(u.BlockedUUIDs), nil
}

// ChangeBlockedUsers applies c to a user's blocked list and returns the new
// list. It is the trusted call (no policy; see Actor.BlockUsers and its
// siblings for the checked ones).
func (m *Manager) ChangeBlockedUsers(ctx context.Context, uuid string, c BlockChange) ([]string, error) {
	return m.changeBlocked(ctx, uuid, "", c, nil)
}

func (m *Manager) changeBlocked(ctx context.Context, uuid, actorUUID string, c BlockChange, authorize func(*User) error) ([]string, error) {
	remove, err := canonicalUUIDs(c.Remove)
	if err != nil {
		return nil, err
	}
	add, err := canonicalUUIDs(c.Add)
	if err != nil {
		return nil, err
	}
	if len(add) > 0 {
		// Only existing users can be blocked: a typo must not pass silently.
		found, err := m.store.UsersByUUIDs(ctx, add)
		if err != nil {
			return nil, err
		}
		for _, id := range add {
			if !slices.ContainsFunc(found, func(u *User) bool { return u.UUID == id }) {
				return nil, ErrUserNotFound.WithParam("uuid", id)
			}
		}
	}
	u, err := m.changeUser(ctx, uuid, actorUUID, authorize, func(u *User) (*User, bool, []auditNote, error) {
		n := u.clone()
		var added, removed []string
		n.BlockedUUIDs = slices.DeleteFunc(n.BlockedUUIDs, func(id string) bool {
			if slices.Contains(remove, id) {
				removed = append(removed, id)
				return true
			}
			return false
		})
		for _, id := range add {
			if id == u.UUID {
				return nil, false, nil, ErrInvalidInput.WithMessage("You cannot block yourself.")
			}
			if !slices.Contains(n.BlockedUUIDs, id) {
				n.BlockedUUIDs = append(n.BlockedUUIDs, id)
				added = append(added, id)
			}
		}
		if len(n.BlockedUUIDs) > maxBlockedUsers {
			return nil, false, nil, ErrInvalidInput.WithMessage(fmt.Sprintf("At most %d blocked users.", maxBlockedUsers))
		}
		var notes []auditNote
		if len(added)+len(removed) > 0 {
			notes = []auditNote{{AuditBlockedUsers, fmt.Sprintf("added %v removed %v", added, removed)}}
		}
		return n, false, notes, nil
	})
	if err != nil {
		return nil, err
	}
	return orEmptyList(u.BlockedUUIDs), nil
}

func orEmptyList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// BlockedUsers returns a user's blocked list (policy blocked_users.read:
// the owner and admins by default).
func (a *Actor) BlockedUsers(ctx context.Context, uuid string) ([]string, error) {
	u, err := a.m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, AccessRequest{Resource: "blocked_users", Action: "read", Target: u}); err != nil {
		return nil, err
	}
	return orEmptyList(u.BlockedUUIDs), nil
}

// BlockUsers adds users to a blocked list (policy blocked_users.create).
func (a *Actor) BlockUsers(ctx context.Context, uuid string, ids []string) ([]string, error) {
	return a.changeBlocked(ctx, uuid, "create", BlockChange{Add: ids})
}

// ChangeBlockedUsers removes, then adds, users on a blocked list (policy
// blocked_users.update).
func (a *Actor) ChangeBlockedUsers(ctx context.Context, uuid string, c BlockChange) ([]string, error) {
	return a.changeBlocked(ctx, uuid, "update", c)
}

// UnblockUsers removes users from a blocked list (policy
// blocked_users.delete; the reference checked update here).
func (a *Actor) UnblockUsers(ctx context.Context, uuid string, ids []string) ([]string, error) {
	return a.changeBlocked(ctx, uuid, "delete", BlockChange{Remove: ids})
}

func (a *Actor) changeBlocked(ctx context.Context, uuid, action string, c BlockChange) ([]string, error) {
	return a.m.changeBlocked(ctx, uuid, a.uuid(), c, func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "blocked_users", Action: action, Target: t})
	})
}
