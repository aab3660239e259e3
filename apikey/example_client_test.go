package apikey_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// apiClient is how another service calls the API with a key: the key in
// X-API-Key on every request, and the answer's stable code on a failure.
type apiClient struct {
	base string // the API's address and prefix, as "https://users.example.com/api"
	key  string // the API key, from a secret store: never in code or logs
	http *http.Client
}

// apiError is an error answer: {"detail", "code"}.
type apiError struct {
	Status int
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail) }

// get decodes the JSON answer to GET base+path into v.
func (c *apiClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", c.key) // or "Authorization: Bearer " + c.key
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 401 invalid_api_key (revoked, expired, owner banned), 403
		// insufficient_scope or session_required, 429 rate_limited (with
		// Retry-After).
		e := &apiError{Status: resp.StatusCode}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(e); err != nil {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return e
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// A second service calls the API over HTTP with a key limited to reading
// users: its owner's profile answers; what the key's scopes leave out, or
// only a session may do, is refused with a stable code.
func Example_client() {
	ctx := context.Background()
	// The API, with a user who has made a key (in real life: over
	// POST /api/user/me/api-keys, or the hosted pages).
	st, err := anydb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		panic(err)
	}
	defer st.Close()
	keys := apikey.New(apikey.Config{})
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("example-secret-of-at-least-32-bytes"), BcryptCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, usermgmt.WithFeature(keys))
	if err != nil {
		panic(err)
	}
	defer m.Close()
	srv := httptest.NewServer(httpadapter.New(m, httpadapter.Options{Prefix: "/api", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Password-123!"})
	if err != nil {
		panic(err)
	}
	made, err := keys.Create(ctx, u, u.UUID, apikey.NewKey{Name: "reports", Scopes: []string{"user:read"}})
	if err != nil {
		panic(err)
	}

	// The other service.
	c := &apiClient{base: srv.URL + "/api", key: made.Key, http: &http.Client{Timeout: 10 * time.Second}}
	var me struct {
		Username string `json:"username"`
	}
	if err := c.get(ctx, "/user/me", &me); err != nil {
		panic(err)
	}
	fmt.Println(me.Username)
	for _, path := range []string{"/auth/sessions", "/user/me/api-keys"} {
		var e *apiError
		err := c.get(ctx, path, &struct{}{})
		if errors.As(err, &e) {
			fmt.Println(path, e.Status, e.Code)
		}
	}
	// Output:
	// jane_doe
	// /auth/sessions 403 session_required
	// /user/me/api-keys 403 session_required
}
