package apikey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The API-key routes: /user/me/api-keys (the caller's own) and
// /user/{uuid}/api-keys (policy resource "api_key"). Every one needs a
// signed-in session (Route.SessionOnly): an API key manages no keys.

// MaxBodyBytes bounds the body of a creation.
const MaxBodyBytes = 16 << 10

// Endpoints implements httpadapter.Feature.
func (k *Keys) Endpoints() []httpadapter.Endpoint {
	type rt = httpadapter.Route
	post, get, del := http.MethodPost, http.MethodGet, http.MethodDelete
	create := func(e httpadapter.Endpoint) httpadapter.Endpoint {
		e.Input = httpadapter.Input{Body: "APIKeyCreate", BodyRequired: true}
		e.MaxBodyBytes = MaxBodyBytes
		return e
	}
	return []httpadapter.Endpoint{
		create(httpadapter.Handle(rt{Method: post, Path: "/user/me/api-keys", Name: "create_api_key", Flag: "CREATE_API_KEY",
			Tag: "user", Auth: true, SessionOnly: true, Limit: httpadapter.ClassOTP,
			Summary: "Create an API key for the caller; the answer shows the key, once.",
			Request: "APIKeyCreate", Encodings: jsonOnly, Status: http.StatusCreated, Response: "APIKeyCreated", Statuses: []int{http.StatusConflict}},
			decodeCreate,
			func(ctx context.Context, pr *usermgmt.Principal, in createInput) (httpadapter.Response, error) {
				c, err := k.Create(ctx, pr.User(), pr.User().UUID, in.NewKey)
				return httpadapter.JSONOr(http.StatusCreated, c, err)
			})),
		httpadapter.Handle(rt{Method: get, Path: "/user/me/api-keys", Name: "read_api_keys", Flag: "READ_API_KEYS",
			Tag: "user", Auth: true, SessionOnly: true, Summary: "The caller's API keys, oldest first (never their secrets).",
			Status: http.StatusOK, Response: "[]APIKey"}, httpadapter.NoInput,
			func(ctx context.Context, pr *usermgmt.Principal, _ struct{}) (httpadapter.Response, error) {
				ks, err := k.List(ctx, pr.User(), pr.User().UUID)
				return httpadapter.JSONOr(http.StatusOK, ks, err)
			}),
		httpadapter.Handle(rt{Method: del, Path: "/user/me/api-keys/{id}", Name: "revoke_api_key", Flag: "REVOKE_API_KEY",
			Tag: "user", Auth: true, SessionOnly: true, Summary: "Revoke one of the caller's API keys.",
			Request: "APIKeyID", Status: http.StatusNoContent}, pathValues,
			func(ctx context.Context, pr *usermgmt.Principal, in pathInput) (httpadapter.Response, error) {
				return httpadapter.NoContent(k.Revoke(ctx, pr.User(), pr.User().UUID, in.id))
			}),
		create(httpadapter.Handle(rt{Method: post, Path: "/user/{uuid}/api-keys", Name: "admin_create_api_key", Flag: "ADMIN_CREATE_API_KEY",
			Tag: "admin", Auth: true, SessionOnly: true, Limit: httpadapter.ClassOTP,
			Summary: "Create an API key for a user (policy api_key.create); the answer shows the key, once.",
			Request: "APIKeyCreate", Encodings: jsonOnly, Status: http.StatusCreated, Response: "APIKeyCreated", Statuses: []int{http.StatusConflict}},
			decodeCreate,
			func(ctx context.Context, pr *usermgmt.Principal, in createInput) (httpadapter.Response, error) {
				c, err := k.Create(ctx, pr.User(), in.uuid, in.NewKey)
				return httpadapter.JSONOr(http.StatusCreated, c, err)
			})),
		httpadapter.Handle(rt{Method: get, Path: "/user/{uuid}/api-keys", Name: "admin_read_api_keys", Flag: "ADMIN_READ_API_KEYS",
			Tag: "admin", Auth: true, SessionOnly: true, Summary: "A user's API keys (policy api_key.read).",
			Request: "UserUUID", Status: http.StatusOK, Response: "[]APIKey"}, pathValues,
			func(ctx context.Context, pr *usermgmt.Principal, in pathInput) (httpadapter.Response, error) {
				ks, err := k.List(ctx, pr.User(), in.uuid)
				return httpadapter.JSONOr(http.StatusOK, ks, err)
			}),
		httpadapter.Handle(rt{Method: del, Path: "/user/{uuid}/api-keys/{id}", Name: "admin_revoke_api_key", Flag: "ADMIN_REVOKE_API_KEY",
			Tag: "admin", Auth: true, SessionOnly: true, Summary: "Revoke a user's API key (policy api_key.delete).",
			Request: "APIKeyID", Status: http.StatusNoContent}, pathValues,
			func(ctx context.Context, pr *usermgmt.Principal, in pathInput) (httpadapter.Response, error) {
				return httpadapter.NoContent(k.Revoke(ctx, pr.User(), in.uuid, in.id))
			}),
	}
}

var jsonOnly = []string{"application/json"}

type createInput struct {
	uuid string
	NewKey
}

// createBody is the JSON of a creation; absent fields stay nil.
type createBody struct {
	Name      *string   `json:"name"`
	Scopes    *[]string `json:"scopes"`
	ExpiresIn *int64    `json:"expires_in"`
}

// decodeCreate reads {"name", "scopes", "expires_in"?}: name and scopes
// required, expires_in a positive number of seconds.
func decodeCreate(r *http.Request) (createInput, error) {
	in := createInput{uuid: r.PathValue("uuid")}
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
	var body createBody
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &body) != nil {
		return in, httpadapter.Invalid("The body must be a JSON object: name, scopes and optionally expires_in.")
	}
	switch {
	case body.Name == nil:
		return in, httpadapter.Invalid("name: field required")
	case body.Scopes == nil:
		return in, httpadapter.Invalid("scopes: field required (an array of resource:action names)")
	case body.ExpiresIn != nil && (*body.ExpiresIn <= 0 || *body.ExpiresIn > int64(MaxExpiresIn/time.Second)):
		return in, ErrInvalidExpiry
	}
	in.Name, in.Scopes = *body.Name, *body.Scopes
	if body.ExpiresIn != nil {
		in.ExpiresIn = time.Duration(*body.ExpiresIn) * time.Second
	}
	return in, nil
}

