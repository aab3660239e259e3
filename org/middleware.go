package org

import (
	"context"
	"net/http"
	"slices"

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

// RequireOrgRole guards a host's route on an organization named by the
// path value param ("org" for a pattern such as /app/{org}/billing): it
// authenticates the caller as httpadapter.RequireAuth does (401), then
// lets through only a member of that organization (the value is its ID)
// whose role is one of roles, or any member when roles is empty. It reads
// the membership from the store on each request (one primary-key lookup)
// and does not yet read an org_id claim of the token (not implemented).
// Another caller, and an organization that does not exist, get 404
// org_not_found (nothing tells them apart); a member without the role 403.
// next reads the organization and role with CurrentOrg.
func RequireOrgRole(m *usermgmt.Manager, o *Orgs, param string, roles ...string) func(http.Handler) http.Handler {
	return httpadapter.RequireCheck(m, func(r *http.Request, p *usermgmt.Principal) (context.Context, error) {
		st, err := o.store(m.Store())
		if err != nil {
			return nil, err
		}
		id, err := canonical(r.PathValue(param), ErrNotFound)
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
