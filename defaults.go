package usermgmt

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"
)

// Defaults: every value a zero field of Config (AccountSecurity and
// Lockout included) takes, set in one place, withDefaults. The values are
// those the fields' documentation gives; the few exported ones are what
// hosts and adapters build on (a flag's default, a cookie's lifetime).

// Defaults applied by New.
const (
	defaultIssuer            = "usermgmt"
	defaultAccessTokenTTL    = 15 * time.Minute
	DefaultSessionTTL        = 30 * 24 * time.Hour
	defaultRefreshReuseGrace = 2 * time.Second
	maxRefreshReuseGrace     = time.Minute
	DefaultBcryptCost        = 12
	defaultCacheSize         = 10_000
	DefaultCacheTTL          = 2 * time.Second
	DefaultMaxUploadBytes    = 10 << 20
	defaultOAuthStateTTL     = 10 * time.Minute
)

// Defaults of AccountSecurity.
const (
	defaultProjectName      = "usermgmt"
	defaultAPIPrefix        = "/api"
	defaultOTPLength        = 6
	defaultOTPInterval      = 30 * time.Second
	defaultOTPEmailInterval = 10 * time.Minute
	defaultOTPMaxFailures   = 5
	defaultOTPLockout       = 15 * time.Minute
	defaultMailLocale       = "en"
)

// DefaultLockout is the lockout policy of a zero Config.Lockout.
var DefaultLockout = LockoutPolicy{Threshold: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}

// orDefault sets *p to def when it is the zero value.
func orDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	orDefault(&c.Issuer, defaultIssuer)
	orDefault(&c.AccessTokenTTL, defaultAccessTokenTTL)
	orDefault(&c.SessionTTL, DefaultSessionTTL)
	orDefault(&c.RefreshReuseGrace, defaultRefreshReuseGrace)
	orDefault(&c.BcryptCost, DefaultBcryptCost)
	orDefault(&c.MaxConcurrentHashes, max(1, runtime.GOMAXPROCS(0)-1))
	if c.PasswordPolicy == (PasswordPolicy{}) {
		c.PasswordPolicy = DefaultPasswordPolicy
	}
	if c.Policy == nil {
		c.Policy = DefaultPolicy()
	}
	orDefault(&c.CacheSize, defaultCacheSize)
	orDefault(&c.CacheTTL, DefaultCacheTTL)
	orDefault(&c.MaxUploadBytes, DefaultMaxUploadBytes)
	orDefault(&c.OAuthStateTTL, defaultOAuthStateTTL)
	orDefault(&c.OAuthHTTPClient, &http.Client{Timeout: 10 * time.Second})
	if c.OAuthPictureClient == nil {
		c.OAuthPictureClient = publicOnlyClient(providerPictureTimeout)
	}
	// AccountSecurity: links and two-factor codes.
	orDefault(&c.ProjectName, defaultProjectName)
	orDefault(&c.FrontendURL, c.BaseURL)
	c.FrontendURL = strings.TrimRight(c.FrontendURL, "/")
	orDefault(&c.APIPrefix, defaultAPIPrefix)
	orDefault(&c.ResetURLTemplate, c.FrontendURL+"/forgot-password/reset?token={token}")
	orDefault(&c.OTPLength, defaultOTPLength)
	orDefault(&c.OTPInterval, defaultOTPInterval)
	orDefault(&c.OTPEmailInterval, defaultOTPEmailInterval)
	orDefault(&c.OTPMaxFailures, defaultOTPMaxFailures)
	orDefault(&c.OTPLockout, defaultOTPLockout)
	orDefault(&c.MailLocale, defaultMailLocale)
	orDefault(&c.FlagPollInterval, DefaultFlagPollInterval)
	orDefault(&c.Lockout.Threshold, DefaultLockout.Threshold)
	orDefault(&c.Lockout.Window, DefaultLockout.Window)
	orDefault(&c.Lockout.Duration, DefaultLockout.Duration)
	if c.Clock == nil {
		c.Clock = time.Now
	}
	orDefault(&c.Rand, rand.Reader)
	orDefault(&c.Logger, slog.Default())
	return c
}
