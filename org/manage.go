package org

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/org/orgstore"
)

// Organization is an organization as the API shows it; Role is the
// caller's role in it ("" when the caller is not a member: a global
// admin).
type Organization struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Slug      string          `json:"slug"`
	Metadata  json.RawMessage `json:"metadata"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Role      string          `json:"role,omitempty"`
}

// Member is one membership as the API shows it.
type Member struct {
	UUID     string    `json:"uuid"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

// NewOrganization is what Create needs.
type NewOrganization struct {
	Name     string
	Slug     string
	Metadata json.RawMessage
}

// Patch is a change of an organization; nil fields stay. A Metadata of
// JSON null removes it.
type Patch struct {
	Name     *string
	Slug     *string
	Metadata *json.RawMessage
}

func view(o *orgstore.Organization, role string) *Organization {
	v := &Organization{ID: o.ID, Name: o.Name, Slug: o.Slug, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Role: role}
	if o.Metadata != nil {
		v.Metadata = json.RawMessage(o.Metadata)
	}
	return v
}

func memberView(m *orgstore.Membership) *Member {
	return &Member{UUID: m.UserUUID, Role: m.Role, JoinedAt: m.JoinedAt}
}

func rank(role string) int {
	switch role {
	case RoleOwner:
		return 3
	case RoleAdmin:
		return 2
	}
	return 1
}

// notFound maps the store's ErrNotFound to err.
func notFound(err error, as *usermgmt.Error) error {
	if errors.Is(err, usermgmt.ErrNotFound) {
		return as
	}
	return err
}

// canonical checks a UUID path value, answering as (a 404) when it is
// not one, as for an unknown ID.
func canonical(id string, as *usermgmt.Error) (string, error) {
	if usermgmt.ValidateUUID(id) != nil {
		return "", as
	}
	return toLower(id), nil
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// now is the Manager's clock at the stores' precision (UTC, microseconds).
func (o *Orgs) now() time.Time { return o.m.Config().Clock().UTC().Truncate(time.Microsecond) }

func (o *Orgs) newUUID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(o.m.Config().Rand, b); err != nil {
		return "", usermgmt.ErrInternal.Wrap(fmt.Errorf("org: random: %w", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// globally reports whether the policy lets actor do action on every
// organization (resource "organization"): a global admin.
func (o *Orgs) globally(ctx context.Context, actor *usermgmt.User, action string) bool {
	return o.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "organization", Action: action}) == nil
}

// access loads (locked, when lock) the organization id and the actor's
// membership of it (nil for none). One who is neither a member nor may
// read every organization gets ErrNotFound.
func (o *Orgs) access(ctx context.Context, st orgstore.Store, actor *usermgmt.User, id string, lock bool) (*orgstore.Organization, *orgstore.Membership, error) {
	id, err := canonical(id, ErrNotFound)
	if err != nil {
		return nil, nil, err
	}
	var org *orgstore.Organization
	if lock {
		org, err = st.LockOrganization(ctx, id)
	} else {
		org, err = st.OrganizationByID(ctx, id)
	}
	if err != nil {
		return nil, nil, notFound(err, ErrNotFound)
	}
	m, err := st.Membership(ctx, id, actor.UUID)
	if errors.Is(err, usermgmt.ErrNotFound) {
		if !o.globally(ctx, actor, "read") {
			return nil, nil, ErrNotFound
		}
		return org, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return org, m, nil
}

// inTx runs fn in one transaction with the feature's store.
func (o *Orgs) inTx(ctx context.Context, fn func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error) error {
	return o.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		st, err := o.store(tx)
		if err != nil {
			return err
		}
		return fn(ctx, tx, st)
	})
}

// Create makes an organization whose first owner is actor.
func (o *Orgs) Create(ctx context.Context, actor *usermgmt.User, n NewOrganization) (*Organization, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	name, err := cleanName(n.Name)
	if err != nil {
		return nil, err
	}
	if !ValidSlug(n.Slug) {
		return nil, ErrInvalidSlug
	}
	meta, err := cleanMetadata(n.Metadata)
	if err != nil {
		return nil, err
	}
	id, err := o.newUUID()
	if err != nil {
		return nil, err
	}
	now := o.now()
	org := &orgstore.Organization{ID: id, Name: name, Slug: n.Slug, Metadata: meta, CreatedAt: now, UpdatedAt: now}
	err = o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		// The creator's row, locked: two creations at once count each other.
		if _, err := tx.LockUser(ctx, actor.UUID); err != nil {
			return notFound(err, usermgmt.ErrUserNotFound)
		}
		mine, err := st.MembershipsByUser(ctx, actor.UUID)
		if err != nil {
			return err
		}
		if len(mine) >= o.cfg.MaxOrganizationsPerUser {
			return ErrTooManyOrgs
		}
		if err := st.InsertOrganization(ctx, org); err != nil {
			if errors.Is(err, usermgmt.ErrConflict) {
				return ErrSlugTaken
			}
			return err
		}
		if err := st.InsertMembership(ctx, &orgstore.Membership{OrgID: id, UserUUID: actor.UUID, Role: RoleOwner, JoinedAt: now}); err != nil {
			return err
		}
		return o.audit(ctx, tx, actor.UUID, actor.UUID, AuditCreated, id, org.Slug)
	})
	if err != nil {
		return nil, err
	}
	return view(org, RoleOwner), nil
}

