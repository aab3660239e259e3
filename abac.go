package usermgmt

import (
	"context"
	"errors"
	"slices"
	"sort"
)

// AccessRequest is what an access rule decides on: who (Actor) wants to do
// what (Action) to which kind of thing (Resource), and the attributes the
// rule may look at.
type AccessRequest struct {
	Actor    *User
	Resource string
	Action   string
	// Target is the user acted on, or the owner of the resource acted on
	// (a file's creator, say). Nil for actions on no one in particular, such
	// as listing users.
	Target *User
	// Roles are the roles being given (creating or updating a user); nil
	// when roles are not being set.
	Roles []string
	// Fields names the fields being changed by an update.
	Fields []string
	// Data carries resource-specific attributes for custom rules.
	Data any
}

// self reports whether the actor acts on themself.
func (r AccessRequest) self() bool {
	return r.Target != nil && r.Actor != nil && r.Target.UUID == r.Actor.UUID
}

// Rule decides one (role, resource, action) entry of a Policy: either a
// fixed answer (Allow, Deny) or a predicate (When).
type Rule struct {
	allow bool
	when  func(AccessRequest) bool
}

// Allow grants unconditionally; Deny refuses (the same as no entry).
var (
	Allow = Rule{allow: true}
	Deny  = Rule{}
)

// When grants when pred returns true.
func When(pred func(AccessRequest) bool) Rule { return Rule{when: pred} }

func (r Rule) allows(req AccessRequest) bool {
	if r.when != nil {
		return r.when(req)
	}
	return r.allow
}

// Policy maps role → resource → action → Rule. Anything without an entry is
// denied. A request is granted when any of the actor's roles grants it.
type Policy struct {
	roles map[string]map[string]map[string]Rule
}

// NewPolicy returns a policy with the given roles and no permissions.
func NewPolicy(roles ...string) *Policy {
	p := &Policy{roles: map[string]map[string]map[string]Rule{}}
	for _, r := range roles {
		p.AddRole(r)
	}
	return p
}

// AddRole adds a role with no permissions (a no-op when it exists).
func (p *Policy) AddRole(role string) *Policy {
	if _, ok := p.roles[role]; !ok {
		p.roles[role] = map[string]map[string]Rule{}
	}
	return p
}

// Set sets the rule for (role, resource, action), adding the role if needed.
// It returns p, so calls chain.
func (p *Policy) Set(role, resource, action string, rule Rule) *Policy {
	p.AddRole(role)
	if p.roles[role][resource] == nil {
		p.roles[role][resource] = map[string]Rule{}
	}
	p.roles[role][resource][action] = rule
	return p
}

