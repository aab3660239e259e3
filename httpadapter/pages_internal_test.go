package httpadapter

import (
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

func TestInitials(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"Acme Accounts", "AA"},
		{"usermgmt", "U"},
		{"my_cool project site", "MC"},
		{"  élan vital ", "ÉV"},
		{"42 things", "T"},
		{"", "?"},
		{"!!! ---", "?"},
	} {
		if got := projectInitials(tt.name); got != tt.want {
			t.Errorf("projectInitials(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRedirectPolicy(t *testing.T) {
	p := newRedirectPolicy("https://users.example.com", []string{"https://App.Example.com/", "not a url", "ftp://files.example.com"})
	for _, tt := range []struct{ in, want string }{
		{"/app", "/app"},
		{"/app/x?y=1#z", "/app/x?y=1#z"},
		{"https://users.example.com/dash", "https://users.example.com/dash"},
		{"https://app.example.com/home", "https://app.example.com/home"},
		{"HTTPS://APP.EXAMPLE.COM/home", "HTTPS://APP.EXAMPLE.COM/home"},
		{"http://app.example.com/home", ""}, // another scheme is another origin
		{"https://app.example.com:8443/", ""},
		{"https://evil.example/", ""},
		{"https://app.example.com.evil.example/", ""},
		{"https://user@app.example.com/", ""},
		{"//evil.example/x", ""},
		{"/\\evil.example", ""},
		{"\\\\evil.example", ""},
		{"/ /evil", ""},
		{"/\t/evil.example", ""},
		{"javascript:alert(1)", ""},
		{"ftp://files.example.com/x", ""},
		{"app", ""},
		{"", ""},
		{"/" + strings.Repeat("a", maxRedirectLength), ""},
	} {
		if got := p.check(tt.in); got != tt.want {
			t.Errorf("check(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedirectPolicy: whatever comes in, what comes out is nothing, a
// path on this site, or a URL on an allowed origin.
func FuzzRedirectPolicy(f *testing.F) {
	for _, s := range []string{"/app", "//evil", "/\\evil", "https://app.example.com/x", "https://evil.example", "javascript:x", "/%2F%2Fevil", "http:/evil", "/.//evil"} {
		f.Add(s)
	}
	p := newRedirectPolicy("https://users.example.com", []string{"https://app.example.com"})
	f.Fuzz(func(t *testing.T, in string) {
		out := p.check(in)
		if out == "" {
			return
		}
		if out != in {
			t.Fatalf("check(%q) = %q: changed", in, out)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("check(%q) passed an unparsable URL", in)
		}
		// Resolved against this site, as a browser does.
		base, _ := url.Parse("https://users.example.com/login")
		abs := base.ResolveReference(u)
		origin := strings.ToLower(abs.Scheme + "://" + abs.Host)
		if origin != "https://users.example.com" && origin != "https://app.example.com" {
			t.Fatalf("check(%q) leads to %s", in, origin)
		}
		if strings.ContainsAny(out, "\\\t\r\n ") {
			t.Fatalf("check(%q) kept a character browsers rewrite", in)
		}
	})
}

// FuzzCSRFToken: only the token made for a binding is valid for it.
func FuzzCSRFToken(f *testing.F) {
	keys := newCSRFKeys(usermgmt.Config{JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), JWTPreviousSecrets: [][]byte{[]byte("previous-secret-of-32-bytes-long!!")}})
	good := keys.token("form", "nonce")
	f.Add("nonce", good)
	f.Add("nonce", good+"x")
	f.Add("", "")
	f.Add("other", good)
	f.Fuzz(func(t *testing.T, binding, got string) {
		want := binding != "" && (got == csrfMAC(keys[0], "form", binding) || got == csrfMAC(keys[1], "form", binding))
		if ok := keys.valid("form", binding, got); ok != want {
			t.Fatalf("valid(%q, %q) = %v, want %v", binding, got, ok, want)
		}
		if keys.valid("session", binding, got) && keys.valid("form", binding, got) {
			t.Fatalf("one token valid for two purposes")
		}
	})
}

// FuzzPageFlow checks the parser of the page-flow cookie: no panic, and
// only a value made for that flow cookie and an allowed target passes.
func FuzzPageFlow(f *testing.F) {
	p := &pages{
		jar:       &cookieJar{keys: newCSRFKeys(usermgmt.Config{JWTSecret: []byte("test-secret-of-at-least-32-bytes!!")})},
		redirects: newRedirectPolicy("https://users.example.com", []string{"https://app.example.com"}),
	}
	flow := "Zmxvdy1jb29raWUtdmFsdWUtb2YtdGhpcnR5LXR3by1ieXRlcw"
	for _, target := range []string{"/login", "/app?x=1", "https://app.example.com/home", "https://evil.example/", "//evil.example", ""} {
		f.Add(p.pageFlowValue(flow, target), flow)
		f.Add(p.pageFlowValue(flow, target), flow+"x")
	}
	f.Add("x.%%%", flow)
	f.Add(".", "")
	f.Fuzz(func(t *testing.T, value, flowCookie string) {
		target, ok := p.pageFlow(value, flowCookie)
		if !ok {
			if target != "" {
				t.Fatalf("refused value gave target %q", target)
			}
			return
		}
		if target == "" || p.redirects.check(target) != target {
			t.Fatalf("accepted a target that is not allowed: %q", target)
		}
		mac, _, _ := strings.Cut(value, ".")
		want, _, _ := strings.Cut(p.pageFlowValue(flowCookie, target), ".")
		if mac != want {
			t.Fatalf("accepted %q for flow %q with another MAC", value, flowCookie)
		}
	})
	// A value made for one flow cookie and target round-trips.
	if target, ok := p.pageFlow(p.pageFlowValue(flow, "/app?x=1"), flow); !ok || target != "/app?x=1" {
		f.Fatalf("round trip: %q %v", target, ok)
	}
}

func TestProviderName(t *testing.T) {
	p := &pages{named: map[string]string{"corp": "Corp Login"}}
	for key, want := range map[string]string{
		"github": "GitHub", "oidc": "single sign-on", "corp": "Corp Login", "my-idp": "My Idp", "acme_id": "Acme Id", "x": "X", "_": "_",
	} {
		if got := p.providerName(key); got != want {
			t.Errorf("providerName(%q) = %q, want %q", key, got, want)
		}
	}
}
