package httpadapter_test

import (
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/webhook"
)

// TestOpenAPIWithWebhooks: the webhook feature's admin routes are in the
// document, valid, with their schemas and flags.
func TestOpenAPIWithWebhooks(t *testing.T) {
	hooks, err := webhook.New(webhook.Config{})
	if err != nil {
		t.Fatal(err)
	}
	doc := featureDoc(t, hooks)
	n := 0
	for _, rt := range httpadapter.Routes(hooks) {
		if !strings.HasPrefix(rt.Path, "/admin/webhooks/") {
			continue
		}
		n++
		op := obj(obj(obj(doc["paths"])["/api"+rt.Path])[strings.ToLower(rt.Method)])
		if op == nil || op["security"] == nil || op["x-feature-flag"] != rt.Flag {
			t.Errorf("%s %s: %v", rt.Method, rt.Path, op)
		}
	}
	if n != 2 {
		t.Fatalf("%d webhook routes, want 2", n)
	}
}

// featureDoc returns the OpenAPI document of the features, checked by the
// validator.
func featureDoc(t *testing.T, fs ...httpadapter.Feature) map[string]any {
	t.Helper()
	b, err := httpadapter.OpenAPI("/api", "1.2.3", fs...)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseOpenAPI(t, b)
	v := &validator{t: t, doc: doc}
	v.validate()
	for _, e := range v.errs {
		t.Error(e)
	}
	return doc
}
