package usermgmt

import (
	"net/url"
	"path"
	"strings"
)

// AllowedRedirect reports whether the service may send a browser to
// target: a path on this site ("/profile", never "//host" or "/\host"), or
// an absolute http(s) URL under FrontendURL, BaseURL or an entry of
// RedirectAllowList (same scheme and host, and the entry's path as a
// prefix at a segment boundary). Anything with credentials, control
// characters or backslashes is refused.
func (m *Manager) AllowedRedirect(target string) bool {
	if target == "" || len(target) > 2048 || strings.ContainsAny(target, "\\\x00\r\n\t") {
		return false
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Opaque != "" {
		return false
	}
	// A path with dot segments ("/cb/../admin", "%2e%2e" included) would
	// leave an allowed prefix once the browser resolves it.
	if u.Path != "" && path.Clean(u.Path) != u.Path && path.Clean(u.Path)+"/" != u.Path {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "//")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	allowed := append([]string{m.cfg.FrontendURL, m.cfg.BaseURL}, m.cfg.RedirectAllowList...)
	for _, a := range allowed {
		au, err := url.Parse(a)
		if a == "" || err != nil || au.Host == "" {
			continue
		}
		if !strings.EqualFold(au.Scheme, u.Scheme) || !strings.EqualFold(au.Host, u.Host) {
			continue
		}
		prefix := strings.TrimRight(au.Path, "/")
		if prefix == "" || u.Path == prefix || strings.HasPrefix(u.Path, prefix+"/") {
			return true
		}
	}
	return false
}
