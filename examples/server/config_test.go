package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// secretFields are the Config fields a failing test must not print.
var secretFields = map[string]bool{"JWTSecret": true, "DatabaseDSN": true, "AdminPassword": true,
	"OAuthProviders": true, "OAuthTokenKey": true, "Account": true, "RedisURL": true, "Captcha": true,
	"Metrics": true}

// configDiff lists the fields where got and want differ, one a line, ""
// when they are equal. Secret fields are named, never shown: a test log is
// no place for them (and %+v of a Config would print them all).
func configDiff(got, want Config) string {
	var b strings.Builder
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		name := g.Type().Field(i).Name
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if reflect.DeepEqual(gf, wf) {
			continue
		}
		if secretFields[name] {
			fmt.Fprintf(&b, "\n%s: differs (secret, not shown)", name)
		} else {
			fmt.Fprintf(&b, "\n%s: got %v, want %v", name, gf, wf)
		}
	}
	return b.String()
}

func TestConfigDiffHidesSecrets(t *testing.T) {
	a := Config{JWTSecret: "secret-one", DatabaseDSN: "postgres://u:pw-one@h/db", AdminPassword: "admin-one", Addr: ":1"}
	b := Config{JWTSecret: "secret-two", DatabaseDSN: "postgres://u:pw-two@h/db", AdminPassword: "admin-two", Addr: ":2"}
	d := configDiff(a, b)
	for _, s := range []string{"one", "two"} {
		if strings.Contains(d, s) {
			t.Fatalf("configDiff shows a secret: %s", d)
		}
	}
	for _, s := range []string{"JWTSecret", "DatabaseDSN", "AdminPassword", "Addr: got :1, want :2"} {
		if !strings.Contains(d, s) {
			t.Fatalf("configDiff = %q, lacks %q", d, s)
		}
	}
	if d := configDiff(a, a); d != "" {
		t.Fatalf("configDiff(a, a) = %q", d)
	}
}

// env returns a getenv over a map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatalf("loadConfig(empty) = %v", err)
	}
	want := Config{
		ProjectName:    "Project Name",
		BaseURL:        "http://localhost:8000",
		APIPrefix:      "/api",
		FrontendURL:    "http://localhost:8000",
		LogLevel:       slog.LevelInfo,
		AccessTokenTTL: 15 * time.Minute,
		Environment:    "local",
		DatabaseDSN:    "sqlite://data/app.db",
		DatabaseSource: "DATA_DIR",
		Addr:           ":8000",
		DataDir:        "./data",
		Hashing:        defaultHashing,
		Passwords:      defaultPasswordChecks,
		MaxUploadBytes: 10 << 20,
		BcryptCost:     12,
		Account:        defaultAccount,
		SignIn:         SignIn{Passkeys: true},
		APIKeys:        true,
		PagesEnabled:   true,

		OAuthRedirectAllowList: []string{"http://localhost:8000"},

		RateLimiterEnabled: true,
		RateLimit:          usermgmt.Rate{Limit: 300, Window: 15 * time.Minute},
		RedisKeyPrefix:     "usermgmt:",
		RedisFailureMode:   "memory",
		FlagPollInterval:   time.Second,
		Lockout:            usermgmt.LockoutPolicy{Threshold: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute},
		LogFile: LogFileConfig{Level: slog.LevelWarn, Rotation: rotation{Every: 24 * time.Hour},
			Retention: 30 * 24 * time.Hour},
		ProtectedInteractiveDocs: true,
	}
	if d := configDiff(c, want); d != "" {
		t.Errorf("defaults differ:%s", d)
	}
}

