// Package org gives users organizations (a company, a team, a
// workspace): each has members, each member a role in it, and at least
// one owner at all times.
//
// It is a feature over the usermgmt core: enable it with
//
//	orgs := org.New(org.Config{})
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(orgs))
//
// and httpadapter.New(m, ...) serves its routes under /orgs and
// /admin/orgs. The Manager's store must implement orgstore.Store (store.DB
// does, from migration 0011): New fails otherwise.
//
// The rules. An organization has an ID (a UUID), a name (1 to 64
// characters), a unique slug ([a-z0-9-], 3 to 48 characters, neither
// starting nor ending with "-") and optional metadata (a JSON object of at
// most 4 KiB). The roles are RoleOwner, RoleAdmin, RoleMember and those of
// Config.Roles. Owners do everything; admins rename the organization and
// manage the members who are not owners; every member reads it and its
// members, and may leave. The last owner cannot leave, be removed or be
// demoted: ownership is transferred first (Transfer). Deleting a user
// removes their memberships in the same transaction, and is refused
// (ErrLastOwner) while they are the last owner of an organization. Global
// admins (the policy's resource "organization": read, update, delete)
// manage every organization. Every change is checked under the
// organization's row lock, so that two changes at once (two owners
// demoting each other) cannot break the rules, and is audited with the
// organization's ID.
package org

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/org/orgstore"
)

