package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/impersonate"
)

// Environments accepted in ENVIRONMENT.
const (
	envLocal      = "local"
	envProduction = "production"
)

// referenceDefaultSecret is the Python service's default JWT_SECRET_KEY. It
// is public, so it is never accepted as a real secret.
const referenceDefaultSecret = "changethis"

// minProductionSecret is the shortest JWT_SECRET_KEY production accepts.
const minProductionSecret = 32

// maxJWTExpMinutes bounds JWT_EXP: an access token must not outlive the
// session it belongs to (usermgmt.DefaultSessionTTL, 30 days).
const maxJWTExpMinutes = int(usermgmt.DefaultSessionTTL / time.Minute)

// maxUploadBytes bounds MAX_UPLOAD_BYTES (1 GiB).
const maxUploadBytes = 1 << 30

// Extra slog levels for the reference's loguru level names.
const (
	levelTrace    = slog.LevelDebug - 4
	levelSuccess  = slog.LevelInfo + 2
	levelCritical = slog.LevelError + 4
)

// logLevels maps LOG_LEVEL values onto slog levels.
var logLevels = map[string]slog.Level{
	"TRACE":    levelTrace,
	"DEBUG":    slog.LevelDebug,
	"INFO":     slog.LevelInfo,
	"SUCCESS":  levelSuccess,
	"WARNING":  slog.LevelWarn,
	"ERROR":    slog.LevelError,
	"CRITICAL": levelCritical,
}