func TestLoadConfigValues(t *testing.T) {
	secret := strings.Repeat("s", 40)
	c, err := loadConfig(env(map[string]string{
		"PROJECT_NAME":     "Acme",
		"BASE_URL":         "https://acme.example/",
		"API_STR":          "/v1/",
		"LOG_LEVEL":        "warning",
		"JWT_ALGORITHM":    "HS256",
		"JWT_SECRET_KEY":   secret,
		"JWT_EXP":          "30",
		"ENVIRONMENT":      "production",
		"CONTACT_EMAIL":    "Ops@Acme.Example",
		"ADDR":             "127.0.0.1:9000",
		"DATA_DIR":         "/var/lib/acme",
		"ADMIN_PASSWORD":   " pw with spaces ",
		"BCRYPT_COST":      "10",
		"MAX_UPLOAD_BYTES": "1048576",
		"CORS_ORIGINS":     "https://app.acme.example, http://localhost:5173/",
		"TRUSTED_PROXIES":  "10.0.0.0/8, 192.168.1.7,::1",
		"PAGES_ENABLED":    "off",
		"LOGO_FILE":        "/etc/acme/logo.png",
		"FAVICON_FILE":     "/etc/acme/favicon.ico",

		"RATE_LIMITER_ENABLED":        "false",
		"RATE_LIMITER_MAX_REQUESTS":   "50",
		"RATE_LIMITER_WINDOW_SECONDS": "60",
		"REDIS_URL":                   "redis://:pw@127.0.0.1:6379/2",
		"REDIS_FAILURE_MODE":          "Closed",
		"REDIS_KEY_PREFIX":            "acme:",
		"FEATURE_FLAGS_ENABLED":       "true",
		"FEATURE_FLAGS_FILE":          "flags.json",
		"FEATURE_FLAGS_POLL_SECONDS":  "5",
		"IMPERSONATION_MINUTES":       "30",
		"LOGIN_LOCKOUT_THRESHOLD":     "0",
		"LOGIN_LOCKOUT_MINUTES":       "60",

		"LOG_FILE_ENABLED":           "true",
		"LOG_FILE_LEVEL":             "error",
		"LOG_FILE_ROTATION":          "100 MB",
		"LOG_FILE_RETENTION":         "2 weeks",
		"PROTECTED_INTERACTIVE_DOCS": "false",
	}))
	if err != nil {
		t.Fatalf("loadConfig = %v", err)
	}
	contact, err := usermgmt.NormalizeEmail("Ops@Acme.Example")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ProjectName:    "Acme",
		BaseURL:        "https://acme.example",
		APIPrefix:      "/v1",
		FrontendURL:    "https://acme.example",
		LogLevel:       slog.LevelWarn,
		JWTSecret:      secret,
		AccessTokenTTL: 30 * time.Minute,
		Environment:    "production",
		DatabaseDSN:    "sqlite:///var/lib/acme/app.db",
		DatabaseSource: "DATA_DIR",
		ContactEmail:   contact, // the library's normal form
		Addr:           "127.0.0.1:9000",
		DataDir:        "/var/lib/acme",
		AdminPassword:  " pw with spaces ",
		MaxUploadBytes: 1 << 20,
		BcryptCost:     10,
		Hashing:        defaultHashing,
		Passwords:      defaultPasswordChecks,
		CORSOrigins:    []string{"https://app.acme.example", "http://localhost:5173"},
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("192.168.1.7/32"),
			netip.MustParsePrefix("::1/128"),
		},
		OAuthRedirectAllowList: []string{"https://acme.example"},
		Account:                defaultAccount,
		SignIn:                 SignIn{Passkeys: true},
		APIKeys:                true,
		LogoFile:               "/etc/acme/logo.png",
		FaviconFile:            "/etc/acme/favicon.ico",

		RateLimiterEnabled:    false,
		RateLimit:             usermgmt.Rate{Limit: 50, Window: time.Minute},
		RedisURL:              "redis://:pw@127.0.0.1:6379/2",
		RedisKeyPrefix:        "acme:",
		RedisFailureMode:      "closed",
		FeatureFlagsEnabled:   true,
		FeatureFlagsFile:      "flags.json",
		FlagPollInterval:      5 * time.Second,
		ImpersonationLifetime: 30 * time.Minute,
		Lockout:               usermgmt.LockoutPolicy{Threshold: -1, Window: time.Hour, Duration: time.Hour},
		LogFile: LogFileConfig{Enabled: true, Level: slog.LevelError, Rotation: rotation{MaxBytes: 100 << 20},
			Retention: 14 * 24 * time.Hour},
	}
	if d := configDiff(c, want); d != "" {
		t.Errorf("values differ:%s", d)
	}
}