// Mine returns the organizations actor belongs to, with actor's role in
// each, in slug order.
func (o *Orgs) Mine(ctx context.Context, actor *usermgmt.User) ([]*Organization, error) {
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, err
	}
	ms, err := st.MembershipsByUser(ctx, actor.UUID)
	if err != nil {
		return nil, err
	}
	out := make([]*Organization, len(ms))
	for i, uo := range ms {
		out[i] = view(uo.Organization, uo.Membership.Role)
	}
	return out, nil
}

// Get returns an organization to one of its members or a global admin.
func (o *Orgs) Get(ctx context.Context, actor *usermgmt.User, id string) (*Organization, error) {
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, err
	}
	org, m, err := o.access(ctx, st, actor, id, false)
	if err != nil {
		return nil, err
	}
	return view(org, roleOf(m)), nil
}

func roleOf(m *orgstore.Membership) string {
	if m == nil {
		return ""
	}
	return m.Role
}

// Update changes an organization's name, slug or metadata: its owners
// and admins, or a global admin (policy organization.update).
func (o *Orgs) Update(ctx context.Context, actor *usermgmt.User, id string, p Patch) (*Organization, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	var out *Organization
	err := o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		org, m, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		if rank(roleOf(m)) < rank(RoleAdmin) && !o.globally(ctx, actor, "update") {
			return usermgmt.ErrForbidden
		}
		if p.Name != nil {
			if org.Name, err = cleanName(*p.Name); err != nil {
				return err
			}
		}
		if p.Slug != nil {
			if !ValidSlug(*p.Slug) {
				return ErrInvalidSlug
			}
			org.Slug = *p.Slug
		}
		if p.Metadata != nil {
			if org.Metadata, err = cleanMetadata(*p.Metadata); err != nil {
				return err
			}
		}
		org.UpdatedAt = o.now()
		if err := st.UpdateOrganization(ctx, org); err != nil {
			if errors.Is(err, usermgmt.ErrConflict) {
				return ErrSlugTaken
			}
			return err
		}
		out = view(org, roleOf(m))
		return o.audit(ctx, tx, actor.UUID, "", AuditUpdated, org.ID, org.Slug)
	})
	return out, err
}

// Delete removes an organization with its memberships and invitations:
// its owners, or a global admin (policy organization.delete).
func (o *Orgs) Delete(ctx context.Context, actor *usermgmt.User, id string) error {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return err
	}
	var members []string
	err := o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		if usermgmt.ValidateUUID(id) == nil {
			var err error // the members' rows before the organization's lock
			if members, err = st.TouchOrganizationMembers(ctx, toLower(id), o.now()); err != nil {
				return err
			}
		}
		org, m, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		if roleOf(m) != RoleOwner && !o.globally(ctx, actor, "delete") {
			return usermgmt.ErrForbidden
		}
		if err := st.DeleteOrganization(ctx, org.ID); err != nil {
			return notFound(err, ErrNotFound)
		}
		return o.audit(ctx, tx, actor.UUID, "", AuditDeleted, org.ID, org.Slug)
	})
	if err == nil && len(members) > 0 {
		o.m.ForgetCached(members...)
	}
	return err
}

