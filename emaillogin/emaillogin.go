// Package emaillogin signs users in with what is mailed to them: a magic
// link (a single-use link that signs in when opened) and an email sign-in
// code (six digits to type in). Both are one-time sign-in secrets, kept
// hashed by the store (secretstore.Store).
//
// It is a feature over the usermgmt core: enable it with
//
//	el := emaillogin.New(emaillogin.Config{})
//	m, err := usermgmt.New(cfg, usermgmt.WithMailer(mailer), usermgmt.WithFeature(el))
//
// and httpadapter.New(m, ...) serves its routes under /auth/magic-link
// and /auth/email-code. The Manager's store must implement
// secretstore.Store (store.DB does, from migration 0009): New fails
// otherwise.
//
// The rules:
//   - Asking for a link or a code answers the same whether or not the
//     address has an account: the request is handed to a background job
//     and the answer does not wait for it, so neither its words nor its
//     timing tell an account apart. The job mails a known, active account
//     (an unknown address gets nothing, unless Config.SignUp) and drops
//     the rest; when too many jobs are pending, a request is dropped and
//     logged, with the same answer.
//   - A link lives LinkTTL (15 minutes) and a code CodeTTL (10 minutes);
//     each is used once, and a new one voids the address's older one of
//     its kind. A code allows MaxCodeAttempts (5) guesses and is then
//     void; its guesses count toward the login lockout
//     (usermgmt.LockoutPolicy) as wrong passwords do, and a code is
//     compared in constant time.
//   - A link's redirect_uri must pass the Manager's redirect allow-list
//     (Manager.AllowedRedirect): the mailed link leads there, carrying the
//     token.
//   - Opening a link, or a right code, proves the mailbox: it marks the
//     address verified. It proves nothing else: an account with two-factor
//     login still passes its second step (the OTP-REQUIRED answer of
//     login, through usermgmt.Manager.SignIn).
package emaillogin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

// Defaults.
const (
	// DefaultLinkTTL is how long a magic link works.
	DefaultLinkTTL = 15 * time.Minute
	// DefaultCodeTTL is how long a sign-in code works.
	DefaultCodeTTL = 10 * time.Minute
	// DefaultMaxCodeAttempts is how many guesses a code allows.
	DefaultMaxCodeAttempts = 5
	// DefaultPending bounds the requests waiting for their mail.
	DefaultPending = 64
	// CodeDigits is the length of a sign-in code.
	CodeDigits = 6
	// jobTimeout bounds one background job.
	jobTimeout = 30 * time.Second
	// tokenBytes is the entropy of a link's token.
	tokenBytes = 32
)

// Sign-in methods, as the login's audit entry names them (method=...).
const (
	MethodMagicLink = "magic_link"
	MethodEmailCode = "email_code"
)

// Audit actions of the feature. A sign-in is the core's login entry.
const (
	AuditLinkSent = "magic-link-sent"
	AuditCodeSent = "email-code-sent"
	// AuditSignUp is an account created by a sign-up link.
	AuditSignUp = "magic-link-signup"
)

// Mail templates of the feature (see Config).
const (
	MailMagicLink       = "magic_link"
	MailMagicLinkSignUp = "magic_link_signup"
	MailEmailCode       = "email_code"
)

// Errors of the feature: each a 4xx with a stable code.
var (
	// ErrLinkInvalid is a magic link that is malformed, unknown, used,
	// voided or expired, all alike.
	ErrLinkInvalid = usermgmt.NewError(http.StatusUnauthorized, "magic_link_invalid", "This sign-in link is invalid, used or expired; ask for a new one.")
	// ErrCodeInvalid is a sign-in code that is wrong, used, voided or
	// expired, or an address without one, all alike.
	ErrCodeInvalid = usermgmt.NewError(http.StatusUnauthorized, "email_code_invalid", "This code is wrong, used or expired; ask for a new one.")
	// ErrRedirectNotAllowed is a redirect_uri outside the allow-list.
	ErrRedirectNotAllowed = usermgmt.NewError(http.StatusBadRequest, "redirect_uri_not_allowed", "This redirect_uri is not allowed.")
	// ErrLinksDisabled and ErrCodesDisabled answer a method the host
	// turned off.
	ErrLinksDisabled = usermgmt.NewError(http.StatusNotFound, "magic_link_disabled", "Sign-in links are not enabled.")
	ErrCodesDisabled = usermgmt.NewError(http.StatusNotFound, "email_code_disabled", "Sign-in codes are not enabled.")
)

