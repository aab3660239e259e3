package usermgmt

import (
	"context"
	"net/http"
)

// Impersonation in the core. An admin's impersonation of a user (the
// impersonate package) is a session opened with ActingParty: its access
// token carries act {"sub": <admin>}, and Authenticate reads it into
// Principal.Impersonator. The HTTP layer hands the caller to the Manager
// with ContextWithCaller, and from then on the rules below hold for
// every call made with that context, over HTTP or not:
//
//   - the changes that take over an account (its password, email, second
//     factor, the account's deletion, and those a feature names: passkeys,
//     API keys) are refused with ErrImpersonated, through
//     RefuseImpersonated;
//   - every audit entry written records the impersonator
//     (AuditEntry.ImpersonatorUUID).

// ErrImpersonated (403 impersonation_forbidden) refuses a change that a
// user must make themself while an admin impersonates them.
var ErrImpersonated = newError(http.StatusForbidden, "impersonation_forbidden",
	"This change cannot be made while impersonating the user.")

// Impersonator returns the UUID of the admin impersonating the caller of
// ctx (see ContextWithCaller), "" when the caller acts for themself: the
// question "is this actor impersonated?" that features ask.
func Impersonator(ctx context.Context) string {
	if p := callerFrom(ctx); p != nil {
		return p.Impersonator
	}
	return ""
}

// RefuseImpersonated returns ErrImpersonated when the caller of ctx is
// impersonated, nil otherwise. The Manager calls it before a password,
// email, second-factor or account-deletion change; a feature calls it
// before a change of the same kind (a passkey, an API key).
func RefuseImpersonated(ctx context.Context) error {
	if Impersonator(ctx) != "" {
		return ErrImpersonated
	}
	return nil
}
