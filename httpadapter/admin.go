package httpadapter

import (
	"context"
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// The admin routes: ban, unban and unlock.

type banInput struct{ uuid, reason string }

// decodeBan reads the target from the path and the required reason from the
// form (or JSON).
func decodeBan(r *http.Request) (banInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return banInput{}, err
	}
	in := banInput{uuid: r.PathValue("uuid"), reason: f.Required("reason")}
	return in, f.Err()
}

// decodeUnban reads the target from the path and the reference's optional
// reason from the form (or JSON).
func decodeUnban(r *http.Request) (banInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return banInput{}, err
	}
	reason, _ := f.String("reason")
	return banInput{uuid: r.PathValue("uuid"), reason: reason}, f.Err()
}

func (h *handler) ban(ctx context.Context, p *usermgmt.Principal, in banInput) (response, error) {
	u, err := h.m.As(p.User()).Ban(ctx, in.uuid, in.reason)
	if err != nil {
		return response{}, err
	}
	return jsonOK(banResponse{Admin: p.User().Username, Action: "Banned", User: u.Username, Reason: strings.TrimSpace(in.reason)}), nil
}

func (h *handler) unban(ctx context.Context, p *usermgmt.Principal, in banInput) (response, error) {
	u, err := h.m.As(p.User()).Unban(ctx, in.uuid, in.reason)
	if err != nil {
		return response{}, err
	}
	return jsonOK(banResponse{Admin: p.User().Username, Action: "Unbanned", User: u.Username, Reason: strings.TrimSpace(in.reason)}), nil
}

func (h *handler) unlock(ctx context.Context, p *usermgmt.Principal, uuid string) (response, error) {
	u, err := h.m.As(p.User()).UnlockAccount(ctx, uuid)
	if err != nil {
		return response{}, err
	}
	return jsonOK(banResponse{Admin: p.User().Username, Action: "Unlocked", User: u.Username}), nil
}