func TestLoadConfigLogLevels(t *testing.T) {
	for name, want := range map[string]slog.Level{
		"TRACE": levelTrace, "DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo,
		"SUCCESS": levelSuccess, "WARNING": slog.LevelWarn, "ERROR": slog.LevelError,
		"CRITICAL": levelCritical, "critical": levelCritical,
	} {
		c, err := loadConfig(env(map[string]string{"LOG_LEVEL": name}))
		if err != nil || c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%s: level %v, err %v; want %v", name, c.LogLevel, err, want)
		}
	}
}

func TestLoadConfigDatabase(t *testing.T) {
	pg := map[string]string{
		"POSTGRES_SERVER": "db.internal", "POSTGRES_USER": "app",
		"POSTGRES_PASSWORD": "p@ss/word", "POSTGRES_DB": "users",
	}
	tests := []struct {
		name       string
		vars       map[string]string
		dsn, their string
	}{
		{"default sqlite", nil, "sqlite://data/app.db", "DATA_DIR"},
		{"data dir", map[string]string{"DATA_DIR": "/srv/x"}, "sqlite:///srv/x/app.db", "DATA_DIR"},
		{"app root dir", map[string]string{"APP_ROOT_DIR": "/srv/app"}, "sqlite:///srv/app/data/app.db", "DATA_DIR"},
		{"data dir wins over app root", map[string]string{"APP_ROOT_DIR": "/srv/app", "DATA_DIR": "/srv/x"}, "sqlite:///srv/x/app.db", "DATA_DIR"},
		{"uri", map[string]string{"DATABASE_URI": "sqlite+aiosqlite:///x.db"}, "sqlite+aiosqlite:///x.db", "DATABASE_URI"},
		{"postgres", pg, "postgresql://app:p%40ss%2Fword@db.internal:5432/users", "POSTGRES_*"},
		{"postgres port wins over uri", merge(pg, map[string]string{"POSTGRES_PORT": "6543", "DATABASE_URI": "sqlite://a.db"}),
			"postgresql://app:p%40ss%2Fword@db.internal:6543/users", "POSTGRES_*"},
		{"incomplete postgres falls back", map[string]string{"POSTGRES_SERVER": "db", "DATABASE_URI": "sqlite://a.db"},
			"sqlite://a.db", "DATABASE_URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabaseDSN != tt.dsn || c.DatabaseSource != tt.their {
				t.Errorf("got %q from %s, want %q from %s", c.DatabaseDSN, c.DatabaseSource, tt.dsn, tt.their)
			}
		})
	}
}