// sortedPair returns a and b in order (one of them when equal), the order
// in which a transaction locks two users' rows.
func sortedPair(a, b string) []string {
	switch {
	case a == b:
		return []string{a}
	case a < b:
		return []string{a, b}
	}
	return []string{b, a}
}

// Members returns a page of an organization's members (to its members
// and global admins) in UUID order, after the UUID after ("" first), and
// the cursor of the next page ("" at the end). limit <= 0 is
// DefaultPageSize; it is at most MaxPageSize.
func (o *Orgs) Members(ctx context.Context, actor *usermgmt.User, id, after string, limit int) ([]*Member, string, error) {
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, "", err
	}
	org, _, err := o.access(ctx, st, actor, id, false)
	if err != nil {
		return nil, "", err
	}
	if after != "" {
		if usermgmt.ValidateUUID(after) != nil {
			return nil, "", ErrInvalidCursor
		}
		after = toLower(after)
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	// One more than asked tells whether a next page exists.
	ms, err := st.Members(ctx, org.ID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		next = ms[limit-1].UserUUID
	}
	out := make([]*Member, len(ms))
	for i, m := range ms {
		out[i] = memberView(m)
	}
	return out, next, nil
}

// target loads the member userUUID of org, or ErrMemberNotFound.
func target(ctx context.Context, st orgstore.Store, orgID, userUUID string) (*orgstore.Membership, error) {
	id, err := canonical(userUUID, ErrMemberNotFound)
	if err != nil {
		return nil, err
	}
	m, err := st.Membership(ctx, orgID, id)
	return m, notFound(err, ErrMemberNotFound)
}

// keepsOwner refuses a change that takes t's ownership when t is the
// last owner (read under the organization's lock).
func keepsOwner(ctx context.Context, st orgstore.Store, t *orgstore.Membership) error {
	if t.Role != RoleOwner {
		return nil
	}
	n, err := st.CountMembers(ctx, t.OrgID, RoleOwner)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastOwner
	}
	return nil
}

// manages reports whether the actor's membership am (nil: none) may
// change the member t: owners anyone, admins those who are not owners,
// a global admin anyone.
func (o *Orgs) manages(ctx context.Context, actor *usermgmt.User, am, t *orgstore.Membership) bool {
	switch {
	case roleOf(am) == RoleOwner:
		return true
	case roleOf(am) == RoleAdmin:
		return t.Role != RoleOwner
	}
	return o.globally(ctx, actor, "update")
}

// SetRole changes a member's role. Owners give any role; admins change
// the members who are not owners, to any role but owner; the last owner
// keeps theirs (ErrLastOwner).
func (o *Orgs) SetRole(ctx context.Context, actor *usermgmt.User, id, userUUID, role string) (*Member, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	var out *Member
	err := o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		if err := st.TouchUsers(ctx, o.now(), toLower(userUUID)); err != nil { // before the organization's lock
			return err
		}
		org, am, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		t, err := target(ctx, st, org.ID, userUUID)
		if err != nil {
			return err
		}
		if !slices.Contains(o.roles, role) {
			return ErrInvalidRole.WithParam("roles", o.Roles())
		}
		if !o.manages(ctx, actor, am, t) || role == RoleOwner && roleOf(am) == RoleAdmin {
			return usermgmt.ErrForbidden
		}
		if t.Role == role {
			out = memberView(t)
			return nil
		}
		if role != RoleOwner {
			if err := keepsOwner(ctx, st, t); err != nil {
				return err
			}
		}
		if err := st.SetMemberRole(ctx, org.ID, t.UserUUID, role); err != nil {
			return notFound(err, ErrMemberNotFound)
		}
		detail := t.Role + " -> " + role
		t.Role = role
		out = memberView(t)
		return o.audit(ctx, tx, actor.UUID, t.UserUUID, AuditMemberRole, org.ID, detail)
	})
	if err == nil {
		o.m.ForgetCached(toLower(userUUID))
	}
	return out, err
}

