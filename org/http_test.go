package org_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/org"
)

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func call(t *testing.T, h http.Handler, method, path, token, body string) reply {
	t.Helper()
	var rd *bytes.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := reply{status: rec.Code, raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &r.body)
	return r
}

func (e *env) token(u *usermgmt.User) string {
	e.t.Helper()
	tok, err := e.m.OpenSession(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// TestHTTPRoutes drives every organization route (invitations aside)
// through httpadapter, with its bad inputs: each a 4xx with a stable
// code, never a 500.
func TestHTTPRoutes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		h := httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", Logger: quiet})
		a, b, admin := e.user(), e.user(), e.user(usermgmt.RoleAdmin)
		ta, tb, tadmin := e.token(a), e.token(b), e.token(admin)
		want := func(r reply, status int, code string) {
			t.Helper()
			if r.status != status || code != "" && r.body["code"] != code {
				t.Errorf("got %d %s, want %d %s", r.status, r.raw, status, code)
			}
		}
		r := call(t, h, "POST", "/api/orgs", ta, `{"name":"Acme","slug":"acme","metadata":{"plan":"pro"}}`)
		want(r, 201, "")
		id, _ := r.body["id"].(string)
		if r.body["role"] != "owner" || r.body["slug"] != "acme" {
			t.Errorf("create = %s", r.raw)
		}
		want(call(t, h, "POST", "/api/orgs", tb, `{"name":"Other","slug":"acme"}`), 409, "org_slug_taken")
		for _, bad := range []string{`{"name":"x","slug":"A!"}`, `{"name":"","slug":"fine"}`, `{"name":"x","slug":"fine","metadata":[1]}`} {
			if r := call(t, h, "POST", "/api/orgs", tb, bad); r.status != 422 {
				t.Errorf("POST /orgs %s = %d %s, want 422", bad, r.status, r.raw)
			}
		}
		for _, bad := range []string{`[]`, `{"name":"x"}`, `{"name":1,"slug":"fine"}`, `nope`} {
			if r := call(t, h, "POST", "/api/orgs", tb, bad); r.status != 422 {
				t.Errorf("POST /orgs %s = %d %s, want 422", bad, r.status, r.raw)
			}
		}
		r = call(t, h, "GET", "/api/orgs", ta, "")
		if r.status != 200 || !strings.Contains(r.raw, `"role":"owner"`) {
			t.Errorf("GET /orgs = %d %s", r.status, r.raw)
		}
		want(call(t, h, "GET", "/api/orgs/"+id, tb, ""), 404, "org_not_found")
		want(call(t, h, "GET", "/api/orgs/nonsense", ta, ""), 404, "org_not_found")
		want(call(t, h, "GET", "/api/orgs/"+id, ta, ""), 200, "")
		want(call(t, h, "GET", "/api/orgs/"+id, tadmin, ""), 200, "")
		if err := e.orgs.AddMember(context.Background(), a, id, b.UUID, org.RoleMember); err != nil {
			t.Fatal(err)
		}
		want(call(t, h, "PATCH", "/api/orgs/"+id, tb, `{"name":"Mine"}`), 403, "")
		r = call(t, h, "PATCH", "/api/orgs/"+id, ta, `{"name":"Acme Inc","metadata":null}`)
		if r.status != 200 || r.body["name"] != "Acme Inc" || r.body["metadata"] != nil {
			t.Errorf("PATCH = %d %s", r.status, r.raw)
		}
		r = call(t, h, "GET", "/api/orgs/"+id+"/members?limit=1", tb, "")
		if r.status != 200 || r.body["next"] == "" {
			t.Errorf("members page 1 = %d %s", r.status, r.raw)
		}
		next, _ := r.body["next"].(string)
		r = call(t, h, "GET", "/api/orgs/"+id+"/members?limit=1&after="+next, tb, "")
		if r.status != 200 || r.body["next"] != "" {
			t.Errorf("members page 2 = %d %s", r.status, r.raw)
		}
		want(call(t, h, "GET", "/api/orgs/"+id+"/members?limit=0", tb, ""), 422, "")
		want(call(t, h, "GET", "/api/orgs/"+id+"/members?after=zz", tb, ""), 422, "org_cursor_invalid")
		want(call(t, h, "PATCH", "/api/orgs/"+id+"/members/"+a.UUID, ta, `{"role":"admin"}`), 409, "org_last_owner")
		want(call(t, h, "DELETE", "/api/orgs/"+id+"/members/"+a.UUID, ta, ""), 409, "org_last_owner")
		want(call(t, h, "PATCH", "/api/orgs/"+id+"/members/"+b.UUID, ta, `{"role":"czar"}`), 422, "org_role_invalid")
		want(call(t, h, "PATCH", "/api/orgs/"+id+"/members/"+b.UUID, ta, `{}`), 422, "")
		want(call(t, h, "PATCH", "/api/orgs/"+id+"/members/"+b.UUID, tb, `{"role":"owner"}`), 403, "")
		want(call(t, h, "POST", "/api/orgs/"+id+"/transfer", tb, `{"uuid":"`+a.UUID+`"}`), 403, "")
		want(call(t, h, "POST", "/api/orgs/"+id+"/transfer", ta, `{"uuid":"`+a.UUID+`"}`), 422, "org_transfer_invalid")
		r = call(t, h, "POST", "/api/orgs/"+id+"/transfer", ta, `{"uuid":"`+b.UUID+`"}`)
		if r.status != 200 || r.body["role"] != "owner" {
			t.Errorf("transfer = %d %s", r.status, r.raw)
		}
		want(call(t, h, "DELETE", "/api/orgs/"+id+"/members/"+a.UUID, ta, ""), 204, "")
		want(call(t, h, "GET", "/api/admin/orgs?q=ACME", ta, ""), 403, "")
		r = call(t, h, "GET", "/api/admin/orgs?q=ACME", tadmin, "")
		if r.status != 200 || !strings.Contains(r.raw, `"slug":"acme"`) {
			t.Errorf("admin search = %d %s", r.status, r.raw)
		}
		want(call(t, h, "DELETE", "/api/orgs/"+id, ta, ""), 404, "org_not_found")
		want(call(t, h, "DELETE", "/api/orgs/"+id, tb, ""), 204, "")
		want(call(t, h, "GET", "/api/orgs/"+id, tb, ""), 404, "org_not_found")
		want(call(t, h, "GET", "/api/orgs", "", ""), 401, "")
	})
}

// TestOpenAPIRoutes: every route of the feature is in the route table
// and the OpenAPI document.
func TestOpenAPIRoutes(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:", org.Config{})
	h := httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", Logger: quiet})
	req := httptest.NewRequest("GET", "/openapi.json", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("GET /openapi.json = %d", rec.Code)
	}
	for _, p := range []string{"/api/orgs", "/api/orgs/{id}", "/api/orgs/{id}/members", "/api/orgs/{id}/members/{uuid}", "/api/orgs/{id}/transfer", "/api/admin/orgs"} {
		if !strings.Contains(rec.Body.String(), `"`+p+`"`) {
			t.Errorf("the OpenAPI document lacks %s", p)
		}
	}
}
