package usermgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// Tokens is what a successful login, registration or refresh returns.
type Tokens struct {
	// AccessToken is the JWT to send as "Authorization: Bearer ...".
	AccessToken string
	// TokenType is always "bearer".
	TokenType string
	// RefreshToken is the opaque token Refresh exchanges for new tokens,
	// "" for a session that cannot be renewed (one opened with
	// ActingParty).
	RefreshToken string
	// ExpiresIn is the access token's lifetime in seconds; ExpiresAt its
	// end.
	ExpiresIn int
	ExpiresAt time.Time
	// SessionID is the session the tokens belong to.
	SessionID string
	// User is the user the tokens were issued to.
	User *User
}

// Principal is an authenticated caller: the user behind a valid access
// token whose session is live.
type Principal struct {
	// Profile is shared with the cache: read it, never modify it.
	Profile   *Profile
	SessionID string
	TokenID   string
	ExpiresAt time.Time
	// Credential is set when the caller was authenticated by a feature's
	// credential (an API key) instead of a session's access token; its
	// scopes limit what the caller may do (ContextWithCaller).
	Credential *Credential
	// Impersonator is the UUID of the user acting as this one (the
	// token's act.sub: an admin impersonating them), "" when the user acts
	// for themself. ContextWithCaller carries it to the Manager's rules.
	Impersonator string
	// IssuedAt is the access token's iat (zero for a feature's
	// credential).
	IssuedAt time.Time
	// Claims are the claims of the token that ClaimsFeatures declared
	// (nil for none), as JSON: the feature that set them reads them. The
	// map is shared with the token cache: read it, never modify it.
	Claims map[string]json.RawMessage
}

// User returns the authenticated user.
func (p *Principal) User() *User { return p.Profile.User }

// Register creates an account with the default role (ignoring nu.Roles,
// nu.EmailVerified, nu.Inactive and nu.PasswordHash: a visitor chooses none
// of those) and logs it in. With Config.RequireVerifiedEmail on, the account
// is created (and its verification mail sent) but no session is opened: the
// answer is ErrEmailNotVerified, the same as Login's for that account.
func (m *Manager) Register(ctx context.Context, nu NewUser) (*Tokens, error) {
	ctx, span := m.tel.start(ctx, "usermgmt.Register")
	t, err := m.register(ctx, nu)
	m.tel.count(ctx, m.tel.registrations, attribute.String("outcome", outcome(err)))
	m.tel.end(span, err)
	return t, err
}

// register is Register without its span and metric (telemetry.go).
func (m *Manager) register(ctx context.Context, nu NewUser) (*Tokens, error) {
	nu.Roles, nu.EmailVerified, nu.Inactive, nu.PasswordHash = nil, false, false, ""
	u, err := m.createUser(ctx, nu, "", AuditRegister, nil)
	if err != nil {
		return nil, err
	}
	if m.cfg.RequireVerifiedEmail && !u.EmailVerified {
		return nil, m.emailNotVerified()
	}
	return m.openSession(ctx, u, "", "", "", "") // no login hooks: BeforeRegister decided
}

// Login checks a username (or email) and password and opens a session.
//
// An unknown account and a wrong password get the same error,
// ErrInvalidLogin, after the same work: one password comparison (against a
// dummy hash of the configured cost when there is no account) and one audit
// write. A stored hash of another cost is replaced at the next successful
// login, so that its timing too matches the dummy's. Only after a correct
// password does an inactive account learn why it cannot log in
// (ErrInactiveUser), and a locked one (ErrAccountLocked) only when its
// LockoutPolicy has TellOwner. With RequireVerifiedEmail on, an unverified address
// gets ErrEmailNotVerified; with two-factor login on, a correct password
// answers an *OTPChallengeError (matching ErrOTPRequired) whose challenge
// LoginOTP completes.
func (m *Manager) Login(ctx context.Context, login, password string) (*Tokens, error) {
	ctx, span := m.tel.start(ctx, "usermgmt.Login")
	t, err := m.login(ctx, login, password)
	m.tel.login(ctx, "password", err)
	m.tel.end(span, err)
	return t, err
}