// RemoveMember removes a member: anyone leaves (userUUID their own),
// owners remove anyone, admins those who are not owners; the last owner
// stays (ErrLastOwner).
func (o *Orgs) RemoveMember(ctx context.Context, actor *usermgmt.User, id, userUUID string) error {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return err
	}
	err := o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		if err := st.TouchUsers(ctx, o.now(), toLower(userUUID)); err != nil { // before the organization's lock
			return err
		}
		org, am, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		t, err := target(ctx, st, org.ID, userUUID)
		if err != nil {
			return err
		}
		leaving := t.UserUUID == actor.UUID
		if !leaving && !o.manages(ctx, actor, am, t) {
			return usermgmt.ErrForbidden
		}
		if err := keepsOwner(ctx, st, t); err != nil {
			return err
		}
		if err := st.DeleteMembership(ctx, org.ID, t.UserUUID); err != nil {
			return notFound(err, ErrMemberNotFound)
		}
		detail := "removed"
		if leaving {
			detail = "left"
		}
		return o.audit(ctx, tx, actor.UUID, t.UserUUID, AuditMemberRemoved, org.ID, detail)
	})
	if err == nil {
		o.m.ForgetCached(toLower(userUUID))
	}
	return err
}

// Transfer hands an owner's ownership to another member: they become an
// owner and the actor an admin. A global admin (policy
// organization.update) makes a member an owner.
func (o *Orgs) Transfer(ctx context.Context, actor *usermgmt.User, id, userUUID string) (*Member, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	var out *Member
	touched := sortedPair(actor.UUID, toLower(userUUID))
	err := o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		if err := st.TouchUsers(ctx, o.now(), touched...); err != nil { // before the organization's lock
			return err
		}
		org, am, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		t, err := target(ctx, st, org.ID, userUUID)
		if err != nil {
			return err
		}
		isOwner := roleOf(am) == RoleOwner
		if !isOwner && !o.globally(ctx, actor, "update") {
			return usermgmt.ErrForbidden
		}
		if t.UserUUID == actor.UUID {
			return ErrTransferToSelf
		}
		if t.Role != RoleOwner {
			if err := st.SetMemberRole(ctx, org.ID, t.UserUUID, RoleOwner); err != nil {
				return err
			}
		}
		if isOwner {
			if err := st.SetMemberRole(ctx, org.ID, actor.UUID, RoleAdmin); err != nil {
				return err
			}
		}
		t.Role = RoleOwner
		out = memberView(t)
		return o.audit(ctx, tx, actor.UUID, t.UserUUID, AuditTransferred, org.ID, "")
	})
	if err == nil {
		o.m.ForgetCached(touched...)
	}
	return out, err
}

// Search lists every organization whose slug or name contains query, in
// slug order after the slug after: global admins only (policy
// organization.read). It returns the next page's cursor ("" at the end).
func (o *Orgs) Search(ctx context.Context, actor *usermgmt.User, query, after string, limit int) ([]*Organization, string, error) {
	if !o.globally(ctx, actor, "read") {
		return nil, "", usermgmt.ErrForbidden
	}
	if len(query) > MaxName || len(after) > MaxSlug {
		return nil, "", ErrInvalidCursor
	}
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	os, err := st.SearchOrganizations(ctx, query, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(os) > limit {
		os = os[:limit]
		next = os[limit-1].Slug
	}
	out := make([]*Organization, len(os))
	for i, x := range os {
		out[i] = view(x, "")
	}
	return out, next, nil
}

// AddMember makes the user userUUID a member of an organization with
// role: its owners (any role), its admins (any role but owner) or a
// global admin (policy organization.update). The invitations add members
// through the same checks and limits.
func (o *Orgs) AddMember(ctx context.Context, actor *usermgmt.User, id, userUUID, role string) error {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return err
	}
	uid, err := canonical(userUUID, usermgmt.ErrUserNotFound)
	if err != nil {
		return err
	}
	if !slices.Contains(o.roles, role) {
		return ErrInvalidRole.WithParam("roles", o.Roles())
	}
	return o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		// The user first, then the organization: the order of every
		// transaction that locks both (a user's deletion).
		if _, err := tx.LockUser(ctx, uid); err != nil {
			return notFound(err, usermgmt.ErrUserNotFound)
		}
		org, am, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		switch r := roleOf(am); {
		case r == RoleOwner, r == RoleAdmin && role != RoleOwner:
		case o.globally(ctx, actor, "update"):
		default:
			return usermgmt.ErrForbidden
		}
		return o.join(ctx, tx, st, org.ID, uid, role, actor.UUID)
	})
}

