package emaillogin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The routes: POST /auth/magic-link, GET /auth/magic-link/verify,
// POST /auth/email-code and POST /auth/email-code/verify.

// Answers of the request routes: the same whether or not the address has
// an account.
const (
	linkQueued = "If an account uses this address, a sign-in link is on its way."
	codeQueued = "If an account uses this address, a sign-in code is on its way."
)

// maxBody bounds the routes' bodies.
const maxBody = 4 << 10

// Endpoints implements httpadapter.Feature: the routes of the methods
// enabled.
func (f *EmailLogin) Endpoints() []httpadapter.Endpoint {
	type rt = httpadapter.Route
	post, get := http.MethodPost, http.MethodGet
	bounded := func(e httpadapter.Endpoint, in httpadapter.Input) httpadapter.Endpoint {
		e.Input, e.MaxBodyBytes = in, maxBody
		return e
	}
	body := func(name string) httpadapter.Input { return httpadapter.Input{Body: name, BodyRequired: true} }
	var eps []httpadapter.Endpoint
	if f.LinksEnabled() {
		eps = append(eps,
			bounded(httpadapter.Handle(rt{Method: post, Path: "/auth/magic-link", Name: "request_magic_link", Flag: "REQUEST_MAGIC_LINK",
				Limit: httpadapter.ClassMailSend, LimitAccount: []string{"email"}, Tag: "auth",
				Summary: "Mail a single-use sign-in link (15 minutes) to an address: the same 202 whether or not it has an account.",
				Request: "MagicLinkRequest", Encodings: jsonOnly, Status: http.StatusAccepted, Response: "MailQueued"}, decodeLinkRequest,
				func(ctx context.Context, _ *usermgmt.Principal, in linkRequest) (httpadapter.Response, error) {
					if err := f.RequestLink(ctx, in.Email, in.RedirectURI); err != nil {
						return httpadapter.Response{}, err
					}
					return queued(linkQueued), nil
				}), body("MagicLinkRequest")),
			bounded(httpadapter.Handle(rt{Method: get, Path: "/auth/magic-link/verify", Name: "verify_magic_link", Flag: "VERIFY_MAGIC_LINK",
				Limit: httpadapter.ClassLogin, Tag: "auth", Statuses: []int{http.StatusUnauthorized},
				Summary: "Sign in with a magic link's token: the token answer of a password login (or its OTP-REQUIRED step).",
				Request: "MagicLinkToken", Status: http.StatusOK, Response: "Token"},
				decodeVerifyLink,
				func(ctx context.Context, _ *usermgmt.Principal, token string) (httpadapter.Response, error) {
					res, err := f.VerifyLink(ctx, token)
					if err != nil {
						return httpadapter.Response{}, err
					}
					return httpadapter.TokenResponse(res.Tokens), nil
				}), httpadapter.Input{Params: []httpadapter.Param{{Name: "token", Required: true,
				Description: "The token of the mailed link.", Schema: map[string]any{"type": "string"}}}}),
		)
	}
	if f.CodesEnabled() {
		eps = append(eps,
			bounded(httpadapter.Handle(rt{Method: post, Path: "/auth/email-code", Name: "request_email_code", Flag: "REQUEST_EMAIL_CODE",
				Limit: httpadapter.ClassMailSend, LimitAccount: []string{"email"}, Tag: "auth",
				Summary: "Mail a six-digit sign-in code (10 minutes, 5 tries) to an address: the same 202 whether or not it has an account.",
				Request: "EmailCodeRequest", Encodings: jsonOnly, Status: http.StatusAccepted, Response: "MailQueued"}, decodeCodeRequest,
				func(ctx context.Context, _ *usermgmt.Principal, email string) (httpadapter.Response, error) {
					if err := f.RequestCode(ctx, email); err != nil {
						return httpadapter.Response{}, err
					}
					return queued(codeQueued), nil
				}), body("EmailCodeRequest")),
			bounded(httpadapter.Handle(rt{Method: post, Path: "/auth/email-code/verify", Name: "verify_email_code", Flag: "VERIFY_EMAIL_CODE",
				Limit: httpadapter.ClassLogin, LimitAccount: []string{"email"}, Tag: "auth", Statuses: []int{http.StatusUnauthorized},
				Summary: "Sign in with a mailed code: the token answer of a password login (or its OTP-REQUIRED step).",
				Request: "EmailCodeVerify", Encodings: jsonOnly, Status: http.StatusOK, Response: "Token"}, decodeCodeVerify,
				func(ctx context.Context, _ *usermgmt.Principal, in codeVerify) (httpadapter.Response, error) {
					t, err := f.VerifyCode(ctx, in.Email, in.Code)
					if err != nil {
						return httpadapter.Response{}, err
					}
					return httpadapter.TokenResponse(t), nil
				}), body("EmailCodeVerify")),
		)
	}
	return eps
}

