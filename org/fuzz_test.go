package org_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/org"
)

// FuzzBodies sends arbitrary bodies and path values to every
// organization route that takes one: each answer is below 500.
func FuzzBodies(f *testing.F) {
	for _, s := range []string{`{"name":"A","slug":"abc"}`, `{"role":"admin"}`, `{"uuid":"x"}`, `{"email":"a@b.c","role":"member"}`,
		`{"token":"` + strings.Repeat("A", 43) + `"}`, `{"metadata":{"a":[1,{"b":null}]}}`, `{"name":null}`, `[`, "\x00", `{"slug":"` + strings.Repeat("a", 5000) + `"}`} {
		f.Add(s, "x")
	}
	e := newEnv(f, "sqlite://"+f.TempDir()+"/orgs.db", org.Config{})
	h := httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", Logger: quiet})
	owner, other := e.user(), e.user()
	o := e.create(owner, "fuzzed")
	e.join(owner, o, other, org.RoleMember)
	tok := e.token(owner)
	f.Fuzz(func(t *testing.T, body, seg string) {
		if strings.ContainsAny(seg, "/?#% \x00") || seg == "" {
			seg = "x"
		}
		for _, rt := range []struct{ method, path string }{
			{"POST", "/api/orgs"}, {"PATCH", "/api/orgs/" + o.ID}, {"PATCH", "/api/orgs/" + seg},
			{"PATCH", "/api/orgs/" + o.ID + "/members/" + other.UUID}, {"PATCH", "/api/orgs/" + o.ID + "/members/" + seg},
			{"POST", "/api/orgs/" + o.ID + "/transfer"}, {"POST", "/api/orgs/" + o.ID + "/invitations"},
			{"POST", "/api/orgs/invitations/accept"}, {"POST", "/api/orgs/invitations/decline"},
			{"GET", "/api/orgs/" + o.ID + "/members?after=" + seg}, {"DELETE", "/api/orgs/" + o.ID + "/invitations/" + seg},
		} {
			r := call(t, h, rt.method, rt.path, tok, body)
			if r.status >= http.StatusInternalServerError {
				t.Fatalf("%s %s %q = %d %s", rt.method, rt.path, body, r.status, r.raw)
			}
		}
	})
}
