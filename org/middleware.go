package org

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// Membership is the caller's organization and role that RequireOrgRole
// put on the request's context.
type Membership struct {
	Org  *Organization
	Role string
}

type currentOrgKey struct{}

// CurrentOrg returns the organization and the caller's role in it that
// RequireOrgRole put on ctx.
func CurrentOrg(ctx context.Context) (*Membership, bool) {
	m, ok := ctx.Value(currentOrgKey{}).(*Membership)
	return m, ok && m != nil
}

// RequireOrgRole guards a host's route on an organization: it
// authenticates the caller as httpadapter.RequireAuth does (401), then lets
// through only a member of the organization whose role is one of roles, or
// any member when roles is empty. The organization is the path value param
// ("org" for a pattern such as /app/{org}/billing; its ID), or, when param
// is "", the token's active organization (SwitchOrg).
//
// When the token carries the org_id and org_role claims of that
// organization and they are fresh (issued after the user's last
// membership change, see SwitchOrg), the check reads them and nothing
// else: no store read, and CurrentOrg's Org carries the ID only. Otherwise
// it reads the membership and the organization from the store (two
// primary-key lookups), and CurrentOrg's Org is the whole organization.
// Another caller, an organization that does not exist, and no active
// organization (param "") get 404 org_not_found (nothing tells them
// apart); a member without the role 403. next reads the organization and
// role with CurrentOrg.
func RequireOrgRole(m *usermgmt.Manager, o *Orgs, param string, roles ...string) func(http.Handler) http.Handler {
	return httpadapter.RequireCheck(m, func(r *http.Request, p *usermgmt.Principal) (context.Context, error) {
		want := ""
		if param != "" {
			want = r.PathValue(param)
		}
		if id, role, ok := o.tokenOrg(p, want); ok {
			if len(roles) > 0 && !slices.Contains(roles, role) {
				return nil, usermgmt.ErrForbidden
			}
			c := &claimOrgContext{Context: r.Context()}
			c.o.ID, c.o.Role = id, role
			c.m.Org, c.m.Role = &c.o, role
			return c, nil
		}
		if param == "" {
			return nil, ErrNotFound
		}
		st, err := o.store(m.Store())
		if err != nil {
			return nil, err
		}
		id, err := canonical(want, ErrNotFound)
		if err != nil {
			return nil, err
		}
		mb, err := st.Membership(r.Context(), id, p.User().UUID)
		if err != nil {
			return nil, notFound(err, ErrNotFound)
		}
		if len(roles) > 0 && !slices.Contains(roles, mb.Role) {
			return nil, usermgmt.ErrForbidden
		}
		org, err := st.OrganizationByID(r.Context(), id)
		if err != nil {
			return nil, notFound(err, ErrNotFound)
		}
		return context.WithValue(r.Context(), currentOrgKey{}, &Membership{Org: view(org, mb.Role), Role: mb.Role}), nil
	})
}

// claimOrgContext is the context of a request let through on its
// token's claims: the Membership and its Organization in one allocation
// with the context that carries them (the hot path's cost).
type claimOrgContext struct {
	context.Context
	m Membership
	o Organization
}

// Value implements context.Context.
func (c *claimOrgContext) Value(key any) any {
	if key == (currentOrgKey{}) {
		return &c.m
	}
	return c.Context.Value(key)
}

// tokenOrg returns the organization and role of p's token claims when it
// has them, they are fresh and they name the organization want ("" for
// any): fresh is issued after the user's updated_at, which every
// membership change of the user sets (the claims' iat is in whole seconds,
// so a token of the same second as a change is not trusted). It reuses
// want's and the role list's strings rather than allocate.
func (o *Orgs) tokenOrg(p *usermgmt.Principal, want string) (id, role string, ok bool) {
	rawID, rawRole := p.Claims[ClaimOrgID], p.Claims[ClaimOrgRole]
	if rawID == nil || rawRole == nil || !p.IssuedAt.After(p.User().UpdatedAt) {
		return "", "", false
	}
	bid, ok1 := jsonString(rawID)
	brole, ok2 := jsonString(rawRole)
	if !ok1 || !ok2 || len(bid) == 0 {
		return "", "", false
	}
	switch {
	case want == "":
		id = string(bid)
	case string(bid) == want:
		id = want
	case len(bid) == len(want) && strings.EqualFold(string(bid), want):
		id = string(bid)
	default:
		return "", "", false
	}
	for _, r := range o.roles {
		if string(brole) == r {
			return id, r, true
		}
	}
	return "", "", false // a role the configuration no longer has
}

// jsonString reads a JSON string without escapes (what the feature signs:
// a UUID, a role name), without copying it.
func jsonString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}
