package org

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The organization routes (bearer; under the API prefix): /orgs, the
// caller's, and /admin/orgs, every organization for a global admin
// (policy resource "organization"). Creations count in the account class
// of the rate limit (httpadapter.ClassAccount).

// MaxBodyBytes bounds a request body (metadata is at most 4 KiB).
const MaxBodyBytes = 16 << 10

// Endpoints implements httpadapter.Feature.
func (o *Orgs) Endpoints() []httpadapter.Endpoint {
	type rt = httpadapter.Route
	post, get, patch, del := http.MethodPost, http.MethodGet, http.MethodPatch, http.MethodDelete
	body := func(schema string, e httpadapter.Endpoint) httpadapter.Endpoint {
		e.Input = httpadapter.Input{Body: schema, BodyRequired: true}
		e.MaxBodyBytes = MaxBodyBytes
		return e
	}
	page := func(e httpadapter.Endpoint, extra ...httpadapter.Param) httpadapter.Endpoint {
		e.Input = httpadapter.Input{Params: append([]httpadapter.Param{
			{Name: "after", Description: "The cursor of the page: the answer's next.", Schema: map[string]any{"type": "string"}},
			{Name: "limit", Description: "At most this many (1 to 200, default 50).", Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": MaxPageSize}}}, extra...)}
		return e
	}
	return append([]httpadapter.Endpoint{
		o.switchEndpoint(),
		body("OrganizationCreate", httpadapter.Handle(rt{Method: post, Path: "/orgs", Name: "create_org", Flag: "CREATE_ORG",
			Tag: "organizations", Auth: true, Limit: httpadapter.ClassAccount,
			Summary: "Create an organization; the caller becomes its owner.", Request: "OrganizationCreate", Encodings: jsonOnly,
			Status: http.StatusCreated, Response: "Organization", Statuses: []int{http.StatusConflict}},
			decodeBody[createBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[createBody]) (httpadapter.Response, error) {
				if in.body.Name == nil || in.body.Slug == nil {
					return httpadapter.Response{}, httpadapter.Invalid("name and slug: fields required")
				}
				v, err := o.Create(ctx, pr.User(), NewOrganization{Name: *in.body.Name, Slug: *in.body.Slug, Metadata: in.body.Metadata})
				return httpadapter.JSONOr(http.StatusCreated, v, err)
			})),
		httpadapter.Handle(rt{Method: get, Path: "/orgs", Name: "read_my_orgs", Flag: "READ_MY_ORGS", Tag: "organizations", Auth: true,
			Summary: "The caller's organizations, with the caller's role in each.", Status: http.StatusOK, Response: "[]Organization"},
			httpadapter.NoInput,
			func(ctx context.Context, pr *usermgmt.Principal, _ struct{}) (httpadapter.Response, error) {
				v, err := o.Mine(ctx, pr.User())
				return httpadapter.JSONOr(http.StatusOK, v, err)
			}),
		httpadapter.Handle(rt{Method: get, Path: "/orgs/{id}", Name: "read_org", Flag: "READ_ORG", Tag: "organizations", Auth: true,
			Summary: "An organization (its members, or a global admin).", Request: "OrganizationID", Status: http.StatusOK, Response: "Organization"},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				v, err := o.Get(ctx, pr.User(), in.id)
				return httpadapter.JSONOr(http.StatusOK, v, err)
			}),
		body("OrganizationPatch", httpadapter.Handle(rt{Method: patch, Path: "/orgs/{id}", Name: "update_org", Flag: "UPDATE_ORG",
			Tag: "organizations", Auth: true, Summary: "Change an organization's name, slug or metadata (owners and admins).",
			Request: "OrganizationPatch", Encodings: jsonOnly, Status: http.StatusOK, Response: "Organization", Statuses: []int{http.StatusConflict}},
			decodeBody[patchBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[patchBody]) (httpadapter.Response, error) {
				v, err := o.Update(ctx, pr.User(), in.id, Patch{Name: in.body.Name, Slug: in.body.Slug, Metadata: metadataPatch(in.body.Metadata)})
				return httpadapter.JSONOr(http.StatusOK, v, err)
			})),
		httpadapter.Handle(rt{Method: del, Path: "/orgs/{id}", Name: "delete_org", Flag: "DELETE_ORG", Tag: "organizations", Auth: true,
			Summary: "Delete an organization with its memberships and invitations (owners).", Request: "OrganizationID", Status: http.StatusNoContent},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				return httpadapter.NoContent(o.Delete(ctx, pr.User(), in.id))
			}),
		page(httpadapter.Handle(rt{Method: get, Path: "/orgs/{id}/members", Name: "read_org_members", Flag: "READ_ORG_MEMBERS",
			Tag: "organizations", Auth: true, Summary: "A page of an organization's members, in UUID order.",
			Request: "OrganizationID", Status: http.StatusOK, Response: "MemberPage"},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				ms, next, err := o.Members(ctx, pr.User(), in.id, in.after, in.limit)
				return httpadapter.JSONOr(http.StatusOK, memberPage{Members: ms, Next: next}, err)
			})),
		body("MemberRole", httpadapter.Handle(rt{Method: patch, Path: "/orgs/{id}/members/{uuid}", Name: "update_org_member", Flag: "UPDATE_ORG_MEMBER",
			Tag: "organizations", Auth: true, Summary: "Change a member's role (owners; admins for members who are not owners).",
			Request: "MemberRole", Encodings: jsonOnly, Status: http.StatusOK, Response: "Member", Statuses: []int{http.StatusConflict}},
			decodeBody[roleBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[roleBody]) (httpadapter.Response, error) {
				if in.body.Role == nil {
					return httpadapter.Response{}, httpadapter.Invalid("role: field required")
				}
				v, err := o.SetRole(ctx, pr.User(), in.id, in.uuid, *in.body.Role)
				return httpadapter.JSONOr(http.StatusOK, v, err)
			})),
		httpadapter.Handle(rt{Method: del, Path: "/orgs/{id}/members/{uuid}", Name: "remove_org_member", Flag: "REMOVE_ORG_MEMBER",
			Tag: "organizations", Auth: true, Summary: "Remove a member (owners, admins), or leave (one's own UUID).",
			Request: "OrganizationMember", Status: http.StatusNoContent, Statuses: []int{http.StatusConflict}},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				return httpadapter.NoContent(o.RemoveMember(ctx, pr.User(), in.id, in.uuid))
			}),
		body("OrganizationTransfer", httpadapter.Handle(rt{Method: post, Path: "/orgs/{id}/transfer", Name: "transfer_org", Flag: "TRANSFER_ORG",
			Tag: "organizations", Auth: true, Summary: "Hand the caller's ownership to another member, who becomes an owner; the caller an admin.",
			Request: "OrganizationTransfer", Encodings: jsonOnly, Status: http.StatusOK, Response: "Member"},
			decodeBody[transferBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[transferBody]) (httpadapter.Response, error) {
				if in.body.UUID == nil {
					return httpadapter.Response{}, httpadapter.Invalid("uuid: field required")
				}
				v, err := o.Transfer(ctx, pr.User(), in.id, *in.body.UUID)
				return httpadapter.JSONOr(http.StatusOK, v, err)
			})),
		page(httpadapter.Handle(rt{Method: get, Path: "/admin/orgs", Name: "admin_read_orgs", Flag: "ADMIN_READ_ORGS", Tag: "admin", Auth: true,
			Summary: "Every organization, in slug order, searched by slug or name (policy organization.read).",
			Status:  http.StatusOK, Response: "OrganizationPage"},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				os, next, err := o.Search(ctx, pr.User(), in.q, in.after, in.limit)
				return httpadapter.JSONOr(http.StatusOK, orgPage{Organizations: os, Next: next}, err)
			}), httpadapter.Param{Name: "q", Description: "Part of a slug or name (case-insensitive).", Schema: map[string]any{"type": "string", "maxLength": MaxName}}),
	}, o.invitationEndpoints(body)...)
}

