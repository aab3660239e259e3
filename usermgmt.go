// Package usermgmt is complete user management for Go web applications:
// accounts, login and sessions, access tokens, role and attribute based
// access control, and the audit trail around them.
//
// Build one Manager over a Store (see the store package) and either call it
// directly from Go, act as a given user through Manager.As, or mount the
// net/http handlers of the httpadapter package.
//
// This package is the core every feature shares: users, sessions and
// tokens, the policy, audit, errors, the event stream and the transaction.
// Optional capabilities live in feature packages over it (dbtools is the
// database export and import), enabled with WithFeature:
//
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(dbtools.New(dbtools.Options{})))
//
// A feature package reaches the core through a few seams only: Feature
// (InitFeature is handed the Manager), NeedStore (its own store interface,
// checked at New), Manager.InTx (the store's transaction), Manager.AppendAudit
// (an audit entry, published to the WithEventHandler handlers once
// committed), EventWriter (rows of the feature's own, such as a webhook
// outbox, written in the transaction of the audited change),
// Manager.Authorize (an action checked against the policy as
// an actor), Manager.OpenSession (a session after the feature's own proof
// of identity; Manager.SignIn applies the login rules and the second
// factor after a first one; ActingParty and Lifetime open one for a user
// by another, whose token carries act), Impersonator and
// RefuseImpersonated (is the caller impersonated, and the refusal of a
// change that takes an account over), Manager.ForgetCached,
// CredentialAuthenticator (a credential of the feature's kind, such as an
// API key, with its scopes enforced by Authorize through ContextWithCaller),
// the mail seams (MailData, MailTemplate, QueueMail), NewError,
// Manager.CheckRegistration (Config.Hooks.BeforeRegister for a feature's
// self-service sign-up); its routes join
// httpadapter's route table through httpadapter.Feature.
package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/usermgmt/usermgmt/files"
	"github.com/usermgmt/usermgmt/jwtkeys"
	"github.com/usermgmt/usermgmt/oauth"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config holds the settings of a Manager. Zero values take the defaults
