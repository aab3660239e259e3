package httpadapter

import (
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// FuzzRedirectAllowed: an accepted target is a local path (never
// scheme-relative) or an http(s) URL on an allowed host.
func FuzzRedirectAllowed(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "https://app.example.com/x", "https://APP.example.com:443/", "javascript:x", "https://app.example.com.evil/"} {
		f.Add(s)
	}
	cfg := usermgmt.Config{BaseURL: "https://users.example.com", RedirectAllowList: []string{"https://app.example.com", "https://x.example.com/cb/"}}
	f.Fuzz(func(t *testing.T, s string) {
		if !redirectAllowed(s, cfg) {
			return
		}
		if strings.HasPrefix(s, "/") {
			if strings.HasPrefix(s, "//") || strings.Contains(s, "\\") {
				t.Fatalf("accepted %q", s)
			}
			return
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted unparsable %q", s)
		}
		host := strings.ToLower(u.Host)
		if host != "users.example.com" && host != "app.example.com" && host != "x.example.com" {
			t.Fatalf("accepted %q (host %q)", s, host)
		}
	})
}
