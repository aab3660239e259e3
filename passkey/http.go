package passkey

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

// The passkey routes, under /auth/passkeys (the caller's own) and
// /admin/users/{uuid}/passkeys (policy resource "passkey").

// Endpoints implements httpadapter.Feature.
func (p *Passkeys) Endpoints() []httpadapter.Endpoint {
	type rt = httpadapter.Route
	post, get := http.MethodPost, http.MethodGet
	body := func(name string, required bool) httpadapter.Input {
		return httpadapter.Input{Body: name, BodyRequired: required}
	}
	withInput := func(e httpadapter.Endpoint, in httpadapter.Input) httpadapter.Endpoint {
		e.Input = in
		e.MaxBodyBytes = MaxCredentialBytes + 4<<10
		return e
	}
	return []httpadapter.Endpoint{
		withInput(httpadapter.Handle(rt{Method: post, Path: "/auth/passkeys/register/begin", Name: "passkey_register_begin", Flag: "PASSKEY_REGISTER_BEGIN",
			Tag: "auth", Auth: true, SessionOnly: true, Summary: "Begin registering a passkey for the caller: the creation options and the ceremony's ID.",
			Status: http.StatusOK, Response: "PasskeyBegin"}, httpadapter.NoInput,
			func(ctx context.Context, pr *usermgmt.Principal, _ struct{}) (httpadapter.Response, error) {
				b, err := p.BeginRegistration(ctx, pr.User())
				return httpadapter.JSONOr(http.StatusOK, b, err)
			}), httpadapter.Input{}),
		withInput(httpadapter.Handle(rt{Method: post, Path: "/auth/passkeys/register/finish", Name: "passkey_register_finish", Flag: "PASSKEY_REGISTER_FINISH",
			Limit: httpadapter.ClassOTP, Tag: "auth", Auth: true, SessionOnly: true, Summary: "Finish a registration with the browser's credential; the passkey stored.",
			Request: "PasskeyRegisterFinish", Encodings: jsonOnly, Status: http.StatusCreated, Response: "Passkey"}, decodeFinish(true),
			func(ctx context.Context, pr *usermgmt.Principal, in finishInput) (httpadapter.Response, error) {
				k, err := p.FinishRegistration(ctx, pr.User(), in.Ceremony, in.Name, in.Credential)
				return httpadapter.JSONOr(http.StatusCreated, k, err)
			}), body("PasskeyRegisterFinish", true)),
		withInput(httpadapter.Handle(rt{Method: post, Path: "/auth/passkeys/login/begin", Name: "passkey_login_begin", Flag: "PASSKEY_LOGIN_BEGIN",
			Limit: httpadapter.ClassLogin, LimitAccount: []string{"username"}, Tag: "auth", Summary: "Begin a passkey sign-in: no body for a discoverable passkey, or the account's username.",
			Request: "PasskeyLoginBegin", Encodings: jsonOnly, Status: http.StatusOK, Response: "PasskeyBegin"}, decodeLoginBegin,
			func(ctx context.Context, _ *usermgmt.Principal, username string) (httpadapter.Response, error) {
				b, err := p.BeginLogin(ctx, username)
				return httpadapter.JSONOr(http.StatusOK, b, err)
			}), body("PasskeyLoginBegin", false)),
		withInput(httpadapter.Handle(rt{Method: post, Path: "/auth/passkeys/login/finish", Name: "passkey_login_finish", Flag: "PASSKEY_LOGIN_FINISH",
			Limit: httpadapter.ClassLogin, Tag: "auth", Summary: "Finish a passkey sign-in: the token answer of a password login (or its OTP-REQUIRED step without user verification).",
			Request: "PasskeyLoginFinish", Encodings: jsonOnly, Status: http.StatusOK, Response: "Token"}, decodeFinish(false),
			func(ctx context.Context, _ *usermgmt.Principal, in finishInput) (httpadapter.Response, error) {
				t, err := p.FinishLogin(ctx, in.Ceremony, in.Credential)
				if err != nil {
					return httpadapter.Response{}, err
				}
				return httpadapter.TokenResponse(t), nil
			}), body("PasskeyLoginFinish", true)),
		withInput(httpadapter.Handle(rt{Method: get, Path: "/auth/passkeys", Name: "read_passkeys", Flag: "READ_PASSKEYS",
			Tag: "auth", Auth: true, Summary: "The caller's passkeys, oldest first.", Status: http.StatusOK, Response: "[]Passkey"},
			httpadapter.NoInput,
			func(ctx context.Context, pr *usermgmt.Principal, _ struct{}) (httpadapter.Response, error) {
				ks, err := p.List(ctx, pr.User(), pr.User().UUID)
				return httpadapter.JSONOr(http.StatusOK, ks, err)
			}), httpadapter.Input{}),
		withInput(httpadapter.Handle(rt{Method: http.MethodPatch, Path: "/auth/passkeys/{id}", Name: "rename_passkey", Flag: "RENAME_PASSKEY",
			Tag: "auth", Auth: true, SessionOnly: true, Summary: "Rename one of the caller's passkeys.", Request: "PasskeyRename", Encodings: jsonOnly,
			Status: http.StatusOK, Response: "Passkey"}, decodeRename,
			func(ctx context.Context, pr *usermgmt.Principal, in renameInput) (httpadapter.Response, error) {
				k, err := p.Rename(ctx, pr.User(), pr.User().UUID, in.id, in.Name)
				return httpadapter.JSONOr(http.StatusOK, k, err)
			}), body("PasskeyRename", true)),
		withInput(httpadapter.Handle(rt{Method: http.MethodDelete, Path: "/auth/passkeys/{id}", Name: "remove_passkey", Flag: "REMOVE_PASSKEY",
			Tag: "auth", Auth: true, SessionOnly: true, Summary: "Remove one of the caller's passkeys (not the last way into the account).",
			Request: "PasskeyID", Status: http.StatusNoContent}, pathValues,
			func(ctx context.Context, pr *usermgmt.Principal, in pathInput) (httpadapter.Response, error) {
				return httpadapter.NoContent(p.Remove(ctx, pr.User(), pr.User().UUID, in.id))
			}), httpadapter.Input{}),
		withInput(httpadapter.Handle(rt{Method: get, Path: "/admin/users/{uuid}/passkeys", Name: "admin_read_passkeys", Flag: "ADMIN_READ_PASSKEYS",
			Tag: "admin", Auth: true, Summary: "A user's passkeys (policy passkey.read).", Request: "UserUUID",
			Status: http.StatusOK, Response: "[]Passkey"}, pathValues,
			func(ctx context.Context, pr *usermgmt.Principal, in pathInput) (httpadapter.Response, error) {
				ks, err := p.List(ctx, pr.User(), in.uuid)
				return httpadapter.JSONOr(http.StatusOK, ks, err)
			}), httpadapter.Input{}),
		withInput(httpadapter.Handle(rt{Method: http.MethodDelete, Path: "/admin/users/{uuid}/passkeys/{id}", Name: "admin_remove_passkey", Flag: "ADMIN_REMOVE_PASSKEY",
			Tag: "admin", Auth: true, Summary: "Remove a user's passkey (policy passkey.delete; not the last way into the account).",
			Request: "PasskeyID", Status: http.StatusNoContent}, pathValues,
			func(ctx context.Context, pr *usermgmt.Principal, in pathInput) (httpadapter.Response, error) {
				return httpadapter.NoContent(p.Remove(ctx, pr.User(), in.uuid, in.id))
			}), httpadapter.Input{}),
	}
}