// documented on each field; Validate reports what is missing or wrong.
type Config struct {
	// Store persists users, sessions and the audit log. Required.
	Store Store

	// JWTSecret signs access tokens (HS256) unless SigningKeys is set, and
	// keys the other secrets the library derives (refresh tokens, codes,
	// OAuth). Required; at least 16 bytes.
	JWTSecret []byte
	// JWTPreviousSecrets still verify tokens signed before a key rotation
	// (and open what older secrets sealed).
	JWTPreviousSecrets [][]byte
	// SigningKeys, when set, signs and verifies access tokens in place of
	// JWTSecret: HS256 secrets and EdDSA, ES256 or RS256 keys, one of them
	// signing (see the jwtkeys package and docs/tokens.md for rotation).
	// With a public key in the set, httpadapter serves the JWKS and the
	// OpenID discovery document.
	SigningKeys *jwtkeys.Set
	// Audience, when set, is the access tokens' "aud" claim, and a token
	// without it is refused.
	Audience string
	// AccessTokenClaims, when set, adds claims to every access token the
	// Manager issues (login, refresh), called with copies of the user and
	// the session (without password hash, OTP secret or refresh hashes)
	// before anything is stored. A reserved claim (see
	// IsReservedClaim) or an error fails the login or refresh with
	// ErrAccessTokenClaims, or with the error itself when it is a 4xx
	// *Error; the claims' JSON must stay within 2 KiB.
	AccessTokenClaims func(ctx context.Context, u *User, s *Session) (map[string]any, error)
	// BaseURL is the public URL of the service (scheme and host, no
	// trailing slash), used in links the library builds.
	BaseURL string

	// Issuer is the access tokens' "iss" claim. Default "usermgmt".
	Issuer string
	// AccessTokenTTL is the access token lifetime. Default 15 minutes.
	AccessTokenTTL time.Duration
	// SessionTTL is how long a session (and its refresh token) lives without
	// being refreshed. Default 30 days.
	SessionTTL time.Duration
	// RefreshReuseGrace is how long after a rotation the previous refresh
	// token still yields the successor already issued (parallel requests
	// agree); afterwards, presenting any spent token revokes the session.
	// Default 2 s, at most 1 minute; a negative value allows no
	// grace at all (parallel refreshes of one token then end the session).
	RefreshReuseGrace time.Duration

	// BcryptCost is the cost of new password hashes. Default 12.
	BcryptCost int
	// MaxConcurrentHashes bounds concurrent bcrypt work; a request waits for
	// a slot until its context ends. Default runtime.GOMAXPROCS(0) - 1, at
	// least 1: a login storm then leaves one Go scheduler slot to every
	// other request, which otherwise waits for bcrypt to be preempted
	// (every 10 ms) and sees tens of milliseconds of latency. An
	// application that wants hashing on every core raises GOMAXPROCS by one,
	// as examples/server does.
	MaxConcurrentHashes int
	// PasswordPolicy is the rule new passwords must satisfy. Zero value:
	// DefaultPasswordPolicy.
	PasswordPolicy PasswordPolicy

	// Policy is the access policy. Nil: DefaultPolicy().
	Policy *Policy

	// CacheSize bounds the in-process cache of authenticated users and
	// sessions (entries of each). Default 10,000.
	CacheSize int
	// CacheTTL bounds how long a cached user or session is trusted. Writes
	// made through this Manager invalidate at once; this is how soon other
	// instances sharing the database see a ban, a logout or a deletion.
	// Default 2 s.
	// A negative value turns the cache off: every request then reads its
	// session and user from the store.
	CacheTTL time.Duration

	// DataDir, when set and no WithStorage option is given, keeps users'
	// files on the local disk, under DataDir/users/{uuid}/.
	DataDir string
	// MaxUploadBytes bounds one uploaded file. Default 10 MiB.
	MaxUploadBytes int64
	// FlagPollInterval is how often the Manager checks the store for
	// feature-flag changes made by other instances. Default
	// DefaultFlagPollInterval (1 s); negative: check at every evaluation.
	FlagPollInterval time.Duration
	// Lockout configures the locking of accounts after failed logins. The
	// zero value takes DefaultLockout.
	Lockout LockoutPolicy

	// ContactEmail is shown to users whose account is inactive.
	ContactEmail string

	// OAuthProviders are the third-party login providers (see the oauth
	// package), by their Name.
	OAuthProviders []oauth.Provider
	// OAuthTokenKey seals the providers' tokens (AES-256-GCM, through
	// HKDF); at least 16 bytes. Empty: a key derived from JWTSecret.
	OAuthTokenKey []byte
	// OAuthRedirectAllowList lists where a third-party login may send the
	// browser back (see oauthRedirectAllowed): absolute http(s) URLs.
	OAuthRedirectAllowList []string
	// OAuthNoEmailLinking turns off linking a provider's account to the
	// local account of the same (verified on both sides) email address.
	OAuthNoEmailLinking bool
	// OAuthStateTTL bounds a pending third-party login. Default 10 minutes.
	OAuthStateTTL time.Duration
	// OAuthHTTPClient makes the requests to the providers. Default: a
	// client with a 10 s timeout.
	OAuthHTTPClient *http.Client
	// OAuthPictureClient downloads providers' profile pictures. Their URLs
	// come from the profile, which a user may be able to edit, so the
	// default client connects to public addresses only (never loopback,
	// private, link-local or cloud metadata addresses, whatever a name
	// resolves to or a redirect says), with a 5 s timeout.
	OAuthPictureClient *http.Client
	// Account security (verify.go, password_reset.go, otp.go, mail.go).
	AccountSecurity
	// Hooks are the host's callbacks around sign-up and sign-in
	// (BeforeRegister, BeforeLogin, AfterLogin; hooks.go,
	// docs/hooks.md).
	Hooks Hooks

	// Clock returns the current time. Default time.Now.
	Clock func() time.Time
	// Rand is the source of every random value (tokens, UUIDs, salts).
	// Default crypto/rand.Reader.
	Rand io.Reader
	// Logger receives the library's logs. Default slog.Default().
	Logger *slog.Logger
}

