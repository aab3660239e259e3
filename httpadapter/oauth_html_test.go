package httpadapter_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// callbackScript matches the one script of the HTML callback answer.
var callbackScript = regexp.MustCompile(`<script>(localStorage\.setItem\("auth_token", ("[^"]*")\);location\.replace\(("[^"]*")\);)</script>`)

// TestOAuthCallbackHTML: with Options.OAuthCallbackHTML, a provider login
// answers the reference's page: its script (the only one the CSP runs)
// stores "bearer <jwt>" in localStorage.auth_token and goes to the flow's
// redirect_uri, or "/". Links and errors answer as without the option.
func TestOAuthCallbackHTML(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		e.h = httpadapter.New(e.m, httpadapter.Options{OAuthCallbackHTML: true, Logger: e.m.Config().Logger})
		page := func(r result) (token, target string) {
			t.Helper()
			r.wantStatus(t, http.StatusOK)
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("headers %v", r.header)
			}
			m := callbackScript.FindStringSubmatch(string(r.body))
			if m == nil || strings.Count(string(r.body), "<script") != 1 {
				t.Fatalf("page %s", r.body)
			}
			sum := sha256.Sum256([]byte(m[1]))
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
				!strings.Contains(csp, "default-src 'none'") {
				t.Fatalf("CSP %q does not allow exactly the script", csp)
			}
			if err := json.Unmarshal([]byte(m[2]), &token); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(m[3]), &target); err != nil {
				t.Fatal(err)
			}
			return token, target
		}
		// Without a redirect_uri: to "/".
		token, target := page(e.login(t, "github", identity("github", 1, "html.user@example.com")))
		jwt, ok := strings.CutPrefix(token, "bearer ")
		if !ok || target != "/" {
			t.Fatalf("auth_token %q, target %q", token, target)
		}
		uuid := e.whoami(jwt)
		// With one: there.
		s := e.start(t, "github", "/api/oauth/github?redirect_uri="+appURL)
		token, target = page(e.do(e.consent(t, s, identity("github", 1, "html.user@example.com"))))
		if target != appURL || e.whoami(strings.TrimPrefix(token, "bearer ")) != uuid {
			t.Fatalf("target %q", target)
		}
		// Errors stay JSON.
		cb := e.consent(t, e.start(t, "github", "/api/oauth/github"), identity("github", 1, "html.user@example.com"))
		cb.path = strings.Replace(cb.path, "state=", "state=x", 1)
		e.do(cb).wantError(t, http.StatusBadRequest, "invalid_oauth_state")
		// A link answers its account as JSON.
		acc := e.user("html_linker")
		r := e.do(e.consent(t, e.start(t, "okta", e.linkURL(t, "okta", acc.AccessToken, nil)), identity("okta", 2, "html.link@example.com")))
		r.wantStatus(t, http.StatusOK)
		if r.object(t)["user_uuid"] != acc.uuid {
			t.Fatalf("link answer %s", r.body)
		}
	})
}
