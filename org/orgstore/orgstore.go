// Package orgstore is the vocabulary of the organizations feature's
// storage: organizations, memberships and invitations, and the Store
// interface that keeps them. Store implementations import it to implement
// Store without linking the feature's rules or routes; hosts use it
// through the org package.
package orgstore

import (
	"context"
	"time"
)

// Store is what the organizations feature needs of the Manager's store.
// Every method runs in the store's transaction when called on the Store of
// usermgmt.Manager.InTx.
//
// Locking: LockOrganization holds the organization's row until the
// transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write
// transactions run one at a time), so that a change checked against the
// organization's members (its last owner, its member limit) sees every
// change committed before it. A transaction that locks a user's row
// (usermgmt.Store.LockUser) and an organization locks the user first.
type Store interface {
	// InsertOrganization stores a new organization. An ID or a Slug
	// already stored is a usermgmt.ErrConflict.
	InsertOrganization(ctx context.Context, o *Organization) error
	// OrganizationByID returns an organization, or usermgmt.ErrNotFound.
	OrganizationByID(ctx context.Context, id string) (*Organization, error)
	// LockOrganization returns an organization and locks its row until the
	// transaction ends; usermgmt.ErrNotFound when there is none.
	LockOrganization(ctx context.Context, id string) (*Organization, error)
	// UpdateOrganization writes an organization's name, slug, metadata
	// and UpdatedAt. A slug already taken is a usermgmt.ErrConflict; an
	// unknown ID a usermgmt.ErrNotFound.
	UpdateOrganization(ctx context.Context, o *Organization) error
	// DeleteOrganization removes an organization with its memberships
	// and invitations; usermgmt.ErrNotFound when there is none.
	DeleteOrganization(ctx context.Context, id string) error
	// SearchOrganizations returns up to limit organizations whose slug
	// or name contains query (case-insensitively; "" matches all), in
	// slug order, those after the slug after ("" for the first page).
	SearchOrganizations(ctx context.Context, query, after string, limit int) ([]*Organization, error)

	// InsertMembership adds a member. A membership already stored is a
	// usermgmt.ErrConflict; an unknown organization or user a
	// usermgmt.ErrNotFound.
	InsertMembership(ctx context.Context, m *Membership) error
	// Membership returns the user's membership of the organization, or
	// usermgmt.ErrNotFound.
	Membership(ctx context.Context, orgID, userUUID string) (*Membership, error)
	// SetMemberRole changes a member's role; usermgmt.ErrNotFound when
	// the user is not a member.
	SetMemberRole(ctx context.Context, orgID, userUUID, role string) error
	// DeleteMembership removes a member; usermgmt.ErrNotFound when the
	// user is not a member.
	DeleteMembership(ctx context.Context, orgID, userUUID string) error
	// CountMembers counts the organization's members with the role, or
	// all of them when role is "".
	CountMembers(ctx context.Context, orgID, role string) (int, error)
	// Members returns up to limit members of the organization in the
	// order of their user UUID, those after the UUID after ("" for the
	// first page).
	Members(ctx context.Context, orgID, after string, limit int) ([]*Membership, error)
	// MembershipsByUser returns the user's organizations with the user's
	// membership of each, in slug order; none is an empty slice.
	MembershipsByUser(ctx context.Context, userUUID string) ([]*UserOrganization, error)

	// SetActiveOrganization records the organization a session chose
	// (replacing its previous choice), or clears it when orgID is "". A
	// session or organization that does not exist is an error.
	SetActiveOrganization(ctx context.Context, sessionID, orgID string, at time.Time) error
	// ActiveOrganization returns the organization a session chose, ""
	// for none. The row goes with the session and with the organization.
	ActiveOrganization(ctx context.Context, sessionID string) (string, error)
	// TouchUsers sets the users' updated_at to at (unknown UUIDs are
	// skipped): the feature's signal, read from the core's cached profile,
	// that org claims issued before at are stale. It locks the users'
	// rows, so a transaction calls it before LockOrganization.
	TouchUsers(ctx context.Context, at time.Time, uuids ...string) error
	// TouchOrganizationMembers is TouchUsers for every member of the
	// organization, whose UUIDs it returns.
	TouchOrganizationMembers(ctx context.Context, orgID string, at time.Time) ([]string, error)

	// InsertInvitation stores an invitation. An ID or a Hash already
	// stored is a usermgmt.ErrConflict; an unknown organization a
	// usermgmt.ErrNotFound.
	InsertInvitation(ctx context.Context, inv *Invitation) error
	// InvitationByHash returns the invitation of a token's hash, or
	// usermgmt.ErrNotFound.
	InvitationByHash(ctx context.Context, hash []byte) (*Invitation, error)
	// InvitationsByOrg returns the organization's invitations, oldest
	// first (ties by ID); none is an empty slice.
	InvitationsByOrg(ctx context.Context, orgID string) ([]*Invitation, error)
	// DeleteInvitation removes the organization's invitation id:
	// revoked, accepted or declined, an invitation is used once.
	// usermgmt.ErrNotFound when it is gone, so that of two calls for one
	// invitation exactly one succeeds.
	DeleteInvitation(ctx context.Context, orgID, id string) error
}

// Organization is one stored organization.
type Organization struct {
	// ID is a UUID.
	ID string
	// Name is its display name.
	Name string
	// Slug is its unique, URL-safe name.
	Slug string
	// Metadata is a JSON object the host keeps with it, nil for none.
	Metadata  []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Membership is a user's membership of an organization.
type Membership struct {
	OrgID    string
	UserUUID string
	// Role is the member's role in the organization (owner, admin,
	// member, or a role of the host's policy).
	Role     string
	JoinedAt time.Time
}

// UserOrganization is an organization with one user's membership of it.
type UserOrganization struct {
	Organization *Organization
	Membership   *Membership
}

// Invitation is one pending invitation to join an organization. The
// token itself is never stored: Hash is its SHA-256.
type Invitation struct {
	// ID names the invitation in routes: random, URL-safe, unique.
	ID    string
	OrgID string
	// Email is the invited address, normalised.
	Email string
	// Role is the role the invited user gets.
	Role string
	// Hash is the SHA-256 of the token the mail carries (unique).
	Hash []byte
	// InvitedBy is the UUID of the member who invited.
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}
