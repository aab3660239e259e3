// Package captcha verifies CAPTCHAs on the routes that bots abuse: sign-up,
// login (always, or once an account or a client has failed N logins),
// the forgotten-password request, and the routes of other features that
// ask for it (Route.Captcha: the magic-link and email-code requests).
// Cloudflare Turnstile, hCaptcha and reCAPTCHA v2 and v3 are built in.
//
// It is a feature over httpadapter's guard seam (httpadapter.Guard): the
// core knows nothing of it, and the Go API (the host's trusted code) is
// never asked for a CAPTCHA; only HTTP requests are.
//
//	c, err := captcha.New(captcha.Config{
//	    Provider: captcha.Turnstile(secret, siteKey),
//	    Register: true, ForgotPassword: true,
//	    Login:    captcha.AfterFailures(3),
//	})
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(c))
//	h := httpadapter.New(m, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
//
// A guarded request carries the provider's token in the body field
// captcha_token (JSON or form), the X-Captcha-Token header, or the field
// the provider's widget fills in on a form (cf-turnstile-response,
// h-captcha-response, g-recaptcha-response). Without one, or with one the
// provider refuses, the answer is 400 captcha_failed (ErrFailed). When
// the provider cannot be asked (down, slow past Config.Timeout, answering
// nonsense), the request is refused with 503 captcha_unavailable
// (ErrUnavailable), unless Config.FailOpen lets it through (with one
// warning in the log per outage). The hosted pages show the provider's
// widget on the guarded forms, and allow its origins in their
// Content-Security-Policy then only. See docs/captcha.md.
package captcha

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// Errors of the package, matched with errors.Is.
var (
	// ErrFailed answers a guarded request without a token, or with one
	// the provider refuses (or a score too low, or another action).
	ErrFailed = usermgmt.NewError(http.StatusBadRequest, "captcha_failed", "The CAPTCHA was not solved. Complete it and try again.")
	// ErrUnavailable answers a guarded request when the provider cannot
	// be asked (unless Config.FailOpen).
	ErrUnavailable = usermgmt.NewError(http.StatusServiceUnavailable, "captcha_unavailable", "The CAPTCHA cannot be checked just now. Try again in a moment.")
)

// Where a request carries its token (besides the field of the provider's
// widget on a form). A browser application on another origin needs
// TokenHeader among httpadapter.CORSOptions.AllowedHeaders to send it.
const (
	TokenHeader = "X-Captcha-Token"
	TokenField  = "captcha_token"
)

// LoginPolicy says when a login needs a CAPTCHA: never (the zero value),
// always, or after failures.
type LoginPolicy struct {
	// Always asks every login for a CAPTCHA.
	Always bool
	// Failures, when > 0 (and not Always), asks for one once that many
	// logins have failed within Config.FailureWindow, counted both for
	// the login name given (whether or not such an account exists, so
	// that asking reveals nothing) and for the client's IP.
	Failures int
}

// AlwaysOnLogin asks every login for a CAPTCHA.
var AlwaysOnLogin = LoginPolicy{Always: true}

// AfterFailures asks for a CAPTCHA once n logins have failed.
func AfterFailures(n int) LoginPolicy { return LoginPolicy{Failures: n} }

// Config configures New.
type Config struct {
	// Provider verifies the tokens (required).
	Provider Provider
	// Register guards sign-up (the API's register and the pages' form).
	Register bool
	// Login says when logins are guarded (the API's and the pages').
	Login LoginPolicy
	// ForgotPassword guards the password-reset request (the API's POST
	// and GET, and the pages' form).
	ForgotPassword bool
	// FeatureRoutes guards every route whose Route.Captcha is set (the
	// routes of features that mail a sign-in link or code).
	FeatureRoutes bool
	// Routes guards more routes, by name (httpadapter.Route.Name).
	Routes []string
	// FailOpen lets requests through when the provider cannot be asked,
	// with one warning per outage in the log; by default they are
	// refused (503 captcha_unavailable).
	FailOpen bool
	// Timeout bounds one verification. Default 5 s.
	Timeout time.Duration
	// Hostnames, when set, are the only sites whose tokens are accepted
	// (the verdict's hostname).
	Hostnames []string
	// Client is the HTTP client of the verifications. Default: a client
	// of its own (http.DefaultTransport).
	Client *http.Client
	// Failures counts failed logins for Login.Failures. Default: an
	// in-memory counter (NewMemoryFailures), per process.
	Failures FailureCounter
	// FailureWindow is how long failed logins are remembered. Default
	// 15 minutes.
	FailureWindow time.Duration
	// Logger receives the outage warnings. Default: the Manager's.
	Logger *slog.Logger
}

