package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// The operator's commands: `server COMMAND ARGS...` runs one against the
// database the service would use (the same environment and .env file),
// then exits. Without arguments the server serves.
const commandUsage = `usage: server [COMMAND ARGS...]

Without a command, serve the API. Commands:
  serve                   serve the API (the default)
  migrate [--status]      apply the pending database migrations and exit;
                          with --status list each as applied or pending
                          and apply none
  create-user [--admin] USERNAME EMAIL
                          create an account with a verified email (with
                          --admin, the default admin's roles); the
                          password is PASSWORD or one line on standard
                          input, never an argument
  set-password USERNAME|EMAIL
                          set an account's password, read as one line on
                          standard input, and end its sessions
  export FILE             write the database export (JSON, with password
                          hashes) to a new FILE (mode 0600), - for stdout
  import FILE [--overwrite]
                          merge an export: add missing rows and fill empty
                          columns; --overwrite also overwrites differing
                          columns (a recovery)
  healthcheck             GET /ready of the server on ADDR: exit 0 when it
                          is ready, 1 otherwise (the image's HEALTHCHECK)
  unlock USERNAME|EMAIL   lift the lockouts of an account (failed logins and
                          failed second-step codes)
  keys generate [EdDSA|ES256|RS256] FILE
                          write a new access-token signing key to FILE
                          (PEM, mode 0600) and print its kid and public key
                          (for JWT_SIGNING_KEY_FILE, JWT_VERIFY_KEY_FILES)
  import-reference REFERENCE_URI [REFERENCE_DATA_DIR]
                          copy the Python service's database (its
                          DATABASE_URI: sqlite+aiosqlite:///.../Project.db
                          or postgresql+psycopg://...) into this server's
                          empty database; with REFERENCE_DATA_DIR (its
                          data/ folder) the users' files too`

// errUsage is a command line the server does not understand.
var errUsage = errors.New(commandUsage)

// runCommand runs the command args names, configured from getenv, and
// writes what it did to stdout; it reads nothing from standard input
// (runCommandIO does).
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runCommandIO(ctx, args, getenv, strings.NewReader(""), stdout)
}

// runCommandIO runs the command args names, configured from getenv,
// reading a password from stdin, and writes what it did to stdout. A
// command line it does not understand is an error isUsage recognises.
func runCommandIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		if len(args) != 1 {
			return &usageError{"usage: server [serve]"}
		}
		return run(ctx, getenv, stdout, nil)
	case "migrate":
		return migrateCommand(ctx, args[1:], getenv, stdout)
	case "create-user":
		return createUserCommand(ctx, args[1:], getenv, stdin, stdout)
	case "set-password":
		return setPasswordCommand(ctx, args[1:], getenv, stdin, stdout)
	case "export":
		return exportCommand(ctx, args[1:], getenv, stdout)
	case "import":
		return importCommand(ctx, args[1:], getenv, stdout)
	case "healthcheck":
		return healthcheckCommand(ctx, args[1:], getenv, stdout)
	}
	switch {
	case len(args) == 2 && args[0] == "unlock":
		return withManager(ctx, getenv, stdout, func(m *usermgmt.Manager) error {
			return unlockCommand(ctx, m, args[1], stdout)
		})
	case (len(args) == 2 || len(args) == 3) && args[0] == "import-reference":
		dataDir := ""
		if len(args) == 3 {
			dataDir = args[2]
		}
		return importReferenceCommand(ctx, getenv, args[1], dataDir, stdout)
	case len(args) > 0 && args[0] == "keys":
		return keysCommand(args[1:], getenv, stdout)
	case len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		_, err := fmt.Fprintln(stdout, commandUsage)
		return err
	}
	return errUsage
}

// withManager opens the configured database and runs f with a Manager over
// it, with the features feats. The Manager signs nothing, so it gets a
// random JWT secret and no mailer: a command neither needs JWT_SECRET_KEY
// nor creates its file. It hashes with the server's hasher and applies
// its password rules, so an account a command creates signs in as one
// the server created.
func withManager(ctx context.Context, getenv func(string) string, stdout io.Writer, f func(*usermgmt.Manager) error, feats ...usermgmt.Feature) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	hasher, err := cfg.hasher()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := anydb.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		return fmt.Errorf("open the database (from %s): %w", cfg.DatabaseSource, err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	m, err := usermgmt.New(usermgmt.Config{
		Store:     st,
		JWTSecret: []byte(rand.Text()),
		DataDir:   cfg.DataDir,
		Logger:    log,
		Lockout:   cfg.Lockout,

		BcryptCost:      cfg.BcryptCost,
		AccountSecurity: cfg.security(),
	}, usermgmt.WithHasher(hasher), usermgmt.WithFeature(feats...))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	return f(m)
}

// unlockCommand lifts the lockouts of the account login names (its
// username or email), with an audit entry.
func unlockCommand(ctx context.Context, m *usermgmt.Manager, login string, stdout io.Writer) error {
	u, err := m.UserByLogin(ctx, login)
	if err != nil {
		return fmt.Errorf("unlock %q: %w", login, err)
	}
	if err := m.UnlockAccount(ctx, u.UUID); err != nil {
		return fmt.Errorf("unlock %s: %w", u.Username, err)
	}
	_, err = fmt.Fprintf(stdout, "unlocked %s (%s)\n", u.Username, u.UUID)
	return err
}
