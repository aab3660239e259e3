package org_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/usermgmt/usermgmt/org"
)

// TestRequireOrgRole: the host's route on {org} lets through the
// members with the role, with CurrentOrg set; 401, 403 and 404 otherwise.
func TestRequireOrgRole(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/orgs.db", org.Config{})
	owner, mem, out := e.user(), e.user(), e.user()
	o := e.create(owner, "guarded")
	e.join(owner, o, mem, org.RoleMember)
	mux := http.NewServeMux()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, ok := org.CurrentOrg(r.Context())
		if !ok || cur.Org.ID != r.PathValue("org") {
			t.Errorf("CurrentOrg = %+v, %v", cur, ok)
			return
		}
		_, _ = w.Write([]byte(cur.Role))
	})
	mux.Handle("GET /app/{org}/billing", org.RequireOrgRole(e.m, e.orgs, "org", org.RoleOwner, org.RoleAdmin)(page))
	mux.Handle("GET /app/{org}/home", org.RequireOrgRole(e.m, e.orgs, "org")(page))
	for _, c := range []struct {
		path, token string
		status      int
		body        string
	}{
		{"/app/" + o.ID + "/billing", e.token(owner), 200, "owner"},
		{"/app/" + o.ID + "/billing", e.token(mem), 403, ""},
		{"/app/" + o.ID + "/home", e.token(mem), 200, "member"},
		{"/app/" + o.ID + "/home", e.token(out), 404, ""},
		{"/app/nonsense/home", e.token(owner), 404, ""},
		{"/app/" + o.ID + "/home", "", 401, ""},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != c.status || c.body != "" && rec.Body.String() != c.body {
			t.Errorf("GET %s = %d %q, want %d %q", c.path, rec.Code, rec.Body.String(), c.status, c.body)
		}
	}
}