// Captcha is the feature: pass it to usermgmt.WithFeature.
type Captcha struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	guard  map[string]string // route name -> action
	down   atomic.Bool       // an outage of the provider is under way (logged once)
	lost   atomic.Bool       // the failure counter fails (logged once)
}

// maxTokenBytes bounds a token: the providers' are about 2 KB at most.
const maxTokenBytes = 4096

// New checks cfg and returns the feature.
func New(cfg Config) (*Captcha, error) {
	if err := cfg.Provider.validate(); err != nil {
		return nil, err
	}
	if cfg.Login.Failures < 0 {
		return nil, errors.New("captcha: Login.Failures must not be negative")
	}
	if cfg.Provider.Scored && cfg.Provider.MinScore <= 0 {
		cfg.Provider.MinScore = DefaultMinScore
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 15 * time.Minute
	}
	if cfg.Failures == nil && cfg.Login.Failures > 0 && !cfg.Login.Always {
		cfg.Failures = NewMemoryFailures(MemoryFailuresOptions{Window: cfg.FailureWindow})
	}
	c := &Captcha{cfg: cfg, client: cfg.Client, guard: map[string]string{}, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.Default() // until InitFeature hands the Manager's
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: cfg.Timeout}
	}
	add := func(action string, names ...string) {
		for _, n := range names {
			c.guard[n] = action
		}
	}
	if cfg.Register {
		add("register", "register", "_register_post", "_signup_post")
	}
	if cfg.Login.Always || cfg.Login.Failures > 0 {
		add("login", loginRoutes...)
	}
	if cfg.ForgotPassword {
		add("forgot_password", "forgot_password_request", "forgot_password_request_get", "_forgot_password_request_post")
	}
	for _, n := range cfg.Routes {
		add(action(n), n)
	}
	return c, nil
}

// loginRoutes are the password logins: the API's and the pages' forms.
var loginRoutes = []string{"login", "_login_post", "_signin_post"}

// action is the action a route's widget names: reCAPTCHA allows letters,
// slashes and underscores.
func action(route string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '/' {
			return r
		}
		return '_'
	}, route), "_")
}

// FeatureName implements usermgmt.Feature.
func (c *Captcha) FeatureName() string { return "captcha" }

// InitFeature implements usermgmt.Feature.
func (c *Captcha) InitFeature(m *usermgmt.Manager) error {
	if c.cfg.Logger == nil && m.Config().Logger != nil {
		c.log = m.Config().Logger
	}
	return nil
}

// Endpoints implements httpadapter.Feature: the feature has no routes of
// its own.
func (c *Captcha) Endpoints() []httpadapter.Endpoint { return nil }

// Schemas implements httpadapter.Feature.
func (c *Captcha) Schemas() map[string]any { return nil }

// tokenParam is the header a guarded route reads, in its OpenAPI
// operation.
var tokenParam = httpadapter.Param{Name: TokenHeader, In: "header", Schema: map[string]any{"type": "string"},
	Description: "The CAPTCHA provider's token, when not in the body's captcha_token field."}

// GuardRoute implements httpadapter.Guard.
func (c *Captcha) GuardRoute(rt httpadapter.Route) *httpadapter.Check {
	act, ok := c.guard[rt.Name]
	if !ok && rt.Captcha && c.cfg.FeatureRoutes {
		act, ok = action(rt.Name), true
	}
	if !ok {
		return nil
	}
	chk := &httpadapter.Check{
		Before:   func(r *http.Request, in *httpadapter.Fields) error { return c.before(r, in, rt.Name, act) },
		Statuses: []int{http.StatusBadRequest},
		Params:   []httpadapter.Param{tokenParam},
	}
	if c.countsFailures(rt.Name) {
		chk.After = c.after
	}
	if rt.Page {
		p := c.cfg.Provider
		w := &httpadapter.Widget{ScriptURL: p.ScriptURL, Class: p.WidgetClass, SiteKey: p.SiteKey,
			Invisible: p.Scored, Origins: append([]string(nil), p.Origins...)}
		if p.Actions {
			w.Action = act
		}
		chk.Widget = w
	}
	return chk
}