// login is Login without its span and metric (telemetry.go).
func (m *Manager) login(ctx context.Context, login, password string) (*Tokens, error) {
	u, err := m.UserByLogin(ctx, login)
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return nil, err
	}
	attempt, err := m.beginLoginAttempt(ctx, u) // lockout.go
	if err != nil {
		return nil, err
	}
	hash := m.dummyHash
	if u != nil && u.PasswordHash != "" && attempt.checksPassword(m.cfg.Lockout) {
		hash = u.PasswordHash
	}
	cmpErr := m.hasher.Compare(ctx, hash, password)
	if cmpErr != nil && !errors.Is(cmpErr, ErrWrongPassword) {
		if ctx.Err() != nil {
			return nil, cmpErr
		}
		// A stored hash the hasher cannot read (imported from another
		// scheme, say) is a failed login like any other, not a 500.
		if u != nil {
			m.log.ErrorContext(ctx, "password hash unreadable", "user", u.UUID, "err", cmpErr)
		}
	}
	wrong := u == nil || u.PasswordHash == "" || cmpErr != nil || !attempt.checksPassword(m.cfg.Lockout)
	failed := wrong || attempt.locked
	if err := m.endLoginAttempt(ctx, u, attempt, !failed); err != nil {
		return nil, err
	}
	if failed {
		subject, detail := "", ""
		if u != nil {
			subject = u.UUID
		}
		if !wrong {
			detail = "account locked"
		}
		if err := m.audit(ctx, m.store, "", subject, AuditLoginFailed, detail); err != nil {
			return nil, err
		}
		if u != nil {
			m.cache.invalidateUser(u.UUID)
		}
		if !wrong { // the owner's password on a locked account (TellOwner)
			return nil, m.lockedError(attempt)
		}
		return nil, ErrInvalidLogin
	}
	if !u.IsActive {
		return nil, m.inactiveError(ctx, u)
	}
	if err := m.loginSecondStep(ctx, u); err != nil { // otp.go
		var challenge *OTPChallengeError
		if errors.As(err, &challenge) {
			m.rehashBeforeSecondFactor(ctx, u, password)
		}
		return nil, err
	}
	newHash := ""
	if m.hasher.NeedsRehash(u.PasswordHash) {
		// Hashed before the transaction, written in it with the session.
		if newHash, err = m.hasher.Hash(ctx, password); err != nil {
			m.log.WarnContext(ctx, "password rehash failed", "user", u.UUID, "err", err)
			newHash = ""
		}
	}
	return m.openSessionRehash(ctx, u, MethodPassword, AuditLogin, "", u.PasswordHash, newHash)
}

// inactiveError explains to the owner of an inactive account (after a
// correct password) why they cannot log in.
func (m *Manager) inactiveError(ctx context.Context, u *User) error {
	msg := "Inactive user"
	if m.cfg.ContactEmail != "" {
		msg += ", please contact support at " + m.cfg.ContactEmail
	}
	msg += "."
	bans, err := m.store.Audit(ctx, AuditQuery{SubjectUUID: u.UUID, Actions: []string{AuditBan}, Limit: 1})
	if err != nil {
		return err
	}
	e := ErrInactiveUser.WithMessage(msg)
	if len(bans) > 0 && bans[0].Detail != "" {
		e = ErrInactiveUser.WithMessage(msg+" Reason: "+bans[0].Detail).WithParam("reason", bans[0].Detail)
	}
	return e
}

// OpenSession starts a session for a user the host (or a feature package)
// has authenticated by its own means, and returns its tokens. The login is
// audited; AuthMethod names the means in the entry's detail.
func (m *Manager) OpenSession(ctx context.Context, u *User, opts ...SessionOption) (*Tokens, error) {
	var so sessionOptions
	for _, o := range opts {
		o(&so)
	}
	ctx, span := m.tel.start(ctx, "usermgmt.OpenSession")
	t, err := m.openSessionOpts(ctx, u, so)
	m.tel.login(ctx, so.method, err)
	m.tel.end(span, err)
	return t, err
}