var jsonOnly = []string{"application/json"}

func queued(detail string) httpadapter.Response {
	return httpadapter.JSON(http.StatusAccepted, map[string]string{"detail": detail})
}

// readJSON reads a JSON object body into v.
func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
			return httpadapter.ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send application/json.")
		}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return httpadapter.ErrTooLarge
		}
		return httpadapter.Invalid("Could not read the request body.")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, v) != nil {
		return httpadapter.Invalid("The body must be a JSON object.")
	}
	return nil
}

// emailField checks the email field of a body.
func emailField(email string) error {
	switch {
	case email == "":
		return httpadapter.Invalid("email: field required")
	case len(email) > usermgmt.MaxEmailLength:
		return httpadapter.Invalid("email: too long")
	}
	return nil
}

// errHead refuses a HEAD request to the link's verify route: a mail
// scanner probing the link must not spend it.
var errHead = usermgmt.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "Open the link with GET.")

func decodeVerifyLink(r *http.Request) (string, error) {
	if r.Method == http.MethodHead {
		return "", errHead
	}
	return r.URL.Query().Get("token"), nil
}

type linkRequest struct {
	Email       string `json:"email"`
	RedirectURI string `json:"redirect_uri"`
}

func decodeLinkRequest(r *http.Request) (linkRequest, error) {
	var in linkRequest
	if err := readJSON(r, &in); err != nil {
		return linkRequest{}, err
	}
	if err := emailField(in.Email); err != nil {
		return linkRequest{}, err
	}
	if len(in.RedirectURI) > 2048 {
		return linkRequest{}, httpadapter.Invalid("redirect_uri: too long")
	}
	return in, nil
}

func decodeCodeRequest(r *http.Request) (string, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := readJSON(r, &in); err != nil {
		return "", err
	}
	return in.Email, emailField(in.Email)
}

type codeVerify struct {
	Email string `json:"email"`
	Code  string `json:"code"`
}

func decodeCodeVerify(r *http.Request) (codeVerify, error) {
	var in codeVerify
	if err := readJSON(r, &in); err != nil {
		return codeVerify{}, err
	}
	if err := emailField(in.Email); err != nil {
		return codeVerify{}, err
	}
	if !ValidCode(in.Code) {
		return codeVerify{}, httpadapter.Invalid("code: six digits")
	}
	return in, nil
}

// Schemas implements httpadapter.Feature.
func (f *EmailLogin) Schemas() map[string]any {
	type js = map[string]any
	email := js{"type": "string", "format": "email", "maxLength": usermgmt.MaxEmailLength}
	return js{
		"MagicLinkRequest": js{"type": "object", "properties": js{"email": email,
			"redirect_uri": js{"type": "string", "maxLength": 2048,
				"description": "Optional: where the mailed link leads (with ?token=), checked against the redirect allow-list."}},
			"required": []string{"email"}},
		"EmailCodeRequest": js{"type": "object", "properties": js{"email": email}, "required": []string{"email"}},
		"EmailCodeVerify": js{"type": "object", "properties": js{"email": email,
			"code": js{"type": "string", "pattern": "^[0-9]{6}$"}}, "required": []string{"email", "code"}},
		"MailQueued": js{"type": "object", "properties": js{"detail": js{"type": "string"}}, "required": []string{"detail"}},
	}
}