// invitationEndpoints are the invitation routes.
func (o *Orgs) invitationEndpoints(body func(string, httpadapter.Endpoint) httpadapter.Endpoint) []httpadapter.Endpoint {
	type rt = httpadapter.Route
	post, get, del := http.MethodPost, http.MethodGet, http.MethodDelete
	token := func(in input[tokenBody]) (string, error) {
		if in.body.Token == nil {
			return "", httpadapter.Invalid("token: field required")
		}
		return *in.body.Token, nil
	}
	return []httpadapter.Endpoint{
		body("InvitationCreate", httpadapter.Handle(rt{Method: post, Path: "/orgs/{id}/invitations", Name: "create_org_invitation", Flag: "CREATE_ORG_INVITATION",
			Tag: "organizations", Auth: true, Limit: httpadapter.ClassMailSend,
			Summary: "Invite an address with a role (owners; admins for roles but owner): mails a single-use link, valid 7 days.",
			Request: "InvitationCreate", Encodings: jsonOnly, Status: http.StatusCreated, Response: "Invitation", Statuses: []int{http.StatusConflict}},
			decodeBody[inviteBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[inviteBody]) (httpadapter.Response, error) {
				if in.body.Email == nil || in.body.Role == nil {
					return httpadapter.Response{}, httpadapter.Invalid("email and role: fields required")
				}
				v, err := o.Invite(ctx, pr.User(), in.id, *in.body.Email, *in.body.Role)
				return httpadapter.JSONOr(http.StatusCreated, v, err)
			})),
		httpadapter.Handle(rt{Method: get, Path: "/orgs/{id}/invitations", Name: "read_org_invitations", Flag: "READ_ORG_INVITATIONS",
			Tag: "organizations", Auth: true, Summary: "An organization's pending invitations, oldest first (owners and admins).",
			Request: "OrganizationID", Status: http.StatusOK, Response: "[]Invitation"},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				v, err := o.Invitations(ctx, pr.User(), in.id)
				return httpadapter.JSONOr(http.StatusOK, v, err)
			}),
		httpadapter.Handle(rt{Method: del, Path: "/orgs/{id}/invitations/{inv}", Name: "revoke_org_invitation", Flag: "REVOKE_ORG_INVITATION",
			Tag: "organizations", Auth: true, Summary: "Revoke a pending invitation (owners and admins).",
			Request: "InvitationID", Status: http.StatusNoContent},
			decodePath,
			func(ctx context.Context, pr *usermgmt.Principal, in input[struct{}]) (httpadapter.Response, error) {
				return httpadapter.NoContent(o.RevokeInvitation(ctx, pr.User(), in.id, in.inv))
			}),
		body("InvitationToken", httpadapter.Handle(rt{Method: post, Path: "/orgs/invitations/accept", Name: "accept_org_invitation", Flag: "ACCEPT_ORG_INVITATION",
			Tag: "organizations", Auth: true, Limit: httpadapter.ClassOTP,
			Summary: "Join the organization of an invitation whose address is the caller's verified one.",
			Request: "InvitationToken", Encodings: jsonOnly, Status: http.StatusOK, Response: "Organization", Statuses: []int{http.StatusConflict}},
			decodeBody[tokenBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[tokenBody]) (httpadapter.Response, error) {
				tok, err := token(in)
				if err != nil {
					return httpadapter.Response{}, err
				}
				v, err := o.Accept(ctx, pr.User(), tok)
				return httpadapter.JSONOr(http.StatusOK, v, err)
			})),
		body("InvitationToken", httpadapter.Handle(rt{Method: post, Path: "/orgs/invitations/decline", Name: "decline_org_invitation", Flag: "DECLINE_ORG_INVITATION",
			Tag: "organizations", Auth: true, Limit: httpadapter.ClassOTP,
			Summary: "Decline an invitation whose address is the caller's verified one.",
			Request: "InvitationToken", Encodings: jsonOnly, Status: http.StatusNoContent},
			decodeBody[tokenBody],
			func(ctx context.Context, pr *usermgmt.Principal, in input[tokenBody]) (httpadapter.Response, error) {
				tok, err := token(in)
				if err != nil {
					return httpadapter.Response{}, err
				}
				return httpadapter.NoContent(o.Decline(ctx, pr.User(), tok))
			})),
	}
}