// The built-in roles.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Limits and defaults.
const (
	MaxName         = 64
	MinSlug         = 3
	MaxSlug         = 48
	MaxMetadata     = 4 << 10
	MaxRole         = 32
	DefaultMaxOrgs  = 100
	DefaultMaxMembs = 10000
	// DefaultPageSize and MaxPageSize bound a members or admin listing.
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Audit actions of the feature; each entry's Detail starts with the
// organization's ID.
const (
	AuditCreated       = "org-created"
	AuditUpdated       = "org-updated"
	AuditDeleted       = "org-deleted"
	AuditMemberAdded   = "org-member-added"
	AuditMemberRole    = "org-member-role"
	AuditMemberRemoved = "org-member-removed"
	AuditTransferred   = "org-transferred"
)

// Errors of the feature: each a 4xx with a stable code.
var (
	// ErrNotFound is an organization that does not exist or that the
	// caller may not see: one answer for both.
	ErrNotFound = usermgmt.NewError(http.StatusNotFound, "org_not_found", "Organization not found.")
	// ErrMemberNotFound is a user who is not a member.
	ErrMemberNotFound = usermgmt.NewError(http.StatusNotFound, "org_member_not_found", "This user is not a member of the organization.")
	// ErrSlugTaken is a slug another organization has.
	ErrSlugTaken = usermgmt.NewError(http.StatusConflict, "org_slug_taken", "This slug is taken.")
	// ErrInvalidSlug is a slug outside the rules.
	ErrInvalidSlug = usermgmt.NewError(http.StatusUnprocessableEntity, "org_slug_invalid", "A slug is 3 to 48 characters a-z, 0-9 and -, neither starting nor ending with -.")
	// ErrInvalidName is a name empty, too long or with control characters.
	ErrInvalidName = usermgmt.NewError(http.StatusUnprocessableEntity, "org_name_invalid", "An organization needs a name of 1 to 64 characters, without control characters.")
	// ErrInvalidMetadata is metadata that is not a JSON object of at most
	// 4 KiB.
	ErrInvalidMetadata = usermgmt.NewError(http.StatusUnprocessableEntity, "org_metadata_invalid", "metadata must be a JSON object of at most 4096 bytes.")
	// ErrInvalidRole is a role the organization does not have.
	ErrInvalidRole = usermgmt.NewError(http.StatusUnprocessableEntity, "org_role_invalid", "Unknown organization role.")
	// ErrLastOwner is a change that would leave an organization without
	// an owner (the last owner leaving, removed, demoted or deleted).
	ErrLastOwner = usermgmt.NewError(http.StatusConflict, "org_last_owner", "An organization keeps at least one owner: transfer the ownership first.")
	// ErrInvalidCursor is a page cursor (after) or a search query that
	// is not one the listing gives.
	ErrInvalidCursor = usermgmt.NewError(http.StatusUnprocessableEntity, "org_cursor_invalid", "after is not a cursor of this listing, or q is longer than 64 characters.")
	// ErrTransferToSelf is an owner transferring to themself.
	ErrTransferToSelf = usermgmt.NewError(http.StatusUnprocessableEntity, "org_transfer_invalid", "Transfer the ownership to another member.")
	// ErrAlreadyMember is a user who is a member already.
	ErrAlreadyMember = usermgmt.NewError(http.StatusConflict, "org_already_member", "This user is a member already.")
	// ErrTooManyOrgs is an organization beyond
	// Config.MaxOrganizationsPerUser for its creator or new member.
	ErrTooManyOrgs = usermgmt.NewError(http.StatusConflict, "org_limit_reached", "This account belongs to the most organizations allowed.")
	// ErrTooManyMembers is a member beyond Config.MaxMembersPerOrganization.
	ErrTooManyMembers = usermgmt.NewError(http.StatusConflict, "org_member_limit_reached", "This organization has the most members allowed.")
)

// Config configures the feature. Zero values take the defaults.
type Config struct {
	// MaxOrganizationsPerUser bounds the organizations one user belongs
	// to (DefaultMaxOrgs when zero).
	MaxOrganizationsPerUser int
	// MaxMembersPerOrganization bounds the members of one organization
	// (DefaultMaxMembs when zero).
	MaxMembersPerOrganization int
	// Roles are the host's roles beyond owner, admin and member: they
	// rank with member (they read, and leave).
	Roles []string
	// AcceptURL is the page an invitation's link opens, given the token
	// as ?token= (default: the Manager's FrontendURL +
	// "/invitations/accept"); it calls POST /orgs/invitations/accept.
	AcceptURL string
}

// Orgs is the feature: pass it to usermgmt.WithFeature.
type Orgs struct {
	cfg   Config
	m     *usermgmt.Manager
	roles []string
}

// New returns the feature, to enable with usermgmt.WithFeature.
func New(cfg Config) *Orgs { return &Orgs{cfg: cfg} }

// FeatureName implements usermgmt.Feature.
func (o *Orgs) FeatureName() string { return "org" }

// InitFeature implements usermgmt.Feature: it checks the store, the roles
// and takes the defaults.
func (o *Orgs) InitFeature(m *usermgmt.Manager) error {
	if _, err := usermgmt.NeedStore[orgstore.Store](m.Store(), o.FeatureName()); err != nil {
		return err
	}
	if o.cfg.MaxOrganizationsPerUser <= 0 {
		o.cfg.MaxOrganizationsPerUser = DefaultMaxOrgs
	}
	if o.cfg.MaxMembersPerOrganization <= 0 {
		o.cfg.MaxMembersPerOrganization = DefaultMaxMembs
	}
	for _, r := range o.cfg.Roles {
		if !validRole(r) {
			return fmt.Errorf("org: Config.Roles: %q is not a role name (a-z, 0-9, _ and -, 1 to %d characters)", r, MaxRole)
		}
	}
	o.roles = o.Roles()
	o.m = m
	return nil
}

// Roles returns the organization roles: owner, admin, member and the
// valid names of Config.Roles.
func (o *Orgs) Roles() []string {
	roles := []string{RoleOwner, RoleAdmin, RoleMember}
	for _, r := range o.cfg.Roles {
		if validRole(r) && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles
}

// store returns the feature's store: the Manager's, or st's inside InTx.
func (o *Orgs) store(st usermgmt.Store) (orgstore.Store, error) {
	return usermgmt.NeedStore[orgstore.Store](st, o.FeatureName())
}

func validRole(r string) bool {
	if r == "" || len(r) > MaxRole {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidSlug reports whether s is a slug: 3 to 48 characters a-z, 0-9 and
// "-", neither first nor last "-".
func ValidSlug(s string) bool {
	if len(s) < MinSlug || len(s) > MaxSlug || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// cleanName checks an organization's name.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxName {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

// cleanMetadata checks metadata: nil or empty or null is none; anything
// else a JSON object of at most MaxMetadata bytes, kept compact.
func cleanMetadata(raw json.RawMessage) ([]byte, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return nil, nil
	}
	if len(t) > MaxMetadata || t[0] != '{' || !json.Valid([]byte(t)) {
		return nil, ErrInvalidMetadata
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(t)); err != nil {
		return nil, ErrInvalidMetadata
	}
	return b.Bytes(), nil
}

// BeforeDeleteUser implements usermgmt.UserDeleter: inside the deleting
// transaction it removes the user's memberships, and refuses
// (ErrLastOwner, naming the organization) while the user is the last
// owner of one.
func (o *Orgs) BeforeDeleteUser(ctx context.Context, tx usermgmt.Store, u *usermgmt.User, actorUUID string) error {
	st, err := o.store(tx)
	if err != nil {
		return err
	}
	ms, err := st.MembershipsByUser(ctx, u.UUID)
	if err != nil {
		return err
	}
	for _, uo := range ms {
		id := uo.Organization.ID
		if _, err := st.LockOrganization(ctx, id); err != nil {
			return err
		}
		// Read again under the lock: the role may have changed.
		mb, err := st.Membership(ctx, id, u.UUID)
		if err != nil {
			return err
		}
		if mb.Role == RoleOwner {
			n, err := st.CountMembers(ctx, id, RoleOwner)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastOwner.WithParam("org_id", id)
			}
		}
		if err := st.DeleteMembership(ctx, id, u.UUID); err != nil {
			return err
		}
		if err := o.audit(ctx, tx, actorUUID, u.UUID, AuditMemberRemoved, id, "user deleted"); err != nil {
			return err
		}
	}
	return nil
}

// audit appends one organization event through st; its detail is the
// organization's ID, then what changed.
func (o *Orgs) audit(ctx context.Context, st usermgmt.Store, actorUUID, subjectUUID, action, orgID, detail string) error {
	d := "org " + orgID
	if detail != "" {
		d += ": " + detail
	}
	return o.m.AppendAudit(ctx, st, usermgmt.AuditEntry{ActorUUID: actorUUID, SubjectUUID: subjectUUID, Action: action, Detail: d})
}
