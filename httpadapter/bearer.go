package httpadapter

import (
	"errors"
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// A credentialSource finds the caller's access token in a request; found is
// false when the request carries none of its kind. Bearer is the only
// header source; the session cookies (cookie.go) are tried after it.
type credentialSource func(r *http.Request) (token string, found bool)

// authenticator resolves a request's caller through the Manager.
type authenticator struct {
	m       *usermgmt.Manager
	sources []credentialSource
	jar     *cookieJar
	origins *http.CrossOriginProtection
}

// newAuthenticator returns the authenticator of m. trusted are the other
// origins whose cookie-authenticated requests pass the origin check (the
// CORS origins admitted with credentials).
func newAuthenticator(m *usermgmt.Manager, trusted ...string) *authenticator {
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		_ = cop.AddTrustedOrigin(o) // CORS options hold origins only; a malformed one is not trusted
	}
	return &authenticator{m: m, sources: []credentialSource{bearerToken}, jar: newCookieJar(m), origins: cop}
}

// authenticate returns the caller: ErrNotAuthenticated when the request
// carries no credentials, the Manager's 401 when they are not valid. A
// bearer token wins over the session cookies. A caller authenticated by
// cookie with an unsafe method must pass the CSRF check (errCSRF
// otherwise); an expired access cookie is renewed through the refresh
// cookie, and the new cookies are set on w.
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request) (*usermgmt.Principal, error) {
	for _, src := range a.sources {
		if token, ok := src(r); ok {
			return a.m.Authenticate(r.Context(), token)
		}
	}
	return a.fromCookies(w, r, true)
}

// cookieSession authenticates by the session cookies alone, leaving the
// CSRF check to the caller (the pages check their forms' own tokens).
func (a *authenticator) cookieSession(w http.ResponseWriter, r *http.Request) (*usermgmt.Principal, error) {
	return a.fromCookies(w, r, false)
}

// fromCookies authenticates by the session cookies, with the CSRF check of
// unsafe methods when csrf is set.
func (a *authenticator) fromCookies(w http.ResponseWriter, r *http.Request, csrf bool) (*usermgmt.Principal, error) {
	access, refresh := cookieValue(r, SessionCookie), cookieValue(r, RefreshCookie)
	if access == "" && refresh == "" {
		return nil, usermgmt.ErrNotAuthenticated
	}
	if csrf && unsafeMethod(r.Method) {
		if err := a.origins.Check(r); err != nil {
			return nil, errCSRF.Wrap(err)
		}
	}
	ctx := r.Context()
	var p *usermgmt.Principal
	var err error = usermgmt.ErrInvalidToken
	if access != "" {
		p, err = a.m.Authenticate(ctx, access)
	}
	if err != nil && errors.Is(err, usermgmt.ErrInvalidToken) && refresh != "" {
		// An expired (or missing) access token: renew the session.
		var t *usermgmt.Tokens
		if t, err = a.m.Refresh(ctx, refresh); err == nil {
			a.jar.setSession(w, r, t)
			p, err = a.m.Authenticate(ctx, t.AccessToken)
		}
	}
	if err != nil {
		if e := usermgmt.AsError(err); e.Status == http.StatusUnauthorized {
			a.jar.clearSession(w, r) // dead cookies: stop sending them
		}
		return nil, err
	}
	if csrf && unsafeMethod(r.Method) && !a.jar.keys.valid("session", p.SessionID, r.Header.Get(CSRFHeader)) {
		return nil, errCSRF
	}
	return p, nil
}

// bearerToken reads "Authorization: Bearer <token>".
func bearerToken(r *http.Request) (string, bool) {
	return parseBearer(r.Header.Get("Authorization"))
}

// parseBearer extracts the credentials of the Bearer scheme (RFC 6750) from
// an Authorization header value. The scheme is matched without regard to
// case and separated from the token by spaces; surrounding spaces and tabs
// are ignored. found is false for another scheme or an empty token; the
// token's syntax is left to the Manager, which refuses anything that is not
// a valid access token.
func parseBearer(h string) (token string, found bool) {
	h = strings.Trim(h, " \t")
	const scheme = "bearer"
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	token = strings.TrimLeft(h[len(scheme):], " ")
	return token, token != ""
}