type inviteBody struct {
	Email *string `json:"email"`
	Role  *string `json:"role"`
}

type tokenBody struct {
	Token *string `json:"token"`
}

var jsonOnly = []string{"application/json"}

type memberPage struct {
	Members []*Member `json:"members"`
	Next    string    `json:"next"`
}

type orgPage struct {
	Organizations []*Organization `json:"organizations"`
	Next          string          `json:"next"`
}

type createBody struct {
	Name     *string         `json:"name"`
	Slug     *string         `json:"slug"`
	Metadata json.RawMessage `json:"metadata"`
}

type patchBody struct {
	Name     *string         `json:"name"`
	Slug     *string         `json:"slug"`
	Metadata json.RawMessage `json:"metadata"` // absent: nil; null: "null"
}

type roleBody struct {
	Role *string `json:"role"`
}

type transferBody struct {
	UUID *string `json:"uuid"`
}

// input is a route's path and query values and its decoded body.
type input[B any] struct {
	id, uuid, inv, after, q string
	limit                   int
	body                    B
}

// decodePath reads the path values and the paging query.
func decodePath(r *http.Request) (input[struct{}], error) {
	var in input[struct{}]
	return in, readPath(r, &in.id, &in.uuid, &in.inv, &in.after, &in.q, &in.limit)
}

