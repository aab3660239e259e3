package httpadapter

import (
	"context"
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// Middleware for the host's own routes: guard them with the library's
// authentication and access policy, answering with the same JSON errors.
//
//	mux.Handle("/", httpadapter.New(m, httpadapter.Options{}))
//	mux.Handle("GET /app/dashboard", httpadapter.RequireAuth(m)(dashboard))
//
// Inside the guarded handler, CurrentUser and CurrentPrincipal return the
// caller.

type principalKey struct{}

// withPrincipal returns ctx carrying p for CurrentPrincipal, and for the
// Manager's rules (usermgmt.ContextWithCaller: an impersonated caller).
func withPrincipal(ctx context.Context, p *usermgmt.Principal) context.Context {
	return usermgmt.ContextWithCaller(context.WithValue(ctx, principalKey{}, p), p)
}

// CurrentPrincipal returns the authenticated caller that RequireAuth,
// RequireRole or RequirePermission put on ctx.
func CurrentPrincipal(ctx context.Context) (*usermgmt.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*usermgmt.Principal)
	return p, ok && p != nil
}

// CurrentUser returns the authenticated user that RequireAuth, RequireRole
// or RequirePermission put on ctx. It is shared: read it, never modify it.
func CurrentUser(ctx context.Context) (*usermgmt.User, bool) {
	p, ok := CurrentPrincipal(ctx)
	if !ok {
		return nil, false
	}
	return p.User(), true
}

// guard authenticates the caller (reusing the principal an outer guard
// found), checks it with allowed, and calls next with the principal on the
// context. When the context carries no usermgmt.ClientInfo (the host's
// routes do not pass through New's middleware), guard attaches the socket
// peer's IP and the User-Agent, so that the Manager calls the host makes
// with this context audit where they came from. X-Forwarded-For is not
// read here: guard does not know the host's proxies; a host behind a proxy
// attaches its own ClientInfo before the guard.
func guard(m *usermgmt.Manager, allowed func(ctx context.Context, p *usermgmt.Principal) error) func(http.Handler) http.Handler {
	if allowed == nil {
		return guardContext(m, nil)
	}
	return guardContext(m, func(r *http.Request, p *usermgmt.Principal) (context.Context, error) {
		return r.Context(), allowed(r.Context(), p)
	})
}

// RequireCheck returns a middleware that authenticates the caller as
// RequireAuth does, then runs check with the request (the principal on its context)
// and the principal: an error answers as the library's errors do (its
// status and code), and the context check returns is the one next sees.
// A feature builds its own guards on it (org.RequireOrgRole).
func RequireCheck(m *usermgmt.Manager, check func(r *http.Request, p *usermgmt.Principal) (context.Context, error)) func(http.Handler) http.Handler {
	return guardContext(m, check)
}

// guardContext is guard whose check may hand next another context.
func guardContext(m *usermgmt.Manager, check func(r *http.Request, p *usermgmt.Principal) (context.Context, error)) func(http.Handler) http.Handler {
	log := m.Config().Logger
	auth := newAuthenticator(m)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if usermgmt.ClientInfoFrom(r.Context()) == (usermgmt.ClientInfo{}) {
				ci := usermgmt.ClientInfo{IP: clientIP(r, nil), UserAgent: r.UserAgent()}
				r = r.WithContext(usermgmt.WithClientInfo(r.Context(), ci))
			}
			ctx := r.Context()
			p, ok := CurrentPrincipal(ctx)
			if !ok {
				var err error
				if p, r, err = auth.authenticate(w, r); err != nil {
					writeError(w, r, log, err)
					return
				}
				ctx = withPrincipal(r.Context(), p)
				r = r.WithContext(ctx)
			}
			if check != nil {
				ctx, err := check(r, p)
				if err != nil {
					writeError(w, r, log, err)
					return
				}
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireAuth lets through requests with a valid access token, as a bearer
// header or the hosted pages' session cookie, or a feature's credential
// (an API key, as a bearer header or X-API-Key, whose scopes then limit
// the Manager calls made with the request's context) (401 otherwise). A request
// authenticated by cookie with an unsafe method must also pass the CSRF
// check (403 csrf_failed otherwise); an expired access cookie is renewed
// through the refresh cookie.
func RequireAuth(m *usermgmt.Manager) func(http.Handler) http.Handler {
	return guard(m, nil)
}

// RequireRole lets through authenticated callers having any of roles (401
// without a valid token, 403 without the role).
func RequireRole(m *usermgmt.Manager, roles ...string) func(http.Handler) http.Handler {
	return guard(m, func(_ context.Context, p *usermgmt.Principal) error {
		u := p.User()
		for _, r := range roles {
			if u.HasRole(r) {
				return nil
			}
		}
		return usermgmt.ErrForbidden
	})
}

// RequirePermission lets through authenticated callers whom the Manager's
// policy grants action on resource, with no particular target (401 without
// a valid token, 403 when the policy refuses).
func RequirePermission(m *usermgmt.Manager, resource, action string) func(http.Handler) http.Handler {
	return guard(m, func(ctx context.Context, p *usermgmt.Principal) error {
		return m.Authorize(ctx, usermgmt.AccessRequest{Actor: p.User(), Resource: resource, Action: action})
	})
}
