package usermgmt

import "context"

type callerKey struct{}

// ContextWithCaller returns ctx carrying what the Manager's rules need to
// know of the authenticated caller p beyond the user: who impersonates them
// (Principal.Impersonator, see impersonation.go) and the feature's
// credential that limits them (Principal.Credential, an API key's scopes,
// see credential.go). httpadapter calls it for every authenticated
// request; a host that calls Authenticate itself passes the context it
// returns to the Manager's methods. A nil p, or a caller with their own
// session's access token (neither impersonated nor limited), leaves ctx as
// it is.
func ContextWithCaller(ctx context.Context, p *Principal) context.Context {
	if p == nil || (p.Impersonator == "" && p.Credential == nil) {
		return ctx
	}
	return context.WithValue(ctx, callerKey{}, p)
}

// callerFrom returns the caller ContextWithCaller put on ctx, nil for none.
func callerFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(callerKey{}).(*Principal)
	return p
}
