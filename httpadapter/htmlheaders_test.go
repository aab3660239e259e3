package httpadapter_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/httpadapter/swaggerui"
)

// TestHTMLSecurityHeaders: every HTML answer, the documentation pages' as
// well as the hosted pages' and the 404 page's, carries the same security
// headers (issue 14 item 5). It walks every GET route of the table.
func TestHTMLSecurityHeaders(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/db.sqlite", httpadapter.Options{
		Prefix: "/api", Pages: &httpadapter.PagesOptions{}, SwaggerUI: swaggerui.FS(), PublicInteractiveDocs: true,
	})
	want := []string{"X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"}
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	paths := []string{"/no-such-page"}
	for _, rt := range httpadapter.Routes() {
		if rt.Method != "GET" || (!rt.Root && !rt.Page && !rt.SwaggerUI && rt.Response != "html") {
			continue
		}
		p := rt.Path
		if !rt.Root && !rt.Page && !rt.SwaggerUI {
			p = "/api" + p
		}
		paths = append(paths, wildcard.ReplaceAllString(p, "x"))
	}
	var html []string
	for _, p := range paths {
		r := e.do(request{method: "GET", path: p, header: map[string]string{"Accept": "text/html"}})
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			continue
		}
		html = append(html, p)
		for _, h := range want {
			if r.header.Get(h) == "" {
				t.Errorf("GET %s (%d): no %s header", p, r.status, h)
			}
		}
		if got := r.header.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("GET %s: Referrer-Policy %q, want same-origin", p, got)
		}
	}
	for _, p := range []string{"/docs", "/interactive-docs", "/login", "/no-such-page"} {
		if !contains(html, p) {
			t.Errorf("%s did not answer HTML; HTML answers: %v", p, html)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
