package httpadapter

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// Browser sessions. A successful page login (or sign-up) stores the
// session's tokens in cookies, which every authenticated route of New and
// the guards (RequireAuth, RequireRole, RequirePermission) accept beside a
// bearer token:
//
//   - SessionCookie holds the access token (HttpOnly; it lives as long as
//     the token).
//   - RefreshCookie holds the refresh token (HttpOnly; it lives as long as
//     the session). When the access token is missing or expired, the
//     authenticator exchanges the refresh token (usermgmt.Manager.Refresh,
//     which lets parallel requests agree on one successor) and sets both
//     cookies anew: a browser session lasts as long as it is used.
//   - CSRFCookie holds the session's CSRF token, readable by scripts: a
//     request authenticated by cookie with an unsafe method (POST, PUT,
//     PATCH, DELETE) must pass the origin check (http.CrossOriginProtection)
//     and send that token in the X-CSRF-Token header, or it is refused with
//     403 csrf_failed. The token is an HMAC of the session ID under a key
//     derived from the JWT secret, so a cookie planted by a sibling domain
//     is useless without the session it belongs to.
//
// Every cookie is Path=/ and SameSite=Lax, and Secure when the request came
// over TLS or the Manager's BaseURL is https (TLS ended at a proxy). The
// refresh cookie is not path-limited: a path is no boundary between pages
// of one origin (RFC 6265, section 8.5), and any guarded route must be
// able to renew an expired access token. Being HttpOnly, neither token is
// ever visible to scripts.

// Names of the browser-session cookies and of the CSRF header.
const (
	SessionCookie = "usermgmt_session"
	RefreshCookie = "usermgmt_refresh"
	CSRFCookie    = "usermgmt_csrf"
	CSRFHeader    = "X-CSRF-Token"
	// formCookie holds the random nonce the pages' form tokens are bound
	// to before there is a session (login, sign-up).
	formCookie = "usermgmt_form"
)

// csrfKeys derive and check CSRF tokens. The first key signs; all verify,
// so that rotating the JWT secret (into JWTPreviousSecrets) breaks no
// token already handed out.
type csrfKeys [][]byte

func newCSRFKeys(cfg usermgmt.Config) csrfKeys {
	var keys csrfKeys
	for _, secret := range append([][]byte{cfg.JWTSecret}, cfg.JWTPreviousSecrets...) {
		k, err := hkdf.Key(sha256.New, secret, nil, "usermgmt csrf v1", 32)
		if err != nil { // unreachable: 32 bytes of SHA-256 HKDF never fail
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

func csrfMAC(key []byte, purpose, binding string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// token returns the CSRF token of purpose ("session" or "form") bound to
// binding (a session ID or a form nonce).
func (k csrfKeys) token(purpose, binding string) string {
	if len(k) == 0 || binding == "" {
		return ""
	}
	return csrfMAC(k[0], purpose, binding)
}

// valid reports whether got is the token of purpose bound to binding under
// any key, compared in constant time.
func (k csrfKeys) valid(purpose, binding, got string) bool {
	if binding == "" || got == "" || len(got) > 128 {
		return false
	}
	ok := false
	for _, key := range k {
		ok = hmac.Equal([]byte(csrfMAC(key, purpose, binding)), []byte(got)) || ok
	}
	return ok
}

// CSRFToken returns the token a request authenticated by the session
// cookie of p must send in the X-CSRF-Token header with an unsafe method.
// It is also in the CSRFCookie; a host that renders its own pages can put
// it in a meta tag instead.
func CSRFToken(m *usermgmt.Manager, p *usermgmt.Principal) string {
	return newCSRFKeys(m.Config()).token("session", p.SessionID)
}

// cookieJar writes the session cookies of one Manager's configuration.
type cookieJar struct {
	httpsBase bool // BaseURL is https: TLS may end at a proxy
	keys      csrfKeys
	sessionTT time.Duration
}

func newCookieJar(m *usermgmt.Manager) *cookieJar {
	cfg := m.Config()
	return &cookieJar{
		httpsBase: strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://"),
		keys:      newCSRFKeys(cfg),
		sessionTT: cfg.SessionTTL,
	}
}

// cookie returns a cookie of the jar's attributes; maxAge < 0 deletes it.
func (j *cookieJar) cookie(r *http.Request, name, value string, maxAge int, httpOnly bool) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: r.TLS != nil || j.httpsBase, SameSite: http.SameSiteLaxMode,
	}
}

// setSession stores a session's tokens in the browser.
func (j *cookieJar) setSession(w http.ResponseWriter, r *http.Request, t *usermgmt.Tokens) {
	session := int(j.sessionTT / time.Second)
	http.SetCookie(w, j.cookie(r, SessionCookie, t.AccessToken, max(1, t.ExpiresIn), true))
	http.SetCookie(w, j.cookie(r, RefreshCookie, t.RefreshToken, session, true))
	http.SetCookie(w, j.cookie(r, CSRFCookie, j.keys.token("session", t.SessionID), session, false))
}

// clearSession deletes the session cookies.
func (j *cookieJar) clearSession(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{SessionCookie, RefreshCookie, CSRFCookie} {
		http.SetCookie(w, j.cookie(r, name, "", -1, name != CSRFCookie))
	}
}

// cookieValue returns the value of the named cookie, "" when absent.
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// unsafeMethod reports whether a method may change state.
func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}