// Config is the server's configuration, read from environment variables by
// loadConfig. The names follow the Python service this server replaces
// (PROJECT_NAME, BASE_URL, ...) plus a few of our own (ADDR, DATA_DIR, ...).
type Config struct {
	// ProjectName is PROJECT_NAME: the access tokens' issuer.
	ProjectName string
	// BaseURL is BASE_URL, without a trailing slash.
	BaseURL string
	// APIPrefix is API_STR: where the API is mounted.
	APIPrefix string
	// FrontendURL is FRONTEND_URL (default BASE_URL).
	FrontendURL string
	// LogLevel is LOG_LEVEL mapped onto slog.
	LogLevel slog.Level
	// JWTSecret is JWT_SECRET_KEY; empty means "generate one" (local only).
	JWTSecret string
	// IgnoredDefaultSecret reports that JWT_SECRET_KEY was the reference's
	// public default, ignored in local mode.
	IgnoredDefaultSecret bool
	// Keys are the asymmetric signing keys (JWT_ALGORITHM,
	// JWT_SIGNING_KEY_FILE, JWT_VERIFY_KEY_FILES) and the audience
	// (JWT_AUDIENCE); the zero value signs with JWT_SECRET_KEY (HS256).
	Keys KeysConfig
	// AccessTokenTTL is JWT_EXP (minutes).
	AccessTokenTTL time.Duration
	// Environment is ENVIRONMENT: envLocal or envProduction.
	Environment string
	// DatabaseDSN is the store.Open DSN chosen from POSTGRES_*, DATABASE_URI
	// or DATA_DIR. It may hold a password: never log it.
	DatabaseDSN string
	// DatabaseSource names where DatabaseDSN came from (for messages).
	DatabaseSource string
	// ContactEmail is CONTACT_EMAIL.
	ContactEmail string

	// Addr is ADDR, the listen address.
	Addr string
	// DataDir is DATA_DIR: the SQLite database, the generated JWT secret,
	// the generated admin password and users' files (users/{uuid}/) live
	// there.
	DataDir string
	// MaxUploadBytes is MAX_UPLOAD_BYTES, the largest file an upload may
	// carry (default 10 MiB).
	MaxUploadBytes int64
	// AdminPassword is ADMIN_PASSWORD, the first admin's password.
	AdminPassword string
	// AdminEmail is ADMIN_EMAIL, the first admin's address ("" for
	// admin@example.com): set it to an address that receives mail, so that
	// the admin can reset a forgotten password.
	AdminEmail string
	// BcryptCost is BCRYPT_COST.
	BcryptCost int
	// Hashing is PASSWORD_HASHER and ARGON2_* (hasher.go).
	Hashing Hashing
	// Passwords are BREACHED_PASSWORD_CHECK, HIBP_API_URL,
	// PASSWORD_NOT_IDENTITY and PASSWORD_MIN_STRENGTH (passwordchecks.go).
	Passwords PasswordChecks
	// CORSOrigins is CORS_ORIGINS.
	CORSOrigins []string
	// TrustedProxies is TRUSTED_PROXIES.
	TrustedProxies []netip.Prefix

	// OAuthProviders are the third-party login providers configured by
	// API_CLIENT_ID_<P>/API_CLIENT_SECRET_<P> and OIDC_*. They hold secrets.
	OAuthProviders []OAuthProvider
	// OAuthTokenKey is OAUTH_TOKEN_KEY; empty derives one from the JWT secret.
	OAuthTokenKey string
	// OAuthRedirectAllowList is OAUTH_REDIRECT_ALLOW_LIST (default
	// FRONTEND_URL).
	OAuthRedirectAllowList []string
	// OAuthNoEmailLinking is OAUTH_NO_EMAIL_LINKING (default false): a
	// provider account never links itself to a local account by their
	// common verified email; it links from a signed-in session only.
	// (Admins, moderators and accounts with a second factor never link by
	// email in any case.)
	OAuthNoEmailLinking bool
	// OAuthCallbackHTML is OAUTH_CALLBACK_HTML (default false): the OAuth
	// callback answers a login with the reference's HTML page, which
	// stores localStorage.auth_token and goes to the flow's redirect_uri
	// (httpadapter.Options.OAuthCallbackHTML), for the reference's front
	// ends.
	OAuthCallbackHTML bool
	// Account is mail and account security (accountconfig.go).
	Account Account
	// SignIn is the password-less sign-in (signin.go).
	SignIn SignIn
	// Captcha is CAPTCHA_* (captchaconfig.go).
	Captcha CaptchaConfig
	// Webhooks is WEBHOOK_* (webhookconfig.go).
	Webhooks WebhookConfig
	// PagesEnabled is PAGES_ENABLED: serve the hosted pages (/login ...).
	PagesEnabled bool
	// LogoFile and FaviconFile are LOGO_FILE and FAVICON_FILE: images the
	// pages serve at /logo.png and /favicon.ico instead of the generated
	// initials of PROJECT_NAME.
	LogoFile, FaviconFile string
	// RateLimiterEnabled is RATE_LIMITER_ENABLED (default true, as the
	// reference's code).
	RateLimiterEnabled bool
	// RateLimit is RATE_LIMITER_MAX_REQUESTS per RATE_LIMITER_WINDOW_SECONDS.
	RateLimit usermgmt.Rate
	// RedisURL is REDIS_URL: the rate limiter's shared state. It may hold a
	// password: never log it.
	RedisURL string
	// RedisKeyPrefix is REDIS_KEY_PREFIX, put before every limiter key.
	RedisKeyPrefix string
	// RedisFailureMode is REDIS_FAILURE_MODE: what the limiter decides when
	// Redis is down: "memory" (per-instance limits), "open" or "closed".
	RedisFailureMode string
	// FeatureFlagsEnabled is FEATURE_FLAGS_ENABLED (default false).
	FeatureFlagsEnabled bool
	// FeatureFlagsFile is FEATURE_FLAGS_FILE: flags imported at start.
	FeatureFlagsFile string
	// FlagPollInterval is FEATURE_FLAGS_POLL_SECONDS.
	FlagPollInterval time.Duration
	// APIKeys is API_KEYS_ENABLED (default true): users and admins manage
	// API keys under /api/user/me/api-keys (the apikey feature).
	APIKeys bool
	// Organizations is ORGANIZATIONS_ENABLED (default false): the org
	// feature's routes (/api/orgs..., /api/auth/switch-org), which the
	// reference service does not have.
	Organizations bool
	// ImpersonationLifetime is IMPERSONATION_MINUTES: how long an admin's
	// impersonation of a user lasts; 0 (the default) leaves the
	// impersonate feature off.
	ImpersonationLifetime time.Duration
	// Lockout is LOGIN_LOCKOUT_THRESHOLD, LOGIN_LOCKOUT_MINUTES and
	// LOGIN_LOCKOUT_TELL_OWNER (default false: a locked account answers its
	// own password like a wrong one).
	Lockout usermgmt.LockoutPolicy
	// LogFile is LOG_FILE_*: file logging under DATA_DIR/logs.
	LogFile LogFileConfig
	// ProtectedInteractiveDocs is PROTECTED_INTERACTIVE_DOCS (default true):
	// /interactive-docs for admins only.
	ProtectedInteractiveDocs bool

	// Metrics is METRICS_ENABLED, METRICS_TOKEN, METRICS_ADDR and
	// OTEL_EXPORTER_OTLP_ENDPOINT (telemetry.go).
	Metrics MetricsConfig
}