// join adds a member under the organization's lock (and the user's),
// within the limits.
func (o *Orgs) join(ctx context.Context, tx usermgmt.Store, st orgstore.Store, orgID, userUUID, role, actorUUID string) error {
	if _, err := st.Membership(ctx, orgID, userUUID); err == nil {
		return ErrAlreadyMember
	} else if !errors.Is(err, usermgmt.ErrNotFound) {
		return err
	}
	n, err := st.CountMembers(ctx, orgID, "")
	if err != nil {
		return err
	}
	if n >= o.cfg.MaxMembersPerOrganization {
		return ErrTooManyMembers
	}
	mine, err := st.MembershipsByUser(ctx, userUUID)
	if err != nil {
		return err
	}
	if len(mine) >= o.cfg.MaxOrganizationsPerUser {
		return ErrTooManyOrgs
	}
	if err := st.InsertMembership(ctx, &orgstore.Membership{OrgID: orgID, UserUUID: userUUID, Role: role, JoinedAt: o.now()}); err != nil {
		if errors.Is(err, usermgmt.ErrConflict) {
			return ErrAlreadyMember
		}
		return err
	}
	return o.audit(ctx, tx, actorUUID, userUUID, AuditMemberAdded, orgID, role)
}

// DeleteUserWithOrgs deletes the user userUUID as actor (policy
// user.delete) together with the organizations of which they are the
// last owner (policy organization.delete), in one transaction: the way
// past ErrLastOwner for a global admin. It returns the IDs of the
// organizations deleted.
func (o *Orgs) DeleteUserWithOrgs(ctx context.Context, actor *usermgmt.User, userUUID string) ([]string, error) {
	if !o.globally(ctx, actor, "delete") {
		return nil, usermgmt.ErrForbidden
	}
	uid, err := canonical(userUUID, usermgmt.ErrUserNotFound)
	if err != nil {
		return nil, err
	}
	var deleted, touched []string
	err = o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		// The user first, then the organizations (the order of every
		// transaction that locks both).
		if _, err := tx.LockUser(ctx, uid); err != nil {
			return notFound(err, usermgmt.ErrUserNotFound)
		}
		ms, err := st.MembershipsByUser(ctx, uid)
		if err != nil {
			return err
		}
		// The members' rows before the organizations' locks: the claims of
		// every organization that may go are stale from here (some of
		// them stay: a conservative touch).
		for _, uo := range ms {
			ids, err := st.TouchOrganizationMembers(ctx, uo.Organization.ID, o.now())
			if err != nil {
				return err
			}
			touched = append(touched, ids...)
		}
		for _, uo := range ms {
			id := uo.Organization.ID
			if _, err := st.LockOrganization(ctx, id); err != nil {
				return err
			}
			t, err := st.Membership(ctx, id, uid)
			if err != nil {
				return err
			}
			if keepsOwner(ctx, st, t) == nil {
				continue
			}
			if err := st.DeleteOrganization(ctx, id); err != nil {
				return err
			}
			if err := o.audit(ctx, tx, actor.UUID, uid, AuditDeleted, id, "with its last owner"); err != nil {
				return err
			}
			deleted = append(deleted, id)
		}
		// Joins this transaction; BeforeDeleteUser removes the other
		// memberships.
		return o.m.As(actor).DeleteUser(ctx, uid)
	})
	if err != nil {
		return nil, err
	}
	if len(touched) > 0 {
		o.m.ForgetCached(touched...)
	}
	return deleted, nil
}
