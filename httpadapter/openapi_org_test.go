package httpadapter_test

import (
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/org"
)

// TestOpenAPIWithOrgs: the organizations feature's routes are in the
// document, valid, with their schemas and flags.
func TestOpenAPIWithOrgs(t *testing.T) {
	orgs := org.New(org.Config{Roles: []string{"billing"}})
	b, err := httpadapter.OpenAPI("/api", "1.2.3", orgs)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseOpenAPI(t, b)
	v := &validator{t: t, doc: doc}
	v.validate()
	for _, e := range v.errs {
		t.Error(e)
	}
	n := 0
	for _, rt := range httpadapter.Routes(orgs) {
		if !strings.HasPrefix(rt.Path, "/orgs") && rt.Path != "/admin/orgs" {
			continue
		}
		n++
		op := obj(obj(obj(doc["paths"])["/api"+rt.Path])[strings.ToLower(rt.Method)])
		if op == nil {
			t.Errorf("%s %s missing", rt.Method, rt.Path)
			continue
		}
		if !rt.Auth || op["security"] == nil || op["x-feature-flag"] != rt.Flag {
			t.Errorf("%s %s: Auth %v, security %v, flag %v", rt.Method, rt.Path, rt.Auth, op["security"], op["x-feature-flag"])
		}
	}
	if n != 15 {
		t.Errorf("%d organization routes, want 15", n)
	}
	schemas := obj(obj(doc["components"])["schemas"])
	for _, name := range []string{"OrganizationCreate", "OrganizationPatch", "Organization", "Member", "MemberPage", "OrganizationPage", "MemberRole", "InvitationCreate", "InvitationToken", "Invitation"} {
		if schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	if !strings.Contains(string(b), `"billing"`) {
		t.Error("the role enum lacks the host's role billing")
	}
}
