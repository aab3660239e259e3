// Package impersonate lets an admin act as another user, for support: the
// admin receives an access token of the user whose act claim names the
// admin (RFC 8693 section 4.1), and every request made with it is the
// user's, with the user's permissions, except that the changes that would
// take the account over are refused and every audit entry records the
// admin.
//
// It is a feature over the usermgmt core: enable it with
//
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(impersonate.New(impersonate.Options{})))
//
// and httpadapter.New(m, ...) serves POST {API}/admin/impersonate/{uuid}
// and POST {API}/admin/impersonate/stop. It needs nothing of the store
// beyond the core contract, and no table of its own: the impersonation is
// a session of the user opened with usermgmt.ActingParty, and its mark is
// the token's act claim.
//
// The rules:
//   - the policy decides who may impersonate (resource "admin", action
//     "impersonate": admins by default), asked first without a target and
//     then with the target;
//   - whatever the policy says, nobody impersonates themself, an admin,
//     or a user the policy grants any admin action unconditionally (a
//     moderator with admin rights), and an impersonated caller cannot
//     start another impersonation;
//   - the session lasts Options.Lifetime (at most an hour) and has no
//     refresh token; it ends early with Stop, when the user logs out,
//     or when the admin is banned or deleted;
//   - while it lasts, the core refuses password, email, second-factor,
//     OAuth link and account-deletion changes, the passkey feature refuses
//     passkey changes, with 403 impersonation_forbidden
//     (usermgmt.RefuseImpersonated); GET /user/me answers impersonated_by.
package impersonate

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/usermgmt/usermgmt"
)

// MaxLifetime bounds an impersonation session, and is its default
// lifetime.
const MaxLifetime = time.Hour

// Method is the AuthMethod of an impersonation's login entry in the audit
// log ("login", detail "method=impersonation", actor the admin, subject
// the user).
const Method = "impersonation"

// AuditStopped is the audit action of an impersonation ended by Stop:
// actor the admin, subject the user, detail the session.
const AuditStopped = "impersonation-stopped"

// Errors of the feature.
var (
	// ErrSelf refuses an admin's impersonation of themself.
	ErrSelf = usermgmt.NewError(http.StatusUnprocessableEntity, "cannot_impersonate_self", "You cannot impersonate yourself.")
	// ErrPrivileged refuses the impersonation of an admin, or of a user
	// the policy grants admin rights.
	ErrPrivileged = usermgmt.NewError(http.StatusForbidden, "cannot_impersonate_admin", "An admin cannot be impersonated.")
	// ErrNotImpersonating answers Stop for a session that is not an
	// impersonation.
	ErrNotImpersonating = usermgmt.NewError(http.StatusConflict, "not_impersonating", "This session is not an impersonation.")
)

// adminActions are the admin actions that, granted to a user on no one in
// particular, make them an admin for this feature: they cannot be
// impersonated.
var adminActions = []string{"impersonate", "ban", "unban", "unlock", "feature_flags", "audit"}

// Options configures the feature.
type Options struct {
	// Lifetime is how long an impersonation lasts (its session and its
	// access token, which cannot be refreshed): MaxLifetime when zero, and
	// at most MaxLifetime and Config.SessionTTL.
	Lifetime time.Duration
}

// Impersonation is the feature: pass it to usermgmt.WithFeature.
type Impersonation struct {
	m    *usermgmt.Manager
	opts Options
}

// New returns the feature, to enable with usermgmt.WithFeature.
func New(opts Options) *Impersonation { return &Impersonation{opts: opts} }

// FeatureName implements usermgmt.Feature.
func (i *Impersonation) FeatureName() string { return "impersonate" }

// InitFeature implements usermgmt.Feature: it checks Options.Lifetime.
func (i *Impersonation) InitFeature(m *usermgmt.Manager) error {
	if i.opts.Lifetime == 0 {
		i.opts.Lifetime = min(MaxLifetime, m.Config().SessionTTL)
	}
	if i.opts.Lifetime < time.Second || i.opts.Lifetime > MaxLifetime || i.opts.Lifetime > m.Config().SessionTTL {
		return fmt.Errorf("impersonate: Options.Lifetime %v must be between 1s and %v, and at most Config.SessionTTL", i.opts.Lifetime, MaxLifetime)
	}
	i.m = m
	return nil
}

// Lifetime returns how long an impersonation lasts.
func (i *Impersonation) Lifetime() time.Duration { return i.opts.Lifetime }

// Start opens an impersonation of the user targetUUID by admin, and
// returns its tokens (no refresh token; the access token carries act
// {"sub": admin}). ctx is the admin's (usermgmt.ContextWithCaller): an
// impersonated caller gets usermgmt.ErrImpersonated. A caller the policy
// does not let impersonate gets usermgmt.ErrForbidden before anything
// about the target is looked at; then oneself is ErrSelf, an unknown user
// ErrUserNotFound, an admin ErrPrivileged, and an inactive user
// ErrInactiveUser.
func (i *Impersonation) Start(ctx context.Context, admin *usermgmt.User, targetUUID string) (*usermgmt.Tokens, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	if err := i.authorize(ctx, admin, nil); err != nil {
		return nil, err
	}
	t, err := i.m.User(ctx, targetUUID)
	if err != nil {
		return nil, err
	}
	if t.UUID == admin.UUID {
		return nil, ErrSelf
	}
	if i.privileged(ctx, t) {
		return nil, ErrPrivileged
	}
	if err := i.authorize(ctx, admin, t); err != nil {
		return nil, err
	}
	if !t.IsActive {
		return nil, usermgmt.ErrInactiveUser
	}
	return i.m.OpenSession(ctx, t, usermgmt.AuthMethod(Method), usermgmt.ActingParty(admin.UUID), usermgmt.Lifetime(i.opts.Lifetime))
}

// Stop ends the impersonation p is (revoking its session), audited as
// AuditStopped. A caller acting for themself gets ErrNotImpersonating.
func (i *Impersonation) Stop(ctx context.Context, p *usermgmt.Principal) error {
	if p == nil || p.Impersonator == "" {
		return ErrNotImpersonating
	}
	u := p.User()
	if err := i.m.RevokeSession(ctx, u.UUID, p.SessionID); err != nil {
		return err
	}
	return i.m.AppendAudit(ctx, i.m.Store(), usermgmt.AuditEntry{ActorUUID: p.Impersonator, SubjectUUID: u.UUID,
		Action: AuditStopped, Detail: p.SessionID, ImpersonatorUUID: p.Impersonator})
}

// authorize asks the policy whether actor may impersonate target (nil: at
// all).
func (i *Impersonation) authorize(ctx context.Context, actor, target *usermgmt.User) error {
	if actor == nil {
		return usermgmt.ErrForbidden
	}
	return i.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "admin", Action: "impersonate", Target: target})
}

// privileged reports whether u is an admin for this feature: the admin
// role, or an admin action the policy grants u on no one in particular.
func (i *Impersonation) privileged(ctx context.Context, u *usermgmt.User) bool {
	if slices.Contains(u.Roles, usermgmt.RoleAdmin) {
		return true
	}
	for _, a := range adminActions {
		if i.m.Authorize(ctx, usermgmt.AccessRequest{Actor: u, Resource: "admin", Action: a}) == nil {
			return true
		}
	}
	return false
}
