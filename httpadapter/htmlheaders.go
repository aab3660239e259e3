package httpadapter

import (
	"net/http"
	"strings"
)

// setHTMLSecurityHeaders gives an HTML answer the security headers every
// HTML answer of the adapter carries, the hosted pages' and the
// documentation's alike: no MIME sniffing, no framing, the referrer kept to
// this origin, and csp as the Content-Security-Policy.
func setHTMLSecurityHeaders(hdr http.Header, csp string) {
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
}

// isHTML reports whether a Content-Type names HTML.
func isHTML(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html")
}

// redirectCSP is the policy of a redirect's one-link HTML body.
const redirectCSP = "default-src 'none'; frame-ancestors 'none'"

// redirectHTML is http.Redirect with the HTML security headers: for a GET
// or HEAD, http.Redirect answers a small HTML body.
func redirectHTML(w http.ResponseWriter, r *http.Request, target string, code int) {
	setHTMLSecurityHeaders(w.Header(), redirectCSP)
	http.Redirect(w, r, target, code)
}
