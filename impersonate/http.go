package impersonate

import (
	"context"
	"net/http"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The routes, under the API prefix. Start takes the login limit class: it
// opens a session, as a login does.

// tokenAnswer is the answer of Start: the token answer of a login without
// its refresh token, and whom it is for and by.
type tokenAnswer struct {
	AccessToken    string `json:"access_token"`
	TokenType      string `json:"token_type"`
	ExpiresIn      int    `json:"expires_in"`
	UserUUID       string `json:"user_uuid"`
	ImpersonatedBy string `json:"impersonated_by"`
}

// Endpoints implements httpadapter.Feature.
func (i *Impersonation) Endpoints() []httpadapter.Endpoint {
	start := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/admin/impersonate/{uuid}",
		Name: "impersonate_user", Flag: "IMPERSONATE_USER", Tag: "admin", Auth: true, Limit: httpadapter.ClassLogin,
		Summary: "Impersonate a user (policy admin.impersonate; never oneself or an admin): an access token of the user " +
			"whose act claim names the caller, for at most an hour, without a refresh token.",
		Request: "UserUUID", Status: http.StatusOK, Response: "ImpersonationToken",
		Statuses: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity}},
		func(r *http.Request) (string, error) { return r.PathValue("uuid"), nil },
		func(ctx context.Context, p *usermgmt.Principal, uuid string) (httpadapter.Response, error) {
			t, err := i.Start(ctx, p.User(), uuid)
			if err != nil {
				return httpadapter.Response{}, err
			}
			return httpadapter.JSON(http.StatusOK, tokenAnswer{AccessToken: t.AccessToken, TokenType: t.TokenType,
				ExpiresIn: t.ExpiresIn, UserUUID: t.User.UUID, ImpersonatedBy: p.User().UUID}), nil
		})
	stop := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/admin/impersonate/stop",
		Name: "stop_impersonation", Flag: "STOP_IMPERSONATION", Tag: "admin", Auth: true, Limit: httpadapter.ClassLogin,
		Summary: "End the impersonation whose token authenticates the request (its session is revoked).",
		Status:  http.StatusNoContent, Statuses: []int{http.StatusConflict}},
		httpadapter.NoInput,
		func(ctx context.Context, p *usermgmt.Principal, _ struct{}) (httpadapter.Response, error) {
			if err := i.Stop(ctx, p); err != nil {
				return httpadapter.Response{}, err
			}
			return httpadapter.Bytes(http.StatusNoContent, "application/json", nil), nil
		})
	return []httpadapter.Endpoint{start, stop}
}

// Schemas implements httpadapter.Feature.
func (i *Impersonation) Schemas() map[string]any {
	type js = map[string]any
	uuid := js{"type": "string", "format": "uuid"}
	return js{
		"ImpersonationToken": js{"type": "object", "properties": js{
			"access_token":    js{"type": "string", "description": "A JWT of the user whose act claim is {\"sub\": <the admin>}."},
			"token_type":      js{"type": "string", "const": "bearer"},
			"expires_in":      js{"type": "integer", "description": "Seconds; at most 3600. There is no refresh token."},
			"user_uuid":       uuid,
			"impersonated_by": uuid,
		}, "required": []string{"access_token", "token_type", "expires_in", "user_uuid", "impersonated_by"}},
	}
}
