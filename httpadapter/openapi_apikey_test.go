package httpadapter_test

import (
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestOpenAPIWithAPIKeys: the API-key feature's routes are in the
// document, valid, with their schemas, and marked session-only.
func TestOpenAPIWithAPIKeys(t *testing.T) {
	keys := apikey.New(apikey.Config{})
	doc := featureDoc(t, keys)
	n := 0
	for _, rt := range httpadapter.Routes(keys) {
		if !strings.Contains(rt.Path, "/api-keys") {
			continue
		}
		n++
		op := obj(obj(obj(doc["paths"])["/api"+rt.Path])[strings.ToLower(rt.Method)])
		if op == nil {
			t.Errorf("%s %s missing", rt.Method, rt.Path)
			continue
		}
		if !rt.SessionOnly || op["security"] == nil || op["x-feature-flag"] != rt.Flag {
			t.Errorf("%s %s: SessionOnly %v, security %v, flag %v", rt.Method, rt.Path, rt.SessionOnly, op["security"], op["x-feature-flag"])
		}
	}
	if n != 6 {
		t.Errorf("%d API-key routes, want 6", n)
	}
	for _, name := range []string{"APIKeyCreate", "APIKey", "APIKeyCreated"} {
		if obj(obj(doc["components"])["schemas"])[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
}
