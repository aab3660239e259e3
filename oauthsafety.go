package usermgmt

import (
	"context"
	"errors"
	"log/slog"

	"github.com/usermgmt/usermgmt/oauth"
)

// The safety rules of third-party login: which local accounts a
// provider's verified email may link to on its own, the check of the
// issuer an authorization response names, and the log line that says why
// a provider login was refused.

// Reasons an email match does not link by itself, logged (never sent).
var (
	errLinkingOff        = errors.New("email linking is turned off (Config.OAuthNoEmailLinking)")
	errLinkPrivileged    = errors.New("the local account holds a privileged role")
	errLinkSecondFactor  = errors.New("the local account has a second factor")
	errIssuerUnavailable = errors.New("the provider's issuer cannot be read")
)

// emailLinkRefusal decides whether the local account u, whose email a
// provider account of provider claims (verified), may be linked to it
// without its owner signed in. It may not when linking by email is off,
// when u holds a privileged role (admin, moderator), or when u has a
// second factor: a provider account that merely claims the address would
// otherwise become that account, past its second factor. Those accounts
// link from a signed-in session (the link flow). Every refusal answers
// alike (ErrEmailTaken), so the answer does not tell which accounts are
// privileged; the reason is logged.
func (m *Manager) emailLinkRefusal(u *User, provider string) error {
	var reason error
	switch {
	case m.cfg.OAuthNoEmailLinking:
		reason = errLinkingOff
	case privileged(u.Roles):
		reason = errLinkPrivileged
	case u.OTPMethod != "" && u.OTPMethod != OTPNone:
		reason = errLinkSecondFactor
	default:
		return nil
	}
	return ErrEmailTaken.WithMessage("An account with this email exists: log in to it and link your " + provider + " account.").Wrap(reason)
}

// checkIssuer checks the iss parameter of the authorization response
// against the provider's issuer (oauth.CheckIssuer).
func (m *Manager) checkIssuer(ctx context.Context, p oauth.Provider, iss string) error {
	err := oauth.CheckIssuer(m.oauthCtx(ctx), p, iss)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, oauth.ErrIssuer):
		return ErrOAuthFailed.WithMessage("The login answer did not come from the provider it was sent to; start the login again.").Wrap(err)
	}
	return ErrOAuthProfile.WithMessage("The provider is unavailable.").Wrap(errors.Join(errIssuerUnavailable, err))
}

// logOAuthRefusal logs at INFO why a provider login ended without a
// session: the error's code and its internal cause, never a code, token
// or secret (the causes carry none). A second-factor challenge is not a
// refusal.
func (m *Manager) logOAuthRefusal(ctx context.Context, provider string, err error) {
	var challenge *OTPChallengeError
	if errors.As(err, &challenge) {
		return
	}
	attrs := []any{"provider", cleanText(provider, 64), "reason", err.Error()}
	var e *Error
	if errors.As(err, &e) {
		attrs = append(attrs, "code", e.Code)
	}
	m.log.Log(ctx, slog.LevelInfo, "usermgmt: provider login refused", attrs...)
}
