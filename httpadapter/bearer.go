package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// authenticator resolves a request's caller through the Manager.
type authenticator struct {
	m       *usermgmt.Manager
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
	return &authenticator{m: m, jar: newCookieJar(m), origins: cop}
}

// authenticate returns the caller, and r with a context that limits what
// is done as the caller to its credential's scopes
// (usermgmt.ContextWithCaller; r itself for a session's access token):
// ErrNotAuthenticated when the request carries no credentials, the
// Manager's 401 when they are not valid. A bearer token (an access token
// or a feature's credential) wins over X-API-Key (a feature's credential
// only: anything else is usermgmt.ErrInvalidAPIKey) and the session
// cookies. A caller authenticated by cookie with
// an unsafe method must pass the CSRF check (errCSRF otherwise); an
// expired access cookie is renewed through the refresh cookie, and the new
// cookies are set on w. On a route only a session may use (sessionOnly),
// a feature's credential (an API key) is refused with
// usermgmt.ErrSessionRequired.
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request) (*usermgmt.Principal, *http.Request, error) {
	p, ctx, err := a.caller(w, r)
	if err != nil {
		return nil, r, err
	}
	if ctx != r.Context() {
		r = r.WithContext(ctx)
	}
	return p, r, nil
}

// caller is authenticate answering the limited context instead of a copy
// of r carrying it, for the routes' hot path.
func (a *authenticator) caller(w http.ResponseWriter, r *http.Request) (*usermgmt.Principal, context.Context, error) {
	p, err := a.resolve(w, r)
	if err != nil {
		return nil, nil, err
	}
	if p.Credential != nil {
		if sessionOnly(r) {
			return nil, nil, usermgmt.ErrSessionRequired
		}
		return p, usermgmt.ContextWithCaller(r.Context(), p), nil
	}
	return p, r.Context(), nil
}

// resolve finds the request's credentials and resolves them to a caller:
// the bearer header's, then X-API-Key's, then the session cookies'.
func (a *authenticator) resolve(w http.ResponseWriter, r *http.Request) (*usermgmt.Principal, error) {
	if token, ok := bearerToken(r); ok {
		return a.m.Authenticate(r.Context(), token)
	}
	if key, ok := apiKeyHeader(r); ok {
		return a.m.AuthenticateAPIKey(r.Context(), key)
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

// APIKeyHeader is the header an API key may be sent in, instead of
// "Authorization: Bearer". It takes API keys (a feature's credential)
// only, never an access token.
const APIKeyHeader = "X-API-Key"

// apiKeyHeader reads "X-API-Key: <key>", without surrounding spaces.
func apiKeyHeader(r *http.Request) (string, bool) {
	k := strings.Trim(r.Header.Get(APIKeyHeader), " \t")
	return k, k != ""
}

// sessionOnlyRoutes names the core's routes that only a signed-in session
// may call, never an API key: they manage the account's passwords, second
// factors, sessions and ways in, or export all of it. A feature's route says it with
// Route.SessionOnly.
var sessionOnlyRoutes = map[string]bool{
	"logout": true, "read_sessions": true, "revoke_session": true,
	"change_otp_method": true, "get_otp_qr": true, "otp_setup": true, "send_email_otp": true,
	"change_password": true, "reset_password_reset": true, "request_password_request": true,
	"oauth_link": true, "oauth_link_url": true, "oauth_unlink": true, "oauth_revoke": true,
	// Everything stored about the caller, which no scope names.
	"read_users_me_export": true,
}

type sessionOnlyKey struct{}

// markSessionOnly marks the requests of a route only a session may call.
func markSessionOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionOnlyKey{}, true)))
	})
}

func sessionOnly(r *http.Request) bool {
	v, _ := r.Context().Value(sessionOnlyKey{}).(bool)
	return v
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
