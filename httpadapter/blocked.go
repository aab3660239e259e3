package httpadapter

import (
	"context"
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// The blocked-users routes, at /user/{uuid}/blocked_users (the reference
// lost the slash after /user).

func blockedRoutes() []route {
	return []route{
		{Route{Method: get, Path: "/user/{uuid}/blocked_users", Name: "read_blocked_users", Flag: "READ_BLOCKED_USERS", Tag: "user", Auth: true,
			Summary: "The UUIDs a user has blocked (the owner and admins).", Request: "UserUUID", Status: ok, Response: "[]string"},
			op[blockInput]{decodeBlockList("users_ids"), (*handler).readBlocked}},
		{Route{Method: put, Path: "/user/{uuid}/blocked_users", Name: "block_users", Flag: "BLOCK_USERS", Tag: "user", Auth: true,
			Summary: "Add users_ids to a user's blocked list; answers the new list.", Request: "BlockedUsersIDs",
			Encodings: jsonOnly, Status: ok, Response: "[]string"},
			op[blockInput]{decodeBlockList("users_ids"), (*handler).blockUsers}},
		{Route{Method: patch, Path: "/user/{uuid}/blocked_users", Name: "update_blocked_users", Flag: "UPDATE_BLOCKED_USERS", Tag: "user", Auth: true,
			Summary: "Remove, then add, users on a blocked list; answers the new list.", Request: "BlockedUsersChange",
			Encodings: jsonOnly, Status: ok, Response: "[]string"},
			op[blockInput]{decodeBlockChange, (*handler).updateBlocked}},
		{Route{Method: del, Path: "/user/{uuid}/blocked_users", Name: "delete_blocked_users", Flag: "DELETE_BLOCKED_USERS", Tag: "user", Auth: true,
			Summary: "Remove users_ids from a user's blocked list; answers the new list.", Request: "BlockedUsersIDs",
			Encodings: jsonOnly, Status: ok, Response: "[]string"},
			op[blockInput]{decodeBlockList("users_ids"), (*handler).unblockUsers}},
	}
}

type blockInput struct {
	uuid   string
	change usermgmt.BlockChange
}

// listParam reads a repeated query parameter, or the JSON body's list of
// the same name (both, when both are sent).
func listParam(r *http.Request, name string) ([]string, error) {
	q, err := Query(r)
	if err != nil {
		return nil, err
	}
	f, err := ReadFields(r, jsonOnly)
	if err != nil {
		return nil, err
	}
	out := append([]string{}, q[name]...)
	out = append(out, f.Strings(name)...)
	return out, f.Err()
}

// decodeBlockList reads the target and one list of UUIDs (as the Add list;
// the handler decides what it means).
func decodeBlockList(name string) func(*http.Request) (blockInput, error) {
	return func(r *http.Request) (blockInput, error) {
		in := blockInput{uuid: r.PathValue("uuid")}
		if r.Method == http.MethodGet {
			return in, nil
		}
		ids, err := listParam(r, name)
		in.change.Add = ids
		return in, err
	}
}

// decodeBlockChange reads the lists remove and add (query or JSON).
func decodeBlockChange(r *http.Request) (blockInput, error) {
	q, err := Query(r)
	if err != nil {
		return blockInput{}, err
	}
	f, err := ReadFields(r, jsonOnly)
	if err != nil {
		return blockInput{}, err
	}
	in := blockInput{uuid: r.PathValue("uuid"), change: usermgmt.BlockChange{
		Remove: append(append([]string{}, q["remove"]...), f.Strings("remove")...),
		Add:    append(append([]string{}, q["add"]...), f.Strings("add")...),
	}}
	return in, f.Err()
}

func (h *handler) readBlocked(ctx context.Context, p *usermgmt.Principal, in blockInput) (response, error) {
	ids, err := h.m.As(p.User()).BlockedUsers(ctx, in.uuid)
	if err != nil {
		return response{}, err
	}
	return jsonOK(ids), nil
}

func (h *handler) blockUsers(ctx context.Context, p *usermgmt.Principal, in blockInput) (response, error) {
	ids, err := h.m.As(p.User()).BlockUsers(ctx, in.uuid, in.change.Add)
	if err != nil {
		return response{}, err
	}
	return jsonOK(ids), nil
}

func (h *handler) updateBlocked(ctx context.Context, p *usermgmt.Principal, in blockInput) (response, error) {
	ids, err := h.m.As(p.User()).ChangeBlockedUsers(ctx, in.uuid, in.change)
	if err != nil {
		return response{}, err
	}
	return jsonOK(ids), nil
}

func (h *handler) unblockUsers(ctx context.Context, p *usermgmt.Principal, in blockInput) (response, error) {
	ids, err := h.m.As(p.User()).UnblockUsers(ctx, in.uuid, in.change.Add)
	if err != nil {
		return response{}, err
	}
	return jsonOK(ids), nil
}
