package usermgmt

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/usermgmt/usermgmt/oauth"
)

// Third-party login: a flow begins (BeginOAuth) with a pending state row
// bound to the browser by a cookie, and finishes (FinishOAuth) by logging
// in the account linked to the provider's account, linking a local account
// of the same verified email, or creating an external-only account; or, in
// a link flow, by linking the provider's account to the user who began it.

// ExternalIdentity links a provider's account to a user.
type ExternalIdentity struct {
	// Provider and Subject identify the provider's account.
	Provider string
	Subject  string
	UserUUID string
	// Username, DisplayName, Email and PictureURL are the provider's
	// profile at the last login.
	Username    string
	DisplayName string
	Email       string
	PictureURL  string
	// Tokens are the provider's tokens, sealed (see Manager.ProviderToken).
	Tokens    []byte `json:"-"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OAuthState is a pending authorization flow, stored server-side.
type OAuthState struct {
	// StateHash is the SHA-256 of the state parameter (or of a link
	// ticket); CookieHash that of the browser's cookie, empty for a ticket.
	StateHash  []byte
	CookieHash []byte
	Provider   string
	// UserUUID, when set, makes the flow link the provider's account to
	// this user instead of logging in.
	UserUUID    string
	RedirectURI string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// OAuthStart begins a third-party login.
type OAuthStart struct {
	// Provider names a configured provider.
	Provider string
	// CallbackURL is where the provider sends the browser back (the
	// callback route, registered at the provider).
	CallbackURL string
	// RedirectURI, when set, is where the login ends (with the tokens in the
	// URL fragment); it must be allowed by Config.OAuthRedirectAllowList.
	RedirectURI string
	// Ticket, when set, is a link ticket from OAuthLinkTicket: the flow
	// links to the ticket's user and ends at the ticket's RedirectURI.
	Ticket string
	// TicketBinder is the ticket's binder (OAuthTicket.Binder), which the
	// browser that asked for the ticket holds: a ticket sent to someone
	// else cannot link their provider account to the ticket's user.
	TicketBinder string
	// UserUUID, when set, makes the flow link to this user, whom the
	// caller has authenticated (a cookie session, say).
	UserUUID string
}

// OAuthRedirect is where to send the browser to begin a flow, and the
// cookie value that binds the flow to the browser.
type OAuthRedirect struct {
	URL       string
	Cookie    string
	ExpiresAt time.Time
}

// OAuthCallback is what the provider sent back, with the browser's cookie.
type OAuthCallback struct {
	Provider    string
	CallbackURL string
	State       string
	Code        string
	// Error is the provider's error parameter (the user declined, ...).
	Error string
	// Issuer is the provider's iss parameter (RFC 9207), "" when it sent
	// none; when sent, it must name the provider's issuer.
	Issuer string
	Cookie string
}

// OAuthResult is a finished flow.
type OAuthResult struct {
	// Tokens are the new session's tokens; nil for a link flow.
	Tokens *Tokens
	// User is the user logged in or linked to.
	User *User
	// Identity is the provider's account, as linked.
	Identity *ExternalIdentity
	// Created reports a new external-only account; Linked a new link.
	Created bool
	Linked  bool
	// RedirectURI is where the flow was asked to end, "" for none.
	RedirectURI string
}

// OAuthProviders returns the names of the configured providers.
func (m *Manager) OAuthProviders() []string { return append([]string(nil), m.oauth.names...) }

// provider returns the configured provider of that name.
func (m *Manager) provider(name string) (oauth.Provider, error) {
	p, ok := m.oauth.providers[name]
	if !ok {
		return nil, ErrUnsupportedProvider
	}
	return p, nil
}

// oauthCtx makes the providers' requests go through the configured client.
func (m *Manager) oauthCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.cfg.OAuthHTTPClient)
}

// OAuthLinkTicket returns a one-time ticket, valid for OAuthStateTTL, that
// begins (through OAuthStart.Ticket) a flow linking the provider's account
// to the user: how a client holding only a bearer token sends a browser to
// link an account.
func (m *Manager) OAuthLinkTicket(ctx context.Context, userUUID, provider, redirectURI string) (*OAuthTicket, error) {
	if err := RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	if _, err := m.provider(provider); err != nil {
		return nil, err
	}
	if redirectURI != "" && !m.oauthRedirectAllowed(redirectURI) {
		return nil, ErrRedirectNotAllowed
	}
	ticket, err := m.newFlowSecret()
	if err != nil {
		return nil, err
	}
	binder, err := m.newFlowSecret()
	if err != nil {
		return nil, err
	}
	now := m.now()
	st := &OAuthState{StateHash: ticketHash(ticket), CookieHash: hashSecret(binder), Provider: provider, UserUUID: userUUID,
		RedirectURI: redirectURI, CreatedAt: now, ExpiresAt: now.Add(m.cfg.OAuthStateTTL)}
	if err := m.store.InsertOAuthState(ctx, st); err != nil {
		return nil, err
	}
	return &OAuthTicket{Ticket: ticket, Binder: binder, ExpiresAt: st.ExpiresAt}, nil
}

// OAuthTicket is a one-time link ticket. The Ticket goes into the URL the
// browser opens; the Binder must come back from the same browser (the
// HTTP adapter keeps it in an HttpOnly cookie set by the answer that gave
// the URL), so a link URL sent to another person links nothing.
type OAuthTicket struct {
	Ticket    string
	Binder    string
	ExpiresAt time.Time
}

// ticketHash is how a link ticket is stored: apart from flow states, so a
// ticket can never pass for the state of a callback.
func ticketHash(ticket string) []byte { return hashSecret("link-ticket\x00" + ticket) }

// BeginOAuth starts a flow: it stores the pending state and returns the
// provider's authorization URL with the cookie the browser must carry back.
func (m *Manager) BeginOAuth(ctx context.Context, in OAuthStart) (*OAuthRedirect, error) {
	p, err := m.provider(in.Provider)
	if err != nil {
		return nil, err
	}
	now := m.now()
	if _, err := m.store.DeleteExpiredOAuthStates(ctx, now); err != nil {
		m.log.WarnContext(ctx, "purge of expired oauth states failed", "err", err)
	}
	if in.Ticket != "" {
		if _, err := parseFlowSecret(in.Ticket); err != nil {
			return nil, err
		}
		t, err := m.store.TakeOAuthState(ctx, ticketHash(in.Ticket))
		if errors.Is(err, ErrNotFound) {
			return nil, ErrOAuthState
		}
		if err != nil {
			return nil, err
		}
		if len(t.CookieHash) == 0 || subtle.ConstantTimeCompare(t.CookieHash, hashSecret(in.TicketBinder)) != 1 ||
			t.Provider != in.Provider || !now.Before(t.ExpiresAt) || t.UserUUID == "" {
			return nil, ErrOAuthState
		}
		in.UserUUID, in.RedirectURI = t.UserUUID, t.RedirectURI
	}
	if in.RedirectURI != "" && !m.oauthRedirectAllowed(in.RedirectURI) {
		return nil, ErrRedirectNotAllowed
	}
	state, err := m.newFlowSecret()
	if err != nil {
		return nil, err
	}
	cookie, err := m.newFlowSecret()
	if err != nil {
		return nil, err
	}
	url, err := oauth.AuthCodeURL(m.oauthCtx(ctx), p, in.CallbackURL, state,
		m.oauth.flowDerived("pkce", cookie, state), m.oauth.flowDerived("nonce", cookie, state))
	if err != nil {
		return nil, ErrOAuthProfile.WithMessage("The provider is unavailable.").Wrap(err)
	}
	st := &OAuthState{StateHash: hashSecret(state), CookieHash: hashSecret(cookie), Provider: in.Provider,
		UserUUID: in.UserUUID, RedirectURI: in.RedirectURI, CreatedAt: now, ExpiresAt: now.Add(m.cfg.OAuthStateTTL)}
	if err := m.store.InsertOAuthState(ctx, st); err != nil {
		return nil, err
	}
	return &OAuthRedirect{URL: url, Cookie: cookie, ExpiresAt: st.ExpiresAt}, nil
}

// takeFlow consumes the pending flow of a callback and checks that it
// belongs to the browser (its cookie), the provider and the present.
func (m *Manager) takeFlow(ctx context.Context, cb OAuthCallback) (*OAuthState, error) {
	if _, err := parseFlowSecret(cb.State); err != nil {
		return nil, err
	}
	if _, err := parseFlowSecret(cb.Cookie); err != nil {
		return nil, err
	}
	st, err := m.store.TakeOAuthState(ctx, hashSecret(cb.State))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrOAuthState
	}
	if err != nil {
		return nil, err
	}
	if len(st.CookieHash) == 0 || subtle.ConstantTimeCompare(st.CookieHash, hashSecret(cb.Cookie)) != 1 ||
		st.Provider != cb.Provider || !m.now().Before(st.ExpiresAt) {
		return nil, ErrOAuthState
	}
	return st, nil
}

// FinishOAuth ends a flow at the callback: it consumes the pending state
// (once), checks the issuer the provider named (RFC 9207), exchanges the
// code (once: a refused exchange is not tried again with the spent code),
// reads the provider's profile and logs in (or, for a link flow, links).
// Why a login was refused is logged at INFO.
func (m *Manager) FinishOAuth(ctx context.Context, cb OAuthCallback) (*OAuthResult, error) {
	res, err := m.finishOAuth(ctx, cb)
	if err != nil {
		m.logOAuthRefusal(ctx, cb.Provider, err)
	}
	return res, err
}

func (m *Manager) finishOAuth(ctx context.Context, cb OAuthCallback) (*OAuthResult, error) {
	p, err := m.provider(cb.Provider)
	if err != nil {
		return nil, err
	}
	st, err := m.takeFlow(ctx, cb)
	if err != nil {
		return nil, err
	}
	if err := m.checkIssuer(ctx, p, cb.Issuer); err != nil {
		return nil, err
	}
	if cb.Error != "" {
		return nil, ErrOAuthFailed.WithMessage("The provider refused the login: " + cleanText(cb.Error, 64))
	}
	if cb.Code == "" {
		return nil, ErrOAuthFailed.WithMessage("The provider sent no authorization code.")
	}
	tok, prof, err := oauth.Exchange(m.oauthCtx(ctx), p, cb.CallbackURL, cb.Code,
		m.oauth.flowDerived("pkce", cb.Cookie, cb.State), m.oauth.flowDerived("nonce", cb.Cookie, cb.State))
	switch {
	case errors.Is(err, oauth.ErrExchange), errors.Is(err, oauth.ErrIDToken):
		return nil, ErrOAuthFailed.Wrap(err)
	case err != nil:
		return nil, ErrOAuthProfile.Wrap(err)
	case prof.ID == "":
		return nil, ErrOAuthProfile.WithMessage("The provider gave no account identifier.")
	}
	x, err := m.identityFrom(prof, tok)
	if err != nil {
		return nil, err
	}
	var res *OAuthResult
	if st.UserUUID != "" {
		res, err = m.linkIdentity(ctx, st.UserUUID, x)
	} else {
		res, err = m.oauthLogin(ctx, prof, x)
	}
	if err != nil {
		return nil, err
	}
	res.RedirectURI = st.RedirectURI
	return res, nil
}

// identityFrom builds the link row of a profile, with its tokens sealed.
func (m *Manager) identityFrom(prof *oauth.Profile, tok *oauth2.Token) (*ExternalIdentity, error) {
	sealed, err := m.sealToken(tok, prof.Provider, prof.ID)
	if err != nil {
		return nil, err
	}
	now := m.now()
	x := &ExternalIdentity{
		Provider: prof.Provider, Subject: cleanText(prof.ID, 255),
		Username: cleanText(prof.Username, 255), DisplayName: cleanText(prof.DisplayName, 255),
		PictureURL: cleanText(prof.PictureURL, 2048), Tokens: sealed, CreatedAt: now, UpdatedAt: now,
	}
	if len(prof.Emails) > 0 {
		x.Email, _ = NormalizeEmail(prof.Emails[0])
	}
	if x.Subject != prof.ID {
		return nil, ErrOAuthProfile.WithMessage("The provider gave a malformed account identifier.")
	}
	return x, nil
}

// linkIdentity links x to the user who began a link flow.
func (m *Manager) linkIdentity(ctx context.Context, userUUID string, x *ExternalIdentity) (*OAuthResult, error) {
	var u *User
	err := m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		var err error
		if u, err = tx.LockUser(ctx, userUUID); errors.Is(err, ErrNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		if !u.IsActive {
			return ErrInactiveUser
		}
		if err := m.insertIdentity(ctx, tx, u.UUID, x); err != nil {
			return err
		}
		return m.audit(ctx, tx, u.UUID, u.UUID, AuditOAuthLinked, x.Provider)
	})
	m.cache.invalidateUser(userUUID)
	if err != nil {
		return nil, err
	}
	return &OAuthResult{User: u, Identity: x, Linked: true}, nil
}

// insertIdentity links x to the user. The provider's account linked
// already (to this user or another) and a second account of the provider
// for the user are ErrOAuthAlreadyLinked, told apart by their messages; the
// unique constraints decide races.
func (m *Manager) insertIdentity(ctx context.Context, tx fullStore, userUUID string, x *ExternalIdentity) error {
	x.UserUUID = userUUID
	cur, err := tx.ExternalIdentity(ctx, x.Provider, x.Subject)
	switch {
	case err == nil && cur.UserUUID == userUUID:
		return ErrOAuthAlreadyLinked.WithMessage(fmt.Sprintf("This %s account is already linked to this user.", x.Provider))
	case err == nil:
		return ErrOAuthAlreadyLinked.WithMessage(fmt.Sprintf("This %s account is already linked to another user.", x.Provider))
	case !errors.Is(err, ErrNotFound):
		return err
	}
	err = tx.InsertExternalIdentity(ctx, x)
	switch conflictField(err) {
	case "":
		return err
	case "external_provider":
		return ErrOAuthAlreadyLinked.WithMessage(fmt.Sprintf("Another %s account is already linked to this user.", x.Provider)).Wrap(err)
	}
	return ErrOAuthAlreadyLinked.WithMessage(fmt.Sprintf("This %s account is already linked to another user.", x.Provider)).Wrap(err)
}

// oauthLogin logs in the user behind a provider's account: the linked one,
// else the local account of the same verified email (linked now), else a
// new external-only account. When a parallel callback of the same
// provider account linked or created it first (a conflict), it logs into
// that account.
func (m *Manager) oauthLogin(ctx context.Context, prof *oauth.Profile, x *ExternalIdentity) (*OAuthResult, error) {
	res, err := m.oauthLoginOnce(ctx, prof, x)
	if errors.Is(err, ErrOAuthAlreadyLinked) || errors.Is(err, ErrEmailTaken) || errors.Is(err, ErrUsernameTaken) {
		if cur, lerr := m.store.ExternalIdentity(ctx, x.Provider, x.Subject); lerr == nil {
			return m.oauthSession(ctx, cur.UserUUID, cur, false, false)
		}
	}
	return res, err
}

// keepRefreshToken carries the stored refresh token over to x when the
// provider sent none this time (Google sends one at the first consent
// only), so that ProviderToken can still refresh. A token that cannot be
// opened is left as it is (logged).
func (m *Manager) keepRefreshToken(ctx context.Context, x, stored *ExternalIdentity) {
	if len(x.Tokens) == 0 || len(stored.Tokens) == 0 {
		return
	}
	fresh, err := m.openToken(x.Tokens, x.Provider, x.Subject)
	if err != nil || fresh.RefreshToken != "" {
		return
	}
	old, err := m.openToken(stored.Tokens, stored.Provider, stored.Subject)
	if err != nil || old.RefreshToken == "" {
		return
	}
	fresh.RefreshToken = old.RefreshToken
	sealed, err := m.sealToken(fresh, x.Provider, x.Subject)
	if err != nil {
		m.log.WarnContext(ctx, "usermgmt: provider token not resealed", "provider", x.Provider, "err", err)
		return
	}
	x.Tokens = sealed
}

func (m *Manager) oauthLoginOnce(ctx context.Context, prof *oauth.Profile, x *ExternalIdentity) (*OAuthResult, error) {
	cur, err := m.store.ExternalIdentity(ctx, x.Provider, x.Subject)
	switch {
	case err == nil:
		x.UserUUID, x.CreatedAt = cur.UserUUID, cur.CreatedAt
		m.keepRefreshToken(ctx, x, cur)
		if err := m.store.UpdateExternalIdentity(ctx, x); err != nil {
			return nil, err
		}
		m.cache.invalidateUser(cur.UserUUID) // the profile shows the account's details
		return m.oauthSession(ctx, cur.UserUUID, x, false, false)
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	if len(prof.Emails) == 0 {
		return nil, ErrOAuthEmailUnverified.WithMessage(fmt.Sprintf("You need to verify your email associated with your %s account.", x.Provider))
	}
	for _, raw := range prof.Emails {
		email, err := NormalizeEmail(raw)
		if err != nil {
			continue
		}
		u, err := m.store.UserByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := m.emailLinkRefusal(u, x.Provider); err != nil {
			return nil, err
		}
		if !u.EmailVerified {
			return nil, ErrLinkEmailNotVerified.WithMessage(fmt.Sprintf("Email %s is not verified", email)).WithParam("email", email)
		}
		x.Email = email
		if _, err := m.linkIdentity(ctx, u.UUID, x); err != nil {
			return nil, err
		}
		if u.ProfilePictureID == nil {
			m.importProviderPicture(ctx, u.UUID, x.PictureURL)
		}
		return m.oauthSession(ctx, u.UUID, x, false, true)
	}
	u, err := m.createExternalUser(ctx, prof, x)
	if err != nil {
		return nil, err
	}
	m.importProviderPicture(ctx, u.UUID, x.PictureURL)
	return m.oauthSession(ctx, u.UUID, x, true, false)
}

// oauthSession opens the session that ends a login flow.
func (m *Manager) oauthSession(ctx context.Context, userUUID string, x *ExternalIdentity, created, linked bool) (*OAuthResult, error) {
	u, err := m.store.UserByUUID(ctx, userUUID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, m.inactiveError(ctx, u)
	}
	// The provider stands for the password only: a second factor the user
	// turned on applies here too (an *OTPChallengeError, which LoginOTP
	// completes), as do the rules on verified addresses.
	if err := m.loginSecondStep(ctx, u); err != nil {
		return nil, err
	}
	t, err := m.openSession(ctx, u, MethodOAuth+":"+x.Provider, AuditOAuthLogin, "", "")
	if err != nil {
		return nil, err
	}
	return &OAuthResult{Tokens: t, User: t.User, Identity: x, Created: created, Linked: linked}, nil
}

// maxUsernameTries bounds the suffixes tried when a username is taken.
const maxUsernameTries = 8

// createExternalUser creates the external-only account of a provider's
// account, with its link, in one transaction. A taken username gets a
// random numeric suffix.
func (m *Manager) createExternalUser(ctx context.Context, prof *oauth.Profile, x *ExternalIdentity) (*User, error) {
	base := externalUsername(prof.Username, prof.Provider)
	for try := 0; try < maxUsernameTries; try++ {
		name := base
		if try > 0 {
			n, err := m.randomBytes(3)
			if err != nil {
				return nil, err
			}
			suffix := fmt.Sprintf("_%d", (int(n[0])<<16|int(n[1])<<8|int(n[2]))%1_000_000)
			name = base[:min(len(base), MaxUsernameLength-len(suffix))] + suffix
		}
		u, err := m.prepareNewUser(NewUser{Username: name, Email: x.Email, EmailVerified: true, PasswordHash: "-"})
		if err != nil {
			return nil, ErrOAuthProfile.WithMessage("The provider's profile cannot make an account.").Wrap(err)
		}
		if try == 0 {
			if err := m.beforeRegister(ctx, u); err != nil { // hooks.go
				return nil, err
			}
		}
		u.PasswordHash, u.IsExternalOnly = "", true
		err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
			if err := tx.InsertUser(ctx, u); err != nil {
				return takenError(err)
			}
			if err := m.insertIdentity(ctx, tx, u.UUID, x); err != nil {
				return err
			}
			return m.audit(ctx, tx, u.UUID, u.UUID, AuditOAuthRegister, x.Provider)
		})
		if errors.Is(err, ErrUsernameTaken) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m.log.InfoContext(ctx, "user created", "user", u.UUID, "action", AuditOAuthRegister, "provider", x.Provider)
		return u, nil
	}
	return nil, ErrUsernameTaken.WithMessage("No free username could be made from the provider's profile.")
}

// externalUsername turns a provider's handle into a valid username:
// lower-cased, every run of other characters an underscore, 5 to 32
// characters (a short one padded with "_user").
func externalUsername(handle, provider string) string {
	var b strings.Builder
	under := false
	for _, c := range strings.ToLower(handle) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	s := strings.TrimRight(b.String(), "_")
	if s == "" {
		s = strings.ReplaceAll(provider, "-", "_")
	}
	if len(s) < MinUsernameLength {
		s += "_user"
	}
	return strings.TrimRight(s[:min(len(s), MaxUsernameLength)], "_")
}

// ExternalIdentities returns the provider accounts linked to a user.
func (m *Manager) ExternalIdentities(ctx context.Context, userUUID string) ([]*ExternalIdentity, error) {
	id, err := canonicalUUID(userUUID)
	if err != nil {
		return nil, ErrUserNotFound
	}
	return m.store.ExternalIdentitiesByUser(ctx, id)
}

// UnlinkOAuth removes the link of a user to a provider. It refuses
// (ErrLastLoginMethod) to remove an account's last way in: its password,
// its linked providers and the ways in of the features (WayIn, such as
// passkeys) are counted.
func (m *Manager) UnlinkOAuth(ctx context.Context, userUUID, provider string) error {
	if err := RefuseImpersonated(ctx); err != nil {
		return err
	}
	if !oauth.ValidName(provider) {
		return ErrUnsupportedProvider
	}
	id, err := canonicalUUID(userUUID)
	if err != nil {
		return ErrUserNotFound
	}
	err = m.InTx(ctx, func(ctx context.Context, raw Store) error {
		tx := complete(raw)
		u, err := tx.LockUser(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		xs, err := tx.ExternalIdentitiesByUser(ctx, id)
		if err != nil {
			return err
		}
		found := false
		for _, x := range xs {
			found = found || x.Provider == provider
		}
		if !found {
			return ErrOAuthNotLinked.WithMessage(fmt.Sprintf("You don't have any %s account linked to your account.", provider))
		}
		if u.PasswordHash == "" && len(xs) == 1 {
			ways, err := m.WaysIn(ctx, raw, u, nil)
			if err != nil {
				return err
			}
			if ways <= 1 {
				return ErrLastLoginMethod
			}
		}
		if err := tx.DeleteExternalIdentity(ctx, id, provider); err != nil {
			return err
		}
		return m.audit(ctx, tx, id, id, AuditOAuthUnlinked, provider)
	})
	m.cache.invalidateUser(id)
	return err
}

// ProviderToken returns a valid token of the provider for the user's
// linked account, refreshing it (and storing the new one) when it has
// expired.
func (m *Manager) ProviderToken(ctx context.Context, userUUID, provider string) (*oauth2.Token, error) {
	p, err := m.provider(provider)
	if err != nil {
		return nil, err
	}
	xs, err := m.ExternalIdentities(ctx, userUUID)
	if err != nil {
		return nil, err
	}
	var x *ExternalIdentity
	for _, c := range xs {
		if c.Provider == provider {
			x = c
		}
	}
	if x == nil {
		return nil, ErrOAuthNotLinked.WithMessage(fmt.Sprintf("You don't have any %s account linked to your account.", provider))
	}
	old, err := m.openToken(x.Tokens, x.Provider, x.Subject)
	if err != nil {
		return nil, err
	}
	octx := m.oauthCtx(ctx)
	src, err := oauth.TokenSource(octx, p, old)
	if err != nil {
		return nil, ErrOAuthProfile.WithMessage("The provider is unavailable.").Wrap(err)
	}
	tok, err := src.Token()
	if err != nil {
		return nil, ErrOAuthFailed.WithMessage("The provider refused to refresh the token; log in with it again.").Wrap(err)
	}
	if tok.AccessToken != old.AccessToken {
		if x.Tokens, err = m.sealToken(tok, x.Provider, x.Subject); err != nil {
			return nil, err
		}
		x.UpdatedAt = m.now()
		if err := m.store.UpdateExternalIdentity(ctx, x); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

// OAuthLinkTicket returns a ticket that links a provider's account to the
// actor (see Manager.OAuthLinkTicket).
func (a *Actor) OAuthLinkTicket(ctx context.Context, provider, redirectURI string) (*OAuthTicket, error) {
	if err := RequireSession(ctx); err != nil { // the ways in are a session's
		return nil, err
	}
	if a.user == nil {
		return nil, ErrForbidden
	}
	return a.m.OAuthLinkTicket(ctx, a.user.UUID, provider, redirectURI)
}

// UnlinkOAuth removes the actor's link to a provider (see
// Manager.UnlinkOAuth).
func (a *Actor) UnlinkOAuth(ctx context.Context, provider string) error {
	if err := RequireSession(ctx); err != nil { // the ways in are a session's
		return err
	}
	if a.user == nil {
		return ErrForbidden
	}
	return a.m.UnlinkOAuth(ctx, a.user.UUID, provider)
}

// ExternalIdentities returns the provider accounts linked to the actor.
func (a *Actor) ExternalIdentities(ctx context.Context) ([]*ExternalIdentity, error) {
	if a.user == nil {
		return nil, ErrForbidden
	}
	return a.m.ExternalIdentities(ctx, a.user.UUID)
}
