package httpadapter

import (
	"net/http"
	"testing"
)

// TestPageFormsAreLimited: every form post of the hosted pages that reaches
// a rate-limited Manager call (all but logout) has a limit class, and every
// class entry names a route that exists, so a renamed route cannot slip out
// of its limit.
func TestPageFormsAreLimited(t *testing.T) {
	names := map[string]bool{}
	for _, rt := range routes(nil) {
		names[rt.Name] = true
		if !rt.Page || rt.Method != http.MethodPost || rt.Name == "_logout_post" {
			continue
		}
		if _, ok := routeLimitClasses[rt.Name]; !ok {
			t.Errorf("page form %s %s (%s) has no limit class", rt.Method, rt.Path, rt.Name)
		}
	}
	for name := range routeLimitClasses {
		if !names[name] {
			t.Errorf("limit class for %q, which is no route", name)
		}
	}
	for name := range accountFields {
		if _, ok := routeLimitClasses[name]; !ok {
			t.Errorf("account fields for %q, which has no limit class", name)
		}
	}
}