func TestLoadConfigLocalSecrets(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"JWT_SECRET_KEY": "changethis"}))
	if err != nil || c.JWTSecret != "" || !c.IgnoredDefaultSecret {
		t.Errorf("local changethis: secret %q ignored %v err %v; want it ignored", c.JWTSecret, c.IgnoredDefaultSecret, err)
	}
	c, err = loadConfig(env(map[string]string{"JWT_SECRET_KEY": "sixteen-bytes-ok"}))
	if err != nil || c.JWTSecret != "sixteen-bytes-ok" {
		t.Errorf("local 16-byte secret: %q, %v", c.JWTSecret, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	const good = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		vars map[string]string
		want string // the variable the error must name
	}{
		{"base url relative", map[string]string{"BASE_URL": "localhost:8000"}, "BASE_URL"},
		{"base url scheme", map[string]string{"BASE_URL": "ftp://x"}, "BASE_URL"},
		{"frontend url", map[string]string{"FRONTEND_URL": "not a url"}, "FRONTEND_URL"},
		{"api str no slash", map[string]string{"API_STR": "api"}, "API_STR"},
		{"api str root", map[string]string{"API_STR": "/"}, "API_STR"},
		{"log level", map[string]string{"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"},
		{"jwt algorithm", map[string]string{"JWT_ALGORITHM": "RS256"}, "JWT_ALGORITHM"},
		{"jwt exp text", map[string]string{"JWT_EXP": "soon"}, "JWT_EXP"},
		{"jwt exp zero", map[string]string{"JWT_EXP": "0"}, "JWT_EXP"},
		{"jwt exp too long", map[string]string{"JWT_EXP": "99999999"}, "JWT_EXP"},
		{"jwt secret short local", map[string]string{"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY"},
		{"environment", map[string]string{"ENVIRONMENT": "staging"}, "ENVIRONMENT"},
		{"postgres port", map[string]string{"POSTGRES_PORT": "70000"}, "POSTGRES_PORT"},
		{"postgres server", map[string]string{"POSTGRES_SERVER": "a/b", "POSTGRES_USER": "u", "POSTGRES_PASSWORD": "p", "POSTGRES_DB": "d"}, "POSTGRES_SERVER"},
		{"database uri", map[string]string{"DATABASE_URI": "just-a-path.db"}, "DATABASE_URI"},
		{"contact email", map[string]string{"CONTACT_EMAIL": "nobody"}, "CONTACT_EMAIL"},
		{"addr", map[string]string{"ADDR": "8000"}, "ADDR"},
		{"addr port", map[string]string{"ADDR": ":http-alt"}, "ADDR"},
		{"admin password", map[string]string{"ADMIN_PASSWORD": strings.Repeat("x", 73)}, "ADMIN_PASSWORD"},
		{"bcrypt cost text", map[string]string{"BCRYPT_COST": "high"}, "BCRYPT_COST"},
		{"bcrypt cost low", map[string]string{"BCRYPT_COST": "3"}, "BCRYPT_COST"},
		{"bcrypt cost high", map[string]string{"BCRYPT_COST": "32"}, "BCRYPT_COST"},
		{"upload size text", map[string]string{"MAX_UPLOAD_BYTES": "10MB"}, "MAX_UPLOAD_BYTES"},
		{"upload size zero", map[string]string{"MAX_UPLOAD_BYTES": "0"}, "MAX_UPLOAD_BYTES"},
		{"cors origin path", map[string]string{"CORS_ORIGINS": "https://a.example/app"}, "CORS_ORIGINS"},
		{"cors origin scheme", map[string]string{"CORS_ORIGINS": "a.example"}, "CORS_ORIGINS"},
		{"trusted proxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, "TRUSTED_PROXIES"},
		{"trusted proxies cidr", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"},
		{"pages enabled", map[string]string{"PAGES_ENABLED": "maybe"}, "PAGES_ENABLED"},

		{"rate limiter enabled", map[string]string{"RATE_LIMITER_ENABLED": "maybe"}, "RATE_LIMITER_ENABLED"},
		{"rate limiter max", map[string]string{"RATE_LIMITER_MAX_REQUESTS": "0"}, "RATE_LIMITER_MAX_REQUESTS"},
		{"rate limiter window", map[string]string{"RATE_LIMITER_WINDOW_SECONDS": "-5"}, "RATE_LIMITER_WINDOW_SECONDS"},
		{"redis url", map[string]string{"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"},
		{"redis failure mode", map[string]string{"REDIS_FAILURE_MODE": "sometimes"}, "REDIS_FAILURE_MODE"},
		{"feature flags enabled", map[string]string{"FEATURE_FLAGS_ENABLED": "2"}, "FEATURE_FLAGS_ENABLED"},
		{"flag poll", map[string]string{"FEATURE_FLAGS_POLL_SECONDS": "0"}, "FEATURE_FLAGS_POLL_SECONDS"},
		{"impersonation over an hour", map[string]string{"IMPERSONATION_MINUTES": "61"}, "IMPERSONATION_MINUTES"},
		{"lockout threshold", map[string]string{"LOGIN_LOCKOUT_THRESHOLD": "-1"}, "LOGIN_LOCKOUT_THRESHOLD"},
		{"lockout minutes", map[string]string{"LOGIN_LOCKOUT_MINUTES": "0"}, "LOGIN_LOCKOUT_MINUTES"},
		{"log file enabled", map[string]string{"LOG_FILE_ENABLED": "maybe"}, "LOG_FILE_ENABLED"},
		{"log file level", map[string]string{"LOG_FILE_LEVEL": "LOUD"}, "LOG_FILE_LEVEL"},
		{"log file rotation unit", map[string]string{"LOG_FILE_ROTATION": "10 parsecs"}, "LOG_FILE_ROTATION"},
		{"log file rotation zero", map[string]string{"LOG_FILE_ROTATION": "0"}, "LOG_FILE_ROTATION"},
		{"log file retention size", map[string]string{"LOG_FILE_RETENTION": "10 MB"}, "LOG_FILE_RETENTION"},
		{"log file retention text", map[string]string{"LOG_FILE_RETENTION": "forever"}, "LOG_FILE_RETENTION"},
		{"protected docs", map[string]string{"PROTECTED_INTERACTIVE_DOCS": "sure"}, "PROTECTED_INTERACTIVE_DOCS"},

		// Production refuses secrets it cannot trust.
		{"production no secret", map[string]string{"ENVIRONMENT": "production"}, "JWT_SECRET_KEY"},
		{"production default secret", map[string]string{"ENVIRONMENT": "production", "JWT_SECRET_KEY": "changethis"}, "JWT_SECRET_KEY"},
		{"production short secret", map[string]string{"ENVIRONMENT": "production", "JWT_SECRET_KEY": good[:31]}, "JWT_SECRET_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(tt.vars))
			if err == nil {
				t.Fatalf("loadConfig(%v) succeeded; want an error naming %s", tt.vars, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if s := tt.vars["JWT_SECRET_KEY"]; len(s) > 10 && strings.Contains(err.Error(), s) {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}

	// A good production secret passes.
	if _, err := loadConfig(env(map[string]string{"ENVIRONMENT": "production", "JWT_SECRET_KEY": good})); err != nil {
		t.Errorf("production with a 32-byte secret: %v", err)
	}
}

func TestLoadConfigReportsEveryError(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"BCRYPT_COST": "x", "JWT_EXP": "y", "ADDR": "z"}))
	for _, name := range []string{"BCRYPT_COST", "JWT_EXP", "ADDR"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

func TestLoadConfigPostgresPasswordNotQuoted(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"DATABASE_URI": "hunter2-secret-password"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want an error that does not quote DATABASE_URI", err)
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestCORSOptionsCredentials(t *testing.T) {
	for _, tt := range []struct {
		origins []string
		want    bool
	}{
		{nil, false},
		{[]string{"*"}, false},
		{[]string{"https://app.example"}, true},
		// "*" beside an exact origin: the exact one still gets credentials
		// (the library never gives them to the origins "*" admits).
		{[]string{"*", "https://app.example"}, true},
		{[]string{"https://app.example", "*"}, true},
	} {
		o := corsOptions(tt.origins)
		if o.AllowCredentials != tt.want || !reflect.DeepEqual(o.AllowedOrigins, tt.origins) {
			t.Errorf("corsOptions(%q) = %+v, want credentials %v", tt.origins, o, tt.want)
		}
	}
}

func TestLoadConfigLockoutTellOwner(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "false": false} {
		c, err := loadConfig(env(map[string]string{"LOGIN_LOCKOUT_TELL_OWNER": v}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Lockout.TellOwner != want {
			t.Errorf("LOGIN_LOCKOUT_TELL_OWNER=%q: TellOwner = %v", v, c.Lockout.TellOwner)
		}
	}
	if _, err := loadConfig(env(map[string]string{"LOGIN_LOCKOUT_TELL_OWNER": "maybe"})); err == nil {
		t.Error("LOGIN_LOCKOUT_TELL_OWNER=maybe accepted")
	}
}