type pathInput struct{ uuid, id string }

func pathValues(r *http.Request) (pathInput, error) {
	return pathInput{uuid: r.PathValue("uuid"), id: r.PathValue("id")}, nil
}

// Schemas implements httpadapter.Feature.
func (k *Keys) Schemas() map[string]any {
	type js = map[string]any
	str := js{"type": "string"}
	when := js{"type": []string{"string", "null"}, "format": "date-time"}
	scopes := js{"type": "array", "maxItems": MaxScopes, "items": js{"type": "string", "description": "A resource:action permission of the policy (user:read, file:create ...)."}}
	key := js{
		"id": str, "name": str, "prefix": js{"type": "string", "description": "The key's first characters, to recognise it."},
		"scopes": scopes, "created_at": js{"type": "string", "format": "date-time"},
		"expires_at": when, "last_used_at": when, "last_used_ip": str,
	}
	required := []string{"id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "last_used_ip"}
	created := js{}
	for name, v := range key {
		created[name] = v
	}
	created["key"] = js{"type": "string", "description": "The key (um_ and 43 base64url characters): shown once, stored only hashed."}
	return js{
		"APIKeyCreate": js{"type": "object", "properties": js{
			"name":       js{"type": "string", "minLength": 1, "maxLength": MaxName},
			"scopes":     scopes,
			"expires_in": js{"type": "integer", "minimum": 1, "description": "Seconds until the key expires; absent: until revoked."}},
			"required": []string{"name", "scopes"}},
		"APIKey":        js{"type": "object", "properties": key, "required": required},
		"APIKeyCreated": js{"type": "object", "properties": created, "required": append(append([]string{}, required...), "key")},
	}
}
