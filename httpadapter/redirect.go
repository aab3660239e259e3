package httpadapter

import (
	"net/url"
	"strings"
)

// maxRedirectLength bounds a redirect_uri.
const maxRedirectLength = 2048

// redirectPolicy decides where the pages may send a browser after login:
// a path on this site, or a URL on an allowed origin. Anything else (other
// sites, scheme-relative "//host" paths, backslashes that browsers read as
// slashes, javascript: and other schemes, control characters) is refused,
// so the pages are no open redirect.
type redirectPolicy struct {
	origins []string // "scheme://host[:port]", lower-cased
}

// newRedirectPolicy allows baseURL's origin and the origins listed.
func newRedirectPolicy(baseURL string, origins []string) redirectPolicy {
	var p redirectPolicy
	for _, o := range append([]string{baseURL}, origins...) {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		p.origins = append(p.origins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return p
}

// check returns target when it may be redirected to, "" otherwise.
func (p redirectPolicy) check(target string) string {
	if target == "" || len(target) > maxRedirectLength {
		return ""
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Opaque != "" {
		return ""
	}
	if strings.HasPrefix(target, "/") {
		if strings.HasPrefix(target, "//") || u.Scheme != "" || u.Host != "" {
			return ""
		}
		return target
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return ""
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, o := range p.origins {
		if o == origin {
			return target
		}
	}
	return ""
}
