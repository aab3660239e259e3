package org

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The active organization: a session chooses one (SwitchOrg, POST
// /auth/switch-org) and its access tokens carry the claims ClaimOrgID and
// ClaimOrgRole, which RequireOrgRole reads without a store read. The
// claims go through the core's ClaimsFeature seam: the core reserves the
// names for this feature and knows nothing of organizations.
//
// Staleness: a change of a user's membership (a role changed, the member
// removed, the organization deleted or transferred) sets the user's
// updated_at in its transaction, and claims issued at or before a user's
// updated_at are not trusted: RequireOrgRole reads the store instead. The
// core caches the profile (and so updated_at) for at most CacheTTL, the
// bound within which every instance stops trusting the claims; the instance
// that made the change forgets its cached profile at once. The next refresh
// (or switch) issues the claims anew from the store.

// The claims of the active organization.
const (
	ClaimOrgID   = "org_id"
	ClaimOrgRole = "org_role"
)

// TokenClaimNames implements usermgmt.ClaimsFeature.
func (o *Orgs) TokenClaimNames() []string { return []string{ClaimOrgID, ClaimOrgRole} }

// TokenClaims implements usermgmt.ClaimsFeature: the session's active
// organization and the user's role in it, read from the store; none when
// the session chose none or the user is no longer a member.
func (o *Orgs) TokenClaims(ctx context.Context, u *usermgmt.User, s *usermgmt.Session) (map[string]any, error) {
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, err
	}
	id, err := st.ActiveOrganization(ctx, s.ID)
	if err != nil || id == "" {
		return nil, err
	}
	mb, err := st.Membership(ctx, id, u.UUID)
	if errors.Is(err, usermgmt.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{ClaimOrgID: id, ClaimOrgRole: mb.Role}, nil
}

// ErrNotMember is a switch to an organization the caller is not a member
// of (or that does not exist: one answer for both).
var ErrNotMember = usermgmt.NewError(http.StatusForbidden, "org_not_member", "You are not a member of this organization.")

// SwitchOrg makes orgID the active organization of the caller's session
// ("" clears it) and returns a new access token for the session with the
// claims org_id and org_role (none after a clear). The refresh token stays
// as it is (Tokens.RefreshToken is ""), and its refreshes carry the choice
// on. A caller who is not a member gets ErrNotMember; a caller
// authenticated by an API key (no session) usermgmt.ErrForbidden.
func (o *Orgs) SwitchOrg(ctx context.Context, p *usermgmt.Principal, orgID string) (*usermgmt.Tokens, error) {
	if p == nil || p.Credential != nil || p.SessionID == "" {
		return nil, usermgmt.ErrForbidden
	}
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, err
	}
	if orgID != "" {
		if usermgmt.ValidateUUID(orgID) != nil {
			return nil, httpadapter.Invalid("org_id: an organization's ID (a UUID) or null")
		}
		id := toLower(orgID)
		if _, err := st.Membership(ctx, id, p.User().UUID); err != nil {
			return nil, notFound(err, ErrNotMember)
		}
		orgID = id
	}
	if err := st.SetActiveOrganization(ctx, p.SessionID, orgID, o.now()); err != nil {
		return nil, notFound(err, ErrNotMember)
	}
	return o.m.ReissueAccessToken(ctx, p)
}

// switchBody is the body of POST /auth/switch-org.
type switchBody struct {
	OrgID json.RawMessage `json:"org_id"`
}

// switchEndpoint is POST /auth/switch-org.
func (o *Orgs) switchEndpoint() httpadapter.Endpoint {
	e := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/auth/switch-org", Name: "switch_org", Flag: "SWITCH_ORG",
		Tag: "organizations", Auth: true,
		Summary: "Choose the session's active organization (null clears it): a new access token with org_id and org_role; " +
			"refresh_token is empty, the current one stays valid.",
		Request: "OrganizationSwitch", Encodings: jsonOnly, Status: http.StatusOK, Response: "Token", Statuses: []int{http.StatusForbidden}},
		decodeBody[switchBody],
		func(ctx context.Context, pr *usermgmt.Principal, in input[switchBody]) (httpadapter.Response, error) {
			var id string
			switch raw := string(in.body.OrgID); {
			case raw == "":
				return httpadapter.Response{}, httpadapter.Invalid("org_id: field required (null clears)")
			case raw == "null":
			default:
				if json.Unmarshal(in.body.OrgID, &id) != nil || id == "" {
					return httpadapter.Response{}, httpadapter.Invalid("org_id: an organization's ID or null")
				}
			}
			t, err := o.SwitchOrg(ctx, pr, id)
			if err != nil {
				return httpadapter.Response{}, err
			}
			return httpadapter.TokenResponse(t), nil
		})
	e.Input = httpadapter.Input{Body: "OrganizationSwitch", BodyRequired: true}
	e.MaxBodyBytes = MaxBodyBytes
	return e
}
