package httpadapter_test

import (
	"net/http"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestXAPIKeyRefusesAccessTokens: without a feature that issues API keys,
// X-API-Key takes nothing, a session's valid access token included
// (401 invalid_api_key), while the same token as a bearer header works.
func TestXAPIKeyRefusesAccessTokens(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:", httpadapter.Options{})
	jane := e.user("jane_doe")
	for _, v := range []string{jane.AccessToken, "Bearer " + jane.AccessToken, "um_" + jane.AccessToken} {
		a := e.do(request{method: "GET", path: "/api/user/me", header: map[string]string{httpadapter.APIKeyHeader: v}})
		if code, _ := a.object(t)["code"].(string); a.status != http.StatusUnauthorized || code != "invalid_api_key" {
			t.Errorf("X-API-Key %.12q...: %s, want 401 invalid_api_key", v, a)
		}
	}
	e.do(request{method: "GET", path: "/api/user/me", token: jane.AccessToken}).wantStatus(t, http.StatusOK)
}