// countsFailures reports whether route is a login that asks for a CAPTCHA
// after failures.
func (c *Captcha) countsFailures(route string) bool {
	if c.cfg.Login.Always || c.cfg.Login.Failures <= 0 {
		return false
	}
	for _, n := range loginRoutes {
		if n == route {
			return true
		}
	}
	return false
}

// token returns the request's token: the X-Captcha-Token header, the
// captcha_token field, or the field the provider's widget fills in.
func (c *Captcha) token(r *http.Request, in *httpadapter.Fields) string {
	if t := strings.TrimSpace(r.Header.Get(TokenHeader)); t != "" {
		return t
	}
	if t := strings.TrimSpace(in.Get(TokenField)); t != "" {
		return t
	}
	if f := c.cfg.Provider.ResponseField; f != "" {
		return strings.TrimSpace(in.Get(f))
	}
	return ""
}

// before is the check of one guarded request.
func (c *Captcha) before(r *http.Request, in *httpadapter.Fields, route, act string) error {
	ctx := r.Context()
	if c.countsFailures(route) {
		need, err := c.needed(ctx, r, in)
		c.counted(ctx, err)
		if err != nil {
			need = true // no count: ask, rather than let a guesser through
		}
		if !need {
			return nil
		}
	}
	tok := c.token(r, in)
	if tok == "" {
		return ErrFailed.WithMessage("Complete the CAPTCHA and try again.")
	}
	if len(tok) > maxTokenBytes {
		return ErrFailed
	}
	return c.Verify(ctx, tok, usermgmt.ClientInfoFrom(ctx).IP, act)
}

// Verify asks the provider about token, solved by a client at remoteIP
// ("" when unknown) for action (checked when the provider reports one;
// "" accepts any). It returns nil when the token is good, ErrFailed when
// it is not, and ErrUnavailable when the provider cannot be asked (nil
// then with Config.FailOpen).
func (c *Captcha) Verify(ctx context.Context, token, remoteIP, action string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	v, err := c.cfg.Provider.verify(ctx, c.client, token, remoteIP)
	if err == nil && misconfigured(v.ErrorCodes) {
		err = errors.Join(errUnavailable, errors.New("the provider refused the secret key: "+strings.Join(v.ErrorCodes, ", ")))
	}
	if err != nil {
		return c.unavailable(ctx, err)
	}
	if c.down.CompareAndSwap(true, false) {
		c.log.InfoContext(ctx, "captcha: the provider answers again", "provider", c.cfg.Provider.Name)
	}
	p := c.cfg.Provider
	switch {
	case !v.Success:
		return ErrFailed
	case p.Scored && (v.Score == nil || *v.Score < p.MinScore):
		return ErrFailed
	case p.Actions && action != "" && v.Action != "" && v.Action != action,
		p.Scored && action != "" && v.Action != action:
		return ErrFailed
	case len(c.cfg.Hostnames) > 0 && !hostAllowed(c.cfg.Hostnames, v.Hostname):
		return ErrFailed
	}
	return nil
}

// unavailable answers a verification that got no verdict: ErrUnavailable
// (wrapping the cause, for the log), or nil with FailOpen, warning once
// per outage either way.
func (c *Captcha) unavailable(ctx context.Context, cause error) error {
	if c.down.CompareAndSwap(false, true) {
		if c.cfg.FailOpen {
			c.log.WarnContext(ctx, "captcha: the provider cannot be asked; letting requests through (FailOpen) until it answers",
				"provider", c.cfg.Provider.Name, "err", cause)
		} else {
			c.log.WarnContext(ctx, "captcha: the provider cannot be asked; refusing guarded requests until it answers",
				"provider", c.cfg.Provider.Name, "err", cause)
		}
	}
	if c.cfg.FailOpen {
		return nil
	}
	return ErrUnavailable.Wrap(cause)
}

// misconfigured reports whether the provider's error codes blame the
// site's keys rather than the token.
func misconfigured(codes []string) bool {
	for _, code := range codes {
		switch code {
		case "missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "invalid-or-expired-secret":
			return true
		}
	}
	return false
}

func hostAllowed(allowed []string, host string) bool {
	for _, h := range allowed {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}