// Roles returns the policy's role names, sorted.
func (p *Policy) Roles() []string {
	out := make([]string, 0, len(p.roles))
	for r := range p.roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// HasRole reports whether role is one of the policy's roles.
func (p *Policy) HasRole(role string) bool {
	_, ok := p.roles[role]
	return ok
}

// Allows reports whether req is granted.
func (p *Policy) Allows(req AccessRequest) bool {
	if req.Actor == nil {
		return false
	}
	for _, role := range req.Actor.Roles {
		if rule, ok := p.roles[role][req.Resource][req.Action]; ok && rule.allows(req) {
			return true
		}
	}
	return false
}

func (p *Policy) validate() error {
	if len(p.roles) == 0 {
		return errors.New("policy has no roles")
	}
	return nil
}

// Role names of the default policy.
const (
	RoleAdmin     = "admin"
	RoleModerator = "moderator"
	RoleUser      = "user"
	RoleTester    = "tester"
)

// privileged reports whether roles include admin or moderator.
func privileged(roles []string) bool {
	return slices.Contains(roles, RoleAdmin) || slices.Contains(roles, RoleModerator)
}

// selfEditable are the fields a plain user may change on their own account.
var selfEditable = []string{"username", "display_name", "email", "description"}

// adminOnly reports whether an update of another user's field is the
// admins' alone among the roles that may edit others.
func adminOnly(field string) bool {
	return field == "password" || field == "email_verified" || field == "otp_method"
}

// DefaultPolicy returns the reference service's permission table with its
// faults fixed: a user may edit their own profile (not their roles, state or
// password, which has its own flow), listing or counting users stays with
// admins and moderators, and the mail tools (resource "email") are the
// admins' only: the reference let moderators send free-form mail to any
// address in the project's name.
func DefaultPolicy() *Policy {
	p := NewPolicy(RoleAdmin, RoleModerator, RoleUser, RoleTester)

	notBlocked := func(r AccessRequest) bool {
		return r.Target != nil && (r.self() ||
			!r.Target.Blocks(r.Actor.UUID) && !r.Actor.Blocks(r.Target.UUID) && r.Target.IsActive)
	}
	self := func(r AccessRequest) bool { return r.self() }
	targetNotPrivileged := func(r AccessRequest) bool { return r.Target != nil && !privileged(r.Target.Roles) }
	// Anyone may edit their own profile (not their roles, state or
	// password) and delete their own account.
	selfEdit := func(r AccessRequest) bool {
		if !r.self() || r.Roles != nil {
			return false
		}
		for _, f := range r.Fields {
			if !slices.Contains(selfEditable, f) {
				return false
			}
		}
		return true
	}

	for _, res := range []string{"user", "user_image", "user_file", "blocked_users", "file"} {
		for _, act := range []string{"create", "read", "update", "delete"} {
			p.Set(RoleAdmin, res, act, Allow)
		}
	}
	for _, act := range []string{"export", "import", "recover"} {
		p.Set(RoleAdmin, "database", act, Allow)
	}
	for _, act := range []string{"single", "multiple", "all", "test", "auth"} {
		p.Set(RoleAdmin, "email", act, Allow)
	}
	for _, act := range []string{"ban", "unban", "unlock", "feature_flags", "audit"} {
		p.Set(RoleAdmin, "admin", act, Allow)
	}
	// The passkey feature: admins list and remove a user's passkeys (an
	// owner manages their own without a rule).
	p.Set(RoleAdmin, "passkey", "read", Allow).Set(RoleAdmin, "passkey", "delete", Allow)
	// The API-key feature: admins create, list and revoke a user's keys
	// (an owner manages their own without a rule).
	p.Set(RoleAdmin, "api_key", "create", Allow).Set(RoleAdmin, "api_key", "read", Allow).Set(RoleAdmin, "api_key", "delete", Allow)
	// The org feature: admins read, change and delete every
	// organization (members manage their own by their organization role).
	p.Set(RoleAdmin, "organization", "read", Allow).Set(RoleAdmin, "organization", "update", Allow).Set(RoleAdmin, "organization", "delete", Allow)
	// The webhook feature: admins list the deliveries and retry one.
	p.Set(RoleAdmin, "webhook", "read", Allow).Set(RoleAdmin, "webhook", "retry", Allow)
	// The impersonate feature: admins act as a user who is not an admin
	// (asked first with no target: may the actor impersonate at all).
	p.Set(RoleAdmin, "admin", "impersonate", When(func(r AccessRequest) bool {
		return r.Target == nil || !slices.Contains(r.Target.Roles, RoleAdmin)
	}))
	p.Set(RoleAdmin, "docs", "swagger", Allow).Set(RoleAdmin, "docs", "redoc", Allow)

	p.Set(RoleModerator, "user", "create", When(func(r AccessRequest) bool { return !privileged(r.Roles) })).
		Set(RoleModerator, "user", "read", Allow).
		Set(RoleModerator, "user", "update", When(func(r AccessRequest) bool {
			// Not another's password: that is the owner's (or an admin's);
			// vouching for an email or removing a second factor is an
			// admin's.
			return targetNotPrivileged(r) && !privileged(r.Roles) && !slices.ContainsFunc(r.Fields, adminOnly) || selfEdit(r)
		})).
		Set(RoleModerator, "user", "delete", When(self)).
		Set(RoleModerator, "user_image", "read", Allow).
		Set(RoleModerator, "file", "create", Allow).
		Set(RoleModerator, "file", "read", Allow).
		Set(RoleModerator, "file", "update", Allow).
		Set(RoleModerator, "admin", "ban", When(targetNotPrivileged)).
		Set(RoleModerator, "docs", "redoc", Allow)

	p.Set(RoleUser, "user", "read", When(notBlocked)).
		Set(RoleUser, "user", "update", When(selfEdit)).
		Set(RoleUser, "user", "delete", When(self)).
		Set(RoleUser, "user_image", "create", When(self)).
		Set(RoleUser, "user_image", "read", When(notBlocked)).
		Set(RoleUser, "user_image", "delete", When(self)).
		Set(RoleUser, "user_file", "create", When(self)).
		Set(RoleUser, "blocked_users", "read", When(self)).
		Set(RoleUser, "blocked_users", "create", When(self)).
		Set(RoleUser, "blocked_users", "update", When(self)).
		Set(RoleUser, "blocked_users", "delete", When(self)).
		Set(RoleUser, "file", "create", Allow).
		Set(RoleUser, "file", "read", When(notBlocked)).
		Set(RoleUser, "file", "update", When(self)).
		Set(RoleUser, "file", "delete", When(self)).
		Set(RoleUser, "docs", "redoc", Allow)
	return p
}

// Authorize returns nil when the policy grants req, ErrForbidden otherwise.
// When ctx carries a restricted credential (ContextWithCaller: an API key),
// the request must also be within its scopes (ErrInsufficientScope
// otherwise): a credential never does more than its owner.
func (m *Manager) Authorize(ctx context.Context, req AccessRequest) error {
	if c, ok := CredentialFrom(ctx); ok && !c.Allows(req.Resource, req.Action) {
		return ErrInsufficientScope
	}
	if m.cfg.Policy.Allows(req) {
		return nil
	}
	return ErrForbidden
}
