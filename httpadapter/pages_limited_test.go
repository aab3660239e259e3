package httpadapter_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestPagesRateLimited: a form the limiter refuses answers an HTML page
// with the wait in words (and the API's status and Retry-After), not JSON.
func TestPagesRateLimited(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Pages: &httpadapter.PagesOptions{}, RateLimit: httpadapter.RateLimitOptions{Enabled: true}})
	pc := newPageClient(t, e.h)
	e.register("limited_user")
	for range 5 { // the per-account limit of password resets
		pc.submit("/forgot-password/request", url.Values{"username": {"limited_user"}}).wantStatus(t, 200)
	}
	p := pc.submit("/forgot-password/request", url.Values{"username": {"limited_user"}}).wantStatus(t, 429).
		wantContains(t, "<title>Too many attempts", `role="alert"`, "Try again in ", " minutes.", `href="/forgot-password/request"`)
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || p.header.Get("Retry-After") == "" {
		t.Fatalf("Content-Type %q, Retry-After %q", ct, p.header.Get("Retry-After"))
	}
}
