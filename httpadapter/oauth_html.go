package httpadapter

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
)

// callbackPage writes the reference's answer to a provider login (see
// Options.OAuthCallbackHTML): a page whose one script stores the access
// token as localStorage.auth_token ("bearer <jwt>", as the reference's
// front ends read it) and replaces itself with target, "/" when empty.
// target is the flow's redirect_uri, which BeginOAuth checked against the
// allow-list. The values are JSON-encoded into the script, with <, > and &
// escaped, so no value can end it; the Content-Security-Policy allows
// that script alone, by its hash.
func callbackPage(w http.ResponseWriter, t tokenResponse, target string) {
	if target == "" {
		target = "/"
	}
	token, _ := json.Marshal(t.TokenType + " " + t.AccessToken) // a string always marshals
	to, _ := json.Marshal(target)
	script := "localStorage.setItem(\"auth_token\", " + string(token) + ");location.replace(" + string(to) + ");"
	sum := sha256.Sum256([]byte(script))
	hdr := w.Header()
	setNoStore(hdr)
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	setHTMLSecurityHeaders(hdr, "default-src 'none'; script-src 'sha256-"+
		base64.StdEncoding.EncodeToString(sum[:])+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hdr.Set("Referrer-Policy", "no-referrer") // stricter than the pages': the page holds a token
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in</title></head>" +
		"<body><p>Signed in. <a href=\"" + html.EscapeString(target) + "\">Continue</a></p>" +
		"<script>" + script + "</script></body></html>\n"))
}
