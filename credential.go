package usermgmt

import (
	"context"
	"net/http"
	"sort"
)

// Credentials other than the Manager's access tokens (API keys) are a
// feature's: a feature that implements CredentialAuthenticator is handed
// every credential Manager.Authenticate is given before the access-token
// check, and answers for those of its kind. The Principal it returns
// carries a Credential, whose scopes Authorize enforces on a context that
// ContextWithCaller prepared (httpadapter does it for every authenticated
// route and for its middleware).

// A CredentialAuthenticator is a feature that authenticates a credential
// of its own kind. handled is false, and the other results nil, for a
// credential that is not of its kind (it must decide that from the
// credential's shape alone, cheaply: every access token passes by it).
type CredentialAuthenticator interface {
	AuthenticateCredential(ctx context.Context, credential string) (p *Principal, handled bool, err error)
}

// Credential describes the credential a Principal was authenticated by
// when it is not an access token of a session.
type Credential struct {
	// Kind names the kind of credential ("api_key").
	Kind string
	// ID names the credential (the API key's ID).
	ID string
	// Scopes are the permissions, as "resource:action" pairs of the policy,
	// the credential is limited to: within the owner's own permissions,
	// Authorize grants only these.
	Scopes []string
}

// Allows reports whether the credential's scopes include resource:action.
func (c *Credential) Allows(resource, action string) bool {
	for _, s := range c.Scopes {
		if len(s) == len(resource)+1+len(action) && s[:len(resource)] == resource &&
			s[len(resource)] == ':' && s[len(resource)+1:] == action {
			return true
		}
	}
	return false
}

// Errors of restricted credentials.
var (
	// ErrInsufficientScope refuses an action outside a credential's scopes.
	ErrInsufficientScope = newError(http.StatusForbidden, "insufficient_scope", "The credential's scopes do not allow this action.")
	// ErrSessionRequired refuses, to a credential that is not a signed-in
	// session (an API key), what only a session may do: manage passwords,
	// second factors, sessions and API keys.
	ErrSessionRequired = newError(http.StatusForbidden, "session_required", "This action needs a signed-in session; an API key cannot do it.")
	// ErrInvalidAPIKey refuses what was sent where only an API key is
	// taken (httpadapter's X-API-Key) and is not a valid one: a
	// session's access token included. The API-key feature answers its own
	// invalid keys with the same code.
	ErrInvalidAPIKey = newError(http.StatusUnauthorized, "invalid_api_key", "Invalid, revoked or expired API key.")
)

// AuthenticateAPIKey is Authenticate for a feature's credential alone (an
// API key): it hands key to the features that authenticate credentials
// (CredentialAuthenticator) and never takes a session's access token.
// A credential no feature recognises, an access token included, is
// ErrInvalidAPIKey.
func (m *Manager) AuthenticateAPIKey(ctx context.Context, key string) (*Principal, error) {
	for _, ca := range m.credentials {
		if p, handled, err := ca.AuthenticateCredential(ctx, key); handled {
			return p, err
		}
	}
	return nil, ErrInvalidAPIKey
}

// CredentialFrom returns the credential of the caller of ctx
// (ContextWithCaller), false for a session's own access token.
func CredentialFrom(ctx context.Context) (*Credential, bool) {
	if p := callerFrom(ctx); p != nil && p.Credential != nil {
		return p.Credential, true
	}
	return nil, false
}

// RequireSession returns ErrSessionRequired when the caller of ctx
// (ContextWithCaller) holds a feature's credential: what only a signed-in
// session may do calls it first.
func RequireSession(ctx context.Context) error {
	if _, ok := CredentialFrom(ctx); ok {
		return ErrSessionRequired
	}
	return nil
}

// Permissions returns the policy's "resource:action" pairs, those of any
// role, sorted: the scope names a restricted credential may carry.
func (p *Policy) Permissions() []string {
	seen := map[string]bool{}
	for _, resources := range p.roles {
		for res, actions := range resources {
			for act := range actions {
				seen[res+":"+act] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// credentialAuthenticators returns the features that authenticate
// credentials, in order.
func credentialAuthenticators(fs []Feature) []CredentialAuthenticator {
	var out []CredentialAuthenticator
	for _, f := range fs {
		if ca, ok := f.(CredentialAuthenticator); ok {
			out = append(out, ca)
		}
	}
	return out
}