// LogFileConfig is the file log: LOG_FILE_ENABLED, LOG_FILE_LEVEL,
// LOG_FILE_ROTATION and LOG_FILE_RETENTION.
type LogFileConfig struct {
	Enabled   bool
	Level     slog.Level
	Rotation  rotation
	Retention time.Duration
}

// Production reports whether ENVIRONMENT is production.
func (c Config) Production() bool { return c.Environment == envProduction }

// loadConfig reads the configuration through getenv. Empty values count as
// unset, as in the reference. Every malformed value is reported, each error
// naming its variable; they are joined into one error.
func loadConfig(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		ProjectName:   p.str("PROJECT_NAME", "Project Name"),
		BaseURL:       p.httpURL("BASE_URL", "http://localhost:8000"),
		APIPrefix:     p.apiPrefix("API_STR", "/api"),
		LogLevel:      p.logLevel("LOG_LEVEL", slog.LevelInfo),
		Environment:   p.oneOf("ENVIRONMENT", envLocal, envLocal, envProduction),
		ContactEmail:  p.email("CONTACT_EMAIL"),
		Addr:          p.addr("ADDR", ":8000"),
		DataDir:       p.str("DATA_DIR", defaultDataDir(p.str("APP_ROOT_DIR", ""))),
		AdminPassword: p.getenv("ADMIN_PASSWORD"), // as given: spaces count
		AdminEmail:    p.email("ADMIN_EMAIL"),
		BcryptCost:    p.intRange("BCRYPT_COST", usermgmt.DefaultBcryptCost, 4, 31),
		Hashing:       p.hashing(),
		Passwords:     p.passwordChecks(),
		CORSOrigins:   p.origins("CORS_ORIGINS"),
		PagesEnabled:  p.boolean("PAGES_ENABLED", true),
		LogoFile:      p.str("LOGO_FILE", ""),
		FaviconFile:   p.str("FAVICON_FILE", ""),
	}
	c.FrontendURL = p.httpURL("FRONTEND_URL", c.BaseURL)
	c.AccessTokenTTL = time.Duration(p.intRange("JWT_EXP", 15, 1, maxJWTExpMinutes)) * time.Minute
	c.TrustedProxies = p.prefixes("TRUSTED_PROXIES")
	c.MaxUploadBytes = int64(p.intRange("MAX_UPLOAD_BYTES", usermgmt.DefaultMaxUploadBytes, 1, maxUploadBytes))
	c.OAuthProviders = p.oauthProviders()
	c.OAuthTokenKey = p.tokenKey("OAUTH_TOKEN_KEY")
	c.OAuthRedirectAllowList = p.redirectAllowList("OAUTH_REDIRECT_ALLOW_LIST", c.FrontendURL)
	c.OAuthNoEmailLinking = p.boolean("OAUTH_NO_EMAIL_LINKING", false)
	c.OAuthCallbackHTML = p.boolean("OAUTH_CALLBACK_HTML", false)
	c.Account = p.account()
	c.SignIn = p.signIn(c.Account.EmailMethod != emailNone)
	c.Captcha = p.captcha()
	c.Webhooks = p.webhooks()
	c.Keys = p.tokenKeys()
	if len(c.AdminPassword) > usermgmt.MaxPasswordBytes {
		p.fail("ADMIN_PASSWORD", "is longer than %d bytes (bcrypt's limit)", usermgmt.MaxPasswordBytes)
	}
	c.RateLimiterEnabled = p.boolean("RATE_LIMITER_ENABLED", true)
	c.RateLimit = usermgmt.Rate{
		Limit:  p.intRange("RATE_LIMITER_MAX_REQUESTS", 300, 1, 1_000_000_000),
		Window: time.Duration(p.intRange("RATE_LIMITER_WINDOW_SECONDS", 900, 1, 7*24*3600)) * time.Second,
	}
	c.RedisURL = p.redisURL("REDIS_URL")
	c.RedisKeyPrefix = p.str("REDIS_KEY_PREFIX", "usermgmt:")
	c.RedisFailureMode = p.oneOf("REDIS_FAILURE_MODE", "memory", "memory", "open", "closed")
	c.FeatureFlagsEnabled = p.boolean("FEATURE_FLAGS_ENABLED", false)
	c.FeatureFlagsFile = p.str("FEATURE_FLAGS_FILE", "")
	c.FlagPollInterval = time.Duration(p.intRange("FEATURE_FLAGS_POLL_SECONDS", 1, 1, 3600)) * time.Second
	c.APIKeys = p.boolean("API_KEYS_ENABLED", true)
	c.Organizations = p.boolean("ORGANIZATIONS_ENABLED", false)
	c.ImpersonationLifetime = time.Duration(p.intRange("IMPERSONATION_MINUTES", 0, 0, int(impersonate.MaxLifetime/time.Minute))) * time.Minute
	c.Lockout = usermgmt.LockoutPolicy{Threshold: p.intRange("LOGIN_LOCKOUT_THRESHOLD", usermgmt.DefaultLockout.Threshold, 0, 1000)}
	minutes := time.Duration(p.intRange("LOGIN_LOCKOUT_MINUTES", int(usermgmt.DefaultLockout.Duration/time.Minute), 1, 7*24*60)) * time.Minute
	c.Lockout.Window, c.Lockout.Duration = minutes, minutes
	c.Lockout.TellOwner = p.boolean("LOGIN_LOCKOUT_TELL_OWNER", false)
	if c.Lockout.Threshold == 0 {
		c.Lockout.Threshold = -1 // off
	}
	c.JWTSecret, c.IgnoredDefaultSecret = p.secret("JWT_SECRET_KEY", c.Production())
	c.DatabaseDSN, c.DatabaseSource = p.database(c.DataDir)
	c.LogFile = LogFileConfig{
		Enabled:   p.boolean("LOG_FILE_ENABLED", false),
		Level:     p.logLevel("LOG_FILE_LEVEL", slog.LevelWarn),
		Rotation:  p.rotation("LOG_FILE_ROTATION", rotation{Every: 24 * time.Hour}),
		Retention: p.retention("LOG_FILE_RETENTION", 30*24*time.Hour),
	}
	c.ProtectedInteractiveDocs = p.boolean("PROTECTED_INTERACTIVE_DOCS", true)
	c.Metrics = p.metrics() // telemetry.go
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// parser reads typed values from the environment and collects one error per
// malformed variable.
type parser struct {
	getenv func(string) string
	errs   []error
}

