package httpadapter

import (
	"context"
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// The user routes.

// me answers from the principal's profile, the Manager's cached view: no
// database query on this path.
func (h *handler) me(_ context.Context, p *usermgmt.Principal, _ none) (response, error) {
	r := h.wire.profile(p.Profile)
	r.ImpersonatedBy = p.Impersonator
	return jsonOK(r), nil
}

func (h *handler) userDetails(ctx context.Context, p *usermgmt.Principal, uuid string) (response, error) {
	u, err := h.m.As(p.User()).User(ctx, uuid)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.details(u)), nil
}

// decodeUserPage reads the query parameters skip (default 0), limit
// (default 100), search (a username or email prefix) and cursor (from the
// previous page's X-Next-Cursor header).
func decodeUserPage(r *http.Request) (usermgmt.UserQuery, error) {
	q, err := Query(r)
	if err != nil {
		return usermgmt.UserQuery{}, err
	}
	skip, err := queryInt(q, "skip", 0)
	if err != nil {
		return usermgmt.UserQuery{}, err
	}
	limit, err := queryInt(q, "limit", 100)
	if err != nil {
		return usermgmt.UserQuery{}, err
	}
	uq := usermgmt.UserQuery{Offset: skip, Limit: limit, Search: q.Get("search")}
	if c := q.Get("cursor"); c != "" {
		if uq.After, err = parseUserCursor(c); err != nil {
			return usermgmt.UserQuery{}, err
		}
	}
	return uq, nil
}

// listUsers and usersByIDs answer UserRead without user_history, unlike
// the reference: one history query per listed user would be an N+1. A
// full page carries the next page's cursor in X-Next-Cursor.
func (h *handler) listUsers(ctx context.Context, p *usermgmt.Principal, q usermgmt.UserQuery) (response, error) {
	us, err := h.m.As(p.User()).ListUsers(ctx, q)
	if err != nil {
		return response{}, err
	}
	res := jsonOK(h.wire.users(us))
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	if next := usermgmt.NextUserCursor(us, limit); next != nil {
		res.header = http.Header{"X-Next-Cursor": {formatUserCursor(*next)}}
	}
	return res, nil
}

// decodeUserIDs reads the repeated query parameter users_ids.
func decodeUserIDs(r *http.Request) ([]string, error) {
	q, err := Query(r)
	if err != nil {
		return nil, err
	}
	ids := q["users_ids"]
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

func (h *handler) usersByIDs(ctx context.Context, p *usermgmt.Principal, ids []string) (response, error) {
	us, err := h.m.As(p.User()).UsersByUUIDs(ctx, ids)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.users(us)), nil
}

func (h *handler) countUsers(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	n, err := h.m.As(p.User()).CountUsers(ctx)
	if err != nil {
		return response{}, err
	}
	return jsonOK(n), nil
}

// decodeUserCreate reads the reference's UserCreate JSON: username, email
// and password required; display_name, roles, description, email_verified
// and is_active optional. Other fields are ignored.
func decodeUserCreate(r *http.Request) (usermgmt.NewUser, error) {
	f, err := ReadFields(r, jsonOnly)
	if err != nil {
		return usermgmt.NewUser{}, err
	}
	nu := usermgmt.NewUser{
		Username: f.Required("username"),
		Email:    f.Required("email"),
		Password: f.Required("password"),
		Roles:    f.Strings("roles"),
	}
	if s, ok := f.String("display_name"); ok {
		nu.DisplayName = s
	}
	if s, ok := f.String("description"); ok {
		nu.Description = s
	}
	if b := f.Bool("email_verified"); b != nil {
		nu.EmailVerified = *b
	}
	if b := f.Bool("is_active"); b != nil {
		nu.Inactive = !*b
	}
	return nu, f.Err()
}

func (h *handler) createUser(ctx context.Context, p *usermgmt.Principal, nu usermgmt.NewUser) (response, error) {
	u, err := h.m.As(p.User()).CreateUser(ctx, nu)
	if err != nil {
		return response{}, err
	}
	return h.userAfterWrite(ctx, u), nil
}

// userAfterWrite answers u, the result of a write, as UserRead with its
// history, as the reference did. The write's Actor call returns the user
// but not the history, so this is a second read, through Profile (the
// Manager's cached view, which the write invalidated): the one Actor call
// stays the only thing that decides and changes. That read is no part of
// the write: if it fails, the write still happened, so the answer is u
// with an empty history rather than an error.
func (h *handler) userAfterWrite(ctx context.Context, u *usermgmt.User) response {
	prof, err := h.m.Profile(ctx, u.UUID)
	if err != nil {
		h.log.WarnContext(ctx, "reading the history after a write", "user", u.UUID, "err", err)
		return jsonOK(h.wire.userWithHistory(u, nil))
	}
	return jsonOK(h.wire.profile(prof))
}

type patchInput struct {
	uuid  string
	patch usermgmt.UserPatch
}

// patchElsewhere are the UserUpdate fields the reference took that an edit
// no longer sets, with where a client sets them instead: answering them
// with a 200 that changed nothing would be a silent lie.
var patchElsewhere = []struct{ field, instead string }{
	{"blocked_uuids", "the blocked_users routes set the blocked list"},
	{"profile_picture_id", "PUT /user/{uuid}/image sets the picture"},
	{"is_external_only", "it follows from setting a password"},
	{"action", "the history is written by the server alone"},
	{"isActive", "the field is is_active"},
}

// decodeUserPatch reads the reference's UserUpdate JSON: every field
// optional, an explicit null the same as an absent field, unknown fields
// ignored, and the fields of patchElsewhere refused (422).
func decodeUserPatch(r *http.Request) (patchInput, error) {
	f, err := ReadFields(r, jsonOnly)
	if err != nil {
		return patchInput{}, err
	}
	in := patchInput{uuid: r.PathValue("uuid"), patch: usermgmt.UserPatch{
		Username:      f.OptionalString("username"),
		DisplayName:   f.OptionalString("display_name"),
		Email:         f.OptionalString("email"),
		Password:      f.OptionalString("password"),
		Description:   f.OptionalString("description"),
		IsActive:      f.Bool("is_active"),
		EmailVerified: f.Bool("email_verified"),
		OTPMethod:     f.OptionalString("otp_method"),
	}}
	if roles := f.Strings("roles"); roles != nil {
		in.patch.Roles = &roles
	}
	for _, e := range patchElsewhere {
		if _, _, sent := f.raw(e.field); sent {
			f.fail(e.field, "cannot be changed here; "+e.instead)
		}
	}
	return in, f.Err()
}

func (h *handler) updateUser(ctx context.Context, p *usermgmt.Principal, in patchInput) (response, error) {
	u, err := h.m.As(p.User()).UpdateUser(ctx, in.uuid, in.patch)
	if err != nil {
		return response{}, err
	}
	return h.userAfterWrite(ctx, u), nil
}

func (h *handler) deleteUser(ctx context.Context, p *usermgmt.Principal, uuid string) (response, error) {
	if err := h.m.As(p.User()).DeleteUser(ctx, uuid); err != nil {
		return response{}, err
	}
	return empty(http.StatusOK), nil
}
