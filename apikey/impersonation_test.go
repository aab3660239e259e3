package apikey_test

import (
	"net/http"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/impersonate"
)

// TestImpersonatedCannotChangeKeys: an admin impersonating a user sees the
// user's keys but neither creates nor revokes one (403
// impersonation_forbidden), while the user themself still can.
func TestImpersonatedCannotChangeKeys(t *testing.T) {
	e := newEnvWith(t, "", false, apikey.Config{}, impersonate.New(impersonate.Options{}))
	_, adminTok := e.user("the_admin", usermgmt.RoleAdmin)
	u, tok := e.user("jane_doe")
	made := e.bearer(http.MethodPost, "/api/user/me/api-keys", tok, map[string]any{"name": "ci", "scopes": []string{"user:read"}})
	if made.status != http.StatusCreated {
		t.Fatalf("create as the user: %d %s", made.status, made.body)
	}
	id := made.object(t)["id"].(string)

	imp := e.bearer(http.MethodPost, "/api/admin/impersonate/"+u.UUID, adminTok, nil)
	if imp.status != http.StatusOK {
		t.Fatalf("impersonate: %d %s", imp.status, imp.body)
	}
	itok := imp.object(t)["access_token"].(string)
	if l := e.bearer(http.MethodGet, "/api/user/me/api-keys", itok, nil); l.status != http.StatusOK {
		t.Errorf("list while impersonating: %d %s", l.status, l.body)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/user/me/api-keys", map[string]any{"name": "mine now", "scopes": []string{"user:read"}}},
		{http.MethodDelete, "/api/user/me/api-keys/" + id, nil},
	} {
		if a := e.bearer(c.method, c.path, itok, c.body); a.status != http.StatusForbidden || a.code() != "impersonation_forbidden" {
			t.Errorf("%s %s while impersonating: %d %s, want 403 impersonation_forbidden", c.method, c.path, a.status, a.body)
		}
	}
	if a := e.bearer(http.MethodDelete, "/api/user/me/api-keys/"+id, tok, nil); a.status != http.StatusNoContent {
		t.Errorf("revoke as the user: %d %s", a.status, a.body)
	}
}
