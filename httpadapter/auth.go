package httpadapter

import (
	"context"
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// The auth routes: register, login, refresh, logout, token validation and
// the caller's sessions.

type registerInput = usermgmt.NewUser

// decodeRegister reads the reference's register form (or the same fields
// as JSON): username, email, password, confirm_password, and the optional
// display_name.
func decodeRegister(r *http.Request) (registerInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return registerInput{}, err
	}
	nu := registerInput{
		Username:        f.Required("username"),
		Email:           f.Required("email"),
		Password:        f.Required("password"),
		ConfirmPassword: f.Required("confirm_password"),
	}
	if s, ok := f.String("display_name"); ok {
		nu.DisplayName = s
	}
	return nu, f.Err()
}

func (h *handler) register(ctx context.Context, _ *usermgmt.Principal, nu registerInput) (response, error) {
	t, err := h.m.Register(ctx, nu)
	if err != nil {
		return response{}, err
	}
	return jsonOK(newTokenResponse(t)), nil
}

type loginInput struct{ login, password string }

// decodeLogin reads the OAuth2 password form (username, password, and
// grant_type which, when sent, must be "password"; scope, client_id and
// client_secret are accepted and ignored) or {"username","password"} as JSON.
func decodeLogin(r *http.Request) (loginInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return loginInput{}, err
	}
	in := loginInput{login: f.Required("username"), password: f.Required("password")}
	grant, sent := f.String("grant_type")
	if err := f.Err(); err != nil {
		return loginInput{}, err
	}
	if sent && grant != "password" {
		return loginInput{}, errUnsupportedGrantType.WithMessage(`grant_type must be "password".`)
	}
	return in, nil
}

func (h *handler) login(ctx context.Context, _ *usermgmt.Principal, in loginInput) (response, error) {
	t, err := h.m.Login(ctx, in.login, in.password)
	if err != nil {
		return response{}, err
	}
	return jsonOK(newTokenResponse(t)), nil
}

type refreshInput struct{ token string }

// decodeRefresh reads {"refresh_token"} as JSON or the OAuth2 refresh form
// (grant_type=refresh_token&refresh_token=...).
func decodeRefresh(r *http.Request) (refreshInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return refreshInput{}, err
	}
	in := refreshInput{token: f.Required("refresh_token")}
	grant, sent := f.String("grant_type")
	if err := f.Err(); err != nil {
		return refreshInput{}, err
	}
	if sent && grant != "refresh_token" {
		return refreshInput{}, errUnsupportedGrantType.WithMessage(`grant_type must be "refresh_token".`)
	}
	return in, nil
}

func (h *handler) refresh(ctx context.Context, _ *usermgmt.Principal, in refreshInput) (response, error) {
	t, err := h.m.Refresh(ctx, in.token)
	if err != nil {
		return response{}, err
	}
	return jsonOK(newTokenResponse(t)), nil
}

func (h *handler) logout(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	if err := h.m.Logout(ctx, p); err != nil {
		return response{}, err
	}
	return textOK(p.User().Username + " | Logged out"), nil
}

func (h *handler) validateToken(_ context.Context, p *usermgmt.Principal, _ none) (response, error) {
	return textOK("ValidToken | " + p.User().UUID), nil
}

func (h *handler) sessions(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	ss, err := h.m.As(p.User()).Sessions(ctx)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.sessions(ss, p.SessionID)), nil
}

func (h *handler) revokeSession(ctx context.Context, p *usermgmt.Principal, id string) (response, error) {
	if err := h.m.As(p.User()).RevokeSession(ctx, id); err != nil {
		return response{}, err
	}
	return empty(http.StatusNoContent), nil
}