// Config configures the feature. Zero values take the defaults: links and
// codes on, no sign-up.
type Config struct {
	// DisableLinks and DisableCodes turn a method off (its routes are not
	// served).
	DisableLinks, DisableCodes bool
	// SignUp lets a magic link create the account of an unknown address
	// (off by default): the link mailed to it creates a passwordless
	// account with a verified address when it is opened.
	SignUp bool
	// LinkURL is the mailed link when the request names no redirect_uri,
	// with "{token}" standing for the token. Default: the API's own verify
	// route, "<BaseURL><APIPrefix>/auth/magic-link/verify?token={token}";
	// the hosted pages set their own page here.
	LinkURL string
	// LinkTTL, CodeTTL and MaxCodeAttempts default to DefaultLinkTTL,
	// DefaultCodeTTL and DefaultMaxCodeAttempts.
	LinkTTL, CodeTTL time.Duration
	MaxCodeAttempts  int
	// Pending bounds the requests waiting for their mail (default
	// DefaultPending); beyond it a request is dropped and logged.
	Pending int
}

// EmailLogin is the feature: pass it to usermgmt.WithFeature.
type EmailLogin struct {
	cfg Config
	m   *usermgmt.Manager
	log *slog.Logger
	// codeKeys are the MAC keys of codes: the current one first, then
	// those of the Manager's previous JWT secrets.
	codeKeys [][]byte
	// pending holds a slot per request waiting or being served.
	pending chan struct{}
	waitMu  sync.Mutex // one Wait at a time
	// lastSweep is when the expired secrets were last removed (Unix ns).
	lastSweep atomic.Int64
}

// New returns the feature, to enable with usermgmt.WithFeature.
func New(cfg Config) *EmailLogin { return &EmailLogin{cfg: cfg} }

// FeatureName implements usermgmt.Feature.
func (f *EmailLogin) FeatureName() string { return "emaillogin" }

// InitFeature implements usermgmt.Feature: it checks the store and
// applies the defaults.
func (f *EmailLogin) InitFeature(m *usermgmt.Manager) error {
	if _, err := usermgmt.NeedStore[secretstore.Store](m.Store(), f.FeatureName()); err != nil {
		return err
	}
	mc := m.Config()
	c := &f.cfg
	if c.LinkTTL <= 0 {
		c.LinkTTL = DefaultLinkTTL
	}
	if c.CodeTTL <= 0 {
		c.CodeTTL = DefaultCodeTTL
	}
	if c.MaxCodeAttempts <= 0 {
		c.MaxCodeAttempts = DefaultMaxCodeAttempts
	}
	if c.Pending <= 0 {
		c.Pending = DefaultPending
	}
	if c.LinkURL == "" {
		c.LinkURL = strings.TrimRight(mc.BaseURL, "/") + mc.APIPrefix + "/auth/magic-link/verify?token={token}"
	}
	if !strings.Contains(c.LinkURL, "{token}") {
		return errors.New("emaillogin: Config.LinkURL has no {token}")
	}
	if u, err := url.Parse(strings.ReplaceAll(c.LinkURL, "{token}", "t")); err != nil || u.Host == "" {
		return fmt.Errorf("emaillogin: Config.LinkURL %q is not an absolute URL (set the Manager's BaseURL)", c.LinkURL)
	}
	f.codeKeys = nil
	for _, s := range append([][]byte{mc.JWTSecret}, mc.JWTPreviousSecrets...) {
		mac := hmac.New(sha256.New, s)
		mac.Write([]byte("usermgmt emaillogin sign-in codes"))
		f.codeKeys = append(f.codeKeys, mac.Sum(nil))
	}
	f.m, f.log = m, mc.Logger
	if f.log == nil {
		f.log = slog.Default()
	}
	f.pending = make(chan struct{}, c.Pending)
	return nil
}

// LinksEnabled and CodesEnabled report which methods are on.
func (f *EmailLogin) LinksEnabled() bool { return !f.cfg.DisableLinks }

// CodesEnabled reports whether sign-in codes are on.
func (f *EmailLogin) CodesEnabled() bool { return !f.cfg.DisableCodes }

// store returns the feature's store.
func (f *EmailLogin) store() (secretstore.Store, error) {
	return usermgmt.NeedStore[secretstore.Store](f.m.Store(), f.FeatureName())
}

func (f *EmailLogin) now() time.Time { return f.m.Config().Clock().UTC() }

// random returns n bytes from the Manager's source.
func (f *EmailLogin) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(f.m.Config().Rand, b); err != nil {
		return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("emaillogin: random: %w", err))
	}
	return b, nil
}

// randomID returns a random ID for a stored secret.
func (f *EmailLogin) randomID() (string, error) {
	b, err := f.random(16)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