// openSessionOpts is OpenSession without its span and metric.
func (m *Manager) openSessionOpts(ctx context.Context, u *User, so sessionOptions) (*Tokens, error) {
	if !u.IsActive {
		return nil, ErrInactiveUser
	}
	detail, method := "", MethodSession
	if so.method != "" {
		detail, method = "method="+so.method, so.method
	}
	g := tokenGrant{ttl: so.lifetime}
	if so.lifetime < 0 || so.lifetime > m.cfg.SessionTTL {
		return nil, ErrInvalidInput.WithMessage("A session lifetime cannot be negative nor longer than the configured session lifetime.")
	}
	if so.actor != nil {
		id, err := canonicalUUID(*so.actor)
		if err != nil || id == u.UUID {
			return nil, ErrInvalidInput.WithMessage("The acting party must be another user.")
		}
		g.actor = id
		if g.ttl == 0 {
			g.ttl = m.cfg.AccessTokenTTL
		}
	}
	return m.openSessionWith(ctx, u, method, AuditLogin, detail, "", "", g)
}

// A SessionOption qualifies a session opened with OpenSession.
type SessionOption func(*sessionOptions)

type sessionOptions struct {
	method   string
	actor    *string
	lifetime time.Duration
}

// AuthMethod records how the user proved who they are ("passkey",
// "magic_link" ...) in the login's audit entry, as "method=<name>".
func AuthMethod(name string) SessionOption {
	return func(o *sessionOptions) { o.method = cleanText(name, 64) }
}

// ActingParty opens the session on the user's behalf for another user,
// actorUUID (RFC 8693 delegation: an admin impersonating the user). Its
// access token carries the reserved claim act {"sub": actorUUID}, which
// Authenticate reads into Principal.Impersonator; the session has no
// refresh token, so its access token lasts as long as the session
// (Lifetime, or Config.AccessTokenTTL without it); it is refused once the
// actor no longer exists or is inactive. The login's audit entry names
// actorUUID as its actor and as its ImpersonatorUUID. The caller decides
// who may act for whom: the impersonate package asks the policy.
func ActingParty(actorUUID string) SessionOption {
	return func(o *sessionOptions) { o.actor = &actorUUID }
}

// Lifetime gives the session d (at most Config.SessionTTL) instead of
// Config.SessionTTL when it opens. A refresh gives it Config.SessionTTL
// from then, as any session; a session with an ActingParty has no refresh
// token, so d is its whole life and its access token's.
func Lifetime(d time.Duration) SessionOption {
	return func(o *sessionOptions) { o.lifetime = d }
}

// openSession stores a new session (with an audit entry unless action is
// empty) and issues its tokens. In the same transaction it locks the user's
// row and goes on only if the user still exists, is active and, when
// passwordHash is not empty, still has that password hash: a login whose
// password check (a quarter of a second of bcrypt) raced with a password
// change, a ban or a deletion does not open a session after it.
//
// method names the sign-in path for Config.Hooks (BeforeLogin before
// anything is written, AfterLogin after the commit); "" calls neither.
func (m *Manager) openSession(ctx context.Context, u *User, method, action, detail, passwordHash string) (*Tokens, error) {
	return m.openSessionRehash(ctx, u, method, action, detail, passwordHash, "")
}

// openSessionRehash is openSession that, when newHash is not empty, also
// replaces the user's password hash (still passwordHash) by newHash in
// the same transaction and audits it once (AuditPasswordRehash).
func (m *Manager) openSessionRehash(ctx context.Context, u *User, method, action, detail, passwordHash, newHash string) (*Tokens, error) {
	return m.openSessionWith(ctx, u, method, action, detail, passwordHash, newHash, tokenGrant{})
}

