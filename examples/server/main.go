// Command server runs usermgmt as a ready service: the HTTP API of the
// Python UserManagementAPI it replaces, over SQLite (default, under ./data)
// or PostgreSQL, configured by the same environment variables.
//
//	go run ./examples/server
//
// On first start it creates the admin account "admin" with the address
// ADMIN_EMAIL (default admin@example.com); its password is ADMIN_PASSWORD
// or, without one, a random password written to DATA_DIR/admin_password.
// See config.go for every variable, and commands.go for the operator's
// commands (server unlock USERNAME lifts a lockout).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/captcha"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/httpadapter/swaggerui"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/anydb"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

// HTTP server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout bounds how long in-flight requests may finish after
	// SIGINT/SIGTERM.
	shutdownTimeout = 15 * time.Second
)

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		// One scheduler slot more than the CPUs the runtime found (cgroup
		// limits included): the Manager hashes passwords on GOMAXPROCS-1
		// slots, so bcrypt still uses every CPU during a login storm while
		// a free slot keeps serving every other request at once.
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process at once.
		<-ctx.Done()
		stop()
	}()
	getenv, err := withDotEnv(os.Getenv, os.ReadFile)
	switch {
	case err != nil:
	case len(os.Args) > 1: // serve, or an operator's command (commands.go)
		err = runCommandIO(ctx, os.Args[1:], getenv, os.Stdin, os.Stdout)
	default:
		err = run(ctx, getenv, os.Stdout, nil)
	}
	stop()
	if code := exitCode(err, os.Stderr); code != 0 {
		os.Exit(code)
	}
}

// exitCode reports err on stderr and returns the process's exit status:
// 0 without an error, 2 for a command line the server does not
// understand (after its usage), 1 for any other failure.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case isUsage(err):
		fmt.Fprintln(stderr, err)
		return 2
	}
	fmt.Fprintln(stderr, "server:", err)
	return 1
}

