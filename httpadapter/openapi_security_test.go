package httpadapter_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// coreSessionOnly are the core's routes only a signed-in session may call
// (docs/api-keys.md lists them): passwords, second factors, sessions,
// provider links and the export.
var coreSessionOnly = []string{
	"logout", "read_sessions", "revoke_session",
	"change_otp_method", "get_otp_qr", "otp_setup", "send_email_otp",
	"change_password", "reset_password_reset", "request_password_request",
	"oauth_link", "oauth_link_url", "oauth_unlink", "oauth_revoke",
	"read_users_me_export",
}

// securityOf returns the scheme names of each alternative of op's
// security requirement.
func securityOf(op map[string]any) [][]string {
	var out [][]string
	sec, _ := op["security"].([]any)
	for _, req := range sec {
		var names []string
		for name := range obj(req) {
			names = append(names, name)
		}
		out = append(out, names)
	}
	return out
}

// TestOpenAPISecurity: without a feature credential the document keeps
// its one bearer scheme (a JWT); with the API keys it declares bearerAuth
// (a JWT or an API key) and apiKey (X-API-Key), which every authenticated
// operation takes, except the session-only ones, which take bearerAuth
// alone and say that an API key is 403 session_required.
func TestOpenAPISecurity(t *testing.T) {
	sessionOnly := func(rt httpadapter.Route) bool {
		for _, n := range coreSessionOnly {
			if rt.Name == n {
				return true
			}
		}
		return rt.SessionOnly
	}
	t.Run("without API keys", func(t *testing.T) {
		doc := parseOpenAPI(t, must(httpadapter.OpenAPI("/api", "1", httpFeatures()...)))
		schemes := obj(obj(doc["components"])["securitySchemes"])
		want := map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
		if !reflect.DeepEqual(schemes, want) {
			t.Errorf("security schemes %v, want %v", schemes, want)
		}
		for _, rt := range httpadapter.Routes(httpFeatures()...) {
			op := obj(obj(obj(doc["paths"])[path(rt)])[strings.ToLower(rt.Method)])
			if op == nil || !rt.Auth {
				continue
			}
			if got := securityOf(op); !reflect.DeepEqual(got, [][]string{{"bearer"}}) || op["description"] != nil {
				t.Errorf("%s %s: security %v, description %v", rt.Method, rt.Path, got, op["description"])
			}
		}
	})
	t.Run("with API keys", func(t *testing.T) {
		fs := append(httpFeatures(), apikey.New(apikey.Config{}))
		doc := parseOpenAPI(t, must(httpadapter.OpenAPI("/api", "1", fs...)))
		v := &validator{t: t, doc: doc}
		v.validate()
		for _, e := range v.errs {
			t.Error(e)
		}
		schemes := obj(obj(doc["components"])["securitySchemes"])
		bearer, key := obj(schemes["bearerAuth"]), obj(schemes["apiKey"])
		if len(schemes) != 2 || bearer["type"] != "http" || bearer["scheme"] != "bearer" ||
			key["type"] != "apiKey" || key["in"] != "header" || key["name"] != "X-API-Key" {
			t.Fatalf("security schemes %v", schemes)
		}
		for _, s := range []string{"JWT", "um_"} {
			if d, _ := bearer["description"].(string); !strings.Contains(d, s) {
				t.Errorf("bearerAuth's description %q does not name %s", d, s)
			}
		}
		if d, _ := key["description"].(string); !strings.Contains(d, "invalid_api_key") {
			t.Errorf("apiKey's description %q does not name invalid_api_key", d)
		}
		only, either := 0, 0
		for _, rt := range httpadapter.Routes(fs...) {
			op := obj(obj(obj(doc["paths"])[path(rt)])[strings.ToLower(rt.Method)])
			if op == nil || !rt.Auth {
				continue
			}
			got := securityOf(op)
			desc, _ := op["description"].(string)
			forbidden, _ := obj(obj(op["responses"])["403"])["description"].(string)
			switch {
			case sessionOnly(rt):
				only++
				if !reflect.DeepEqual(got, [][]string{{"bearerAuth"}}) || !strings.Contains(desc, "session_required") ||
					!strings.Contains(forbidden, "session_required") {
					t.Errorf("session-only %s %s: security %v, description %q, 403 %q", rt.Method, rt.Path, got, desc, forbidden)
				}
			default:
				either++
				if !reflect.DeepEqual(got, [][]string{{"bearerAuth"}, {"apiKey"}}) || desc != "" || strings.Contains(forbidden, "session_required") {
					t.Errorf("%s %s: security %v, description %q, 403 %q", rt.Method, rt.Path, got, desc, forbidden)
				}
			}
		}
		if only != len(coreSessionOnly)+6 || either < 20 {
			t.Errorf("%d session-only operations (want %d), %d taking either", only, len(coreSessionOnly)+6, either)
		}
	})
}

// path is the document's path of rt under /api.
func path(rt httpadapter.Route) string {
	if rt.Root {
		return rt.Path
	}
	return "/api" + rt.Path
}

// TestAPIKeyAnswersConform: with the API keys on, the answers to a key in
// X-API-Key and as a bearer token, to a session's token in X-API-Key and
// to a key on session-only routes are what the document declares (their
// conformance is checked with the others' when the tests are done).
func TestAPIKeyAnswersConform(t *testing.T) {
	fs := append(testFeatures(), usermgmt.Feature(apikey.New(apikey.Config{Unlimited: true})))
	e := newEnvWith(t, "sqlite://:memory:", baseURL, httpadapter.Options{}, fs...)
	jane := e.user("jane_doe")
	made := e.do(request{method: "POST", path: "/api/user/me/api-keys", token: jane.AccessToken,
		json: map[string]any{"name": "ci", "scopes": []string{"user:read"}}})
	made.wantStatus(t, http.StatusCreated)
	key, _ := made.object(t)["key"].(string)
	for _, c := range []struct {
		name, method, path string
		header             map[string]string
		status             int
		code               string
	}{
		{"key in X-API-Key", "GET", "/api/user/me", map[string]string{"X-API-Key": key}, 200, ""},
		{"key as bearer", "GET", "/api/user/me", map[string]string{"Authorization": "Bearer " + key}, 200, ""},
		{"session token in X-API-Key", "GET", "/api/user/me", map[string]string{"X-API-Key": jane.AccessToken}, 401, "invalid_api_key"},
		{"garbage in X-API-Key", "GET", "/api/user/me", map[string]string{"X-API-Key": "um_nope"}, 401, "invalid_api_key"},
		{"key on the key list", "GET", "/api/user/me/api-keys", map[string]string{"X-API-Key": key}, 403, "session_required"},
		{"key on the sessions", "GET", "/api/auth/sessions", map[string]string{"Authorization": "Bearer " + key}, 403, "session_required"},
		{"key on the export", "GET", "/api/user/me/export", map[string]string{"X-API-Key": key}, 403, "session_required"},
	} {
		a := e.do(request{method: c.method, path: c.path, header: c.header})
		if a.status != c.status {
			t.Errorf("%s: %s, want %d %s", c.name, a, c.status, c.code)
			continue
		}
		if c.code != "" {
			if code, _ := a.object(t)["code"].(string); code != c.code {
				t.Errorf("%s: %s, want code %s", c.name, a, c.code)
			}
		}
	}
}
