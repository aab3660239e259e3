package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt/org/orgstore"
)

// The organizations feature's capability (orgstore.Store): the
// organizations, org_members and org_invitations tables of migration 0011.

var (
	_ orgstore.Store = (*DB)(nil)
	_ orgstore.Store = (*txStore)(nil)
)

// orgRow is the organizations table.
type orgRow struct {
	bun.BaseModel `bun:"table:organizations,alias:o"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	Slug      string    `bun:"slug"`
	Metadata  *string   `bun:"metadata"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func newOrgRow(o *orgstore.Organization) *orgRow {
	r := &orgRow{ID: o.ID, Name: o.Name, Slug: o.Slug, CreatedAt: dbTime(o.CreatedAt), UpdatedAt: dbTime(o.UpdatedAt)}
	if o.Metadata != nil {
		s := string(o.Metadata)
		r.Metadata = &s
	}
	return r
}

func (r *orgRow) org() *orgstore.Organization {
	o := &orgstore.Organization{ID: r.ID, Name: r.Name, Slug: r.Slug, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Metadata != nil {
		o.Metadata = []byte(*r.Metadata)
	}
	return o
}

// orgMemberRow is the org_members table.
type orgMemberRow struct {
	bun.BaseModel `bun:"table:org_members,alias:om"`

	OrgID    string    `bun:"org_id,pk"`
	UserUUID string    `bun:"user_uuid,pk"`
	Role     string    `bun:"role"`
	JoinedAt time.Time `bun:"joined_at"`
}

func (r *orgMemberRow) member() *orgstore.Membership {
	return &orgstore.Membership{OrgID: r.OrgID, UserUUID: r.UserUUID, Role: r.Role, JoinedAt: r.JoinedAt.UTC()}
}

// orgInvitationRow is the org_invitations table.
type orgInvitationRow struct {
	bun.BaseModel `bun:"table:org_invitations,alias:oi"`

	ID        string    `bun:"id,pk"`
	OrgID     string    `bun:"org_id"`
	Email     string    `bun:"email"`
	Role      string    `bun:"role"`
	Hash      []byte    `bun:"hash"`
	InvitedBy string    `bun:"invited_by"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

func (r *orgInvitationRow) invitation() *orgstore.Invitation {
	return &orgstore.Invitation{ID: r.ID, OrgID: r.OrgID, Email: r.Email, Role: r.Role, Hash: r.Hash,
		InvitedBy: r.InvitedBy, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
}

// InsertOrganization implements orgstore.Store.
func (h *handle) InsertOrganization(ctx context.Context, o *orgstore.Organization) error {
	if _, err := h.idb.NewInsert().Model(newOrgRow(o)).Exec(ctx); err != nil {
		return h.fail("insert organization", err)
	}
	return nil
}

// OrganizationByID implements orgstore.Store.
func (h *handle) OrganizationByID(ctx context.Context, id string) (*orgstore.Organization, error) {
	return h.orgWhere(ctx, h.idb.NewSelect().Model(new(orgRow)).Where("id = ?", id), "organization by id")
}

// LockOrganization implements orgstore.Store: SELECT ... FOR UPDATE on
// PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) already
// excludes every other writer.
func (h *handle) LockOrganization(ctx context.Context, id string) (*orgstore.Organization, error) {
	q := h.idb.NewSelect().Model(new(orgRow)).Where("id = ?", id)
	if h.dialect == DialectPostgres {
		q = q.For("UPDATE")
	}
	return h.orgWhere(ctx, q, "lock organization")
}

func (h *handle) orgWhere(ctx context.Context, q *bun.SelectQuery, op string) (*orgstore.Organization, error) {
	row := q.GetModel().Value().(*orgRow)
	if err := q.Limit(1).Scan(ctx); err != nil {
		return nil, h.fail(op, err)
	}
	return row.org(), nil
}

// UpdateOrganization implements orgstore.Store.
func (h *handle) UpdateOrganization(ctx context.Context, o *orgstore.Organization) error {
	res, err := h.idb.NewUpdate().Model(newOrgRow(o)).Column("name", "slug", "metadata", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return h.fail("update organization", err)
	}
	return h.expectRow(res, "update organization")
}

// DeleteOrganization implements orgstore.Store. The memberships and
// invitations are deleted here rather than left to the foreign keys, so
// that a connection without them enforced (SQLite's pragma off) leaves
// nothing behind.
func (h *handle) DeleteOrganization(ctx context.Context, id string) error {
	if _, err := h.idb.NewDelete().Model((*orgInvitationRow)(nil)).Where("org_id = ?", id).Exec(ctx); err != nil {
		return h.fail("delete organization invitations", err)
	}
	if _, err := h.idb.NewDelete().Model((*orgMemberRow)(nil)).Where("org_id = ?", id).Exec(ctx); err != nil {
		return h.fail("delete organization members", err)
	}
	res, err := h.idb.NewDelete().Model((*orgRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return h.fail("delete organization", err)
	}
	return h.expectRow(res, "delete organization")
}

// SearchOrganizations implements orgstore.Store.
func (h *handle) SearchOrganizations(ctx context.Context, query, after string, limit int) ([]*orgstore.Organization, error) {
	var rows []*orgRow
	q := h.idb.NewSelect().Model(&rows).Where("slug > ?", after).OrderExpr("slug").Limit(int64(max(limit, 1)))
	if query = strings.ToLower(query); query != "" {
		find := "instr(lower(%s), ?) > 0"
		if h.dialect == DialectPostgres {
			find = "strpos(lower(%s), ?) > 0"
		}
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where(strings.ReplaceAll(find, "%s", "slug"), query).WhereOr(strings.ReplaceAll(find, "%s", "name"), query)
		})
	}
	if err := q.Scan(ctx); err != nil {
		return nil, h.fail("search organizations", err)
	}
	out := make([]*orgstore.Organization, len(rows))
	for i, r := range rows {
		out[i] = r.org()
	}
	return out, nil
}

// InsertMembership implements orgstore.Store.
func (h *handle) InsertMembership(ctx context.Context, m *orgstore.Membership) error {
	row := &orgMemberRow{OrgID: m.OrgID, UserUUID: m.UserUUID, Role: m.Role, JoinedAt: dbTime(m.JoinedAt)}
	if _, err := h.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return h.fail("insert membership", err)
	}
	return nil
}

// Membership implements orgstore.Store.
func (h *handle) Membership(ctx context.Context, orgID, userUUID string) (*orgstore.Membership, error) {
	row := new(orgMemberRow)
	if err := h.idb.NewSelect().Model(row).Where("org_id = ?", orgID).Where("user_uuid = ?", userUUID).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("membership", err)
	}
	return row.member(), nil
}

// SetMemberRole implements orgstore.Store.
func (h *handle) SetMemberRole(ctx context.Context, orgID, userUUID, role string) error {
	res, err := h.idb.NewUpdate().Model((*orgMemberRow)(nil)).Set("role = ?", role).
		Where("org_id = ?", orgID).Where("user_uuid = ?", userUUID).Exec(ctx)
	if err != nil {
		return h.fail("set member role", err)
	}
	return h.expectRow(res, "set member role")
}

// DeleteMembership implements orgstore.Store.
func (h *handle) DeleteMembership(ctx context.Context, orgID, userUUID string) error {
	res, err := h.idb.NewDelete().Model((*orgMemberRow)(nil)).Where("org_id = ?", orgID).Where("user_uuid = ?", userUUID).Exec(ctx)
	if err != nil {
		return h.fail("delete membership", err)
	}
	return h.expectRow(res, "delete membership")
}

// CountMembers implements orgstore.Store.
func (h *handle) CountMembers(ctx context.Context, orgID, role string) (int, error) {
	q := h.idb.NewSelect().Model((*orgMemberRow)(nil)).Where("org_id = ?", orgID)
	if role != "" {
		q = q.Where("role = ?", role)
	}
	n, err := q.Count(ctx)
	if err != nil {
		return 0, h.fail("count members", err)
	}
	return int(n), nil
}

// Members implements orgstore.Store: one range of the primary key.
func (h *handle) Members(ctx context.Context, orgID, after string, limit int) ([]*orgstore.Membership, error) {
	var rows []*orgMemberRow
	err := h.idb.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("user_uuid > ?", after).
		OrderExpr("user_uuid").Limit(int64(max(limit, 1))).Scan(ctx)
	if err != nil {
		return nil, h.fail("members", err)
	}
	out := make([]*orgstore.Membership, len(rows))
	for i, r := range rows {
		out[i] = r.member()
	}
	return out, nil
}

// MembershipsByUser implements orgstore.Store.
func (h *handle) MembershipsByUser(ctx context.Context, userUUID string) ([]*orgstore.UserOrganization, error) {
	var ms []*orgMemberRow
	if err := h.idb.NewSelect().Model(&ms).Where("user_uuid = ?", userUUID).Scan(ctx); err != nil {
		return nil, h.fail("memberships by user", err)
	}
	out := make([]*orgstore.UserOrganization, 0, len(ms))
	if len(ms) == 0 {
		return out, nil
	}
	ids := make([]string, len(ms))
	byOrg := make(map[string]*orgMemberRow, len(ms))
	for i, m := range ms {
		ids[i], byOrg[m.OrgID] = m.OrgID, m
	}
	var orgs []*orgRow
	if err := h.idb.NewSelect().Model(&orgs).Where("id IN (?)", bun.In(ids)).OrderExpr("slug").Scan(ctx); err != nil {
		return nil, h.fail("memberships by user", err)
	}
	for _, o := range orgs {
		out = append(out, &orgstore.UserOrganization{Organization: o.org(), Membership: byOrg[o.ID].member()})
	}
	return out, nil
}

// InsertInvitation implements orgstore.Store.
func (h *handle) InsertInvitation(ctx context.Context, inv *orgstore.Invitation) error {
	row := &orgInvitationRow{ID: inv.ID, OrgID: inv.OrgID, Email: inv.Email, Role: inv.Role, Hash: inv.Hash,
		InvitedBy: inv.InvitedBy, CreatedAt: dbTime(inv.CreatedAt), ExpiresAt: dbTime(inv.ExpiresAt)}
	if _, err := h.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return h.fail("insert invitation", err)
	}
	return nil
}

// InvitationByHash implements orgstore.Store: one lookup by the unique
// index of hash.
func (h *handle) InvitationByHash(ctx context.Context, hash []byte) (*orgstore.Invitation, error) {
	row := new(orgInvitationRow)
	if err := h.idb.NewSelect().Model(row).Where("hash = ?", hash).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("invitation by hash", err)
	}
	return row.invitation(), nil
}

// InvitationsByOrg implements orgstore.Store.
func (h *handle) InvitationsByOrg(ctx context.Context, orgID string) ([]*orgstore.Invitation, error) {
	var rows []*orgInvitationRow
	if err := h.idb.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, h.fail("invitations by organization", err)
	}
	out := make([]*orgstore.Invitation, len(rows))
	for i, r := range rows {
		out[i] = r.invitation()
	}
	return out, nil
}

// DeleteInvitation implements orgstore.Store.
func (h *handle) DeleteInvitation(ctx context.Context, orgID, id string) error {
	res, err := h.idb.NewDelete().Model((*orgInvitationRow)(nil)).Where("id = ?", id).Where("org_id = ?", orgID).Exec(ctx)
	if err != nil {
		return h.fail("delete invitation", err)
	}
	return h.expectRow(res, "delete invitation")
}