// openSessionWith is openSessionRehash for a session of grant g: with
// g.ttl the session ends then, and with g.actor its tokens carry act, it
// has no refresh token and its audit entry names the actor.
func (m *Manager) openSessionWith(ctx context.Context, u *User, method, action, detail, passwordHash, newHash string, g tokenGrant) (*Tokens, error) {
	if err := m.beforeLogin(ctx, u, method); err != nil { // hooks.go
		return nil, err
	}
	now := m.now()
	sid, err := m.newUUID()
	if err != nil {
		return nil, err
	}
	refresh, hash, err := m.newRefreshToken(sid, 0)
	if err != nil {
		return nil, err
	}
	ci := ClientInfoFrom(ctx)
	s := &Session{
		ID: sid, UserUUID: u.UUID, RefreshHash: hash,
		CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(m.cfg.SessionTTL),
		IP: cleanText(ci.IP, 64), UserAgent: cleanText(ci.UserAgent, 256),
	}
	if g.ttl > 0 {
		s.ExpiresAt = now.Add(g.ttl)
	}
	if g.actor != "" {
		// The row keeps a refresh hash, of a token nobody is given.
		refresh = ""
	}
	extra, err := m.accessTokenClaims(ctx, u, s)
	if err != nil {
		return nil, err
	}
	var cur *User
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		var err error
		cur, err = tx.LockUser(ctx, u.UUID)
		switch {
		case errors.Is(err, ErrNotFound) && passwordHash != "":
			return ErrInvalidLogin
		case errors.Is(err, ErrNotFound):
			return ErrUserNotFound
		case err != nil:
			return err
		case passwordHash != "" && cur.PasswordHash != passwordHash:
			return ErrInvalidLogin
		case !cur.IsActive:
			return ErrInactiveUser
		}
		if err := tx.InsertSession(ctx, s); err != nil {
			return err
		}
		if newHash != "" && passwordHash != "" {
			n := cur.clone()
			n.PasswordHash, n.UpdatedAt = newHash, now
			if err := tx.UpdateUser(ctx, n); err != nil {
				return err
			}
			if err := m.audit(ctx, tx, u.UUID, u.UUID, AuditPasswordRehash, m.rehashDetail(passwordHash, newHash)); err != nil {
				return err
			}
			cur = n
		}
		if action == "" {
			return nil
		}
		if g.actor != "" {
			return m.AppendAudit(ctx, tx, AuditEntry{ActorUUID: g.actor, SubjectUUID: u.UUID,
				Action: action, Detail: detail, ImpersonatorUUID: g.actor})
		}
		return m.audit(ctx, tx, u.UUID, u.UUID, action, detail)
	})
	if err != nil {
		return nil, err
	}
	if action != "" || newHash != "" {
		m.cache.invalidateUser(u.UUID) // its history changed
	}
	if g.actor == "" {
		g.ttl = 0 // the session's lifetime; its access tokens keep theirs
	}
	t, err := m.issue(cur, sid, refresh, now, g, extra)
	if err != nil {
		return nil, err
	}
	m.afterLogin(ctx, cur, s, method)
	return t, nil
}

// issue signs an access token of grant g, with the extra claims of
// accessTokenClaims, and bundles it with the refresh token.
func (m *Manager) issue(u *User, sid, refresh string, now time.Time, g tokenGrant, extra []byte) (*Tokens, error) {
	jti, err := m.randomBytes(16)
	if err != nil {
		return nil, err
	}
	access, exp, err := m.tokens.signGrant(u.UUID, sid, fmt.Sprintf("%x", jti), now, g, extra)
	if err != nil {
		return nil, err
	}
	ttl := m.cfg.AccessTokenTTL
	if g.ttl > 0 {
		ttl = g.ttl
	}
	return &Tokens{
		AccessToken: access, TokenType: "bearer", RefreshToken: refresh,
		ExpiresIn: int(ttl / time.Second), ExpiresAt: exp,
		SessionID: sid, User: u,
	}, nil
}

// Authenticate resolves an access token to its caller. It is the hot path of
// every authenticated request: the token is verified in memory (a token
// seen within CacheTTL skips the signature check), and the session and the
// user come from the in-process cache (filled from the
// store at most once per CacheTTL, and invalidated by every write this
// Manager makes). A logged-out or revoked session, or a deleted or inactive
// user, is refused with ErrSessionRevoked. A credential of a feature that
// implements CredentialAuthenticator (an API key) is that feature's to
// check.
func (m *Manager) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	if m.tel.tracer == nil {
		return m.authenticate(ctx, accessToken)
	}
	ctx, span := m.tel.start(ctx, "usermgmt.Authenticate")
	p, err := m.authenticate(ctx, accessToken)
	m.tel.end(span, err)
	return p, err
}