// fail records an error about the variable name. The message never quotes
// the value of a secret.
func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

// str returns the variable, or def when it is unset or empty.
func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) intRange(name string, def, lo, hi int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be an integer from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

// defaultDataDir is DATA_DIR's default: the reference's data/ under
// APP_ROOT_DIR when that is set, else ./data.
func defaultDataDir(appRoot string) string {
	if appRoot == "" {
		return "./data"
	}
	return filepath.Join(appRoot, "data")
}

// boolean reads true/false, 1/0, yes/no or on/off.
func (p *parser) boolean(name string, def bool) bool {
	switch v := strings.ToLower(p.str(name, "")); v {
	case "":
		return def
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	default:
		p.fail(name, "must be true or false, got %q", v)
		return def
	}
}

// redisURL reads a redis:// or rediss:// URL. The message never quotes the
// value, which may hold a password.
func (p *parser) redisURL(name string) string {
	v := p.str(name, "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		p.fail(name, "must be a redis:// or rediss:// URL")
		return ""
	}
	return v
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return def
}

func (p *parser) logLevel(name string, def slog.Level) slog.Level {
	v := strings.ToUpper(p.str(name, ""))
	if v == "" {
		return def
	}
	if v == "WARN" {
		v = "WARNING"
	}
	l, ok := logLevels[v]
	if !ok {
		p.fail(name, "must be one of TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL, got %q", v)
		return def
	}
	return l
}

// httpURL reads an absolute http(s) URL and returns it without a trailing
// slash.
func (p *parser) httpURL(name, def string) string {
	v := p.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.fail(name, "must be an absolute http:// or https:// URL without query or credentials, got %q", v)
		return def
	}
	return strings.TrimRight(v, "/")
}

// apiPrefix reads a mount path such as /api.
func (p *parser) apiPrefix(name, def string) string {
	v := p.str(name, def)
	trimmed := strings.TrimRight(v, "/")
	if !strings.HasPrefix(v, "/") || trimmed == "" || strings.ContainsAny(v, "?#{} \t") {
		p.fail(name, "must be a path such as /api, got %q", v)
		return def
	}
	return trimmed
}