var jsonOnly = []string{"application/json"}

// readJSON reads a JSON body into v; an empty body is allowed when
// optional. It returns whether a body was sent.
func readJSON(r *http.Request, v any, optional bool) (bool, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
			return false, httpadapter.ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send application/json.")
		}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return false, httpadapter.ErrTooLarge
		}
		return false, httpadapter.Invalid("Could not read the request body.")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		if optional {
			return false, nil
		}
		return false, httpadapter.Invalid("The body must be a JSON object.")
	}
	if b[0] != '{' || json.Unmarshal(b, v) != nil {
		return false, httpadapter.Invalid("The body must be a JSON object.")
	}
	return true, nil
}

// finishInput is the body of the finish routes.
type finishInput struct {
	Ceremony   string          `json:"ceremony"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func decodeFinish(register bool) func(r *http.Request) (finishInput, error) {
	return func(r *http.Request) (finishInput, error) {
		var in finishInput
		if _, err := readJSON(r, &in, false); err != nil {
			return finishInput{}, err
		}
		switch {
		case in.Ceremony == "":
			return finishInput{}, httpadapter.Invalid("ceremony: field required")
		case len(in.Credential) == 0 || string(in.Credential) == "null":
			return finishInput{}, httpadapter.Invalid("credential: field required")
		case !register && in.Name != "":
			return finishInput{}, httpadapter.Invalid("name: not a field of a sign-in")
		}
		return in, nil
	}
}

func decodeLoginBegin(r *http.Request) (string, error) {
	var in struct {
		Username string `json:"username"`
	}
	if _, err := readJSON(r, &in, true); err != nil {
		return "", err
	}
	if len(in.Username) > 320 {
		return "", httpadapter.Invalid("username: too long")
	}
	return in.Username, nil
}

type renameInput struct {
	id   string
	Name string `json:"name"`
}

func decodeRename(r *http.Request) (renameInput, error) {
	var in renameInput
	if _, err := readJSON(r, &in, false); err != nil {
		return renameInput{}, err
	}
	in.id = r.PathValue("id")
	return in, nil
}

type pathInput struct{ uuid, id string }

func pathValues(r *http.Request) (pathInput, error) {
	return pathInput{uuid: r.PathValue("uuid"), id: r.PathValue("id")}, nil
}

// Schemas implements httpadapter.Feature.
func (p *Passkeys) Schemas() map[string]any {
	type js = map[string]any
	str := js{"type": "string"}
	b64url := js{"type": "string", "description": "base64url"}
	credential := js{"type": "object", "description": "The PublicKeyCredential as its toJSON() gives it (WebAuthn level 3).",
		"properties": js{"id": str, "rawId": b64url, "type": js{"const": "public-key"},
			"response": js{"type": "object", "properties": js{
				"clientDataJSON": b64url, "attestationObject": b64url, "authenticatorData": b64url,
				"signature": b64url, "userHandle": b64url, "transports": js{"type": "array", "items": str}}},
			"clientExtensionResults": js{"type": "object"}, "authenticatorAttachment": str},
		"required": []string{"id", "rawId", "type", "response"}}
	return js{
		"PasskeyBegin": js{"type": "object", "properties": js{
			"publicKey": js{"type": "object", "description": "PublicKeyCredentialCreationOptions or PublicKeyCredentialRequestOptions, in their JSON form."},
			"ceremony":  js{"type": "string", "description": "Send it back with the credential; single-use, 5 minutes."}},
			"required": []string{"publicKey", "ceremony"}},
		"PublicKeyCredentialJSON": credential,
		"PasskeyRegisterFinish": js{"type": "object", "properties": js{"ceremony": str, "name": js{"type": "string", "maxLength": MaxName},
			"credential": js{"$ref": "#/components/schemas/PublicKeyCredentialJSON"}}, "required": []string{"ceremony", "credential"}},
		"PasskeyLoginBegin": js{"type": "object", "properties": js{"username": js{"type": "string", "description": "Optional: the account's username or email."}}},
		"PasskeyLoginFinish": js{"type": "object", "properties": js{"ceremony": str,
			"credential": js{"$ref": "#/components/schemas/PublicKeyCredentialJSON"}}, "required": []string{"ceremony", "credential"}},
		"PasskeyRename": js{"type": "object", "properties": js{"name": js{"type": "string", "maxLength": MaxName}}, "required": []string{"name"}},
		"Passkey": js{"type": "object", "properties": js{
			"id": str, "name": str, "created_at": js{"type": "string", "format": "date-time"},
			"last_used_at": js{"type": []string{"string", "null"}, "format": "date-time"},
			"transports":   js{"type": "array", "items": str}, "backed_up": js{"type": "boolean"}},
			"required": []string{"id", "name", "created_at", "last_used_at", "transports", "backed_up"}},
	}
}