// authenticate is Authenticate without its span.
func (m *Manager) authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	for _, ca := range m.credentials {
		if p, handled, err := ca.AuthenticateCredential(ctx, accessToken); handled {
			return p, err
		}
	}
	now := m.now()
	claims, ok := m.cache.token(accessToken, now)
	if !ok {
		var err error
		if claims, err = m.tokens.verify(accessToken); err != nil {
			return nil, err
		}
		m.cache.putToken(accessToken, claims, now)
	}
	st, err := m.sessionState(ctx, claims.SessionID, now)
	if err != nil {
		return nil, err
	}
	if st.revoked || !now.Before(st.expiresAt) || st.userUUID != claims.Subject {
		return nil, ErrSessionRevoked
	}
	p, err := m.Profile(ctx, claims.Subject)
	if errors.Is(err, ErrUserNotFound) {
		return nil, ErrSessionRevoked
	}
	if err != nil {
		return nil, err
	}
	if !p.User.IsActive {
		return nil, ErrSessionRevoked
	}
	pr := &Principal{Profile: p, SessionID: claims.SessionID, TokenID: claims.ID, ExpiresAt: claims.ExpiresAt.Time, Claims: claims.Feature}
	if claims.IssuedAt != nil {
		pr.IssuedAt = claims.IssuedAt.Time
	}
	if claims.Act != nil {
		// An impersonation lasts only while its actor may still sign in.
		ap, err := m.Profile(ctx, claims.Act.Subject)
		if errors.Is(err, ErrUserNotFound) || err == nil && !ap.User.IsActive {
			return nil, ErrSessionRevoked
		}
		if err != nil {
			return nil, err
		}
		pr.Impersonator = claims.Act.Subject
	}
	return pr, nil
}

// sessionState returns the cached state of a session, loading it if needed.
func (m *Manager) sessionState(ctx context.Context, id string, now time.Time) (sessionState, error) {
	if st, ok := m.cache.session(id, now); ok {
		return st, nil
	}
	epoch := m.cache.begin(id)
	s, err := m.store.SessionByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return sessionState{}, ErrSessionRevoked
	}
	if err != nil {
		return sessionState{}, err
	}
	st := sessionState{userUUID: s.UserUUID, expiresAt: s.ExpiresAt, revoked: s.RevokedAt != nil}
	m.cache.putSession(epoch, id, st, now)
	return st, nil
}

// Logout ends the session of an authenticated caller.
func (m *Manager) Logout(ctx context.Context, p *Principal) error {
	if p.Credential != nil {
		return ErrSessionRequired // an API key has no session to end
	}
	return m.revokeSession(ctx, p.User().UUID, p.SessionID, p.User().UUID, AuditLogout)
}

// Sessions returns a user's live sessions, newest first.
func (m *Manager) Sessions(ctx context.Context, userUUID string) ([]*Session, error) {
	id, err := canonicalUUID(userUUID)
	if err != nil {
		return nil, err
	}
	return m.store.SessionsByUser(ctx, id, m.now())
}

// RevokeSession ends one session of a user; ErrSessionNotFound when the user
// has no such live session.
func (m *Manager) RevokeSession(ctx context.Context, userUUID, sessionID string) error {
	return m.revokeSession(ctx, userUUID, sessionID, "", AuditSessionRevoked)
}

func (m *Manager) revokeSession(ctx context.Context, userUUID, sessionID, actorUUID, action string) error {
	id, err := canonicalUUID(sessionID)
	if err != nil {
		return ErrSessionNotFound
	}
	if userUUID, err = canonicalUUID(userUUID); err != nil {
		return err
	}
	now := m.now()
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		s, err := tx.SessionByID(ctx, id)
		if errors.Is(err, ErrNotFound) || (err == nil && (s.UserUUID != userUUID || !s.Active(now))) {
			return ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.RevokeSession(ctx, id, now); err != nil {
			return err
		}
		return m.audit(ctx, tx, actorUUID, userUUID, action, id)
	})
	m.cache.invalidateSessions(id)
	m.cache.invalidateUser(userUUID)
	return err
}
