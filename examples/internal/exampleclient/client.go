// Package exampleclient is the short client session the examples run
// against themselves with -once: register, call the host's guarded route,
// and check that it refuses a request without a token.
package exampleclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Try registers a user on the server at base (API under /api), then calls
// GET /app/hello with and without its token, writing what it sees to out.
func Try(ctx context.Context, base string, out io.Writer) error {
	form := url.Values{"username": {"jane_doe"}, "email": {"jane@example.com"},
		"password": {"Correct-Horse-9"}, "confirm_password": {"Correct-Horse-9"}}
	body, status, err := do(ctx, http.MethodPost, base+"/api/auth/register", "", form)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("register: %d %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("register: no token in %s", body)
	}
	fmt.Fprintln(out, "registered jane_doe")

	body, status, err = do(ctx, http.MethodGet, base+"/app/hello", tok.AccessToken, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("hello: %d %s", status, body)
	}
	fmt.Fprint(out, body)

	_, status, err = do(ctx, http.MethodGet, base+"/app/hello", "", nil)
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("hello without a token: %d, want 401", status)
	}
	fmt.Fprintln(out, "without a token:", status)
	return nil
}

func do(ctx context.Context, method, u, token string, form url.Values) (string, int, error) {
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return "", 0, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return string(b), res.StatusCode, err
}