func readPath(r *http.Request, id, uuid, inv, after, q *string, limit *int) error {
	*id, *uuid = r.PathValue("id"), r.PathValue("uuid")
	*inv = r.PathValue("inv")
	qs := r.URL.Query()
	*after, *q = qs.Get("after"), qs.Get("q")
	if s := qs.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return httpadapter.Invalid("limit: a number from 1 to 200")
		}
		*limit = n
	}
	return nil
}

// decodeBody reads a JSON object body into B, and the path values.
func decodeBody[B any](r *http.Request) (input[B], error) {
	var in input[B]
	if err := readPath(r, &in.id, &in.uuid, &in.inv, &in.after, &in.q, &in.limit); err != nil {
		return in, err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
			return in, httpadapter.ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send application/json.")
		}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return in, httpadapter.ErrTooLarge
		}
		return in, httpadapter.Invalid("Could not read the request body.")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &in.body) != nil {
		return in, httpadapter.Invalid("The body must be a JSON object.")
	}
	return in, nil
}

// metadataPatch is nil for an absent metadata field, else the field
// (null removes the metadata).
func metadataPatch(raw json.RawMessage) *json.RawMessage {
	if raw == nil {
		return nil
	}
	return &raw
}

// Schemas implements httpadapter.Feature.
func (o *Orgs) Schemas() map[string]any {
	type js = map[string]any
	str := js{"type": "string"}
	when := js{"type": "string", "format": "date-time"}
	slug := js{"type": "string", "minLength": MinSlug, "maxLength": MaxSlug, "pattern": "^[a-z0-9][a-z0-9-]*[a-z0-9]$"}
	name := js{"type": "string", "minLength": 1, "maxLength": MaxName}
	meta := js{"type": []string{"object", "null"}, "description": "A JSON object of at most 4096 bytes."}
	role := js{"type": "string", "enum": o.Roles()}
	uuid := js{"type": "string", "format": "uuid"}
	orgObj := js{"type": "object", "properties": js{"id": uuid, "name": str, "slug": str, "metadata": meta,
		"created_at": when, "updated_at": when, "role": js{"type": "string", "description": "The caller's role; absent when not a member."}},
		"required": []string{"id", "name", "slug", "metadata", "created_at", "updated_at"}}
	member := js{"type": "object", "properties": js{"uuid": uuid, "role": str, "joined_at": when}, "required": []string{"uuid", "role", "joined_at"}}
	next := js{"type": "string", "description": "The cursor of the next page (the after parameter); empty at the end."}
	return js{
		"OrganizationCreate": js{"type": "object", "properties": js{"name": name, "slug": slug, "metadata": meta}, "required": []string{"name", "slug"}},
		"OrganizationPatch":  js{"type": "object", "properties": js{"name": name, "slug": slug, "metadata": meta}},
		"OrganizationSwitch": js{"type": "object", "properties": js{"org_id": js{"type": []string{"string", "null"}, "format": "uuid",
			"description": "The organization to make active, or null to clear."}}, "required": []string{"org_id"}},
		"OrganizationID":       js{"type": "object", "properties": js{"id": uuid}, "required": []string{"id"}},
		"OrganizationMember":   js{"type": "object", "properties": js{"id": uuid, "uuid": uuid}, "required": []string{"id", "uuid"}},
		"OrganizationTransfer": js{"type": "object", "properties": js{"uuid": uuid}, "required": []string{"uuid"}},
		"MemberRole":           js{"type": "object", "properties": js{"role": role}, "required": []string{"role"}},
		"Organization":         orgObj,
		"Member":               member,
		"MemberPage":           js{"type": "object", "properties": js{"members": js{"type": "array", "items": member}, "next": next}, "required": []string{"members", "next"}},
		"InvitationCreate":     js{"type": "object", "properties": js{"email": js{"type": "string", "format": "email", "maxLength": 254}, "role": role}, "required": []string{"email", "role"}},
		"InvitationToken":      js{"type": "object", "properties": js{"token": js{"type": "string", "description": "The token of the mailed link."}}, "required": []string{"token"}},
		"InvitationID":         js{"type": "object", "properties": js{"id": uuid, "inv": str}, "required": []string{"id", "inv"}},
		"Invitation": js{"type": "object", "properties": js{"id": str, "email": str, "role": str, "invited_by": uuid, "created_at": when, "expires_at": when},
			"required": []string{"id", "email", "role", "invited_by", "created_at", "expires_at"}},
		"OrganizationPage": js{"type": "object", "properties": js{"organizations": js{"type": "array", "items": orgObj}, "next": next}, "required": []string{"organizations", "next"}},
	}
}
