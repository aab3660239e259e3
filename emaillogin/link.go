package emaillogin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

// SignIn is the result of a magic link opened: the session's tokens, the
// account, and where the link's request asked to land ("" for nowhere in
// particular). Tokens is nil when the answer is an error, the second step
// of two-factor login included (an *usermgmt.OTPChallengeError).
type SignIn struct {
	Tokens      *usermgmt.Tokens
	User        *usermgmt.User
	RedirectURI string
	// Created is true when the link made the account (Config.SignUp).
	Created bool
}

// RequestLink asks for a magic link to be mailed to email, to land at
// redirectURI ("" for Config.LinkURL) once opened. It answers nil, at
// once, whether or not the address has an account: the mail is prepared
// in the background (see the package doc). Only a malformed address
// (usermgmt.ErrInvalidEmail) and a redirectURI outside the allow-list
// (ErrRedirectNotAllowed) are refused, before any lookup.
func (f *EmailLogin) RequestLink(ctx context.Context, email, redirectURI string) error {
	if f.cfg.DisableLinks {
		return ErrLinksDisabled
	}
	addr, err := usermgmt.NormalizeEmail(email)
	if err != nil {
		return err
	}
	if redirectURI != "" && !f.m.AllowedRedirect(redirectURI) {
		return ErrRedirectNotAllowed
	}
	f.enqueue(ctx, MailMagicLink, func(ctx context.Context) error { return f.sendLink(ctx, addr, "", redirectURI) })
	return nil
}

// sendLink is the background half of RequestLink (and of PageRequestLink,
// whose landing, with "{token}", is the mailed link instead).
func (f *EmailLogin) sendLink(ctx context.Context, addr, landing, redirectURI string) error {
	if !f.m.HasMailer() {
		return nil
	}
	u, err := f.m.UserByLogin(ctx, addr)
	name := MailMagicLink
	switch {
	case errors.Is(err, usermgmt.ErrUserNotFound):
		if !f.cfg.SignUp {
			return nil
		}
		u, name = &usermgmt.User{Username: addr, Email: addr}, MailMagicLinkSignUp
	case err != nil:
		return err
	case !u.IsActive || u.Email != addr:
		return nil
	}
	raw, err := f.random(tokenBytes)
	if err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	link := strings.ReplaceAll(landing, "{token}", url.QueryEscape(token))
	if landing == "" {
		if link, err = f.linkTo(redirectURI, token); err != nil {
			return err
		}
	}
	if err := f.put(ctx, secretstore.KindLink, addr, u.UUID, hashToken(token), redirectURI, f.cfg.LinkTTL); err != nil {
		return err
	}
	if u.UUID != "" {
		if err := f.m.AppendAudit(ctx, f.m.Store(), usermgmt.AuditEntry{SubjectUUID: u.UUID, Action: AuditLinkSent}); err != nil {
			return err
		}
	}
	return f.send(ctx, u, name, link, "", f.cfg.LinkTTL)
}

// linkTo is the mailed link: redirectURI with the token added to its
// query, or Config.LinkURL.
func (f *EmailLogin) linkTo(redirectURI, token string) (string, error) {
	if redirectURI == "" {
		return strings.ReplaceAll(f.cfg.LinkURL, "{token}", url.QueryEscape(token)), nil
	}
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "", fmt.Errorf("emaillogin: redirect_uri: %w", err)
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	if u.Scheme == "" { // a path on this site
		return strings.TrimRight(f.m.Config().FrontendURL, "/") + u.String(), nil
	}
	return u.String(), nil
}

// put stores a new secret of kind for addr, voiding its older one.
func (f *EmailLogin) put(ctx context.Context, kind, addr, userUUID string, hash []byte, redirectURI string, ttl time.Duration) error {
	st, err := f.store()
	if err != nil {
		return err
	}
	id, err := f.randomID()
	if err != nil {
		return err
	}
	now := f.now()
	return st.PutSecret(ctx, &secretstore.Secret{ID: id, Kind: kind, Email: addr, UserUUID: userUUID, Hash: hash,
		RedirectURI: redirectURI, CreatedAt: now, ExpiresAt: now.Add(ttl)})
}

// hashToken is the stored hash of a link's token.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// parseToken checks the shape of a link's token (43 characters of
// base64url), so that nothing else reaches the store.
func parseToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == tokenBytes
}

// VerifyLink signs in with a magic link's token: the link is spent, the
// address marked verified, and the session opened with the login rules
// (usermgmt.Manager.SignIn): an inactive account gets its reason, and an
// account with two-factor login the OTP-REQUIRED challenge
// (*usermgmt.OTPChallengeError), which Manager.LoginOTP completes. A token
// that is malformed, unknown, used, voided or expired is ErrLinkInvalid,
// and a malformed one reaches no store. With Config.SignUp, a sign-up
// link creates its account first.
func (f *EmailLogin) VerifyLink(ctx context.Context, token string) (*SignIn, error) {
	res, err := f.verifyLink(ctx, token)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// verifyLink is VerifyLink, whose result keeps the link's RedirectURI
// beside an error once the link is spent (the second step of two-factor
// login goes there too).
func (f *EmailLogin) verifyLink(ctx context.Context, token string) (*SignIn, error) {
	if f.cfg.DisableLinks {
		return nil, ErrLinksDisabled
	}
	if !parseToken(token) {
		return nil, ErrLinkInvalid
	}
	st, err := f.store()
	if err != nil {
		return nil, err
	}
	hash := hashToken(token)
	s, err := st.TakeSecretByHash(ctx, secretstore.KindLink, hash, f.now())
	if errors.Is(err, usermgmt.ErrNotFound) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(s.Hash, hash) != 1 {
		return nil, ErrLinkInvalid
	}
	res := &SignIn{RedirectURI: s.RedirectURI}
	if s.UserUUID == "" {
		if !f.cfg.SignUp {
			return nil, ErrLinkInvalid
		}
		res.User, res.Created, err = f.signUp(ctx, s.Email)
	} else {
		res.User, err = f.m.User(ctx, s.UserUUID)
		if errors.Is(err, usermgmt.ErrUserNotFound) {
			return nil, ErrLinkInvalid
		}
	}
	if err != nil {
		return nil, err
	}
	res.Tokens, res.User, err = f.signIn(ctx, res.User, s.Email, MethodMagicLink)
	return res, err
}

// signIn finishes a sign-in whose mailed secret, sent to addr, was right:
// the address must still be the account's; it is marked verified (the
// mailbox is proven) unless the account is inactive; then the login rules.
func (f *EmailLogin) signIn(ctx context.Context, u *usermgmt.User, addr, method string) (*usermgmt.Tokens, *usermgmt.User, error) {
	if u.Email != addr {
		if method == MethodMagicLink {
			return nil, nil, ErrLinkInvalid
		}
		return nil, nil, ErrCodeInvalid
	}
	if u.IsActive && !u.EmailVerified {
		yes := true
		v, err := f.m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{EmailVerified: &yes})
		if err != nil {
			return nil, nil, err
		}
		u = v
	}
	t, err := f.m.SignIn(ctx, u, method, false)
	return t, u, err
}