// run configures the service from getenv, logs to stdout and serves until
// ctx ends, then shuts down gracefully. When onListen is not nil it is called
// with the listening address once the server accepts connections.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, onListen func(net.Addr)) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log, closeLog, err := newLogger(cfg, stdout)
	if err != nil {
		return err
	}
	defer closeLog()

	secret, err := jwtSecret(cfg, log)
	if err != nil {
		return err
	}
	keys, err := loadKeys(cfg.Keys)
	if err != nil {
		return err
	}
	hasher, err := cfg.hasher()
	if err != nil {
		return err
	}
	checkers, err := cfg.passwordCheckers(log)
	if err != nil {
		return err
	}
	issuer := cfg.ProjectName
	if keys != nil {
		// Verifiers that read the discovery document expect the issuer to
		// be the URL it is served under.
		issuer = cfg.BaseURL
	}

	st, err := anydb.Open(ctx, cfg.DatabaseDSN, store.WithLogger(log)) // a database outage logged once
	if err != nil {
		// anydb.Open (store.Open) never quotes a PostgreSQL DSN, so no password leaks.
		return fmt.Errorf("open the database (from %s): %w", cfg.DatabaseSource, err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	log.InfoContext(ctx, "database ready", "dialect", st.Dialect(), "from", cfg.DatabaseSource)

	providers, err := buildProviders(cfg.OAuthProviders)
	if err != nil {
		return err
	}
	warnPlainIssuers(ctx, cfg, log)
	var tokenKey []byte
	if cfg.OAuthTokenKey != "" {
		tokenKey = []byte(cfg.OAuthTokenKey)
	}
	limiter, closeLimiter, err := newLimiter(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeLimiter()

	feats, el := features(cfg)

	var failures captcha.FailureCounter // in memory unless the limits are in Redis
	if rl, ok := limiter.(*redisstore.Limiter); ok {
		failures = rl.Counter(0)
	}
	guards, err := cfg.Captcha.features(failures)
	if err != nil {
		return err
	}
	log.Info("captcha", "setup", cfg.Captcha.String())
	hooks, err := cfg.Webhooks.feature(log)
	if err != nil {
		return err
	}
	if hooks != nil {
		feats = append(feats, hooks)
		log.Info("webhooks", "endpoints", len(cfg.Webhooks.URLs), "secrets", len(cfg.Webhooks.Secrets))
	}
	tel, err := newTelemetry(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		// Last, after the Manager: the spans of the shutdown are flushed.
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if cerr := tel.close(shutdownCtx); cerr != nil {
			log.Warn("telemetry shutdown", "err", cerr)
		}
	}()
	m, err := usermgmt.New(usermgmt.Config{
		Store:          st,
		JWTSecret:      []byte(secret),
		BaseURL:        cfg.BaseURL,
		Issuer:         issuer,
		SigningKeys:    keys,
		Audience:       cfg.Keys.Audience,
		AccessTokenTTL: cfg.AccessTokenTTL,
		BcryptCost:     cfg.BcryptCost,
		ContactEmail:   cfg.ContactEmail,
		DataDir:        cfg.DataDir,
		MaxUploadBytes: cfg.MaxUploadBytes,
		Logger:         log,

		OAuthProviders:         providers,
		OAuthTokenKey:          tokenKey,
		OAuthRedirectAllowList: cfg.OAuthRedirectAllowList,
		OAuthNoEmailLinking:    cfg.OAuthNoEmailLinking,
		AccountSecurity:        cfg.security(),
		FlagPollInterval:       cfg.FlagPollInterval,
		Lockout:                cfg.Lockout,
	}, append(append(mailOptions(cfg, log), usermgmt.WithLimiter(limiter), usermgmt.WithHasher(hasher),
		usermgmt.WithPasswordChecker(checkers...), usermgmt.WithFeature(append(feats, guards...)...)), tel.opts...)...)
	if err != nil {
		return err
	}
	defer func() {
		if el != nil {
			el.Wait() // the sign-in mails asked for before the shutdown
		}
		if cerr := m.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()

	if hooks != nil {
		wctx, stop := context.WithCancel(ctx)
		done := runWebhooks(wctx, hooks)
		defer func() { stop(); <-done }() // before the Manager closes
	}
	if err := ensureAdmin(ctx, m, cfg, log); err != nil {
		return err
	}
	// Finish the file deletions a previous run left undone, then keep
	// sweeping while serving.
	sweepFiles(ctx, m, log)
	go func() {
		t := time.NewTicker(sweepInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				sweepFiles(ctx, m, log)
			}
		}
	}()
	if err := importFlags(ctx, m, cfg.FeatureFlagsFile, log); err != nil {
		return err
	}

	pages, err := pagesOptions(cfg)
	if err != nil {
		return err
	}
	cors := corsOptions(cfg.CORSOrigins)
	if cfg.Captcha.Provider != "" { // a front end on another origin sends the token in a header
		cors.AllowedHeaders = []string{"Authorization", "Content-Type", captcha.TokenHeader}
	}
	handler := httpadapter.New(m, httpadapter.Options{
		Prefix:         cfg.APIPrefix,
		Logger:         log,
		CORS:           cors,
		TrustedProxies: cfg.TrustedProxies,
		Pages:          pages,
		FeatureFlags:   cfg.FeatureFlagsEnabled,
		RateLimit:      httpadapter.RateLimitOptions{Enabled: cfg.RateLimiterEnabled, Global: cfg.RateLimit},

		OAuthCallbackHTML: cfg.OAuthCallbackHTML,

		SwaggerUI:             swaggerui.FS(), // /docs and /interactive-docs, as the reference served them
		PublicInteractiveDocs: !cfg.ProtectedInteractiveDocs,
	})
	if tel.metrics != nil && cfg.Metrics.Addr != "" {
		wait, err := listenMetrics(ctx, cfg, tel.metrics, log)
		if err != nil {
			return err
		}
		defer wait()
	} else if tel.metrics != nil {
		handler = guardMetrics(tel.metrics, cfg.Metrics.Token, handler)
	}
	return serve(ctx, cfg, handler, log, onListen)
}

// sweepInterval is how often the server sweeps file deletions left undone.
const sweepInterval = time.Hour

// sweepFiles runs Manager.SweepFiles and logs what it did.
func sweepFiles(ctx context.Context, m *usermgmt.Manager, log *slog.Logger) {
	n, err := m.SweepFiles(ctx)
	switch {
	case err != nil:
		log.WarnContext(ctx, "file sweep failed", "err", err)
	case n > 0:
		log.InfoContext(ctx, "file sweep: finished deletions left undone", "count", n)
	}
}

// mailOptions sends mail through the transport EMAIL_METHOD names.
func mailOptions(cfg Config, log *slog.Logger) []usermgmt.Option {
	log.Info("mail", "method", cfg.Account.String())
	mailer := cfg.mailer(log)
	switch {
	case mailer == nil:
		return nil
	case cfg.Account.EmailMethod == emailLog:
		// Nothing is delivered: no address needs to be deliverable.
		return []usermgmt.Option{usermgmt.WithMailer(mailer), usermgmt.WithResolver(anyDomain{})}
	}
	return []usermgmt.Option{usermgmt.WithMailer(mailer)}
}

// pagesOptions configures the hosted pages (nil when PAGES_ENABLED is
// false): PROJECT_NAME, the images of LOGO_FILE and FAVICON_FILE, and
// FRONTEND_URL as an origin a redirect_uri may lead to.
func pagesOptions(cfg Config) (*httpadapter.PagesOptions, error) {
	if !cfg.PagesEnabled {
		return nil, nil
	}
	po := &httpadapter.PagesOptions{ProjectName: cfg.ProjectName, RedirectOrigins: []string{cfg.FrontendURL}}
	var err error
	if cfg.LogoFile != "" {
		if po.Logo, err = os.ReadFile(cfg.LogoFile); err != nil {
			return nil, fmt.Errorf("LOGO_FILE: %w", err)
		}
	}
	if cfg.FaviconFile != "" {
		if po.Favicon, err = os.ReadFile(cfg.FaviconFile); err != nil {
			return nil, fmt.Errorf("FAVICON_FILE: %w", err)
		}
	}
	return po, nil
}

// corsOptions admits origins (CORS_ORIGINS), with credentials as soon as
// one origin is named exactly, even beside "*": the library gives
// credentials to the exactly named origins only, never to those "*"
// admits.
func corsOptions(origins []string) httpadapter.CORSOptions {
	exact := slices.ContainsFunc(origins, func(o string) bool { return o != "*" })
	return httpadapter.CORSOptions{AllowedOrigins: origins, AllowCredentials: exact}
}

// serve listens on cfg.Addr and serves handler until ctx ends, then shuts
// down, letting in-flight requests finish for up to shutdownTimeout.
func serve(ctx context.Context, cfg Config, handler http.Handler, log *slog.Logger, onListen func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on ADDR %s: %w", cfg.Addr, err)
	}
	srv := newHTTPServer(handler, log)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "environment", cfg.Environment,
		"api", cfg.APIPrefix, "base_url", cfg.BaseURL)
	if onListen != nil {
		onListen(ln.Addr())
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newHTTPServer returns an http.Server for handler with the server's
// timeouts and header limit, logging its errors to log.
func newHTTPServer(handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// newLogger returns the server's logger: text for local development, JSON
// in production, at LOG_LEVEL; with LOG_FILE_ENABLED, also JSON lines at
// LOG_FILE_LEVEL to rotating files in DATA_DIR/logs. Level names follow
// the reference. The returned func closes the file.
func newLogger(cfg Config, w io.Writer) (*slog.Logger, func(), error) {
	opts := func(level slog.Level) *slog.HandlerOptions {
		return &slog.HandlerOptions{
			Level: level,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.LevelKey {
					if l, ok := a.Value.Any().(slog.Level); ok {
						a.Value = slog.StringValue(levelName(l))
					}
				}
				return a
			},
		}
	}
	var h slog.Handler = slog.NewTextHandler(w, opts(cfg.LogLevel))
	if cfg.Production() {
		h = slog.NewJSONHandler(w, opts(cfg.LogLevel))
	}
	if !cfg.LogFile.Enabled {
		return slog.New(h), func() {}, nil
	}
	f, err := newRotatingFile(filepath.Join(cfg.DataDir, "logs"), cfg.LogFile.Rotation, cfg.LogFile.Retention, time.Now)
	if err != nil {
		return nil, nil, fmt.Errorf("LOG_FILE_ENABLED: %w", err)
	}
	log := slog.New(teeHandler{h, slog.NewJSONHandler(f, opts(cfg.LogFile.Level))})
	return log, func() { _ = f.Close() }, nil
}

// levelName names the reference's extra levels; others keep slog's names.
func levelName(l slog.Level) string {
	switch l {
	case levelTrace:
		return "TRACE"
	case levelSuccess:
		return "SUCCESS"
	case levelCritical:
		return "CRITICAL"
	}
	return l.String()
}

// jwtSecret returns the secret that signs access tokens: JWT_SECRET_KEY
// when set (loadConfig already refused unusable values), otherwise (local
// only) the one kept in DATA_DIR/jwt_secret, generated on first start so
// that tokens survive restarts.
func jwtSecret(cfg Config, log *slog.Logger) (string, error) {
	if cfg.JWTSecret != "" {
		if len(cfg.JWTSecret) < minProductionSecret {
			log.Warn("JWT_SECRET_KEY is short; use at least 32 random bytes", "bytes", len(cfg.JWTSecret))
		}
		return cfg.JWTSecret, nil
	}
	if cfg.Production() { // unreachable: loadConfig refuses it
		return "", errors.New("JWT_SECRET_KEY is required when ENVIRONMENT=production")
	}
	path := filepath.Join(cfg.DataDir, jwtSecretFile)
	secret, created, err := loadOrCreateSecretFile(path, newJWTSecret)
	if err != nil {
		return "", fmt.Errorf("JWT secret: %w", err)
	}
	if len(secret) < minProductionSecret {
		return "", fmt.Errorf("JWT secret in %s is shorter than %d bytes: delete the file to have a new one generated", path, minProductionSecret)
	}
	if cfg.IgnoredDefaultSecret {
		log.Warn("JWT_SECRET_KEY is the public default \"changethis\"; ignoring it")
	}
	log.Warn("JWT_SECRET_KEY is not set; using the generated secret file (set JWT_SECRET_KEY in production)",
		"file", path, "generated", created)
	return secret, nil
}