// Validate reports every problem with c (after defaults), joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if len(c.JWTSecret) < 16 {
		errs = append(errs, errors.New("JWTSecret must be at least 16 bytes"))
	}
	for i, s := range c.JWTPreviousSecrets {
		if len(s) < 16 {
			errs = append(errs, fmt.Errorf("JWTPreviousSecrets[%d] must be at least 16 bytes", i))
		}
	}
	if c.AccessTokenTTL < 0 || c.SessionTTL < 0 {
		errs = append(errs, errors.New("AccessTokenTTL and SessionTTL must not be negative"))
	}
	if c.RefreshReuseGrace > maxRefreshReuseGrace {
		errs = append(errs, fmt.Errorf("RefreshReuseGrace must be at most %v", maxRefreshReuseGrace))
	}
	if c.SessionTTL < c.AccessTokenTTL {
		errs = append(errs, errors.New("SessionTTL must not be shorter than AccessTokenTTL"))
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		errs = append(errs, fmt.Errorf("BcryptCost %d is outside 4..31", c.BcryptCost))
	}
	if c.MaxConcurrentHashes < 1 {
		errs = append(errs, errors.New("MaxConcurrentHashes must be at least 1"))
	}
	if c.MaxUploadBytes < 1 {
		errs = append(errs, errors.New("MaxUploadBytes must be at least 1"))
	}
	if c.CacheSize < 1 {
		errs = append(errs, errors.New("CacheSize must be at least 1"))
	}
	if c.Lockout.Threshold > 0 && (c.Lockout.Window <= 0 || c.Lockout.Duration <= 0) {
		errs = append(errs, errors.New("Lockout.Window and Lockout.Duration must be positive"))
	}
	if err := c.PasswordPolicy.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Policy.validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateOAuth()...)
	errs = append(errs, c.AccountSecurity.validate()...)
	if len(errs) > 0 {
		return fmt.Errorf("usermgmt: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// Option changes how a Manager is built; pass options to New.
type Option func(*Manager)

// WithHasher replaces the bcrypt password hasher.
func WithHasher(h Hasher) Option { return func(m *Manager) { m.hasher = h } }

// WithLimiter sets the rate limiter the HTTP layer decides with (see
// Manager.Limiter). Default: an in-memory limiter, which counts per process.
func WithLimiter(l Limiter) Option { return func(m *Manager) { m.limiter = l } }

// Manager is the entry point of the library. It is safe for concurrent use.
type Manager struct {
	cfg     Config
	store   fullStore // cfg.Store, completed (capability.go)
	hasher  Hasher
	tokens  *tokenIssuer
	refresh *refreshKeys
	cache   *authCache
	oauth   *oauthKit
	log     *slog.Logger
	storage files.Storage // nil: no file storage
	avatars *files.Avatars

	// Account security: mail, templates, keys of codes and TOTP secrets.
	mail     *mailQueue
	mailer   Mailer
	mailOpt  mailOptions
	codeKeys [][]byte // the first hashes new codes; all check them
	otpKeys  [][]byte // the first encrypts; all decrypt
	flags    flagCache
	limiter  Limiter

	features    []Feature
	credentials []CredentialAuthenticator // the features' (credential.go)
	// claimFeatures put claims in access tokens; claimOwners maps each
	// claim they declared to its feature (featureclaims.go).
	claimFeatures []ClaimsFeature
	claimOwners   map[string]ClaimsFeature
	events        []EventHandler
	pwCheckers    []PasswordChecker

	meterProvider  metric.MeterProvider // nil: no metrics (telemetry.go)
	tracerProvider trace.TracerProvider // nil: no spans
	tel            telemetry

	// dummyHash is compared against when a login names no account, so that
	// an unknown user costs the same time as a wrong password.
	dummyHash string
}

// New builds a Manager. It validates cfg and prepares the password hasher.
func New(cfg Config, opts ...Option) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := &Manager{cfg: cfg, store: complete(cfg.Store), log: cfg.Logger}
	for _, opt := range opts {
		opt(m)
	}
	if err := m.initTelemetry(); err != nil {
		return nil, fmt.Errorf("usermgmt: telemetry: %w", err)
	}
	if m.hasher == nil {
		m.hasher = NewBcryptHasher(cfg.BcryptCost, cfg.MaxConcurrentHashes)
	}
	if r, ok := m.hasher.(HashWaitReporter); ok && m.tel.on {
		r.ReportWait(m.tel.waited)
	}
	if m.limiter == nil {
		m.limiter = NewMemoryLimiter(MemoryLimiterOptions{Clock: cfg.Clock})
	}
	var err error
	if m.tokens, err = newTokenIssuer(cfg); err != nil {
		return nil, err
	}
	if m.refresh, err = newRefreshKeys(cfg.JWTSecret, cfg.JWTPreviousSecrets); err != nil {
		return nil, err
	}
	m.cache = newAuthCache(cfg.CacheSize, cfg.CacheTTL)
	m.cache.stats = m.tel.cache
	if err := m.initFiles(); err != nil {
		return nil, err
	}
	if err := m.checkCapabilities(cfg.Store); err != nil {
		return nil, fmt.Errorf("usermgmt: %w", err)
	}
	if m.oauth, err = newOAuthKit(cfg); err != nil {
		return nil, err
	}
	if err = m.initAccountSecurity(); err != nil {
		return nil, err
	}

	// A throwaway hash with the configured cost, for unknown-user logins.
	dummy := make([]byte, 24)
	if _, err := io.ReadFull(cfg.Rand, dummy); err != nil {
		return nil, fmt.Errorf("usermgmt: read random: %w", err)
	}
	m.dummyHash, err = m.hasher.Hash(context.Background(), fmt.Sprintf("%x", dummy))
	if err != nil {
		return nil, fmt.Errorf("usermgmt: prepare dummy hash: %w", err)
	}
	for _, f := range m.features {
		if err := f.InitFeature(m); err != nil {
			m.closeMail()
			return nil, fmt.Errorf("usermgmt: feature %s: %w", f.FeatureName(), err)
		}
	}
	m.credentials = credentialAuthenticators(m.features)
	if m.claimFeatures, m.claimOwners, err = initClaimFeatures(m.features); err != nil {
		m.closeMail()
		return nil, err
	}
	m.tokens.features = m.claimOwners
	return m, nil
}

// Close releases what the Manager holds. It does not close the Store, which
// the caller opened.
// Mail still queued is sent first (each attempt bounded by its timeout).
func (m *Manager) Close() error {
	m.closeMail()
	m.cache.purge()
	return nil
}

// Config returns the Manager's configuration, with defaults applied.
func (m *Manager) Config() Config { return m.cfg }

// Store returns the Store the Manager persists through.
func (m *Manager) Store() Store { return m.cfg.Store }

// Hasher returns the password hasher in force.
func (m *Manager) Hasher() Hasher { return m.hasher }

// Policy returns the access policy in force.
func (m *Manager) Policy() *Policy { return m.cfg.Policy }

func (m *Manager) now() time.Time { return m.cfg.Clock().UTC() }

// randomBytes returns n bytes from the configured source.
func (m *Manager) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(m.cfg.Rand, b); err != nil {
		return nil, fmt.Errorf("usermgmt: read random: %w", err)
	}
	return b, nil
}

// newUUID returns a random (version 4) UUID string.
func (m *Manager) newUUID() (string, error) {
	b, err := m.randomBytes(16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// ClientInfo describes where a request came from; it is recorded in the
// audit log and on sessions. Attach it to a context with WithClientInfo.
type ClientInfo struct {
	IP        string
	UserAgent string
	// Locale is the preferred language of the client (a tag such as "fr"
	// from Accept-Language), used to choose mail templates.
	Locale string
}

type clientInfoKey struct{}

// WithClientInfo returns a context carrying the request's client info.
func WithClientInfo(ctx context.Context, ci ClientInfo) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, ci)
}

// ClientInfoFrom returns the client info attached to ctx, if any.
func ClientInfoFrom(ctx context.Context) ClientInfo {
	ci, _ := ctx.Value(clientInfoKey{}).(ClientInfo)
	return ci
}