func (p *parser) email(name string) string {
	v := p.str(name, "")
	if v == "" {
		return ""
	}
	e, err := usermgmt.NormalizeEmail(v)
	if err != nil {
		p.fail(name, "is not a valid email address: %q", v)
		return ""
	}
	return e
}

func (p *parser) addr(name, def string) string {
	v := p.str(name, def)
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.fail(name, "must be host:port or :port, got %q", v)
		return def
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.fail(name, "has an invalid port in %q", v)
		return def
	}
	return v
}

// list splits a comma-separated variable, dropping empty items.
func (p *parser) list(name string) []string {
	var out []string
	for item := range strings.SplitSeq(p.getenv(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// origins reads CORS origins: "*" or scheme://host[:port], nothing more.
func (p *parser) origins(name string) []string {
	items := p.list(name)
	for _, o := range items {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			p.fail(name, "entry %q is not an origin such as https://app.example.com", o)
			return nil
		}
	}
	for i, o := range items {
		items[i] = strings.TrimRight(o, "/")
	}
	return items
}

// prefixes reads CIDRs and bare IPs (a bare IP is a one-address prefix).
func (p *parser) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, item := range p.list(name) {
		if pfx, err := netip.ParsePrefix(item); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		ip, err := netip.ParseAddr(item)
		if err != nil {
			p.fail(name, "entry %q is neither an IP address nor a CIDR", item)
			return nil
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out
}

// secret reads JWT_SECRET_KEY. Production refuses a missing, short or
// public default secret; local mode treats the public default as unset
// (a generated secret replaces it) but still refuses one the library cannot
// use. The value itself never appears in an error.
func (p *parser) secret(name string, production bool) (secret string, ignoredDefault bool) {
	v := p.getenv(name)
	switch {
	case production && v == "":
		p.fail(name, "is required when ENVIRONMENT=production")
	case production && v == referenceDefaultSecret:
		p.fail(name, "is the public default %q: set a random secret of at least %d bytes", referenceDefaultSecret, minProductionSecret)
	case production && len(v) < minProductionSecret:
		p.fail(name, "is %d bytes long; production needs at least %d", len(v), minProductionSecret)
	case v == referenceDefaultSecret:
		return "", true // local: ignored, with a warning at startup
	case v != "" && len(v) < 16:
		p.fail(name, "is %d bytes long; at least 16 are needed (32 or more recommended)", len(v))
	default:
		return v, false
	}
	return "", false
}

// database chooses the DSN: all of POSTGRES_SERVER, _USER, _PASSWORD and
// _DB set means PostgreSQL; otherwise DATABASE_URI; otherwise a SQLite file
// in dataDir. It returns the DSN and the variable(s) it came from.
func (p *parser) database(dataDir string) (dsn, source string) {
	server := p.str("POSTGRES_SERVER", "")
	user := p.str("POSTGRES_USER", "")
	password := p.getenv("POSTGRES_PASSWORD")
	db := p.str("POSTGRES_DB", "")
	port := p.intRange("POSTGRES_PORT", 5432, 1, 65535)
	if server != "" && user != "" && password != "" && db != "" {
		if strings.ContainsAny(server, "/@?# ") {
			p.fail("POSTGRES_SERVER", "must be a host name or address, got %q", server)
			return "", ""
		}
		u := url.URL{
			Scheme: "postgresql",
			User:   url.UserPassword(user, password),
			Host:   net.JoinHostPort(server, strconv.Itoa(port)),
			Path:   "/" + db,
		}
		return u.String(), "POSTGRES_*"
	}
	if uri := p.str("DATABASE_URI", ""); uri != "" {
		if scheme, _, ok := strings.Cut(uri, "://"); !ok || scheme == "" {
			// Do not quote the value: it may carry a password.
			p.fail("DATABASE_URI", "must be a URI such as sqlite:///path/app.db or postgresql://user:password@host/db")
			return "", ""
		}
		return uri, "DATABASE_URI"
	}
	return "sqlite://" + filepath.Join(dataDir, "app.db"), "DATA_DIR"
}

func (p *parser) rotation(name string, def rotation) rotation {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	r, err := parseRotation(v)
	if err != nil {
		p.fail(name, "must be hours (24) or a size or age such as \"100 MB\" or \"1 day\": %v", err)
		return def
	}
	return r
}

func (p *parser) retention(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := parseRetention(v)
	if err != nil {
		p.fail(name, "must be days (30) or an age such as \"2 weeks\": %v", err)
		return def
	}
	return d
}
