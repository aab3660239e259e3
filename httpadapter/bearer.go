package httpadapter

import (
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// A credentialSource finds the caller's access token in a request; found is
// false when the request carries none of its kind. Bearer is the only
// source today; a session cookie will sit beside it.
type credentialSource func(r *http.Request) (token string, found bool)

// authenticator resolves a request's caller through the Manager.
type authenticator struct {
	m       *usermgmt.Manager
	sources []credentialSource
}

func newAuthenticator(m *usermgmt.Manager) *authenticator {
	return &authenticator{m: m, sources: []credentialSource{bearerToken}}
}

// authenticate returns the caller: ErrNotAuthenticated when the request
// carries no credentials, the Manager's 401 when they are not valid.
func (a *authenticator) authenticate(r *http.Request) (*usermgmt.Principal, error) {
	for _, src := range a.sources {
		if token, ok := src(r); ok {
			return a.m.Authenticate(r.Context(), token)
		}
	}
	return nil, usermgmt.ErrNotAuthenticated
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
